//===- tests/fuzz/fuzz_http.cpp - libFuzzer target: the HTTP requests of the dpi element ------===//
///
/// The input is a TCP payload, parsed by metron::state::HttpBuffers (runtime/state/Http.h) as
/// the `dpi` element parses the payloads of packets for `alert http` rules. Properties:
///
///  * a payload that is not a request has no buffer at all;
///  * a request has exactly one method, protocol, request line and target, each a piece of
///    the payload (the request line its first line, the target inside it), the raw header a
///    piece of the payload that ends with an empty line;
///  * the normalized target (http.uri) is never longer than the raw one, except that an
///    absolute form without a path becomes "/";
///  * every instance of http.request_header contains ": ".
///
/// A violated property is __builtin_trap(); crashes and sanitizer reports are bugs too.
//===----------------------------------------------------------------------------------------===//
#include "runtime/state/Http.h"

#include <cstdint>
#include <string_view>

using metron::ir::PatternRule;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static metron::state::HttpBuffers http;
  const std::string_view payload(reinterpret_cast<const char *>(data), size);
  const bool request = http.parse(payload);
  auto one = [&](PatternRule::Buffer b) { return http.instances(b).size() == 1; };
  if (!request) {
    for (unsigned b = 0; b < PatternRule::kNumBuffers; ++b)
      if (!http.instances(PatternRule::Buffer(b)).empty()) __builtin_trap();
    return 0;
  }
  for (auto b : {PatternRule::HttpMethod, PatternRule::HttpProtocol, PatternRule::HttpRequestLine, PatternRule::HttpUriRaw,
                 PatternRule::HttpUri, PatternRule::HttpHeaderRaw})
    if (!one(b)) __builtin_trap();
  const std::string &line = http.instances(PatternRule::HttpRequestLine)[0];
  if (payload.compare(0, line.size(), line) != 0) __builtin_trap();
  const std::string &target = http.instances(PatternRule::HttpUriRaw)[0];
  if (line.find(" " + target + " ") == std::string::npos) __builtin_trap();
  if (line.compare(0, http.instances(PatternRule::HttpMethod)[0].size() + 1, http.instances(PatternRule::HttpMethod)[0] + " ") != 0)
    __builtin_trap();
  const std::string &raw = http.instances(PatternRule::HttpHeaderRaw)[0];
  if (payload.find(raw) == std::string_view::npos || raw.empty() || raw.back() != '\n') __builtin_trap();
  const std::string &uri = http.instances(PatternRule::HttpUri)[0];
  if (uri.size() > target.size() && uri != "/") __builtin_trap();
  for (const std::string &h : http.instances(PatternRule::HttpRequestHeader))
    if (h.find(": ") == std::string::npos) __builtin_trap();
  return 0;
}
