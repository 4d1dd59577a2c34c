// auth-bench: what access control costs per request. A password check with the hashes people
// make (htpasswd -B at its default cost 5 and at cost 10, mkpasswd's yescrypt and SHA-512),
// against what a request costs once its Authorization header is in the credential cache, and
// a token check. Real hashes: made by htpasswd and mkpasswd when the benchmark starts.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "access/basic_auth.hpp"
#include "access/credential_cache.hpp"
#include "access/user_table.hpp"
#include "camstream/access/identity.hpp"
#include "camstream/access/token_signer.hpp"

namespace {

using namespace camstream::access;

std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::string output;
  std::array<char, 256> chunk{};
  while (const std::size_t got = std::fread(chunk.data(), 1, chunk.size(), pipe.get())) {
    output.append(chunk.data(), got);
  }
  if (::pclose(pipe.release()) != 0 || output.empty()) throw std::runtime_error(command);
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  return output;
}

const char* const kHashCommands[] = {"htpasswd -nbB -C 5 user pw", "htpasswd -nbB -C 10 user pw",
                                     "printf 'user:%s' \"$(mkpasswd -m yescrypt pw)\"",
                                     "printf 'user:%s' \"$(mkpasswd -m sha-512 pw)\""};
const char* const kHashNames[] = {"bcrypt_cost5", "bcrypt_cost10", "yescrypt", "sha512"};

// One Basic request that misses the cache: parse the header, crypt() the password.
void BM_BasicWithoutCache(benchmark::State& state) {
  const UserTable users = UserTable::parse(run(kHashCommands[state.range(0)]), "bench");
  state.SetLabel(kHashNames[state.range(0)]);
  const std::string header = "Basic dXNlcjpwdw==";  // user:pw
  for (auto _ : state) {
    const auto credentials = parse_basic(header);
    benchmark::DoNotOptimize(users.verify(credentials->user, credentials->password));
  }
}
BENCHMARK(BM_BasicWithoutCache)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

// The same request once verified: SHA-256 of the header and a lookup.
void BM_BasicFromCache(benchmark::State& state) {
  CredentialCache cache(1024, std::chrono::minutes(5));
  const std::string header = "Basic dXNlcjpwdw==";
  const auto now = CredentialCache::Clock::now();
  cache.insert(header, {"user", Role::viewer}, now);
  for (int i = 0; i < 1000; ++i) {
    cache.insert("Basic other" + std::to_string(i), {"u", Role::viewer}, now);
  }
  for (auto _ : state) benchmark::DoNotOptimize(cache.find(header, now));
}
BENCHMARK(BM_BasicFromCache)->Unit(benchmark::kMicrosecond);

// ?token=: base64url, HMAC-SHA256, parse.
void BM_TokenCheck(benchmark::State& state) {
  const TokenSigner signer = TokenSigner::random();
  const std::string token = signer.issue({"user", Role::viewer, 4'000'000'000});
  for (auto _ : state) benchmark::DoNotOptimize(signer.check(token, 1'800'000'000));
}
BENCHMARK(BM_TokenCheck)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
