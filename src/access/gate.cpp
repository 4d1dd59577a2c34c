// The Gate: lockout, then the cache, then a password check on the worker thread or a token.
#include "camstream/access/gate.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <set>

#include "basic_auth.hpp"
#include "camstream/access/access_error.hpp"
#include "camstream/access/token_signer.hpp"
#include "credential_cache.hpp"
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
    signer = std::make_shared<const TokenSigner>(
        TokenSigner::load_or_create(settings.token_key_file, warnings));
    for (const auto& warning : warnings) spdlog::warn("{}", warning);
  }

  void failed(const asio::ip::address& peer, std::string_view why) {
    spdlog::debug("access denied to {}: {}", peer.to_string(), why);
    if (lockout.failure(peer, Lockout::Clock::now())) {
      spdlog::warn(
          "{}: {} failed logins within {} s: answering 429 for {} s", Lockout::key(peer),
          settings.lockout.max_failures,
          std::chrono::duration_cast<std::chrono::seconds>(settings.lockout.window).count(),
          std::chrono::duration_cast<std::chrono::seconds>(settings.lockout.lock).count());
    }
  }

  asio::any_io_executor executor;
  Settings settings;
  std::shared_ptr<const UserTable> users;  // null: no access control
  std::set<std::string, std::less<>> operators;
  std::shared_ptr<const TokenSigner> signer;
  CredentialCache cache;
  Lockout lockout;
  std::size_t pending = 0;
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
  if (!state.users) return finish({Outcome::allowed, {"", Role::operator_}, {}});

  const auto now = Lockout::Clock::now();
  if (const auto left = state.lockout.locked(peer, now)) {
    return finish({Outcome::locked, {}, *left});
  }

  if (!authorization.empty()) {
    if (auto identity = state.cache.find(authorization, now)) {
      return finish({Outcome::allowed, std::move(*identity), {}});
    }
    auto credentials = parse_basic(authorization);
    if (!credentials) {
      state.failed(peer, "an Authorization header that is not Basic credentials");
      return finish({Outcome::unauthorized, {}, {}});
    }
    if (state.pending >= state.settings.max_pending) {
      return finish({Outcome::busy, {}, std::chrono::seconds(1)});
    }
    ++state.pending;
    std::weak_ptr<State> weak = state_;
    // The executor counts the check as work, so its run() waits for the answer.
    auto executor = asio::prefer(state.executor, asio::execution::outstanding_work.tracked);
    asio::post(
        state.workers, [weak, executor = std::move(executor), users = state.users, peer,
                        credentials = std::move(*credentials), header = std::string(authorization),
                        done = std::move(done)]() mutable {
          const bool verified = users->verify(credentials.user, credentials.password);
          asio::post(executor, [weak, users, peer, verified, user = std::move(credentials.user),
                                header = std::move(header), done = std::move(done)]() mutable {
            const auto state = weak.lock();
            if (!state) return;
            --state->pending;
            // A reload in between: the user must still be there; the new file is checked next time.
            const bool current = users == state->users;
            if (!verified || !state->users->contains(user)) {
              state->failed(peer, "wrong user name or password");
              return done({Outcome::unauthorized, {}, {}});
            }
            state->lockout.success(peer);
            Identity identity{user, state->role_of(user)};
            if (current) state->cache.insert(header, identity, Lockout::Clock::now());
            done({Outcome::allowed, std::move(identity), {}});
          });
        });
    return;
  }

  if (token) {
    auto result = state.signer->check(*token, unix_now());
    if (!result.claims) {
      state.failed(peer, std::string("a token that is ") + std::string(to_string(result.problem)));
      return finish({Outcome::unauthorized, {}, {}});
    }
    if (!state.users->contains(result.claims->user)) {
      state.failed(peer, "a token of a user no longer in --users");
      return finish({Outcome::unauthorized, {}, {}});
    }
    const Role role = narrower(result.claims->role, state.role_of(result.claims->user));
    return finish({Outcome::allowed, {std::move(result.claims->user), role}, {}});
  }
  // No credentials at all: a browser's first request before its login prompt, not a failure.
  finish({Outcome::unauthorized, {}, {}});
}

std::string Gate::issue_token(const Identity& identity, std::int64_t expires_unix) const {
  const Role role = narrower(identity.role, state_->role_of(identity.user));
  return state_->signer->issue(TokenClaims{identity.user, role, expires_unix});
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
