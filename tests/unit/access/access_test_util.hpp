// Helpers for the access tests: real hashes from the real tools, and a scratch directory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

namespace camstream::access::testing {

// The output of a shell command (the tools must be installed: the test fails loudly if not).
inline std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen((command + " 2>&1").c_str(), "r"), ::pclose);
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::string output;
  std::array<char, 512> chunk{};
  while (const std::size_t got = std::fread(chunk.data(), 1, chunk.size(), pipe.get())) {
    output.append(chunk.data(), got);
  }
  const int status = ::pclose(pipe.release());
  if (status != 0)
    throw std::runtime_error(command + " failed (" + std::to_string(status) + "): " + output);
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  return output;
}

// "name:hash" as `htpasswd -nbB` writes it (bcrypt, $2y$).
inline std::string htpasswd_line(const std::string& user, const std::string& password,
                                 const std::string& method = "-B") {
  return run("htpasswd -nb " + method + " '" + user + "' '" + password + "'");
}

// A hash as `mkpasswd -m METHOD` writes it (yescrypt $y$, sha-512 $6$, bcrypt $2b$).
inline std::string mkpasswd(const std::string& method, const std::string& password) {
  return run("mkpasswd -m " + method + " '" + password + "'");
}

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "camstream-access-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ignored);
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    const std::string path = file(name);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    return path;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace camstream::access::testing
