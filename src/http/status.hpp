// The status object (docs/api.md, "Control WebSocket") and the Prometheus metrics text.
#pragma once

#include <string>

#include "context.hpp"

namespace camstream {

std::string status_message(Server::Context& context);  // serialized, "type":"status"
std::string metrics_text(Server::Context& context);

}  // namespace camstream
