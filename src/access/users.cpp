// The --users file and password checks, with the system's crypt library (libxcrypt).
#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "base64.hpp"
#include "camstream/access/access_error.hpp"
#include "camstream/access/identity.hpp"
#include "crypt.hpp"
#include "user_table.hpp"

namespace camstream::access {

namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; });
}

std::string random_bytes(std::size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    throw AccessError("cannot get random bytes from OpenSSL");
  }
  return bytes;
}

// A hash the users file may hold: one libcrypt takes as current (not legacy DES or MD5).
bool usable_hash(const std::string& hash) {
  return hash.size() > 1 && hash.front() == '$' && crypt_checksalt(hash.c_str()) == CRYPT_SALT_OK;
}

// The method and its cost parameters, without salt and hash: "$2y$11", "$y$j9T",
// "$6$rounds=9000", "$6".
std::string hash_kind(std::string_view hash) {
  std::vector<std::string_view> fields;
  while (!hash.empty() && fields.size() < 3) {
    const auto dollar = hash.find('$');
    fields.push_back(hash.substr(0, dollar));
    hash.remove_prefix(dollar == std::string_view::npos ? hash.size() : dollar + 1);
  }
  if (fields.size() < 2) return std::string(hash);
  std::string kind = "$" + std::string(fields[1]);
  if (fields.size() < 3) return kind;
  const std::string_view method = fields[1];
  const bool parameters_follow = method == "2a" || method == "2b" || method == "2y" ||
                                 method == "y" || method == "gy" || method == "7";
  if (parameters_follow || fields[2].starts_with("rounds=")) kind += "$" + std::string(fields[2]);
  return kind;
}

}  // namespace

std::optional<std::string> crypt_hash(std::string_view password, const std::string& setting) {
  // crypt_rn takes a C string: a password with a NUL in it could never have been hashed.
  if (password.size() > CRYPT_MAX_PASSPHRASE_SIZE ||
      password.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string phrase(password);
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on the stack; zeroed
  const char* result = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  // On failure libxcrypt returns null or a string starting with '*', never a hash.
  std::optional<std::string> hash;
  if (result != nullptr && result[0] != '*') hash.emplace(result);
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return hash;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

UserTable UserTable::load(const std::string& path) {
  const std::string where = "--users " + path;
  std::error_code status_error;
  if (std::filesystem::is_directory(path, status_error)) {
    throw AccessError(where + ": cannot read: " + std::strerror(EISDIR));
  }
  errno = 0;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw AccessError(where + ": cannot read: " + std::strerror(errno != 0 ? errno : ENOENT));
  }
  std::string text;
  text.resize(kMaxFileBytes + 1);
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (file.bad()) throw AccessError(where + ": cannot read: " + std::strerror(EIO));
  text.resize(static_cast<std::size_t>(file.gcount()));
  if (text.size() > kMaxFileBytes) {
    throw AccessError(where + ": larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB");
  }
  return parse(text, where);
}

UserTable UserTable::parse(std::string_view text, const std::string& where) {
  UserTable table;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    const std::string_view line = trim(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.empty() || line.front() == '#') continue;

    const std::string at = where + ": line " + std::to_string(line_number) + ": ";
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      throw AccessError(at + "expected name:hash (make the file with htpasswd -B)");
    }
    const std::string_view name = line.substr(0, colon);
    // htpasswd writes name:hash; a trailing :field (as in /etc/shadow) is not ours to guess.
    const std::string hash(line.substr(colon + 1));
    if (name.empty()) throw AccessError(at + "empty user name");
    if (name.size() > kMaxNameBytes || has_control_character(name)) {
      throw AccessError(at + "user names are at most " + std::to_string(kMaxNameBytes) +
                        " printable bytes");
    }
    const std::string user(name);
    if (!usable_hash(hash)) {
      throw AccessError(at + "user '" + user +
                        "': not a bcrypt, yescrypt or SHA-512 hash (make it with htpasswd -B, "
                        "or mkpasswd -m yescrypt; Apache's MD5 $apr1$ and plain text are refused)");
    }
    if (!table.hashes_.emplace(user, hash).second) {
      throw AccessError(at + "user '" + user + "' is given twice");
    }
  }
  if (table.hashes_.empty()) throw AccessError(where + ": no users in the file");

  // Unknown users are checked against this, so they cost what the most expensive user
  // costs: one user of each kind (method and cost) is timed, and the slowest kind is the
  // model. The password is random and forgotten.
  std::map<std::string, const std::pair<const std::string, std::string>*> kinds;
  for (const auto& entry : table.hashes_) kinds.emplace(hash_kind(entry.second), &entry);
  const auto* model = kinds.begin()->second;
  if (kinds.size() > 1) {
    auto slowest = std::chrono::steady_clock::duration::min();
    for (const auto& [kind, entry] : kinds) {
      const auto started = std::chrono::steady_clock::now();
      crypt_hash("not the password", entry->second);
      const auto took = std::chrono::steady_clock::now() - started;
      if (took > slowest) {
        slowest = took;
        model = entry;
      }
    }
  }
  auto dummy = crypt_hash(base64url_encode(random_bytes(18)), model->second);
  if (!dummy) {
    throw AccessError(where + ": user '" + model->first +
                      "': the crypt library cannot use this hash");
  }
  table.dummy_hash_ = std::move(*dummy);
  return table;
}

std::vector<std::string> UserTable::names() const {
  std::vector<std::string> names;
  names.reserve(hashes_.size());
  for (const auto& [name, hash] : hashes_) names.push_back(name);
  return names;
}

const std::string* UserTable::hash_of(std::string_view user) const {
  const auto it = hashes_.find(user);
  return it == hashes_.end() ? nullptr : &it->second;
}

bool UserTable::verify(std::string_view user, std::string_view password) const {
  const auto it = hashes_.find(user);
  const bool known = it != hashes_.end();
  const std::string& expected = known ? it->second : dummy_hash_;
  const auto computed = crypt_hash(password, expected);
  const bool matches = computed && equal_constant_time(*computed, expected);
  return known && matches;
}

}  // namespace camstream::access
