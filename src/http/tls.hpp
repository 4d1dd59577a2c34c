// The certificate and key of --tls-cert/--tls-key as an OpenSSL server context (TLS 1.2 and
// 1.3). Each connection keeps the context it started with, so a reload (SIGHUP) changes what
// new connections get and leaves open ones alone.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <stdexcept>
#include <string>

#include "camstream/http/tls_error.hpp"

namespace camstream {

// Throws TlsError.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& cert_file,
                                                            const std::string& key_file);

// Whether this kernel can encrypt TLS records itself (kTLS): empty if so, else why not.
std::string probe_kernel_tls();

class TlsCertificate {
 public:
  // Loads the pair; throws TlsError.
  TlsCertificate(std::string cert_file, std::string key_file);
  const std::shared_ptr<boost::asio::ssl::context>& context() const { return context_; }
  // Reads both files again. On failure the old pair stays and the reason is returned (and
  // logged); an empty string means the new pair is in use.
  std::string reload();

 private:
  std::string cert_file_;
  std::string key_file_;
  std::shared_ptr<boost::asio::ssl::context> context_;
};

}  // namespace camstream
