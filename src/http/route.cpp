#include "route.hpp"

#include <algorithm>
#include <charconv>

#include "camstream/core/query_string.hpp"
#include "camstream/core/settings.hpp"

namespace camstream {

namespace {

// A decimal number in [min, max]; NaN, infinities and anything else are nullopt.
std::optional<double> number_in(std::string_view text, double min, double max) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || !(value >= min && value <= max)) {
    return std::nullopt;
  }
  return value;
}

// ?width=, ?height=, ?quality=: checked by the table row of the flag of the same name (odd
// sizes rounded down). The first problem found is the error; a value is never echoed.
std::string parse_output(std::string_view query, OutputRequest& output) {
  // Not a structured binding: clang before 16 cannot capture one in the lambda below.
  for (const auto& parameter :
       {std::pair{"width", &OutputRequest::width}, std::pair{"height", &OutputRequest::height},
        std::pair{"quality", &OutputRequest::quality}}) {
    const char* const name = parameter.first;
    const auto field = parameter.second;
    int count = 0;
    std::optional<std::string_view> text;
    for_each_query_pair(query, [&](const QueryPair& pair) {
      if (pair.key == name) {
        ++count;
        if (!text) text = pair.value.value_or(std::string_view{});
      }
      return true;
    });
    if (count == 0) continue;
    const SettingRow& row = *find_setting_by_flag(name);
    const std::string expected =
        row.kind == SettingKind::even_size
            ? "expected a number of pixels in " + std::to_string(row.min) + ".." +
                  std::to_string(row.max) + " (as --" + std::string(name) + ")"
            : "expected a JPEG quality in " + std::to_string(row.min) + ".." +
                  std::to_string(row.max) + " (as --" + std::string(name) + ")";
    if (count > 1) return std::string("bad query parameter ") + name + ": given more than once";
    const CheckedSetting checked = parse_setting(row, *text);
    if (!checked.error.empty()) return std::string("bad query parameter ") + name + ": " + expected;
    output.*field = static_cast<int>(std::get<std::int64_t>(checked.value));
  }
  return {};
}

}  // namespace

bool is_camera_name(std::string_view name) {
  return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

Route parse_route(std::string_view target) {
  const auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

  Route route;
  constexpr std::string_view kCamera = "/cam/";
  if (path.starts_with(kCamera)) {
    const std::string_view rest = path.substr(kCamera.size());
    const auto slash = rest.find('/');
    const std::string_view name = rest.substr(0, slash);
    // Nothing after the name, or no name: not found. "..", "%2F" and the like are not names.
    if (slash == std::string_view::npos || !is_camera_name(name)) {
      route.bad_camera_name = !is_camera_name(name);
      return route;
    }
    route.camera = std::string(name);
    path = rest.substr(slash);
    if (path == "/metrics" || path == "/healthz") return route;  // the server's, not a camera's
  }
  const auto action = query_value(query, "action");
  if (action && path.ends_with("/")) {
    if (*action == "stream") route.endpoint = Endpoint::stream;
    if (*action == "snapshot") route.endpoint = Endpoint::snapshot;
  } else if (path == "/") {
    route.endpoint = Endpoint::page;
  } else if (path == "/stream" || path == "/stream.mjpg") {
    route.endpoint = Endpoint::stream;
  } else if (path == "/snapshot" || path == "/snapshot.jpg") {
    route.endpoint = Endpoint::snapshot;
  } else if (path == "/api/status") {
    route.endpoint = Endpoint::status;
  } else if (path == "/metrics") {
    route.endpoint = Endpoint::metrics;
  } else if (path == "/healthz") {
    route.endpoint = Endpoint::health;
  } else if (path == "/api/token") {
    route.endpoint = Endpoint::token;
  } else if (path == "/ws") {
    route.endpoint = Endpoint::websocket;
  }
  if (route.endpoint == Endpoint::stream) {
    if (auto fps = query_value(query, "fps")) {
      route.fps = number_in(*fps, kMinViewerFps, kMaxViewerFps);
      // The value is not echoed: an answer never repeats what a client sent.
      if (!route.fps)
        route.error = "bad query parameter fps: expected frames per second from 0.1 to 120";
    }
    route.advance_headers = query_value(query, "advance_headers") == std::string_view("1");
  }
  if ((route.endpoint == Endpoint::stream || route.endpoint == Endpoint::snapshot) &&
      route.error.empty()) {
    route.error = parse_output(query, route.output);
  }
  return route;
}

}  // namespace camstream
