// Access module: who may watch and who may steer (docs/api.md, section 8). Users from an
// htpasswd file checked with the system's crypt library, signed expiring tokens (HMAC-SHA256),
// a cache of verified credentials, and the lockout per address and per user. It knows nothing of
// HTTP sessions: the http module asks the Gate and answers 401, 429 or goes on.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "camstream/access/identity.hpp"
#include "camstream/access/lockout_settings.hpp"

namespace camstream::access {

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
    LockoutSettings lockout;
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
