#include "request_checks.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <string_view>

namespace camstream {

namespace http = boost::beast::http;

namespace {

bool is_token(std::string_view text) {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kSymbols.find(c) != std::string_view::npos;
  });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<RequestProblem> framing_problem(const http::request<http::string_body>& request) {
  const auto hosts = request.count(http::field::host);
  if (request.version() >= 11 && hosts == 0) {
    return RequestProblem{http::status::bad_request, "bad request: HTTP/1.1 needs a Host header"};
  }
  if (hosts > 1) {
    return RequestProblem{http::status::bad_request, "bad request: more than one Host header"};
  }
  const auto encodings = request.equal_range(http::field::transfer_encoding);
  if (encodings.first == encodings.second) return std::nullopt;
  if (request.version() < 11) {
    return RequestProblem{http::status::bad_request,
                          "bad request: Transfer-Encoding in an HTTP/1.0 request"};
  }
  // Every coding of every Transfer-Encoding line, in order; chunked must come last, once.
  std::size_t codings = 0;
  std::size_t chunked_at = 0;
  bool chunked_seen = false;
  bool malformed = false;
  for (auto it = encodings.first; it != encodings.second; ++it) {
    std::string_view rest = it->value();
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view coding = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (coding.empty()) continue;             // "a, , b": empty list elements do not count
      if (!is_token(coding)) malformed = true;  // parameters too: chunked takes none
      ++codings;
      if (boost::beast::iequals(coding, "chunked")) {
        if (chunked_seen) malformed = true;
        chunked_seen = true;
        chunked_at = codings;
      }
    }
  }
  if (malformed || codings == 0 || !chunked_seen || chunked_at != codings) {
    return RequestProblem{http::status::bad_request,
                          "bad request: Transfer-Encoding must end with chunked"};
  }
  if (codings > 1) {
    return RequestProblem{http::status::not_implemented,
                          "transfer codings other than chunked are not supported"};
  }
  return std::nullopt;
}

}  // namespace camstream
