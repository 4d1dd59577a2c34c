#include "host_check.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>

#include "camstream/core/ascii.hpp"

namespace camstream {

namespace {

bool all_digits(std::string_view text) {
  return !text.empty() && text.size() <= 5 &&
         std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; });
}

bool is_ip_literal(std::string_view text) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(text), ec);
  return !ec;
}

}  // namespace

HostCheck::HostCheck(std::string allow_origin, const std::vector<std::string>& extra_hosts,
                     std::string_view machine_hostname)
    : allow_origin_(std::move(allow_origin)) {
  const auto add = [this](std::string_view name) {
    std::string normal = ascii_lowercase(name);
    if (normal.ends_with('.')) normal.pop_back();
    if (!normal.empty()) names_.push_back(std::move(normal));
  };
  add("localhost");
  if (!machine_hostname.empty()) {
    add(machine_hostname);
    add(std::string(machine_hostname) + ".local");
  }
  for (const auto& host : extra_hosts) add(host);
}

bool HostCheck::host_allowed(std::string_view host_header) const {
  std::string_view name = host_header;
  if (name.starts_with('[')) {
    const auto close = name.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view rest = name.substr(close + 1);
    if (!rest.empty() && !(rest.starts_with(':') && all_digits(rest.substr(1)))) return false;
    const std::string_view inside = name.substr(1, close - 1);
    return inside.find(':') != std::string_view::npos && is_ip_literal(inside);
  }
  const auto colon = name.rfind(':');
  if (colon != std::string_view::npos) {
    if (!all_digits(name.substr(colon + 1))) return false;
    name = name.substr(0, colon);
  }
  if (name.empty() || name.find(':') != std::string_view::npos) return false;
  if (is_ip_literal(name)) return true;
  std::string normal = ascii_lowercase(name);
  if (normal.ends_with('.')) normal.pop_back();
  return std::find(names_.begin(), names_.end(), normal) != names_.end();
}

bool HostCheck::websocket_allowed(const std::string_view* origin,
                                  std::string_view host_header) const {
  if (origin == nullptr) return true;  // not a browser page: curl, scripts
  if (allow_origin_ == "*" || (!allow_origin_.empty() && *origin == allow_origin_)) return true;
  if (host_header.empty()) return false;
  const auto scheme_end = origin->find("://");
  if (scheme_end == std::string_view::npos) return false;
  const std::string_view scheme = origin->substr(0, scheme_end);
  if (!equal_ignoring_ascii_case(scheme, "http") && !equal_ignoring_ascii_case(scheme, "https"))
    return false;
  // Same origin: the page was loaded from this Host. A DNS-rebinding page is same-origin too,
  // but under a name that is not this machine's: the Host check keeps it out.
  return equal_ignoring_ascii_case(origin->substr(scheme_end + 3), host_header) &&
         host_allowed(host_header);
}

}  // namespace camstream
