#pragma once

#include <cstddef>
#include <memory>

#include "camstream/http/server_settings.hpp"
#include "camstream/stream/demand_token.hpp"
#include "camstream/stream/metrics.hpp"
#include "connection.hpp"
#include "part.hpp"
#include "registry.hpp"

namespace camstream {

class MjpegViewer;

// What a stream viewer needs from the server.
class ViewerHub {
 public:
  virtual ~ViewerHub() = default;
  virtual const ServerSettings& settings() const = 0;
  virtual ConnectionRegistry& connections() = 0;
  virtual Registry<MjpegViewer>::Membership add_viewer(std::weak_ptr<MjpegViewer> viewer) = 0;
  virtual std::size_t viewers() const = 0;
  // The part a new viewer starts with: the newest, if capture is live; else nullptr.
  virtual PartPtr first_part() const = 0;
  virtual DemandToken hold_demand() = 0;
  virtual Metrics& metrics() = 0;
};

}  // namespace camstream
