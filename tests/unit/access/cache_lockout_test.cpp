// The credential cache, the lockout and the redaction of logged targets.
#include <gtest/gtest.h>

#include "access/credential_cache.hpp"
#include "access/lockout.hpp"
#include "camstream/access/identity.hpp"
#include "camstream/access/redact.hpp"

namespace camstream::access {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace ip = boost::asio::ip;

const Clock::time_point kStart = Clock::time_point{} + 1000h;

TEST(CredentialCache, RemembersAHeaderForItsTtl) {
  CredentialCache cache(8, 300s);
  EXPECT_EQ(cache.find("Basic YQ==", kStart), std::nullopt);
  cache.insert("Basic YQ==", {"alice", Role::viewer}, kStart);
  const auto hit = cache.find("Basic YQ==", kStart + 299s);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->user, "alice");
  EXPECT_EQ(hit->role, Role::viewer);
  EXPECT_EQ(cache.find("Basic YQ=", kStart), std::nullopt);
  EXPECT_EQ(cache.find("basic YQ==", kStart), std::nullopt);
  EXPECT_EQ(cache.find("Basic YQ==", kStart + 300s), std::nullopt);
  EXPECT_EQ(cache.size(), 0u);  // the expired entry went on lookup
}

TEST(CredentialCache, HoldsAtMostItsCapacityDroppingTheLeastRecentlyUsed) {
  CredentialCache cache(3, 300s);
  for (int i = 0; i < 3; ++i) cache.insert("h" + std::to_string(i), {"u", Role::viewer}, kStart);
  EXPECT_TRUE(cache.find("h0", kStart));  // h1 is now the least recently used
  cache.insert("h3", {"u", Role::viewer}, kStart);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(cache.find("h0", kStart));
  EXPECT_FALSE(cache.find("h1", kStart));
  EXPECT_TRUE(cache.find("h2", kStart));
  EXPECT_TRUE(cache.find("h3", kStart));
  for (int i = 0; i < 10'000; ++i) {
    cache.insert("flood" + std::to_string(i), {"u", Role::viewer}, kStart);
  }
  EXPECT_EQ(cache.size(), 3u);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.find("flood9999", kStart));
}

TEST(CredentialCache, ReinsertingRefreshes) {
  CredentialCache cache(2, 10s);
  cache.insert("h", {"alice", Role::viewer}, kStart);
  cache.insert("h", {"alice", Role::operator_}, kStart + 8s);
  EXPECT_EQ(cache.size(), 1u);
  const auto hit = cache.find("h", kStart + 15s);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->role, Role::operator_);
  CredentialCache off(0, 10s);
  off.insert("h", {"alice", Role::viewer}, kStart);
  EXPECT_FALSE(off.find("h", kStart));
}

const ip::address kAttacker = ip::make_address("192.0.2.7");
const ip::address kOther = ip::make_address("192.0.2.8");
using Started = Lockout::Started;

bool fail(Lockout& lockout, const ip::address& address, Clock::time_point at,
          std::string_view user = "") {
  return lockout.failure(address, user, at) != Started::none;
}

TEST(Lockout, TenFailuresWithinAMinuteLockForAMinute) {
  Lockout lockout;
  for (int i = 0; i < 9; ++i) {
    EXPECT_FALSE(fail(lockout, kAttacker, kStart + i * 1s));
    EXPECT_FALSE(lockout.locked(kAttacker, "", kStart + i * 1s));
  }
  EXPECT_EQ(lockout.failure(kAttacker, "", kStart + 9s), Started::address);  // once
  EXPECT_EQ(lockout.locked(kAttacker, "", kStart + 9s), 60s);
  EXPECT_EQ(lockout.locked(kAttacker, "", kStart + 9s + 500ms), 60s);  // rounded up
  EXPECT_EQ(lockout.locked(kAttacker, "", kStart + 68s + 1ms), 1s);
  EXPECT_FALSE(fail(lockout, kAttacker, kStart + 20s));  // more failures: no new log line
  EXPECT_EQ(lockout.locked(kAttacker, "alice", kStart + 20s), 49s);  // and no longer lock
  EXPECT_FALSE(lockout.locked(kOther, "", kStart + 20s));
  EXPECT_FALSE(lockout.locked(kAttacker, "", kStart + 69s));
  // After the lockout the count starts again from zero.
  EXPECT_FALSE(fail(lockout, kAttacker, kStart + 70s));
  EXPECT_FALSE(lockout.locked(kAttacker, "", kStart + 70s));
}

TEST(Lockout, FailuresSpreadOverMoreThanTheWindowDoNotLock) {
  Lockout lockout;
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(fail(lockout, kAttacker, kStart + i * 7s, "alice")) << i;  // 9 per 63 s
  }
  EXPECT_FALSE(lockout.locked(kAttacker, "alice", kStart + 700s));
}

TEST(Lockout, ASuccessForgetsOnlyThatUsersFailuresFromThatAddress) {
  Lockout lockout;
  for (int i = 0; i < 9; ++i) fail(lockout, kAttacker, kStart, "alice");
  lockout.success(kAttacker, "alice");
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(fail(lockout, kAttacker, kStart + 1s, "alice"));
  EXPECT_TRUE(fail(lockout, kAttacker, kStart + 2s, "alice"));
}

// Issue 20, item 1: nine wrong passwords for admin, then a good login as viewer, again and
// again. The good login of another user must not forget admin's failures.
TEST(Lockout, AnotherUsersSuccessDoesNotResetTheCount) {
  Lockout lockout;
  int guesses = 0;
  bool locked = false;
  for (int round = 0; round < 10 && !locked; ++round) {
    for (int i = 0; i < 9 && !locked; ++i) {
      fail(lockout, kAttacker, kStart + 1s, "admin");
      ++guesses;
      locked = lockout.locked(kAttacker, "admin", kStart + 1s).has_value();
    }
    lockout.success(kAttacker, "viewer");
  }
  EXPECT_TRUE(locked);
  EXPECT_EQ(guesses, 10);
}

// Issue 20, item 2: checks still running count, so 70 at once cannot pass the limit; and a
// good password finishing last does not lift the lock.
TEST(Lockout, PendingChecksCountUntilTheySucceed) {
  Lockout lockout;
  std::vector<Lockout::Ticket> tickets;
  int admitted = 0;
  for (int i = 0; i < 70; ++i) {
    if (lockout.locked(kAttacker, "admin", kStart)) continue;
    tickets.push_back(lockout.begin(kAttacker, "admin", kStart));
    ++admitted;
  }
  EXPECT_EQ(admitted, 10);
  EXPECT_EQ(lockout.locked(kAttacker, "admin", kStart), 1s);  // until the checks end
  int started = 0;
  for (std::size_t i = 0; i + 1 < tickets.size(); ++i) {
    started += lockout.finish(kAttacker, "admin", tickets[i], false, kStart + 1s) != Started::none;
  }
  EXPECT_EQ(started, 0);  // nine known failures: not yet
  lockout.finish(kAttacker, "admin", tickets.back(), true, kStart + 1s);
  EXPECT_FALSE(lockout.locked(kAttacker, "admin", kStart + 1s));
  // Ten that fail lock; a success finishing after them does not lift the lock.
  tickets.clear();
  for (int i = 0; i < 11; ++i) tickets.push_back(lockout.begin(kOther, "admin", kStart));
  for (int i = 0; i < 10; ++i) lockout.finish(kOther, "admin", tickets[i], false, kStart + 1s);
  lockout.finish(kOther, "admin", tickets[10], true, kStart + 2s);
  EXPECT_EQ(lockout.locked(kOther, "admin", kStart + 2s), 59s);
}

TEST(Lockout, AUserUnderAttackIsRefusedOnlyWhereFailuresComeFrom) {
  Lockout lockout;
  // 20 addresses guess alice's password, one guess each: alice is locked for them.
  for (int i = 0; i < 20; ++i) {
    fail(lockout, ip::make_address("198.51.100." + std::to_string(i + 1)), kStart, "alice");
  }
  EXPECT_TRUE(lockout.locked(ip::make_address("198.51.100.1"), "alice", kStart));
  EXPECT_TRUE(lockout.locked(ip::make_address("198.51.100.20"), "alice", kStart + 59s));
  EXPECT_FALSE(lockout.locked(ip::make_address("198.51.100.1"), "bob", kStart));
  // Alice at home, an address that has not failed, gets in.
  EXPECT_FALSE(lockout.locked(ip::make_address("203.0.113.5"), "alice", kStart));
  EXPECT_FALSE(lockout.locked(ip::make_address("198.51.100.1"), "alice", kStart + 61s));
}

TEST(Lockout, Ipv6CountsBySlash64AndMappedIpv4AsIpv4) {
  EXPECT_EQ(Lockout::key(ip::make_address("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
  EXPECT_EQ(Lockout::key(ip::make_address("::ffff:192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(Lockout::key(ip::make_address("::1")), "::/64");
  Lockout lockout;
  for (int i = 0; i < 10; ++i) {
    fail(lockout, ip::make_address("2001:db8:1:2::" + std::to_string(i + 1)), kStart);
  }
  EXPECT_TRUE(lockout.locked(ip::make_address("2001:db8:1:2:ffff::1"), "", kStart));
  EXPECT_FALSE(lockout.locked(ip::make_address("2001:db8:1:3::1"), "", kStart));
  for (int i = 0; i < 10; ++i) fail(lockout, ip::make_address("::ffff:192.0.2.9"), kStart);
  EXPECT_TRUE(lockout.locked(ip::make_address("192.0.2.9"), "", kStart));
}

TEST(Lockout, ThousandsOfAddressesStayBoundedAndKeepTheLockedOnes) {
  Lockout::Settings settings;
  settings.max_addresses = 1000;
  Lockout lockout(settings);
  for (int i = 0; i < 10; ++i) fail(lockout, kAttacker, kStart);
  ASSERT_TRUE(lockout.locked(kAttacker, "", kStart));
  for (int i = 0; i < 50'000; ++i) {
    const ip::address_v4 address(0x0A000000U + static_cast<std::uint32_t>(i));
    fail(lockout, ip::address(address), kStart + 1s);
    ASSERT_LE(lockout.tracked(), 1000u);
  }
  EXPECT_TRUE(lockout.locked(kAttacker, "", kStart + 2s));  // the flood did not free it
  // A minute of quiet later, those who failed once are forgotten on the next failure.
  fail(lockout, kOther, kStart + 62s);
  EXPECT_LE(lockout.tracked(), 2u);
}

// Issue 20, item 5: 11,000 addresses failing once each must not evict an address with nine
// failures (which would give it nine more guesses).
TEST(Lockout, AFloodOfSingleFailuresKeepsHighCounts) {
  Lockout lockout;  // the defaults: 10,000 addresses
  for (int i = 0; i < 9; ++i) fail(lockout, kAttacker, kStart, "admin");
  for (int i = 0; i < 11'000; ++i) {
    const ip::address_v4 address(0x0A000000U + static_cast<std::uint32_t>(i));
    fail(lockout, ip::address(address), kStart + 1s, "user" + std::to_string(i));
  }
  EXPECT_LE(lockout.tracked(), 10'000u);
  EXPECT_LE(lockout.tracked_users(), 10'000u);
  EXPECT_EQ(lockout.failure(kAttacker, "admin", kStart + 2s), Started::address);
  EXPECT_TRUE(lockout.locked(kAttacker, "admin", kStart + 2s));
}

TEST(Redact, TokenValuesNeverReachTheLog) {
  EXPECT_EQ(redact_target("/stream?token=abc.def"), "/stream?token=\xE2\x80\xA6");
  EXPECT_EQ(redact_target("/stream?fps=5&token=abc&advance_headers=1"),
            "/stream?fps=5&token=\xE2\x80\xA6&advance_headers=1");
  EXPECT_EQ(redact_target("/?token=a&token=b"), "/?token=\xE2\x80\xA6&token=\xE2\x80\xA6");
  EXPECT_EQ(redact_target("/snapshot"), "/snapshot");
  EXPECT_EQ(redact_target("/snapshot?"), "/snapshot?");
  EXPECT_EQ(redact_target("/x?mytoken=1&token"), "/x?mytoken=1&token");
  EXPECT_EQ(redact_target("/x?token="), "/x?token=\xE2\x80\xA6");
}

TEST(QueryParameter, FindsAValueUndecoded) {
  EXPECT_EQ(query_parameter("/stream?token=a.b", "token"), "a.b");
  EXPECT_EQ(query_parameter("/stream?fps=2&token=x%41", "token"), "x%41");
  EXPECT_EQ(query_parameter("/stream?token", "token"), "");
  EXPECT_EQ(query_parameter("/stream?tokens=1", "token"), std::nullopt);
  EXPECT_EQ(query_parameter("/stream", "token"), std::nullopt);
}

}  // namespace
}  // namespace camstream::access
