// The Gate on a real io_context: Basic credentials checked on its worker thread, tokens,
// roles, lockout and reload.
#include "camstream/access/gate.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "access/base64.hpp"
#include "access/basic_auth.hpp"
#include "access_test_util.hpp"
#include "camstream/access/access_error.hpp"
#include "camstream/access/identity.hpp"

namespace camstream::access {
namespace {

using testing::htpasswd_line;
using testing::ScratchDir;
namespace ip = boost::asio::ip;

const ip::address kPeer = ip::make_address("127.0.0.1");

std::string basic(const std::string& user, const std::string& password) {
  std::string encoded = base64url_encode(user + ":" + password);
  for (char& c : encoded) c = c == '-' ? '+' : c == '_' ? '/' : c;
  return "Basic " + encoded;
}

std::int64_t in_an_hour() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() +
         3600;
}

class GateTest : public ::testing::Test {
 protected:
  GateTest() {
    users_ = dir_.write(
        "users", htpasswd_line("alice", "a-pass") + "\n" + htpasswd_line("bob", "b-pass") + "\n");
  }

  Gate::Settings settings() const {
    Gate::Settings settings;
    settings.users_file = users_;
    return settings;
  }

  // Runs one check to completion; the handler must not run inside check().
  Gate::Decision decide(Gate& gate, const std::string& authorization,
                        std::optional<std::string> token = std::nullopt,
                        const ip::address& peer = kPeer) {
    std::optional<Gate::Decision> decision;
    gate.check(peer, authorization, token ? std::optional<std::string_view>(*token) : std::nullopt,
               [&](Gate::Decision d) { decision = std::move(d); });
    EXPECT_FALSE(decision) << "the handler ran inside check()";
    io_.restart();
    const auto work = boost::asio::make_work_guard(io_);
    while (!decision && io_.run_one() != 0) {
    }
    EXPECT_TRUE(decision);
    return decision.value_or(Gate::Decision{});
  }

  boost::asio::io_context io_;
  ScratchDir dir_;
  std::string users_;
};

TEST_F(GateTest, WithoutUsersEveryoneIsAnOperator) {
  Gate gate(io_.get_executor(), Gate::Settings{});
  EXPECT_FALSE(gate.required());
  const auto decision = decide(gate, "");
  EXPECT_EQ(decision.outcome, Gate::Outcome::allowed);
  EXPECT_EQ(decision.identity.role, Role::operator_);
}

TEST_F(GateTest, BasicCredentialsOfEveryUserAreChecked) {
  Gate gate(io_.get_executor(), settings());
  EXPECT_TRUE(gate.required());
  auto decision = decide(gate, basic("alice", "a-pass"));
  EXPECT_EQ(decision.outcome, Gate::Outcome::allowed);
  EXPECT_EQ(decision.identity.user, "alice");
  EXPECT_EQ(decision.identity.role, Role::operator_);  // no --operators: all are
  EXPECT_EQ(decide(gate, basic("bob", "b-pass")).outcome, Gate::Outcome::allowed);
  EXPECT_EQ(decide(gate, basic("bob", "a-pass")).outcome, Gate::Outcome::unauthorized);
  EXPECT_EQ(decide(gate, basic("carol", "a-pass")).outcome, Gate::Outcome::unauthorized);
  EXPECT_EQ(decide(gate, "").outcome, Gate::Outcome::unauthorized);
  EXPECT_EQ(decide(gate, "Bearer x").outcome, Gate::Outcome::unauthorized);
  // Again from the cache: the same answer.
  decision = decide(gate, basic("alice", "a-pass"));
  EXPECT_EQ(decision.outcome, Gate::Outcome::allowed);
  EXPECT_EQ(decision.identity.user, "alice");
}

TEST_F(GateTest, OperatorsSteerAndTheOthersWatch) {
  auto with_operators = settings();
  with_operators.operators = {"alice"};
  Gate gate(io_.get_executor(), with_operators);
  EXPECT_EQ(decide(gate, basic("alice", "a-pass")).identity.role, Role::operator_);
  EXPECT_EQ(decide(gate, basic("bob", "b-pass")).identity.role, Role::viewer);
}

TEST_F(GateTest, UnknownOperatorIsAnErrorNamingTheFlag) {
  auto with_operators = settings();
  with_operators.operators = {"alice", "mallory"};
  try {
    Gate gate(io_.get_executor(), with_operators);
    FAIL() << "no error";
  } catch (const AccessError& error) {
    EXPECT_EQ(std::string(error.what()),
              "--operators: 'mallory' is not a user in --users " + users_);
  }
}

TEST_F(GateTest, TokensCarryAtMostTheIssuersRole) {
  auto with_operators = settings();
  with_operators.operators = {"alice"};
  Gate gate(io_.get_executor(), with_operators);
  const std::string operator_token = gate.issue_token({"alice", Role::operator_}, in_an_hour());
  const std::string viewer_token = gate.issue_token({"alice", Role::viewer}, in_an_hour());
  const std::string bob_token = gate.issue_token({"bob", Role::operator_}, in_an_hour());
  auto decision = decide(gate, "", operator_token);
  EXPECT_EQ(decision.outcome, Gate::Outcome::allowed);
  EXPECT_EQ(decision.identity.user, "alice");
  EXPECT_EQ(decision.identity.role, Role::operator_);
  EXPECT_EQ(decide(gate, "", viewer_token).identity.role, Role::viewer);
  EXPECT_EQ(decide(gate, "", bob_token).identity.role, Role::viewer);  // bob is a viewer
  EXPECT_EQ(decide(gate, "", operator_token + "x").outcome, Gate::Outcome::unauthorized);
  EXPECT_EQ(decide(gate, "", std::string("")).outcome, Gate::Outcome::unauthorized);
}

TEST_F(GateTest, ExpiredTokensAreRefused) {
  Gate gate(io_.get_executor(), settings());
  const std::string token = gate.issue_token({"alice", Role::operator_}, in_an_hour() - 3601);
  EXPECT_EQ(decide(gate, "", token).outcome, Gate::Outcome::unauthorized);
}

TEST_F(GateTest, TenFailuresLockTheAddressEvenWithGoodCredentials) {
  Gate gate(io_.get_executor(), settings());
  const ip::address other = ip::make_address("127.0.0.2");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(decide(gate, basic("alice", "wrong")).outcome, Gate::Outcome::unauthorized);
    EXPECT_EQ(decide(gate, basic("nobody", "wrong")).outcome, Gate::Outcome::unauthorized);
  }
  // Requests without credentials never count.
  for (int i = 0; i < 20; ++i) decide(gate, "", std::nullopt, other);
  auto decision = decide(gate, basic("alice", "a-pass"));
  EXPECT_EQ(decision.outcome, Gate::Outcome::locked);
  EXPECT_EQ(decision.retry_after, std::chrono::seconds(60));
  EXPECT_EQ(decide(gate, "", gate.issue_token({"alice", Role::viewer}, in_an_hour())).outcome,
            Gate::Outcome::locked);
  EXPECT_EQ(decide(gate, basic("alice", "a-pass"), std::nullopt, other).outcome,
            Gate::Outcome::allowed);
}

TEST_F(GateTest, BadTokensCountAsFailures) {
  Gate gate(io_.get_executor(), settings());
  for (int i = 0; i < 10; ++i) decide(gate, "", std::string("garbage") + std::to_string(i));
  EXPECT_EQ(decide(gate, basic("alice", "a-pass")).outcome, Gate::Outcome::locked);
}

TEST_F(GateTest, ReloadTakesNewUsersAndKeepsTheOldOnABadFile) {
  Gate gate(io_.get_executor(), settings());
  const std::string alice = basic("alice", "a-pass");
  const std::string alice_token = gate.issue_token({"alice", Role::operator_}, in_an_hour());
  EXPECT_EQ(decide(gate, alice).outcome, Gate::Outcome::allowed);

  dir_.write("users", htpasswd_line("alice", "new-pass") + "\n");
  gate.reload();  // the cache goes too: the old password stops working at once
  EXPECT_EQ(decide(gate, alice).outcome, Gate::Outcome::unauthorized);
  EXPECT_EQ(decide(gate, basic("alice", "new-pass")).outcome, Gate::Outcome::allowed);
  EXPECT_EQ(decide(gate, basic("bob", "b-pass")).outcome, Gate::Outcome::unauthorized);
  EXPECT_EQ(decide(gate, "", alice_token).outcome, Gate::Outcome::allowed);  // same key

  dir_.write("users", "alice:plaintext\n");
  gate.reload();
  EXPECT_EQ(decide(gate, basic("alice", "new-pass")).outcome, Gate::Outcome::allowed);

  dir_.write("users", htpasswd_line("bob", "b-pass") + "\n");
  gate.reload();  // alice is gone: so are her tokens
  EXPECT_EQ(decide(gate, "", alice_token).outcome, Gate::Outcome::unauthorized);
}

TEST_F(GateTest, ATokenKeyFileOutlivesTheGateAndAnotherKeyRevokes) {
  auto with_key = settings();
  with_key.token_key_file = dir_.file("key");
  std::string token;
  {
    Gate gate(io_.get_executor(), with_key);
    token = gate.issue_token({"alice", Role::operator_}, in_an_hour());
  }
  {
    Gate restarted(io_.get_executor(), with_key);
    EXPECT_EQ(decide(restarted, "", token).outcome, Gate::Outcome::allowed);
    std::filesystem::remove(with_key.token_key_file);
    restarted.reload();  // makes a new key
    EXPECT_EQ(decide(restarted, "", token).outcome, Gate::Outcome::unauthorized);
  }
  Gate without_key_file(io_.get_executor(), settings());
  EXPECT_EQ(decide(without_key_file, "", token).outcome, Gate::Outcome::unauthorized);
}

TEST_F(GateTest, ManyChecksAtOnceAreBoundedNotQueuedForever) {
  auto small = settings();
  small.max_pending = 4;
  Gate gate(io_.get_executor(), small);
  int allowed = 0;
  int busy = 0;
  for (int i = 0; i < 20; ++i) {
    gate.check(ip::make_address("10.0.0." + std::to_string(i + 1)), basic("alice", "a-pass"),
               std::nullopt, [&](Gate::Decision d) {
                 allowed += d.outcome == Gate::Outcome::allowed ? 1 : 0;
                 busy += d.outcome == Gate::Outcome::busy ? 1 : 0;
               });
  }
  io_.restart();
  const auto work = boost::asio::make_work_guard(io_);
  while (allowed + busy < 20 && io_.run_one() != 0) {
  }
  EXPECT_EQ(allowed + busy, 20);
  EXPECT_GE(allowed, 4);
  EXPECT_GE(busy, 1);
}

// Issue 20, item 2: a flood of checks from one address does not make another address wait
// behind it; the address gets its share and the rest `busy`.
TEST_F(GateTest, ChecksFromOneAddressDoNotDelayAnother) {
  Gate gate(io_.get_executor(), settings());
  const ip::address flooder = ip::make_address("10.0.0.1");
  const ip::address other = ip::make_address("10.0.0.2");
  std::vector<std::string> order;
  int busy = 0;
  for (int i = 0; i < 20; ++i) {
    gate.check(flooder, basic("alice", "guess" + std::to_string(i)), std::nullopt,
               [&](Gate::Decision d) {
                 if (d.outcome == Gate::Outcome::busy) {
                   ++busy;
                 } else {
                   order.push_back("flood");
                 }
               });
  }
  gate.check(other, basic("bob", "b-pass"), std::nullopt, [&](Gate::Decision d) {
    EXPECT_EQ(d.outcome, Gate::Outcome::allowed);
    order.push_back("other");
  });
  io_.restart();
  const auto work = boost::asio::make_work_guard(io_);
  while (order.size() < 6 && io_.run_one() != 0) {
  }
  EXPECT_EQ(busy, 15);  // one check running, four queued per address
  ASSERT_EQ(order.size(), 6u);
  // The first flood check was already running; the other address comes next.
  EXPECT_EQ(order[0], "flood");
  EXPECT_EQ(order[1], "other");
}

// The same header sent again while its check runs waits for that check (a page loading many
// pictures at once costs one hash, and counts once).
TEST_F(GateTest, TheSameHeaderWhileItsCheckRunsIsAnsweredWithIt) {
  Gate gate(io_.get_executor(), settings());
  int allowed = 0;
  for (int i = 0; i < 12; ++i) {
    gate.check(kPeer, basic("alice", "a-pass"), std::nullopt,
               [&](Gate::Decision d) { allowed += d.outcome == Gate::Outcome::allowed; });
  }
  io_.restart();
  const auto work = boost::asio::make_work_guard(io_);
  while (allowed < 12 && io_.run_one() != 0) {
  }
  EXPECT_EQ(allowed, 12);
}

// Issue 20, item 3: what a session rests on is checked again after a reload.
TEST_F(GateTest, RecheckTellsWhetherASessionsCredentialStillHolds) {
  auto with_key = settings();
  with_key.token_key_file = dir_.file("key");
  with_key.operators = {"alice"};
  Gate gate(io_.get_executor(), with_key);
  const Identity alice = decide(gate, basic("alice", "a-pass")).identity;
  const Identity bob = decide(gate, basic("bob", "b-pass")).identity;
  const Identity alice_token =
      decide(gate, "", gate.issue_token({"alice", Role::operator_}, in_an_hour())).identity;
  EXPECT_EQ(gate.recheck(alice), Role::operator_);
  EXPECT_EQ(gate.recheck(bob), Role::viewer);
  EXPECT_EQ(gate.recheck(alice_token), Role::operator_);

  // bob's password changes: his session ends; alice is untouched.
  dir_.write("users", htpasswd_line("alice", "a-pass") + "\n" + htpasswd_line("bob", "new") + "\n");
  gate.reload();
  EXPECT_EQ(gate.recheck(bob), std::nullopt);
  EXPECT_EQ(gate.recheck(alice), std::nullopt);  // her hash was made anew (another salt)
  const Identity alice_again = decide(gate, basic("alice", "a-pass")).identity;
  EXPECT_EQ(gate.recheck(alice_again), Role::operator_);
  EXPECT_EQ(gate.recheck(alice_token), Role::operator_);  // same key

  std::filesystem::remove(with_key.token_key_file);
  gate.reload();  // another key: every token goes
  EXPECT_EQ(gate.recheck(alice_token), std::nullopt);
  EXPECT_EQ(gate.recheck(alice_again), Role::operator_);

  Identity expired = alice_token;
  expired.expires = 1;
  EXPECT_EQ(gate.recheck(expired), std::nullopt);
}

}  // namespace
}  // namespace camstream::access
