// parse_options on the command line alone: defaults, every flag, every usage error.
#include "camstream/app/options.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "camstream/capture/libcamera.hpp"
#include "camstream/core/settings.hpp"
#include "parse_arguments.hpp"

namespace camstream {
namespace {

using namespace std::chrono_literals;

using test::parse;

Options parse_ok(std::initializer_list<std::string> arguments) {
  ParseResult result = parse(arguments);
  EXPECT_TRUE(result.options.has_value()) << result.output;
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.output, "");
  return result.options.value_or(Options{});
}

// The first line of a usage error, which must be the problem itself.
std::string usage_error(std::initializer_list<std::string> arguments) {
  const ParseResult result = parse(arguments);
  EXPECT_FALSE(result.options.has_value());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.output.rfind("camstream: ", 0), 0u) << result.output;
  return result.output.substr(0, result.output.find('\n'));
}

// --- defaults and values ---

TEST(Options, NoArgumentsGiveTheDefaultsOfTheSpec) {
  const Options options = parse_ok({});
  EXPECT_EQ(options.config_file, "");
  EXPECT_EQ(options.source, SourceKind::automatic);
  EXPECT_EQ(options.camera, "0");
  EXPECT_FALSE(options.list_cameras);
  EXPECT_EQ(options.live.width, 640);
  EXPECT_EQ(options.live.height, 480);
  EXPECT_EQ(options.live.interval, 100ms);
  EXPECT_EQ(options.live.quality, 80);
  EXPECT_EQ(options.bind, "::");
  EXPECT_EQ(options.port, 8080);
  EXPECT_FALSE(options.always_on);
  EXPECT_EQ(options.idle_timeout, 5s);
  EXPECT_EQ(options.max_clients, 256);
  EXPECT_EQ(options.allow_origin, "");
  EXPECT_EQ(options.live.rotation, 0);
  EXPECT_FALSE(options.live.hflip);
  EXPECT_FALSE(options.live.vflip);
  EXPECT_EQ(options.log_level, "info");
  EXPECT_TRUE(options.warnings.empty());
}

TEST(Options, EmptyArgvGivesTheDefaults) {
  const ParseResult result = parse_options(0, nullptr);
  ASSERT_TRUE(result.options.has_value());
  EXPECT_EQ(result.options->port, 8080);
}

TEST(Options, EveryValueFlagIsStored) {
  const Options options = parse_ok({"--source",       "test",
                                    "--camera",       "/base/soc/i2c0mux/i2c@1/imx219@10",
                                    "--width",        "1280",
                                    "--height",       "720",
                                    "--interval",     "250",
                                    "--quality",      "95",
                                    "--bind",         "127.0.0.1",
                                    "--port",         "9000",
                                    "--idle-timeout", "0",
                                    "--max-clients",  "1",
                                    "--allow-origin", "https://printer.example:8443",
                                    "--rotation",     "180",
                                    "--log-level",    "debug"});
  EXPECT_EQ(options.source, SourceKind::test);
  EXPECT_EQ(options.camera, "/base/soc/i2c0mux/i2c@1/imx219@10");
  EXPECT_EQ(options.live.width, 1280);
  EXPECT_EQ(options.live.height, 720);
  EXPECT_EQ(options.live.interval, 250ms);
  EXPECT_EQ(options.live.quality, 95);
  EXPECT_EQ(options.bind, "127.0.0.1");
  EXPECT_EQ(options.port, 9000);
  EXPECT_EQ(options.idle_timeout, 0s);
  EXPECT_EQ(options.max_clients, 1);
  EXPECT_EQ(options.allow_origin, "https://printer.example:8443");
  EXPECT_EQ(options.live.rotation, 180);
  EXPECT_EQ(options.log_level, "debug");
  EXPECT_TRUE(options.warnings.empty());
}

TEST(Options, EveryBooleanFlagIsStored) {
  const Options options = parse_ok({"--always-on", "--hflip", "--vflip", "--list-cameras"});
  EXPECT_TRUE(options.always_on);
  EXPECT_TRUE(options.live.hflip);
  EXPECT_TRUE(options.live.vflip);
  EXPECT_TRUE(options.list_cameras);
}

TEST(Options, BooleanFlagsTakeAnExplicitValue) {
  const Options options = parse_ok({"--hflip=false", "--vflip=yes", "--always-on=off"});
  EXPECT_FALSE(options.live.hflip);
  EXPECT_TRUE(options.live.vflip);
  EXPECT_FALSE(options.always_on);
  EXPECT_EQ(usage_error({"--hflip=maybe"}), "camstream: --hflip: 'maybe' is not true or false");
}

TEST(Options, EverySourceAndLogLevelIsAccepted) {
  EXPECT_EQ(parse_ok({"--source", "auto"}).source, SourceKind::automatic);
  EXPECT_EQ(parse_ok({"--source", "libcamera"}).source, SourceKind::libcamera);
  EXPECT_EQ(parse_ok({"--source", "test"}).source, SourceKind::test);
  for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
    EXPECT_EQ(parse_ok({"--log-level", level}).log_level, level);
  }
  EXPECT_EQ(parse_ok({"--rotation", "0"}).live.rotation, 0);
  EXPECT_EQ(parse_ok({"--rotation", "90"}).live.rotation, 90);
  EXPECT_EQ(parse_ok({"--rotation", "270"}).live.rotation, 270);
}

TEST(Options, EqualsSignAndShortConfigFlagWork) {
  EXPECT_EQ(parse_ok({"--width=320"}).live.width, 320);
  EXPECT_EQ(parse_ok({"--quality=+70"}).live.quality, 70);
  // -c takes the file; a missing file is reported, which proves -c was understood as --config.
  EXPECT_EQ(usage_error({"-c", "/nonexistent/camstream-test.conf"})
                .rfind("camstream: config file /nonexistent/camstream-test.conf: cannot read", 0),
            0u);
}

TEST(Options, ARepeatedFlagTakesTheLastValue) {
  EXPECT_EQ(parse_ok({"--width", "320", "--width", "800"}).live.width, 800);
}

TEST(Options, RangeEdgesAreAccepted) {
  EXPECT_EQ(parse_ok({"--width", "16", "--height", "16"}).live.width, 16);
  const Options largest = parse_ok({"--width", "7680", "--height", "4320"});
  EXPECT_EQ(largest.live.width, 7680);
  EXPECT_EQ(largest.live.height, 4320);
  EXPECT_EQ(parse_ok({"--interval", "1"}).live.interval, 1ms);
  EXPECT_EQ(parse_ok({"--interval", "60000"}).live.interval, 60s);
  EXPECT_EQ(parse_ok({"--quality", "1"}).live.quality, 1);
  EXPECT_EQ(parse_ok({"--quality", "100"}).live.quality, 100);
  EXPECT_EQ(parse_ok({"--port", "0"}).port, 0);
  EXPECT_EQ(parse_ok({"--port", "65535"}).port, 65535);
  EXPECT_EQ(parse_ok({"--idle-timeout", "86400"}).idle_timeout, 86400s);
}

// --- sizes ---

TEST(Options, OddSizesAreRoundedDownWithAWarningNamingTheFlag) {
  const Options options = parse_ok({"--width", "641", "--height", "17"});
  EXPECT_EQ(options.live.width, 640);
  EXPECT_EQ(options.live.height, 16);
  ASSERT_EQ(options.warnings.size(), 2u);
  EXPECT_EQ(options.warnings[0], "--width: 641 is odd, rounded down to 640");
  EXPECT_EQ(options.warnings[1], "--height: 17 is odd, rounded down to 16");
}

TEST(Options, SizesOutsideTheSaneRangeAreUsageErrors) {
  EXPECT_EQ(usage_error({"--width", "15"}), "camstream: --width: 15 not in 16..7680");
  EXPECT_EQ(usage_error({"--width", "7681"}), "camstream: --width: 7681 not in 16..7680");
  EXPECT_EQ(usage_error({"--width", "0"}), "camstream: --width: 0 not in 16..7680");
  EXPECT_EQ(usage_error({"--width", "-640"}), "camstream: --width: -640 not in 16..7680");
  EXPECT_EQ(usage_error({"--height", "4322"}), "camstream: --height: 4322 not in 16..4320");
}

// --- frame pacing ---

TEST(Options, FpsBecomesAnIntervalInMicroseconds) {
  EXPECT_EQ(parse_ok({"--fps", "30"}).live.interval, 33333us);
  EXPECT_EQ(parse_ok({"--fps", "10"}).live.interval, 100ms);
  EXPECT_EQ(parse_ok({"--fps", "7.5"}).live.interval, 133333us);
  EXPECT_EQ(parse_ok({"--fps", "1000"}).live.interval, 1ms);
  EXPECT_EQ(parse_ok({"--fps", "0.5"}).live.interval, 2s);
}

TEST(Options, FpsAndIntervalTogetherAreAUsageError) {
  EXPECT_EQ(usage_error({"--fps", "30", "--interval", "100"}),
            "camstream: --fps and --interval cannot both be given");
  EXPECT_EQ(usage_error({"--interval", "100", "--fps", "30"}),
            "camstream: --fps and --interval cannot both be given");
}

TEST(Options, FpsOutsideTheIntervalRangeIsAUsageError) {
  EXPECT_EQ(usage_error({"--fps", "0"}), "camstream: --fps: 0 not in 1/60..1000 frames per second");
  EXPECT_EQ(usage_error({"--fps", "1001"}),
            "camstream: --fps: 1001 not in 1/60..1000 frames per second");
  EXPECT_EQ(usage_error({"--fps", "-5"}),
            "camstream: --fps: -5 not in 1/60..1000 frames per second");
  EXPECT_EQ(usage_error({"--fps", "fast"}), "camstream: --fps: 'fast' is not a number");
  EXPECT_EQ(usage_error({"--fps", "1e3"}), "camstream: --fps: '1e3' is not a number");
}

TEST(Options, IntervalOutsideItsRangeIsAUsageError) {
  EXPECT_EQ(usage_error({"--interval", "0"}), "camstream: --interval: 0 not in 1..60000");
  EXPECT_EQ(usage_error({"--interval", "60001"}), "camstream: --interval: 60001 not in 1..60000");
  EXPECT_EQ(usage_error({"--interval", "33.3"}),
            "camstream: --interval: '33.3' is not a whole number");
}

// --- the other values ---

TEST(Options, NumbersOutsideTheirRangeAreUsageErrors) {
  EXPECT_EQ(usage_error({"--quality", "120"}), "camstream: --quality: 120 not in 1..100");
  EXPECT_EQ(usage_error({"--quality", "0"}), "camstream: --quality: 0 not in 1..100");
  EXPECT_EQ(usage_error({"--port", "65536"}), "camstream: --port: 65536 not in 0..65535");
  EXPECT_EQ(usage_error({"--port", "-1"}), "camstream: --port: -1 not in 0..65535");
  EXPECT_EQ(usage_error({"--idle-timeout", "-1"}), "camstream: --idle-timeout: -1 not in 0..86400");
  EXPECT_EQ(usage_error({"--max-clients", "0"}), "camstream: --max-clients: 0 not in 1..100000");
  EXPECT_EQ(usage_error({"--port", "99999999999999999999"}),
            "camstream: --port: '99999999999999999999' is not a whole number");
}

TEST(Options, EncodeThreadsDefaultsToTheOnlineCoresAtMostFourAndTakesOneToSixteen) {
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  EXPECT_EQ(parse_ok({}).encode_threads, static_cast<int>(std::clamp<long>(online, 1, 4)));
  EXPECT_EQ(parse_ok({"--encode-threads", "1"}).encode_threads, 1);
  EXPECT_EQ(parse_ok({"--encode-threads", "16"}).encode_threads, 16);
  EXPECT_EQ(usage_error({"--encode-threads", "0"}), "camstream: --encode-threads: 0 not in 1..16");
  EXPECT_EQ(usage_error({"--encode-threads", "-2"}),
            "camstream: --encode-threads: -2 not in 1..16");
  EXPECT_EQ(usage_error({"--encode-threads", "17"}),
            "camstream: --encode-threads: 17 not in 1..16");
  EXPECT_EQ(usage_error({"--encode-threads", "99999999999999999999"}),
            "camstream: --encode-threads: '99999999999999999999' is not a whole number");
  EXPECT_EQ(usage_error({"--encode-threads", "two"}),
            "camstream: --encode-threads: 'two' is not a whole number");
}

TEST(Options, NonNumericValuesAreUsageErrors) {
  EXPECT_EQ(usage_error({"--width", "abc"}), "camstream: --width: 'abc' is not a whole number");
  EXPECT_EQ(usage_error({"--height", "480px"}),
            "camstream: --height: '480px' is not a whole number");
  EXPECT_EQ(usage_error({"--quality", "8.5"}), "camstream: --quality: '8.5' is not a whole number");
  EXPECT_EQ(usage_error({"--port", ""}), "camstream: --port: '' is not a whole number");
}

TEST(Options, ChoicesOutsideTheListAreUsageErrors) {
  EXPECT_EQ(usage_error({"--source", "v4l2"}),
            "camstream: --source: 'v4l2' is not one of auto, libcamera, test");
  EXPECT_EQ(usage_error({"--rotation", "45"}),
            "camstream: --rotation: 45 is not one of 0, 90, 180, 270");
  EXPECT_EQ(usage_error({"--rotation", "-90"}),
            "camstream: --rotation: -90 is not one of 0, 90, 180, 270");
  EXPECT_EQ(usage_error({"--rotation", "360"}),
            "camstream: --rotation: 360 is not one of 0, 90, 180, 270");
  EXPECT_EQ(usage_error({"--log-level", "verbose"}),
            "camstream: --log-level: 'verbose' is not one of trace, debug, info, warn, error");
  EXPECT_EQ(usage_error({"--camera", ""}), "camstream: --camera: empty camera index or id");
}

TEST(Options, BindTakesIpv4AndIpv6Addresses) {
  EXPECT_EQ(parse_ok({"--bind", "0.0.0.0"}).bind, "0.0.0.0");
  EXPECT_EQ(parse_ok({"--bind", "::1"}).bind, "::1");
  EXPECT_EQ(parse_ok({"--bind", "[::1]"}).bind, "::1");
  EXPECT_EQ(parse_ok({"--bind", "fe80::1%eth0"}).bind, "fe80::1%eth0");
  EXPECT_EQ(usage_error({"--bind", "localhost"}),
            "camstream: --bind: 'localhost' is not an IPv4 or IPv6 address");
  EXPECT_EQ(usage_error({"--bind", "192.168.1"}),
            "camstream: --bind: '192.168.1' is not an IPv4 or IPv6 address");
  EXPECT_EQ(usage_error({"--bind", "[10.0.0.1]"}),
            "camstream: --bind: '[10.0.0.1]' is not an IPv4 or IPv6 address");
  EXPECT_EQ(usage_error({"--bind", "::1:8080:"}),
            "camstream: --bind: '::1:8080:' is not an IPv4 or IPv6 address");
}

TEST(Options, AllowOriginMustBeAnOrigin) {
  EXPECT_EQ(parse_ok({"--allow-origin", "http://192.168.1.5:5000"}).allow_origin,
            "http://192.168.1.5:5000");
  EXPECT_EQ(parse_ok({"--allow-origin", "*"}).allow_origin, "*");
  const std::string expected_problem =
      "' is not an origin like https://host or http://host:8080 (no path)";
  EXPECT_EQ(usage_error({"--allow-origin", "https://example.com/"}),
            "camstream: --allow-origin: 'https://example.com/" + expected_problem);
  EXPECT_EQ(usage_error({"--allow-origin", "example.com"}),
            "camstream: --allow-origin: 'example.com" + expected_problem);
}

// --- command-line syntax ---

TEST(Options, UnknownFlagsAndStrayArgumentsAreUsageErrors) {
  EXPECT_EQ(usage_error({"--qualty", "5"}), "camstream: unknown option '--qualty'");
  EXPECT_EQ(usage_error({"-x"}), "camstream: unknown option '-x'");
  EXPECT_EQ(usage_error({"stream"}), "camstream: unexpected argument 'stream'");
}

TEST(Options, AMissingValueIsAUsageError) {
  EXPECT_EQ(usage_error({"--width"}), "camstream: --width: missing value");
  // CLI11 takes the next word as the value whatever it looks like; the check then names it.
  EXPECT_EQ(usage_error({"--port", "--hflip"}),
            "camstream: --port: '--hflip' is not a whole number");
  EXPECT_EQ(usage_error({"--config"}), "camstream: --config: missing value");
}

TEST(Options, UsageErrorsPointToHelp) {
  const ParseResult result = parse({"--quality", "120"});
  EXPECT_NE(result.output.find("camstream --help"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.back(), '\n');
}

// --- help and version ---

TEST(Options, VersionPrintsCamstreamAndLibcameraAndExitsZero) {
  const ParseResult result = parse({"--version"});
  EXPECT_FALSE(result.options.has_value());
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.output.rfind("camstream ", 0), 0u) << result.output;
  // Two lines: ours, then libcamera's ("libcamera 0.0.3" or "libcamera: not built").
  const std::string libcamera_line = libcamera_version_string();
  const auto second_line = result.output.find('\n') + 1;
  EXPECT_EQ(result.output.substr(second_line), libcamera_line + '\n') << result.output;
}

TEST(Options, HelpListsEveryFlagWithItsDefaultAndExitsZero) {
  for (const char* help : {"--help", "-h"}) {
    const ParseResult result = parse({help});
    EXPECT_FALSE(result.options.has_value());
    EXPECT_EQ(result.exit_code, 0);
    const std::string& text = result.output;
    for (const char* flag :
         {"-c,--config", "--source",    "--camera",       "--list-cameras", "--width",
          "--height",    "--interval",  "--fps",          "--quality",      "--bind",
          "--port",      "--always-on", "--idle-timeout", "--max-clients",  "--allow-origin",
          "--rotation",  "--hflip",     "--vflip",        "--log-level",    "--version",
          "--help"}) {
      EXPECT_NE(text.find(flag), std::string::npos) << flag << " missing in\n" << text;
    }
    for (const char* default_text :
         {"(default: auto)", "(default: 0)", "(default: 640)", "(default: 480)", "(default: 100)",
          "(default: 80)", "(default: ::)", "(default: 8080)", "(default: 5)", "(default: 256)",
          "(default: info)", "(default: off)", "(default: none)"}) {
      EXPECT_NE(text.find(default_text), std::string::npos) << default_text << " missing";
    }
  }
}

TEST(Options, HelpWinsOverOtherProblems) {
  EXPECT_EQ(parse({"--quality", "500", "--help"}).exit_code, 0);
}

TEST(Options, NothingIsPrinted) {
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  parse({"--help"});
  parse({"--version"});
  parse({"--quality", "120"});
  parse({"--bogus"});
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace camstream

namespace camstream {
namespace {

// --- access control and TLS (docs/api.md, "Access control and TLS") ---

TEST(AccessOptions, AreStored) {
  const Options options =
      parse_ok({"--users", "/etc/u", "--operators", "alice, bob ,carol", "--token-key", "/k",
                "--tls-cert", "/c.pem", "--tls-key", "/k.pem"});
  EXPECT_EQ(options.users_file, "/etc/u");
  EXPECT_EQ(options.operators, (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(options.token_key_file, "/k");
  EXPECT_EQ(options.tls_cert_file, "/c.pem");
  EXPECT_EQ(options.tls_key_file, "/k.pem");
  const Options defaults = parse_ok({});
  EXPECT_EQ(defaults.users_file, "");
  EXPECT_TRUE(defaults.operators.empty());
  EXPECT_EQ(defaults.token_key_file, "");
  EXPECT_EQ(defaults.tls_cert_file, "");
  EXPECT_EQ(defaults.tls_key_file, "");
}

TEST(AccessOptions, BadValuesNameTheFlag) {
  EXPECT_EQ(usage_error({"--users", ""}), "camstream: --users: empty file name");
  EXPECT_EQ(usage_error({"--users", "u", "--operators", "a,,b"}),
            "camstream: --operators: 'a,,b' has an empty name; give user names separated by "
            "commas");
  EXPECT_EQ(usage_error({"--users", "u", "--operators", ""}),
            "camstream: --operators: '' has an empty name; give user names separated by commas");
  EXPECT_EQ(usage_error({"--users", "u", "--operators", "a:b"}),
            "camstream: --operators: 'a:b' cannot be a user name (no ':' in htpasswd names)");
  EXPECT_EQ(usage_error({"--tls-cert", ""}), "camstream: --tls-cert: needs --tls-key too");
}

TEST(AccessOptions, FlagsThatNeedAnotherSayWhich) {
  EXPECT_EQ(usage_error({"--operators", "alice"}),
            "camstream: --operators: needs --users (access control is off without it)");
  EXPECT_EQ(usage_error({"--token-key", "/k"}),
            "camstream: --token-key: needs --users (access control is off without it)");
  EXPECT_EQ(usage_error({"--tls-cert", "c.pem"}), "camstream: --tls-cert: needs --tls-key too");
  EXPECT_EQ(usage_error({"--tls-key", "k.pem"}), "camstream: --tls-key: needs --tls-cert too");
}

TEST(AccessOptions, HelpListsThem) {
  const std::string help = parse({"--help"}).output;
  for (const char* flag :
       {"--users", "--operators", "--token-key", "--tls-cert", "--tls-key", "/api/token"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace camstream
