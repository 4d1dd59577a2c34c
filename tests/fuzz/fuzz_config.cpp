// The config file, read through the steps of parse_options, the function main() calls
// (reused_command_line.hpp: the CLI11 App is built once, and a sample of the inputs also goes
// through parse_options itself, which must agree). The input is the file's content, handed
// over as an anonymous memory file.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "reused_command_line.hpp"

namespace {

using camstream::fuzz::check;

// One memory file for the whole run, rewritten for each input.
int config_fd() {
  static const int fd = memfd_create("camstream-fuzz.conf", 0);
  check(fd >= 0);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = config_fd();
  check(ftruncate(fd, 0) == 0);
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = pwrite(fd, data + written, size - written, static_cast<off_t>(written));
    check(n > 0);
    written += static_cast<std::size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const char* argv[] = {"camstream", "--config", path.c_str()};
  const camstream::ParseResult result =
      camstream::fuzz::parse_checked({reinterpret_cast<const char*>(data), size}, 3, argv);
  // Either options to run with, or a usage error that names the file.
  if (!result.options) {
    check(result.exit_code == 2);
    check(result.output.find("config file") != std::string::npos);
  }
  return 0;
}
