//===- compiler/import/Suricata.cpp - Reader for Suricata rules as DPI pattern sets -----------===//
///
/// \file
/// Reads the subset of Suricata's rule language (docs.suricata.io, "Rules") that the `dpi`
/// element can run: payload contents on IPv4 packets with header and flow conditions.
///
///   alert PROTO SRC SPORT -> DST DPORT (KEY: VALUE; KEY; ...)
///
/// PROTO is ip, tcp, udp or icmp; `<>` instead of `->` matches both directions. Addresses are
/// `any`, an IPv4 address or network (a.b.c.d/n), or a list `[x, y]`, optionally negated with
/// `!`; ports likewise with numbers and ranges (`80`, `1024:`, `:1023`, `[80,443]`), only on tcp
/// and udp rules. Options:
///   content:"..."  the bytes to find in the payload (|hex| runs, \" \; \\ escapes); `!` before
///                  the quote negates it; every content of a rule must hold (in any order)
///   nocase         the content before it ignores ASCII case
///   flow:...       established, not_established, to_server/from_client,
///                  to_client/from_server, stateless
///   sid:N          the rule's id (required, unique)
///   msg, rev, classtype, gid, priority, metadata, reference, target: accepted, not used
/// Every other keyword (http.*, pcre, depth, offset, distance, within, flowbits, ...) is an error
/// that names it: a rule is run as written or not at all.
///
/// Each content becomes a pattern (its id: its index in the set); the rule (ir::PatternRule)
/// lists its contents. Whether a rule holds is decided after the payload is scanned, from the
/// contents that matched anywhere in it (runtime/state/Dpi.cpp): Hyperscan's logical
/// combinations cannot say it, as their NOT means "not matched yet" at each match's offset.
//===----------------------------------------------------------------------------------------===//
#include "compiler/import/Import.h"
#include "compiler/import/ReaderUtil.h"

#include <charconv>
#include <cstring>
#include <unordered_map>

namespace metron {
namespace {

using import::isBlank;
using import::isDigit;
using import::shown;

class SuricataReader {
public:
  SuricataReader(const SourceManager &sm, FileID file, DiagnosticEngine &diags)
      : file_(file), diags_(diags), text_(sm.file(file).text) {}

  bool run(std::vector<ir::Pattern> &out, std::vector<ir::PatternRule> &rules) {
    return import::forEachEntryLine(text_, diags_, [&](uint32_t lineNo, uint32_t lineBegin, uint32_t b, uint32_t e) {
      line_ = lineNo;
      lineBegin_ = lineBegin;
      pos_ = b;
      end_ = e;
      return rule(out, rules);
    });
  }

private:
  SourceLoc loc(uint32_t off) const { return SourceLoc{file_, off, line_, off - lineBegin_ + 1}; }
  Diagnostic *fail(uint32_t b, uint32_t e, std::string msg) {
    if (e <= b) e = b + 1;
    return diags_.report(DiagKind::ImportMalformed, {loc(b), loc(e)}, std::move(msg));
  }
  std::string_view slice(uint32_t b, uint32_t e) const { return std::string_view(text_).substr(b, e - b); }
  void skipBlanks() {
    while (pos_ < end_ && isBlank(text_[pos_])) ++pos_;
  }
  /// The next blank-separated header token (stops before '(').
  std::pair<uint32_t, uint32_t> token() {
    skipBlanks();
    uint32_t b = pos_;
    int depth = 0;
    while (pos_ < end_ && (depth > 0 || (!isBlank(text_[pos_]) && text_[pos_] != '('))) {
      if (text_[pos_] == '[') ++depth;
      if (text_[pos_] == ']') --depth;
      ++pos_;
    }
    return {b, pos_};
  }

  bool rule(std::vector<ir::Pattern> &out, std::vector<ir::PatternRule> &rules);
  int negationOrAny(uint32_t &b, uint32_t e, bool &negated, const char *what);
  bool addresses(uint32_t b, uint32_t e, ir::PatternRule::AddrSet &set);
  bool ports(uint32_t b, uint32_t e, ir::PatternRule::PortSet &set);
  bool content(uint32_t b, uint32_t e, std::string &bytes, bool &negated);

  FileID file_;
  DiagnosticEngine &diags_;
  const std::string &text_;
  uint32_t line_ = 0, lineBegin_ = 0, pos_ = 0, end_ = 0;
  std::unordered_map<uint32_t, SourceRange> sids_;
};

/// Items of a list `[a, b]` or the single item; false after an error.
template <typename F> bool forEachItem(std::string_view s, uint32_t at, F item) {
  if (!s.empty() && s.front() == '[') {
    if (s.back() != ']') return item(s, at, false);
    s = s.substr(1, s.size() - 2);
    ++at;
    size_t start = 0;
    while (start <= s.size()) {
      size_t comma = s.find(',', start);
      if (comma == std::string_view::npos) comma = s.size();
      std::string_view it = s.substr(start, comma - start);
      size_t lead = 0;
      while (lead < it.size() && isBlank(it[lead])) ++lead;
      it.remove_prefix(lead);
      while (!it.empty() && isBlank(it.back())) it.remove_suffix(1);
      if (!item(it, at + uint32_t(start + lead), true)) return false;
      start = comma + 1;
    }
    return true;
  }
  return item(s, at, false);
}

bool parseIpv4(std::string_view s, uint32_t &a) {
  a = 0;
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    if (i >= s.size() || !isDigit(s[i])) return false;
    uint32_t v = 0;
    size_t digits = 0;
    while (i < s.size() && isDigit(s[i]) && digits < 4) v = v * 10 + uint32_t(s[i++] - '0'), ++digits;
    if (v > 255) return false;
    a = a << 8 | v;
    if (++parts < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

/// A leading '!' (sets \p negated, moves \p b past it) and `any`: 1 when the set is `any`, -1
/// after an error ('!any'), 0 when items follow.
int SuricataReader::negationOrAny(uint32_t &b, uint32_t e, bool &negated, const char *what) {
  if (b < e && text_[b] == '!') {
    negated = true;
    ++b;
  }
  if (slice(b, e) != "any") return 0;
  if (negated) return fail(b - 1, e, std::string("'!any' matches no ") + what), -1;
  return 1;
}

bool SuricataReader::addresses(uint32_t b, uint32_t e, ir::PatternRule::AddrSet &set) {
  if (int any = negationOrAny(b, e, set.negated, "address")) return any > 0;
  std::string_view s = slice(b, e);
  return forEachItem(s, b, [&](std::string_view it, uint32_t at, bool inList) {
    uint32_t itEnd = at + uint32_t(it.size());
    if (it.empty()) return fail(at, at + 1, "empty address in a list"), false;
    if (it[0] == '$')
      return fail(at, itEnd, "rule variable '" + shown(it) +
                                 "': variables are not supported (write the addresses, or any)"),
             false;
    if (inList && (it[0] == '!' || it[0] == '['))
      return fail(at, itEnd, "negated or nested items inside an address list are not supported"), false;
    if (it == "any") return fail(at, itEnd, "'any' inside an address list"), false;
    size_t slash = it.find('/');
    uint32_t addr = 0, len = 32;
    if (!parseIpv4(it.substr(0, slash), addr))
      return fail(at, itEnd, "'" + shown(it) + "' is not an IPv4 address or network (IPv6 is not supported)"), false;
    if (slash != std::string_view::npos) {
      std::string_view l = it.substr(slash + 1);
      auto r = std::from_chars(l.data(), l.data() + l.size(), len);
      if (l.empty() || r.ec != std::errc() || r.ptr != l.data() + l.size() || len > 32)
        return fail(at, itEnd, "'" + shown(it) + "': the prefix length must be 0 to 32"), false;
    }
    uint32_t mask = len ? ~uint32_t(0) << (32 - len) : 0;
    set.nets.push_back({addr & mask, mask});
    return true;
  });
}

bool SuricataReader::ports(uint32_t b, uint32_t e, ir::PatternRule::PortSet &set) {
  if (int any = negationOrAny(b, e, set.negated, "port")) return any > 0;
  std::string_view s = slice(b, e);
  auto number = [](std::string_view t, uint16_t &v) {
    uint32_t x = 0;
    auto r = std::from_chars(t.data(), t.data() + t.size(), x);
    if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size() || x > 65535) return false;
    v = uint16_t(x);
    return true;
  };
  return forEachItem(s, b, [&](std::string_view it, uint32_t at, bool inList) {
    uint32_t itEnd = at + uint32_t(it.size());
    if (it.empty()) return fail(at, at + 1, "empty port in a list"), false;
    if (it[0] == '$')
      return fail(at, itEnd, "rule variable '" + shown(it) + "': variables are not supported (write the ports, or any)"),
             false;
    if (inList && (it[0] == '!' || it[0] == '['))
      return fail(at, itEnd, "negated or nested items inside a port list are not supported"), false;
    size_t colon = it.find(':');
    uint16_t lo = 0, hi = 65535;
    bool ok = colon == std::string_view::npos
                  ? number(it, lo) && number(it, hi)
                  : (colon == 0 || number(it.substr(0, colon), lo)) &&
                        (colon + 1 == it.size() || number(it.substr(colon + 1), hi)) && it.size() > 1;
    if (!ok || lo > hi)
      return fail(at, itEnd, "'" + shown(it) + "' is not a port or port range (N, N:M, N:, :M; 0 to 65535)"), false;
    set.ranges.push_back({lo, hi});
    return true;
  });
}

bool SuricataReader::content(uint32_t b, uint32_t e, std::string &bytes, bool &negated) {
  std::string_view s = slice(b, e);
  negated = !s.empty() && s[0] == '!';
  if (negated) s.remove_prefix(1), ++b;
  if (s.size() < 2 || s.front() != '"' || s.back() != '"')
    return fail(b, e, "content wants a quoted string, e.g. content:\"uid=0|28|root|29|\""), false;
  bool hex = false;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    char c = s[i];
    uint32_t at = b + uint32_t(i);
    if (c == '|') {
      hex = !hex;
    } else if (hex) {
      if (isBlank(c)) continue;
      auto nibble = [](char x) {
        return x >= '0' && x <= '9' ? x - '0' : x >= 'a' && x <= 'f' ? x - 'a' + 10 : x >= 'A' && x <= 'F' ? x - 'A' + 10 : -1;
      };
      if (i + 2 >= s.size() || nibble(c) < 0 || nibble(s[i + 1]) < 0)
        return fail(at, at + 2, "a |hex| run wants pairs of hex digits"), false;
      bytes += char(nibble(c) << 4 | nibble(s[i + 1]));
      ++i;
    } else if (c == '\\') {
      if (i + 2 >= s.size() || !strchr("\";:\\", s[i + 1]))
        return fail(at, at + 2, "unknown escape in a content (\\\" \\; \\: \\\\ are known)"), false;
      bytes += s[++i];
    } else if (c == '"' || c == ';') {
      return fail(at, at + 1, std::string("'") + c + "' inside a content must be escaped (\\" + c + ")"), false;
    } else {
      bytes += c;
    }
  }
  if (hex) return fail(b, e, "unterminated |hex| run in a content"), false;
  if (bytes.empty()) return fail(b, e, "empty content"), false;
  return true;
}

bool SuricataReader::rule(std::vector<ir::Pattern> &out, std::vector<ir::PatternRule> &rules) {
  const uint32_t ruleBegin = pos_;
  if (text_[end_ - 1] == '\\')
    return fail(end_ - 1, end_, "a rule continued on the next line ('\\' at the end) is not supported"), false;
  auto r = std::make_unique<ir::PatternRule>();
  auto [ab, ae] = token();
  std::string_view action = slice(ab, ae);
  if (action != "alert")
    return fail(ab, ae, "only alert rules are supported, not '" + shown(action) +
                            "' (the dpi element's action says what a match does)"),
           false;
  auto [pb, pe] = token();
  std::string_view proto = slice(pb, pe);
  if (proto == "ip" || proto == "pkthdr") r->proto = 0;
  else if (proto == "tcp") r->proto = 6;
  else if (proto == "udp") r->proto = 17;
  else if (proto == "icmp") r->proto = 1;
  else if (proto.empty()) return fail(pb, pb + 1, "missing the rule's protocol"), false;
  else
    return fail(pb, pe, "protocol '" + shown(proto) +
                            "' is not supported: the dpi element matches IPv4 payloads (ip, tcp, udp, icmp) and has "
                            "no application-layer parser"),
           false;
  auto [sb, se] = token();
  auto [spb, spe] = token();
  auto [db, de] = token();
  auto [dpb, dpe] = token();
  auto [dsb, dse] = token();
  if (dse == dsb) return fail(sb, pos_, "expected SRC SPORT -> DST DPORT after the protocol"), false;
  std::string_view dir = slice(db, de);
  if (dir == "<>") r->bidirectional = true;
  else if (dir != "->") return fail(db, de, "expected '->' or '<>' between source and destination"), false;
  if (!addresses(sb, se, r->src) || !ports(spb, spe, r->sport) || !addresses(dpb, dpe, r->dst) ||
      !ports(dsb, dse, r->dport))
    return false;
  if (r->proto != 6 && r->proto != 17 && (!r->sport.ranges.empty() || !r->dport.ranges.empty()))
    return fail(spb, dse, "ports other than any need a tcp or udp rule"), false;
  skipBlanks();
  if (pos_ >= end_ || text_[pos_] != '(') return fail(pos_, end_, "expected '(' and the rule's options"), false;
  if (text_[end_ - 1] != ')') return fail(end_ - 1, end_, "expected ')' at the end of the rule"), false;
  const uint32_t optEnd = end_ - 1;
  ++pos_;

  struct Content {
    std::string bytes;
    bool negated = false, nocase = false;
  };
  std::vector<Content> contents;
  bool haveSid = false;
  uint32_t sidB = 0, sidE = 0;
  while (true) {
    skipBlanks();
    if (pos_ >= optEnd) break;
    uint32_t kb = pos_;
    while (pos_ < optEnd && text_[pos_] != ':' && text_[pos_] != ';' && !isBlank(text_[pos_])) ++pos_;
    std::string_view key = slice(kb, pos_);
    skipBlanks();
    uint32_t vb = pos_, ve = pos_;
    if (pos_ < optEnd && text_[pos_] == ':') {
      ++pos_;
      skipBlanks();
      vb = pos_;
      bool quoted = false;
      while (pos_ < optEnd && (quoted || text_[pos_] != ';')) {
        if (text_[pos_] == '\\' && pos_ + 1 < optEnd) ++pos_;
        else if (text_[pos_] == '"') quoted = !quoted;
        ++pos_;
      }
      ve = pos_;
      while (ve > vb && isBlank(text_[ve - 1])) --ve;
    }
    if (pos_ >= optEnd || text_[pos_] != ';')
      return fail(kb, pos_, "option '" + shown(key) + "' is not ended by ';'"), false;
    ++pos_;
    std::string_view value = slice(vb, ve);
    if (key == "content") {
      Content c;
      if (!content(vb, ve, c.bytes, c.negated)) return false;
      contents.push_back(std::move(c));
    } else if (key == "nocase") {
      if (contents.empty()) return fail(kb, kb + 6, "nocase before any content"), false;
      contents.back().nocase = true;
    } else if (key == "flow") {
      size_t start = 0;
      while (start <= value.size()) {
        size_t comma = value.find(',', start);
        if (comma == std::string_view::npos) comma = value.size();
        std::string_view f = value.substr(start, comma - start);
        uint32_t at = vb + uint32_t(start);
        while (!f.empty() && isBlank(f.front())) f.remove_prefix(1), ++at;
        while (!f.empty() && isBlank(f.back())) f.remove_suffix(1);
        using F = ir::PatternRule;
        if (f == "established") r->flow |= F::Established;
        else if (f == "not_established") r->flow |= F::NotEstablished;
        else if (f == "to_server" || f == "from_client") r->flow |= F::ToServer;
        else if (f == "to_client" || f == "from_server") r->flow |= F::ToClient;
        else if (f == "stateless") {
        } else
          return fail(at, at + uint32_t(f.size()),
                      "flow option '" + shown(f) +
                          "' is not supported (established, not_established, to_server, from_client, to_client, "
                          "from_server, stateless are)"),
                 false;
        start = comma + 1;
      }
      if ((r->flow & ir::PatternRule::Established) && (r->flow & ir::PatternRule::NotEstablished))
        return fail(vb, ve, "flow is both established and not_established"), false;
      if ((r->flow & ir::PatternRule::ToServer) && (r->flow & ir::PatternRule::ToClient))
        return fail(vb, ve, "flow goes both to the server and to the client"), false;
    } else if (key == "sid") {
      uint32_t v = 0;
      auto res = std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || res.ec != std::errc() || res.ptr != value.data() + value.size())
        return fail(vb, ve, "sid wants a number from 0 to 4294967295"), false;
      r->sid = v;
      haveSid = true;
      sidB = kb;
      sidE = ve;
    } else if (key == "msg") {
      r->msg = std::string(value.size() >= 2 && value.front() == '"' ? value.substr(1, value.size() - 2) : value);
    } else if (key == "rev" || key == "classtype" || key == "gid" || key == "priority" || key == "metadata" ||
               key == "reference" || key == "target") {
    } else {
      std::string why = key.rfind("http", 0) == 0 || key.rfind("tls", 0) == 0 || key.rfind("dns", 0) == 0 ||
                                key.rfind("file", 0) == 0 || key.rfind("app-layer", 0) == 0
                            ? " (application-layer buffers need a parser the dpi element does not have)"
                            : " (supported: content, nocase, flow, sid, msg, rev, classtype, gid, priority, metadata, "
                              "reference, target)";
      return fail(kb, kb + uint32_t(key.size()), "keyword '" + shown(key) + "' is not supported" + why), false;
    }
  }
  if (!haveSid) return fail(ruleBegin, end_, "the rule has no sid"), false;
  if (contents.empty()) return fail(ruleBegin, end_, "the rule has no content (the dpi element matches payloads)"), false;
  bool positive = false;
  for (const auto &c : contents) positive = positive || !c.negated;
  if (!positive) return fail(ruleBegin, end_, "the rule needs a content that is not negated"), false;
  auto [it, inserted] = sids_.emplace(r->sid, SourceRange{loc(sidB), loc(sidE)});
  if (!inserted) {
    Diagnostic *d = fail(sidB, sidE, "duplicate sid " + std::to_string(r->sid));
    diags_.note(d, it->second, "sid " + std::to_string(r->sid) + " first defined here");
    return false;
  }
  auto regex = [](const std::string &bytes) {
    static const char *hex = "0123456789abcdef";
    std::string s;
    for (unsigned char c : bytes) s += std::string("\\x") + hex[c >> 4] + hex[c & 15];
    return s;
  };
  for (const auto &c : contents) {
    ir::Pattern p;
    p.id = uint32_t(out.size());
    p.regex = regex(c.bytes);
    p.flags = c.nocase ? "i" : "";
    p.line = line_;
    r->contents.push_back({p.id, c.negated});
    out.push_back(std::move(p));
  }
  r->line = line_;
  rules.push_back(std::move(*r));
  return true;
}

} // namespace

bool isSuricataRules(const std::string &text) {
  size_t i = 0;
  while (i < text.size()) {
    size_t nl = text.find('\n', i);
    if (nl == std::string::npos) nl = text.size();
    size_t b = i;
    while (b < nl && isBlank(text[b])) ++b;
    if (b < nl && text[b] != '#') {
      for (const char *a : {"alert", "drop", "pass", "reject", "rejectsrc", "rejectdst", "rejectboth"}) {
        size_t n = strlen(a);
        if (text.compare(b, n, a) == 0 && b + n < nl && isBlank(text[b + n])) return true;
      }
      return false;
    }
    i = nl + 1;
  }
  return false;
}

bool readSuricataRules(const SourceManager &sm, FileID file, DiagnosticEngine &diags, std::vector<ir::Pattern> &out,
                       std::vector<ir::PatternRule> &rules) {
  SuricataReader reader(sm, file, diags);
  return reader.run(out, rules);
}

} // namespace metron
