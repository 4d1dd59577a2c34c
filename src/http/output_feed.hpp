// One output's viewers and waiting snapshots (docs/api.md, "Outputs per viewer"): the stream
// module's handle and a Broadcaster of its own. Its viewers and waiting snapshots hold it; the
// server's list holds it weakly, so the last of them to go releases the output and its
// encoding stops.
#pragma once

#include <memory>

#include "broadcaster.hpp"
#include "camstream/stream/stream_output.hpp"

namespace camstream {

struct OutputFeed {
  std::shared_ptr<StreamOutput> output;
  Broadcaster broadcaster;
};

// What a stream or snapshot request gets: the feed of its output (nullptr: the main stream),
// or the answer that refuses it.
struct FeedChoice {
  std::shared_ptr<OutputFeed> feed;
  int status = 200;  // 400 or 503 with `error`
  std::string error;
};

}  // namespace camstream
