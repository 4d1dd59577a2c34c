// Access module: who may watch and who may steer (docs/api.md, section 8). Users from an
// htpasswd file checked with the system's crypt library, signed expiring tokens (HMAC-SHA256),
// a cache of verified credentials, and the per-address lockout. It knows nothing of HTTP
// sessions: the http module asks the Gate and answers 401, 429 or goes on.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "camstream/failure_table.hpp"

namespace camstream::access {

// A users file, token key or operator list that cannot be used; the message names the flag
// and the file (and the line) and says what is wrong.
class AccessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "operator" is a C++ keyword, hence the underscore.
enum class Role { viewer, operator_ };
std::string_view to_string(Role role);
std::optional<Role> parse_role(std::string_view text);
inline Role narrower(Role a, Role b) {
  return a == Role::viewer ? a : b;
}

// Who a request comes from, and what that rests on, so that a reload can tell whether a
// session's credential still holds (Gate::recheck).
struct Identity {
  enum class Basis { open, password, token };
  std::string user;
  Role role = Role::viewer;
  Basis basis = Basis::open;         // open: no --users
  std::string hash{};                // password: the hash it was verified against
  std::uint64_t key_generation = 0;  // token: the key that signed it
  Role granted = Role::viewer;       // token: the role it carries
  std::int64_t expires = 0;          // token: UNIX seconds; 0 for the others
};

// --- passwords ---

// The users of an htpasswd file (`name:hash` lines, # comments). Only hashes the system's
// crypt library accepts as current are taken: bcrypt ($2y$, $2b$), yescrypt ($y$), SHA-512
// ($6$) and the like; Apache's MD5 ($apr1$), DES and plain text are refused at load.
class UserTable {
 public:
  static constexpr std::size_t kMaxFileBytes = std::size_t{1} << 20;
  static constexpr std::size_t kMaxNameBytes = 256;

  // Reads and parses the file; throws AccessError naming "--users FILE" and the line.
  static UserTable load(const std::string& path);
  // `where` prefixes every message ("--users /etc/camstream/users").
  static UserTable parse(std::string_view text, const std::string& where);

  bool contains(std::string_view user) const { return hashes_.find(user) != hashes_.end(); }
  std::size_t size() const { return hashes_.size(); }
  std::vector<std::string> names() const;

  // True when the password matches. An unknown user costs the same crypt() as the most
  // expensive hash in the file (a hash of a random password with that hash's method and
  // cost, chosen at load by timing one hash of each kind) and the hashes are compared in
  // constant time. Safe to call from any thread.
  bool verify(std::string_view user, std::string_view password) const;
  // The user's hash (what a verified password rests on), or nullptr.
  const std::string* hash_of(std::string_view user) const;

 private:
  std::map<std::string, std::string, std::less<>> hashes_;
  std::string dummy_hash_;
};

// crypt_rn() of the system's libcrypt; nullopt when the setting is not a usable hash.
std::optional<std::string> crypt_hash(std::string_view password, const std::string& setting);

// Constant-time comparison (lengths are not secret).
bool equal_constant_time(std::string_view a, std::string_view b);

// --- the Authorization header ---

struct BasicCredentials {
  std::string user;
  std::string password;
};

// "Basic base64(user:password)" (RFC 7617; the scheme in any case). nullopt for anything else,
// including headers longer than kMaxAuthorizationBytes.
constexpr std::size_t kMaxAuthorizationBytes = 4096;
std::optional<BasicCredentials> parse_basic(std::string_view authorization);

// Base64 (standard alphabet, padding optional) and base64url (no padding), through OpenSSL.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

// --- tokens ---

struct TokenClaims {
  std::string user;
  Role role = Role::viewer;
  std::int64_t expires = 0;  // UNIX seconds
};

enum class TokenProblem { none, malformed, bad_signature, expired };
std::string_view to_string(TokenProblem problem);

struct TokenCheck {
  std::optional<TokenClaims> claims;
  TokenProblem problem = TokenProblem::none;
};

// Signs and checks tokens: base64url(payload) "." base64url(HMAC-SHA256(key, payload)), the
// payload naming the version, role, expiry and user. Another key makes every token invalid.
class TokenSigner {
 public:
  static constexpr std::size_t kKeyBytes = 32;       // made by load_or_create and random()
  static constexpr std::size_t kMinKeyBytes = 16;    // accepted in a key file
  static constexpr std::size_t kMaxKeyBytes = 4096;  // accepted in a key file
  static constexpr std::size_t kMaxTokenBytes = 1024;
  static constexpr std::int64_t kMinTtl = 60;
  static constexpr std::int64_t kMaxTtl = 31'536'000;
  static constexpr std::int64_t kDefaultTtl = 86'400;

  explicit TokenSigner(std::string key);
  // A fresh key for this run only (no --token-key): tokens end with the process.
  static TokenSigner random();
  // --token-key FILE: reads the key, or creates the file (mode 0600, 32 random bytes) when it
  // does not exist. A file others may read or write adds a warning. Throws AccessError.
  static TokenSigner load_or_create(const std::string& path, std::vector<std::string>& warnings);

  std::string issue(const TokenClaims& claims) const;
  TokenCheck check(std::string_view token, std::int64_t now_unix) const;
  bool same_key(const TokenSigner& other) const;

 private:
  std::string mac(std::string_view payload) const;
  std::string key_;
};

// ?ttl= of /api/token: a whole number of seconds in kMinTtl..kMaxTtl, else nullopt.
std::optional<std::int64_t> parse_ttl(std::string_view text);

// --- remembering verified credentials ---

// Verified Authorization headers, keyed by their SHA-256 (the cache holds no password), each
// for at most `ttl`, at most `capacity` of them (the least recently used goes first). A 30 fps
// <img> polling /snapshot thus costs one crypt() per ttl, not one per frame.
class CredentialCache {
 public:
  using Clock = std::chrono::steady_clock;
  CredentialCache(std::size_t capacity, Clock::duration ttl);

  std::optional<Identity> find(std::string_view authorization, Clock::time_point now);
  void insert(std::string_view authorization, Identity identity, Clock::time_point now);
  void clear();
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string key;
    Identity identity;
    Clock::time_point verified;
  };
  std::size_t capacity_;
  Clock::duration ttl_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

// --- lockout ---

// Failed logins per address (IPv6 by its /64, as one host usually owns a whole /64) and per
// user across addresses (docs/security.md, "Lockout"). After max_failures from an address
// within `window` the address is locked for `lock`, whatever it sends. After
// max_user_failures for one user within `window` that user is refused for `lock` from every
// address with a failure on record, never from an address that has not failed: an attacker
// can lock out only the addresses they guess from. A success clears only the failures of that
// user from that address. A password check counts as a failure from when it is queued until
// it succeeds. Both tables are bounded and keep locked and high counts over single failures.
class Lockout {
 public:
  using Clock = std::chrono::steady_clock;
  struct Settings {
    int max_failures = 10;
    int max_user_failures = 20;
    Clock::duration window = std::chrono::seconds(60);
    Clock::duration lock = std::chrono::seconds(60);
    std::size_t max_addresses = 10'000;
    std::size_t max_users = 10'000;
  };
  // What started a lockout, for the log.
  enum class Started { none, address, user };
  using Ticket = std::uint64_t;

  explicit Lockout(Settings settings);
  Lockout() : Lockout(Settings{}) {}

  // While a request from `address` naming `user` (empty: none) is refused, the time left in
  // whole seconds (for Retry-After).
  std::optional<std::chrono::seconds> locked(const boost::asio::ip::address& address,
                                             std::string_view user, Clock::time_point now) const;
  // A password check about to run: it counts as a failure until finish() says otherwise.
  Ticket begin(const boost::asio::ip::address& address, std::string_view user,
               Clock::time_point now);
  Started finish(const boost::asio::ip::address& address, std::string_view user, Ticket ticket,
                 bool succeeded, Clock::time_point now);
  // A failure known at once (a header that is not Basic, a bad token).
  Started failure(const boost::asio::ip::address& address, std::string_view user,
                  Clock::time_point now);
  // A success outside a check (forgets that user's failures from that address).
  void success(const boost::asio::ip::address& address, std::string_view user);
  std::size_t tracked() const { return addresses_.size(); }
  std::size_t tracked_users() const { return users_.size(); }
  const Settings& settings() const { return settings_; }

  // The key an address is counted under: IPv4 (also IPv4-mapped IPv6) whole, IPv6 by /64.
  static std::string key(const boost::asio::ip::address& address);

 private:
  Settings settings_;
  FailureTable addresses_;  // failures tagged with the user they named
  FailureTable users_;      // failures tagged with the address they came from
  Ticket next_ticket_ = 1;
};

// --- logging ---

// The request target with every token= value replaced by "…", for logs.
std::string redact_target(std::string_view target);

// The value of one query parameter of a target ("/stream?a=1&token=x" -> "x"), undecoded.
std::optional<std::string_view> query_parameter(std::string_view target, std::string_view name);

// --- the gate the server asks ---

// What the server needs to decide a request. Lives on the I/O thread; crypt() runs on a worker
// thread of its own so a slow hash never delays a frame.
class Gate {
 public:
  struct Settings {
    std::string users_file;              // empty: no access control
    std::vector<std::string> operators;  // empty: every user is an operator
    std::string token_key_file;          // empty: a random key per run
    std::size_t cache_capacity = 1024;
    std::chrono::seconds cache_ttl{300};
    Lockout::Settings lockout;
    std::size_t max_pending = 64;             // crypt() calls queued at once; more get `busy`
    std::size_t max_pending_per_address = 4;  // of them from one address (IPv6: /64)
  };

  enum class Outcome { allowed, unauthorized, locked, busy };
  struct Decision {
    Outcome outcome = Outcome::unauthorized;
    Identity identity;
    std::chrono::seconds retry_after{0};  // locked, busy
  };
  using Handler = std::function<void(Decision)>;

  // Reads the users file and the key (throws AccessError naming the flag and the file).
  // Warnings (a key file others may read) go to spdlog.
  Gate(boost::asio::any_io_executor executor, Settings settings);
  ~Gate();
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  // True when --users was given: every endpoint but /healthz needs credentials.
  bool required() const;

  // Decides a request from `peer` with this Authorization header value (empty if none) and
  // this ?token= value (nullopt where tokens are not accepted, or none was given). `done`
  // always runs later on the executor, never inside check().
  void check(const boost::asio::ip::address& peer, std::string_view authorization,
             std::optional<std::string_view> token, Handler done);

  // A token for `identity` (who authenticated), at most its role.
  std::string issue_token(const Identity& identity, std::int64_t expires_unix) const;

  // Whether a session's credential still holds after a reload: the role it has now, or
  // nullopt when the user is gone, the password or the token key changed, or the token
  // expired. An operator taken out of --operators gets viewer.
  std::optional<Role> recheck(const Identity& identity) const;

  // For /metrics: failed logins (a wrong password, an unknown user, a bad token or header;
  // not a request without credentials) and lockouts started (of an address or a user).
  struct Counters {
    std::uint64_t failures = 0;
    std::uint64_t lockouts = 0;
  };
  Counters counters() const;

  // SIGHUP: reads the users file and the key again; a file that fails keeps the old one and
  // the log says why. The cache is emptied either way.
  void reload();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace camstream::access
