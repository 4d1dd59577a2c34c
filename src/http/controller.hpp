#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "camstream/core/controls.hpp"
#include "camstream/core/settings.hpp"
#include "camstream/stream/demand_token.hpp"
#include "connection.hpp"
#include "registry.hpp"

namespace camstream {

class WsSession;

// What a control WebSocket client needs from the server.
class Controller {
 public:
  virtual ~Controller() = default;
  virtual ConnectionRegistry& connections() = 0;
  virtual Registry<WsSession>::Membership add_control_client(std::weak_ptr<WsSession> session) = 0;
  virtual std::size_t control_clients() const = 0;
  virtual bool shutting_down() const = 0;
  virtual std::string status() = 0;  // the serialized status message
  // Sends a status to every control client once the current handler has returned (many
  // calls in a row send one), so no client gets it before a message already on its way.
  virtual void announce_status() = 0;
  virtual DemandToken hold_demand() = 0;
  virtual void start() = 0;
  virtual bool stop() = 0;  // false: refused (--always-on); else every client's start ends
  virtual std::string controls_message() const = 0;  // serialized, "type":"controls"
  // All or none; the error names the control and why.
  virtual std::optional<ControlError> set_controls(
      const std::map<std::string, ControlValue>& values) = 0;
  virtual const LiveSettings& live_settings() const = 0;
  virtual std::string configure(const LiveSettings& next) = 0;  // why not, or ""
};

}  // namespace camstream
