// --source URLs and --source-header values, checked at start-up so that a bad one is a usage
// error naming the flag, never a failure found later by the capture thread.
#include "camstream/capture/relay_url.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace camstream {

namespace {

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char lower, char given) {
           return std::tolower(static_cast<unsigned char>(given)) == lower;
         });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoding of the user and password (a password may hold '@' or ':' that way).
std::string percent_decoded(std::string_view text, const char* what) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const bool complete = i + 2 < text.size();
    const int high = complete ? hex_value(text[i + 1]) : -1;
    const int low = complete ? hex_value(text[i + 2]) : -1;
    if (high < 0 || low < 0) {
      throw RelayUrlError(std::string("the URL's ") + what + " has a bad %-escape");
    }
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

bool is_relay_url(const std::string& text) {
  return starts_with_ci(text, "http://") || starts_with_ci(text, "https://");
}

RelayUrl parse_relay_url(const std::string& text) {
  RelayUrl url;
  // No white space or control characters anywhere: they would end up in the request line.
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    throw RelayUrlError("the URL holds a space or a control character (write %20)");
  }
  std::string_view rest = text;
  if (starts_with_ci(rest, "https://")) {
    url.tls = true;
    rest.remove_prefix(8);
  } else if (starts_with_ci(rest, "http://")) {
    rest.remove_prefix(7);
  } else {
    const auto colon = rest.find("://");
    throw RelayUrlError(colon == std::string_view::npos
                            ? "not an http:// or https:// URL"
                            : "scheme " +
                                  std::string(rest.substr(0, std::min<std::size_t>(colon, 16))) +
                                  ": is not http or https");
  }
  const auto authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (const auto hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);  // a fragment is never sent
  }
  url.target = target.empty()          ? "/"
               : target.front() == '?' ? "/" + std::string(target)
                                       : std::string(target);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const auto colon = userinfo.find(':');
    url.user = percent_decoded(userinfo.substr(0, colon), "user");
    if (colon != std::string_view::npos) {
      url.password = percent_decoded(userinfo.substr(colon + 1), "password");
    }
    if (url.user.empty()) throw RelayUrlError("the URL has credentials with an empty user");
    if (url.user.find(':') != std::string::npos) {
      throw RelayUrlError("the URL's user cannot hold ':' (Basic authentication)");
    }
    url.has_credentials = true;
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw RelayUrlError("the URL's IPv6 host has no ']'");
    url.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw RelayUrlError("the URL has text after its IPv6 host");
      port = after.substr(1);
      if (port.empty()) throw RelayUrlError("the URL has an empty port");
    }
    if (url.host.empty() ||
        url.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      throw RelayUrlError("the URL's IPv6 host is not an IPv6 address");
    }
  } else {
    const auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) throw RelayUrlError("the URL has an empty port");
    }
    const bool host_ok = std::all_of(url.host.begin(), url.host.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
    });
    if (!host_ok) throw RelayUrlError("the URL's host is not a host name or address");
  }
  if (url.host.empty()) throw RelayUrlError("the URL has no host");
  if (port.empty()) {
    url.port = url.tls ? "443" : "80";
  } else {
    const bool digits = port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) {
                          return c >= '0' && c <= '9';
                        });
    const int number = digits ? std::stoi(std::string(port)) : -1;
    if (number < 1 || number > 65535) {
      throw RelayUrlError("the URL's port " + std::string(port.substr(0, 8)) +
                          (port.size() > 8 ? "..." : "") + " is not in 1..65535");
    }
    url.port = std::to_string(number);
  }
  return url;
}

std::string RelayUrl::host_header() const {
  const std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const bool default_port = port == (tls ? "443" : "80");
  return default_port ? name : name + ":" + port;
}

std::string RelayUrl::shown() const {
  std::string path = target;
  if (const auto query = path.find('?'); query != std::string::npos) {
    path = path.substr(0, query) + "?...";
  }
  const std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return std::string(tls ? "https://" : "http://") + name + ":" + port + path;
}

void check_source_header(const std::string& header) {
  const auto colon = header.find(':');
  if (colon == std::string::npos || colon == 0) {
    throw RelayUrlError("not 'Name: value' (e.g. 'Authorization: Bearer TOKEN')");
  }
  const std::string_view name(header.data(), colon);
  if (!std::all_of(name.begin(), name.end(), is_token_char)) {
    throw RelayUrlError("the header name '" + std::string(name.substr(0, 40)) +
                        "' is not an HTTP token");
  }
  // CR or LF would let a value start a header (or a request) of its own.
  if (std::any_of(header.begin() + static_cast<std::ptrdiff_t>(colon), header.end(),
                  [](char c) { return c == '\r' || c == '\n' || c == '\0'; })) {
    throw RelayUrlError("the value of header " + std::string(name) + " holds a line break or NUL");
  }
  static constexpr std::string_view kReserved[] = {"host", "content-length", "transfer-encoding",
                                                   "connection"};
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (std::find(std::begin(kReserved), std::end(kReserved), lower) != std::end(kReserved)) {
    throw RelayUrlError("header " + std::string(name) + " is set by camstream itself");
  }
}

}  // namespace camstream
