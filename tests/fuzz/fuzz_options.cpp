// The command line through the same parse_options that main() calls. The input is argv
// after the program name, one argument per line. parse_options never exits the process: a
// usage error, --help or --version comes back as a ParseResult.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "camstream/app.hpp"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

// An argument may name a config file, which parse_options then reads. Arguments with a '/'
// are skipped and the run happens in an empty directory, so a name resolves to nothing (or
// to a directory: "." and ".."): the fuzzer never reads the disk or waits on a FIFO.
bool safe_argument(std::string_view argument) {
  return argument.find('/') == std::string_view::npos;
}

std::string empty_directory;

void remove_empty_directory() { rmdir(empty_directory.c_str()); }

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string pattern = "/tmp/camstream-fuzz-options.XXXXXX";
  check(mkdtemp(pattern.data()) != nullptr);
  empty_directory = pattern;
  check(chdir(empty_directory.c_str()) == 0);
  std::atexit(remove_empty_directory);
  return 0;
}

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
  for (const auto& argument : arguments) argv.push_back(argument.c_str());
  const camstream::ParseResult result =
      camstream::parse_options(static_cast<int>(argv.size()), argv.data());
  if (result.options) {
    const camstream::Options& options = *result.options;
    check(options.width >= 16 && options.width % 2 == 0);
    check(options.height >= 16 && options.height % 2 == 0);
    check(options.quality >= 1 && options.quality <= 100);
    check(options.port >= 0 && options.port <= 65535);
    check(options.interval.count() > 0);
  } else {
    check(result.exit_code == 0 || result.exit_code == 2);
    check(!result.output.empty());
  }
  return 0;
}
