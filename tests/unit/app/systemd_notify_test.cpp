#include "app/systemd_notify.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <system_error>

namespace camstream {
namespace {

using namespace std::chrono_literals;
using Clock = WatchdogHealth::Clock;

const WatchdogHealth kHealth{10s, 10s};
const Clock::time_point kNow{std::chrono::hours(1)};

TEST(WatchdogHealth, FedWhileTheSupervisionTicks) {
  EXPECT_TRUE(kHealth.healthy(kNow, kNow - 1s, false, kNow - 1h));
  EXPECT_TRUE(kHealth.healthy(kNow, kNow - 10s, false, kNow - 1h));
}

TEST(WatchdogHealth, StarvedWhenTheSupervisionStops) {
  EXPECT_FALSE(kHealth.healthy(kNow, kNow - 11s, false, kNow));
  EXPECT_FALSE(kHealth.healthy(kNow, Clock::time_point{}, false, kNow));  // never ran
}

TEST(WatchdogHealth, StarvedWhenAStreamingSourceStopsDelivering) {
  EXPECT_TRUE(kHealth.healthy(kNow, kNow - 1s, true, kNow - 9s));
  EXPECT_FALSE(kHealth.healthy(kNow, kNow - 1s, true, kNow - 11s));
  // Idle, stopped or failing: no frames are expected, the lifecycle handles it.
  EXPECT_TRUE(kHealth.healthy(kNow, kNow - 1s, false, kNow - 11s));
}

TEST(SystemdStatus, NamesStateViewersRateAndError) {
  EXPECT_EQ(systemd_status("idle", 0, 0.0, ""), "idle, 0 viewers");
  EXPECT_EQ(systemd_status("streaming", 1, 10.0, ""), "streaming, 1 viewer, 10.0 fps");
  EXPECT_EQ(systemd_status("streaming", 2, 9.5, ""), "streaming, 2 viewers, 9.5 fps");
  EXPECT_EQ(systemd_status("error", 3, 0.0, "camera gone\nreally"),
            "error, 3 viewers, error: camera gone really");
}

// sd_listen_fds() reads the environment; these run in this process, so restore it each time.
class ListenFds : public ::testing::Test {
 protected:
  void TearDown() override {
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_PID");
  }
  static void pass(const char* fds, long pid) {
    ::setenv("LISTEN_FDS", fds, 1);
    ::setenv("LISTEN_PID", std::to_string(pid).c_str(), 1);
  }
};

TEST_F(ListenFds, NoneWithoutTheEnvironment) {
  EXPECT_EQ(systemd_listening_socket(), -1);
}

TEST_F(ListenFds, IgnoredWhenMeantForAnotherProcess) {
  pass("1", ::getpid() + 1);
  EXPECT_EQ(systemd_listening_socket(), -1);
}

TEST_F(ListenFds, RejectsGarbageCounts) {
  for (const char* fds : {"x", "0", "-1", "99999999999999999999"}) {
    pass(fds, ::getpid());
    EXPECT_THROW(systemd_listening_socket(), std::system_error) << fds;
  }
}

TEST_F(ListenFds, RejectsAPassedDescriptorThatIsNotOpen) {
  // The passed descriptors start at 3; 1000 of them are not all open here.
  pass("1000", ::getpid());
  EXPECT_THROW(systemd_listening_socket(), std::system_error);
}

}  // namespace
}  // namespace camstream
