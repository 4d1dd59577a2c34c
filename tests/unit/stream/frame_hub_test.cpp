#include "camstream/stream/frame_hub.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "camstream/encode/encoded_frame.hpp"
#include "camstream/encode/frame_pool.hpp"
#include "camstream/stream/metrics.hpp"

namespace camstream {
namespace {

TEST(FramePool, ReusesAFrameOnceNobodyHoldsIt) {
  FramePool pool(1024);
  auto first = pool.acquire();
  const auto* first_address = first.get();
  EXPECT_EQ(first->capacity, 1024u);
  FramePtr held = first;  // a viewer still holds it
  first.reset();
  auto second = pool.acquire();
  EXPECT_NE(second.get(), first_address);
  EXPECT_EQ(pool.size(), 2u);
  held.reset();
  second.reset();
  auto third = pool.acquire();
  EXPECT_EQ(pool.size(), 2u);  // no new frame: a free one came back
}

TEST(FramePool, SteadyStateAllocatesNothingNew) {
  FramePool pool(64);
  FrameHub hub;
  for (int i = 0; i < 100; ++i) hub.publish(pool.acquire());
  // The hub holds the newest, so the pool alternates between two frames.
  EXPECT_EQ(pool.size(), 2u);
}

TEST(FrameHub, KeepsTheNewestFrame) {
  FrameHub hub;
  EXPECT_EQ(hub.latest(), nullptr);
  auto a = std::make_shared<EncodedFrame>();
  a->sequence = 1;
  auto b = std::make_shared<EncodedFrame>();
  b->sequence = 2;
  hub.publish(a);
  hub.publish(b);
  ASSERT_NE(hub.latest(), nullptr);
  EXPECT_EQ(hub.latest()->sequence, 2u);
}

TEST(FrameHub, EveryListenerSharesTheSameBytes) {
  FrameHub hub;
  std::vector<FramePtr> seen_by_a, seen_by_b;
  hub.add_listener([&](const FramePtr& frame) { seen_by_a.push_back(frame); });
  hub.add_listener([&](const FramePtr& frame) { seen_by_b.push_back(frame); });
  auto frame = std::make_shared<EncodedFrame>();
  frame->storage = std::make_unique<std::uint8_t[]>(16);
  frame->capacity = 16;
  frame->jpeg_size = 16;
  hub.publish(frame);
  ASSERT_EQ(seen_by_a.size(), 1u);
  ASSERT_EQ(seen_by_b.size(), 1u);
  // No copy per viewer: both see the very same buffer.
  EXPECT_EQ(seen_by_a[0]->jpeg().data(), frame->jpeg().data());
  EXPECT_EQ(seen_by_b[0]->jpeg().data(), frame->jpeg().data());
}

TEST(FrameHub, PublishFromAnotherThread) {
  FrameHub hub;
  std::atomic<int> seen{0};
  hub.add_listener([&](const FramePtr&) { ++seen; });
  std::thread producer([&] {
    for (int i = 0; i < 1000; ++i) hub.publish(std::make_shared<EncodedFrame>());
  });
  for (int i = 0; i < 1000; ++i) (void)hub.latest();
  producer.join();
  EXPECT_EQ(seen.load(), 1000);
}

TEST(Metrics, EncodeHistogramCountsIntoBuckets) {
  Metrics metrics;
  metrics.observe_encode(std::chrono::microseconds(500));  // <= 1 ms
  metrics.observe_encode(std::chrono::milliseconds(3));    // <= 5 ms
  metrics.observe_encode(std::chrono::seconds(2));         // +Inf
  EXPECT_EQ(metrics.encode_buckets[0].load(), 1u);
  EXPECT_EQ(metrics.encode_buckets[2].load(), 1u);
  EXPECT_EQ(metrics.encode_buckets.back().load(), 1u);
  EXPECT_EQ(metrics.frames_encoded.load(), 3u);
  EXPECT_EQ(metrics.encode_nanoseconds.load(), 2'003'500'000u);
}

}  // namespace
}  // namespace camstream
