// UserTable: real hashes from htpasswd -B and mkpasswd, checked with the system's libcrypt.
#include <gtest/gtest.h>

#include "access/crypt.hpp"
#include "access/user_table.hpp"
#include "access_test_util.hpp"
#include "camstream/access/access_error.hpp"

namespace camstream::access {
namespace {

using testing::htpasswd_line;
using testing::mkpasswd;
using testing::ScratchDir;

std::string error_of(const std::string& text) {
  try {
    UserTable::parse(text, "--users u.txt");
  } catch (const AccessError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error for: " << text;
  return {};
}

TEST(UserTable, BcryptFromHtpasswdVerifies) {
  const std::string line = htpasswd_line("alice", "correct horse");
  ASSERT_EQ(line.rfind("alice:$2y$", 0), 0u) << line;
  const UserTable users = UserTable::parse(line + "\n", "--users u.txt");
  EXPECT_EQ(users.size(), 1u);
  EXPECT_TRUE(users.contains("alice"));
  EXPECT_TRUE(users.verify("alice", "correct horse"));
  EXPECT_FALSE(users.verify("alice", "correct horse "));
  EXPECT_FALSE(users.verify("alice", "Correct horse"));
  EXPECT_FALSE(users.verify("alice", ""));
}

TEST(UserTable, HigherBcryptCostVerifies) {
  const std::string line = testing::run("htpasswd -nbB -C 8 bob pw");
  const UserTable users = UserTable::parse(line, "--users u.txt");
  EXPECT_TRUE(users.verify("bob", "pw"));
  EXPECT_FALSE(users.verify("bob", "pW"));
}

TEST(UserTable, YescryptSha512AndBcrypt2bFromMkpasswdVerify) {
  const std::string yescrypt = mkpasswd("yescrypt", "s3cret");
  const std::string sha512 = mkpasswd("sha-512", "s3cret");
  const std::string bcrypt = mkpasswd("bcrypt", "s3cret");
  ASSERT_EQ(yescrypt.rfind("$y$", 0), 0u) << yescrypt;
  ASSERT_EQ(sha512.rfind("$6$", 0), 0u) << sha512;
  ASSERT_EQ(bcrypt.rfind("$2b$", 0), 0u) << bcrypt;
  const UserTable users = UserTable::parse(
      "# made by mkpasswd\n\ny:" + yescrypt + "\r\ns:" + sha512 + "\n  b:" + bcrypt + "  \n",
      "--users u.txt");
  EXPECT_EQ(users.size(), 3u);
  for (const char* user : {"y", "s", "b"}) {
    EXPECT_TRUE(users.verify(user, "s3cret")) << user;
    EXPECT_FALSE(users.verify(user, "s3cret!")) << user;
  }
  EXPECT_EQ(users.names(), (std::vector<std::string>{"b", "s", "y"}));
}

TEST(UserTable, UnknownUsersAndOtherUsersPasswordsFail) {
  const UserTable users = UserTable::parse(
      htpasswd_line("alice", "a-pass") + "\n" + htpasswd_line("bob", "b-pass"), "--users u.txt");
  EXPECT_FALSE(users.verify("carol", "a-pass"));
  EXPECT_FALSE(users.verify("carol", ""));
  EXPECT_FALSE(users.verify("", "a-pass"));
  EXPECT_FALSE(users.verify("alice", "b-pass"));
  EXPECT_FALSE(users.verify("ALICE", "a-pass"));
  EXPECT_TRUE(users.verify("bob", "b-pass"));
}

TEST(UserTable, HugeOrNulPasswordsFailWithoutHarm) {
  const UserTable users = UserTable::parse(htpasswd_line("alice", "pw"), "--users u.txt");
  EXPECT_FALSE(users.verify("alice", std::string(100'000, 'x')));
  EXPECT_FALSE(users.verify("alice", std::string("pw\0x", 4)));
  EXPECT_FALSE(users.verify(std::string(100'000, 'a'), "pw"));
}

TEST(UserTable, RefusesHashesThatAreNotCurrent) {
  // Apache MD5, crypt DES, SHA-1 and plain text: each error names the file, line and user.
  const std::string md5 = error_of(htpasswd_line("m", "pw", "-m"));
  EXPECT_NE(md5.find("--users u.txt: line 1: user 'm'"), std::string::npos) << md5;
  EXPECT_NE(md5.find("htpasswd -B"), std::string::npos) << md5;
  EXPECT_NE(error_of(htpasswd_line("d", "pw", "-d")).find("user 'd'"), std::string::npos);
  EXPECT_NE(error_of(htpasswd_line("s", "pw", "-s")).find("user 's'"), std::string::npos);
  EXPECT_NE(error_of("p:plaintext").find("user 'p'"), std::string::npos);
  EXPECT_NE(error_of("e:").find("user 'e'"), std::string::npos);
  EXPECT_NE(error_of("x:$2y$05$").find("user 'x'"), std::string::npos);
}

TEST(UserTable, MalformedLinesNameTheirLine) {
  const std::string good = htpasswd_line("alice", "pw");
  EXPECT_NE(error_of(good + "\n# note\nno colon here\n").find("line 3: expected name:hash"),
            std::string::npos);
  EXPECT_NE(error_of(":" + good.substr(good.find(':') + 1)).find("line 1: empty user name"),
            std::string::npos);
  EXPECT_NE(error_of(good + "\n" + good).find("line 2: user 'alice' is given twice"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(300, 'n') + good.substr(good.find(':'))).find("at most 256"),
            std::string::npos);
  EXPECT_NE(error_of("a\x01" + good.substr(good.find(':'))).find("printable"), std::string::npos);
  EXPECT_EQ(error_of(""), "--users u.txt: no users in the file");
  EXPECT_EQ(error_of("# only comments\n\n"), "--users u.txt: no users in the file");
}

TEST(UserTable, LoadNamesTheFlagAndTheFile) {
  const ScratchDir dir;
  const std::string path = dir.write("users", htpasswd_line("alice", "pw") + "\n");
  EXPECT_TRUE(UserTable::load(path).verify("alice", "pw"));

  const auto load_error = [](const std::string& file) {
    try {
      UserTable::load(file);
    } catch (const AccessError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(load_error(dir.file("missing")),
            "--users " + dir.file("missing") + ": cannot read: No such file or directory");
  EXPECT_EQ(load_error(dir.path().string()),
            "--users " + dir.path().string() + ": cannot read: Is a directory");
  const std::string huge = dir.write("huge", std::string(UserTable::kMaxFileBytes + 1, '#'));
  EXPECT_EQ(load_error(huge), "--users " + huge + ": larger than 1 MiB");
  const std::string bad = dir.write("bad", "alice:secret\n");
  EXPECT_NE(load_error(bad).find("--users " + bad + ": line 1: user 'alice'"), std::string::npos);
}

TEST(Crypt, HashAndCompareHelpers) {
  const std::string hash = mkpasswd("sha-512", "pw");
  EXPECT_EQ(crypt_hash("pw", hash), hash);
  EXPECT_NE(crypt_hash("pw2", hash), hash);
  EXPECT_EQ(crypt_hash("pw", "not a setting"), std::nullopt);
  EXPECT_EQ(crypt_hash(std::string("p\0w", 3), hash), std::nullopt);
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "abcd"));
  EXPECT_TRUE(equal_constant_time("", ""));
}

}  // namespace
}  // namespace camstream::access
