// The command line and the config file, read into the Options camstream runs with.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "camstream/core/settings.hpp"

namespace camstream {

enum class SourceKind { automatic, libcamera, test, relay };

// --control NAME=VALUE as given: checked against the camera's controls once it is open.
struct ControlSetting {
  std::string name;
  std::string value;
  std::string where;  // "--control" or "config file F: key 'control'", for messages
};

// --encode-threads' default: the online cores, at most 4.
int default_encode_threads();

// What each camera has of its own: its source, its picture settings and its lifecycle. A
// config file's [camera.NAME] section sets these and only these (docs/api.md, "Several
// cameras in one process"); the keys before any section, and the command line, are their
// defaults.
struct CameraOptions {
  // [a-z0-9_-]{1,32}, for /cam/NAME/...; without sections the one camera is "default".
  std::string name = "default";
  // The picture settings (size, rate, quality, orientation, snapshot size) and their defaults,
  // from the live table (camstream/core/settings.hpp).
  LiveSettings live;
  SourceKind source = SourceKind::automatic;
  // --source http(s)://...: the upstream URL as given (credentials included: never log it;
  // RelayUrl::shown() is what may be shown), the headers sent to it, and whether an https
  // upstream's certificate goes unchecked.
  std::string source_url;
  std::vector<std::string> source_headers;
  bool source_insecure = false;
  std::string camera = "0";
  std::string camera_format = "auto";  // --camera-format: auto, mjpeg, yuyv, uyvy, nv12, yuv420
  bool always_on = false;
  std::chrono::seconds idle_timeout{5};
  std::vector<ControlSetting> controls;  // --control, in order: a later one wins
};

// At most this many [camera.NAME] sections: each camera is a source thread, its encoding
// threads and its buffers.
inline constexpr std::size_t kMaxCameras = 16;

// The server's settings; the base class is the one camera the command line alone describes,
// and the defaults of every [camera.NAME] section.
struct Options : CameraOptions {
  std::string config_file;
  // The config file's [camera.NAME] sections, in the file's order; empty: one camera, the
  // base class.
  std::vector<CameraOptions> cameras;
  bool list_cameras = false;
  std::string bind = "::";
  int port = 8080;
  int max_clients = 256;  // stream viewers of every camera together
  int max_connections = 1024;
  int encode_threads = default_encode_threads();  // --encode-threads, for each camera
  int max_outputs = 4;                            // --max-outputs, for each camera
  std::vector<std::string> allow_hosts;           // --allow-host, repeatable
  std::string allow_origin;
  std::string users_file;              // --users: htpasswd file; empty: no access control
  std::vector<std::string> operators;  // --operators: users who may control; empty: all
  std::string token_key_file;          // --token-key: HMAC key file; empty: random per run
  std::string tls_cert_file;           // --tls-cert and --tls-key: HTTPS and WSS
  std::string tls_key_file;
  std::string log_level = "info";
  std::vector<std::string> warnings;  // e.g. odd sizes rounded down; logged once logging is up

  // Every camera to run, the first first: the sections, or the one camera of the base class.
  std::vector<CameraOptions> camera_list() const {
    if (!cameras.empty()) return cameras;
    return {static_cast<const CameraOptions&>(*this)};
  }
};

// Result of parsing: either options to run with, or an exit (help, version, usage error).
struct ParseResult {
  std::optional<Options> options;
  int exit_code = 0;   // when !options: 0 for --help/--version, 2 for a usage error
  std::string output;  // text to print (stdout for exit 0, stderr for exit 2)
};

// Parses argv (and the config file named by --config). Never exits the process.
ParseResult parse_options(int argc, const char* const* argv);

}  // namespace camstream
