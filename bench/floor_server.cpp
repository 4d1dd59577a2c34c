// floor-server: the leanest MJPEG fan-out we can write, the yardstick for camstream's
// streaming cost. One thread, one epoll loop, a timerfd "camera" that publishes pre-encoded
// JPEGs, newest-frame delivery, and one sendmsg per frame per viewer of a prebuilt part
// header + the shared JPEG bytes + the trailer. Same stream format as docs/api.md, "The stream".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "unique_fd.hpp"

namespace camstream::bench {
namespace {

constexpr std::string_view kResponseHead =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: multipart/x-mixed-replace; boundary=camstreamframe\r\n"
    "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n"
    "Pragma: no-cache\r\n"
    "X-Accel-Buffering: no\r\n"
    "Connection: close\r\n"
    "\r\n"
    "--camstreamframe\r\n";
constexpr std::string_view kTrailer = "\r\n--camstreamframe\r\n";
constexpr std::string_view kCloseDelimiter = "--camstreamframe--\r\n";
constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\n"
    "Connection: close\r\n\r\n";
constexpr std::size_t kMaxRequestHead = 8192;

struct Options {
  std::string bind = "127.0.0.1";
  int port = 8080;
  double fps = 30;
  std::vector<std::string> frames;  // JPEG files, or directories of *.jpg
  int max_clients = 4096;
  double exit_after = 0;
  int notsent_lowat = 16384;  // TCP_NOTSENT_LOWAT per viewer socket (0: kernel default)
  int sndbuf = 0;             // SO_SNDBUF per viewer socket (0: kernel autotuning)
};

// One published frame: the part header is built once, the JPEG bytes are the loaded file's.
struct Frame {
  std::string header;
  const std::vector<std::uint8_t>* jpeg = nullptr;
  std::uint64_t sequence = 0;
};
using FramePtr = std::shared_ptr<const Frame>;

struct Client {
  UniqueFd fd;
  bool streaming = false;  // request head seen
  std::string request;
  std::size_t head_sent = 0;
  FramePtr writing;              // the frame on its way out, kept alive until done
  std::size_t frame_offset = 0;  // bytes of header + JPEG + trailer already sent
  std::uint64_t last_sequence = 0;
};

std::vector<std::vector<std::uint8_t>> load_jpegs(const std::vector<std::string>& arguments) {
  std::vector<std::filesystem::path> files;
  for (const auto& argument : arguments) {
    if (std::filesystem::is_directory(argument)) {
      std::vector<std::filesystem::path> in_directory;
      for (const auto& entry : std::filesystem::directory_iterator(argument)) {
        const auto extension = entry.path().extension();
        if (extension == ".jpg" || extension == ".jpeg") in_directory.push_back(entry.path());
      }
      std::sort(in_directory.begin(), in_directory.end());
      files.insert(files.end(), in_directory.begin(), in_directory.end());
    } else {
      files.emplace_back(argument);
    }
  }
  std::vector<std::vector<std::uint8_t>> jpegs;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    if (bytes.size() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 ||
        bytes[bytes.size() - 2] != 0xFF || bytes.back() != 0xD9) {
      throw std::runtime_error(file.string() + " is not a JPEG (SOI..EOI)");
    }
    jpegs.push_back(std::move(bytes));
  }
  if (jpegs.empty()) throw std::runtime_error("no JPEG files given (--frames FILE|DIR ...)");
  return jpegs;
}

class FloorServer {
 public:
  FloorServer(const Options& options, std::vector<std::vector<std::uint8_t>> jpegs);
  int run();

 private:
  void accept_clients();
  void on_client(int fd, std::uint32_t events);
  void read_request(Client& client);
  void write_some(Client& client);
  void publish();
  void close_client(int fd);
  std::uint16_t bound_port() const;

  Options options_;
  std::vector<std::vector<std::uint8_t>> jpegs_;
  UniqueFd epoll_;
  UniqueFd listener_;
  UniqueFd timer_;
  UniqueFd signals_;
  std::vector<std::unique_ptr<Client>> clients_;  // indexed by fd
  std::size_t client_count_ = 0;
  FramePtr latest_;
  std::uint64_t sequence_ = 0;
};

FloorServer::FloorServer(const Options& options, std::vector<std::vector<std::uint8_t>> jpegs)
    : options_(options), jpegs_(std::move(jpegs)), epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
  in_addr address{};
  if (::inet_pton(AF_INET, options_.bind.c_str(), &address) != 1 ||
      (ntohl(address.s_addr) >> 24) != 127) {
    throw std::runtime_error("--bind must be an IPv4 loopback address, not " + options_.bind);
  }
  listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const int yes = 1;
  ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in socket_address{};
  socket_address.sin_family = AF_INET;
  socket_address.sin_port = htons(static_cast<std::uint16_t>(options_.port));
  socket_address.sin_addr = address;
  if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&socket_address),
             sizeof socket_address) != 0 ||
      ::listen(listener_.get(), SOMAXCONN) != 0) {
    throw std::runtime_error("cannot listen on " + options_.bind + ":" +
                             std::to_string(options_.port) + " (--port): " + std::strerror(errno));
  }
  timer_ = UniqueFd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  const auto interval_ns = static_cast<long>(1e9 / options_.fps);
  itimerspec spec{};
  spec.it_interval = {interval_ns / 1'000'000'000, interval_ns % 1'000'000'000};
  spec.it_value = spec.it_interval;
  ::timerfd_settime(timer_.get(), 0, &spec, nullptr);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  signals_ = UniqueFd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  for (const int fd : {listener_.get(), timer_.get(), signals_.get()}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event);
  }
}

std::uint16_t FloorServer::bound_port() const {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

void FloorServer::accept_clients() {
  while (true) {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) return;  // EAGAIN, or out of descriptors: the rest wait in the backlog
    if (client_count_ >= static_cast<std::size_t>(options_.max_clients)) {
      ::send(fd.get(), kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Without a bound the kernel grows the send buffer of a slow viewer to megabytes, and
    // that backlog, not the server's one frame, decides how far behind live it falls.
    if (options_.notsent_lowat > 0) {
      ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &options_.notsent_lowat,
                   sizeof options_.notsent_lowat);
    }
    if (options_.sndbuf > 0) {
      ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &options_.sndbuf, sizeof options_.sndbuf);
    }
    epoll_event event{};
    // Edge-triggered: EPOLLOUT reports only when a full socket drains, which is exactly when
    // a partial write can continue.
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.fd = fd.get();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &event) != 0) continue;
    const auto index = static_cast<std::size_t>(fd.get());
    if (clients_.size() <= index) clients_.resize(index + 1);
    clients_[index] = std::make_unique<Client>();
    clients_[index]->fd = std::move(fd);
    ++client_count_;
  }
}

void FloorServer::close_client(int fd) {
  clients_[static_cast<std::size_t>(fd)].reset();
  --client_count_;
}

void FloorServer::read_request(Client& client) {
  char buffer[4096];
  while (true) {
    const auto got = ::recv(client.fd.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
      close_client(client.fd.get());
      return;
    }
    if (got < 0) return;
    if (client.streaming) continue;  // a viewer has nothing more to say: drop it
    client.request.append(buffer, static_cast<std::size_t>(got));
    if (client.request.find("\r\n\r\n") != std::string::npos) {
      client.streaming = true;
      client.request = {};
      write_some(client);
      return;
    }
    if (client.request.size() > kMaxRequestHead) {
      close_client(client.fd.get());
      return;
    }
  }
}

// Writes what the client may take: the response head, then its current frame, then the
// newest frame if a newer one was published meanwhile. Returns on EAGAIN; EPOLLOUT resumes.
void FloorServer::write_some(Client& client) {
  while (true) {
    if (!client.writing && client.head_sent == kResponseHead.size()) {
      if (!latest_ || latest_->sequence == client.last_sequence) return;
      client.writing = latest_;
      client.frame_offset = 0;
    }
    iovec pieces[4];
    int count = 0;
    if (client.head_sent < kResponseHead.size()) {
      pieces[count++] = {const_cast<char*>(kResponseHead.data()) + client.head_sent,
                         kResponseHead.size() - client.head_sent};
    }
    if (client.writing) {
      const Frame& frame = *client.writing;
      std::size_t skip = client.frame_offset;
      const std::pair<const void*, std::size_t> parts[] = {
          {frame.header.data(), frame.header.size()},
          {frame.jpeg->data(), frame.jpeg->size()},
          {kTrailer.data(), kTrailer.size()}};
      for (const auto& [data, size] : parts) {
        if (skip >= size) {
          skip -= size;
          continue;
        }
        pieces[count++] = {const_cast<char*>(static_cast<const char*>(data)) + skip, size - skip};
        skip = 0;
      }
    }
    msghdr message{};
    message.msg_iov = pieces;
    message.msg_iovlen = static_cast<std::size_t>(count);
    const auto sent = ::sendmsg(client.fd.get(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno != EAGAIN && errno != EINTR) close_client(client.fd.get());
      return;
    }
    auto left = static_cast<std::size_t>(sent);
    const std::size_t head = std::min(left, kResponseHead.size() - client.head_sent);
    client.head_sent += head;
    left -= head;
    if (client.writing) {
      client.frame_offset += left;
      const Frame& frame = *client.writing;
      if (client.frame_offset == frame.header.size() + frame.jpeg->size() + kTrailer.size()) {
        client.last_sequence = frame.sequence;
        client.writing.reset();
      }
    }
  }
}

void FloorServer::publish() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  auto frame = std::make_shared<Frame>();
  frame->sequence = ++sequence_;
  frame->jpeg = &jpegs_[(sequence_ - 1) % jpegs_.size()];
  char header[160];
  const int length = std::snprintf(
      header, sizeof header,
      "Content-Type: image/jpeg\r\nContent-Length: %zu\r\nX-Timestamp: %lld.%06ld\r\n\r\n",
      frame->jpeg->size(), static_cast<long long>(now.tv_sec), now.tv_nsec / 1000);
  frame->header.assign(header, static_cast<std::size_t>(length));
  latest_ = std::move(frame);
  for (auto& client : clients_) {
    // A client mid-frame finishes it first and then jumps to the newest (write_some).
    if (client && client->streaming && !client->writing) write_some(*client);
  }
}

void FloorServer::on_client(int fd, std::uint32_t events) {
  const auto index = static_cast<std::size_t>(fd);
  if (index >= clients_.size() || !clients_[index]) return;
  Client& client = *clients_[index];
  if (events & (EPOLLERR | EPOLLHUP)) {
    close_client(fd);
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP)) {
    read_request(client);
    if (!clients_[index]) return;
  }
  if ((events & EPOLLOUT) && client.streaming) write_some(client);
}

int FloorServer::run() {
  std::cout << "listening on http://" << options_.bind << ':' << bound_port() << '/' << std::endl;
  const auto started = std::chrono::steady_clock::now();
  std::vector<epoll_event> events(1024);
  while (true) {
    const int ready = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()),
                                   options_.exit_after > 0 ? 500 : -1);
    if (ready < 0 && errno != EINTR) throw std::runtime_error(std::strerror(errno));
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener_.get()) {
        accept_clients();
      } else if (fd == timer_.get()) {
        std::uint64_t expirations = 0;
        if (::read(timer_.get(), &expirations, sizeof expirations) > 0) publish();
      } else if (fd == signals_.get()) {
        signalfd_siginfo info{};
        if (::read(signals_.get(), &info, sizeof info) > 0) {
          for (auto& client : clients_) {
            if (client && client->streaming && !client->writing) {
              ::send(client->fd.get(), kCloseDelimiter.data(), kCloseDelimiter.size(),
                     MSG_NOSIGNAL | MSG_DONTWAIT);
            }
          }
          return 0;
        }
      } else {
        on_client(fd, events[i].events);
      }
    }
    if (options_.exit_after > 0 && std::chrono::steady_clock::now() - started >
                                       std::chrono::duration<double>(options_.exit_after)) {
      return 0;
    }
  }
}

int run_main(int argc, char** argv) {
  Options options;
  CLI::App app{"floor-server: minimal one-thread MJPEG fan-out (benchmark yardstick)"};
  app.add_option("--bind", options.bind, "IPv4 loopback address");
  app.add_option("--port", options.port, "0 asks the OS for a free port")
      ->check(CLI::Range(0, 65535));
  app.add_option("--fps", options.fps, "frames published per second")
      ->check(CLI::Range(0.1, 1000.0));
  app.add_option("--frames", options.frames,
                 "JPEG files or directories of *.jpg, published in a loop")
      ->required();
  app.add_option("--max-clients", options.max_clients, "viewers at once; more get 503")
      ->check(CLI::PositiveNumber);
  app.add_option("--exit-after", options.exit_after,
                 "stop by itself after this many seconds (0: never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--notsent-lowat", options.notsent_lowat, "TCP_NOTSENT_LOWAT bytes (0: default)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--sndbuf", options.sndbuf, "SO_SNDBUF bytes (0: autotuned)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  FloorServer server(options, load_jpegs(options.frames));
  return server.run();
}

}  // namespace
}  // namespace camstream::bench

int main(int argc, char** argv) {
  try {
    return camstream::bench::run_main(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "floor-server: " << error.what() << '\n';
    return 1;
  }
}
