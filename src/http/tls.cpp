#include "tls.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace camstream {

namespace ssl = boost::asio::ssl;

namespace {

// The reason of OpenSSL's oldest queued error, or what the system says.
std::string openssl_reason(const boost::system::error_code& ec) {
  const unsigned long code = ERR_peek_error();
  std::string reason;
  if (code != 0) {
    const char* text = ERR_reason_error_string(code);
    reason = text != nullptr ? text : ec.message();
  } else {
    reason = ec.message();
  }
  ERR_clear_error();
  return reason;
}

void check_readable(const std::string& flag, const std::string& path) {
  std::error_code status_error;
  if (std::filesystem::is_directory(path, status_error)) {
    throw TlsError(flag + " " + path + ": cannot read: " + std::strerror(EISDIR));
  }
  errno = 0;
  std::ifstream file(path);
  if (!file) {
    throw TlsError(flag + " " + path +
                   ": cannot read: " + std::strerror(errno != 0 ? errno : ENOENT));
  }
}

// A descriptor closed when it goes out of scope.
struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string probe_kernel_tls() {
  // The "tls" upper layer protocol can only be set on a connected TCP socket: a loopback
  // connection of our own, closed again at once.
  const Descriptor listener{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  const Descriptor client{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  if (listener.fd < 0 || client.fd < 0 || ::bind(listener.fd, generic, length) != 0 ||
      ::listen(listener.fd, 1) != 0 || ::getsockname(listener.fd, generic, &length) != 0 ||
      ::connect(client.fd, generic, length) != 0) {
    return std::string("no loopback connection to try it on: ") + std::strerror(errno);
  }
  if (::setsockopt(client.fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls") != 0) {
    return std::string("not in this kernel: ") + std::strerror(errno);
  }
  return {};
}

std::shared_ptr<ssl::context> make_tls_context(const std::string& cert_file,
                                               const std::string& key_file) {
  check_readable("--tls-cert", cert_file);
  check_readable("--tls-key", key_file);
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // Renegotiation only costs a server CPU: TLS 1.3 has none, and 1.2 clients need none.
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // TLS 1.2: AEAD suites with forward secrecy only (Mozilla's "intermediate" without DHE); no
  // CBC, no SHA-1 MAC. TLS 1.3 keeps OpenSSL's suites, all AEAD.
  if (SSL_CTX_set_cipher_list(native,
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1) {
    ERR_clear_error();
    throw TlsError("OpenSSL offers none of the TLS 1.2 AEAD cipher suites");
  }

  boost::system::error_code ec;
  ERR_clear_error();
  context->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    throw TlsError("--tls-cert " + cert_file +
                   ": not a PEM certificate (chain): " + openssl_reason(ec));
  }
  context->use_private_key_file(key_file, ssl::context::pem, ec);
  // Asio's error code carries OpenSSL's (the queue is already empty).
  const bool mismatch =
      ec && ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
  if (ec && !mismatch) {
    throw TlsError("--tls-key " + key_file + ": not a PEM private key: " + openssl_reason(ec));
  }
  if (mismatch || SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    throw TlsError("--tls-key " + key_file + ": does not match the certificate in --tls-cert " +
                   cert_file);
  }
  return context;
}

TlsCertificate::TlsCertificate(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      context_(make_tls_context(cert_file_, key_file_)) {
  // Which layer encrypts the stream viewers' records (docs/performance.md, "TLS").
  const std::string no_kernel_tls = probe_kernel_tls();
  if (no_kernel_tls.empty()) {
    spdlog::info(
        "TLS: records encrypted by OpenSSL and written straight to each viewer's socket; the "
        "kernel offers TLS, but the handshake runs on a memory BIO, so OpenSSL cannot hand it "
        "the keys");
  } else {
    spdlog::info(
        "TLS: records encrypted by OpenSSL and written straight to each viewer's socket; "
        "kernel TLS {}",
        no_kernel_tls);
  }
}

std::string TlsCertificate::reload() {
  try {
    context_ = make_tls_context(cert_file_, key_file_);
    spdlog::info("TLS: reloaded {} and {} for new connections", cert_file_, key_file_);
    return {};
  } catch (const TlsError& error) {
    spdlog::error("TLS: {}: keeping the certificate and key loaded before", error.what());
    return error.what();
  }
}

}  // namespace camstream
