#pragma once

#include <utility>

namespace camstream {

class CaptureService;

// Holds capture demand while alive (a viewer, a waiting snapshot, a control client's start).
class DemandToken {
 public:
  DemandToken() = default;
  explicit DemandToken(CaptureService* service) : service_(service) {}
  DemandToken(DemandToken&& other) noexcept : service_(std::exchange(other.service_, nullptr)) {}
  DemandToken& operator=(DemandToken&& other) noexcept;
  ~DemandToken() { reset(); }
  void reset();
  explicit operator bool() const { return service_ != nullptr; }

 private:
  CaptureService* service_ = nullptr;
};

}  // namespace camstream
