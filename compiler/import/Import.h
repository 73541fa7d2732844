//===- compiler/import/Import.h - Readers for imported data files -----------------*- C++ -*-===//
///
/// \file
/// Readers for the files a chain imports. Each reader gets a file already loaded into the
/// SourceManager (size-capped, regular file) and reports every malformed line as an
/// `import-malformed` error located in that file (file:line:col with a range over the bad
/// token), so the user sees the offending line of the data file itself. Readers never throw and
/// never crash on hostile input (binary data, NUL bytes, enormous lines); they stop at the
/// engine's error limit.
///
/// Formats (auto-detected per file, documented in man/metron-lang.7, IMPORTS):
///  - ClassBench, two forms:
///      "classbench-5tuple": `@SRC/len DST/len SPlo : SPhi DPlo : DPhi PROTO/MASK`
///                            (../shared/data/classbench/pclasseval_song)
///      "classbench-flags":  the same fields plus `FLAGS/FMASK` (16-bit hex), tab-separated
///                            (../shared/data/classbench/neurocuts)
///    Fields may be separated by any run of blanks. Rule i (the i-th non-blank, non-comment
///    line) gets importIndex = i. PROTO/MASK 0x00/0x00 is a wildcard;
///    /0xFF is exact. The 16-bit flags column is read the way the neurocuts data uses it: for
///    TCP rules the high byte holds the TCP flags (0x0200/0x1200 = tcp.flags 0x02/0x12, SYN
///    without ACK); for ICMP rules the high byte is icmp.type and the low byte icmp.code
///    (0x0303/0xffff = port unreachable). A non-zero flags mask on another protocol, or on the
///    low byte of a TCP rule, is an error. Wildcard fields produce no FieldMatch.
///  - Routes, two forms:
///      "prefix-nexthop-iface": `PREFIX NEXTHOP IFACE` (NEXTHOP `-` = no unicast next hop; IFACE
///                               in brackets such as [rjct] [dscd] = drop/reject/local)
///      "cisco":                header line `Prefix  Next Hop  Interface`, then
///                               `PREFIX NEXTHOP IFACE` with NEXTHOP an IPv4 address or one of
///                               attached / receive / drop (2-column lines allowed)
///  - Patterns, "hsbench": `ID:/REGEX/FLAGS` per line; or "suricata": Suricata rules (a file
///    whose first rule line starts with a Suricata action), the subset Suricata.cpp describes:
///    each rule's contents become patterns, the rules ir::PatternRule.
/// Blank lines and lines starting with '#' are skipped in every format.
///
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/NFIR.h"
#include "lang/Diagnostics.h"

#include <map>
#include <set>
#include <string>

namespace metron {

/// Parses ClassBench rules. Matches use FieldId::IpSrc, IpDst, TpSrc, TpDst, IpProto, and from
/// the flags column TcpFlags, IcmpType, IcmpCode.
/// Actions are left as Allow with range = the rule's line; the `rules` statement sets them.
/// Returns false if any error was reported. \p format receives the detected form.
bool readClassBench(const SourceManager &sm, FileID file, DiagnosticEngine &diags,
                    std::vector<ir::Rule> &out, std::string &format);

/// Parses a route table. Entries without a unicast next hop become Attached/Local/Drop routes;
/// the caller may warn about them. Duplicate prefixes: the first entry wins (real FIBs list
/// ECMP next hops on several lines); later duplicates are kept out of \p out silently.
bool readRoutes(const SourceManager &sm, FileID file, DiagnosticEngine &diags,
                std::vector<ir::Route> &out, std::string &format);

/// Whether \p text is a Suricata rule file: its first line that is neither blank nor a comment
/// starts with a Suricata action (alert, drop, pass, reject...) and a blank.
bool isSuricataRules(const std::string &text);

/// Values of Suricata rule variables by name ("HOME_NET" -> "[10.0.0.0/8]"), over the defaults.
using RuleVariables = std::map<std::string, std::string>;

/// Parses Suricata rules: their contents into \p out, the rules into \p rules
/// (compiler/import/Suricata.cpp); \p vars: variable values that replace Suricata's defaults
/// (the names a rule used go to \p usedVars).
bool readSuricataRules(const SourceManager &sm, FileID file, DiagnosticEngine &diags, std::vector<ir::Pattern> &out,
                       std::vector<ir::PatternRule> &rules, const RuleVariables *vars = nullptr,
                       std::set<std::string> *usedVars = nullptr);

/// Parses DPI patterns: hsbench lines, or Suricata rules (isSuricataRules), whose rules go to
/// \p rules (a Suricata file without \p rules is an error) with the variables \p vars (those a
/// rule used: \p usedVars).
bool readPatterns(const SourceManager &sm, FileID file, DiagnosticEngine &diags,
                  std::vector<ir::Pattern> &out, std::string &format, std::vector<ir::PatternRule> *rules = nullptr,
                  const RuleVariables *vars = nullptr, std::set<std::string> *usedVars = nullptr);

} // namespace metron
