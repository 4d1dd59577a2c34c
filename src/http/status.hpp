// The status object (docs/api.md, "Control WebSocket") and the Prometheus metrics text, from a
// plain snapshot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "camstream/stream/capture_status.hpp"
#include "camstream/stream/metrics.hpp"
#include "camstream/stream/stream_output.hpp"

namespace camstream {

// One output as status and metrics report it (docs/api.md, "Outputs per viewer").
struct OutputStatus {
  OutputKey key;
  std::size_t viewers = 0;  // stream viewers and waiting snapshots
  std::uint64_t frames_encoded = 0;
  std::uint64_t frames_sent = 0;
};

// What status and metrics report, taken at one moment.
struct ServerStatus {
  CaptureStatus capture;
  std::size_t viewers = 0;            // stream viewers
  std::size_t control_clients = 0;    // control WebSockets
  std::size_t connections = 0;        // every TCP connection
  std::size_t snapshots_waiting = 0;  // /snapshot requests waiting for a frame
  std::uint64_t auth_failures = 0;    // failed logins (access::Gate::Counters)
  std::uint64_t lockouts = 0;         // lockouts started
  std::vector<OutputStatus> outputs;  // the main stream first, then those viewers asked for
};

std::string status_message(const ServerStatus& status);  // serialized, "type":"status"
// {"type":"controls","controls":{NAME:{"type":..,"min":..,"max":..,"default":..,"value":..}}}
std::string controls_message(const ControlMap& controls);
// /api/status: the first camera's status, with "cameras":{NAME:status,...} for every camera.
std::string status_with_cameras(const std::vector<std::pair<std::string, ServerStatus>>& cameras);

// One camera's counters and status, for /metrics.
struct CameraFigures {
  std::string name;
  const Metrics* metrics = nullptr;
  ServerStatus status;
};
// Each camera's series carry a camera="NAME" label when there are several; with one camera the
// text is what it was before cameras had names. The connections and logins are server-wide.
std::string metrics_text(const std::vector<CameraFigures>& cameras, const ServerStatus& server);

}  // namespace camstream
