//===- runtime/state/Http.h - The HTTP request a TCP payload starts -------------------*- C++ -*-===//
///
/// \file
/// The buffers of Suricata's HTTP keywords (ir::PatternRule::Buffer) for the `dpi` element, from
/// one packet: a TCP payload that starts with an HTTP/1.x request line and holds its whole
/// header block (up to the empty line). A request split over segments, the request body and
/// responses are not seen: the importer refuses the keywords of bodies and responses, and a
/// packet whose request header is cut short has no HTTP buffers (its `http` rules do not hold).
///
/// The request: METHOD SP TARGET SP HTTP/D.D, then header lines NAME ":" VALUE (lines end with
/// CRLF or LF; a line starting with a space or tab continues the value before it, joined with
/// one space; a line without ':' is kept in the raw header only). METHOD and NAME are RFC 9110
/// tokens; VALUE is trimmed of spaces and tabs.
///
/// Buffers (one instance each, when the request has what they take; http.request_header has one
/// per header line):
///   http.method, http.protocol     METHOD, "HTTP/D.D"
///   http.request_line              the request line without its line end
///   http.uri.raw                   TARGET
///   http.uri                       TARGET normalized: an absolute-form "scheme://authority" is
///                                  removed (leaving at least "/"), %XX escapes are decoded, and
///                                  the path's "." and ".." segments are removed (RFC 3986 5.2.4)
///   http.header.raw                the header block as sent, its empty line included
///   http.header                    "NAME: VALUE\r\n" per header, except Cookie
///   http.request_header            "NAME: VALUE" (one instance per header, Cookie included)
///   http.header_names              "\r\n" NAME "\r\n" NAME ... "\r\n\r\n"
///   http.host.raw, http.host       the Host value; normalized: lower case, without ":port"
///   http.user_agent, http.referer, http.cookie, http.content_type, http.content_len,
///   http.accept, http.accept_lang, http.accept_enc, http.connection
///                                  the value of the header (names compared ignoring case;
///                                  repeated headers joined with ", ")
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/NFIR.h"

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace metron::state {

/// The buffers of one request, by ir::PatternRule::Buffer (Payload stays empty). Reused from
/// packet to packet: parse() clears it.
class HttpBuffers {
public:
  /// Parses the request \p payload starts; false (and no buffers) when it does not start one
  /// whose header block ends in it.
  bool parse(std::string_view payload);
  /// The instances of buffer \p b (none when the request does not have it).
  const std::vector<std::string> &instances(ir::PatternRule::Buffer b) const { return buf_[b]; }

private:
  void clear();
  void add(ir::PatternRule::Buffer b, std::string_view s) { buf_[b].emplace_back(s); }
  std::array<std::vector<std::string>, ir::PatternRule::kNumBuffers> buf_;
  std::vector<std::pair<std::string_view, std::string>> headers_; ///< name, value (folded lines joined)
};

/// http.uri's normalization of a request target (see above).
std::string normalizeHttpUri(std::string_view target);

} // namespace metron::state
