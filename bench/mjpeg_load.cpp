// mjpeg-load: opens many viewers of a camstream-style MJPEG stream on loopback, checks every
// byte of every stream against docs/api.md and reports rates, latencies, errors and the
// server's CPU and memory. One thread, one epoll loop; stops by itself after --seconds.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "multipart_checker.hpp"
#include "proc_stats.hpp"
#include "stats.hpp"
#include "unique_fd.hpp"

namespace camstream::bench {
namespace {

using Clock = std::chrono::steady_clock;
namespace json = boost::json;

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string path = "/stream";
  int viewers = 1;
  int ramp_ms = 0;
  int slow = 0;
  int slow_rate = 65536;
  int slow_rcvbuf = 16384;  // a slow link, not a slow reader: few bytes wait at the receiver
  int stalled = 0;
  int stalled_rcvbuf = 4096;
  double seconds = 10;
  int pid = 0;
  bool json = false;
  bool copy_body = false;
  std::string save_frames;
  int save_count = 30;
};

enum class Kind { normal, slow, stalled };

struct Viewer {
  enum class State { waiting, connecting, sending, receiving, finished };

  Kind kind = Kind::normal;
  State state = State::waiting;
  UniqueFd fd;
  std::size_t request_sent = 0;
  MultipartChecker checker;
  Clock::time_point connect_start{};
  std::optional<Clock::time_point> first_part;
  Clock::time_point last_part{};
  double max_gap_s = 0;
  std::uint64_t parts = 0;
  std::uint64_t bytes = 0;
  std::int64_t last_timestamp_us = 0;
  std::uint64_t non_increasing = 0;
  // Token bucket of a slow viewer.
  double tokens = 0;
  Clock::time_point last_refill{};
  bool paused = false;
  std::vector<std::uint8_t> saved_body;
};

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::int64_t realtime_us() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
}

std::string errno_kind(int error) {
  switch (error) {
    case ECONNREFUSED:
      return "connect_refused";
    case ECONNRESET:
      return "reset";
    case EPIPE:
      return "broken_pipe";
    case ETIMEDOUT:
      return "timeout";
    case EADDRNOTAVAIL:
      return "no_local_port";
    case EMFILE:
    case ENFILE:
      return "out_of_fds";
  }
  const char* name = ::strerrorname_np(error);
  return name != nullptr ? std::string("errno_") + name : "errno_" + std::to_string(error);
}

bool is_loopback(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
  }
  return false;
}

void raise_file_limit(std::size_t wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur >= wanted) return;
  if (limit.rlim_max < wanted) limit.rlim_max = wanted;  // works only with CAP_SYS_RESOURCE
  limit.rlim_cur = wanted;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    throw std::runtime_error("cannot raise RLIMIT_NOFILE to " + std::to_string(wanted) +
                             " (raise `ulimit -n`): " + std::strerror(errno));
  }
}

class LoadRun {
 public:
  LoadRun(Options options, sockaddr_storage address, socklen_t address_length)
      : options_(std::move(options)),
        address_(address),
        address_length_(address_length),
        epoll_(::epoll_create1(EPOLL_CLOEXEC)),
        buffer_(256 * 1024) {
    if (!epoll_) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    request_ = "GET " + options_.path + " HTTP/1.1\r\nHost: " + options_.host + ":" +
               std::to_string(options_.port) + "\r\nUser-Agent: mjpeg-load\r\n\r\n";
    // Stalled and slow viewers first, so that with a ramp they are present the whole run.
    for (int i = 0; i < options_.stalled; ++i) viewers_.emplace_back().kind = Kind::stalled;
    for (int i = 0; i < options_.slow; ++i) viewers_.emplace_back().kind = Kind::slow;
    for (int i = 0; i < options_.viewers; ++i) viewers_.emplace_back().kind = Kind::normal;
    if (!options_.save_frames.empty()) std::filesystem::create_directories(options_.save_frames);
  }

  void run();
  json::object report() const;

 private:
  void start(std::size_t index, Clock::time_point now);
  void handle(std::size_t index, std::uint32_t events);
  void send_request(std::size_t index);
  void receive(Viewer& viewer);
  void on_part(Viewer& viewer, const Part& part);
  void refill(Viewer& viewer, Clock::time_point now);
  void watch(std::size_t index, std::uint32_t events, int op = EPOLL_CTL_MOD);
  void finish(Viewer& viewer, const std::string& kind, const std::string& detail);
  void sample_server();

  Options options_;
  sockaddr_storage address_;
  socklen_t address_length_;
  UniqueFd epoll_;
  std::string request_;
  std::vector<Viewer> viewers_;
  std::vector<std::uint8_t> buffer_;

  Clock::time_point start_time_{};
  Clock::time_point end_time_{};
  std::optional<ProcSample> server_start_;
  std::optional<ProcSample> server_end_;
  long server_rss_max_kb_ = 0;
  int server_threads_max_ = 0;
  MachineSample machine_start_{};
  MachineSample machine_end_{};
  rusage own_usage_start_{};
  rusage own_usage_end_{};

  std::uint64_t total_bytes_ = 0;
  std::uint64_t stalled_dropped_ = 0;
  int saved_frames_ = 0;
  std::unordered_set<std::int64_t> distinct_timestamps_;
  std::vector<double> latency_ms_[2];  // by Kind::normal, Kind::slow
  std::vector<double> first_frame_ms_[2];
  std::uint64_t jpeg_bytes_[2] = {0, 0};
  std::map<std::string, std::uint64_t> errors_;
  std::map<std::string, std::string> error_examples_;
};

void LoadRun::watch(std::size_t index, std::uint32_t events, int op) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = index;
  if (::epoll_ctl(epoll_.get(), op, viewers_[index].fd.get(), &event) != 0) {
    throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
  }
}

void LoadRun::finish(Viewer& viewer, const std::string& kind, const std::string& detail) {
  if (viewer.state == Viewer::State::finished) return;
  viewer.state = Viewer::State::finished;
  viewer.fd.reset();  // also removes it from the epoll set
  if (kind.empty()) return;
  ++errors_[kind];
  error_examples_.try_emplace(kind, detail);
}

void LoadRun::start(std::size_t index, Clock::time_point now) {
  Viewer& viewer = viewers_[index];
  viewer.connect_start = now;
  viewer.fd = UniqueFd(::socket(address_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!viewer.fd) {
    finish(viewer, errno_kind(errno), std::string("socket: ") + std::strerror(errno));
    return;
  }
  const int rcvbuf = viewer.kind == Kind::stalled ? options_.stalled_rcvbuf
                     : viewer.kind == Kind::slow  ? options_.slow_rcvbuf
                                                  : 0;
  if (rcvbuf > 0) ::setsockopt(viewer.fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (viewer.kind == Kind::slow) {
    viewer.tokens = 0;
    viewer.last_refill = now;
  }
  if (::connect(viewer.fd.get(), reinterpret_cast<const sockaddr*>(&address_), address_length_) ==
      0) {
    viewer.state = Viewer::State::sending;
    watch(index, EPOLLOUT, EPOLL_CTL_ADD);
    send_request(index);
  } else if (errno == EINPROGRESS) {
    viewer.state = Viewer::State::connecting;
    watch(index, EPOLLOUT, EPOLL_CTL_ADD);
  } else {
    finish(viewer, errno_kind(errno), std::string("connect: ") + std::strerror(errno));
  }
}

void LoadRun::send_request(std::size_t index) {
  Viewer& viewer = viewers_[index];
  while (viewer.request_sent < request_.size()) {
    const auto sent = ::send(viewer.fd.get(), request_.data() + viewer.request_sent,
                             request_.size() - viewer.request_sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EAGAIN) return;  // EPOLLOUT will call again
      finish(viewer, errno_kind(errno), std::string("send: ") + std::strerror(errno));
      return;
    }
    viewer.request_sent += static_cast<std::size_t>(sent);
  }
  viewer.state = Viewer::State::receiving;
  if (!options_.save_frames.empty() && index == viewers_.size() - 1) {
    viewer.checker.capture_bodies(&viewer.saved_body);
  }
  // A stalled viewer never reads: it only learns when the server gives up on it.
  watch(index, viewer.kind == Kind::stalled ? EPOLLRDHUP : EPOLLIN | EPOLLRDHUP);
}

void LoadRun::refill(Viewer& viewer, Clock::time_point now) {
  // A bucket of 1/20 s lets the viewer read in small bites, as a slow link would.
  const double capacity = std::max(options_.slow_rate / 20.0, 1.0);
  viewer.tokens = std::min(
      capacity, viewer.tokens + options_.slow_rate * seconds_between(viewer.last_refill, now));
  viewer.last_refill = now;
}

void LoadRun::handle(std::size_t index, std::uint32_t events) {
  Viewer& viewer = viewers_[index];
  if (viewer.state == Viewer::State::connecting) {
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(viewer.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      finish(viewer, errno_kind(error), std::string("connect: ") + std::strerror(error));
      return;
    }
    viewer.state = Viewer::State::sending;
  }
  if (viewer.state == Viewer::State::sending) {
    send_request(index);
    return;
  }
  if (viewer.state != Viewer::State::receiving) return;
  if (viewer.kind == Kind::stalled) {
    ++stalled_dropped_;
    finish(viewer, "", "");
    return;
  }
  if ((events & EPOLLERR) && !(events & EPOLLIN)) {
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(viewer.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    finish(viewer, errno_kind(error ? error : ECONNRESET), "socket error while streaming");
    return;
  }
  receive(viewer);
}

void LoadRun::receive(Viewer& viewer) {
  std::size_t want = buffer_.size();
  if (viewer.kind == Kind::slow) {
    refill(viewer, Clock::now());
    want = std::min(want, static_cast<std::size_t>(viewer.tokens));
    if (want == 0) return;
  }
  // The middle of a JPEG is dropped in the kernel (MSG_TRUNC) unless bodies must be copied:
  // the checker needs only its length and first and last bytes.
  const std::size_t skippable = options_.copy_body ? 0 : viewer.checker.skippable();
  const bool skip = skippable >= 4096;
  if (skip) want = std::min(want, skippable);
  const ssize_t got =
      ::recv(viewer.fd.get(), buffer_.data(), want, MSG_DONTWAIT | (skip ? MSG_TRUNC : 0));
  if (got == 0) {
    if (viewer.checker.closed()) {
      finish(viewer, "server_closed", "close delimiter, then end of stream");
    } else {
      finish(viewer, "eof",
             viewer.parts == 0 ? "end of stream before the first part"
                               : "end of stream in the middle of the run");
    }
    return;
  }
  if (got < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      finish(viewer, errno_kind(errno), std::string("recv: ") + std::strerror(errno));
    }
    return;
  }
  const auto bytes = static_cast<std::size_t>(got);
  viewer.bytes += bytes;
  total_bytes_ += bytes;
  if (skip) {
    viewer.checker.skip(bytes);
  } else {
    viewer.checker.feed({buffer_.data(), bytes}, [&](const Part& part) { on_part(viewer, part); });
    if (viewer.checker.error() != StreamError::none) {
      std::string detail = viewer.checker.error_detail();
      if (viewer.checker.http_status() != 0 && viewer.checker.http_status() != 200) {
        finish(viewer, "http_" + std::to_string(viewer.checker.http_status()), detail);
      } else {
        finish(viewer, std::string(to_string(viewer.checker.error())), detail);
      }
      return;
    }
  }
  if (viewer.kind == Kind::slow) {
    viewer.tokens -= static_cast<double>(bytes);
    if (viewer.tokens < 1 && !viewer.paused) {
      viewer.paused = true;
      watch(static_cast<std::size_t>(&viewer - viewers_.data()), EPOLLRDHUP);
    }
  }
}

void LoadRun::on_part(Viewer& viewer, const Part& part) {
  const auto now = Clock::now();
  const auto kind = static_cast<int>(viewer.kind);
  jpeg_bytes_[kind] += part.jpeg_size;
  latency_ms_[kind].push_back(static_cast<double>(realtime_us() - part.timestamp_us) / 1000.0);
  if (!viewer.first_part) {
    viewer.first_part = now;
    first_frame_ms_[kind].push_back(seconds_between(viewer.connect_start, now) * 1000.0);
  } else {
    viewer.max_gap_s = std::max(viewer.max_gap_s, seconds_between(viewer.last_part, now));
  }
  viewer.last_part = now;
  ++viewer.parts;
  if (part.timestamp_us <= viewer.last_timestamp_us) ++viewer.non_increasing;
  viewer.last_timestamp_us = part.timestamp_us;
  distinct_timestamps_.insert(part.timestamp_us);
  if (!viewer.saved_body.empty()) {
    char name[32];
    std::snprintf(name, sizeof name, "frame-%03d.jpg", saved_frames_++);
    std::ofstream(std::filesystem::path(options_.save_frames) / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(viewer.saved_body.data()),
               static_cast<std::streamsize>(viewer.saved_body.size()));
    viewer.saved_body.clear();
    if (saved_frames_ >= options_.save_count) viewer.checker.capture_bodies(nullptr);
  }
}

void LoadRun::sample_server() {
  if (options_.pid <= 0) return;
  if (const auto sample = sample_process(options_.pid)) {
    server_rss_max_kb_ = std::max(server_rss_max_kb_, sample->rss_kb);
    server_threads_max_ = std::max(server_threads_max_, sample->threads);
  }
}

void LoadRun::run() {
  if (options_.pid > 0) {
    server_start_ = sample_process(options_.pid);
    if (!server_start_) throw std::runtime_error("no process " + std::to_string(options_.pid));
    sample_server();
  }
  machine_start_ = sample_machine();
  ::getrusage(RUSAGE_SELF, &own_usage_start_);
  start_time_ = Clock::now();
  const auto deadline = start_time_ + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(options_.seconds));
  const auto ramp = std::chrono::milliseconds(options_.ramp_ms);
  std::size_t started = 0;
  auto next_sample = start_time_;
  std::vector<epoll_event> events(1024);
  for (auto now = start_time_; now < deadline; now = Clock::now()) {
    while (started < viewers_.size() &&
           (options_.ramp_ms == 0 || now >= start_time_ + ramp * static_cast<long>(started) /
                                                              static_cast<long>(viewers_.size()))) {
      start(started++, now);
    }
    bool any_paused = false;
    for (std::size_t i = 0; i < viewers_.size(); ++i) {
      Viewer& viewer = viewers_[i];
      if (!viewer.paused) continue;
      if (viewer.state != Viewer::State::receiving) {
        viewer.paused = false;
        continue;
      }
      refill(viewer, now);
      if (viewer.tokens >= std::max(options_.slow_rate / 20.0, 1.0)) {
        viewer.paused = false;
        watch(i, EPOLLIN | EPOLLRDHUP);
      } else {
        any_paused = true;
      }
    }
    if (now >= next_sample) {
      sample_server();
      next_sample = now + std::chrono::milliseconds(200);
    }
    int timeout_ms =
        static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count());
    timeout_ms = std::min(timeout_ms, 100);
    if (any_paused || started < viewers_.size()) timeout_ms = std::min(timeout_ms, 2);
    const int ready = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()),
                                   std::max(timeout_ms, 0));
    if (ready < 0 && errno != EINTR) {
      throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
    }
    for (int i = 0; i < ready; ++i) handle(events[i].data.u64, events[i].events);
  }
  end_time_ = Clock::now();
  ::getrusage(RUSAGE_SELF, &own_usage_end_);
  machine_end_ = sample_machine();
  if (options_.pid > 0) {
    sample_server();
    server_end_ = sample_process(options_.pid);
  }
  for (auto& viewer : viewers_) {
    if (viewer.kind != Kind::stalled && viewer.state != Viewer::State::finished &&
        viewer.parts == 0) {
      ++errors_["no_frame"];
      error_examples_.try_emplace("no_frame", "no complete part during the run");
    }
  }
}

double cpu_seconds(const rusage& usage) {
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

json::object LoadRun::report() const {
  const double duration = seconds_between(start_time_, end_time_);
  json::object result;
  result["duration_s"] = duration;
  result["viewers"] = {{"normal", options_.viewers},
                       {"slow", options_.slow},
                       {"stalled", options_.stalled},
                       {"ramp_ms", options_.ramp_ms},
                       {"slow_rate", options_.slow_rate}};
  std::uint64_t frames_total = 0;
  std::optional<Clock::time_point> earliest_part;
  for (const Kind kind : {Kind::normal, Kind::slow}) {
    std::vector<double> fps;
    std::vector<double> gaps_ms;
    std::uint64_t frames = 0;
    std::uint64_t bytes = 0;
    std::uint64_t non_increasing = 0;
    std::size_t count = 0;
    for (const auto& viewer : viewers_) {
      if (viewer.kind != kind) continue;
      ++count;
      frames += viewer.parts;
      bytes += viewer.bytes;
      non_increasing += viewer.non_increasing;
      if (viewer.first_part) {
        if (!earliest_part || *viewer.first_part < *earliest_part)
          earliest_part = viewer.first_part;
        const double live = seconds_between(*viewer.first_part, end_time_);
        fps.push_back(live > 0 ? static_cast<double>(viewer.parts - 1) / live : 0);
        gaps_ms.push_back(viewer.max_gap_s * 1000.0);
      } else {
        fps.push_back(0);
      }
    }
    frames_total += frames;
    if (count == 0) continue;
    auto latency = latency_ms_[static_cast<int>(kind)];
    auto first_frame = first_frame_ms_[static_cast<int>(kind)];
    auto fps_sorted = fps;
    json::object group{
        {"viewers", count},
        {"frames", frames},
        {"bytes_per_s_per_viewer",
         duration > 0 ? static_cast<double>(bytes) / duration / count : 0},
        {"fps",
         {{"min", minimum(fps)}, {"median", percentile(fps_sorted, 50)}, {"max", maximum(fps)}}},
        {"latency_ms",
         {{"p50", percentile(latency, 50)},
          {"p99", percentile(latency, 99)},
          {"max", maximum(latency)}}},
        {"first_frame_ms",
         {{"p50", percentile(first_frame, 50)},
          {"max", maximum(first_frame)},
          {"count", first_frame.size()}}},
        {"max_gap_ms", {{"median", percentile(gaps_ms, 50)}, {"max", maximum(gaps_ms)}}},
        {"non_increasing_timestamps", non_increasing},
        {"jpeg_bytes_mean", frames > 0 ? static_cast<double>(jpeg_bytes_[static_cast<int>(kind)]) /
                                             static_cast<double>(frames)
                                       : 0},
    };
    result[kind == Kind::normal ? "normal" : "slow"] = std::move(group);
  }
  if (options_.stalled > 0) {
    result["stalled"] = {{"viewers", options_.stalled}, {"dropped_by_server", stalled_dropped_}};
  }
  std::int64_t min_ts = 0;
  std::int64_t max_ts = 0;
  for (const auto ts : distinct_timestamps_) {
    min_ts = (min_ts == 0 || ts < min_ts) ? ts : min_ts;
    max_ts = std::max(max_ts, ts);
  }
  const double seen_for = earliest_part ? seconds_between(*earliest_part, end_time_) : 0;
  const auto distinct = distinct_timestamps_.size();
  result["source"] = {{"distinct_frames", distinct},
                      {"fps", seen_for > 0 ? static_cast<double>(distinct) / seen_for : 0},
                      {"fps_from_timestamps", distinct > 1 && max_ts > min_ts
                                                  ? static_cast<double>(distinct - 1) * 1e6 /
                                                        static_cast<double>(max_ts - min_ts)
                                                  : 0}};
  result["frames_total"] = frames_total;
  result["bytes_total"] = total_bytes_;
  result["bytes_per_s"] = duration > 0 ? static_cast<double>(total_bytes_) / duration : 0;
  json::object errors;
  std::uint64_t error_count = 0;
  for (const auto& [kind, count] : errors_) {
    errors[kind] = count;
    error_count += count;
  }
  json::object examples;
  for (const auto& [kind, detail] : error_examples_) examples[kind] = detail;
  result["errors"] = std::move(errors);
  result["error_count"] = error_count;
  result["error_examples"] = std::move(examples);
  if (server_start_ && server_end_) {
    const double cpu = server_end_->utime_s + server_end_->stime_s - server_start_->utime_s -
                       server_start_->stime_s;
    result["server"] = {
        {"pid", options_.pid},
        {"cpu_s", cpu},
        {"utime_s", server_end_->utime_s - server_start_->utime_s},
        {"stime_s", server_end_->stime_s - server_start_->stime_s},
        {"cpu_s_per_frame_sent", frames_total > 0 ? cpu / static_cast<double>(frames_total) : 0},
        {"rss_start_kb", server_start_->rss_kb},
        {"rss_end_kb", server_end_->rss_kb},
        {"rss_max_kb", server_rss_max_kb_},
        {"hwm_kb", server_end_->hwm_kb},
        {"threads_start", server_start_->threads},
        {"threads_end", server_end_->threads},
        {"threads_max", server_threads_max_},
    };
  } else if (options_.pid > 0) {
    result["server"] = {{"pid", options_.pid}, {"gone", true}};
  }
  const auto ticks = machine_end_.total_ticks - machine_start_.total_ticks;
  result["machine"] = {
      {"load_average_1m_start", machine_start_.load_average_1m},
      {"load_average_1m_end", machine_end_.load_average_1m},
      {"cpu_busy_fraction",
       ticks > 0 ? static_cast<double>(machine_end_.busy_ticks - machine_start_.busy_ticks) /
                       static_cast<double>(ticks)
                 : 0}};
  result["loader_cpu_s"] = cpu_seconds(own_usage_end_) - cpu_seconds(own_usage_start_);
  return result;
}

void print_summary(const json::object& report) {
  const auto number = [](const json::value& value) { return value.to_number<double>(); };
  std::printf("duration %.1f s, frames %llu, %.1f MB/s, errors %llu\n",
              number(report.at("duration_s")),
              static_cast<unsigned long long>(report.at("frames_total").to_number<std::uint64_t>()),
              number(report.at("bytes_per_s")) / 1e6,
              static_cast<unsigned long long>(report.at("error_count").to_number<std::uint64_t>()));
  for (const char* group : {"normal", "slow"}) {
    if (!report.contains(group)) continue;
    const auto& g = report.at(group).as_object();
    std::printf(
        "%-6s %3lld viewers: fps min %.2f median %.2f max %.2f; latency p50 %.1f p99 %.1f max "
        "%.1f ms; first frame p50 %.1f max %.1f ms; longest gap %.1f ms\n",
        group, static_cast<long long>(g.at("viewers").to_number<std::int64_t>()),
        number(g.at("fps").at("min")), number(g.at("fps").at("median")),
        number(g.at("fps").at("max")), number(g.at("latency_ms").at("p50")),
        number(g.at("latency_ms").at("p99")), number(g.at("latency_ms").at("max")),
        number(g.at("first_frame_ms").at("p50")), number(g.at("first_frame_ms").at("max")),
        number(g.at("max_gap_ms").at("max")));
  }
  std::printf(
      "source: %lld distinct frames, %.2f fps\n",
      static_cast<long long>(report.at("source").at("distinct_frames").to_number<std::int64_t>()),
      number(report.at("source").at("fps_from_timestamps")));
  if (report.contains("server") && report.at("server").as_object().contains("cpu_s")) {
    const auto& s = report.at("server");
    std::printf("server: cpu %.2f s, rss %lld -> %lld kB (hwm %lld), threads %lld\n",
                number(s.at("cpu_s")),
                static_cast<long long>(s.at("rss_start_kb").to_number<std::int64_t>()),
                static_cast<long long>(s.at("rss_end_kb").to_number<std::int64_t>()),
                static_cast<long long>(s.at("hwm_kb").to_number<std::int64_t>()),
                static_cast<long long>(s.at("threads_end").to_number<std::int64_t>()));
  }
  for (const auto& [kind, count] : report.at("errors").as_object()) {
    std::printf("error %s: %lld (%s)\n", std::string(kind).c_str(),
                static_cast<long long>(count.to_number<std::int64_t>()),
                std::string(report.at("error_examples").at(kind).as_string()).c_str());
  }
}

int run_main(int argc, char** argv) {
  Options options;
  CLI::App app{"mjpeg-load: many loopback viewers of an MJPEG stream, strictly checked"};
  app.add_option("host", options.host, "server address (loopback only)");
  app.add_option("port", options.port, "server port")->check(CLI::Range(1, 65535));
  app.add_option("path", options.path, "stream path");
  app.add_option("--viewers", options.viewers, "normal viewers (reading as fast as they can)")
      ->check(CLI::Range(0, 10000));
  app.add_option("--ramp-ms", options.ramp_ms, "spread the connects over this time (0: at once)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--slow", options.slow, "extra viewers reading at --slow-rate")
      ->check(CLI::Range(0, 1000));
  app.add_option("--slow-rate", options.slow_rate, "bytes per second of a slow viewer")
      ->check(CLI::Range(1, 1 << 30));
  app.add_option("--slow-rcvbuf", options.slow_rcvbuf, "SO_RCVBUF of a slow viewer (0: default)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--stalled", options.stalled, "extra viewers that send a request, then never read")
      ->check(CLI::Range(0, 1000));
  app.add_option("--stalled-rcvbuf", options.stalled_rcvbuf, "SO_RCVBUF of a stalled viewer")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seconds", options.seconds, "run length")->check(CLI::Range(0.1, 600.0));
  app.add_option("--pid", options.pid, "server process to sample in /proc");
  app.add_flag("--json", options.json, "print the report as JSON");
  app.add_flag("--copy-body", options.copy_body, "read every JPEG byte (default: MSG_TRUNC)");
  app.add_option("--save-frames", options.save_frames, "write the first JPEGs of one viewer here");
  app.add_option("--save-count", options.save_count, "how many JPEGs --save-frames writes")
      ->check(CLI::Range(1, 10000));
  CLI11_PARSE(app, argc, argv);

  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc =
          ::getaddrinfo(options.host.c_str(), std::to_string(options.port).c_str(), &hints, &found);
      rc != 0) {
    std::cerr << "mjpeg-load: cannot resolve " << options.host << ": " << ::gai_strerror(rc)
              << '\n';
    return 2;
  }
  sockaddr_storage address{};
  const socklen_t address_length = found->ai_addrlen;
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  if (!is_loopback(reinterpret_cast<const sockaddr*>(&address))) {
    std::cerr << "mjpeg-load: " << options.host << " is not a loopback address; refusing\n";
    return 2;
  }
  raise_file_limit(static_cast<std::size_t>(options.viewers + options.slow + options.stalled) + 64);

  LoadRun run(options, address, address_length);
  run.run();
  const auto report = run.report();
  if (options.json) {
    std::cout << json::serialize(report) << '\n';
  } else {
    print_summary(report);
  }
  return report.at("error_count").to_number<std::uint64_t>() == 0 ? 0 : 3;
}

}  // namespace
}  // namespace camstream::bench

int main(int argc, char** argv) {
  try {
    return camstream::bench::run_main(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "mjpeg-load: " << error.what() << '\n';
    return 1;
  }
}
