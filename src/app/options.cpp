// Command line and config file. CLI11 reads the syntax of both (flags, values, the TOML/INI
// file); the values are then checked here, in one place, so that every message names where the
// value came from: the flag, or the config file and key.
#include "camstream/app/options.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "camstream/capture/libcamera.hpp"
#include "camstream/capture/relay_url.hpp"
#include "camstream/core/ascii.hpp"
#include "camstream/core/orientation.hpp"
#include "camstream/core/settings.hpp"
#include "camstream/core/value_text.hpp"
#include "camstream/encode/jpeg_encoder.hpp"
#include "camstream/stream/capture_service.hpp"
#include "options_values.hpp"

#ifndef CAMSTREAM_VERSION
#define CAMSTREAM_VERSION "unknown"
#endif

namespace camstream {

int default_encode_threads() {
  // Stripes beyond 4 gain little at camera sizes and take cores from the server and the
  // camera stack.
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  return static_cast<int>(std::clamp<long>(online, 1, 4));
}

namespace {

using namespace options_detail;

constexpr int kUsageExit = 2;

// A usage error; the text is the whole message without the "camstream: " prefix.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One value of a setting, with where it came from for messages: "--width" or
// "config file a.conf: key 'width'".
struct Given {
  std::string text;
  std::string where;
};

// --- value checks ---

int whole_number_in(const Given& given, std::int64_t min, std::int64_t max) {
  const auto number = parse_whole_number(given.text);
  if (!number) throw UsageError(given.where + ": '" + given.text + "' is not a whole number");
  if (*number < min || *number > max) {
    throw UsageError(given.where + ": " + given.text + " not in " + std::to_string(min) + ".." +
                     std::to_string(max));
  }
  return static_cast<int>(*number);
}

std::string one_of(const Given& given, std::initializer_list<std::string_view> choices) {
  if (std::find(choices.begin(), choices.end(), given.text) != choices.end()) return given.text;
  std::string list;
  for (const auto choice : choices) list += (list.empty() ? "" : ", ") + std::string(choice);
  throw UsageError(given.where + ": '" + given.text + "' is not one of " + list);
}

// "alice,bob" (spaces around names allowed); names as the --users file spells them.
std::vector<std::string> user_names(const Given& given) {
  std::vector<std::string> names;
  std::string_view rest = given.text;
  while (true) {
    const auto comma = rest.find(',');
    std::string_view name = rest.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name.empty()) {
      throw UsageError(given.where + ": '" + given.text +
                       "' has an empty name; give user names separated by commas");
    }
    if (name.find(':') != std::string_view::npos) {
      throw UsageError(given.where + ": '" + std::string(name) +
                       "' cannot be a user name (no ':' in htpasswd names)");
    }
    names.emplace_back(name);
    if (comma == std::string_view::npos) return names;
    rest.remove_prefix(comma + 1);
  }
}

// Settings that only make sense together.
void check_combinations(const std::map<std::string, Given>& settings) {
  const auto where = [&](const char* key) { return settings.at(key).where; };
  const bool users = settings.count("users") != 0;
  for (const char* needs_users : {"operators", "token-key"}) {
    if (settings.count(needs_users) != 0 && !users) {
      throw UsageError(where(needs_users) + ": needs --users (access control is off without it)");
    }
  }
  const bool cert = settings.count("tls-cert") != 0;
  const bool key = settings.count("tls-key") != 0;
  if (cert && !key) throw UsageError(where("tls-cert") + ": needs --tls-key too");
  if (key && !cert) throw UsageError(where("tls-key") + ": needs --tls-cert too");
}

bool boolean(const Given& given) {
  const auto value = parse_boolean(given.text);
  if (!value) throw UsageError(given.where + ": '" + given.text + "' is not true or false");
  return *value;
}

// A picture setting, checked by its row of the live table.
void apply_row(const SettingRow& row, const Given& given, Options& options) {
  const CheckedSetting checked = parse_setting(row, given.text);
  if (!checked.error.empty()) throw UsageError(given.where + ": " + checked.error);
  if (!checked.note.empty()) options.warnings.push_back(given.where + ": " + checked.note);
  row.set(options.live, checked.value);
}

// "Brightness=0.2": the name as libcamera spells it; the value is checked against the camera's
// own range once the camera is open (camstream::run).
ControlSetting control_setting(const Given& given) {
  const auto equals = given.text.find('=');
  const std::string name = given.text.substr(0, equals);
  const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
  if (equals == std::string::npos || !name_ok || equals + 1 == given.text.size()) {
    throw UsageError(given.where + ": '" + given.text +
                     "' is not NAME=VALUE, e.g. Brightness=0.2 or AfMode=continuous");
  }
  return ControlSetting{name, given.text.substr(equals + 1), given.where};
}

// Stores a checked value into the options; throws UsageError naming given.where.
using Apply = void (*)(const Given&, Options&);

// Whether a [camera.NAME] section may set it (docs/api.md, "Several cameras in one process"):
// what one camera has of its own, or what the whole server shares.
enum class Scope { server, camera };

struct ValueSetting {
  const char* name;
  const char* value_name;
  const char* description;
  Apply apply;
  Scope scope = Scope::server;
};

// A file name that must not be empty.
std::string file_name(const Given& given) {
  if (given.text.empty()) throw UsageError(given.where + ": empty file name");
  return given.text;
}

// The settings that have a value, besides the picture settings of the live table
// (camstream/core/settings.hpp: size, rate, quality, orientation, snapshot size), which come
// right after "camera" in --help. Each is also a config file key of the same name, and each
// row stores its own value: the keys are listed here only.
constexpr ValueSetting kValueSettings[] = {
    {"source", "auto|libcamera|test|URL",
     "frame source; auto: a camera, else test; http(s)://[USER:PASS@]HOST[:PORT]/PATH: relay "
     "that MJPEG stream (default: auto)",
     [](const Given& given, Options& options) {
       // A URL is never repeated in a message: it may carry a password.
       if (given.text.find("://") != std::string::npos) {
         try {
           parse_relay_url(given.text);
         } catch (const RelayUrlError& error) {
           throw UsageError(given.where + ": " + error.what());
         }
         options.source = SourceKind::relay;
         options.source_url = given.text;
         return;
       }
       const std::string source = one_of(given, {"auto", "libcamera", "test"});
       options.source = source == "auto"        ? SourceKind::automatic
                        : source == "libcamera" ? SourceKind::libcamera
                                                : SourceKind::test;
     },
     Scope::camera},
    {"camera", "INDEX|ID", "libcamera camera, by index or id (default: 0)",
     [](const Given& given, Options& options) {
       if (given.text.empty()) throw UsageError(given.where + ": empty camera index or id");
       options.camera = given.text;
     },
     Scope::camera},
    {"camera-format", "auto|mjpeg|yuyv|uyvy|nv12|yuv420",
     "pixel format asked of a libcamera camera; auto: camstream chooses (default: auto)",
     [](const Given& given, Options& options) {
       options.camera_format = one_of(given, {"auto", "mjpeg", "yuyv", "uyvy", "nv12", "yuv420"});
     },
     Scope::camera},
    {"bind", "ADDR", "listen address; :: is all IPv4 and IPv6 (default: ::)",
     [](const Given& given, Options& options) {
       const auto address = parse_bind_address(given.text);
       if (!address) {
         throw UsageError(given.where + ": '" + given.text + "' is not an IPv4 or IPv6 address");
       }
       options.bind = *address;
     }},
    {"port", "N", "listen port, 0..65535; 0: any free one (default: 8080)",
     [](const Given& given, Options& options) {
       options.port = whole_number_in(given, 0, 65'535);
     }},
    {"idle-timeout", "SEC", "capture runs on after the last viewer, 0..86400 (default: 5)",
     [](const Given& given, Options& options) {
       options.idle_timeout = std::chrono::seconds(whole_number_in(given, 0, 86'400));
     },
     Scope::camera},
    {"max-clients", "N", "stream connections at once, 1..100000 (default: 256)",
     [](const Given& given, Options& options) {
       options.max_clients = whole_number_in(given, 1, 100'000);
     }},
    {"max-connections", "N", "TCP connections at once, 1..1000000; more wait (default: 1024)",
     [](const Given& given, Options& options) {
       options.max_connections = whole_number_in(given, 1, 1'000'000);
     }},
    {"encode-threads", "N",
     "threads encoding each frame as stripes, 1..16 (default: the online cores, at most 4)",
     [](const Given& given, Options& options) {
       options.encode_threads = whole_number_in(given, 1, JpegEncoder::kMaxEncodeThreads);
     }},
    {"max-outputs", "N",
     "sizes or qualities viewers may ask for besides the stream's own, at once, for each "
     "camera, 1..32 (default: 4)",
     [](const Given& given, Options& options) {
       options.max_outputs = whole_number_in(given, 1, CaptureService::kMaxOutputs);
     }},
    {"allow-origin", "ORIGIN", "origin allowed CORS and /ws, e.g. https://host (default: none)",
     [](const Given& given, Options& options) {
       if (!is_origin(given.text)) {
         throw UsageError(given.where + ": '" + given.text +
                          "' is not an origin like https://host or http://host:8080 (no path)");
       }
       options.allow_origin = given.text;
     }},
    {"users", "FILE", "htpasswd file (htpasswd -B): every endpoint needs a login (default: none)",
     [](const Given& given, Options& options) { options.users_file = file_name(given); }},
    {"operators", "NAMES", "users who may start, stop and configure, a,b (default: all users)",
     [](const Given& given, Options& options) { options.operators = user_names(given); }},
    {"token-key", "FILE", "key that signs /api/token tokens; made if missing (default: random)",
     [](const Given& given, Options& options) { options.token_key_file = file_name(given); }},
    {"tls-cert", "FILE", "PEM certificate (chain allowed): HTTPS and WSS (default: none)",
     [](const Given& given, Options& options) { options.tls_cert_file = file_name(given); }},
    {"tls-key", "FILE", "PEM private key of --tls-cert (default: none)",
     [](const Given& given, Options& options) { options.tls_key_file = file_name(given); }},
    {"log-level", "trace|debug|info|warn|error", "log verbosity (default: info)",
     [](const Given& given, Options& options) {
       options.log_level = one_of(given, {"trace", "debug", "info", "warn", "error"});
     }},
};

struct FlagSetting {
  const char* name;
  const char* description;
  Apply apply;
  Scope scope = Scope::server;
};

constexpr FlagSetting kFlagSettings[] = {
    {"always-on", "capture from start to shutdown, not on demand (default: off)",
     [](const Given& given, Options& options) { options.always_on = boolean(given); },
     Scope::camera},
    {"source-insecure", "https --source: accept any certificate, e.g. self-signed (default: off)",
     [](const Given& given, Options& options) { options.source_insecure = boolean(given); },
     Scope::camera},
};

// Settings that may be given more than once (each a value setting, not a flag).
constexpr ValueSetting kListSettings[] = {
    {"allow-host", "HOST",
     "extra Host name for /ws besides localhost and the machine's names (repeatable)",
     [](const Given& given, Options& options) {
       if (!is_host_name(given.text)) {
         throw UsageError(given.where + ": '" + given.text +
                          "' is not a host name like camera.example (no scheme, no port)");
       }
       options.allow_hosts.push_back(given.text);
     }},
    {"control", "NAME=VALUE",
     "camera control at start-up, named as libcamera names it: Brightness=0.2 (repeatable)",
     [](const Given& given, Options& options) {
       options.controls.push_back(control_setting(given));
     },
     Scope::camera},
    {"source-header", "'NAME: VALUE'",
     "header sent to a relayed --source: 'Authorization: Bearer TOKEN' (repeatable)",
     [](const Given& given, Options& options) {
       try {
         check_source_header(given.text);
       } catch (const RelayUrlError& error) {
         throw UsageError(given.where + ": " + error.what());
       }
       options.source_headers.push_back(given.text);
     },
     Scope::camera},
};

bool is_list(std::string_view key) {
  return std::any_of(std::begin(kListSettings), std::end(kListSettings),
                     [&](const ValueSetting& s) { return key == s.name; });
}

bool is_setting(std::string_view key) {
  return is_list(key) || find_setting_by_flag(key) != nullptr ||
         std::any_of(std::begin(kValueSettings), std::end(kValueSettings),
                     [&](const ValueSetting& s) { return key == s.name; }) ||
         std::any_of(std::begin(kFlagSettings), std::end(kFlagSettings),
                     [&](const FlagSetting& s) { return key == s.name; });
}

bool is_flag(std::string_view key) {
  if (const SettingRow* row = find_setting_by_flag(key)) return row->kind == SettingKind::boolean;
  return std::any_of(std::begin(kFlagSettings), std::end(kFlagSettings),
                     [&](const FlagSetting& s) { return key == s.name; });
}

// --- the config file ---

std::string read_file(const std::string& path) {
  const auto cannot_read = [&](const std::string& reason) {
    return UsageError("config file " + path + ": cannot read: " + reason);
  };
  // A directory opens and then reads as empty, which would pass for an empty file.
  std::error_code status_error;
  if (std::filesystem::is_directory(path, status_error)) throw cannot_read(std::strerror(EISDIR));
  errno = 0;
  std::ifstream file(path, std::ios::binary);
  if (!file) throw cannot_read(std::strerror(errno != 0 ? errno : ENOENT));
  std::string content{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  if (file.bad()) throw cannot_read(std::strerror(errno != 0 ? errno : EIO));
  return content;
}

std::string dotted_key(const CLI::ConfigItem& item) {
  std::string key;
  for (const auto& parent : item.parents) key += parent + ".";
  return key + item.name;
}

// Whether a [camera.NAME] section may hold the key: the live table's rows and the rows marked
// Scope::camera.
bool is_camera_key(std::string_view key) {
  if (find_setting_by_flag(key) != nullptr) return true;
  const auto camera = [&](const auto& s) { return key == s.name && s.scope == Scope::camera; };
  return std::any_of(std::begin(kValueSettings), std::end(kValueSettings), camera) ||
         std::any_of(std::begin(kFlagSettings), std::end(kFlagSettings), camera) ||
         std::any_of(std::begin(kListSettings), std::end(kListSettings), camera);
}

bool is_camera_name(std::string_view name) {
  return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// One [camera.NAME] section of the config file.
struct CameraSection {
  std::string name;
  int line = 0;
  std::map<std::string, Given> settings;
  std::map<std::string, std::vector<Given>> lists;
};

// What the config file holds: the keys before any section, and the camera sections in order.
struct ConfigFile {
  std::map<std::string, Given> settings;
  std::map<std::string, std::vector<Given>> lists;
  std::vector<CameraSection> cameras;
};

// Where each [camera.NAME] section and each of its keys starts, by line: CLI11's items carry no
// line numbers, and a message about a section should say where it is. Checks the names
// (pattern, repeats, how many) as it goes.
struct SectionLines {
  std::map<std::string, int> sections;                      // name -> line
  std::map<std::pair<std::string, std::string>, int> keys;  // (name, key) -> first line
  std::vector<std::string> order;
};

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

SectionLines scan_sections(const std::string& content, const std::string& file) {
  SectionLines lines;
  std::string current;  // the camera section the lines are in; "" before one or in another
  std::istringstream stream(content);
  std::string text;
  int number = 0;
  while (std::getline(stream, text)) {
    ++number;
    const std::string_view line = trimmed(text);
    const std::string at = file + " line " + std::to_string(number);
    if (line.starts_with('[')) {
      current.clear();
      const auto close = line.find(']');
      const std::string_view header =
          trimmed(line.substr(1, close == std::string_view::npos ? line.npos : close - 1));
      if (!header.starts_with("camera.")) continue;  // CLI11 judges the others
      const std::string name(trimmed(header.substr(7)));
      if (!is_camera_name(name)) {
        throw UsageError(at + ": [" + std::string(header) +
                         "]: a camera name is 1 to 32 of a-z, 0-9, '_' and '-'");
      }
      if (const auto first = lines.sections.find(name); first != lines.sections.end()) {
        throw UsageError(at + ": [camera." + name + "] given twice (first on line " +
                         std::to_string(first->second) + ")");
      }
      if (lines.sections.size() == kMaxCameras) {
        throw UsageError(at + ": [camera." + name + "]: more than " + std::to_string(kMaxCameras) +
                         " cameras");
      }
      lines.sections.emplace(name, number);
      lines.order.push_back(name);
      current = name;
      continue;
    }
    if (current.empty() || line.empty() || line.starts_with('#') || line.starts_with(';')) continue;
    const std::string key(trimmed(line.substr(0, line.find('='))));
    lines.keys.emplace(std::pair{current, key}, number);
  }
  return lines;
}

// The settings in the config file, by key. Rejects unknown keys, sections and repeated keys;
// the values of list settings (which may repeat) go to lists.
ConfigFile read_config(const std::string& path) {
  const std::string content = read_file(path);
  const std::string file = "config file " + path;
  const SectionLines lines = scan_sections(content, file);
  std::istringstream stream(content);
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_config(stream);
  } catch (const CLI::Error& error) {
    throw UsageError("config file " + path + ": " + error.what());
  }
  ConfigFile config;
  for (const auto& name : lines.order) {
    config.cameras.push_back(CameraSection{name, lines.sections.at(name), {}, {}});
  }
  const auto section = [&](const std::string& name) -> CameraSection& {
    return *std::find_if(config.cameras.begin(), config.cameras.end(),
                         [&](const CameraSection& camera) { return camera.name == name; });
  };
  for (const auto& item : items) {
    // CLI11 marks the end of a [section] with an item named "--"; the section's keys were
    // already rejected, so the marker carries no news.
    if (item.name == "--" && item.inputs.empty()) continue;
    const bool in_camera = item.parents.size() == 2 && item.parents[0] == "camera" &&
                           lines.sections.count(item.parents[1]) != 0;
    if (in_camera) {
      if (item.name == "++") continue;  // the section opens
      CameraSection& camera = section(item.parents[1]);
      const auto line = lines.keys.find({camera.name, item.name});
      const std::string where =
          file + " line " + std::to_string(line != lines.keys.end() ? line->second : camera.line) +
          ": key '" + item.name + "' of [camera." + camera.name + "]";
      if (!is_setting(item.name)) throw UsageError(where + ": unknown key");
      if (!is_camera_key(item.name)) {
        throw UsageError(where + ": a server-wide key; put it before the first [camera.NAME]");
      }
      if (is_list(item.name)) {
        for (const auto& input : item.inputs)
          camera.lists[item.name].push_back(Given{input, where});
        continue;
      }
      if (item.inputs.size() != 1 || camera.settings.count(item.name) != 0) {
        throw UsageError(where + ": given more than once");
      }
      camera.settings.emplace(item.name, Given{item.inputs.front(), where});
      continue;
    }
    // CLI11 opens [camera.NAME] with "++" under "camera" too.
    if (item.name == "++" && item.parents.size() == 1 && item.parents[0] == "camera" &&
        !lines.sections.empty()) {
      continue;
    }
    const std::string key = dotted_key(item);
    // CLI11 opens a [section] with an item named "++" under that section.
    if (item.name == "++" && !item.parents.empty()) {
      throw UsageError(file + ": unknown section '[" + key.substr(0, key.size() - 3) + "]'");
    }
    if (!item.parents.empty() || !is_setting(key)) {
      throw UsageError(file + ": unknown key '" + key + "'");
    }
    const std::string where = file + ": key '" + key + "'";
    if (is_list(key)) {
      for (const auto& input : item.inputs) config.lists[key].push_back(Given{input, where});
      continue;
    }
    // CLI11 joins a key repeated on consecutive lines into one item with several values.
    if (item.inputs.size() != 1 || config.settings.count(key) != 0) {
      throw UsageError(where + ": given more than once");
    }
    config.settings.emplace(key, Given{item.inputs.front(), where});
  }
  if (config.settings.count("fps") != 0 && config.settings.count("interval") != 0) {
    throw UsageError(file + ": keys 'fps' and 'interval' cannot both be given");
  }
  for (const auto& camera : config.cameras) {
    if (camera.settings.count("fps") != 0 && camera.settings.count("interval") != 0) {
      throw UsageError(file + " line " + std::to_string(camera.line) + ": [camera." + camera.name +
                       "]: keys 'fps' and 'interval' cannot both be given");
    }
  }
  return config;
}

void apply(const std::string& key, const Given& given, Options& options) {
  if (const SettingRow* row = find_setting_by_flag(key)) return apply_row(*row, given, options);
  for (const auto& setting : kValueSettings) {
    if (key == setting.name) return setting.apply(given, options);
  }
  for (const auto& setting : kListSettings) {
    if (key == setting.name) return setting.apply(given, options);
  }
  for (const auto& setting : kFlagSettings) {
    if (key == setting.name) return setting.apply(given, options);
  }
}

// The relay's own settings need a relay; a camera format needs a camera.
void check_relay(const Options& options, const std::map<std::string, Given>& settings,
                 const std::map<std::string, std::vector<Given>>& lists) {
  const bool relay = options.source == SourceKind::relay;
  if (options.camera_format != "auto" && (relay || options.source == SourceKind::test)) {
    throw UsageError(settings.at("camera-format").where +
                     ": only a libcamera camera has a "
                     "format to choose, not --source " +
                     (relay ? std::string("http(s)://... (a relayed stream)") : "test"));
  }
  if (!relay) {
    if (settings.count("source-insecure") != 0 && options.source_insecure) {
      throw UsageError(settings.at("source-insecure").where +
                       ": needs --source https://... (a relayed stream)");
    }
    if (const auto it = lists.find("source-header"); it != lists.end() && !it->second.empty()) {
      throw UsageError(it->second.front().where +
                       ": needs --source http(s)://... (a relayed stream)");
    }
    return;
  }
  const std::string where = settings.at("source").where;
  if (parse_relay_url(options.source_url).has_credentials) {
    for (const auto& header : options.source_headers) {
      if (equal_ignoring_ascii_case(std::string_view(header).substr(0, 14), "authorization:")) {
        throw UsageError(where +
                         ": the URL's user and password and a --source-header "
                         "Authorization cannot both be given");
      }
    }
  }
}

// The options from checked-in settings: each applied in the order of --help, so that the
// first problem reported is the first one listed.
Options build_options(const std::map<std::string, Given>& settings,
                      const std::map<std::string, std::vector<Given>>& lists) {
  Options options;
  for (const auto& setting : kValueSettings) {
    if (const auto it = settings.find(setting.name); it != settings.end()) {
      apply(it->first, it->second, options);
    }
    if (std::string_view(setting.name) != "camera") continue;
    for (const auto& row : setting_rows()) {
      if (const auto it = settings.find(std::string(row.flag)); it != settings.end()) {
        apply(it->first, it->second, options);
      }
    }
  }
  for (const auto& setting : kFlagSettings) {
    if (const auto it = settings.find(setting.name); it != settings.end()) {
      apply(it->first, it->second, options);
    }
  }
  for (const auto& [name, values] : lists) {
    for (const auto& given : values) apply(name, given, options);
  }
  return options;
}

// --- the command line ---

// What CLI11 found on the command line, before any value is checked.
struct CommandLine {
  CLI::App app{"camstream streams a camera as MJPEG over HTTP.", "camstream"};
  std::string config_file;
  bool version = false;
  bool list_cameras = false;
  std::map<std::string, std::string> values;          // setting name -> text, when given
  std::map<std::string, bool> flags;                  // flag name -> value, when given
  std::map<std::string, const CLI::Option*> options;  // setting name -> its CLI11 option

  // List setting name -> every value given, in order.
  std::map<std::string, std::vector<std::string>> lists;

  CommandLine() {
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    // Unknown arguments are collected (not thrown) so the message can name them plainly.
    app.allow_extras();
    app.get_formatter()->column_width(32);
    app.footer(
        "A config file holds the same settings as `key = value` lines named like the long\n"
        "flags (width = 640, hflip = true); flags given on the command line win.\n"
        "[camera.NAME] sections in it declare several cameras, each at /cam/NAME/...\n"
        "Endpoints: / (viewer), /stream, /snapshot, /api/status, /metrics, /healthz, /ws,\n"
        "/api/token.");
    app.add_option("-c,--config", config_file,
                   "config file, keys named as the long flags (default: none)")
        ->option_text("FILE");
    for (const auto& setting : kValueSettings) {
      options[setting.name] = app.add_option(std::string("--") + setting.name, values[setting.name],
                                             setting.description)
                                  ->option_text(setting.value_name);
      if (std::string_view(setting.name) == "camera") add_picture_settings();
    }
    for (const auto& setting : kListSettings) {
      app.add_option(std::string("--") + setting.name, lists[setting.name], setting.description)
          ->option_text(setting.value_name)
          ->expected(1)
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    }
    app.add_flag("--list-cameras", list_cameras, "print each camera and its modes, then exit");
    for (const auto& setting : kFlagSettings) {
      options[setting.name] =
          app.add_flag(std::string("--") + setting.name, flags[setting.name], setting.description);
    }
    app.add_flag("--version", version, "print the camstream and libcamera versions, then exit");
  }

  // The live table's rows: flags for the booleans, values for the rest.
  void add_picture_settings() {
    for (const auto& row : setting_rows()) {
      const std::string name(row.flag);
      const std::string help = std::string(row.help) + " (default: " + default_text(row) + ")";
      if (row.kind == SettingKind::boolean) {
        options[name] = app.add_flag("--" + name, flags[name], help);
      } else {
        options[name] = app.add_option("--" + name, values[name], help)
                            ->option_text(std::string(row.value_name));
      }
    }
  }

  // The settings given on the command line, each with its flag for messages.
  std::map<std::string, Given> given() const {
    std::map<std::string, Given> settings;
    for (const auto& [name, option] : options) {
      if (option->count() == 0) continue;
      const std::string text =
          is_flag(name) ? (flags.at(name) ? "true" : "false") : values.at(name);
      settings.emplace(name, Given{text, "--" + name});
    }
    return settings;
  }
};

// Rewrites CLI11's wording into the "flag: problem" form of the other messages.
std::string describe_cli11_error(const CLI::ParseError& error) {
  const std::string what = error.what();
  // "--width: 1 required N missing": a flag at the end without its value.
  const auto colon = what.find(':');
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&error) != nullptr &&
      what.find(" required ") != std::string::npos && colon != std::string::npos) {
    return what.substr(0, colon) + ": missing value";
  }
  // "Could not convert: --hflip = maybe": a flag given a value that is not a boolean.
  constexpr std::string_view kConvert = "Could not convert: ";
  const auto equals = what.find(" = ");
  if (what.rfind(kConvert, 0) == 0 && equals != std::string::npos) {
    const std::string flag = what.substr(kConvert.size(), equals - kConvert.size());
    return flag + ": '" + what.substr(equals + 3) + "' is not true or false";
  }
  return what;
}

std::string version_text() {
  return std::string("camstream ") + CAMSTREAM_VERSION + "\n" + libcamera_version_string() + "\n";
}

ParseResult usage_error(const std::string& message) {
  ParseResult result;
  result.exit_code = kUsageExit;
  result.output = "camstream: " + message + "\nRun 'camstream --help' for the options.\n";
  return result;
}

}  // namespace

// parse_options on a given CommandLine: the fuzz targets reuse one (tests/fuzz), since building
// CLI11's App is most of the time of a parse.
static ParseResult parse_command_line(CommandLine& command_line, int argc,
                                      const char* const* argv) {
  try {
    if (argc > 0) {
      command_line.app.parse(argc, argv);
    }
  } catch (const CLI::CallForHelp&) {
    return ParseResult{std::nullopt, 0, command_line.app.help()};
  } catch (const CLI::ParseError& error) {
    return usage_error(describe_cli11_error(error));
  }
  const auto unexpected = command_line.app.remaining();
  if (!unexpected.empty()) {
    const std::string& first = unexpected.front();
    return usage_error(first.size() > 1 && first.front() == '-'
                           ? "unknown option '" + first + "'"
                           : "unexpected argument '" + first + "'");
  }
  if (command_line.version) return ParseResult{std::nullopt, 0, version_text()};

  try {
    std::map<std::string, Given> settings = command_line.given();
    if (settings.count("fps") != 0 && settings.count("interval") != 0) {
      throw UsageError("--fps and --interval cannot both be given");
    }
    std::map<std::string, std::vector<Given>> lists;
    for (const auto& [name, values] : command_line.lists) {
      for (const auto& value : values) lists[name].push_back(Given{value, "--" + name});
    }
    std::vector<CameraSection> sections;
    if (!command_line.config_file.empty()) {
      ConfigFile config = read_config(command_line.config_file);
      // A list given on the command line replaces the file's; but controls add up, the
      // command line's last (so it wins for a control named in both).
      for (auto& [name, values] : config.lists) {
        if (name == "control") {
          values.insert(values.end(), lists[name].begin(), lists[name].end());
          lists[name] = std::move(values);
        } else if (lists[name].empty()) {
          lists[name] = std::move(values);
        }
      }
      // --fps and --interval set the same thing: either on the command line replaces both keys.
      if (settings.count("fps") != 0 || settings.count("interval") != 0) {
        config.settings.erase("fps");
        config.settings.erase("interval");
      }
      settings.merge(config.settings);  // keeps the command line's value where both have a key
      sections = std::move(config.cameras);
    }

    check_combinations(settings);
    Options options = build_options(settings, lists);
    options.config_file = command_line.config_file;
    options.list_cameras = command_line.list_cameras;
    if (sections.empty()) {
      check_relay(options, settings, lists);
    }
    // Each camera: its section's keys over the defaults (the keys before any section, and
    // the command line), built as the one camera would be, and checked the same way.
    for (auto& section : sections) {
      std::map<std::string, Given> own = std::move(section.settings);
      const bool rate = own.count("fps") != 0 || own.count("interval") != 0;
      const bool own_insecure = own.count("source-insecure") != 0;
      for (const auto& [key, given] : settings) {
        if (!is_camera_key(key) || (rate && (key == "fps" || key == "interval"))) continue;
        own.emplace(key, given);  // the section's own value stays
      }
      std::map<std::string, std::vector<Given>> own_lists;
      for (const auto& [key, values] : lists) {
        if (is_camera_key(key)) own_lists[key] = values;
      }
      for (auto& [key, values] : section.lists) {
        // The section's controls come after the defaults' (so they win); its headers replace.
        if (key != "control") own_lists[key].clear();
        own_lists[key].insert(own_lists[key].end(), values.begin(), values.end());
      }
      // A relay's defaults (its headers, source-insecure) are for the cameras that relay.
      const auto source = own.find("source");
      if (source == own.end() || source->second.text.find("://") == std::string::npos) {
        if (!own_insecure) own.erase("source-insecure");
        if (section.lists.count("source-header") == 0) own_lists.erase("source-header");
      }
      Options camera = build_options(own, own_lists);
      check_relay(camera, own, own_lists);
      for (auto& warning : camera.warnings) {  // a default's note once, not once per camera
        if (std::find(options.warnings.begin(), options.warnings.end(), warning) ==
            options.warnings.end()) {
          options.warnings.push_back(std::move(warning));
        }
      }
      CameraOptions& added = options.cameras.emplace_back(static_cast<CameraOptions&&>(camera));
      added.name = section.name;
    }
    return ParseResult{std::move(options), 0, {}};
  } catch (const UsageError& error) {
    return usage_error(error.what());
  }
}

ParseResult parse_options(int argc, const char* const* argv) {
  CommandLine command_line;
  return parse_command_line(command_line, argc, argv);
}

}  // namespace camstream
