// Walks the JPEG marker structure once, bounds-checked at every step, then copies.
#include "mjpeg_repair.hpp"

#include <array>
#include <cstring>

namespace camstream {

namespace {

// JPEG Annex K.3, tables K.3 to K.6: code counts per length (1..16 bits), then the values.
constexpr std::array<std::uint8_t, 16> kDcLumaBits{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
constexpr std::array<std::uint8_t, 16> kDcChromaBits{0, 3, 1, 1, 1, 1, 1, 1,
                                                     1, 1, 1, 0, 0, 0, 0, 0};
constexpr std::array<std::uint8_t, 12> kDcValues{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
constexpr std::array<std::uint8_t, 16> kAcLumaBits{0, 2, 1, 3, 3, 2, 4, 3,
                                                   5, 5, 4, 4, 0, 0, 1, 0x7d};
constexpr std::array<std::uint8_t, 162> kAcLumaValues{
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61,
    0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52,
    0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25,
    0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45,
    0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64,
    0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
    0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
    0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
    0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3,
    0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8,
    0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};
constexpr std::array<std::uint8_t, 16> kAcChromaBits{0, 2, 1, 2, 4, 4, 3, 4,
                                                     7, 5, 4, 4, 0, 1, 2, 0x77};
constexpr std::array<std::uint8_t, 162> kAcChromaValues{
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61,
    0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33,
    0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18,
    0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44,
    0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63,
    0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
    0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
    0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
    0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};

static_assert(kMjpegRepairGrowth ==
              4 + 4 * 17 + 2 * kDcValues.size() + kAcLumaValues.size() + kAcChromaValues.size());

// One DHT segment: FF C4, length, then per table its class/id byte, 16 counts and values.
constexpr std::array<std::uint8_t, kMjpegRepairGrowth> make_huffman_segment() {
  std::array<std::uint8_t, kMjpegRepairGrowth> segment{};
  std::size_t at = 0;
  segment[at++] = 0xFF;
  segment[at++] = 0xC4;
  constexpr std::size_t length = kMjpegRepairGrowth - 2;
  segment[at++] = static_cast<std::uint8_t>(length >> 8);
  segment[at++] = static_cast<std::uint8_t>(length & 0xFF);
  auto table = [&](std::uint8_t class_and_id, const auto& bits, const auto& values) {
    segment[at++] = class_and_id;
    for (auto count : bits) segment[at++] = count;
    for (auto value : values) segment[at++] = value;
  };
  table(0x00, kDcLumaBits, kDcValues);
  table(0x10, kAcLumaBits, kAcLumaValues);
  table(0x01, kDcChromaBits, kDcValues);
  table(0x11, kAcChromaBits, kAcChromaValues);
  return segment;
}

constexpr auto kHuffmanSegment = make_huffman_segment();

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

constexpr bool is_restart(std::uint8_t marker) {
  return marker >= 0xD0 && marker <= 0xD7;
}

// SOF markers other than the two baseline/extended sequential Huffman ones (and DAC).
constexpr bool is_other_frame_header(std::uint8_t marker) {
  return (marker >= 0xC2 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8);
}

std::size_t read_u16(const std::uint8_t* at) {
  return (static_cast<std::size_t>(at[0]) << 8) | at[1];
}

MjpegRepair failed(MjpegStatus status) {
  MjpegRepair result;
  result.status = status;
  return result;
}

// The position of the marker that ends the entropy-coded data starting at `pos` (its FF).
// Within the data an FF is followed by 00 (a stuffed FF), a restart marker or more FFs.
// The caller guarantees that data[end - 1] is not FF (it is EOI's D9), so data[at + 1] is
// always readable.
std::size_t end_of_scan(const std::uint8_t* data, std::size_t pos, std::size_t end) {
  while (pos < end) {
    const void* found = std::memchr(data + pos, 0xFF, end - pos);
    if (found == nullptr) return end;
    std::size_t at = static_cast<std::size_t>(static_cast<const std::uint8_t*>(found) - data);
    while (data[at + 1] == 0xFF) ++at;  // fill bytes before a marker
    const std::uint8_t next = data[at + 1];
    if (next != 0x00 && !is_restart(next)) return at;
    pos = at + 2;
  }
  return end;
}

}  // namespace

std::string_view to_string(MjpegStatus status) {
  switch (status) {
    case MjpegStatus::ok:
      return "ok";
    case MjpegStatus::no_soi:
      return "no start-of-image marker";
    case MjpegStatus::no_eoi:
      return "no end-of-image marker (truncated)";
    case MjpegStatus::bad_marker:
      return "unexpected byte or marker";
    case MjpegStatus::segment_past_end:
      return "a marker segment runs past the end";
    case MjpegStatus::bad_sof:
      return "malformed or repeated frame header";
    case MjpegStatus::not_baseline:
      return "not a baseline JPEG";
    case MjpegStatus::no_sof:
      return "scan before the frame header";
    case MjpegStatus::no_sos:
      return "no scan";
    case MjpegStatus::no_dqt:
      return "scan before any quantisation table";
    case MjpegStatus::data_after_eoi:
      return "data after the end-of-image marker";
    case MjpegStatus::output_too_small:
      return "JPEG larger than the output buffer";
  }
  return "unknown";
}

MjpegRepair repair_mjpeg(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) noexcept {
  const std::uint8_t* data = in.data();
  std::size_t end = in.size();
  while (end > 0 && data[end - 1] == 0x00) --end;  // UVC padding
  if (end < 2 || data[0] != 0xFF || data[1] != 0xD8) return failed(MjpegStatus::no_soi);
  if (end < 4 || data[end - 2] != 0xFF || data[end - 1] != 0xD9) {
    return failed(MjpegStatus::no_eoi);
  }
  // From here data[end - 2, end) is EOI, so no segment may reach into it.
  const std::size_t body_end = end - 2;

  std::size_t pos = 2;
  std::size_t sof_at = kNone;
  int width = 0;
  int height = 0;
  bool has_dqt = false;
  bool has_dht = false;
  bool has_scan = false;
  for (;;) {
    if (pos >= end || data[pos] != 0xFF) return failed(MjpegStatus::bad_marker);
    const std::size_t marker_at = pos;
    while (data[pos] == 0xFF) ++pos;  // stops at the latest at end - 1 (D9)
    const std::uint8_t marker = data[pos++];
    if (marker == 0xD9) {
      if (pos != end) return failed(MjpegStatus::data_after_eoi);
      if (!has_scan) return failed(MjpegStatus::no_sos);
      break;
    }
    if (marker == 0x00 || marker == 0x01 || marker == 0xD8 || is_restart(marker) ||
        (marker >= 0x02 && marker <= 0xBF) || marker == 0xC8) {
      return failed(MjpegStatus::bad_marker);
    }
    if (pos > body_end || body_end - pos < 2) return failed(MjpegStatus::segment_past_end);
    const std::size_t length = read_u16(data + pos);
    if (length < 2 || length > body_end - pos) return failed(MjpegStatus::segment_past_end);
    const std::uint8_t* segment = data + pos + 2;
    const std::size_t segment_size = length - 2;

    if (marker == 0xC0 || marker == 0xC1) {
      if (sof_at != kNone || segment_size < 6) return failed(MjpegStatus::bad_sof);
      const std::size_t components = segment[5];
      if (segment[0] != 8) return failed(MjpegStatus::not_baseline);  // 12-bit extended
      height = static_cast<int>(read_u16(segment + 1));
      width = static_cast<int>(read_u16(segment + 3));
      if (width == 0 || height == 0 || components < 1 || components > 4 ||
          segment_size != 6 + 3 * components) {
        return failed(MjpegStatus::bad_sof);
      }
      sof_at = marker_at;
    } else if (is_other_frame_header(marker)) {
      return failed(MjpegStatus::not_baseline);
    } else if (marker == 0xC4) {
      if (!has_scan) has_dht = true;
    } else if (marker == 0xDB) {
      has_dqt = true;
    } else if (marker == 0xDA) {
      if (sof_at == kNone) return failed(MjpegStatus::no_sof);
      if (!has_dqt) return failed(MjpegStatus::no_dqt);
      if (segment_size < 1) return failed(MjpegStatus::bad_marker);
      const std::size_t scan_components = segment[0];
      if (scan_components < 1 || scan_components > 4 || segment_size != 4 + 2 * scan_components) {
        return failed(MjpegStatus::bad_marker);
      }
      has_scan = true;
      pos = end_of_scan(data, pos + length, end);
      continue;
    }
    pos += length;
  }

  const bool insert_tables = !has_dht;
  const std::size_t needed = end + (insert_tables ? kHuffmanSegment.size() : 0);
  if (out.size() < needed) return failed(MjpegStatus::output_too_small);
  std::uint8_t* to = out.data();
  if (insert_tables) {
    std::memcpy(to, data, sof_at);
    std::memcpy(to + sof_at, kHuffmanSegment.data(), kHuffmanSegment.size());
    std::memcpy(to + sof_at + kHuffmanSegment.size(), data + sof_at, end - sof_at);
  } else {
    std::memcpy(to, data, end);
  }
  MjpegRepair result;
  result.status = MjpegStatus::ok;
  result.size = needed;
  result.width = width;
  result.height = height;
  result.inserted_huffman_tables = insert_tables;
  return result;
}

}  // namespace camstream
