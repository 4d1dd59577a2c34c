// Which pages may open the control WebSocket (docs/api.md, section "Control WebSocket"):
// the Origin and Host checks that keep other sites, including DNS-rebinding ones, out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace camstream {

class HostCheck {
 public:
  // extra_hosts: --allow-host names. The machine's own names (localhost, its hostname and
  // HOSTNAME.local) are always allowed.
  HostCheck(std::string allow_origin, const std::vector<std::string>& extra_hosts,
            std::string_view machine_hostname);

  // Host is an IP literal or a name this machine answers to. host_header is the Host header
  // value, "name[:port]" or "[v6]:port".
  bool host_allowed(std::string_view host_header) const;

  // /ws: no Origin (not a browser), an --allow-origin origin, or a same-origin page whose Host
  // passes host_allowed().
  bool websocket_allowed(const std::string_view* origin, std::string_view host_header) const;

 private:
  std::string allow_origin_;
  std::vector<std::string> names_;  // lower case, no trailing dot
};

}  // namespace camstream
