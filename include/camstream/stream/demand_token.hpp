#pragma once

#include <memory>

namespace camstream {

class CaptureService;

// Holds capture demand while alive (a viewer, a waiting snapshot, a control client's start).
// It refers to the service weakly: a token that outlives the service (a session destroyed
// with the io_context's queue after the service is gone) releases nothing, where a plain
// pointer would touch freed memory. Used on the service's executor only.
class DemandToken {
 public:
  DemandToken() = default;
  explicit DemandToken(std::weak_ptr<CaptureService* const> service)
      : service_(std::move(service)) {}
  DemandToken(DemandToken&& other) noexcept = default;
  DemandToken& operator=(DemandToken&& other) noexcept;
  ~DemandToken() { reset(); }
  void reset();
  explicit operator bool() const { return !service_.expired(); }

 private:
  std::weak_ptr<CaptureService* const> service_;
};

}  // namespace camstream
