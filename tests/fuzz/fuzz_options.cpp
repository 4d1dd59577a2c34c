// The command line through the steps of parse_options, the function main() calls
// (reused_command_line.hpp: the CLI11 App is built once, and a sample of the inputs also goes
// through parse_options itself, which must agree). The input is argv after the program name,
// one argument per line. parse_options never exits the process: a usage error, --help or
// --version comes back as a ParseResult.
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "reused_command_line.hpp"

namespace {

using camstream::fuzz::check;

// An argument may name a config file, which parse_options then reads. Inputs with an argument
// that contains a '/' or names an existing file other than a directory are skipped, so the
// fuzzer never reads the disk or waits on a FIFO (fuzz_config covers the file's content).
bool safe_name(const std::string& name) {
  struct stat status {};
  return stat(name.c_str(), &status) != 0 || S_ISDIR(status.st_mode);
}

// The name may be the whole argument, follow "--config=" or follow "-c".
bool safe_argument(const std::string& argument) {
  if (argument.find('/') != std::string::npos) return false;
  const auto equals = argument.find('=');
  return safe_name(argument) &&
         (equals == std::string::npos || safe_name(argument.substr(equals + 1))) &&
         (argument.size() < 2 || argument[0] != '-' || safe_name(argument.substr(2)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> arguments{"camstream"};
  while (!input.empty() && arguments.size() < 64) {
    const auto end = input.find('\n');
    arguments.emplace_back(input.substr(0, end));
    if (!safe_argument(arguments.back())) return 0;
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  std::vector<const char*> argv;
  argv.reserve(arguments.size());
  for (const auto& argument : arguments) argv.push_back(argument.c_str());
  const camstream::ParseResult result = camstream::fuzz::parse_checked(
      {reinterpret_cast<const char*>(data), size}, static_cast<int>(argv.size()), argv.data());
  if (result.options) {
    const camstream::Options& options = *result.options;
    check(options.live.width >= 16 && options.live.width % 2 == 0);
    check(options.live.height >= 16 && options.live.height % 2 == 0);
    check(options.live.quality >= 1 && options.live.quality <= 100);
    check(options.port >= 0 && options.port <= 65535);
    check(options.live.interval.count() > 0);
  } else {
    check(result.exit_code == 0 || result.exit_code == 2);
    check(!result.output.empty());
  }
  return 0;
}
