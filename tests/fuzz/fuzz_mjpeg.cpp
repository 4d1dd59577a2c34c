// A camera's MJPEG frame through the passthrough check and DHT repair (repair_mjpeg), then,
// when it is accepted, through TurboJPEG as a viewer would decode it.
#include <turbojpeg.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "encode/mjpeg_repair.hpp"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

// Decoding is checked up to this size; a forged frame header may claim 65535x65535.
constexpr long kMaxDecodedPixels = 1L << 20;

struct TjDeleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};

void decode(const std::vector<std::uint8_t>& jpeg, const camstream::MjpegRepair& repair) {
  static const std::unique_ptr<void, TjDeleter> decoder(tjInitDecompress());
  int width = 0;
  int height = 0;
  int subsampling = 0;
  int colorspace = 0;
  if (tjDecompressHeader3(decoder.get(), jpeg.data(), static_cast<unsigned long>(repair.size),
                          &width, &height, &subsampling, &colorspace) != 0) {
    return;
  }
  // The size the repair reports is the size the decoder sees.
  check(width == repair.width && height == repair.height);
  if (static_cast<long>(width) * height > kMaxDecodedPixels) return;
  std::vector<unsigned char> pixels(static_cast<std::size_t>(width) * height * 3);
  (void)tjDecompress2(decoder.get(), jpeg.data(), static_cast<unsigned long>(repair.size),
                      pixels.data(), width, 0, height, TJPF_RGB, 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  // Exactly the documented bound, so AddressSanitizer sees any write past it.
  std::vector<std::uint8_t> out(size + camstream::kMjpegRepairGrowth);
  const camstream::MjpegRepair repair = camstream::repair_mjpeg(in, out);
  check(!camstream::to_string(repair.status).empty());
  if (repair.status != camstream::MjpegStatus::ok) {
    check(repair.size == 0);
    return 0;
  }
  check(repair.size >= 4 && repair.size <= out.size());
  check(repair.width > 0 && repair.height > 0);
  check(out[0] == 0xFF && out[1] == 0xD8);
  check(out[repair.size - 2] == 0xFF && out[repair.size - 1] == 0xD9);
  // Only the DHT segment is added; everything else is the input without its zero padding.
  std::size_t trimmed = size;
  while (trimmed > 0 && data[trimmed - 1] == 0) --trimmed;
  check(repair.size ==
        trimmed + (repair.inserted_huffman_tables ? camstream::kMjpegRepairGrowth : 0));
  // The repaired frame passes again, unchanged and without a second insertion.
  std::vector<std::uint8_t> again(repair.size + camstream::kMjpegRepairGrowth);
  const auto second = camstream::repair_mjpeg(std::span(out.data(), repair.size), again);
  check(second.status == camstream::MjpegStatus::ok && !second.inserted_huffman_tables);
  check(second.size == repair.size && std::memcmp(again.data(), out.data(), repair.size) == 0);
  // One byte less room than the repaired frame needs is refused, never overrun.
  std::vector<std::uint8_t> tight(repair.size - 1);
  check(camstream::repair_mjpeg(in, tight).status == camstream::MjpegStatus::output_too_small);
  decode(out, repair);
  return 0;
}
