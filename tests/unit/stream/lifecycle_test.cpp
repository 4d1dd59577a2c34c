#include "camstream/stream/lifecycle.hpp"

#include <gtest/gtest.h>

#include <set>

namespace camstream {
namespace {

using namespace std::chrono_literals;
using State = CaptureState;

class LifecycleTest : public ::testing::Test {
 protected:
  Lifecycle make(bool always_on = false, Lifecycle::Clock::duration idle = 5s) {
    Lifecycle::Settings settings;
    settings.always_on = always_on;
    settings.idle_timeout = idle;
    settings.first_retry = 1s;
    settings.max_retry = 8s;
    return Lifecycle(settings);
  }
  Lifecycle::TimePoint now{std::chrono::hours(1)};  // the fake clock
};

TEST_F(LifecycleTest, StartsIdleWithoutDemand) {
  auto life = make();
  EXPECT_EQ(life.state(), State::idle);
  EXPECT_FALSE(life.source_should_run());
  EXPECT_FALSE(life.next_deadline());
}

TEST_F(LifecycleTest, DemandStartsCaptureAndFirstFrameStreams) {
  auto life = make();
  life.set_demand(true, now);
  EXPECT_EQ(life.state(), State::starting);
  EXPECT_TRUE(life.source_should_run());
  life.source_started(now);
  EXPECT_EQ(life.state(), State::streaming);
}

TEST_F(LifecycleTest, IdleTimeoutReleasesAfterLastDemandEnds) {
  auto life = make(false, 5s);
  life.set_demand(true, now);
  life.source_started(now);
  life.set_demand(false, now);
  EXPECT_EQ(life.state(), State::streaming);
  ASSERT_TRUE(life.next_deadline());
  EXPECT_EQ(*life.next_deadline(), now + 5s);
  life.tick(now + 4999ms);
  EXPECT_EQ(life.state(), State::streaming);
  life.tick(now + 5s);
  EXPECT_EQ(life.state(), State::idle);
  EXPECT_FALSE(life.source_should_run());
}

TEST_F(LifecycleTest, DemandReturningCancelsTheIdleTimeout) {
  auto life = make(false, 5s);
  life.set_demand(true, now);
  life.source_started(now);
  life.set_demand(false, now);
  life.set_demand(true, now + 3s);
  EXPECT_FALSE(life.next_deadline());
  life.tick(now + 10s);
  EXPECT_EQ(life.state(), State::streaming);
}

TEST_F(LifecycleTest, ZeroIdleTimeoutReleasesAtOnce) {
  auto life = make(false, 0s);
  life.set_demand(true, now);
  life.source_started(now);
  life.set_demand(false, now);
  EXPECT_EQ(life.state(), State::idle);
}

TEST_F(LifecycleTest, StopOverridesDemandUntilStart) {
  auto life = make();
  life.set_demand(true, now);
  life.source_started(now);
  EXPECT_TRUE(life.command_stop(now));
  EXPECT_EQ(life.state(), State::stopped);
  EXPECT_FALSE(life.source_should_run());
  life.set_demand(false, now + 1s);
  life.set_demand(true, now + 2s);  // a new viewer does not restart it
  life.tick(now + 60s);
  EXPECT_EQ(life.state(), State::stopped);
  life.command_start(now + 61s);
  EXPECT_EQ(life.state(), State::starting);
  life.source_started(now + 61s);
  EXPECT_EQ(life.state(), State::streaming);
  EXPECT_FALSE(life.next_deadline());  // demand is still there
}

TEST_F(LifecycleTest, StartWithoutDemandRunsUntilTheIdleTimeout) {
  auto life = make(false, 5s);
  life.command_start(now);
  EXPECT_EQ(life.state(), State::starting);
  life.source_started(now + 100ms);
  ASSERT_TRUE(life.next_deadline());
  life.tick(now + 5s);
  EXPECT_EQ(life.state(), State::idle);
}

TEST_F(LifecycleTest, StartWhileStreamingChangesNothing) {
  auto life = make();
  life.set_demand(true, now);
  life.source_started(now);
  life.command_start(now + 1s);
  EXPECT_EQ(life.state(), State::streaming);
}

TEST_F(LifecycleTest, AlwaysOnStartsWithoutDemandAndRefusesStop) {
  auto life = make(true);
  EXPECT_EQ(life.state(), State::starting);
  life.source_started(now);
  life.set_demand(true, now);
  life.set_demand(false, now + 1s);
  life.tick(now + 1h);
  EXPECT_EQ(life.state(), State::streaming);
  EXPECT_FALSE(life.command_stop(now + 1h));
  EXPECT_EQ(life.state(), State::streaming);
}

TEST_F(LifecycleTest, FailureRetriesWithDoublingBackOff) {
  auto life = make();
  life.set_demand(true, now);
  life.source_failed("camera unplugged", now);
  EXPECT_EQ(life.state(), State::error);
  EXPECT_EQ(life.error(), "camera unplugged");
  EXPECT_FALSE(life.source_should_run());
  ASSERT_TRUE(life.next_deadline());
  EXPECT_EQ(*life.next_deadline(), now + 1s);
  life.tick(now + 999ms);
  EXPECT_EQ(life.state(), State::error);
  life.tick(now + 1s);
  EXPECT_EQ(life.state(), State::starting);
  life.source_failed("still unplugged", now + 1s);
  EXPECT_EQ(*life.next_deadline(), now + 3s);  // 2 s after the second failure
  life.tick(now + 3s);
  life.source_failed("still unplugged", now + 3s);
  EXPECT_EQ(*life.next_deadline(), now + 7s);  // 4 s
  life.tick(now + 7s);
  life.source_failed("still unplugged", now + 7s);
  EXPECT_EQ(*life.next_deadline(), now + 15s);  // 8 s, the maximum here
  life.tick(now + 15s);
  life.source_failed("still unplugged", now + 15s);
  EXPECT_EQ(*life.next_deadline(), now + 23s);  // capped at 8 s
}

TEST_F(LifecycleTest, RecoveryStreamsAgainAndResetsBackOff) {
  auto life = make();
  life.set_demand(true, now);
  life.source_failed("gone", now);
  life.tick(now + 1s);
  life.source_started(now + 1s);
  EXPECT_EQ(life.state(), State::streaming);
  EXPECT_TRUE(life.error().empty());
  life.source_failed("gone again", now + 10s);
  EXPECT_EQ(*life.next_deadline(), now + 11s);  // back to the first delay
}

TEST_F(LifecycleTest, ErrorWithoutDemandGoesIdleAtRetryTime) {
  auto life = make();
  life.set_demand(true, now);
  life.source_failed("gone", now);
  life.set_demand(false, now + 100ms);
  life.tick(now + 1s);
  EXPECT_EQ(life.state(), State::idle);
  EXPECT_TRUE(life.error().empty());
}

TEST_F(LifecycleTest, StopDuringErrorStops) {
  auto life = make();
  life.set_demand(true, now);
  life.source_failed("gone", now);
  EXPECT_TRUE(life.command_stop(now));
  EXPECT_EQ(life.state(), State::stopped);
  EXPECT_FALSE(life.next_deadline());
}

TEST_F(LifecycleTest, LateFailureAfterStopIsIgnored) {
  auto life = make();
  life.set_demand(true, now);
  life.source_started(now);
  life.command_stop(now);
  life.source_failed("late", now);
  EXPECT_EQ(life.state(), State::stopped);
}

TEST(CaptureStateNames, MatchTheProtocol) {
  EXPECT_EQ(to_string(State::idle), "idle");
  EXPECT_EQ(to_string(State::starting), "starting");
  EXPECT_EQ(to_string(State::streaming), "streaming");
  EXPECT_EQ(to_string(State::stopped), "stopped");
  EXPECT_EQ(to_string(State::error), "error");
}

}  // namespace
}  // namespace camstream

namespace camstream {
namespace {

// Retries are stretched by 0..retry_jitter of their delay, and spread: not all the same.
TEST(LifecycleJitter, RetryDelaysDoubleWithinTheJitter) {
  using namespace std::chrono_literals;
  Lifecycle::Settings settings;
  settings.always_on = true;
  settings.first_retry = 500ms;
  settings.max_retry = 10s;
  settings.retry_jitter = 0.2;
  std::set<Lifecycle::Clock::duration::rep> first_delays;
  for (int run = 0; run < 50; ++run) {
    Lifecycle life(settings);
    Lifecycle::TimePoint now{std::chrono::hours(1) + std::chrono::milliseconds(run * 7919)};
    std::chrono::milliseconds base = 500ms;
    for (int failure = 0; failure < 8; ++failure) {
      life.source_failed("upstream closed", now);
      ASSERT_EQ(life.state(), CaptureState::error);
      const auto delay = *life.next_deadline() - now;
      EXPECT_GE(delay, base);
      EXPECT_LE(delay, base * 1.2);
      if (failure == 0) first_delays.insert(delay.count());
      now += delay;
      life.tick(now);
      ASSERT_EQ(life.state(), CaptureState::starting);
      base = std::min<std::chrono::milliseconds>(base * 2, 10s);
    }
  }
  EXPECT_GT(first_delays.size(), 10u);
}

}  // namespace
}  // namespace camstream
