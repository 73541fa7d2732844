//===- compiler/import/Routes.cpp - Reader for route tables (FIB dumps) ----------------------===//
///
/// \file
/// Reads IPv4 route tables in two forms, told apart by the first line:
///
///  - "cisco" (routing/stanford_backbone/*_route.txt, `show ip cef`): a header line
///    `Prefix  Next Hop  Interface`, then `PREFIX NEXTHOP [IFACE]`. NEXTHOP is an IPv4 address
///    or a CEF keyword:
///      attached, glean          -> Attached (the destination is on IFACE's subnet)
///      receive, punt, multicast -> Local    (for the router itself; not forwarded)
///      drop                     -> Drop
///    A route out of `Null0` (e.g. `10.0.0.0/8 attached Null0`, a summary discard route, or a
///    static route to a next hop via Null0) is Drop: Null0 discards whatever it is given.
///    A line that starts with blanks carries one more ECMP next hop for the prefix above it;
///    like a duplicate prefix, it does not replace the first entry, so it is validated and
///    skipped.
///
///  - "prefix-nexthop-iface" (routing/derived/internet2_atla_ipv4.txt, made from a JunOS
///    forwarding table): `PREFIX NEXTHOP IFACE` with NEXTHOP an IPv4 address or `-`. What the
///    data holds, and what each shape becomes:
///      1.8.1.0/24 64.57.28.112 ge-6/1/0.0  -> Unicast
///      64.57.16.66/32 - xe-1/0/2.11        -> Attached (an ARP-resolved host on a connected
///                                             subnet: deliver to the destination itself)
///      0.0.0.0/0 - [rjct], ... - [dscd]    -> Drop (reject / discard)
///      64.57.16.64/28 - [rslv]             -> Local (connected subnet whose hosts are not
///                                             resolved yet: JunOS punts these to the routing
///                                             engine, the fast path does not forward them)
///      ... - [bcst], [mcrt], [?]           -> Local (broadcast, multicast, unknown: not
///                                             unicast-forwarded)
///      64.57.16.65/32 64.57.16.65 [locl]   -> Local (the router's own addresses; also [recv])
///    So: a bracketed IFACE decides the kind ([rjct] and [dscd] drop, any other tag is Local),
///    otherwise `-` means Attached and an address means Unicast.
///
/// No prefix in the shipped data has host bits set, so one that does (10.0.0.1/8) is an error
/// rather than silently masked. Duplicate prefixes are frequent (30 in the Internet2 table:
/// the same /32 twice for [locl], 224.0.0.0/4 as [rslv] then [?]); the first entry wins.
///
//===----------------------------------------------------------------------------------------===//
#include "compiler/import/Import.h"
#include "compiler/import/ReaderUtil.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <unordered_set>

namespace metron {
namespace {

using import::isBlank;
using import::isDigit;
using import::shown;

using ir::Route;



bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

enum class Form { Cisco, PrefixNextHopIface };

/// One whitespace-separated token: [begin, end) offsets in the file.
struct Token {
  uint32_t begin = 0, end = 0;
};

class RoutesReader {
public:
  RoutesReader(const SourceManager &sm, FileID file, DiagnosticEngine &diags)
      : sm_(sm), file_(file), diags_(diags), text_(sm.file(file).text) {}

  bool run(std::vector<Route> &out, std::string &format);

private:
  bool parseLine(uint32_t begin, uint32_t end, std::vector<Route> &out);
  bool parsePrefix(Token t, uint32_t &addr, uint8_t &len);
  /// Splits [begin, end) into at most \p max tokens; returns how many it found (max + 1 when
  /// there are more).
  size_t tokenize(uint32_t begin, uint32_t end, Token *toks, size_t max) const;

  std::string_view text(Token t) const { return std::string_view(text_).substr(t.begin, t.end - t.begin); }
  SourceLoc loc(uint32_t off) const { return SourceLoc{file_, off, line_, off - lineBegin_ + 1}; }
  bool fail(uint32_t b, uint32_t e, std::string msg) {
    if (e <= b) e = b + 1;
    diags_.report(DiagKind::ImportMalformed, {loc(b), loc(e)}, std::move(msg));
    return false;
  }
  bool fail(Token t, std::string msg) { return fail(t.begin, t.end, std::move(msg)); }

  const SourceManager &sm_;
  FileID file_;
  DiagnosticEngine &diags_;
  const std::string &text_;
  uint32_t line_ = 0, lineBegin_ = 0;
  Form form_ = Form::PrefixNextHopIface;
  bool haveRoute_ = false; ///< a route line was seen (ECMP continuation lines need one)
  std::unordered_set<uint64_t> seen_;
};

size_t RoutesReader::tokenize(uint32_t begin, uint32_t end, Token *toks, size_t max) const {
  size_t n = 0;
  uint32_t p = begin;
  for (;;) {
    while (p < end && isBlank(text_[p])) ++p;
    if (p >= end) return n;
    if (n == max) return max + 1;
    uint32_t b = p;
    while (p < end && !isBlank(text_[p])) ++p;
    toks[n++] = {b, p};
  }
}

bool RoutesReader::run(std::vector<Route> &out, std::string &format) {
  bool ok = true;
  size_t n = text_.size();
  bool first = true;
  uint32_t lineNo = 0;
  for (size_t lineBegin = 0; lineBegin < n && !diags_.errorLimitReached();) {
    ++lineNo;
    const void *nl = memchr(text_.data() + lineBegin, '\n', n - lineBegin);
    size_t lineEnd = nl ? size_t(static_cast<const char *>(nl) - text_.data()) : n;
    size_t p = lineBegin;
    while (p < lineEnd && isBlank(text_[p])) ++p;
    if (p < lineEnd && text_[p] != '#') {
      line_ = lineNo;
      lineBegin_ = uint32_t(lineBegin);
      bool skip = false;
      if (first) {
        first = false;
        Token t;
        if (tokenize(uint32_t(p), uint32_t(lineEnd), &t, 1) >= 1 && equalsIgnoreCase(text(t), "prefix")) {
          form_ = Form::Cisco;
          skip = true; // the header line
        }
      }
      if (!skip && !parseLine(uint32_t(lineBegin), uint32_t(lineEnd), out)) ok = false;
    }
    lineBegin = lineEnd + 1;
  }
  format = form_ == Form::Cisco ? "cisco" : "prefix-nexthop-iface";
  return ok;
}

bool RoutesReader::parsePrefix(Token t, uint32_t &addr, uint8_t &len) {
  std::string_view tok = text(t);
  size_t slash = tok.find('/');
  if (slash == std::string_view::npos) {
    if (ir::parseIpv4(tok, addr)) return fail(t, "expected '/' and a prefix length after the address " + shown(tok));
    return fail(t, "malformed prefix '" + shown(tok) + "'");
  }
  if (!ir::parseIpv4(tok.substr(0, slash), addr))
    return fail(t.begin, t.begin + uint32_t(slash), "malformed IPv4 address '" + shown(tok.substr(0, slash)) + "'");
  std::string_view lenText = tok.substr(slash + 1);
  uint32_t lenBegin = t.begin + uint32_t(slash) + 1;
  unsigned v = 0;
  auto r = std::from_chars(lenText.data(), lenText.data() + lenText.size(), v);
  bool allDigits = !lenText.empty() && isDigit(lenText[0]) && r.ptr == lenText.data() + lenText.size();
  if (!allDigits) return fail(lenBegin, t.end, "expected a prefix length after '/', found '" + shown(lenText) + "'");
  if (r.ec == std::errc::result_out_of_range || v > 32)
    return fail(lenBegin, t.end, "prefix length " + shown(lenText) + " is out of range 0..32");
  uint32_t hostMask = v == 32 ? 0 : (0xffffffffu >> v);
  if (addr & hostMask)
    return fail(t, "prefix " + shown(tok) + " has host bits set (the network is " + ir::ipv4Str(addr & ~hostMask) +
                       "/" + std::to_string(v) + ")");
  len = uint8_t(v);
  return true;
}

bool RoutesReader::parseLine(uint32_t begin, uint32_t end, std::vector<Route> &out) {
  Token toks[3];
  size_t n = tokenize(begin, end, toks, 3);
  uint32_t visibleEnd = end;
  while (visibleEnd > begin && isBlank(text_[visibleEnd - 1])) --visibleEnd;

  if (form_ == Form::Cisco && isBlank(text_[begin])) {
    // An ECMP continuation: `<blanks> NEXTHOP IFACE` for the prefix of the previous route.
    if (!haveRoute_) return fail(toks[0], "next-hop line without a prefix (no route above it)");
    Token nh = toks[0];
    uint32_t a;
    if (!ir::parseIpv4(text(nh), a))
      return fail(nh, "malformed next hop '" + shown(text(nh)) + "' on a continuation line (expected an IPv4 address)");
    if (n > 2)
      return fail(toks[2].begin, visibleEnd, "unexpected text '" + shown(text(toks[2])) + "' after the interface");
    return true;
  }

  Route r;
  if (!parsePrefix(toks[0], r.prefix, r.len)) return false;
  if (n < 2) return fail(visibleEnd, visibleEnd, "missing the next hop after the prefix");
  if (n > 3) {
    Token extra;
    tokenize(toks[2].end, end, &extra, 1);
    return fail(extra.begin, visibleEnd, "unexpected text '" + shown(text(extra)) + "' after the interface");
  }
  std::string_view nh = text(toks[1]);
  std::string_view iface = n == 3 ? text(toks[2]) : std::string_view();
  // Interface names end up in diagnostics and generated configuration: no control bytes.
  for (size_t k = 0; k < iface.size(); ++k)
    if (static_cast<unsigned char>(iface[k]) < 0x20 || iface[k] == 0x7f)
      return fail(toks[2].begin + uint32_t(k), toks[2].begin + uint32_t(k) + 1,
                  "control character '" + shown(iface.substr(k, 1)) + "' in the interface name");
  r.line = line_;
  r.iface = std::string(iface);
  bool viaNull0 = equalsIgnoreCase(iface, "null0");
  uint32_t hop;
  bool isAddress = ir::parseIpv4(nh, hop);

  if (form_ == Form::PrefixNextHopIface) {
    if (!isAddress && nh != "-")
      return fail(toks[1], "malformed next hop '" + shown(nh) + "' (expected an IPv4 address or '-')");
    if (n < 3) return fail(visibleEnd, visibleEnd, "missing the interface after the next hop");
    if (iface.size() >= 2 && iface.front() == '[' && iface.back() == ']') {
      std::string_view tag = iface.substr(1, iface.size() - 2);
      r.kind = (tag == "rjct" || tag == "dscd") ? Route::Drop : Route::Local;
    } else if (!isAddress) {
      r.kind = Route::Attached;
    } else {
      r.kind = Route::Unicast;
      r.nextHop = hop;
    }
  } else {
    if (isAddress) {
      r.kind = Route::Unicast;
      r.nextHop = hop;
    } else if (nh == "attached" || nh == "glean") {
      r.kind = Route::Attached;
    } else if (nh == "receive" || nh == "punt" || nh == "multicast") {
      r.kind = Route::Local;
    } else if (nh == "drop") {
      r.kind = Route::Drop;
    } else {
      return fail(toks[1], "unknown next hop '" + shown(nh) +
                               "' (expected an IPv4 address, attached, glean, receive, punt, multicast or drop)");
    }
    if (viaNull0 && (r.kind == Route::Unicast || r.kind == Route::Attached)) {
      r.kind = Route::Drop;
      r.nextHop = 0;
    }
  }
  haveRoute_ = true;
  uint64_t key = (uint64_t(r.prefix) << 8) | r.len;
  if (seen_.insert(key).second) out.push_back(std::move(r));
  return true;
}

} // namespace

bool readRoutes(const SourceManager &sm, FileID file, DiagnosticEngine &diags, std::vector<ir::Route> &out,
                std::string &format) {
  RoutesReader reader(sm, file, diags);
  return reader.run(out, format);
}

} // namespace metron
