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

TEST(Lockout, TenFailuresWithinAMinuteLockForAMinute) {
  Lockout lockout;
  for (int i = 0; i < 9; ++i) {
    EXPECT_FALSE(lockout.failure(kAttacker, kStart + i * 1s));
    EXPECT_FALSE(lockout.locked(kAttacker, kStart + i * 1s));
  }
  EXPECT_TRUE(lockout.failure(kAttacker, kStart + 9s));  // the tenth starts it, once
  EXPECT_EQ(lockout.locked(kAttacker, kStart + 9s), 60s);
  EXPECT_EQ(lockout.locked(kAttacker, kStart + 9s + 500ms), 60s);  // rounded up
  EXPECT_EQ(lockout.locked(kAttacker, kStart + 68s + 1ms), 1s);
  EXPECT_FALSE(lockout.failure(kAttacker, kStart + 20s));   // more failures: no new log line
  EXPECT_EQ(lockout.locked(kAttacker, kStart + 20s), 49s);  // and no longer lock
  EXPECT_FALSE(lockout.locked(kOther, kStart + 20s));
  EXPECT_FALSE(lockout.locked(kAttacker, kStart + 69s));
  // After the lockout the count starts again from zero.
  EXPECT_FALSE(lockout.failure(kAttacker, kStart + 70s));
  EXPECT_FALSE(lockout.locked(kAttacker, kStart + 70s));
}

TEST(Lockout, FailuresSpreadOverMoreThanTheWindowDoNotLock) {
  Lockout lockout;
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(lockout.failure(kAttacker, kStart + i * 7s)) << i;  // 9 per 63 s
  }
  EXPECT_FALSE(lockout.locked(kAttacker, kStart + 700s));
}

TEST(Lockout, ASuccessForgetsEarlierFailures) {
  Lockout lockout;
  for (int i = 0; i < 9; ++i) lockout.failure(kAttacker, kStart);
  lockout.success(kAttacker);
  EXPECT_EQ(lockout.tracked(), 0u);
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(lockout.failure(kAttacker, kStart + 1s));
  EXPECT_TRUE(lockout.failure(kAttacker, kStart + 2s));
}

TEST(Lockout, Ipv6CountsBySlash64AndMappedIpv4AsIpv4) {
  EXPECT_EQ(Lockout::key(ip::make_address("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
  EXPECT_EQ(Lockout::key(ip::make_address("::ffff:192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(Lockout::key(ip::make_address("::1")), "::/64");
  Lockout lockout;
  for (int i = 0; i < 10; ++i) {
    lockout.failure(ip::make_address("2001:db8:1:2::" + std::to_string(i + 1)), kStart);
  }
  EXPECT_TRUE(lockout.locked(ip::make_address("2001:db8:1:2:ffff::1"), kStart));
  EXPECT_FALSE(lockout.locked(ip::make_address("2001:db8:1:3::1"), kStart));
  for (int i = 0; i < 10; ++i) lockout.failure(ip::make_address("::ffff:192.0.2.9"), kStart);
  EXPECT_TRUE(lockout.locked(ip::make_address("192.0.2.9"), kStart));
}

TEST(Lockout, ThousandsOfAddressesStayBoundedAndKeepTheLockedOnes) {
  Lockout::Settings settings;
  settings.max_addresses = 1000;
  Lockout lockout(settings);
  for (int i = 0; i < 10; ++i) lockout.failure(kAttacker, kStart);
  ASSERT_TRUE(lockout.locked(kAttacker, kStart));
  for (int i = 0; i < 50'000; ++i) {
    const ip::address_v4 address(0x0A000000U + static_cast<std::uint32_t>(i));
    lockout.failure(ip::address(address), kStart + 1s);
    ASSERT_LE(lockout.tracked(), 1000u);
  }
  EXPECT_TRUE(lockout.locked(kAttacker, kStart + 2s));  // the flood did not free it
  // A minute of quiet later, those who failed once are forgotten on the next failure.
  lockout.failure(kOther, kStart + 62s);
  EXPECT_LE(lockout.tracked(), 2u);
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

}  // namespace
}  // namespace camstream::access
