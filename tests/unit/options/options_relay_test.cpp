// --source URL, --source-header and --source-insecure: accepted forms, and usage errors that
// name the flag but never repeat a password.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "camstream/app/options.hpp"
#include "camstream/capture/relay_url.hpp"
#include "parse_arguments.hpp"

namespace camstream {
namespace {

using test::parse;

std::string usage_error(std::initializer_list<std::string> arguments) {
  const ParseResult result = parse(arguments);
  EXPECT_FALSE(result.options.has_value());
  EXPECT_EQ(result.exit_code, 2);
  return result.output.substr(0, result.output.find('\n'));
}

TEST(OptionsRelay, UrlSourceIsARelay) {
  const ParseResult result = parse({"--source", "https://u:p@cam.example:8443/video?x=1",
                                    "--source-header", "Authorization2: x", "--source-insecure"});
  ASSERT_TRUE(result.options) << result.output;
  EXPECT_EQ(result.options->source, SourceKind::relay);
  EXPECT_EQ(result.options->source_url, "https://u:p@cam.example:8443/video?x=1");
  EXPECT_EQ(result.options->source_headers, std::vector<std::string>{"Authorization2: x"});
  EXPECT_TRUE(result.options->source_insecure);
}

TEST(OptionsRelay, BadUrlsNameTheFlagAndNeverThePassword) {
  EXPECT_EQ(usage_error({"--source", "ftp://cam/x"}),
            "camstream: --source: scheme ftp: is not http or https");
  EXPECT_EQ(usage_error({"--source", "http:///x"}), "camstream: --source: the URL has no host");
  EXPECT_EQ(usage_error({"--source", "http://cam:99999/x"}),
            "camstream: --source: the URL's port 99999 is not in 1..65535");
  EXPECT_EQ(usage_error({"--source", "http://cam/a b"}),
            "camstream: --source: the URL holds a space or a control character (write %20)");
  for (const std::string url : {"htp://me:s3cret@cam/", "http://me:s3cret@cam:0/",
                                "http://me:s3cret@ca m/", "http://me:s3cret%zz@cam/"}) {
    const std::string error = usage_error({"--source", url});
    EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
    EXPECT_EQ(error.rfind("camstream: --source: ", 0), 0u) << error;
  }
}

TEST(OptionsRelay, HeadersAreCheckedWithoutShowingTheirValue) {
  EXPECT_EQ(usage_error({"--source", "http://cam/", "--source-header", "no colon"}),
            "camstream: --source-header: not 'Name: value' (e.g. 'Authorization: Bearer TOKEN')");
  EXPECT_EQ(usage_error({"--source", "http://cam/", "--source-header", "Host: other"}),
            "camstream: --source-header: header Host is set by camstream itself");
  const std::string injected =
      usage_error({"--source", "http://cam/", "--source-header", "X-A: s3cret\r\nX-B: c"});
  EXPECT_NE(injected.find("holds a line break"), std::string::npos);
  EXPECT_EQ(injected.find("s3cret"), std::string::npos);
  EXPECT_EQ(usage_error({"--source", "http://u:p@cam/", "--source-header", "authorization: x"}),
            "camstream: --source: the URL's user and password and a --source-header "
            "Authorization cannot both be given");
}

TEST(OptionsRelay, RelayFlagsNeedARelay) {
  EXPECT_EQ(usage_error({"--source-header", "A: b"}),
            "camstream: --source-header: needs --source http(s)://... (a relayed stream)");
  EXPECT_EQ(usage_error({"--source", "test", "--source-insecure"}),
            "camstream: --source-insecure: needs --source https://... (a relayed stream)");
}

// A relay's JPEGs are decoded for what needs their pixels (docs/api.md, "Relay source").
TEST(OptionsRelay, ARelayMayBeTurnedAndGivenASnapshotSize) {
  const auto parsed = parse({"--source", "http://cam/", "--rotation", "90", "--hflip", "--vflip",
                             "--snapshot-width", "1280", "--snapshot-height", "720"});
  ASSERT_TRUE(parsed.options) << parsed.output;
  EXPECT_EQ(parsed.options->live.rotation, 90);
  EXPECT_TRUE(parsed.options->live.hflip);
  EXPECT_EQ(parsed.options->live.snapshot_width, 1280);
  EXPECT_TRUE(parse({"--source", "http://cam/", "--rotation", "0", "--hflip=false"}).options);
}

TEST(OptionsCameraFormat, TheFormatsCamstreamTakes) {
  for (const std::string format : {"auto", "mjpeg", "yuyv", "uyvy", "nv12", "yuv420"}) {
    const auto parsed = parse({"--camera-format", format});
    ASSERT_TRUE(parsed.options) << format << ": " << parsed.output;
    EXPECT_EQ(parsed.options->camera_format, format);
  }
  const auto parsed = parse({"--source", "libcamera", "--camera-format", "mjpeg"});
  ASSERT_TRUE(parsed.options) << parsed.output;
  EXPECT_EQ(parsed.options->camera_format, "mjpeg");
  ASSERT_TRUE(parse({}).options);
  EXPECT_EQ(parse({}).options->camera_format, "auto");
}

TEST(OptionsCameraFormat, AnythingElseIsRefusedByName) {
  for (const std::string& bad :
       std::vector<std::string>{"", "MJPEG ", "jpeg", "rgb", "nv21", "-1", "nan", "auto,mjpeg",
                                std::string(10000, 'y')}) {
    const std::string error = usage_error({"--camera-format", bad});
    EXPECT_NE(error.find("--camera-format"), std::string::npos) << bad << ": " << error;
  }
}

TEST(OptionsCameraFormat, OnlyACameraHasAFormatToChoose) {
  EXPECT_NE(usage_error({"--source", "test", "--camera-format", "yuyv"})
                .find("--camera-format: only a libcamera camera has a format to choose, not "
                      "--source test"),
            std::string::npos);
  EXPECT_NE(usage_error({"--source", "http://cam/", "--camera-format", "mjpeg"})
                .find("--camera-format: only a libcamera camera has a format to choose, not "
                      "--source http(s)://..."),
            std::string::npos);
  EXPECT_TRUE(parse({"--source", "test", "--camera-format", "auto"}).options);
}

TEST(RelayUrl, PartsAndWhatIsShown) {
  const RelayUrl url = parse_relay_url("HTTPS://al%40ice:p%3Aw@[::1]:8443/s/t?token=abc#frag");
  EXPECT_TRUE(url.tls);
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, "8443");
  EXPECT_EQ(url.target, "/s/t?token=abc");
  EXPECT_EQ(url.user, "al@ice");
  EXPECT_EQ(url.password, "p:w");
  EXPECT_EQ(url.shown(), "https://[::1]:8443/s/t?...");
  EXPECT_EQ(url.host_header(), "[::1]:8443");
  const RelayUrl plain = parse_relay_url("http://cam.local");
  EXPECT_EQ(plain.port, "80");
  EXPECT_EQ(plain.target, "/");
  EXPECT_FALSE(plain.has_credentials);
  EXPECT_EQ(plain.host_header(), "cam.local");
  EXPECT_EQ(parse_relay_url("http://cam?action=stream").target, "/?action=stream");
}

}  // namespace
}  // namespace camstream
