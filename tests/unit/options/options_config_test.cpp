// parse_options with a config file: the shipped file, every key, errors naming file and key,
// and the command line winning over the file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "camstream/app/options.hpp"
#include "camstream/core/settings.hpp"
#include "config_files.hpp"
#include "parse_arguments.hpp"

namespace camstream {
namespace {

using namespace std::chrono_literals;

// The config file installed to /etc/camstream (tests/CMakeLists.txt names the directory: a
// package build maps __FILE__ to a relative path).
const std::filesystem::path kShippedConfig =
    std::filesystem::path(CAMSTREAM_CONFIG_DIR) / "camstream.conf";

using test::ConfigFiles;

using test::parse;

Options parse_ok(std::initializer_list<std::string> arguments) {
  ParseResult result = parse(arguments);
  EXPECT_TRUE(result.options.has_value()) << result.output;
  EXPECT_EQ(result.exit_code, 0);
  return result.options.value_or(Options{});
}

std::string usage_error(std::initializer_list<std::string> arguments) {
  const ParseResult result = parse(arguments);
  EXPECT_FALSE(result.options.has_value());
  EXPECT_EQ(result.exit_code, 2);
  return result.output.substr(0, result.output.find('\n'));
}

// Every field but config_file, which names the file and so differs by design.
void expect_same_settings(const Options& actual, const Options& expected) {
  EXPECT_EQ(actual.source, expected.source);
  EXPECT_EQ(actual.camera, expected.camera);
  EXPECT_EQ(actual.list_cameras, expected.list_cameras);
  EXPECT_EQ(actual.live.width, expected.live.width);
  EXPECT_EQ(actual.live.height, expected.live.height);
  EXPECT_EQ(actual.live.interval, expected.live.interval);
  EXPECT_EQ(actual.live.quality, expected.live.quality);
  EXPECT_EQ(actual.bind, expected.bind);
  EXPECT_EQ(actual.port, expected.port);
  EXPECT_EQ(actual.always_on, expected.always_on);
  EXPECT_EQ(actual.idle_timeout, expected.idle_timeout);
  EXPECT_EQ(actual.max_clients, expected.max_clients);
  EXPECT_EQ(actual.encode_threads, expected.encode_threads);
  EXPECT_EQ(actual.allow_origin, expected.allow_origin);
  EXPECT_EQ(actual.live.rotation, expected.live.rotation);
  EXPECT_EQ(actual.live.hflip, expected.live.hflip);
  EXPECT_EQ(actual.live.vflip, expected.live.vflip);
  EXPECT_EQ(actual.log_level, expected.log_level);
  EXPECT_EQ(actual.warnings, expected.warnings);
}

// --- the shipped file ---

TEST(ShippedConfig, LoadsAndGivesExactlyTheDefaults) {
  ASSERT_TRUE(std::filesystem::exists(kShippedConfig)) << kShippedConfig;
  const Options options = parse_ok({"-c", kShippedConfig.string()});
  EXPECT_EQ(options.config_file, kShippedConfig.string());
  expect_same_settings(options, Options{});
}

TEST(ShippedConfig, DocumentsEveryKey) {
  std::ifstream file(kShippedConfig);
  const std::string text{std::istreambuf_iterator<char>(file), {}};
  for (const char* key :
       {"source",        "camera",      "width",        "height",        "interval",
        "fps",           "quality",     "bind",         "port",          "always-on",
        "idle-timeout",  "max-clients", "allow-origin", "rotation",      "hflip",
        "vflip",         "log-level",   "control",      "source-header", "source-insecure",
        "encode-threads"}) {
    const std::string set = std::string("\n").append(key).append(" = ");
    const std::string commented = std::string("\n# ").append(key).append(" = ");
    EXPECT_TRUE(text.find(set) != std::string::npos || text.find(commented) != std::string::npos)
        << key;
  }
  // Every row of the live settings table, whatever rows it grows.
  for (const auto& row : setting_rows()) {
    const std::string key(row.flag);
    EXPECT_TRUE(text.find("\n" + key + " = ") != std::string::npos ||
                text.find("\n# " + key + " = ") != std::string::npos)
        << key;
  }
}

// --- values from a file ---

TEST_F(ConfigFiles, EveryKeyIsApplied) {
  const std::string path = write("all.conf",
                                 "source = test\n"
                                 "camera = \"/base/soc/i2c0mux/i2c@1/imx219@10\"\n"
                                 "width = 1280\n"
                                 "height = 720\n"
                                 "interval = 40\n"
                                 "quality = 60\n"
                                 "bind = \"127.0.0.1\"\n"
                                 "port = 0\n"
                                 "always-on = true\n"
                                 "idle-timeout = 30\n"
                                 "max-clients = 8\n"
                                 "allow-origin = \"http://octopi.local\"\n"
                                 "rotation = 180\n"
                                 "hflip = yes\n"
                                 "vflip = on\n"
                                 "log-level = warn\n");
  const Options options = parse_ok({"--config", path});
  EXPECT_EQ(options.config_file, path);
  EXPECT_EQ(options.source, SourceKind::test);
  EXPECT_EQ(options.camera, "/base/soc/i2c0mux/i2c@1/imx219@10");
  EXPECT_EQ(options.live.width, 1280);
  EXPECT_EQ(options.live.height, 720);
  EXPECT_EQ(options.live.interval, 40ms);
  EXPECT_EQ(options.live.quality, 60);
  EXPECT_EQ(options.bind, "127.0.0.1");
  EXPECT_EQ(options.port, 0);
  EXPECT_TRUE(options.always_on);
  EXPECT_EQ(options.idle_timeout, 30s);
  EXPECT_EQ(options.max_clients, 8);
  EXPECT_EQ(options.allow_origin, "http://octopi.local");
  EXPECT_EQ(options.live.rotation, 180);
  EXPECT_TRUE(options.live.hflip);
  EXPECT_TRUE(options.live.vflip);
  EXPECT_EQ(options.log_level, "warn");
}

TEST_F(ConfigFiles, FpsInAFileBecomesMicroseconds) {
  EXPECT_EQ(parse_ok({"-c", write("fps.conf", "fps = 30\n")}).live.interval, 33333us);
}

TEST_F(ConfigFiles, CommentsBlankLinesAndWindowsLineEndsAreFine) {
  const std::string path =
      write("comments.conf", "# a comment\r\n\r\n; an INI comment\r\nquality = 42  # why\r\n");
  EXPECT_EQ(parse_ok({"-c", path}).live.quality, 42);
}

TEST_F(ConfigFiles, AnEmptyFileGivesTheDefaults) {
  expect_same_settings(parse_ok({"-c", write("empty.conf", "")}), Options{});
}

TEST_F(ConfigFiles, TheDefaultSectionIsTheTopLevel) {
  EXPECT_EQ(parse_ok({"-c", write("default.conf", "[default]\nport = 81\n")}).port, 81);
}

TEST_F(ConfigFiles, OddSizesWarnNamingFileAndKey) {
  const std::string path = write("odd.conf", "width = 333\n");
  const Options options = parse_ok({"-c", path});
  EXPECT_EQ(options.live.width, 332);
  ASSERT_EQ(options.warnings.size(), 1u);
  EXPECT_EQ(options.warnings[0],
            "config file " + path + ": key 'width': 333 is odd, rounded down to 332");
}

// --- errors ---

TEST_F(ConfigFiles, AMissingFileIsAUsageError) {
  const std::string path = (directory_ / "missing.conf").string();
  EXPECT_EQ(usage_error({"-c", path}),
            "camstream: config file " + path + ": cannot read: No such file or directory");
}

TEST_F(ConfigFiles, ADirectoryIsAUsageError) {
  EXPECT_EQ(usage_error({"-c", directory_.string()})
                .rfind("camstream: config file " + directory_.string() + ": cannot read", 0),
            0u);
}

TEST_F(ConfigFiles, AnUnknownKeyIsAUsageErrorNamingIt) {
  const std::string path = write("a.conf", "qualty = 90\n");
  EXPECT_EQ(usage_error({"-c", path}), "camstream: config file " + path + ": unknown key 'qualty'");
}

TEST_F(ConfigFiles, ActionsAreNotConfigKeys) {
  for (const char* key : {"config", "help", "version", "list-cameras"}) {
    const std::string path = write("action.conf", std::string(key) + " = true\n");
    EXPECT_EQ(usage_error({"-c", path}),
              "camstream: config file " + path + ": unknown key '" + key + "'");
  }
}

TEST_F(ConfigFiles, SectionsAndDottedKeysAreUsageErrors) {
  const std::string section = write("section.conf", "[camera]\nwidth = 320\n");
  EXPECT_EQ(usage_error({"-c", section}),
            "camstream: config file " + section + ": unknown section '[camera]'");
  const std::string dotted = write("dotted.conf", "server.port = 81\n");
  EXPECT_EQ(usage_error({"-c", dotted}),
            "camstream: config file " + dotted + ": unknown key 'server.port'");
}

TEST_F(ConfigFiles, ABadValueNamesFileAndKey) {
  const std::string path = write("bad.conf", "quality = 120\n");
  EXPECT_EQ(usage_error({"-c", path}),
            "camstream: config file " + path + ": key 'quality': 120 not in 1..100");
  const std::string flag = write("flag.conf", "hflip = sometimes\n");
  EXPECT_EQ(usage_error({"-c", flag}),
            "camstream: config file " + flag + ": key 'hflip': 'sometimes' is not true or false");
  const std::string text = write("text.conf", "width = wide\n");
  EXPECT_EQ(usage_error({"-c", text}),
            "camstream: config file " + text + ": key 'width': 'wide' is not a whole number");
}

TEST_F(ConfigFiles, ARepeatedKeyOrAListIsAUsageError) {
  const std::string repeated = write("repeated.conf", "port = 81\nquality = 5\nport = 82\n");
  EXPECT_EQ(usage_error({"-c", repeated}),
            "camstream: config file " + repeated + ": key 'port': given more than once");
  const std::string list = write("list.conf", "port = [81, 82]\n");
  EXPECT_EQ(usage_error({"-c", list}),
            "camstream: config file " + list + ": key 'port': given more than once");
}

TEST_F(ConfigFiles, FpsAndIntervalTogetherAreAUsageError) {
  const std::string path = write("both.conf", "interval = 100\nfps = 10\n");
  EXPECT_EQ(usage_error({"-c", path}),
            "camstream: config file " + path + ": keys 'fps' and 'interval' cannot both be given");
}

// --- precedence ---

TEST_F(ConfigFiles, TheCommandLineBeatsTheFile) {
  const std::string path = write("base.conf", "quality = 90\nport = 81\nhflip = true\n");
  const Options options = parse_ok({"--quality", "50", "-c", path, "--hflip=false"});
  EXPECT_EQ(options.live.quality, 50);
  EXPECT_EQ(options.port, 81);  // not on the command line: from the file
  EXPECT_FALSE(options.live.hflip);
}

TEST_F(ConfigFiles, AFileValueOverriddenOnTheCommandLineIsNotChecked) {
  // The command line wins, so the file's value is never used, and it is not checked either:
  // the override is how one runs despite a broken setting.
  const std::string path = write("override.conf", "quality = 500\n");
  EXPECT_EQ(parse_ok({"-c", path, "--quality", "70"}).live.quality, 70);
}

TEST_F(ConfigFiles, FpsOrIntervalOnTheCommandLineReplacesEitherInTheFile) {
  const std::string interval_file = write("interval.conf", "interval = 500\n");
  EXPECT_EQ(parse_ok({"-c", interval_file, "--fps", "25"}).live.interval, 40ms);
  const std::string fps_file = write("fps.conf", "fps = 2\n");
  EXPECT_EQ(parse_ok({"-c", fps_file, "--interval", "20"}).live.interval, 20ms);
  EXPECT_EQ(parse_ok({"-c", fps_file}).live.interval, 500ms);
}

TEST_F(ConfigFiles, OddSizeOverriddenOnTheCommandLineDoesNotWarn) {
  const std::string path = write("odd.conf", "width = 333\n");
  const Options options = parse_ok({"-c", path, "--width", "320"});
  EXPECT_EQ(options.live.width, 320);
  EXPECT_TRUE(options.warnings.empty());
}

}  // namespace
}  // namespace camstream

namespace camstream {
namespace {

TEST(ShippedConfig, DocumentsTheAccessKeys) {
  std::ifstream file(kShippedConfig);
  const std::string text{std::istreambuf_iterator<char>(file), {}};
  for (const char* key : {"users", "operators", "token-key", "tls-cert", "tls-key"}) {
    EXPECT_NE(text.find(std::string("\n# ").append(key).append(" = ")), std::string::npos) << key;
  }
}

TEST_F(ConfigFiles, AccessKeysAreAppliedAndCheckedTogether) {
  const std::string path = write("access.conf",
                                 "users = \"/etc/camstream/users\"\n"
                                 "operators = \"alice,bob\"\n"
                                 "token-key = \"/var/lib/camstream/key\"\n"
                                 "tls-cert = \"/c.pem\"\n"
                                 "tls-key = \"/k.pem\"\n");
  const Options options = parse_ok({"-c", path});
  EXPECT_EQ(options.users_file, "/etc/camstream/users");
  EXPECT_EQ(options.operators, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(options.token_key_file, "/var/lib/camstream/key");
  EXPECT_EQ(options.tls_cert_file, "/c.pem");
  EXPECT_EQ(options.tls_key_file, "/k.pem");

  const std::string lonely = write("lonely.conf", "tls-key = \"/k.pem\"\n");
  const ParseResult result = parse({"-c", lonely});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("config file " + lonely + ": key 'tls-key': needs --tls-cert too"),
            std::string::npos)
      << result.output;
  // The command line may complete what the file starts.
  EXPECT_EQ(parse_ok({"-c", lonely, "--tls-cert", "/c.pem"}).tls_cert_file, "/c.pem");
}

TEST_F(ConfigFiles, EncodeThreadsKeyIsCheckedLikeTheFlag) {
  EXPECT_EQ(parse_ok({"--config", write("threads.conf", "encode-threads = 3\n")}).encode_threads,
            3);
  const std::string zero = write("threads0.conf", "encode-threads = 0\n");
  EXPECT_EQ(usage_error({"--config", zero}),
            "camstream: config file " + zero + ": key 'encode-threads': 0 not in 1..16");
  const std::string text = write("threads_text.conf", "encode-threads = \"many\"\n");
  EXPECT_EQ(
      usage_error({"--config", text}),
      "camstream: config file " + text + ": key 'encode-threads': 'many' is not a whole number");
  // The flag wins over the file, as for every key.
  EXPECT_EQ(parse_ok({"--config", zero, "--encode-threads", "2"}).encode_threads, 2);
}

}  // namespace
}  // namespace camstream
