#include <cstdio>

#include "camstream/app/options.hpp"
#include "camstream/app/run.hpp"

int main(int argc, char** argv) {
  auto parsed = camstream::parse_options(argc, argv);
  if (!parsed.options) {
    std::fputs(parsed.output.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  return camstream::run(*parsed.options);
}
