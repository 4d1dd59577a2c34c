#include "camstream/stream/demand_token.hpp"

#include <utility>

#include "camstream/stream/capture_service.hpp"

namespace camstream {

DemandToken& DemandToken::operator=(DemandToken&& other) noexcept {
  if (this != &other) {
    reset();
    service_ = std::move(other.service_);
  }
  return *this;
}

void DemandToken::reset() {
  const auto service = std::exchange(service_, {}).lock();
  if (service) (*service)->release_demand();
}

}  // namespace camstream
