// --source URLs of the relay source, and its --source-header values, checked at start-up.
#pragma once

#include <string>

#include "camstream/capture/relay_url_error.hpp"

namespace camstream {

// An upstream URL taken apart. The credentials are kept apart from everything that is shown.
struct RelayUrl {
  bool tls = false;
  std::string host;          // without brackets for IPv6
  std::string port;          // "80", "443" or as given
  std::string target = "/";  // path and query, as given
  std::string user;          // percent-decoded; empty: none
  std::string password;
  bool has_credentials = false;
  // What logs and the status show: scheme, host, port and path; never the credentials, and
  // the query (which may carry a token) only as "?...".
  std::string shown() const;
  // host:port as a Host header (IPv6 in brackets).
  std::string host_header() const;
};

bool is_relay_url(const std::string& text);  // starts with http:// or https:// (any case)
RelayUrl parse_relay_url(const std::string& text);

// "Name: value" for --source-header; throws RelayUrlError naming what is wrong (not the value).
void check_source_header(const std::string& header);

}  // namespace camstream
