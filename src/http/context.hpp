// State shared by the server's sessions. Everything here runs on the one I/O thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "camstream/http.hpp"
#include "multipart.hpp"

namespace camstream {

// A frame dressed for the stream: the part header is formatted once, shared by all viewers.
struct Part {
  FramePtr frame;
  multipart::PartHeader header{};
  std::size_t header_size = 0;
};
using PartPtr = std::shared_ptr<const Part>;

// Any open connection, so shutdown can reach it and the watchdog can check it.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void close_for_shutdown() = 0;
  virtual void check_stalled(std::chrono::steady_clock::time_point) {}
};

class ConnectionRegistry {
 public:
  using Handle = std::list<Connection*>::iterator;
  Handle add(Connection* connection) { return connections_.insert(connections_.end(), connection); }
  void remove(Handle handle) { connections_.erase(handle); }
  // Callbacks may remove the connection they are called for.
  template <typename F>
  void for_each(F&& f) {
    for (auto it = connections_.begin(); it != connections_.end();) f(*it++);
  }
  std::size_t size() const { return connections_.size(); }

 private:
  std::list<Connection*> connections_;
};

// Registers a connection for its lifetime.
class Registered {
 public:
  Registered(ConnectionRegistry& registry, Connection* connection)
      : registry_(registry), handle_(registry.add(connection)) {}
  ~Registered() { registry_.remove(handle_); }
  Registered(const Registered&) = delete;
  Registered& operator=(const Registered&) = delete;

 private:
  ConnectionRegistry& registry_;
  ConnectionRegistry::Handle handle_;
};

class MjpegViewer;

// Hands each new frame to every viewer and to the snapshots waiting for one.
class Broadcaster {
 public:
  using SnapshotWaiter = std::function<void(const FramePtr&)>;
  void publish(const FramePtr& frame);  // on the I/O thread
  const PartPtr& latest() const { return latest_; }
  // The broadcaster owns its viewers between frames; close() removes one.
  std::size_t add_viewer(std::shared_ptr<MjpegViewer> viewer);
  void remove_viewer(MjpegViewer* viewer);
  std::size_t viewers() const { return viewers_.size(); }
  // Called with the next camera frame (not a placeholder), or nullptr if cancelled.
  void wait_for_frame(SnapshotWaiter waiter) { waiters_.push_back(std::move(waiter)); }
  void cancel_waiters();

 private:
  PartPtr latest_;
  std::vector<std::shared_ptr<MjpegViewer>> viewers_;
  std::vector<SnapshotWaiter> waiters_;
};

class WsSession;

class ControlHub {
 public:
  void add(WsSession* session) { sessions_.push_back(session); }
  void remove(WsSession* session);
  std::size_t size() const { return sessions_.size(); }
  void broadcast(const std::string& text);
  void release_starts();  // a stop ends every client's start

 private:
  std::vector<WsSession*> sessions_;
};

struct Server::Context : std::enable_shared_from_this<Server::Context> {
  Context(boost::asio::io_context& io, ServerSettings settings, CaptureService& capture,
          FrameHub& hub, Metrics& metrics)
      : io(io),
        settings(std::move(settings)),
        capture(capture),
        hub(hub),
        metrics(metrics),
        acceptor(io),
        watchdog(io) {}

  boost::asio::io_context& io;
  ServerSettings settings;
  CaptureService& capture;
  FrameHub& hub;
  Metrics& metrics;
  Broadcaster broadcaster;
  ControlHub controls;
  ConnectionRegistry connections;
  boost::asio::ip::tcp::acceptor acceptor;
  boost::asio::steady_timer watchdog;
  bool shutting_down = false;
  std::function<void()> on_closed;  // after shutdown, when the last connection is gone
};

}  // namespace camstream
