// The Gate: lockout, then the cache, then a password check on the worker thread or a token.
#include "camstream/access/gate.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <set>
#include <unordered_map>

#include "basic_auth.hpp"
#include "camstream/access/access_error.hpp"
#include "camstream/access/token_signer.hpp"
#include "check_queue.hpp"
#include "credential_cache.hpp"
#include "crypt.hpp"
#include "lockout.hpp"
#include "user_table.hpp"

namespace camstream::access {

namespace asio = boost::asio;

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct Gate::State {
  State(asio::any_io_executor executor, Settings settings)
      : executor(std::move(executor)),
        settings(std::move(settings)),
        cache(this->settings.cache_capacity, this->settings.cache_ttl),
        lockout(this->settings.lockout) {}

  Role role_of(std::string_view user) const {
    if (settings.operators.empty()) return Role::operator_;
    return operators.count(user) != 0 ? Role::operator_ : Role::viewer;
  }

  // Operators named but not in the file: an error at start, a warning on reload.
  std::vector<std::string> unknown_operators(const UserTable& table) const {
    std::vector<std::string> unknown;
    for (const auto& name : settings.operators) {
      if (!table.contains(name)) unknown.push_back(name);
    }
    return unknown;
  }

  void load_key(bool at_start) {
    std::vector<std::string> warnings;
    if (settings.token_key_file.empty()) {
      if (at_start) signer = std::make_shared<const TokenSigner>(TokenSigner::random());
      return;  // a random key lives as long as the process
    }
    auto next = std::make_shared<const TokenSigner>(
        TokenSigner::load_or_create(settings.token_key_file, warnings));
    if (signer && !signer->same_key(*next)) ++key_generation;  // every token is revoked
    signer = std::move(next);
    for (const auto& warning : warnings) spdlog::warn("{}", warning);
  }

  // The user name as the log may show it: printable, at most 64 bytes.
  static std::string printable(std::string_view user) {
    std::string out(user.substr(0, 64));
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '\x7f') c = '?';
    }
    return out;
  }

  void note(Lockout::Started started, const asio::ip::address& peer, std::string_view user) {
    if (started == Lockout::Started::none) return;
    ++counters.lockouts;
    const auto seconds = [](Lockout::Clock::duration d) {
      return std::chrono::duration_cast<std::chrono::seconds>(d).count();
    };
    const auto& lockout_settings = settings.lockout;
    if (started == Lockout::Started::address) {
      spdlog::warn("{}: {} failed logins within {} s: answering 429 for {} s", Lockout::key(peer),
                   lockout_settings.max_failures, seconds(lockout_settings.window),
                   seconds(lockout_settings.lock));
    } else {
      spdlog::warn(
          "user '{}': {} failed logins within {} s from several addresses: answering 429 for {} s "
          "to the addresses that failed (others may still log in)",
          printable(user), lockout_settings.max_user_failures, seconds(lockout_settings.window),
          seconds(lockout_settings.lock));
    }
  }

  void failed(const asio::ip::address& peer, std::string_view user, std::string_view why) {
    spdlog::debug("access denied to {}: {}", peer.to_string(), why);
    ++counters.failures;
    note(lockout.failure(peer, user, Lockout::Clock::now()), peer, user);
  }

  // One password check: queued per address, run on the worker, answered to every request
  // that sent the same header from the same address meanwhile.
  struct Job {
    asio::ip::address peer;
    BasicCredentials credentials;
    std::string waiting_key;  // address key and header
    std::shared_ptr<const UserTable> users;
    Lockout::Ticket ticket = 0;
  };

  static std::string waiting_key_of(const asio::ip::address& peer, std::string_view header) {
    return Lockout::key(peer) + '\n' + std::string(header);
  }

  // The same header from the same address while its check runs: answered with that check.
  // This makes no new guess, so it needs no share of the queue and counts no failure.
  bool join_waiting(const asio::ip::address& peer, std::string_view header, Handler& done) {
    const auto found = waiting.find(waiting_key_of(peer, header));
    if (found == waiting.end()) return false;
    found->second.push_back(std::move(done));
    return true;
  }

  Outcome enqueue(std::shared_ptr<State> self, const asio::ip::address& peer,
                  BasicCredentials credentials, std::string_view header, Handler& done) {
    const std::string address_key = Lockout::key(peer);
    std::string waiting_key = waiting_key_of(peer, header);
    if (queue.queued(address_key) >= settings.max_pending_per_address ||
        queue.size() >= settings.max_pending) {
      return Outcome::busy;
    }
    const auto ticket = lockout.begin(peer, credentials.user, Lockout::Clock::now());
    waiting[waiting_key].push_back(std::move(done));
    queue.push(address_key,
               Job{peer, std::move(credentials), std::move(waiting_key), users, ticket});
    run_next(std::move(self));
    return Outcome::allowed;
  }

  void run_next(std::shared_ptr<State> self) {
    if (running) return;
    auto job = queue.pop();
    if (!job) return;
    running = true;
    std::weak_ptr<State> weak = self;
    // The executor counts the check as work, so its run() waits for the answer.
    auto executor = asio::prefer(self->executor, asio::execution::outstanding_work.tracked);
    asio::post(workers, [weak, executor = std::move(executor), job = std::move(*job)]() mutable {
      const bool verified = job.users->verify(job.credentials.user, job.credentials.password);
      asio::post(executor, [weak, verified, job = std::move(job)]() mutable {
        if (const auto state = weak.lock()) state->checked(state, std::move(job), verified);
      });
    });
  }

  void checked(const std::shared_ptr<State>& self, Job job, bool verified) {
    running = false;
    const std::string& user = job.credentials.user;
    // A reload in between: the user must still be there with the same hash.
    const std::string* verified_hash = job.users->hash_of(user);
    const std::string* current_hash = users->hash_of(user);
    const bool ok = verified && verified_hash != nullptr && current_hash != nullptr &&
                    *verified_hash == *current_hash;
    const auto now = Lockout::Clock::now();
    note(lockout.finish(job.peer, user, job.ticket, ok, now), job.peer, user);
    Decision decision;
    if (ok) {
      decision.outcome = Outcome::allowed;
      decision.identity.user = user;
      decision.identity.role = role_of(user);
      decision.identity.basis = Identity::Basis::password;
      decision.identity.hash = *current_hash;
      const auto newline = job.waiting_key.find('\n');
      cache.insert(std::string_view(job.waiting_key).substr(newline + 1), decision.identity, now);
    } else {
      spdlog::debug("access denied to {}: wrong user name or password", job.peer.to_string());
      ++counters.failures;
    }
    auto handlers = std::move(waiting[job.waiting_key]);
    waiting.erase(job.waiting_key);
    OPENSSL_cleanse(job.credentials.password.data(), job.credentials.password.size());
    for (auto& handler : handlers) handler(decision);
    run_next(self);
  }

  asio::any_io_executor executor;
  Settings settings;
  std::shared_ptr<const UserTable> users;  // null: no access control
  std::set<std::string, std::less<>> operators;
  std::shared_ptr<const TokenSigner> signer;
  std::uint64_t key_generation = 1;  // grows when a reload brings another key
  CredentialCache cache;
  Lockout lockout;
  CheckQueue<Job> queue{settings.max_pending_per_address, settings.max_pending};
  std::unordered_map<std::string, std::vector<Handler>> waiting;
  bool running = false;  // a check is on the worker
  Counters counters;
  // Last, so it is joined before the rest goes: crypt() runs here, off the I/O thread.
  asio::thread_pool workers{1};
};

Gate::Gate(asio::any_io_executor executor, Settings settings)
    : state_(std::make_shared<State>(std::move(executor), std::move(settings))) {
  auto& state = *state_;
  if (state.settings.users_file.empty()) {
    state.load_key(true);  // tokens are not needed then, but /api/token still answers
    return;
  }
  auto users = std::make_shared<const UserTable>(UserTable::load(state.settings.users_file));
  if (const auto unknown = state.unknown_operators(*users); !unknown.empty()) {
    throw AccessError("--operators: '" + unknown.front() + "' is not a user in --users " +
                      state.settings.users_file);
  }
  state.users = std::move(users);
  state.operators.insert(state.settings.operators.begin(), state.settings.operators.end());
  state.load_key(true);
  spdlog::info(
      "access control: {} users from {}, {}", state.users->size(), state.settings.users_file,
      state.settings.operators.empty() ? std::string("all of them operators")
                                       : std::to_string(state.operators.size()) + " operators");
}

Gate::~Gate() {
  state_->workers.stop();
  state_->workers.join();
}

bool Gate::required() const {
  return state_->users != nullptr;
}

void Gate::check(const asio::ip::address& peer, std::string_view authorization,
                 std::optional<std::string_view> token, Handler done) {
  auto& state = *state_;
  const auto finish = [&](Decision decision) {
    asio::post(state.executor, [done = std::move(done), decision = std::move(decision)]() mutable {
      done(std::move(decision));
    });
  };
  if (!state.users) {
    Identity anyone;
    anyone.role = Role::operator_;
    return finish({Outcome::allowed, std::move(anyone), {}});
  }

  // The lockout first: a locked address gets 429 even with good credentials.
  const auto now = Lockout::Clock::now();
  if (!authorization.empty()) {
    auto credentials = parse_basic(authorization);
    const std::string_view user = credentials ? std::string_view(credentials->user) : "";
    if (const auto left = state.lockout.locked(peer, "", now)) {
      return finish({Outcome::locked, {}, *left});
    }
    // Neither a remembered header nor one being checked is a new guess: the user's lock
    // (which refuses guesses) does not apply to them.
    if (auto identity = state.cache.find(authorization, now)) {
      return finish({Outcome::allowed, std::move(*identity), {}});
    }
    if (state.join_waiting(peer, authorization, done)) return;
    if (const auto left = state.lockout.locked(peer, user, now)) {
      return finish({Outcome::locked, {}, *left});
    }
    if (!credentials) {
      state.failed(peer, "", "an Authorization header that is not Basic credentials");
      return finish({Outcome::unauthorized, {}, {}});
    }
    if (state.enqueue(state_, peer, std::move(*credentials), authorization, done) ==
        Outcome::busy) {
      return finish({Outcome::busy, {}, std::chrono::seconds(1)});
    }
    return;
  }

  if (token) {
    auto result = state.signer->check(*token, unix_now());
    const std::string user = result.claims ? result.claims->user : std::string();
    if (const auto left = state.lockout.locked(peer, user, now)) {
      return finish({Outcome::locked, {}, *left});
    }
    if (!result.claims) {
      state.failed(peer, "",
                   std::string("a token that is ") + std::string(to_string(result.problem)));
      return finish({Outcome::unauthorized, {}, {}});
    }
    if (!state.users->contains(user)) {
      state.failed(peer, user, "a token of a user no longer in --users");
      return finish({Outcome::unauthorized, {}, {}});
    }
    const auto& claims = *result.claims;
    Identity identity{user,
                      narrower(claims.role, state.role_of(user)),
                      Identity::Basis::token,
                      {},
                      state.key_generation,
                      claims.role,
                      claims.expires};
    return finish({Outcome::allowed, std::move(identity), {}});
  }
  if (const auto left = state.lockout.locked(peer, "", now)) {
    return finish({Outcome::locked, {}, *left});
  }
  // No credentials at all: a browser's first request before its login prompt, not a failure.
  finish({Outcome::unauthorized, {}, {}});
}

std::string Gate::issue_token(const Identity& identity, std::int64_t expires_unix) const {
  const Role role = narrower(identity.role, state_->role_of(identity.user));
  return state_->signer->issue(TokenClaims{identity.user, role, expires_unix});
}

std::optional<Role> Gate::recheck(const Identity& identity) const {
  const auto& state = *state_;
  if (!state.users) return identity.role;
  switch (identity.basis) {
    case Identity::Basis::open:
      return identity.role;
    case Identity::Basis::password: {
      const std::string* hash = state.users->hash_of(identity.user);
      if (hash == nullptr || !equal_constant_time(*hash, identity.hash)) return std::nullopt;
      return state.role_of(identity.user);
    }
    case Identity::Basis::token:
      if (identity.key_generation != state.key_generation ||
          !state.users->contains(identity.user) || identity.expires <= unix_now()) {
        return std::nullopt;
      }
      return narrower(identity.granted, state.role_of(identity.user));
  }
  return std::nullopt;
}

Gate::Counters Gate::counters() const {
  return state_->counters;
}

void Gate::reload() {
  auto& state = *state_;
  if (!state.users) return;
  try {
    auto users = std::make_shared<const UserTable>(UserTable::load(state.settings.users_file));
    for (const auto& name : state.unknown_operators(*users)) {
      spdlog::warn("--operators: '{}' is no longer a user in --users {}", name,
                   state.settings.users_file);
    }
    state.users = std::move(users);
    spdlog::info("access control: reloaded {} users from {}", state.users->size(),
                 state.settings.users_file);
  } catch (const AccessError& error) {
    spdlog::error("{}: keeping the users read before", error.what());
  }
  try {
    state.load_key(false);
  } catch (const AccessError& error) {
    spdlog::error("{}: keeping the token key read before", error.what());
  }
  state.cache.clear();
}

}  // namespace camstream::access
