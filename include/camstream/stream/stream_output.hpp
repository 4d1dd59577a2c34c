// An output of the stream (docs/api.md, "Outputs per viewer"): the capture at a size and
// quality of its own, scaled and encoded once per captured frame while this handle lives, into
// a hub of its own that all its viewers share. The capture service hands it out
// (CaptureService::open_output); the last holder's release stops its encoding.
#pragma once

#include <atomic>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "camstream/stream/frame_hub.hpp"

namespace camstream {

class CaptureService;

// What names an output: its picture size and JPEG quality.
struct OutputKey {
  int width = 0;
  int height = 0;
  int quality = 0;
  auto operator<=>(const OutputKey&) const = default;
};

// What a request asks for: any subset, each already checked as its flag is (even, in bounds).
struct OutputRequest {
  std::optional<int> width;
  std::optional<int> height;
  std::optional<int> quality;
  bool empty() const { return !width && !height && !quality; }
};

// Which output a request names: the main stream (the capture's own size and --quality, no
// encode of its own), another output, or why there is none.
struct OutputChoice {
  enum class Kind { main, output, bad_request, unavailable };
  Kind kind = Kind::main;
  OutputKey key;
  std::string error;  // bad_request (400) and unavailable (503): what to tell the client
};

class StreamOutput {
 public:
  // What the encoding thread publishes an output's frames to, and its counters. A frame that
  // could not be made is published as nullptr (the output cannot exist: see error()).
  struct Sink {
    FrameHub hub;
    std::atomic<std::uint64_t> frames_encoded{0};
    std::atomic<std::uint64_t> frames_sent{0};  // counted by the viewers
    std::atomic<std::uint64_t> bytes_sent{0};
  };

  StreamOutput(OutputKey key, std::size_t slot, std::shared_ptr<Sink> sink,
               std::weak_ptr<CaptureService* const> service);
  ~StreamOutput();
  StreamOutput(const StreamOutput&) = delete;
  StreamOutput& operator=(const StreamOutput&) = delete;

  const OutputKey& key() const { return key_; }
  Sink& sink() { return *sink_; }
  const Sink& sink() const { return *sink_; }

 private:
  OutputKey key_;
  std::size_t slot_;
  std::shared_ptr<Sink> sink_;
  // Weak, as a DemandToken's: a handle that outlives the service releases nothing.
  std::weak_ptr<CaptureService* const> service_;
};

}  // namespace camstream
