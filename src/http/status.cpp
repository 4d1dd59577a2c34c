#include "status.hpp"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cmath>
#include <tuple>

namespace camstream {

namespace {

// Written by hand rather than through boost::json::value: Boost.JSON prints every double in
// exponent form ("5E1"), and people read these objects too.
std::string json_quoted(std::string_view text) {
  return boost::json::serialize(boost::json::string(text));
}

std::string json_value(const ControlValue& value) {
  if (const auto* name = std::get_if<std::string>(&value)) return json_quoted(*name);
  if (const auto* real = std::get_if<double>(&value); real != nullptr && !std::isfinite(*real)) {
    return "null";  // a camera's unbounded range; JSON has no infinity
  }
  return to_text(value);
}

// {"width":640,...}: the live table's values in force, named as configure takes them.
std::string settings_object(const LiveSettings& settings) {
  std::string out = "{";
  for (const auto& row : setting_rows()) {
    if (row.get == nullptr) continue;
    if (out.size() > 1) out += ',';
    out += fmt::format("\"{}\":{}", row.field, json_value(row.get(settings)));
  }
  return out + "}";
}

std::string values_object(const std::map<std::string, ControlValue>& values) {
  std::string out = "{";
  for (const auto& [name, value] : values) {
    if (out.size() > 1) out += ',';
    out += json_quoted(name) + ":" + json_value(value);
  }
  return out + "}";
}

std::string outputs_array(const std::vector<OutputStatus>& outputs) {
  std::string out = "[";
  for (const OutputStatus& output : outputs) {
    if (out.size() > 1) out += ',';
    out += fmt::format(R"({{"width":{},"height":{},"quality":{},"viewers":{}}})", output.key.width,
                       output.key.height, output.key.quality, output.viewers);
  }
  return out + "]";
}

}  // namespace

std::string status_message(const ServerStatus& server) {
  const CaptureStatus& status = server.capture;
  std::string message = fmt::format(
      R"({{"type":"status","state":"{}","source":{},"camera":{},"width":{},"height":{},)"
      R"("interval_ms":{},"fps":{:.1f},"clients":{},"controls":{},"frames":{},"error":{},)"
      R"("settings":{},"camera_controls":{}}})",
      to_string(status.state), json_quoted(status.source.name),
      status.source.camera_id ? json_quoted(*status.source.camera_id) : "null", status.source.width,
      status.source.height, static_cast<double>(status.source.interval.count()) / 1000.0,
      status.fps, server.viewers, server.control_clients, status.frames,
      status.error.empty() ? "null" : json_quoted(status.error), settings_object(status.settings),
      values_object(status.camera_controls));
  message.pop_back();  // the closing brace: the outputs follow
  return message + R"(,"outputs":)" + outputs_array(server.outputs) + "}";
}

std::string controls_message(const ControlMap& controls) {
  std::string out = R"({"type":"controls","controls":{)";
  bool first = true;
  for (const auto& [name, info] : controls) {
    if (!first) out += ',';
    first = false;
    out +=
        fmt::format(R"({}:{{"type":"{}","min":{},"max":{},"default":{},"value":{})",
                    json_quoted(name), to_string(info.type), json_value(info.min),
                    json_value(info.max), json_value(info.default_value), json_value(info.value));
    if (info.type == ControlType::enumeration) {
      std::string names;
      for (const auto& enum_name : info.enum_names) {
        names += (names.empty() ? "" : ",") + json_quoted(enum_name);
      }
      out += R"(,"values":[)" + names + "]";
    }
    out += '}';
  }
  return out + "}}";
}

namespace {
void counter(std::string& out, std::string_view name, std::string_view help, std::uint64_t value) {
  out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, value);
}
void gauge(std::string& out, std::string_view name, std::string_view help, std::size_t value) {
  out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, value);
}
std::uint64_t load(const std::atomic<std::uint64_t>& value) {
  return value.load(std::memory_order_relaxed);
}
}  // namespace

std::string metrics_text(const Metrics& m, const ServerStatus& server) {
  std::string out;
  counter(out, "camstream_frames_captured_total", "Frames delivered by the source.",
          load(m.frames_captured));
  counter(out, "camstream_frames_encoded_total", "Frames encoded to JPEG (once per frame).",
          load(m.frames_encoded));
  counter(out, "camstream_frames_sent_total", "Frames written to stream viewers.",
          load(m.frames_sent));
  counter(out, "camstream_snapshots_encoded_total",
          "Frames encoded at the --snapshot size, only for a waiting /snapshot.",
          load(m.snapshots_encoded));
  counter(out, "camstream_frames_decoded_total",
          "MJPEG frames (camera or relay) decoded because an output needed their pixels.",
          load(m.frames_decoded));
  out +=
      "# HELP camstream_frames_dropped_total Frames not sent to a viewer or not encoded, by "
      "reason.\n# TYPE camstream_frames_dropped_total counter\n";
  for (const auto& [reason, value] :
       {std::pair{"slow_viewer", &m.dropped_slow_viewer}, std::pair{"fps_cap", &m.dropped_fps_cap},
        std::pair{"encode_error", &m.dropped_encode_error},
        std::pair{"corrupt", &m.dropped_corrupt}}) {
    out +=
        fmt::format("camstream_frames_dropped_total{{reason=\"{}\"}} {}\n", reason, load(*value));
  }
  for (const auto& [name, help, field] :
       {std::tuple{"camstream_output_frames_encoded_total",
                   "Frames encoded for one output (docs/api.md, \"Outputs per viewer\"); the "
                   "first is the main stream.",
                   &OutputStatus::frames_encoded},
        std::tuple{"camstream_output_frames_sent_total", "Frames written to one output's viewers.",
                   &OutputStatus::frames_sent}}) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n", name, help);
    for (const OutputStatus& output : server.outputs) {
      out += fmt::format("{}{{width=\"{}\",height=\"{}\",quality=\"{}\"}} {}\n", name,
                         output.key.width, output.key.height, output.key.quality, output.*field);
    }
  }
  gauge(out, "camstream_outputs", "Outputs encoded besides the main stream (--max-outputs).",
        server.outputs.empty() ? 0 : server.outputs.size() - 1);
  counter(out, "camstream_bytes_sent_total", "Bytes written to stream viewers.",
          load(m.bytes_sent));
  counter(out, "camstream_auth_failures_total",
          "Failed logins: a wrong password, an unknown user, a bad token or header.",
          server.auth_failures);
  counter(out, "camstream_lockouts_total", "Lockouts started, of an address or of a user.",
          server.lockouts);
  gauge(out, "camstream_clients", "Stream viewers connected.", server.viewers);
  gauge(out, "camstream_control_clients", "Control WebSocket clients connected.",
        server.control_clients);
  gauge(out, "camstream_connections", "TCP connections open (every kind).", server.connections);
  gauge(out, "camstream_snapshots_waiting", "Snapshot requests waiting for a frame.",
        server.snapshots_waiting);

  out +=
      "# HELP camstream_encode_seconds Time to encode one frame.\n"
      "# TYPE camstream_encode_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < Metrics::kEncodeBuckets.size(); ++i) {
    cumulative += load(m.encode_buckets[i]);
    out += fmt::format("camstream_encode_seconds_bucket{{le=\"{}\"}} {}\n",
                       Metrics::kEncodeBuckets[i], cumulative);
  }
  cumulative += load(m.encode_buckets.back());
  out += fmt::format("camstream_encode_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  out += fmt::format("camstream_encode_seconds_sum {:.6f}\n",
                     static_cast<double>(load(m.encode_nanoseconds)) / 1e9);
  out += fmt::format("camstream_encode_seconds_count {}\n", cumulative);

  const CaptureState current = server.capture.state;
  out +=
      "# HELP camstream_capture_state Capture lifecycle state (1 for the current one).\n"
      "# TYPE camstream_capture_state gauge\n";
  for (auto state : {CaptureState::idle, CaptureState::starting, CaptureState::streaming,
                     CaptureState::stopped, CaptureState::error}) {
    out += fmt::format("camstream_capture_state{{state=\"{}\"}} {}\n", to_string(state),
                       state == current ? 1 : 0);
  }
  return out;
}

}  // namespace camstream
