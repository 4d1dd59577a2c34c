// --max-connections and --allow-host (repeatable), on the command line and in a config file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "camstream/app/options.hpp"
#include "config_files.hpp"

namespace camstream {
namespace {

ParseResult parse(std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), "camstream");
  std::vector<const char*> argv;
  for (const auto& word : arguments) argv.push_back(word.c_str());
  argv.push_back(nullptr);
  return parse_options(static_cast<int>(arguments.size()), argv.data());
}

Options parse_ok(std::vector<std::string> arguments) {
  ParseResult result = parse(std::move(arguments));
  EXPECT_TRUE(result.options.has_value()) << result.output;
  return result.options.value_or(Options{});
}

std::string usage_error(std::vector<std::string> arguments) {
  const ParseResult result = parse(std::move(arguments));
  EXPECT_EQ(result.exit_code, 2);
  return result.output.substr(0, result.output.find('\n'));
}

class ConfigFile : public test::ConfigFiles {
 protected:
  using ConfigFiles::write;
  std::string write(const std::string& content) { return write("camstream.conf", content); }
};

TEST(MaxConnections, DefaultAndRange) {
  EXPECT_EQ(parse_ok({}).max_connections, 1024);
  EXPECT_EQ(parse_ok({"--max-connections", "1"}).max_connections, 1);
  EXPECT_EQ(parse_ok({"--max-connections", "1000000"}).max_connections, 1'000'000);
  EXPECT_EQ(usage_error({"--max-connections", "0"}),
            "camstream: --max-connections: 0 not in 1..1000000");
  EXPECT_EQ(usage_error({"--max-connections", "-5"}),
            "camstream: --max-connections: -5 not in 1..1000000");
  EXPECT_EQ(usage_error({"--max-connections", "99999999999999999999"}),
            "camstream: --max-connections: '99999999999999999999' is not a whole number");
  EXPECT_EQ(usage_error({"--max-connections", "many"}),
            "camstream: --max-connections: 'many' is not a whole number");
}

TEST(AllowHost, Repeatable) {
  EXPECT_TRUE(parse_ok({}).allow_hosts.empty());
  EXPECT_EQ(parse_ok({"--allow-host", "cam.example", "--allow-host", "printer.lan"}).allow_hosts,
            (std::vector<std::string>{"cam.example", "printer.lan"}));
  for (const char* bad :
       {"", "cam.example:8080", "http://cam.example", "a b", "-x", ".x", "cam/example"}) {
    EXPECT_NE(usage_error({"--allow-host", bad}).find("--allow-host: '"), std::string::npos) << bad;
  }
  EXPECT_EQ(usage_error({"--allow-host"}), "camstream: --allow-host: missing value");
}

TEST_F(ConfigFile, AllowHostRepeatsAndTheCommandLineWins) {
  const std::string path = write(
      "max-connections = 12\n"
      "allow-host = \"a.example\"\n"
      "width = 320\n"
      "allow-host = \"b.example\"\n");
  const Options options = parse_ok({"-c", path});
  EXPECT_EQ(options.max_connections, 12);
  EXPECT_EQ(options.allow_hosts, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(parse_ok({"-c", path, "--allow-host", "c.example"}).allow_hosts,
            (std::vector<std::string>{"c.example"}));
}

TEST_F(ConfigFile, AllowHostTakesAList) {
  const std::string path = write("allow-host = [\"a.example\", \"b.example\"]\n");
  EXPECT_EQ(parse_ok({"-c", path}).allow_hosts,
            (std::vector<std::string>{"a.example", "b.example"}));
}

TEST_F(ConfigFile, BadAllowHostNamesTheKey) {
  const std::string path = write("allow-host = \"evil.example:80\"\n");
  EXPECT_EQ(usage_error({"-c", path}),
            "camstream: config file " + path +
                ": key 'allow-host': 'evil.example:80' is not a host name like camera.example "
                "(no scheme, no port)");
}

}  // namespace
}  // namespace camstream

namespace camstream {
namespace {

// --max-outputs (docs/api.md, "Outputs per viewer"): 1..32, default 4, and the config key.
TEST(MaxOutputs, DefaultRangeAndAbuse) {
  EXPECT_EQ(parse_ok({}).max_outputs, 4);
  EXPECT_EQ(parse_ok({"--max-outputs", "1"}).max_outputs, 1);
  EXPECT_EQ(parse_ok({"--max-outputs", "32"}).max_outputs, 32);
  EXPECT_EQ(usage_error({"--max-outputs", "0"}), "camstream: --max-outputs: 0 not in 1..32");
  EXPECT_EQ(usage_error({"--max-outputs", "33"}), "camstream: --max-outputs: 33 not in 1..32");
  for (const char* bad : {"-1", "", "NaN", "1e9", "4.5", "99999999999999999999999", "four"}) {
    const std::string error = usage_error({"--max-outputs", bad});
    EXPECT_EQ(error.rfind("camstream: --max-outputs: ", 0), 0u) << bad << ": " << error;
  }
}

TEST_F(ConfigFile, MaxOutputsFromTheConfigFileAndTheCommandLineWins) {
  const std::string path = write("max-outputs = 7\n");
  EXPECT_EQ(parse_ok({"--config", path}).max_outputs, 7);
  EXPECT_EQ(parse_ok({"--config", path, "--max-outputs", "2"}).max_outputs, 2);
  const std::string bad = write("max-outputs = 0\n");
  EXPECT_NE(usage_error({"--config", bad}).find("max-outputs"), std::string::npos);
}

}  // namespace
}  // namespace camstream
