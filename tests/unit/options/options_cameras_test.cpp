// parse_options with [camera.NAME] sections (docs/api.md, "Several cameras in one process"):
// the defaults before the sections and from the command line, each section's own keys, and
// the errors naming the line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include "camstream/app/options.hpp"
#include "config_files.hpp"
#include "parse_arguments.hpp"

namespace camstream {
namespace {

using namespace std::chrono_literals;

class CameraSections : public test::ConfigFiles {
 protected:
  using ConfigFiles::write;
  std::string write(const std::string& content) {
    return write("c" + std::to_string(++files_) + ".conf", content);
  }

  Options ok(const std::string& content, std::initializer_list<std::string> more = {}) {
    std::vector<std::string> words{"-c", write(content)};
    words.insert(words.end(), more.begin(), more.end());
    const ParseResult result = parse(words);
    EXPECT_TRUE(result.options.has_value()) << result.output;
    return result.options.value_or(Options{});
  }

  // The message without "camstream: config file PATH " and the --help hint.
  std::string error(const std::string& content) {
    const std::string path = write(content);
    const ParseResult result = parse({"-c", path});
    EXPECT_FALSE(result.options.has_value());
    EXPECT_EQ(result.exit_code, 2);
    const std::string prefix = "camstream: config file " + path + " ";
    EXPECT_EQ(result.output.rfind(prefix, 0), 0U) << result.output;
    const std::string rest = result.output.substr(std::min(prefix.size(), result.output.size()));
    return rest.substr(0, rest.find('\n'));
  }

  static ParseResult parse(const std::vector<std::string>& words) {
    std::vector<std::string> all{"camstream"};
    all.insert(all.end(), words.begin(), words.end());
    std::vector<const char*> argv;
    for (const auto& word : all) argv.push_back(word.c_str());
    argv.push_back(nullptr);
    return parse_options(static_cast<int>(all.size()), argv.data());
  }

  int files_ = 0;
};

TEST_F(CameraSections, WithoutSectionsTheOneCameraIsDefault) {
  const Options options = ok("width = 320\n");
  EXPECT_TRUE(options.cameras.empty());
  const auto cameras = options.camera_list();
  ASSERT_EQ(cameras.size(), 1U);
  EXPECT_EQ(cameras[0].name, "default");
  EXPECT_EQ(cameras[0].live.width, 320);
}

TEST_F(CameraSections, SectionsInTheFilesOrderOverTheDefaults) {
  const Options options =
      ok("source = test\nquality = 50\nidle-timeout = 9\nport = 81\n"
         "[camera.zeta]\nwidth = 320\nheight = 240\nalways-on = true\n"
         "[camera.alpha-1]\nfps = 5\nquality = 70\nsource = libcamera\ncamera = 1\n");
  ASSERT_EQ(options.cameras.size(), 2U);
  EXPECT_EQ(options.port, 81);
  const CameraOptions& zeta = options.cameras[0];
  const CameraOptions& alpha = options.cameras[1];
  EXPECT_EQ(zeta.name, "zeta");
  EXPECT_EQ(alpha.name, "alpha-1");
  EXPECT_EQ(zeta.live.width, 320);
  EXPECT_EQ(zeta.live.quality, 50);
  EXPECT_TRUE(zeta.always_on);
  EXPECT_EQ(zeta.source, SourceKind::test);
  EXPECT_EQ(zeta.idle_timeout, 9s);
  EXPECT_EQ(alpha.live.width, 640);
  EXPECT_EQ(alpha.live.interval, 200ms);
  EXPECT_EQ(alpha.live.quality, 70);
  EXPECT_FALSE(alpha.always_on);
  EXPECT_EQ(alpha.source, SourceKind::libcamera);
  EXPECT_EQ(alpha.camera, "1");
  EXPECT_EQ(options.camera_list().size(), 2U);
}

TEST_F(CameraSections, TheCommandLineSetsTheDefaultsAndASectionStillWins) {
  const Options options =
      ok("quality = 50\ninterval = 100\n[camera.a]\n[camera.b]\nquality = 70\nfps = 2\n",
         {"--quality", "30", "--fps", "10"});
  EXPECT_EQ(options.cameras[0].live.quality, 30);
  EXPECT_EQ(options.cameras[0].live.interval, 100ms);
  EXPECT_EQ(options.cameras[1].live.quality, 70);
  EXPECT_EQ(options.cameras[1].live.interval, 500ms);
}

TEST_F(CameraSections, ControlsAddUpAndHeadersAreReplaced) {
  const Options options =
      ok("control = Brightness=0.1\nsource-header = \"X-A: 1\"\n"
         "[camera.a]\ncontrol = Contrast=1.5\n"
         "[camera.b]\nsource = http://192.0.2.7/x\nsource-header = \"X-B: 2\"\n");
  ASSERT_EQ(options.cameras[0].controls.size(), 2U);
  EXPECT_EQ(options.cameras[0].controls[0].name, "Brightness");
  EXPECT_EQ(options.cameras[0].controls[1].name, "Contrast");
  EXPECT_NE(options.cameras[0].controls[1].where.find("[camera.a]"), std::string::npos);
  EXPECT_EQ(options.cameras[1].source_headers, std::vector<std::string>{"X-B: 2"});
  EXPECT_EQ(options.cameras[1].source, SourceKind::relay);
}

TEST_F(CameraSections, AnOddSizeIsNotedOnce) {
  const Options options = ok("width = 321\n[camera.a]\n[camera.b]\n");
  EXPECT_EQ(options.warnings.size(), 1U);
}

TEST_F(CameraSections, BadNamesNameTheLine) {
  EXPECT_EQ(error("port = 1\n\n[camera.Big]\n"),
            "line 3: [camera.Big]: a camera name is 1 to 32 of a-z, 0-9, '_' and '-'");
  EXPECT_EQ(error("[camera.]\n"),
            "line 1: [camera.]: a camera name is 1 to 32 of a-z, 0-9, '_' and '-'");
  EXPECT_EQ(error("[camera.a/b]\n"),
            "line 1: [camera.a/b]: a camera name is 1 to 32 of a-z, 0-9, '_' and '-'");
  EXPECT_EQ(error("[camera." + std::string(33, 'x') + "]\n").substr(0, 8), "line 1: ");
  EXPECT_TRUE(ok("[camera." + std::string(32, 'x') + "]\n").cameras.size() == 1);
}

TEST_F(CameraSections, RepeatsUnknownAndServerWideKeysNameTheLine) {
  EXPECT_EQ(error("[camera.a]\n[camera.b]\n[camera.a]\n"),
            "line 3: [camera.a] given twice (first on line 1)");
  EXPECT_EQ(error("[camera.a]\n# note\nzoom = 2\n"),
            "line 3: key 'zoom' of [camera.a]: unknown key");
  EXPECT_EQ(error("[camera.a]\nbind = 127.0.0.1\n"),
            "line 2: key 'bind' of [camera.a]: a server-wide key; put it before the first "
            "[camera.NAME]");
  for (const char* key :
       {"port = 1", "max-clients = 1", "max-connections = 1", "encode-threads = 1",
        "allow-origin = \"https://a\"", "allow-host = a", "users = f", "operators = a",
        "token-key = f", "tls-cert = f", "tls-key = f", "log-level = info"}) {
    EXPECT_NE(error(std::string("[camera.a]\n") + key + "\n").find("a server-wide key"),
              std::string::npos)
        << key;
  }
  EXPECT_EQ(error("[camera.a]\nwidth = 2\n"),
            "line 2: key 'width' of [camera.a]: 2 not in 16..7680");
}

// config/cameras.conf, the example installed with the documentation.
TEST_F(CameraSections, TheShippedExampleDeclaresTwoCameras) {
  const auto path = std::filesystem::path(CAMSTREAM_CONFIG_DIR) / "cameras.conf";
  const ParseResult result = parse({"-c", path.string()});
  ASSERT_TRUE(result.options.has_value()) << result.output;
  const Options& options = *result.options;
  ASSERT_EQ(options.cameras.size(), 2U);
  EXPECT_EQ(options.cameras[0].name, "nozzle");
  EXPECT_EQ(options.cameras[0].live.width, 1280);
  EXPECT_EQ(options.cameras[0].live.interval, std::chrono::microseconds(66'667));
  EXPECT_EQ(options.cameras[1].name, "bed");
  EXPECT_EQ(options.cameras[1].camera, "1");
  EXPECT_EQ(options.cameras[1].live.rotation, 180);
  EXPECT_EQ(options.cameras[1].live.interval, 100ms);
  EXPECT_EQ(options.port, 8080);
}

TEST_F(CameraSections, AtMost16) {
  std::string sixteen;
  for (int i = 0; i < 16; ++i) sixteen += "[camera.c" + std::to_string(i) + "]\n";
  EXPECT_EQ(ok(sixteen).cameras.size(), 16U);
  EXPECT_EQ(error(sixteen + "[camera.c16]\n"), "line 17: [camera.c16]: more than 16 cameras");
}

}  // namespace
}  // namespace camstream
