// Signed, expiring tokens (HMAC-SHA256 through OpenSSL) and the --token-key file.
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "base64.hpp"
#include "camstream/access/access_error.hpp"
#include "camstream/access/token_signer.hpp"
#include "crypt.hpp"

namespace camstream::access {

namespace {

constexpr std::string_view kVersion = "v1";

// Closes a descriptor on every path out.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_;
};

AccessError key_error(const std::string& path, const std::string& problem) {
  return AccessError("--token-key " + path + ": " + problem);
}

std::string new_key() {
  std::string key(TokenSigner::kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    throw AccessError("cannot get random bytes from OpenSSL for the token key");
  }
  return key;
}

// Creates the key file; false if someone else created it first.
bool create_key_file(const std::string& path) {
  const FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) {
    if (errno == EEXIST) return false;
    throw key_error(path, std::string("cannot create: ") + std::strerror(errno));
  }
  std::string key = new_key();
  const ssize_t written = ::write(fd.get(), key.data(), key.size());
  const int write_errno = errno;
  OPENSSL_cleanse(key.data(), key.size());
  if (written != static_cast<ssize_t>(key.size()) || ::fsync(fd.get()) != 0) {
    ::unlink(path.c_str());
    throw key_error(path,
                    std::string("cannot write: ") + std::strerror(written < 0 ? write_errno : EIO));
  }
  return true;
}

std::string read_key_file(const std::string& path, std::vector<std::string>& warnings) {
  const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw key_error(path, std::string("cannot read: ") + std::strerror(errno));
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) {
    throw key_error(path, std::string("cannot read: ") + std::strerror(errno));
  }
  if (!S_ISREG(status.st_mode)) throw key_error(path, "not a regular file");
  const auto size = static_cast<std::size_t>(status.st_size);
  if (size < TokenSigner::kMinKeyBytes || size > TokenSigner::kMaxKeyBytes) {
    throw key_error(path, fmt::format("{} bytes; a key has {} to {} bytes (remove the file and "
                                      "camstream makes a new one, which revokes every token)",
                                      size, TokenSigner::kMinKeyBytes, TokenSigner::kMaxKeyBytes));
  }
  if ((status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    warnings.push_back(fmt::format(
        "--token-key {}: others may read or change it (mode {:04o}): anyone who reads it can make "
        "tokens; chmod 600 {}",
        path, status.st_mode & 07777, path));
  }
  std::string key(size, '\0');
  std::size_t done = 0;
  while (done < size) {
    const ssize_t got = ::read(fd.get(), key.data() + done, size - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      OPENSSL_cleanse(key.data(), key.size());
      throw key_error(path, std::string("cannot read: ") +
                                (got < 0 ? std::strerror(errno) : "the file shrank"));
    }
    done += static_cast<std::size_t>(got);
  }
  return key;
}

std::optional<std::int64_t> whole_number(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

// "v1|operator|1764547200|alice" -> claims. The user comes last: it may hold '|'.
std::optional<TokenClaims> parse_payload(std::string_view payload) {
  std::string_view fields[3];
  for (auto& field : fields) {
    const auto bar = payload.find('|');
    if (bar == std::string_view::npos) return std::nullopt;
    field = payload.substr(0, bar);
    payload.remove_prefix(bar + 1);
  }
  if (fields[0] != kVersion) return std::nullopt;
  const auto role = parse_role(fields[1]);
  const auto expires = whole_number(fields[2]);
  if (!role || !expires || payload.empty()) return std::nullopt;
  return TokenClaims{std::string(payload), *role, *expires};
}

}  // namespace

std::string_view to_string(Role role) {
  return role == Role::viewer ? "viewer" : "operator";
}

std::optional<Role> parse_role(std::string_view text) {
  if (text == "viewer") return Role::viewer;
  if (text == "operator") return Role::operator_;
  return std::nullopt;
}

std::string_view to_string(TokenProblem problem) {
  switch (problem) {
    case TokenProblem::none:
      return "valid";
    case TokenProblem::malformed:
      return "malformed";
    case TokenProblem::bad_signature:
      return "bad signature";
    case TokenProblem::expired:
      return "expired";
  }
  return "?";
}

TokenSigner::TokenSigner(std::string key) : key_(std::move(key)) {}

TokenSigner TokenSigner::random() {
  return TokenSigner(new_key());
}

TokenSigner TokenSigner::load_or_create(const std::string& path,
                                        std::vector<std::string>& warnings) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    if (errno != ENOENT) throw key_error(path, std::string("cannot read: ") + std::strerror(errno));
    if (create_key_file(path)) {
      warnings.push_back("--token-key " + path + ": created a new key (mode 0600)");
    }
  }
  return TokenSigner(read_key_file(path, warnings));
}

std::string TokenSigner::mac(std::string_view payload) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest, &length);
  return {reinterpret_cast<const char*>(digest), length};
}

std::string TokenSigner::issue(const TokenClaims& claims) const {
  const std::string payload =
      fmt::format("{}|{}|{}|{}", kVersion, to_string(claims.role), claims.expires, claims.user);
  return base64url_encode(payload) + "." + base64url_encode(mac(payload));
}

TokenCheck TokenSigner::check(std::string_view token, std::int64_t now_unix) const {
  if (token.empty() || token.size() > kMaxTokenBytes)
    return {std::nullopt, TokenProblem::malformed};
  const auto dot = token.find('.');
  if (dot == std::string_view::npos) return {std::nullopt, TokenProblem::malformed};
  const auto payload = base64url_decode(token.substr(0, dot));
  const auto signature = base64url_decode(token.substr(dot + 1));
  if (!payload || !signature) return {std::nullopt, TokenProblem::malformed};
  // One spelling per token: base64 lets the last character's spare bits vary.
  if (base64url_encode(*payload) != token.substr(0, dot) ||
      base64url_encode(*signature) != token.substr(dot + 1)) {
    return {std::nullopt, TokenProblem::malformed};
  }
  if (!equal_constant_time(*signature, mac(*payload))) {
    return {std::nullopt, TokenProblem::bad_signature};
  }
  auto claims = parse_payload(*payload);
  if (!claims) return {std::nullopt, TokenProblem::malformed};
  if (claims->expires <= now_unix) return {std::nullopt, TokenProblem::expired};
  return {std::move(claims), TokenProblem::none};
}

bool TokenSigner::same_key(const TokenSigner& other) const {
  return equal_constant_time(key_, other.key_);
}

std::optional<std::int64_t> parse_ttl(std::string_view text) {
  if (text.empty() || text.front() == '+' || text.front() == '-') return std::nullopt;
  const auto value = whole_number(text);
  if (!value || *value < TokenSigner::kMinTtl || *value > TokenSigner::kMaxTtl) return std::nullopt;
  return value;
}

}  // namespace camstream::access
