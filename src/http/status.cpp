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

std::string status_with_cameras(const std::vector<std::pair<std::string, ServerStatus>>& cameras) {
  std::string out = status_message(cameras.front().second);
  out.pop_back();  // the closing brace
  out += R"(,"cameras":{)";
  bool first = true;
  for (const auto& [name, status] : cameras) {
    if (!first) out += ',';
    first = false;
    out += json_quoted(name) + ":" + status_message(status);
  }
  return out + "}}";
}

namespace {
std::uint64_t load(const std::atomic<std::uint64_t>& value) {
  return value.load(std::memory_order_relaxed);
}

// Writes the metrics text: HELP and TYPE once per name, then one line per camera.
class MetricsWriter {
 public:
  explicit MetricsWriter(const std::vector<CameraFigures>& cameras) : cameras_(cameras) {}

  void header(std::string_view name, std::string_view help, std::string_view type) {
    out_ += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n", name, help, type);
  }
  // {camera="a",extra} or {extra}, or nothing when both are empty.
  std::string labels(const CameraFigures& camera, std::string_view extra = {}) const {
    std::string inner;
    if (cameras_.size() > 1) inner = "camera=" + json_quoted(camera.name);
    if (!extra.empty()) inner += (inner.empty() ? "" : ",") + std::string(extra);
    return inner.empty() ? std::string{} : "{" + inner + "}";
  }
  template <typename Value>
  void per_camera(std::string_view name, std::string_view help, std::string_view type,
                  Value (*value)(const CameraFigures&)) {
    header(name, help, type);
    for (const auto& camera : cameras_) {
      out_ += fmt::format("{}{} {}\n", name, labels(camera), value(camera));
    }
  }
  void server(std::string_view name, std::string_view help, std::string_view type,
              std::uint64_t value) {
    header(name, help, type);
    out_ += fmt::format("{} {}\n", name, value);
  }
  void line(std::string text) { out_ += text; }
  std::string take() { return std::move(out_); }

 private:
  const std::vector<CameraFigures>& cameras_;
  std::string out_;
};
}  // namespace

std::string metrics_text(const std::vector<CameraFigures>& cameras, const ServerStatus& server) {
  MetricsWriter w(cameras);
  w.per_camera<std::uint64_t>(
      "camstream_frames_captured_total", "Frames delivered by the source.", "counter",
      [](const CameraFigures& c) { return load(c.metrics->frames_captured); });
  w.per_camera<std::uint64_t>(
      "camstream_frames_encoded_total", "Frames encoded to JPEG (once per frame).", "counter",
      [](const CameraFigures& c) { return load(c.metrics->frames_encoded); });
  w.per_camera<std::uint64_t>("camstream_frames_sent_total", "Frames written to stream viewers.",
                              "counter",
                              [](const CameraFigures& c) { return load(c.metrics->frames_sent); });
  w.per_camera<std::uint64_t>(
      "camstream_snapshots_encoded_total",
      "Frames encoded at the --snapshot size, only for a waiting /snapshot.", "counter",
      [](const CameraFigures& c) { return load(c.metrics->snapshots_encoded); });
  w.per_camera<std::uint64_t>(
      "camstream_frames_decoded_total",
      "MJPEG frames (camera or relay) decoded because an output needed their pixels.", "counter",
      [](const CameraFigures& c) { return load(c.metrics->frames_decoded); });
  w.header("camstream_frames_dropped_total",
           "Frames not sent to a viewer or not encoded, by reason.", "counter");
  for (const auto& camera : cameras) {
    const Metrics& m = *camera.metrics;
    for (const auto& [reason, value] : {std::pair{"slow_viewer", &m.dropped_slow_viewer},
                                        std::pair{"fps_cap", &m.dropped_fps_cap},
                                        std::pair{"encode_error", &m.dropped_encode_error},
                                        std::pair{"corrupt", &m.dropped_corrupt}}) {
      w.line(fmt::format("camstream_frames_dropped_total{} {}\n",
                         w.labels(camera, fmt::format("reason=\"{}\"", reason)), load(*value)));
    }
  }
  for (const auto& [name, help, field] :
       {std::tuple{"camstream_output_frames_encoded_total",
                   "Frames encoded for one output (docs/api.md, \"Outputs per viewer\"); the "
                   "first of each camera is its main stream.",
                   &OutputStatus::frames_encoded},
        std::tuple{"camstream_output_frames_sent_total", "Frames written to one output's viewers.",
                   &OutputStatus::frames_sent}}) {
    w.header(name, help, "counter");
    for (const auto& camera : cameras) {
      for (const OutputStatus& output : camera.status.outputs) {
        w.line(fmt::format(
            "{}{} {}\n", name,
            w.labels(camera, fmt::format(R"(width="{}",height="{}",quality="{}")", output.key.width,
                                         output.key.height, output.key.quality)),
            output.*field));
      }
    }
  }
  w.per_camera<std::size_t>(
      "camstream_outputs", "Outputs encoded besides the main stream (--max-outputs).", "gauge",
      [](const CameraFigures& c) {
        return c.status.outputs.empty() ? std::size_t{0} : c.status.outputs.size() - 1;
      });
  w.per_camera<std::uint64_t>("camstream_bytes_sent_total", "Bytes written to stream viewers.",
                              "counter",
                              [](const CameraFigures& c) { return load(c.metrics->bytes_sent); });
  w.server("camstream_auth_failures_total",
           "Failed logins: a wrong password, an unknown user, a bad token or header.", "counter",
           server.auth_failures);
  w.server("camstream_lockouts_total", "Lockouts started, of an address or of a user.", "counter",
           server.lockouts);
  w.per_camera<std::size_t>("camstream_clients", "Stream viewers connected.", "gauge",
                            [](const CameraFigures& c) { return c.status.viewers; });
  w.per_camera<std::size_t>("camstream_control_clients", "Control WebSocket clients connected.",
                            "gauge",
                            [](const CameraFigures& c) { return c.status.control_clients; });
  w.server("camstream_connections", "TCP connections open (every kind).", "gauge",
           server.connections);
  w.per_camera<std::size_t>("camstream_snapshots_waiting", "Snapshot requests waiting for a frame.",
                            "gauge",
                            [](const CameraFigures& c) { return c.status.snapshots_waiting; });

  w.header("camstream_encode_seconds", "Time to encode one frame.", "histogram");
  for (const auto& camera : cameras) {
    const Metrics& m = *camera.metrics;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < Metrics::kEncodeBuckets.size(); ++i) {
      cumulative += load(m.encode_buckets[i]);
      w.line(fmt::format("camstream_encode_seconds_bucket{} {}\n",
                         w.labels(camera, fmt::format("le=\"{}\"", Metrics::kEncodeBuckets[i])),
                         cumulative));
    }
    cumulative += load(m.encode_buckets.back());
    w.line(fmt::format("camstream_encode_seconds_bucket{} {}\n", w.labels(camera, "le=\"+Inf\""),
                       cumulative));
    w.line(fmt::format("camstream_encode_seconds_sum{} {:.6f}\n", w.labels(camera),
                       static_cast<double>(load(m.encode_nanoseconds)) / 1e9));
    w.line(fmt::format("camstream_encode_seconds_count{} {}\n", w.labels(camera), cumulative));
  }

  w.header("camstream_capture_state", "Capture lifecycle state (1 for the current one).", "gauge");
  for (const auto& camera : cameras) {
    const CaptureState current = camera.status.capture.state;
    for (auto state : {CaptureState::idle, CaptureState::starting, CaptureState::streaming,
                       CaptureState::stopped, CaptureState::error}) {
      w.line(fmt::format("camstream_capture_state{} {}\n",
                         w.labels(camera, fmt::format("state=\"{}\"", to_string(state))),
                         state == current ? 1 : 0));
    }
  }
  return w.take();
}

}  // namespace camstream
