#include "camstream/app/run.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <stdexcept>

#include "camstream/access/access_error.hpp"
#include "camstream/access/gate.hpp"
#include "camstream/app/options.hpp"
#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/capture_error.hpp"
#include "camstream/capture/frame_source.hpp"
#include "camstream/capture/libcamera.hpp"
#include "camstream/capture/relay_source.hpp"
#include "camstream/capture/test_source.hpp"
#include "camstream/core/controls.hpp"
#include "camstream/http/server.hpp"
#include "camstream/http/server_settings.hpp"
#include "camstream/http/tls_error.hpp"
#include "camstream/stream/capture_service.hpp"
#include "camstream/stream/capture_status.hpp"
#include "camstream/stream/frame_hub.hpp"
#include "camstream/stream/lifecycle.hpp"
#include "camstream/stream/metrics.hpp"
#include "systemd_notify.hpp"

namespace camstream {

namespace asio = boost::asio;

namespace {

// A flag or config value that only the opened camera can judge (--control): exit 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void set_up_logging(const Options& options) {
  // stdout carries only the "listening on" line; the log goes to stderr (journald takes both).
  auto logger = spdlog::stderr_color_mt("camstream");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  for (const auto& warning : options.warnings) spdlog::warn("{}", warning);
}

int print_cameras() {
  if (!libcamera_built()) {
    std::cerr << "camstream: " << libcamera_version_string()
              << ": --list-cameras needs a build with libcamera\n";
    return 1;
  }
  const auto cameras = list_cameras();
  if (cameras.empty()) {
    std::cout << "no cameras found\n";
    return 0;
  }
  for (const auto& camera : cameras) {
    std::cout << camera.index << ": " << camera.id << " (" << camera.model << ")\n";
    for (const auto& mode : camera.modes) std::cout << "    " << mode << "\n";
  }
  return 0;
}

RelaySettings relay_settings(const CameraOptions& options) {
  RelaySettings settings;
  settings.url = options.source_url;
  settings.headers = options.source_headers;
  settings.insecure = options.source_insecure;
  return settings;
}

std::unique_ptr<FrameSource> open_source(const CameraOptions& options) {
  const CaptureConfig config = capture_config(options.live, options.camera, options.camera_format);
  switch (options.source) {
    case SourceKind::relay:
      return make_relay_source(relay_settings(options), config);
    case SourceKind::test:
      return make_test_source(config);
    case SourceKind::libcamera:
      return make_libcamera_source(config);  // throws CaptureError naming the problem
    case SourceKind::automatic:
      break;
  }
  if (options.camera_format != "auto") {
    // A camera format asked for is never silently replaced by the test pattern.
    if (!libcamera_built()) {
      throw UsageError("--camera-format " + options.camera_format + ": " +
                       libcamera_version_string() + ", so there is no camera to ask");
    }
    if (list_cameras().empty()) {
      throw UsageError("--camera-format " + options.camera_format + ": no camera found");
    }
    return make_libcamera_source(config);
  }
  if (libcamera_built()) {
    try {
      if (!list_cameras().empty()) return make_libcamera_source(config);
      spdlog::warn("no camera found: streaming the test pattern (--source auto)");
    } catch (const CaptureError& error) {
      spdlog::warn("camera unavailable ({}): streaming the test pattern (--source auto)",
                   error.what());
    }
  } else {
    spdlog::warn("{}: streaming the test pattern (--source auto)", libcamera_version_string());
  }
  return make_test_source(config);
}

// The same kind of source as the one opened at start-up, for a live reconfiguration.
CaptureService::SourceFactory reopener(const FrameSource& opened, const CameraOptions& options) {
  if (opened.info().name == "test") return make_test_source;
  if (opened.info().name == "relay") {
    return [settings = relay_settings(options)](const CaptureConfig& config) {
      return make_relay_source(settings, config);
    };
  }
  // The camera format is not a live setting: each reopened camera is asked the same.
  return [format = options.camera_format](CaptureConfig config) {
    config.format = format;
    return make_libcamera_source(config);
  };
}

// --control NAME=VALUE, read in each control's own type and checked against the camera's
// range; a later value for the same control wins. Throws UsageError naming the flag.
std::map<std::string, ControlValue> start_up_controls(const CameraOptions& options,
                                                      const FrameSource& source) {
  std::map<std::string, ControlValue> values;
  if (options.controls.empty()) return values;
  const ControlMap offered = source.controls();
  for (const auto& control : options.controls) {
    const auto info = offered.find(control.name);
    if (info == offered.end()) {
      std::string names;
      for (const auto& [name, unused] : offered) names += (names.empty() ? "" : ", ") + name;
      throw UsageError(control.where + ": " + control.name + ": unknown control; this camera has " +
                       (names.empty() ? "none" : names));
    }
    CheckedValue checked = parse_control_value(info->second, control.value);
    if (!checked.error.empty()) {
      throw UsageError(control.where + ": " + control.name + ": " + checked.error);
    }
    values[control.name] = std::move(checked.value);
  }
  return values;
}

// Each viewer is a socket: let --max-clients, not the default soft limit of 1024 descriptors,
// decide how many can watch.
void raise_descriptor_limit(int max_clients) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (static_cast<rlim_t>(max_clients) + 64 > limit.rlim_cur) {
    spdlog::warn("--max-clients {} exceeds the open-file limit {}", max_clients, limit.rlim_cur);
  }
}

std::string url_host(const asio::ip::address& address) {
  return address.is_v6() ? fmt::format("[{}]", address.to_string()) : address.to_string();
}

// What each module is told of the options: the one place they are copied across.
// encode_threads and max_outputs are server-wide rows that bound each camera alike.
CaptureService::Settings capture_settings(const CameraOptions& options, int encode_threads,
                                          int max_outputs, CaptureService::SourceFactory reopen) {
  CaptureService::Settings settings;
  settings.live = options.live;
  settings.camera = options.camera;
  settings.reopen = std::move(reopen);
  settings.lifecycle.always_on = options.always_on;
  settings.lifecycle.idle_timeout = options.idle_timeout;
  settings.encode_threads = encode_threads;
  settings.max_outputs = max_outputs;
  if (options.source == SourceKind::relay) {
    settings.upstream_size = true;
    // An upstream is usually back within a second (a restart): reconnect sooner and more
    // often than a camera is reopened, and spread the retries of many relays apart.
    settings.lifecycle.first_retry = std::chrono::milliseconds(500);
    settings.lifecycle.max_retry = std::chrono::seconds(10);
    settings.lifecycle.retry_jitter = 0.2;
  }
  return settings;
}

ServerSettings server_settings(const Options& options) {
  ServerSettings settings;
  settings.bind = options.bind;
  settings.port = static_cast<std::uint16_t>(options.port);
  settings.max_clients = options.max_clients;
  settings.allow_origin = options.allow_origin;
  settings.max_connections = options.max_connections;
  settings.allow_hosts = options.allow_hosts;
  settings.listen_fd = systemd_listening_socket();
  settings.tls_cert_file = options.tls_cert_file;
  settings.tls_key_file = options.tls_key_file;
  return settings;
}

access::Gate::Settings gate_settings(const Options& options) {
  access::Gate::Settings settings;
  settings.users_file = options.users_file;
  settings.operators = options.operators;
  settings.token_key_file = options.token_key_file;
  return settings;
}

// One camera's services, by value for its lifetime in run().
struct CameraStack {
  std::string name;
  FrameHub hub;
  Metrics metrics;
  std::unique_ptr<CaptureService> capture;
};

}  // namespace

int run(const Options& options) {
  set_up_logging(options);
  try {
    if (options.list_cameras) return print_cameras();

    raise_descriptor_limit(options.max_clients);
    // Every connection is a descriptor too; past the limit new ones are closed at once.
    if (rlimit limit{}; ::getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
                        static_cast<rlim_t>(options.max_connections) + 64 > limit.rlim_cur) {
      spdlog::warn("--max-connections {} exceeds the open-file limit {}", options.max_connections,
                   limit.rlim_cur);
    }
    asio::io_context io;
    // One capture stack per camera (docs/api.md, "Several cameras in one process"), each on
    // its own source thread; the one I/O thread serves them all.
    const std::vector<CameraOptions> camera_options = options.camera_list();
    const bool several = camera_options.size() > 1;
    std::vector<std::unique_ptr<CameraStack>> cameras;
    for (const auto& camera : camera_options) {
      // With several cameras, a message names the camera it is about.
      const std::string about = several ? "camera " + camera.name + ": " : "";
      try {
        auto stack = std::make_unique<CameraStack>();
        stack->name = camera.name;
        auto source = open_source(camera);
        const auto controls = start_up_controls(camera, *source);
        const auto reopen = reopener(*source, camera);
        stack->capture = std::make_unique<CaptureService>(
            io.get_executor(), std::move(source),
            capture_settings(camera, options.encode_threads, options.max_outputs, reopen),
            stack->hub, stack->metrics);
        if (const auto error = stack->capture->set_controls(controls)) {
          throw UsageError(error->message());
        }
        cameras.push_back(std::move(stack));
      } catch (const UsageError& error) {
        throw UsageError(about + error.what());
      } catch (const CameraFormatError& error) {  // exit 2, as a bad flag: keep its type
        throw CameraFormatError(about + error.what());
      } catch (const CaptureError& error) {
        throw CaptureError(about + error.what());
      }
    }
    spdlog::info("encoding: {} thread{} (stripes of each frame){}", options.encode_threads,
                 options.encode_threads == 1 ? "" : "s", several ? ", for each camera" : "");
    CaptureService& capture = *cameras.front()->capture;  // the first: systemd's probe
    Metrics& metrics = cameras.front()->metrics;

    ServerSettings serving = server_settings(options);
    if (serving.listen_fd >= 0) {
      spdlog::info("socket activation: serving on the socket systemd passed (bind, port unused)");
    }
    access::Gate gate(io.get_executor(), gate_settings(options));
    std::vector<ServerCamera> served;
    served.reserve(cameras.size());
    for (const auto& camera : cameras) {
      served.push_back(ServerCamera{camera->name, *camera->capture, camera->hub, camera->metrics});
    }
    Server server(io, std::move(serving), served, gate);

    SystemdNotifier::Probe probe;
    probe.status = [&] {
      const CaptureStatus status = capture.status();
      return systemd_status(to_string(status.state), server.viewers(), status.fps, status.error);
    };
    // The supervision of every camera runs on the one I/O thread: the oldest says whether it
    // still runs. A stalled stream is judged by the first camera, so that one camera's
    // trouble does not restart the others.
    probe.supervised_at = [&] {
      auto oldest = capture.supervised_at();
      for (const auto& camera : cameras)
        oldest = std::min(oldest, camera->capture->supervised_at());
      return oldest;
    };
    probe.streaming = [&] { return capture.state() == CaptureState::streaming; };
    probe.frames = [&] { return metrics.frames_captured.load(std::memory_order_relaxed); };
    probe.frame_interval = [&] {
      return std::chrono::steady_clock::duration(capture.live_settings().interval);
    };
    SystemdNotifier systemd(io, std::move(probe));
    capture.on_status([&] { systemd.update_status(); });

    // Handle signals before announcing the port: a test may send SIGTERM as soon as it reads it.
    std::signal(SIGPIPE, SIG_IGN);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    asio::steady_timer deadline(io);
    bool forced = false;
    // SIGHUP reads the users file, the token key and the certificate again (docs/security.md).
    asio::signal_set reload_signals(io, SIGHUP);
    std::function<void()> wait_for_reload = [&] {
      reload_signals.async_wait([&](boost::system::error_code ec, int) {
        if (ec) return;
        spdlog::info("SIGHUP: reloading the users, the token key and the certificate");
        gate.reload();
        server.recheck_access();
        server.reload_tls();
        wait_for_reload();
      });
    };
    wait_for_reload();
    signals.async_wait([&](boost::system::error_code ec, int signal) {
      if (ec) return;
      reload_signals.cancel();
      spdlog::info("signal {}: closing viewers and releasing the camera", signal);
      systemd.stopping();
      server.shutdown([&] { deadline.cancel(); });
      for (const auto& camera : cameras) camera->capture->shutdown();
      // Viewers get a second to take the close delimiter; this bounds the rest.
      deadline.expires_after(std::chrono::milliseconds(1800));
      deadline.async_wait([&](boost::system::error_code timer_ec) {
        if (timer_ec) return;
        forced = true;
        io.stop();
      });
    });

    const auto endpoint = server.listen();
    std::printf("listening on %s://%s:%u/\n", server.tls() ? "https" : "http",
                url_host(endpoint.address()).c_str(), static_cast<unsigned>(endpoint.port()));
    std::fflush(stdout);
    if (!gate.required() && !endpoint.address().is_loopback()) {
      spdlog::warn(
          "listening on {} without --users: anyone who can reach this port can watch and steer "
          "the camera (docs/security.md)",
          url_host(endpoint.address()));
    }
    for (const auto& camera : cameras) camera->capture->begin();
    systemd.ready();

    io.run();
    if (forced) {
      spdlog::warn("connections still open at the shutdown deadline: exiting anyway");
      spdlog::shutdown();
      std::_Exit(0);
    }
    spdlog::info("stopped");
    return 0;
  } catch (const UsageError& error) {
    spdlog::error("{}", error.what());
    return 2;
  } catch (const CameraFormatError& error) {
    spdlog::error("{}", error.what());
    return 2;  // --camera-format names what the camera does not offer: like a bad flag
  } catch (const CaptureError& error) {
    spdlog::error("{}", error.what());
    return 1;
  } catch (const access::AccessError& error) {
    spdlog::error("{}", error.what());
    return 2;  // a bad --users, --operators or --token-key: like any bad flag
  } catch (const TlsError& error) {
    spdlog::error("{}", error.what());
    return 2;
  } catch (const std::system_error& error) {
    spdlog::error("{}", error.what());
    return 1;
  }
}

}  // namespace camstream
