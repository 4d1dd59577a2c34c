// The relay's multipart reader (src/capture/relay) on any upstream bytes: the first byte picks
// where the input is cut into reads. Whatever the cuts, the parts and the outcome must be those
// of one whole read, and the buffer never holds more than a part, its headers and one read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "capture/relay/multipart_reader.hpp"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

struct Outcome {
  std::vector<std::string> parts;
  std::vector<std::string> timestamps;
  std::string error;
  bool ended = false;
};

camstream::relay::MultipartLimits limits() {
  camstream::relay::MultipartLimits small;
  small.max_part = 4096;  // small limits, so that the fuzzer reaches them
  small.max_headers = 512;
  small.max_delimiter = 64;
  return small;
}

Outcome read(const std::uint8_t* data, std::size_t size, std::size_t step) {
  camstream::relay::MultipartReader reader("frame", limits());
  Outcome outcome;
  const auto on_part = [&](const camstream::relay::MultipartPart& part) {
    check(part.body.size() <= limits().max_part);
    outcome.parts.emplace_back(reinterpret_cast<const char*>(part.body.data()), part.body.size());
    outcome.timestamps.push_back(part.timestamp.value_or("-"));
  };
  for (std::size_t at = 0; at < size; at += step) {
    const std::size_t length = std::min(step, size - at);
    const bool more = reader.feed({data + at, length}, on_part);
    check(reader.buffered() <= limits().max_part + limits().max_headers + 2 * length + 512);
    if (!more) break;
  }
  outcome.error = reader.error();
  outcome.ended = reader.ended();
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t step = 1 + data[0] % 64;
  const Outcome whole = read(data + 1, size - 1, size);
  const Outcome pieces = read(data + 1, size - 1, step);
  check(whole.parts == pieces.parts);
  check(whole.timestamps == pieces.timestamps);
  check(whole.ended == pieces.ended);
  check(whole.error.empty() == pieces.error.empty());
  return 0;
}
