//===- compiler/import/Suricata.cpp - Reader for Suricata rules as DPI pattern sets -----------===//
///
/// \file
/// Reads the subset of Suricata's rule language (docs.suricata.io, "Rules") that the `dpi`
/// element can run: payload contents on IPv4 packets with header and flow conditions, and
/// contents in the buffers of HTTP requests.
///
///   alert PROTO SRC SPORT -> DST DPORT (KEY: VALUE; KEY; ...)
///
/// PROTO is ip, tcp, udp, icmp or http (TCP packets whose payload starts an HTTP request,
/// runtime/state/Http.h); `<>` instead of `->` matches both directions. Addresses are `any`,
/// an IPv4 address or network (a.b.c.d/n), or a list `[x, y]`, optionally negated with `!`;
/// ports likewise with numbers and ranges (`80`, `1024:`, `:1023`, `[80,443]`), only on tcp,
/// udp and http rules. A whole set may be a variable ($HOME_NET, $EXTERNAL_NET, $HTTP_PORTS,
/// ...): the import's value (RuleVariables), else that of Suricata's default suricata.yaml.
/// Options:
///   content:"..."  the bytes to find (|hex| runs, \" \; \\ escapes); `!` before the quote
///                  negates it; every content of a rule must hold (in any order)
///   pcre:"/RE/F"   a regular expression (Hyperscan's PCRE subset), flags i s m and the buffer
///                  letters U I M H D C V W Z; `!` negates it
///   nocase         the content before it ignores ASCII case
///   fast_pattern   accepted (a hint for Suricata's prefilter), no effect
///   http.uri, http.header, ... (PatternRule::Buffer), pkt_data: the buffer the contents after
///                  it are matched in (sticky buffers); http_uri, http_header, ... after a
///                  content: the buffer of that content (the older modifiers)
///   bsize:N        the buffer's size (N, <N, >N, <=N, >=N, N<>M)
///   absent         the buffer is not there; `absent: or_else`: not there, or its contents hold
///   flow:...       established, not_established, to_server/from_client,
///                  to_client/from_server, stateless
///   sid:N          the rule's id (required, unique)
///   msg, rev, classtype, gid, priority, metadata, reference, target: accepted, not used
/// Every other keyword (depth, offset, distance, within, flowbits, http.response_body, ...) is
/// an error that names it: a rule is run as written or not at all.
///
/// Each content and pcre becomes a pattern (its id: its index in the set; its buffer:
/// Pattern::buffer); the rule (ir::PatternRule) lists them. Whether a rule holds is decided
/// after the buffers are scanned, from the patterns that matched anywhere in each
/// (runtime/state/Dpi.cpp): Hyperscan's logical combinations cannot say it, as their NOT means
/// "not matched yet" at each match's offset.
//===----------------------------------------------------------------------------------------===//
#include "compiler/import/Import.h"
#include "compiler/import/ReaderUtil.h"

#include <charconv>
#include <cstring>
#include <set>
#include <span>
#include <type_traits>
#include <unordered_map>

namespace metron {
namespace {

using import::isBlank;
using import::isDigit;
using import::shown;

class SuricataReader {
public:
  SuricataReader(const SourceManager &sm, FileID file, DiagnosticEngine &diags, const RuleVariables *vars,
                 std::set<std::string> *usedVars)
      : file_(file), diags_(diags), text_(sm.file(file).text), src_(text_), vars_(vars), usedVars_(usedVars) {}

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
  /// An error at [b, e) of the rule; while a variable's value is read, at the variable.
  Diagnostic *fail(uint32_t b, uint32_t e, std::string msg) {
    if (var_) {
      b = var_->b, e = var_->e;
      msg = "in the value of $" + var_->name + " (\"" + std::string(src_) + "\"): " + msg;
    }
    if (e <= b) e = b + 1;
    return diags_.report(DiagKind::ImportMalformed, {loc(b), loc(e)}, std::move(msg));
  }
  /// [b, e) of the rule, or of the variable's value being read.
  std::string_view slice(uint32_t b, uint32_t e) const { return src_.substr(b, e - b); }
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
  template <typename Set, typename Read> int wholeVariable(uint32_t b, uint32_t e, bool ports, Set &set, Read read);
  const char *variable(std::string_view name, bool ports) const;
  bool addresses(uint32_t b, uint32_t e, ir::PatternRule::AddrSet &set);
  bool ports(uint32_t b, uint32_t e, ir::PatternRule::PortSet &set);
  bool content(uint32_t b, uint32_t e, std::string &bytes, bool &negated);
  bool pcre(uint32_t b, uint32_t e, std::string &regex, std::string &flags, bool &negated,
            ir::PatternRule::Buffer &buffer);
  bool bsize(uint32_t b, uint32_t e, uint32_t &lo, uint32_t &hi);

  FileID file_;
  DiagnosticEngine &diags_;
  const std::string &text_;
  std::string_view src_; ///< text_, or the value of the variable being read
  const RuleVariables *vars_;
  std::set<std::string> *usedVars_; ///< the names of vars_ that a rule used
  /// The variable whose value is being read (its place in the rule), and the one whose value
  /// named it.
  struct VarContext {
    uint32_t b, e;
    std::string name;
    const VarContext *outer;
  };
  const VarContext *var_ = nullptr;
  uint32_t line_ = 0, lineBegin_ = 0, pos_ = 0, end_ = 0;
  std::unordered_map<uint32_t, SourceRange> sids_;
};

/// A Hyperscan expression that matches exactly \p bytes.
std::string literalRegex(const std::string &bytes) {
  static const char *hex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : bytes) s += std::string("\\x") + hex[c >> 4] + hex[c & 15];
  return s;
}

/// The content modifiers that put the content before them in an HTTP buffer (Suricata's older
/// spelling of the sticky buffers).
bool legacyBuffer(std::string_view key, ir::PatternRule::Buffer &out) {
  using B = ir::PatternRule;
  static const std::pair<const char *, ir::PatternRule::Buffer> legacy[] = {
      {"http_uri", B::HttpUri},           {"http_raw_uri", B::HttpUriRaw},     {"http_method", B::HttpMethod},
      {"http_header", B::HttpHeader},     {"http_raw_header", B::HttpHeaderRaw}, {"http_cookie", B::HttpCookie},
      {"http_user_agent", B::HttpUserAgent}, {"http_host", B::HttpHost},     {"http_raw_host", B::HttpHostRaw},
      {"http_header_names", B::HttpHeaderNames}};
  for (const auto &[name, b] : legacy)
    if (key == name) {
      out = b;
      return true;
    }
  return false;
}

/// The HTTP buffers' names, for an error.
std::string httpBufferList() {
  std::string s;
  for (unsigned b = 1; b < ir::PatternRule::kNumBuffers; ++b) {
    if (!s.empty()) s += ", ";
    s += ir::PatternRule::bufferName(ir::PatternRule::Buffer(b));
  }
  return s;
}

/// The address and port variables with the values of Suricata's default suricata.yaml (vars:
/// address-groups, port-groups); nullptr for another name.
const char *defaultVariable(std::string_view name, bool ports) {
  static const char *home = "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]";
  static const std::pair<const char *, const char *> addrs[] = {
      {"HOME_NET", home},      {"EXTERNAL_NET", "!$HOME_NET"}, {"HTTP_SERVERS", home},  {"SMTP_SERVERS", home},
      {"SQL_SERVERS", home},   {"DNS_SERVERS", home},          {"TELNET_SERVERS", home}, {"AIM_SERVERS", "$EXTERNAL_NET"},
      {"DC_SERVERS", home},    {"DNP3_SERVER", home},          {"DNP3_CLIENT", home},   {"MODBUS_CLIENT", home},
      {"MODBUS_SERVER", home}, {"ENIP_CLIENT", home},          {"ENIP_SERVER", home}};
  static const std::pair<const char *, const char *> portVars[] = {
      {"HTTP_PORTS", "80"},   {"SHELLCODE_PORTS", "!80"}, {"ORACLE_PORTS", "1521"}, {"SSH_PORTS", "22"},
      {"DNP3_PORTS", "20000"}, {"MODBUS_PORTS", "502"},   {"FILE_DATA_PORTS", "[80,110,143]"},
      {"FTP_PORTS", "21"},    {"GENEVE_PORTS", "6081"},   {"VXLAN_PORTS", "4789"},  {"TEREDO_PORTS", "3544"}};
  using Table = std::span<const std::pair<const char *, const char *>>;
  const Table table = ports ? Table(portVars) : Table(addrs);
  for (const auto &[n, v] : table)
    if (name == n) return v;
  return nullptr;
}

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
  if (b < e && src_[b] == '!') {
    negated = true;
    ++b;
  }
  if (slice(b, e) != "any") return 0;
  if (negated) return fail(b - 1, e, std::string("'!any' matches no ") + what), -1;
  return 1;
}

/// A variable's value: the import's (`import patterns ... HOME_NET "[10.0.0.0/8]"`), else
/// Suricata's default; nullptr when it has none.
const char *SuricataReader::variable(std::string_view name, bool ports) const {
  if (vars_)
    if (auto it = vars_->find(std::string(name)); it != vars_->end()) {
      if (usedVars_) usedVars_->insert(it->first);
      return it->second.c_str();
    }
  return defaultVariable(name, ports);
}

/// A whole address or port set that is a variable (`$HOME_NET`, `!$HTTP_PORTS`): 1 when it was
/// one and its value was read into \p set by \p read (the reader of such sets, on the value),
/// -1 after an error (an unknown variable, a malformed value, a cycle), 0 when it is not one.
template <typename Set, typename Read>
int SuricataReader::wholeVariable(uint32_t b, uint32_t e, bool ports, Set &set, Read read) {
  std::string_view v = slice(b, e);
  const bool negated = !v.empty() && v[0] == '!';
  if (negated) v.remove_prefix(1);
  if (v.empty() || v[0] != '$') return 0;
  const std::string name(v.substr(1));
  const char *def = variable(name, ports);
  if (!def) {
    fail(b, e, "rule variable '$" + name + "' is not one of Suricata's default " +
                   (ports ? "port-groups (HTTP_PORTS, SSH_PORTS, ...)" : "address-groups (HOME_NET, EXTERNAL_NET, ...)") +
                   " and the import does not set it (import patterns \"FILE\" as NAME " + name + " \"VALUE\";)");
    return -1;
  }
  for (const VarContext *o = var_; o; o = o->outer)
    if (o->name == name) {
      std::string path = "$" + name;
      for (const VarContext *p = var_; p != o->outer; p = p->outer) path = "$" + p->name + " -> " + path;
      return fail(b, e, "rule variable $" + name + " refers to itself: " + path), -1;
    }
  // Read the value in place of the variable; errors point at the variable.
  VarContext ctx{var_ ? var_->b : b, var_ ? var_->e : e, name, var_};
  const std::string_view outerSrc = src_;
  var_ = &ctx;
  src_ = def;
  const bool ok = (this->*read)(0, uint32_t(src_.size()), set);
  src_ = outerSrc;
  var_ = ctx.outer;
  if (!ok) return -1;
  if (negated) {
    bool any = false;
    if constexpr (std::is_same_v<Set, ir::PatternRule::AddrSet>) any = set.nets.empty();
    else any = set.ranges.empty();
    if (any && !set.negated)
      return fail(b, e, "'!$" + name + "' matches nothing ($" + name + " is any)"), -1;
    set.negated = !set.negated;
  }
  return 1;
}

bool SuricataReader::addresses(uint32_t b, uint32_t e, ir::PatternRule::AddrSet &set) {
  if (int var = wholeVariable(b, e, false, set, &SuricataReader::addresses)) return var > 0;
  if (int any = negationOrAny(b, e, set.negated, "address")) return any > 0;
  std::string_view s = slice(b, e);
  return forEachItem(s, b, [&](std::string_view it, uint32_t at, bool inList) {
    uint32_t itEnd = at + uint32_t(it.size());
    if (it.empty()) return fail(at, at + 1, "empty address in a list"), false;
    if (it[0] == '$')
      return fail(at, itEnd, "rule variable '" + shown(it) +
                                 "' inside a list: not supported (write the addresses)"),
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
  if (int var = wholeVariable(b, e, true, set, &SuricataReader::ports)) return var > 0;
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
      return fail(at, itEnd, "rule variable '" + shown(it) + "' inside a list: not supported (write the ports)"),
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

/// pcre:"/REGEX/FLAGS" (a '!' before the quote negates it). FLAGS: i s m, and the letters
/// that name an HTTP buffer (U I M H D C V W Z). \; and \" in REGEX are the characters; every
/// other escape is the regex's.
bool SuricataReader::pcre(uint32_t b, uint32_t e, std::string &regex, std::string &flags, bool &negated,
                          ir::PatternRule::Buffer &buffer) {
  std::string_view s = slice(b, e);
  negated = !s.empty() && s[0] == '!';
  if (negated) s.remove_prefix(1), ++b;
  size_t close = s.size() >= 2 ? s.rfind('/') : std::string_view::npos;
  if (s.size() < 4 || s.front() != '"' || s.back() != '"' || s[1] != '/' || close == std::string_view::npos || close < 2)
    return fail(b, e, "pcre wants a quoted /regex/flags, e.g. pcre:\"/^GET /i\""), false;
  for (size_t i = 2; i < close; ++i) {
    if (s[i] == '\\' && i + 1 < close && (s[i + 1] == ';' || s[i + 1] == '"')) ++i;
    else if (s[i] == '"' || s[i] == ';')
      return fail(b + uint32_t(i), b + uint32_t(i) + 1, std::string("'") + s[i] + "' inside a pcre must be escaped"), false;
    regex += s[i];
  }
  if (regex.empty()) return fail(b, e, "empty pcre"), false;
  using B = ir::PatternRule;
  buffer = B::Payload;
  for (size_t i = close + 1; i + 1 < s.size(); ++i) {
    const char c = s[i];
    const uint32_t at = b + uint32_t(i);
    B::Buffer named = B::Payload;
    switch (c) {
    case 'i': case 's': case 'm':
      if (flags.find(c) == std::string::npos) flags += c;
      continue;
    case 'U': named = B::HttpUri; break;
    case 'I': named = B::HttpUriRaw; break;
    case 'M': named = B::HttpMethod; break;
    case 'H': named = B::HttpHeader; break;
    case 'D': named = B::HttpHeaderRaw; break;
    case 'C': named = B::HttpCookie; break;
    case 'V': named = B::HttpUserAgent; break;
    case 'W': named = B::HttpHost; break;
    case 'Z': named = B::HttpHostRaw; break;
    default:
      return fail(at, at + 1,
                  std::string("pcre flag '") + c +
                      "' is not supported (i s m, and the buffers U I M H D C V W Z, are; offsets and relative "
                      "matches are not)"),
             false;
    }
    if (buffer != B::Payload && buffer != named)
      return fail(at, at + 1, "pcre names two buffers"), false;
    buffer = named;
  }
  return true;
}

/// bsize:N, <N, >N, <=N, >=N or N<>M (strictly between).
bool SuricataReader::bsize(uint32_t b, uint32_t e, uint32_t &lo, uint32_t &hi) {
  std::string_view s = slice(b, e);
  auto number = [](std::string_view t, uint32_t &v) {
    while (!t.empty() && isBlank(t.front())) t.remove_prefix(1);
    while (!t.empty() && isBlank(t.back())) t.remove_suffix(1);
    auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    return !t.empty() && r.ec == std::errc() && r.ptr == t.data() + t.size();
  };
  uint32_t x = 0, y = 0;
  bool ok = false;
  if (size_t r = s.find("<>"); r != std::string_view::npos) {
    ok = number(s.substr(0, r), x) && number(s.substr(r + 2), y) && x < y && y - x >= 2;
    lo = x + 1, hi = y - 1;
  } else if (s.rfind("<=", 0) == 0) {
    ok = number(s.substr(2), x), lo = 0, hi = x;
  } else if (s.rfind(">=", 0) == 0) {
    ok = number(s.substr(2), x), lo = x, hi = UINT32_MAX;
  } else if (s.rfind("<", 0) == 0) {
    ok = number(s.substr(1), x) && x > 0, lo = 0, hi = x - 1;
  } else if (s.rfind(">", 0) == 0) {
    ok = number(s.substr(1), x) && x < UINT32_MAX, lo = x + 1, hi = UINT32_MAX;
  } else {
    ok = number(s, x), lo = hi = x;
  }
  if (!ok)
    return fail(b, e, "bsize wants N, <N, >N, <=N, >=N or N<>M (a range with a size strictly between N and M)"), false;
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
  else if (proto == "http") r->proto = 6, r->http = true;
  else if (proto == "tcp") r->proto = 6;
  else if (proto == "udp") r->proto = 17;
  else if (proto == "icmp") r->proto = 1;
  else if (proto.empty()) return fail(pb, pb + 1, "missing the rule's protocol"), false;
  else
    return fail(pb, pe, "protocol '" + shown(proto) +
                            "' is not supported: the dpi element matches IPv4 payloads (ip, tcp, udp, icmp) and "
                            "HTTP requests (http)"),
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

  using Buffer = ir::PatternRule::Buffer;
  struct Content {
    std::string regex; ///< a Hyperscan expression
    std::string flags; ///< hsbench letters
    bool negated = false, pcre = false;
    Buffer buffer = ir::PatternRule::Payload;
  };
  std::vector<Content> contents;
  Buffer sticky = ir::PatternRule::Payload; // the buffer set by the last sticky-buffer keyword
  // The check of \p buf (made on first use).
  auto check = [&](Buffer buf) -> ir::PatternRule::BufferCheck & {
    for (auto &c : r->checks)
      if (c.buffer == buf) return c;
    r->checks.push_back({});
    r->checks.back().buffer = buf;
    return r->checks.back();
  };
  std::vector<std::pair<Buffer, std::pair<uint32_t, uint32_t>>> absentOnly; // `absent` without or_else, where
  auto needHttp = [&](uint32_t b, uint32_t e, std::string_view what) {
    if (r->http) return true;
    return fail(b, e, "'" + shown(what) + "' is a buffer of HTTP requests: the rule's protocol must be http"), false;
  };
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
    Buffer named = ir::PatternRule::Payload;
    if (key == "content") {
      Content c;
      std::string bytes;
      if (!content(vb, ve, bytes, c.negated)) return false;
      c.regex = literalRegex(bytes);
      c.buffer = sticky;
      contents.push_back(std::move(c));
    } else if (key == "pcre") {
      Content c;
      if (!pcre(vb, ve, c.regex, c.flags, c.negated, c.buffer)) return false;
      if (c.buffer == ir::PatternRule::Payload) c.buffer = sticky;
      else if (!needHttp(vb, ve, ir::PatternRule::bufferName(c.buffer))) return false;
      c.pcre = true;
      contents.push_back(std::move(c));
    } else if (key == "nocase") {
      if (contents.empty() || contents.back().pcre)
        return fail(kb, kb + 6, "nocase must follow a content (a pcre says /i)"), false;
      if (contents.back().flags.find('i') == std::string::npos) contents.back().flags += 'i';
    } else if (key == "fast_pattern") {
      // A hint about which content Suricata's prefilter uses: no effect on what matches.
      if (contents.empty()) return fail(kb, kb + 12, "fast_pattern before any content"), false;
    } else if (key == "pkt_data") {
      sticky = ir::PatternRule::Payload;
    } else if (ir::PatternRule::bufferOf(key, named)) { // a sticky buffer: the options after it
      if (!needHttp(kb, kb + uint32_t(key.size()), key)) return false;
      sticky = named;
    } else if (legacyBuffer(key, named)) { // a content modifier (http_uri): the content before it
      if (!needHttp(kb, kb + uint32_t(key.size()), key)) return false;
      if (contents.empty() || contents.back().pcre)
        return fail(kb, kb + uint32_t(key.size()), std::string(key) + " must follow a content"), false;
      contents.back().buffer = named;
    } else if (key == "bsize" || key == "absent") {
      if (sticky == ir::PatternRule::Payload)
        return fail(kb, kb + uint32_t(key.size()), std::string(key) + " needs a buffer before it (e.g. http.uri;)"), false;
      auto &c = check(sticky);
      if (key == "bsize") {
        if (!bsize(vb, ve, c.bsizeLo, c.bsizeHi)) return false;
      } else if (vb == ve) {
        c.absent = ir::PatternRule::BufferCheck::Only;
        absentOnly.push_back({sticky, {kb, kb + 6}});
      } else if (value == "or_else") {
        c.absent = ir::PatternRule::BufferCheck::OrElse;
      } else {
        return fail(vb, ve, "absent takes no value or or_else"), false;
      }
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
      std::string why =
          key.rfind("http", 0) == 0
              ? " (the HTTP buffers of requests are: " + httpBufferList() + ")"
          : key.rfind("tls", 0) == 0 || key.rfind("dns", 0) == 0 || key.rfind("file", 0) == 0 ||
                  key.rfind("app-layer", 0) == 0
              ? " (the dpi element parses HTTP requests only)"
              : " (supported: content, pcre, nocase, fast_pattern, pkt_data, the HTTP request buffers, bsize, absent, "
                "flow, sid, msg, rev, classtype, gid, priority, metadata, reference, target)";
      return fail(kb, kb + uint32_t(key.size()), "keyword '" + shown(key) + "' is not supported" + why), false;
    }
  }
  if (!haveSid) return fail(ruleBegin, end_, "the rule has no sid"), false;
  if (contents.empty() && r->checks.empty())
    return fail(ruleBegin, end_, "the rule has no content, pcre, bsize or absent (nothing to match)"), false;
  for (const auto &[buf, where] : absentOnly)
    for (const auto &c : contents)
      if (c.buffer == buf)
        return fail(where.first, where.second,
                    std::string("absent: the rule also matches contents in ") + ir::PatternRule::bufferName(buf) +
                        " (write 'absent: or_else;' for \"not there, or its contents hold\")"),
               false;
  auto [it, inserted] = sids_.emplace(r->sid, SourceRange{loc(sidB), loc(sidE)});
  if (!inserted) {
    Diagnostic *d = fail(sidB, sidE, "duplicate sid " + std::to_string(r->sid));
    diags_.note(d, it->second, "sid " + std::to_string(r->sid) + " first defined here");
    return false;
  }
  for (const auto &c : contents) {
    ir::Pattern p;
    p.id = uint32_t(out.size());
    p.regex = c.regex;
    p.flags = c.flags;
    p.line = line_;
    p.buffer = c.buffer;
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
                       std::vector<ir::PatternRule> &rules, const RuleVariables *vars,
                       std::set<std::string> *usedVars) {
  SuricataReader reader(sm, file, diags, vars, usedVars);
  return reader.run(out, rules);
}

} // namespace metron
