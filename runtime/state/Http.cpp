//===- runtime/state/Http.cpp - The HTTP request a TCP payload starts -------------------------===//
///
/// The format and the buffers are specified in Http.h.
//===----------------------------------------------------------------------------------------===//
#include "runtime/state/Http.h"

#include <cctype>
#include <cstring>
#include <strings.h>

namespace metron::state {

namespace {

using B = ir::PatternRule;

/// RFC 9110 tchar.
bool isTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool isBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && isBlank(s.back())) s.remove_suffix(1);
  return s;
}

/// ASCII only: the process runs in the C locale.
bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

int hexValue(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/// The next line of \p s from \p pos (without its CRLF or LF); false when no line end follows.
bool nextLine(std::string_view s, size_t &pos, std::string_view &line) {
  size_t nl = s.find('\n', pos);
  if (nl == std::string_view::npos) return false;
  size_t end = nl > pos && s[nl - 1] == '\r' ? nl - 1 : nl;
  line = s.substr(pos, end - pos);
  pos = nl + 1;
  return true;
}

/// RFC 3986 5.2.4 on a path.
std::string removeDotSegments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.rfind("../", 0) == 0) in.remove_prefix(3);
    else if (in.rfind("./", 0) == 0) in.remove_prefix(2);
    else if (in.rfind("/./", 0) == 0) in.remove_prefix(2);
    else if (in == "/.") in = "/";
    else if (in.rfind("/../", 0) == 0 || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      size_t slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      size_t next = in.find('/', 1);
      if (next == std::string_view::npos) next = in.size();
      out.append(in.substr(0, next));
      in.remove_prefix(next);
    }
  }
  return out;
}

} // namespace

std::string normalizeHttpUri(std::string_view target) {
  // Absolute form: drop scheme://authority.
  if (size_t colon = target.find("://"); colon != std::string_view::npos && colon > 0) {
    bool scheme = true;
    for (size_t i = 0; i < colon; ++i)
      scheme = scheme && (isalnum(static_cast<unsigned char>(target[i])) || (target[i] && strchr("+-.", target[i])));
    if (scheme) {
      size_t path = target.find('/', colon + 3);
      target = path == std::string_view::npos ? std::string_view("/") : target.substr(path);
    }
  }
  std::string decoded;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == '%' && i + 2 < target.size() && hexValue(target[i + 1]) >= 0 && hexValue(target[i + 2]) >= 0) {
      decoded += char(hexValue(target[i + 1]) << 4 | hexValue(target[i + 2]));
      i += 2;
    } else {
      decoded += target[i];
    }
  }
  size_t query = decoded.find('?');
  std::string path = removeDotSegments(std::string_view(decoded).substr(0, query));
  if (query != std::string::npos) path += decoded.substr(query);
  return path;
}

void HttpBuffers::clear() {
  for (auto &b : buf_) b.clear();
  headers_.clear();
}

bool HttpBuffers::parse(std::string_view s) {
  clear();
  // METHOD SP TARGET SP HTTP/D.D, the method checked first: most payloads are not requests, and
  // their first line end may be far or nowhere.
  size_t m = 0;
  while (m < s.size() && isTokenChar(s[m])) ++m;
  if (m == 0 || m >= s.size() || s[m] != ' ') return false;
  size_t pos = 0;
  std::string_view line;
  if (!nextLine(s, pos, line)) return false;
  const std::string_view requestLine = line;
  size_t t = m + 1, te = line.find(' ', t);
  if (te == std::string_view::npos || te == t) return false;
  std::string_view target = line.substr(t, te - t);
  for (char c : target)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  std::string_view proto = line.substr(te + 1);
  if (proto.size() != 8 || proto.compare(0, 5, "HTTP/") != 0 || !isdigit(static_cast<unsigned char>(proto[5])) ||
      proto[6] != '.' || !isdigit(static_cast<unsigned char>(proto[7])))
    return false;
  const size_t headerBegin = pos;
  bool ended = false;
  while (nextLine(s, pos, line)) {
    if (line.empty()) {
      ended = true;
      break;
    }
    if (isBlank(line[0])) { // obs-fold: continues the value before it
      if (!headers_.empty()) {
        std::string &v = headers_.back().second;
        std::string_view more = trim(line);
        if (!more.empty()) v += v.empty() ? std::string(more) : " " + std::string(more);
      }
      continue;
    }
    size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    bool token = true;
    for (char c : name) token = token && isTokenChar(c);
    if (!token) continue;
    headers_.push_back({name, std::string(trim(line.substr(colon + 1)))});
  }
  if (!ended) {
    headers_.clear();
    return false;
  }
  add(B::HttpMethod, s.substr(0, m));
  add(B::HttpRequestLine, requestLine);
  add(B::HttpProtocol, proto);
  add(B::HttpUriRaw, target);
  buf_[B::HttpUri].push_back(normalizeHttpUri(target));
  add(B::HttpHeaderRaw, s.substr(headerBegin, pos - headerBegin));
  std::string header, names = "\r\n";
  for (const auto &[name, value] : headers_) {
    std::string nv = std::string(name) + ": " + value;
    if (!equalsIgnoringCase(name, "cookie")) header += nv + "\r\n";
    buf_[B::HttpRequestHeader].push_back(nv);
    names += std::string(name) + "\r\n";
  }
  if (!headers_.empty()) {
    if (!header.empty()) buf_[B::HttpHeader].push_back(std::move(header));
    buf_[B::HttpHeaderNames].push_back(names + "\r\n");
  }
  static const std::pair<const char *, B::Buffer> single[] = {
      {"host", B::HttpHostRaw},           {"user-agent", B::HttpUserAgent},   {"referer", B::HttpReferer},
      {"cookie", B::HttpCookie},          {"content-type", B::HttpContentType}, {"content-length", B::HttpContentLen},
      {"accept", B::HttpAccept},          {"accept-language", B::HttpAcceptLang}, {"accept-encoding", B::HttpAcceptEnc},
      {"connection", B::HttpConnection}};
  for (const auto &[lower, b] : single) {
    for (const auto &[name, value] : headers_) {
      if (!equalsIgnoringCase(name, lower)) continue;
      if (buf_[b].empty()) buf_[b].push_back(value);
      else buf_[b].back() += ", " + value;
    }
  }
  if (!buf_[B::HttpHostRaw].empty()) {
    std::string host = buf_[B::HttpHostRaw].back();
    size_t colon = host.rfind(':');
    if (colon != std::string::npos && host.find(']', colon) == std::string::npos) {
      bool digits = true;
      for (size_t i = colon + 1; i < host.size(); ++i) digits = digits && isdigit(static_cast<unsigned char>(host[i]));
      if (digits) host.erase(colon);
    }
    for (char &c : host)
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    buf_[B::HttpHost].push_back(std::move(host));
  }
  return true;
}

} // namespace metron::state
