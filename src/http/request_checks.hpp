// Checks of a request's framing that the parser leaves to the server (RFC 9112).
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>

namespace camstream {

struct RequestProblem {
  boost::beast::http::status status;
  std::string message;  // never repeats what the client sent
};

// An HTTP/1.1 request needs exactly one Host; a Transfer-Encoding must end in chunked (or the
// body's end is unknown, the door to request smuggling), and no other coding is understood.
std::optional<RequestProblem> framing_problem(
    const boost::beast::http::request<boost::beast::http::string_body>& request);

}  // namespace camstream
