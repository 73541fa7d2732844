//===- compiler/import/ClassBench.cpp - Reader for ClassBench filter sets ---------------------===//
///
/// \file
/// Reads ClassBench rule files into first-match rules. One hand-written pass over the text
/// (std::from_chars, no regex, no streams): ClassBench fw1_10K (9,311 rules) takes a few ms.
///
/// A line is `@SRC/len DST/len SPlo : SPhi DPlo : DPhi PROTO/MASK [FLAGS/FMASK]`. Fields may be
/// separated by any run of spaces or tabs (the pclasseval files use single spaces, the
/// neurocuts files tabs and a trailing tab). The form is detected on the first rule: with a
/// flags column it is "classbench-flags", else "classbench-5tuple"; every later rule must have
/// the same shape.
///
/// The flags column is 16 bits wide. In the real data its meaning depends on the protocol
/// (neurocuts fw1_10k: TCP rules use 0x0200/0x1200, 0x1000/0x1000, 0x0400/0x0400 ...; ICMP rules
/// 0x0800/0xff00, 0x0b00/0xff00, 0x0303/0xffff ...): for TCP the high byte holds the TCP flags
/// (0x0200/0x1200 = SYN without ACK), for ICMP the high byte is the ICMP type and the low byte
/// the ICMP code (0x0303/0xffff = port unreachable). They become tcp.flags, icmp.type and
/// icmp.code matches. A non-zero flags mask on another protocol is an error.
///
/// Every malformed line gets exactly one import-malformed error with a range over the first bad
/// token, and reading goes on with the next line until the engine's error limit.
///
//===----------------------------------------------------------------------------------------===//
#include "compiler/import/Import.h"
#include "compiler/import/ReaderUtil.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace metron {
namespace {

using import::isBlank;
using import::isDigit;
using import::shown;

using ir::FieldId;
using ir::FieldMatch;



enum class Form { Unknown, FiveTuple, Flags };

/// Parses the rules of one file, line by line.
class ClassBenchReader {
public:
  ClassBenchReader(const SourceManager &sm, FileID file, DiagnosticEngine &diags)
      : sm_(sm), file_(file), diags_(diags), text_(sm.file(file).text), t_(text_.data()) {}

  bool run(std::vector<ir::Rule> &out, std::string &format);

private:
  /// Parses the line [begin, end); on success appends the rule and returns true.
  bool parseLine(uint32_t begin, uint32_t end, int32_t index, std::vector<ir::Rule> &out);

  // Each parser reads at pos_ and reports (and returns false) on the first bad token.
  bool parsePrefix(FieldId f, const char *what, FieldMatch &m, bool &any);
  bool parsePortRange(FieldId f, const char *what, FieldMatch &m, bool &any);
  bool parseHexPair(const char *what, uint64_t &value, uint64_t &mask, uint32_t &tokBegin, uint32_t &valueEnd,
                    uint32_t &maskBegin);
  bool expectField(const char *what);

  void skipBlanks() {
    while (pos_ < end_ && isBlank(t_[pos_])) ++pos_;
  }
  uint32_t tokenEnd(uint32_t from) const {
    uint32_t p = from;
    while (p < end_ && !isBlank(t_[p])) ++p;
    return p;
  }
  std::string_view slice(uint32_t b, uint32_t e) const { return std::string_view(text_).substr(b, e - b); }
  /// Location of an offset on the current line (same result as SourceManager::locFor, without
  /// the binary search: this is on the hot path of every rule).
  SourceLoc loc(uint32_t off) const { return SourceLoc{file_, off, line_, off - lineBegin_ + 1}; }
  bool fail(uint32_t b, uint32_t e, std::string msg) {
    if (e <= b) e = b + 1 <= end_ ? b + 1 : b;
    diags_.report(DiagKind::ImportMalformed, {loc(b), loc(e)}, std::move(msg));
    return false;
  }
  /// Reports an error over the whitespace-delimited token starting at \p b.
  bool failToken(uint32_t b, std::string msg) { return fail(b, tokenEnd(b), std::move(msg)); }

  const SourceManager &sm_;
  FileID file_;
  DiagnosticEngine &diags_;
  const std::string &text_;
  const char *t_; ///< text_.data(), kept in a member so that the scanners need no reload
  uint32_t pos_ = 0, end_ = 0;
  uint32_t line_ = 0, lineBegin_ = 0; ///< 1-based number and first byte of the current line
  Form form_ = Form::Unknown;
};

bool ClassBenchReader::run(std::vector<ir::Rule> &out, std::string &format) {
  bool ok = true;
  size_t n = text_.size();
  // One rule per line, but never reserve much up front for what may be garbage.
  out.reserve(out.size() + std::min<size_t>(sm_.file(file_).lineStarts.size(), 1 << 16));
  int32_t index = 0;
  bool firstHasTab = false;
  uint32_t lineNo = 0;
  for (size_t lineBegin = 0; lineBegin < n && !diags_.errorLimitReached();) {
    ++lineNo;
    const void *nl = memchr(t_ + lineBegin, '\n', n - lineBegin);
    size_t lineEnd = nl ? size_t(static_cast<const char *>(nl) - t_) : n;
    size_t first = lineBegin;
    while (first < lineEnd && isBlank(t_[first])) ++first;
    if (first < lineEnd && t_[first] != '#') {
      if (index == 0) firstHasTab = memchr(t_ + first, '\t', lineEnd - first) != nullptr;
      line_ = lineNo;
      lineBegin_ = uint32_t(lineBegin);
      if (!parseLine(uint32_t(lineBegin), uint32_t(lineEnd), ++index, out)) ok = false;
    }
    lineBegin = lineEnd + 1;
  }
  // The form is settled by the first rule that gets as far as the flags column; when none
  // does, tabs suggest the neurocuts form.
  if (form_ == Form::Unknown) form_ = firstHasTab ? Form::Flags : Form::FiveTuple;
  format = form_ == Form::Flags ? "classbench-flags" : "classbench-5tuple";
  return ok;
}

bool ClassBenchReader::expectField(const char *what) {
  // Every field parser stops at a blank or at the end of the line.
  skipBlanks();
  if (pos_ >= end_) return fail(pos_, pos_, std::string("missing the ") + what + " at the end of the rule");
  return true;
}

bool ClassBenchReader::parseLine(uint32_t begin, uint32_t end, int32_t index, std::vector<ir::Rule> &out) {
  pos_ = begin;
  end_ = end;
  skipBlanks();
  if (t_[pos_] != '@') return failToken(pos_, "expected '@' at the start of a ClassBench rule");
  ++pos_;
  FieldMatch src, dst, sport, dport;
  bool hasSrc = false, hasDst = false, hasSport = false, hasDport = false;
  if (!parsePrefix(FieldId::IpSrc, "source", src, hasSrc)) return false;
  if (!expectField("destination prefix") || !parsePrefix(FieldId::IpDst, "destination", dst, hasDst)) return false;
  if (!expectField("source port range") || !parsePortRange(FieldId::TpSrc, "source", sport, hasSport)) return false;
  if (!expectField("destination port range") || !parsePortRange(FieldId::TpDst, "destination", dport, hasDport))
    return false;
  if (!expectField("protocol")) return false;

  uint64_t proto, protoMask;
  uint32_t protoBegin, protoValueEnd, protoMaskBegin;
  if (!parseHexPair("protocol", proto, protoMask, protoBegin, protoValueEnd, protoMaskBegin)) return false;
  if (proto > 0xff)
    return fail(protoBegin, protoValueEnd, "protocol " + shown(slice(protoBegin, protoValueEnd)) + " is beyond 0xFF");
  if (protoMask != 0 && protoMask != 0xff)
    return fail(protoMaskBegin, pos_,
                "protocol mask " + shown(slice(protoMaskBegin, pos_)) + " is neither 0x00 nor 0xFF");

  // The optional flags column.
  skipBlanks();
  bool hasFlagsColumn = pos_ < end_;
  Form lineForm = hasFlagsColumn ? Form::Flags : Form::FiveTuple;
  if (form_ == Form::Unknown) form_ = lineForm;
  if (form_ == Form::FiveTuple && hasFlagsColumn)
    return failToken(pos_, "unexpected text '" + shown(slice(pos_, tokenEnd(pos_))) +
                               "' after the protocol (this file has no flags column)");
  if (form_ == Form::Flags && !hasFlagsColumn)
    return fail(pos_, pos_, "missing the flags column (0xVVVV/0xMMMM) at the end of the rule");

  FieldMatch flagMatches[2];
  size_t numFlagMatches = 0;
  if (hasFlagsColumn) {
    uint64_t flags, flagsMask;
    uint32_t flagsBegin, flagsValueEnd, flagsMaskBegin;
    if (!parseHexPair("flags", flags, flagsMask, flagsBegin, flagsValueEnd, flagsMaskBegin)) return false;
    if (flags > 0xffff)
      return fail(flagsBegin, flagsValueEnd, "flags " + shown(slice(flagsBegin, flagsValueEnd)) + " is beyond 0xFFFF");
    if (flagsMask > 0xffff)
      return fail(flagsMaskBegin, pos_, "flags mask " + shown(slice(flagsMaskBegin, pos_)) + " is beyond 0xFFFF");
    uint32_t flagsEnd = pos_;
    skipBlanks();
    if (pos_ < end_)
      return failToken(pos_, "unexpected text '" + shown(slice(pos_, tokenEnd(pos_))) + "' after the flags");
    if (flagsMask != 0) {
      bool exactProto = protoMask == 0xff;
      std::string flagsText = shown(slice(flagsBegin, flagsEnd));
      if (exactProto && proto == 6) {
        if (flagsMask & 0xff)
          return fail(flagsBegin, flagsEnd,
                      "flags " + flagsText + " use the low byte, but tcp flags are the high byte of the flags column");
        flagMatches[numFlagMatches++] = FieldMatch::masked(FieldId::TcpFlags, flags >> 8, flagsMask >> 8);
      } else if (exactProto && proto == 1) {
        if (flagsMask >> 8)
          flagMatches[numFlagMatches++] = FieldMatch::masked(FieldId::IcmpType, flags >> 8, flagsMask >> 8);
        if (flagsMask & 0xff)
          flagMatches[numFlagMatches++] = FieldMatch::masked(FieldId::IcmpCode, flags & 0xff, flagsMask & 0xff);
      } else {
        return fail(flagsBegin, flagsEnd, "flags " + flagsText + " apply to tcp (0x06) or icmp (0x01) rules only");
      }
    }
  }

  ir::Rule rule;
  rule.matches.reserve(6);
  if (hasSrc) rule.matches.push_back(src);
  if (hasDst) rule.matches.push_back(dst);
  if (protoMask == 0xff) rule.matches.push_back(FieldMatch::exact(FieldId::IpProto, proto));
  if (hasSport) rule.matches.push_back(sport);
  if (hasDport) rule.matches.push_back(dport);
  for (size_t i = 0; i < numFlagMatches; ++i)
    if (!flagMatches[i].isWildcard()) rule.matches.push_back(flagMatches[i]);
  uint32_t visibleEnd = end;
  while (visibleEnd > begin && t_[visibleEnd - 1] == '\r') --visibleEnd;
  rule.range = {loc(begin), loc(visibleEnd)};
  rule.action.kind = ir::Action::Allow;
  rule.action.range = rule.range;
  rule.importIndex = index;
  out.push_back(std::move(rule));
  return true;
}

bool ClassBenchReader::parsePrefix(FieldId f, const char *what, FieldMatch &m, bool &any) {
  uint32_t tokBegin = pos_, tokEnd = tokenEnd(pos_);
  if (tokBegin == tokEnd) return fail(tokBegin, tokBegin, std::string("expected the ") + what + " prefix after '@'");
  std::string_view tok = slice(tokBegin, tokEnd);
  size_t slash = tok.find('/');
  uint32_t addr;
  if (slash == std::string_view::npos) {
    if (ir::parseIpv4(tok, addr))
      return fail(tokBegin, tokEnd,
                  std::string("expected '/' and a prefix length after the ") + what + " address " + shown(tok));
    return fail(tokBegin, tokEnd, std::string("malformed ") + what + " prefix '" + shown(tok) + "'");
  }
  if (!ir::parseIpv4(tok.substr(0, slash), addr))
    return fail(tokBegin, tokBegin + uint32_t(slash),
                std::string("malformed IPv4 address '") + shown(tok.substr(0, slash)) + "'");
  uint32_t lenBegin = tokBegin + uint32_t(slash) + 1;
  std::string_view lenText = tok.substr(slash + 1);
  unsigned len = 0;
  auto r = std::from_chars(lenText.data(), lenText.data() + lenText.size(), len);
  bool allDigits = !lenText.empty() && isDigit(lenText[0]) && r.ptr == lenText.data() + lenText.size();
  if (!allDigits) return fail(lenBegin, tokEnd, "expected a prefix length after '/', found '" + shown(lenText) + "'");
  if (r.ec == std::errc::result_out_of_range || len > 32)
    return fail(lenBegin, tokEnd, "prefix length " + shown(lenText) + " is out of range 0..32");
  uint32_t hostMask = len == 32 ? 0 : (0xffffffffu >> len);
  if (addr & hostMask)
    return fail(tokBegin, tokEnd,
                "prefix " + shown(tok) + " has host bits set (the network is " + ir::ipv4Str(addr & ~hostMask) + "/" +
                    std::to_string(len) + ")");
  pos_ = tokEnd;
  any = len > 0;
  if (any) m = FieldMatch::prefix(f, addr, len);
  return true;
}

bool ClassBenchReader::parsePortRange(FieldId f, const char *what, FieldMatch &m, bool &any) {
  uint32_t rangeBegin = pos_;
  auto number = [&](uint64_t &v, bool &tooBig) -> bool {
    uint32_t b = pos_;
    while (pos_ < end_ && isDigit(t_[pos_])) ++pos_;
    if (pos_ == b) return false;
    auto r = std::from_chars(t_ + b, t_ + pos_, v);
    tooBig = r.ec == std::errc::result_out_of_range;
    return true;
  };
  uint64_t lo = 0, hi = 0;
  bool loBig = false, hiBig = false;
  if (!number(lo, loBig))
    return failToken(pos_, std::string("expected the ") + what + " port range 'LO : HI', found '" +
                               shown(slice(pos_, tokenEnd(pos_))) + "'");
  skipBlanks();
  if (pos_ >= end_ || t_[pos_] != ':')
    return failToken(pos_ < end_ ? pos_ : end_, std::string("expected ':' between the ") + what + " ports");
  ++pos_;
  skipBlanks();
  uint32_t hiBegin = pos_;
  if (!number(hi, hiBig))
    return failToken(hiBegin, std::string("expected the upper ") + what + " port after ':', found '" +
                                  shown(slice(hiBegin, tokenEnd(hiBegin))) + "'");
  if (pos_ < end_ && !isBlank(t_[pos_]))
    return failToken(pos_, std::string("unexpected '") + shown(slice(pos_, tokenEnd(pos_))) + "' after the " + what +
                               " port range");
  if (loBig || hiBig || lo > hi || hi > 65535) {
    // Echo the numbers as written (they may not fit 64 bits).
    uint32_t p = rangeBegin;
    while (p < end_ && isDigit(t_[p])) ++p;
    return fail(rangeBegin, pos_,
                "port range " + shown(slice(rangeBegin, p)) + " : " + shown(slice(hiBegin, pos_)) +
                    " is reversed or beyond 65535");
  }
  any = !(lo == 0 && hi == 65535);
  if (any) m = FieldMatch::range(f, lo, hi);
  return true;
}

bool ClassBenchReader::parseHexPair(const char *what, uint64_t &value, uint64_t &mask, uint32_t &tokBegin,
                                    uint32_t &valueEnd, uint32_t &maskBegin) {
  tokBegin = pos_;
  uint32_t tokEnd = tokenEnd(pos_);
  auto hex = [&](uint64_t &v) -> bool {
    if (pos_ + 2 > tokEnd || t_[pos_] != '0' || (t_[pos_ + 1] != 'x' && t_[pos_ + 1] != 'X')) return false;
    uint32_t b = pos_ + 2, p = b;
    while (p < tokEnd && isxdigit(static_cast<unsigned char>(t_[p]))) ++p;
    if (p == b) return false;
    auto r = std::from_chars(t_ + b, t_ + p, v, 16);
    if (r.ec == std::errc::result_out_of_range) v = ~0ull; // reported as "beyond" by the caller
    pos_ = p;
    return true;
  };
  const char *form = what[0] == 'p' ? "0xPP/0xMM" : "0xVVVV/0xMMMM";
  if (!hex(value))
    return fail(tokBegin, tokEnd,
                std::string("expected the ") + what + " as " + form + ", found '" + shown(slice(tokBegin, tokEnd)) +
                    "'");
  valueEnd = pos_;
  if (pos_ >= tokEnd || t_[pos_] != '/')
    return fail(tokBegin, tokEnd,
                std::string("expected the ") + what + " as " + form + ", found '" + shown(slice(tokBegin, tokEnd)) +
                    "'");
  ++pos_;
  maskBegin = pos_;
  if (!hex(mask) || pos_ != tokEnd)
    return fail(tokBegin, tokEnd,
                std::string("expected the ") + what + " as " + form + ", found '" + shown(slice(tokBegin, tokEnd)) +
                    "'");
  return true;
}

} // namespace

bool readClassBench(const SourceManager &sm, FileID file, DiagnosticEngine &diags, std::vector<ir::Rule> &out,
                    std::string &format) {
  ClassBenchReader reader(sm, file, diags);
  return reader.run(out, format);
}

} // namespace metron
