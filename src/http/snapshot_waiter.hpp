// The wait of one /snapshot for the next camera frame (docs/api.md, "Snapshot").
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>

#include "camstream/encode/encoded_frame.hpp"
#include "camstream/stream/demand_token.hpp"
#include "context.hpp"
#include "frame_waiter.hpp"
#include "output_feed.hpp"
#include "registry.hpp"

namespace camstream {

// While it waits, a snapshot holds demand (the camera starts for it), a request for frames
// at the snapshot size and a place among the waiting snapshots (the Broadcaster's). It gives
// up after 5 s, and at once when the client hangs up.
//
// It is a member of the session it waits for, and has no lifetime of its own: wait() takes a
// pointer to it that shares the session's ownership (an aliasing shared_ptr), which its
// handlers hold and the waiting snapshots' registry refers to weakly, as to a session.
class SnapshotWaiter final : public FrameWaiter {
 public:
  // What the session does when a wait ends. Called on the I/O thread, once per wait, after
  // the waiter has let go of everything it held.
  class Client {
   public:
    // The frame, to be sent as its request asked (HEAD or GET, keep-alive or not).
    virtual void snapshot_ready(const FramePtr& frame, bool head_only, bool keep_alive) = 0;
    // No frame came in time: the client gets a 503.
    virtual void snapshot_timed_out() = 0;
    // The client hung up, or the wait was cancelled (shutdown): the connection closes.
    virtual void snapshot_abandoned() = 0;
    // A sized snapshot's output cannot be made (docs/api.md, "Outputs per viewer"): a 503.
    virtual void snapshot_output_failed() = 0;

   protected:
    ~Client() = default;
  };
  // Why a snapshot may not wait now: a 503 with this message, and a Retry-After when
  // asking again later may help.
  struct Refusal {
    std::string message;
    std::optional<std::string> retry_after;
  };

  SnapshotWaiter(const boost::asio::any_io_executor& executor, Server::Context& context,
                 Client& client);

  // The output the next wait is for (docs/api.md, "Outputs per viewer"), one of the camera's;
  // nullptr: the main stream's frames at the snapshot size. Held until the wait ends (or this
  // is called again).
  void use_output(std::shared_ptr<OutputFeed> feed) { feed_ = std::move(feed); }
  // What a HEAD gets without waiting: the newest frame of the output (or the camera's, when
  // at the snapshot size).
  FramePtr latest_for_head(const CameraEndpoint& camera) const;
  // Whether a snapshot of the camera may wait now, and why not. The waiting snapshots of every
  // camera count against --max-clients together.
  std::optional<Refusal> refusal(const CameraEndpoint& camera) const;
  // Waits for the next frame of the camera (of its output, after use_output); self points to
  // this waiter and owns its session. The socket is watched for the client hanging up.
  void wait(const std::shared_ptr<SnapshotWaiter>& self, CameraEndpoint& camera,
            boost::asio::ip::tcp::socket& socket, bool head_only, bool keep_alive);
  bool waiting() const { return waiting_; }
  // Lets go of everything the wait holds and tells no one.
  void stop();

  // FrameWaiter: the next camera frame, or nullptr when the waits are cancelled.
  void on_frame(const FramePtr& frame) override;

 private:
  void watch_for_hang_up(std::shared_ptr<SnapshotWaiter> self);

  Server::Context& context_;
  Client& client_;
  boost::asio::steady_timer timer_;
  boost::asio::ip::tcp::socket* socket_ = nullptr;  // the session's, while waiting
  Registry<FrameWaiter>::Membership place_;
  DemandToken demand_;
  std::shared_ptr<void> request_;     // asks for frames at the snapshot size
  std::shared_ptr<OutputFeed> feed_;  // a sized snapshot's output: held while it waits
  bool waiting_ = false;
  bool head_only_ = false;
  bool keep_alive_ = false;
};

}  // namespace camstream
