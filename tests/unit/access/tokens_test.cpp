// Tokens, the key file, ttl and Basic credentials.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "access/base64.hpp"
#include "access/basic_auth.hpp"
#include "access_test_util.hpp"
#include "camstream/access/access_error.hpp"
#include "camstream/access/identity.hpp"
#include "camstream/access/token_signer.hpp"

namespace camstream::access {
namespace {

using testing::ScratchDir;

constexpr std::int64_t kNow = 1'800'000'000;

std::string key_of(char fill) {
  return std::string(32, fill);
}

TEST(Token, RoundTripsUserRoleAndExpiry) {
  const TokenSigner signer(key_of('k'));
  for (const Role role : {Role::viewer, Role::operator_}) {
    const std::string token = signer.issue({"alice", role, kNow + 60});
    const TokenCheck check = signer.check(token, kNow);
    ASSERT_TRUE(check.claims) << to_string(check.problem);
    EXPECT_EQ(check.problem, TokenProblem::none);
    EXPECT_EQ(check.claims->user, "alice");
    EXPECT_EQ(check.claims->role, role);
    EXPECT_EQ(check.claims->expires, kNow + 60);
    // URL-safe as it is: no percent-encoding needed in ?token=.
    EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789-_."),
              std::string::npos)
        << token;
  }
}

TEST(Token, UserNamesWithSeparatorsRoundTrip) {
  const TokenSigner signer(key_of('k'));
  const std::string user = "we|ird.na me@x";
  const auto check = signer.check(signer.issue({user, Role::viewer, kNow + 60}), kNow);
  ASSERT_TRUE(check.claims);
  EXPECT_EQ(check.claims->user, user);
}

TEST(Token, ExpiredTokensFail) {
  const TokenSigner signer(key_of('k'));
  const std::string token = signer.issue({"alice", Role::viewer, kNow + 60});
  EXPECT_TRUE(signer.check(token, kNow + 59).claims);
  EXPECT_EQ(signer.check(token, kNow + 60).problem, TokenProblem::expired);
  EXPECT_FALSE(signer.check(token, kNow + 61).claims);
}

TEST(Token, EveryTamperedCharacterFails) {
  const TokenSigner signer(key_of('k'));
  const std::string token = signer.issue({"alice", Role::viewer, kNow + 3600});
  for (std::size_t i = 0; i < token.size(); ++i) {
    std::string tampered = token;
    tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
    const TokenCheck check = signer.check(tampered, kNow);
    EXPECT_FALSE(check.claims) << "position " << i << ": " << tampered;
    EXPECT_NE(check.problem, TokenProblem::none);
  }
}

TEST(Token, ForgedRoleOrExpiryFails) {
  const TokenSigner signer(key_of('k'));
  const std::string token = signer.issue({"alice", Role::viewer, kNow + 60});
  const std::string signature = token.substr(token.find('.'));
  for (const std::string& payload : {"v1|operator|" + std::to_string(kNow + 60) + "|alice",
                                     "v1|viewer|" + std::to_string(kNow + 999999) + "|alice",
                                     "v1|viewer|" + std::to_string(kNow + 60) + "|bob"}) {
    EXPECT_EQ(signer.check(base64url_encode(payload) + signature, kNow).problem,
              TokenProblem::bad_signature)
        << payload;
  }
}

TEST(Token, AnotherKeyRevokesEveryToken) {
  const TokenSigner first(key_of('a'));
  const TokenSigner second(key_of('b'));
  const std::string token = first.issue({"alice", Role::operator_, kNow + 60});
  EXPECT_EQ(second.check(token, kNow).problem, TokenProblem::bad_signature);
  EXPECT_NE(TokenSigner::random().issue({"a", Role::viewer, kNow}),
            TokenSigner::random().issue({"a", Role::viewer, kNow}));
}

TEST(Token, GarbageAndHugeTokensAreMalformed) {
  const TokenSigner signer(key_of('k'));
  const std::string valid = signer.issue({"alice", Role::viewer, kNow + 60});
  for (const std::string& garbage :
       {std::string(), std::string("."), std::string("abc"), std::string("a.b.c"),
        std::string("%00.%00"), std::string("====.===="), std::string(1 << 20, 'A'),
        std::string(TokenSigner::kMaxTokenBytes + 1, 'A') + "." + valid,
        valid + std::string(2000, 'A'), std::string("\xff\xfe.\x80"), std::string("dGVzdA.dGVzdA"),
        base64url_encode("v1|viewer|x|alice") + ".AAAA"}) {
    const TokenCheck check = signer.check(garbage, kNow);
    EXPECT_FALSE(check.claims) << garbage.substr(0, 40);
  }
  EXPECT_TRUE(signer.check(valid, kNow).claims);
}

TEST(Ttl, AcceptsOnlyWholeSecondsInRange) {
  EXPECT_EQ(parse_ttl("60"), 60);
  EXPECT_EQ(parse_ttl("86400"), 86400);
  EXPECT_EQ(parse_ttl("31536000"), 31536000);
  for (const char* bad : {"59", "31536001", "0", "-60", "+60", "NaN", "nan", "inf", "1e3", "60.0",
                          "", " 60", "60 ", "0x3c", "99999999999999999999999", "60s"}) {
    EXPECT_EQ(parse_ttl(bad), std::nullopt) << bad;
  }
}

TEST(TokenKey, CreatedWhenMissingWithMode0600And32Bytes) {
  const ScratchDir dir;
  const std::string path = dir.file("token.key");
  std::vector<std::string> warnings;
  const TokenSigner created = TokenSigner::load_or_create(path, warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("created a new key"), std::string::npos);
  struct stat status {};
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777, 0600u);
  EXPECT_EQ(status.st_size, 32);

  // The same file again (a restart): the old tokens stay valid, and no warning.
  warnings.clear();
  const TokenSigner reread = TokenSigner::load_or_create(path, warnings);
  EXPECT_TRUE(warnings.empty());
  const std::string token = created.issue({"alice", Role::viewer, kNow + 60});
  EXPECT_TRUE(reread.check(token, kNow).claims);

  // A new key file: the old tokens are revoked.
  std::filesystem::remove(path);
  const TokenSigner renewed = TokenSigner::load_or_create(path, warnings);
  EXPECT_EQ(renewed.check(token, kNow).problem, TokenProblem::bad_signature);
}

TEST(TokenKey, AKeyOthersMayReadGetsAWarning) {
  const ScratchDir dir;
  const std::string path = dir.write("key", std::string(40, 'z'));
  ::chmod(path.c_str(), 0644);
  std::vector<std::string> warnings;
  const TokenSigner signer = TokenSigner::load_or_create(path, warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("--token-key " + path + ": others may read"), std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[0].find("0644"), std::string::npos);
  // The key is the file's bytes, whatever they are.
  EXPECT_TRUE(TokenSigner(std::string(40, 'z'))
                  .check(signer.issue({"a", Role::viewer, kNow + 60}), kNow)
                  .claims);
}

TEST(TokenKey, BadKeyFilesNameTheFlagAndTheFile) {
  const ScratchDir dir;
  const auto error = [](const std::string& path) {
    std::vector<std::string> warnings;
    try {
      TokenSigner::load_or_create(path, warnings);
    } catch (const AccessError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string empty = dir.write("empty", "");
  EXPECT_NE(error(empty).find("--token-key " + empty + ": 0 bytes; a key has 16 to 4096 bytes"),
            std::string::npos)
      << error(empty);
  const std::string huge = dir.write("huge", std::string(5000, 'k'));
  EXPECT_NE(error(huge).find("5000 bytes"), std::string::npos);
  EXPECT_EQ(error(dir.path().string()),
            "--token-key " + dir.path().string() + ": not a regular file");
  const std::string nowhere = dir.file("no/such/dir/key");
  EXPECT_EQ(error(nowhere),
            "--token-key " + nowhere + ": cannot create: No such file or directory");
}

TEST(Base64, UrlRoundTripsEveryLength) {
  std::mt19937 random(42);
  for (std::size_t length = 0; length < 70; ++length) {
    std::string bytes(length, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    const std::string encoded = base64url_encode(bytes);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    EXPECT_EQ(base64url_decode(encoded), bytes) << length;
  }
  EXPECT_EQ(base64url_decode("a+b/"), std::nullopt);
  EXPECT_EQ(base64url_decode("A"), std::nullopt);
  EXPECT_EQ(base64_decode("YWJj"), "abc");
  EXPECT_EQ(base64_decode("YWI="), "ab");
  EXPECT_EQ(base64_decode("YWI"), "ab");
  EXPECT_EQ(base64_decode("YQ=="), "a");
  EXPECT_EQ(base64_decode("YQ"), "a");
  EXPECT_EQ(base64_decode("YQ="), std::nullopt);
  EXPECT_EQ(base64_decode("Y Q=="), std::nullopt);
  EXPECT_EQ(base64_decode("YQ==YQ=="), std::nullopt);
  EXPECT_EQ(base64_decode(""), "");
}

TEST(Basic, ParsesRfc7617Credentials) {
  auto credentials = parse_basic("Basic YWxpY2U6c2VjcmV0");  // alice:secret
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->user, "alice");
  EXPECT_EQ(credentials->password, "secret");
  credentials = parse_basic("basic   YWxpY2U6c2VjcmV0  ");
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->user, "alice");
  credentials = parse_basic("Basic YWxpY2U6YTpiOmM=");  // alice:a:b:c
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->password, "a:b:c");
  credentials = parse_basic("Basic YWxpY2U6");  // alice:
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->password, "");
}

TEST(Basic, RefusesEverythingElse) {
  for (const std::string& bad :
       {std::string(), std::string("Basic"), std::string("Basic "), std::string("Bearer abc"),
        std::string("Basic YWxpY2U="),  // no colon
        std::string("Basic !!!!"), std::string("BasicYWxpY2U6c2VjcmV0"),
        std::string("Digest username=alice"), std::string("Basic ") + std::string(5000, 'Q'),
        std::string(1 << 20, 'B'), std::string("Basic \xff\xfe")}) {
    EXPECT_EQ(parse_basic(bad), std::nullopt) << bad.substr(0, 40);
  }
}

}  // namespace
}  // namespace camstream::access
