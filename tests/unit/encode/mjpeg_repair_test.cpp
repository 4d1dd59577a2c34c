// repair_mjpeg on JPEGs written by TurboJPEG, made camera-like (no DHT, zero padding) or
// broken on purpose. Run under ASan/UBSan in the debug preset: every input, however broken,
// must stay within its buffers.
#include "encode/mjpeg_repair.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <vector>

#include "turbojpeg_helpers.hpp"

namespace camstream {
namespace {

using Bytes = std::vector<std::uint8_t>;

struct Segment {
  std::uint8_t marker;
  std::size_t start;  // at the FF
  std::size_t end;    // one past the segment
};

// The marker segments of a well-formed JPEG up to and including the first SOS.
std::vector<Segment> header_segments(const Bytes& jpeg) {
  std::vector<Segment> segments;
  std::size_t pos = 2;
  while (pos + 4 <= jpeg.size() && jpeg[pos] == 0xFF) {
    const std::size_t length = (std::size_t{jpeg[pos + 2]} << 8) | jpeg[pos + 3];
    segments.push_back({jpeg[pos + 1], pos, pos + 2 + length});
    if (jpeg[pos + 1] == 0xDA) break;
    pos += 2 + length;
  }
  return segments;
}

Bytes without_dht(const Bytes& jpeg) {
  Bytes out(jpeg.begin(), jpeg.begin() + 2);
  std::size_t rest = 2;
  for (const Segment& segment : header_segments(jpeg)) {
    if (segment.marker != 0xC4) {
      out.insert(out.end(), jpeg.begin() + static_cast<std::ptrdiff_t>(segment.start),
                 jpeg.begin() + static_cast<std::ptrdiff_t>(segment.end));
    }
    rest = segment.end;
  }
  out.insert(out.end(), jpeg.begin() + static_cast<std::ptrdiff_t>(rest), jpeg.end());
  return out;
}

std::size_t offset_of(const Bytes& jpeg, std::uint8_t marker) {
  for (const Segment& segment : header_segments(jpeg)) {
    if (segment.marker == marker) return segment.start;
  }
  ADD_FAILURE() << "no marker " << int{marker};
  return 0;
}

// Huffman tables by class/id (0x00 DC0, 0x10 AC0, ...) from the DHT segments of a JPEG.
std::map<int, Bytes> huffman_tables(std::span<const std::uint8_t> segment_bytes) {
  std::map<int, Bytes> tables;
  std::size_t pos = 4;  // after FF C4 and the length
  while (pos + 17 <= segment_bytes.size()) {
    std::size_t values = 0;
    for (int i = 1; i <= 16; ++i) values += segment_bytes[pos + i];
    tables[segment_bytes[pos]] =
        Bytes(segment_bytes.begin() + static_cast<std::ptrdiff_t>(pos + 1),
              segment_bytes.begin() + static_cast<std::ptrdiff_t>(pos + 17 + values));
    pos += 17 + values;
  }
  return tables;
}

struct Repaired {
  MjpegRepair result;
  Bytes bytes;
};

Repaired repair(const Bytes& in, std::size_t out_size) {
  Repaired repaired;
  repaired.bytes.resize(out_size);
  repaired.result = repair_mjpeg(in, repaired.bytes);
  repaired.bytes.resize(repaired.result.size);
  return repaired;
}

Repaired repair(const Bytes& in) {
  return repair(in, in.size() + kMjpegRepairGrowth);
}

class MjpegRepairTest : public ::testing::Test {
 protected:
  // The DHT segment the repair inserts before the frame header of camera_.
  Bytes inserted_segment() const {
    const Repaired repaired = repair(camera_);
    const std::size_t sof = offset_of(camera_, 0xC0);
    const auto begin = repaired.bytes.begin() + static_cast<std::ptrdiff_t>(sof);
    return Bytes(begin, begin + static_cast<std::ptrdiff_t>(kMjpegRepairGrowth));
  }

  Bytes original_ = test::make_jpeg(160, 120, TJSAMP_422);
  Bytes camera_ = without_dht(original_);
};

TEST_F(MjpegRepairTest, StandardTablesAreTheOnesLibjpegTurboWrites) {
  // Unoptimised libjpeg-turbo output carries exactly the Annex K tables. (libjpeg-turbo and
  // ffmpeg decode a JPEG without DHT by assuming these; browsers do not, hence the repair.)
  std::map<int, Bytes> expected;
  for (const Segment& segment : header_segments(original_)) {
    if (segment.marker != 0xC4) continue;
    auto tables = huffman_tables({original_.data() + segment.start, segment.end - segment.start});
    expected.insert(tables.begin(), tables.end());
  }
  ASSERT_EQ(expected.size(), 4u);
  const Bytes inserted = inserted_segment();
  ASSERT_EQ(inserted.at(0), 0xFF);
  ASSERT_EQ(inserted.at(1), 0xC4);
  EXPECT_EQ(huffman_tables(inserted), expected);
}

TEST_F(MjpegRepairTest, InsertsTablesBeforeTheFrameHeaderAndChangesNothingElse) {
  ASSERT_LT(camera_.size(), original_.size());
  const Repaired repaired = repair(camera_);
  ASSERT_EQ(repaired.result.status, MjpegStatus::ok);
  EXPECT_TRUE(repaired.result.inserted_huffman_tables);
  EXPECT_EQ(repaired.result.width, 160);
  EXPECT_EQ(repaired.result.height, 120);
  ASSERT_EQ(repaired.result.size, camera_.size() + kMjpegRepairGrowth);

  const std::size_t sof = offset_of(camera_, 0xC0);
  Bytes expected(camera_.begin(), camera_.begin() + static_cast<std::ptrdiff_t>(sof));
  const Bytes tables = inserted_segment();
  expected.insert(expected.end(), tables.begin(), tables.end());
  expected.insert(expected.end(), camera_.begin() + static_cast<std::ptrdiff_t>(sof),
                  camera_.end());
  EXPECT_EQ(repaired.bytes, expected);

  const auto decoded = test::decode_rgb(repaired.bytes);
  const auto reference = test::decode_rgb(original_);
  EXPECT_EQ(decoded.subsampling, TJSAMP_422);
  EXPECT_EQ(decoded.rgb, reference.rgb);  // the same picture, pixel for pixel
}

TEST_F(MjpegRepairTest, JpegWithTablesIsCopiedUnchanged) {
  for (int subsampling : {TJSAMP_420, TJSAMP_422, TJSAMP_444, TJSAMP_GRAY}) {
    const Bytes jpeg = test::make_jpeg(64, 48, subsampling);
    const Repaired repaired = repair(jpeg);
    ASSERT_EQ(repaired.result.status, MjpegStatus::ok) << to_string(repaired.result.status);
    EXPECT_FALSE(repaired.result.inserted_huffman_tables);
    EXPECT_EQ(repaired.bytes, jpeg);
  }
}

TEST_F(MjpegRepairTest, TrailingZeroPaddingIsTrimmed) {
  for (std::size_t padding : {1u, 2u, 3u, 4096u}) {
    Bytes padded = original_;
    padded.resize(padded.size() + padding, 0x00);
    const Repaired repaired = repair(padded);
    ASSERT_EQ(repaired.result.status, MjpegStatus::ok);
    EXPECT_EQ(repaired.bytes, original_);
  }
}

TEST_F(MjpegRepairTest, RestartMarkersAndStuffedBytesStayInTheScan) {
  // TurboJPEG's compressor reads TJ_RESTART (restart interval in MCU rows).
  ::setenv("TJ_RESTART", "1", 1);
  const Bytes restarts = test::make_jpeg(256, 64, TJSAMP_444, 0, /*noise=*/true);
  ::unsetenv("TJ_RESTART");
  const std::size_t scan = offset_of(restarts, 0xDA);
  int restart_markers = 0;
  int stuffed = 0;
  for (std::size_t i = scan; i + 1 < restarts.size(); ++i) {
    if (restarts[i] != 0xFF) continue;
    restart_markers += restarts[i + 1] >= 0xD0 && restarts[i + 1] <= 0xD7;
    stuffed += restarts[i + 1] == 0x00;
  }
  ASSERT_GT(restart_markers, 0);
  ASSERT_GT(stuffed, 0);
  const Bytes camera = without_dht(restarts);
  const Repaired repaired = repair(camera);
  ASSERT_EQ(repaired.result.status, MjpegStatus::ok);
  EXPECT_EQ(test::decode_rgb(repaired.bytes).rgb, test::decode_rgb(restarts).rgb);
}

TEST_F(MjpegRepairTest, EveryTruncationIsRejected) {
  for (std::size_t cut = 0; cut < camera_.size(); ++cut) {
    Bytes truncated(camera_.begin(), camera_.begin() + static_cast<std::ptrdiff_t>(cut));
    truncated.resize(truncated.size() + 64, 0x00);  // as a camera pads a short transfer
    const Repaired repaired = repair(truncated);
    ASSERT_NE(repaired.result.status, MjpegStatus::ok) << "cut at " << cut;
    EXPECT_EQ(repaired.result.size, 0u);
  }
}

TEST_F(MjpegRepairTest, RejectsTinyAndEmptyInput) {
  EXPECT_EQ(repair({}).result.status, MjpegStatus::no_soi);
  EXPECT_EQ(repair({0xFF}).result.status, MjpegStatus::no_soi);
  EXPECT_EQ(repair({0xFF, 0xD8}).result.status, MjpegStatus::no_eoi);
  EXPECT_EQ(repair({0xFF, 0xD8, 0xD9}).result.status, MjpegStatus::no_eoi);
  EXPECT_EQ(repair({0xFF, 0xD8, 0xFF, 0xD9}).result.status, MjpegStatus::no_sos);
  EXPECT_EQ(repair({0x00, 0x00, 0x00}).result.status, MjpegStatus::no_soi);
  EXPECT_EQ(repair_mjpeg({}, {}).status, MjpegStatus::no_soi);
}

TEST_F(MjpegRepairTest, RejectsSegmentLengthsPastTheEnd) {
  for (std::uint16_t length : {0xFFFF, 0x0000, 0x0001}) {
    Bytes broken = camera_;
    const std::size_t dqt = offset_of(broken, 0xDB);
    broken[dqt + 2] = static_cast<std::uint8_t>(length >> 8);
    broken[dqt + 3] = static_cast<std::uint8_t>(length & 0xFF);
    EXPECT_EQ(repair(broken).result.status, MjpegStatus::segment_past_end) << length;
  }
  // A segment that would swallow the EOI.
  const Bytes tiny{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xFF, 0xD9};
  EXPECT_EQ(repair(tiny).result.status, MjpegStatus::segment_past_end);
}

TEST_F(MjpegRepairTest, RejectsMissingScanTablesOrFrameHeader) {
  const std::size_t sos = offset_of(camera_, 0xDA);
  Bytes no_scan(camera_.begin(), camera_.begin() + static_cast<std::ptrdiff_t>(sos));
  no_scan.insert(no_scan.end(), {0xFF, 0xD9});
  EXPECT_EQ(repair(no_scan).result.status, MjpegStatus::no_sos);

  Bytes no_sof = camera_;
  const std::size_t sof = offset_of(no_sof, 0xC0);
  no_sof[sof + 1] = 0xE5;  // the frame header becomes an APP5 segment
  EXPECT_EQ(repair(no_sof).result.status, MjpegStatus::no_sof);

  Bytes no_dqt = camera_;
  for (const Segment& segment : header_segments(camera_)) {
    if (segment.marker == 0xDB) no_dqt[segment.start + 1] = 0xE6;
  }
  EXPECT_EQ(repair(no_dqt).result.status, MjpegStatus::no_dqt);
}

TEST_F(MjpegRepairTest, RejectsProgressiveAndBrokenFrameHeaders) {
  const Bytes progressive = test::make_jpeg(64, 48, TJSAMP_420, TJFLAG_PROGRESSIVE);
  EXPECT_EQ(repair(progressive).result.status, MjpegStatus::not_baseline);

  Bytes zero_width = camera_;
  const std::size_t sof = offset_of(zero_width, 0xC0);
  zero_width[sof + 7] = 0;
  zero_width[sof + 8] = 0;
  EXPECT_EQ(repair(zero_width).result.status, MjpegStatus::bad_sof);

  Bytes many_components = camera_;
  many_components[sof + 9] = 200;
  EXPECT_EQ(repair(many_components).result.status, MjpegStatus::bad_sof);

  Bytes twelve_bit = camera_;
  twelve_bit[sof + 4] = 12;
  EXPECT_EQ(repair(twelve_bit).result.status, MjpegStatus::not_baseline);
}

TEST_F(MjpegRepairTest, RejectsDataAfterTheEnd) {
  Bytes doubled = original_;
  doubled.insert(doubled.end(), original_.begin(), original_.end());
  EXPECT_EQ(repair(doubled).result.status, MjpegStatus::data_after_eoi);
  Bytes trailing = original_;
  trailing.push_back(0x42);
  EXPECT_EQ(repair(trailing).result.status, MjpegStatus::no_eoi);
}

TEST_F(MjpegRepairTest, NeverWritesPastASmallOutput) {
  const std::size_t needed = camera_.size() + kMjpegRepairGrowth;
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, needed / 2, needed - 1}) {
    Bytes out(needed + 16, 0xA5);
    const MjpegRepair result = repair_mjpeg(camera_, std::span(out).first(size));
    EXPECT_EQ(result.status, MjpegStatus::output_too_small);
    EXPECT_TRUE(std::all_of(out.begin() + static_cast<std::ptrdiff_t>(size), out.end(),
                            [](std::uint8_t byte) { return byte == 0xA5; }));
  }
  EXPECT_EQ(repair(camera_, needed).result.status, MjpegStatus::ok);
}

TEST_F(MjpegRepairTest, RandomGarbageIsRejected) {
  std::mt19937 random(8);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    Bytes garbage(static_cast<std::size_t>(round % 300));
    for (auto& value : garbage) value = static_cast<std::uint8_t>(byte(random));
    if (round % 2 == 0 && garbage.size() >= 4) {  // framed like a JPEG, random inside
      garbage[0] = 0xFF;
      garbage[1] = 0xD8;
      garbage[garbage.size() - 2] = 0xFF;
      garbage.back() = 0xD9;
    }
    EXPECT_NE(repair(garbage).result.status, MjpegStatus::ok) << "round " << round;
  }
}

TEST_F(MjpegRepairTest, MutatedJpegsStayInBounds) {
  // Every byte of a small camera JPEG set to a few telling values: whatever the verdict, the
  // function stays inside its buffers (ASan) and an accepted result fits its promise.
  const Bytes small = without_dht(test::make_jpeg(32, 16, TJSAMP_422));
  for (std::size_t at = 0; at < small.size(); ++at) {
    for (std::uint8_t value : {0x00, 0x01, 0x7F, 0xC4, 0xD9, 0xDA, 0xFF}) {
      Bytes mutated = small;
      mutated[at] = value;
      const Repaired repaired = repair(mutated);
      if (repaired.result.status == MjpegStatus::ok) {
        EXPECT_LE(repaired.result.size, mutated.size() + kMjpegRepairGrowth);
        EXPECT_GT(repaired.result.width, 0);
      }
    }
  }
}

}  // namespace
}  // namespace camstream
