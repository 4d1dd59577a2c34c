// Checking and repairing a camera's MJPEG frame so that it can be passed on without
// re-encoding (docs/api.md, section "Frames and sources").
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace camstream {

enum class MjpegStatus {
  ok,
  no_soi,            // does not start with FF D8 (includes empty and 1-byte input)
  no_eoi,            // no FF D9 at the end once trailing zero bytes are trimmed: truncated
  bad_marker,        // a byte where a marker must be is not FF, or a marker not allowed there
  segment_past_end,  // a marker segment's length runs past the end of the data
  bad_sof,           // a malformed frame header, or a second one
  not_baseline,      // the frame header is not SOF0/SOF1 (progressive, lossless, arithmetic)
  no_sof,            // a scan starts before any frame header
  no_sos,            // the image ends without a scan
  no_dqt,            // a scan starts before any quantisation table
  data_after_eoi,    // an EOI before the end, followed by more than zero padding
  output_too_small,  // `out` cannot hold the repaired JPEG
};

std::string_view to_string(MjpegStatus status);

struct MjpegRepair {
  MjpegStatus status = MjpegStatus::no_soi;
  std::size_t size = 0;  // bytes written to `out` (0 unless ok)
  int width = 0;         // from the frame header (0 unless ok)
  int height = 0;
  bool inserted_huffman_tables = false;
};

// The bytes repair_mjpeg adds at most: one DHT segment holding the four standard Huffman
// tables of JPEG Annex K.3 (the ones ffmpeg and ustreamer insert), marker included.
inline constexpr std::size_t kMjpegRepairGrowth = 420;

// Checks a camera JPEG and writes it, repaired, into `out`.
//
// Contract (a fuzz target relies on it):
// - any `in`, of any size and content, is accepted (`in` and `out` must not overlap); the function
// reads only in[0, in.size())
//   and writes only out[0, result.size); it never throws, allocates or keeps state;
// - trailing zero bytes (UVC cameras pad their buffers) are trimmed; the data must then be
//   SOI, marker segments whose lengths stay inside the data, an SOF0/SOF1 frame header, a
//   DQT, a scan (SOS plus its entropy-coded data), optionally more segments and scans, and
//   EOI as the last two bytes;
// - when no DHT segment comes before the first SOS (as the MJPEG/AVI1 convention allows),
//   the standard tables are inserted just before the frame header; nothing else changes:
//   every other byte is copied as it was, so out.size() >= in.size() + kMjpegRepairGrowth
//   always suffices;
// - on any other status nothing useful is in `out` (it may have been written to).
// It checks the structure, not the entropy-coded data: a picture with damaged scan data but
// intact markers decodes with artefacts, as it would from any streamer.
MjpegRepair repair_mjpeg(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) noexcept;

}  // namespace camstream
