// The command line and the config file, read into the Options camstream runs with.
#pragma once

#include <chrono>
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

struct Options {
  // The picture settings (size, rate, quality, orientation, snapshot size) and their defaults,
  // from the live table (camstream/core/settings.hpp); the rest are the server's.
  LiveSettings live;
  std::string config_file;
  SourceKind source = SourceKind::automatic;
  // --source http(s)://...: the upstream URL as given (credentials included: never log it;
  // RelayUrl::shown() is what may be shown), the headers sent to it, and whether an https
  // upstream's certificate goes unchecked.
  std::string source_url;
  std::vector<std::string> source_headers;
  bool source_insecure = false;
  std::string camera = "0";
  std::string camera_format = "auto";  // --camera-format: auto, mjpeg, yuyv, uyvy, nv12, yuv420
  bool list_cameras = false;
  std::string bind = "::";
  int port = 8080;
  bool always_on = false;
  std::chrono::seconds idle_timeout{5};
  int max_clients = 256;
  int max_connections = 1024;
  int encode_threads = default_encode_threads();  // --encode-threads
  int max_outputs = 4;                            // --max-outputs
  std::vector<std::string> allow_hosts;  // --allow-host, repeatable
  std::string allow_origin;
  std::string users_file;              // --users: htpasswd file; empty: no access control
  std::vector<std::string> operators;  // --operators: users who may control; empty: all
  std::string token_key_file;          // --token-key: HMAC key file; empty: random per run
  std::string tls_cert_file;           // --tls-cert and --tls-key: HTTPS and WSS
  std::string tls_key_file;
  std::vector<ControlSetting> controls;  // --control, in order: a later one wins
  std::string log_level = "info";
  std::vector<std::string> warnings;  // e.g. odd sizes rounded down; logged once logging is up
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
