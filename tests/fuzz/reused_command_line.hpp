// parse_options with one CLI11 App built once and parsed again for every input.
//
// parse_options builds a whole CLI11 App (about twenty options, their help text) per call;
// under AddressSanitizer that is most of the time of an input (docs/fuzzing.md), which kept
// fuzz_config and fuzz_options at a few hundred executions per second. The fuzz targets
// compile src/app/options.cpp into their own translation unit (its reader, value checks and
// CommandLine are in an anonymous namespace) and run the same steps as parse_options on a
// CommandLine kept from one input to the next.
//
// Reuse is sound only if nothing of the last input survives: CLI11's App::parse clears the
// options' results, and reset() below clears the variables they were bound to. To prove it on
// the fuzzer's own inputs, parse_checked() also runs the real parse_options on a sample of
// them (one in kCompareEvery, chosen by a hash of the input, so a crash file replays the same
// way) and aborts if the two results differ in any field. A difference left behind by an
// earlier input shows at the first sampled input after it; the crash file alone may then pass.
//
// The target still links the static camstream_app for options_values.cpp; the linker
// takes no object from it that this translation unit already defines.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "app/options.cpp"  // NOLINT(bugprone-suspicious-include): see above

namespace camstream::fuzz {

inline void check(bool condition) {
  if (!condition) std::abort();
}

inline CommandLine& reused_command_line() {
  static CommandLine command_line;
  return command_line;
}

// Forgets every value the last parse wrote into the variables CLI11 assigns.
inline void reset(CommandLine& command_line) {
  command_line.config_file.clear();
  command_line.version = false;
  command_line.list_cameras = false;
  for (auto& [name, text] : command_line.values) text.clear();
  for (auto& [name, value] : command_line.flags) value = false;
  for (auto& [name, values] : command_line.lists) values.clear();
}

// parse_options (src/app/options.cpp) on the reused CommandLine.
inline ParseResult parse_reusing(int argc, const char* const* argv) {
  CommandLine& command_line = reused_command_line();
  reset(command_line);
  return parse_command_line(command_line, argc, argv);
}

inline bool same_controls(const std::vector<ControlSetting>& a,
                          const std::vector<ControlSetting>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const ControlSetting& x, const ControlSetting& y) {
                      return x.name == y.name && x.value == y.value && x.where == y.where;
                    });
}

inline bool same_options(const Options& a, const Options& b) {
  return static_cast<const LiveSettings&>(a) == static_cast<const LiveSettings&>(b) &&
         a.config_file == b.config_file && a.source == b.source && a.camera == b.camera &&
         a.list_cameras == b.list_cameras && a.bind == b.bind && a.port == b.port &&
         a.always_on == b.always_on && a.idle_timeout == b.idle_timeout &&
         a.max_clients == b.max_clients && a.max_connections == b.max_connections &&
         a.allow_hosts == b.allow_hosts && a.allow_origin == b.allow_origin &&
         same_controls(a.controls, b.controls) && a.users_file == b.users_file &&
         a.operators == b.operators && a.token_key_file == b.token_key_file &&
         a.tls_cert_file == b.tls_cert_file && a.tls_key_file == b.tls_key_file &&
         a.log_level == b.log_level && a.warnings == b.warnings;
}

inline bool same_result(const ParseResult& a, const ParseResult& b) {
  if (a.options.has_value() != b.options.has_value()) return false;
  if (a.options && !same_options(*a.options, *b.options)) return false;
  return a.exit_code == b.exit_code && a.output == b.output;
}

constexpr std::uint32_t kCompareEvery = 64;

// parse_reusing, and for a sample of the inputs also parse_options, which must agree.
inline ParseResult parse_checked(std::string_view input, int argc, const char* const* argv) {
  ParseResult result = parse_reusing(argc, argv);
  std::uint32_t hash = 2166136261U;  // FNV-1a
  for (const char c : input) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619U;
  if (hash % kCompareEvery == 0) check(same_result(result, parse_options(argc, argv)));
  return result;
}

}  // namespace camstream::fuzz
