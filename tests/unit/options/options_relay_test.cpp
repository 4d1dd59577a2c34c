// --source URL, --source-header and --source-insecure: accepted forms, and usage errors that
// name the flag but never repeat a password.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "camstream/app/options.hpp"
#include "camstream/capture/relay_url.hpp"

namespace camstream {
namespace {

ParseResult parse(std::initializer_list<std::string> arguments) {
  std::vector<std::string> words{"camstream"};
  words.insert(words.end(), arguments.begin(), arguments.end());
  std::vector<const char*> argv;
  for (const auto& word : words) argv.push_back(word.c_str());
  argv.push_back(nullptr);
  return parse_options(static_cast<int>(words.size()), argv.data());
}

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

TEST(OptionsRelay, RelayFlagsNeedARelayAndPixelWorkIsRefused) {
  EXPECT_EQ(usage_error({"--source-header", "A: b"}),
            "camstream: --source-header: needs --source http(s)://... (a relayed stream)");
  EXPECT_EQ(usage_error({"--source", "test", "--source-insecure"}),
            "camstream: --source-insecure: needs --source https://... (a relayed stream)");
  for (const std::string flag : {"--hflip", "--vflip"}) {
    EXPECT_NE(usage_error({"--source", "http://cam/", flag}).find(flag + ": a relayed --source"),
              std::string::npos);
  }
  EXPECT_NE(usage_error({"--source", "http://cam/", "--rotation", "180"}).find("--rotation: "),
            std::string::npos);
  EXPECT_NE(usage_error({"--source", "http://cam/", "--snapshot-width", "1280"})
                .find("--snapshot-width: "),
            std::string::npos);
  EXPECT_TRUE(parse({"--source", "http://cam/", "--rotation", "0", "--hflip=false"}).options);
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
