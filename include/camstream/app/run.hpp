// Wires the modules together and serves until a signal ends it.
#pragma once

#include "camstream/app/options.hpp"

namespace camstream {

// Runs the server until SIGINT/SIGTERM. Returns the process exit code.
int run(const Options& options);

}  // namespace camstream
