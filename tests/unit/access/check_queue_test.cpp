// The per-address queue of password checks: each address gets its share and its turn.
#include "access/check_queue.hpp"

#include <gtest/gtest.h>

namespace camstream::access {
namespace {

TEST(CheckQueue, AddressesTakeTurns) {
  CheckQueue<int> queue(4, 64);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(queue.push("flood", i));
  EXPECT_FALSE(queue.push("flood", 99));  // its share is full
  EXPECT_TRUE(queue.push("alice", 100));
  EXPECT_TRUE(queue.push("bob", 200));
  EXPECT_EQ(queue.queued("flood"), 4u);
  std::vector<int> order;
  while (auto job = queue.pop()) order.push_back(*job);
  EXPECT_EQ(order, (std::vector<int>{0, 100, 200, 1, 2, 3}));
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_EQ(queue.queued("flood"), 0u);
}

TEST(CheckQueue, TheAddressServedLastWaitsForTheOthers) {
  CheckQueue<int> queue(4, 64);
  queue.push("flood", 0);
  EXPECT_EQ(queue.pop(), 0);  // running now
  for (int i = 1; i < 5; ++i) queue.push("flood", i);
  queue.push("alice", 100);  // queued after the flood's next four
  EXPECT_EQ(queue.pop(), 100);
  EXPECT_EQ(queue.pop(), 1);
}

TEST(CheckQueue, TheWholeQueueIsBounded) {
  CheckQueue<int> queue(4, 10);
  int pushed = 0;
  for (int i = 0; i < 100; ++i) pushed += queue.push("10.0.0." + std::to_string(i), i);
  EXPECT_EQ(pushed, 10);
  EXPECT_EQ(queue.size(), 10u);
}

}  // namespace
}  // namespace camstream::access
