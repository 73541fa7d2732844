//===- compiler/NFIR.h - The NF IR: network functions and chains after checking ----*- C++ -*-===//
///
/// \file
/// The NF IR is what `compiler/sema` produces from the AST and what every later stage consumes
/// (synthesis, split, the reference interpreter). It has no syntax left in it: names are
/// resolved, values are numbers, imported files are loaded into rules and routes.
///
/// General notes on the semantics (the contract; man/metron-lang.7 says the same for users):
///
///  * A packet is an Ethernet II frame with at most one 802.1Q tag, usually IPv4 with TCP, UDP
///    or ICMP. Its fields are listed in Fields.def. A field a packet does not have reads as 0
///    (tp.src of an ICMP packet, vlan.id of an untagged frame). Writing such a field leaves the
///    frame unchanged but later reads see the value (a chain computes on the field vector;
///    runtime/packet/Packet.h), except vlan.id/vlan.pcp, whose write pushes an 802.1Q tag.
///
///  * An NF is a sequence of elements, executed in order. Each element may drop the packet, may
///    select the NF output port it leaves by (the last selection wins; default "out"), and may
///    rewrite fields. After the last element the packet leaves through the selected port.
///
///  * A Classifier is an ordered rule list with first-match semantics: the first rule whose
///    every FieldMatch contains the packet's value decides. Imported rules keep their file order
///    (line 1 = highest priority) at the position of their `rules` statement. If no rule
///    matches, the default action applies (deny when none is written).
///
///  * Stateless elements (Classifier, Lookup, SetFields, DecTtl) are functions of the packet
///    alone: they are what synthesis composes and what NICs and switches may execute.
///    Stateful elements (Napt, Balance, Monitor, Conntrack, RateLimit, Dpi) keep per-flow or
///    global state and must run on a CPU core. A Blackbox is opaque: nothing is known of it but
///    its ports and the fields it declares it writes.
///
///  * A chain is a DAG from named ingress ports to named egress ports through NF instances.
///    Each (NF, output port) connects to exactly one successor; an NF may have several
///    predecessors (a merge). Every NF in a chain is reachable from an ingress and every output
///    port leads to an egress.
///
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "lang/Source.h"

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace metron::ir {

// ---- packet fields ----------------------------------------------------------------------------

enum class ValueKind { Int, IPv4, Mac, Port };

enum class FieldId : uint8_t {
#define FIELD(E, N, B, K, W, D) E,
#include "compiler/Fields.def"
#undef FIELD
  NumFields
};
constexpr size_t kNumFields = size_t(FieldId::NumFields);

struct FieldInfo {
  FieldId id;
  const char *name;
  unsigned bits;
  ValueKind kind;
  bool writable;
  const char *description;
  uint64_t maxValue() const { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }
};
const FieldInfo &fieldInfo(FieldId f);
/// Looks a field up by its language name ("ip.src"); nullopt when unknown.
std::optional<FieldId> fieldByName(const std::string &name);
const std::vector<FieldInfo> &allFields();

/// A small set of fields, for read/write summaries.
class FieldSet {
public:
  void add(FieldId f) { bits_ |= 1u << unsigned(f); }
  bool has(FieldId f) const { return bits_ & (1u << unsigned(f)); }
  void addAll(FieldSet o) { bits_ |= o.bits_; }
  bool empty() const { return bits_ == 0; }
  std::vector<FieldId> list() const;
  bool operator==(const FieldSet &o) const { return bits_ == o.bits_; }

private:
  uint32_t bits_ = 0;
};

// ---- matching ---------------------------------------------------------------------------------

/// The set of values one field may take for a rule to match.
///  - Range: lo <= v <= hi. Prefixes are ranges too; prefixLen >= 0 remembers the prefix form
///    for printing and for targets that match by mask.
///  - Mask: (v & mask) == value (non-contiguous masks, e.g. tcp.flags 0x02/0x12).
struct FieldMatch {
  enum Kind : uint8_t { Range, Mask };
  FieldId field = FieldId::InPort;
  Kind kind = Range;
  int8_t prefixLen = -1;
  uint64_t lo = 0, hi = 0;      ///< Range
  uint64_t value = 0, mask = 0; ///< Mask

  static FieldMatch range(FieldId f, uint64_t lo, uint64_t hi);
  static FieldMatch prefix(FieldId f, uint64_t addr, unsigned len); ///< addr already masked
  static FieldMatch exact(FieldId f, uint64_t v) { return range(f, v, v); }
  static FieldMatch masked(FieldId f, uint64_t value, uint64_t mask); ///< normalises to Range when it can

  bool isWildcard() const;
  bool contains(uint64_t v) const;
  /// True when every value this match accepts is accepted by \p o (this ⊆ o).
  bool subsetOf(const FieldMatch &o) const;
  bool overlaps(const FieldMatch &o) const;
  std::string str() const; ///< "10.0.0.0/8", "1024-65535", "0x02/0x12", "53"
};

// ---- actions and rules ------------------------------------------------------------------------

struct Assign {
  FieldId field;
  uint64_t value;
  SourceRange range;
};

struct Action {
  enum Kind : uint8_t { Allow, Deny, Branch, Set };
  Kind kind = Deny;
  std::string port;            ///< Branch: the NF output port
  std::vector<Assign> assigns; ///< Set: fields written, then the packet is allowed
  SourceRange range;
  std::string str() const;     ///< "allow", "deny", "branch voip", "set(ip.dscp=46)"
};

struct Rule {
  /// At most one FieldMatch per field, sorted by field; absent fields are wildcards.
  std::vector<FieldMatch> matches;
  Action action;
  SourceRange range;       ///< the `rule` statement, or the line in the imported file
  int32_t importIndex = -1; ///< imported rules: 1-based line/rule number in their set; else -1
  const FieldMatch *find(FieldId f) const;
  bool matchesAll() const { return matches.empty(); }
  std::string matchStr() const;
};

// ---- imported data ----------------------------------------------------------------------------

struct Route {
  enum Kind : uint8_t { Unicast, Attached, Local, Drop };
  uint32_t prefix = 0; ///< network address (host bits zero)
  uint8_t len = 0;
  Kind kind = Unicast;
  uint32_t nextHop = 0; ///< Unicast only
  std::string iface;
  uint32_t line = 0;
};

/// A Suricata rule (a pattern set imported in the "suricata" format, compiler/import/Suricata.cpp):
/// an IPv4 packet of `proto` whose addresses and ports are in the rule's sets (in its direction,
/// or either with `<>`), whose flow is in the state `flow` asks (runtime/state/Dpi.cpp tracks
/// it), and whose buffers hold the rule's contents: for each buffer the rule names (the payload,
/// or one of an HTTP request's, `http` rules only), some instance of it contains every positive
/// content and no negated one and has the size `bsize` asks, or, with `absent`, the buffer is
/// not there (State.h, Dpi, says it exactly).
struct PatternRule {
  /// IPv4 networks; empty: any.
  struct AddrSet {
    bool negated = false;
    std::vector<std::pair<uint32_t, uint32_t>> nets; ///< (address, mask)
    bool contains(uint32_t a) const {
      if (nets.empty()) return true;
      bool in = false;
      for (const auto &[net, mask] : nets) in = in || (a & mask) == net;
      return in != negated;
    }
  };
  /// Port ranges; empty: any.
  struct PortSet {
    bool negated = false;
    std::vector<std::pair<uint16_t, uint16_t>> ranges;
    bool contains(uint16_t p) const {
      if (ranges.empty()) return true;
      bool in = false;
      for (const auto &[lo, hi] : ranges) in = in || (p >= lo && p <= hi);
      return in != negated;
    }
  };
  enum FlowBits : uint8_t { Established = 1, NotEstablished = 2, ToServer = 4, ToClient = 8 };
  /// What a content is matched against: the packet's payload or a buffer of the HTTP request
  /// the payload starts (runtime/state/Http.h). Names: bufferName().
#define METRON_PATTERN_BUFFERS(X)                                                                  \
  X(Payload, "pkt_data") X(HttpUri, "http.uri") X(HttpUriRaw, "http.uri.raw") X(HttpMethod, "http.method")    \
  X(HttpProtocol, "http.protocol") X(HttpRequestLine, "http.request_line") X(HttpHeader, "http.header")       \
  X(HttpHeaderRaw, "http.header.raw") X(HttpRequestHeader, "http.request_header")                             \
  X(HttpHeaderNames, "http.header_names") X(HttpHost, "http.host") X(HttpHostRaw, "http.host.raw")             \
  X(HttpUserAgent, "http.user_agent") X(HttpReferer, "http.referer") X(HttpCookie, "http.cookie")             \
  X(HttpContentType, "http.content_type") X(HttpContentLen, "http.content_len") X(HttpAccept, "http.accept")  \
  X(HttpAcceptLang, "http.accept_lang") X(HttpAcceptEnc, "http.accept_enc") X(HttpConnection, "http.connection")
  enum Buffer : uint8_t {
#define X(E, N) E,
    METRON_PATTERN_BUFFERS(X)
#undef X
  };
  static constexpr unsigned kNumBuffers = 0
#define X(E, N) +1
      METRON_PATTERN_BUFFERS(X)
#undef X
      ;
  static const char *bufferName(Buffer b);
  /// The buffer named \p name (bufferName's spelling); false when there is none.
  static bool bufferOf(std::string_view name, Buffer &out);
  /// A buffer's condition besides its contents: `absent` (the buffer must not be there) or
  /// `absent: or_else` (not there, or its contents hold), and `bsize` (its size in
  /// [bsizeLo, bsizeHi]).
  struct BufferCheck {
    enum Absent : uint8_t { Present, Only, OrElse };
    Buffer buffer = Payload;
    Absent absent = Present;
    uint32_t bsizeLo = 0, bsizeHi = UINT32_MAX;
  };
  uint32_t sid = 0;
  bool http = false; ///< `alert http`: TCP packets whose payload starts an HTTP request only
  uint8_t proto = 0; ///< 0: any IPv4 packet (`ip`); else 1, 6 or 17
  AddrSet src, dst;
  PortSet sport, dport;
  bool bidirectional = false; ///< `<>`
  uint8_t flow = 0;           ///< FlowBits
  std::string msg;
  struct Content {
    uint32_t pattern = 0; ///< index in Import::patterns (also its Hyperscan id); its buffer: Pattern::buffer
    bool negated = false;
  };
  std::vector<Content> contents;
  std::vector<BufferCheck> checks; ///< at most one per buffer
  uint32_t line = 0;
};

struct Pattern {
  uint32_t id = 0;
  std::string regex;
  std::string flags; ///< hsbench flag letters: i s m H …
  uint32_t line = 0;
  /// What it is matched against (a PatternRule::Buffer; always the payload outside Suricata rules).
  uint8_t buffer = 0;
};

struct Import {
  enum Kind : uint8_t { ClassBench, Routes, Patterns };
  std::string name;
  Kind kind = ClassBench;
  std::string path;      ///< as resolved (relative to the importing file)
  std::string format;    ///< detected sub-format, e.g. "classbench-5tuple", "cisco"
  uint32_t every = 1;    ///< `every N`: only entries 1, N+1, 2N+1… of the file were kept
  FileID file = 0;
  SourceRange range;     ///< the import declaration
  SourceRange nameRange; ///< its name
  std::vector<Rule> rules;     ///< ClassBench (actions filled in by the `rules` statement)
  std::vector<Route> routes;   ///< Routes
  std::vector<Pattern> patterns; ///< Patterns (in the "suricata" format: the contents of the rules)
  std::vector<PatternRule> patternRules; ///< Patterns in the "suricata" format
  std::map<std::string, std::string> ruleVars; ///< Patterns: Suricata variables the import sets (HOME_NET ...)
  bool used = false;
};

// ---- elements ---------------------------------------------------------------------------------

#define METRON_FOR_EACH_ELEMENT(X)                                                                \
  X(Classifier, false)                                                                            \
  X(Lookup, false)                                                                                \
  X(SetFields, false)                                                                             \
  X(DecTtl, false)                                                                                \
  X(Napt, true)                                                                                   \
  X(Balance, true)                                                                                \
  X(Monitor, true)                                                                                \
  X(Conntrack, true)                                                                              \
  X(RateLimit, true)                                                                              \
  X(Dpi, true)                                                                                    \
  X(Blackbox, true)

enum class ElementKind : uint8_t {
#define X(E, S) E,
  METRON_FOR_EACH_ELEMENT(X)
#undef X
};
const char *elementKindName(ElementKind k);
bool elementKindIsStateful(ElementKind k);

struct Element {
  ElementKind kind;
  SourceRange range;
  explicit Element(ElementKind k, SourceRange r) : kind(k), range(r) {}
  virtual ~Element() = default;
  bool stateful() const { return elementKindIsStateful(kind); }
  /// Fields whose value influences what the element does (reads) and fields it may change.
  virtual FieldSet reads() const = 0;
  virtual FieldSet writes() const = 0;
};

/// Ordered rule list, first match wins.
struct Classifier : Element {
  static constexpr ElementKind Kind = ElementKind::Classifier;
  explicit Classifier(SourceRange r) : Element(Kind, r) {}
  std::vector<Rule> rules;
  Action defaultAction; ///< Deny unless written
  bool hasExplicitDefault = false;
  /// Where each `rules NAME` statement put its imported rules: [begin, end) in `rules`.
  struct ImportSpan { std::string import; size_t begin, end; SourceRange range; };
  std::vector<ImportSpan> importSpans;
  FieldSet reads() const override;
  FieldSet writes() const override;
};

/// Longest-prefix match of a field against a route table. A hit on a unicast route selects
/// the output port mapped from the route's interface (default "out") and writes eth.dst with
/// the next hop's MAC 02:00:a:b:c:d (a.b.c.d = next-hop IPv4; attached routes use the packet's
/// destination). Drop/local routes drop; a miss applies `miss` (deny by default).
struct Lookup : Element {
  static constexpr ElementKind Kind = ElementKind::Lookup;
  explicit Lookup(SourceRange r) : Element(Kind, r) {}
  FieldId field = FieldId::IpDst;
  std::string table;                         ///< import name
  const Import *routes = nullptr;
  std::map<std::string, std::string> portOf; ///< interface -> NF output port
  Action miss;                               ///< Deny unless written
  FieldSet reads() const override;
  FieldSet writes() const override;
};

struct SetFields : Element {
  static constexpr ElementKind Kind = ElementKind::SetFields;
  explicit SetFields(SourceRange r) : Element(Kind, r) {}
  std::vector<Assign> assigns;
  FieldSet reads() const override { return {}; }
  FieldSet writes() const override;
};

/// Decrements ip.ttl; a packet whose TTL is 0 or 1 on arrival is dropped.
struct DecTtl : Element {
  static constexpr ElementKind Kind = ElementKind::DecTtl;
  explicit DecTtl(SourceRange r) : Element(Kind, r) {}
  FieldSet reads() const override;
  FieldSet writes() const override;
};

/// Source (or destination) NAPT: per flow, rewrite the address field to `address` and the
/// matching transport port to a port from [portLo, portHi]; the return path is translated back
/// (so it writes both addresses and both ports).
struct Napt : Element {
  static constexpr ElementKind Kind = ElementKind::Napt;
  explicit Napt(SourceRange r) : Element(Kind, r) {}
  FieldId field = FieldId::IpSrc;
  uint32_t address = 0;
  uint16_t portLo = 1024, portHi = 65535;
  uint32_t timeoutSec = 60;
  FieldSet reads() const override;
  FieldSet writes() const override;
};

/// Per-flow load balancing: the first packet of a flow picks a backend (round robin over the
/// list, or a hash of the flow key); later packets of the flow keep it. Writes `field`.
struct Balance : Element {
  static constexpr ElementKind Kind = ElementKind::Balance;
  explicit Balance(SourceRange r) : Element(Kind, r) {}
  enum Policy : uint8_t { RoundRobin, Hash } policy = RoundRobin;
  FieldId field = FieldId::IpDst;
  std::vector<uint64_t> backends;
  FieldSet reads() const override;
  FieldSet writes() const override;
};

/// Per-flow packet and byte counters keyed on `key` (default the 5-tuple).
struct Monitor : Element {
  static constexpr ElementKind Kind = ElementKind::Monitor;
  explicit Monitor(SourceRange r) : Element(Kind, r) {}
  std::vector<FieldId> key;
  uint32_t timeoutSec = 30;
  FieldSet reads() const override;
  FieldSet writes() const override { return {}; }
};

/// Connection-tracking firewall: a TCP packet passes when it opens a connection (SYN without
/// ACK) or belongs to a tracked one; other TCP packets are dropped. Non-TCP passes, unless
/// `strict` is set, in which case UDP is tracked by flow and other protocols are dropped.
struct Conntrack : Element {
  static constexpr ElementKind Kind = ElementKind::Conntrack;
  explicit Conntrack(SourceRange r) : Element(Kind, r) {}
  uint32_t timeoutSec = 120;
  bool strict = false;
  FieldSet reads() const override;
  FieldSet writes() const override { return {}; }
};

/// Token bucket per key (global when the key is empty): rate in bits or packets per second.
struct RateLimit : Element {
  static constexpr ElementKind Kind = ElementKind::RateLimit;
  explicit RateLimit(SourceRange r) : Element(Kind, r) {}
  bool packets = false;  ///< pps instead of bps
  uint64_t rate = 0;     ///< per second
  uint64_t burst = 0;    ///< bytes (or packets)
  std::vector<FieldId> key;
  FieldSet reads() const override;
  FieldSet writes() const override { return {}; }
};

/// Payload pattern matching (Hyperscan at run time): a packet whose payload matches any
/// pattern gets `onMatch` (allow by default: the match is counted as an alert and the packet
/// goes on; deny drops it; branch sends it to another output; set marks it).
struct Dpi : Element {
  static constexpr ElementKind Kind = ElementKind::Dpi;
  explicit Dpi(SourceRange r) : Element(Kind, r) {}
  std::string patternSet;
  const Import *patterns = nullptr;
  Action onMatch; ///< kind Allow unless written
  /// None for hsbench patterns; the 5-tuple and tcp.flags when Suricata rules have conditions.
  FieldSet reads() const override;
  FieldSet writes() const override;
};

/// An opaque NF: a process, a VM or a hardware middlebox, with declared ports.
struct Blackbox : Element {
  static constexpr ElementKind Kind = ElementKind::Blackbox;
  explicit Blackbox(SourceRange r) : Element(Kind, r) {}
  enum Impl : uint8_t { Process, Vm, Device } impl = Process;
  std::string target; ///< command line, image path, or device name
  FieldSet declaredWrites;
  bool stripsTags = false;
  FieldSet reads() const override { return {}; }
  FieldSet writes() const override { return declaredWrites; }
};

template <typename T> T *dyn_cast(Element *e) { return e && e->kind == T::Kind ? static_cast<T *>(e) : nullptr; }
template <typename T> const T *dyn_cast(const Element *e) {
  return e && e->kind == T::Kind ? static_cast<const T *>(e) : nullptr;
}

// ---- NFs and chains ---------------------------------------------------------------------------

struct NF {
  std::string name;
  SourceRange range;     ///< the whole declaration
  SourceRange nameRange;
  bool declaredStateful = false;
  bool blackbox = false;
  std::vector<std::unique_ptr<Element>> elements;
  std::vector<std::string> inputs = {"in"};
  std::vector<std::string> outputs = {"out"}; ///< "out" first, then extra ports in order
  bool used = false;
  bool stateful() const;
  FieldSet reads() const;
  FieldSet writes() const;
  bool hasOutput(const std::string &p) const;
};

struct ChainNode {
  enum Kind : uint8_t { Ingress, Egress, Instance };
  Kind kind;
  std::string name; ///< port name (Ingress/Egress) or NF name (Instance)
  const NF *nf = nullptr;
  SourceRange range; ///< first mention
};

struct ChainEdge {
  uint32_t from;
  std::string fromPort; ///< NF output port ("out" when not written); empty for an ingress
  uint32_t to;
  SourceRange range;
  std::string toPort; ///< NF input port (the NF's first input when not written); empty for an egress
};

struct Chain {
  std::string name;
  SourceRange range, nameRange;
  std::vector<ChainNode> nodes;
  std::vector<ChainEdge> edges;
  /// Nodes in a topological order (ingresses first); filled by the chain check.
  std::vector<uint32_t> topoOrder;
  /// The names of the chain's ingress (or egress) ports, in the order they appear.
  std::vector<std::string> portNames(ChainNode::Kind kind) const {
    std::vector<std::string> v;
    for (const auto &n : nodes)
      if (n.kind == kind) v.push_back(n.name);
    return v;
  }
};

struct Module {
  /// Chain port names (ingress and egress), interned: in_port matches compare these indices.
  std::vector<std::string> portNames;
  uint32_t internPort(const std::string &name);
  std::vector<std::unique_ptr<Import>> imports;
  std::vector<std::unique_ptr<NF>> nfs;
  std::vector<Chain> chains;
  const NF *findNF(const std::string &name) const;
  NF *findNF(const std::string &name) {
    return const_cast<NF *>(static_cast<const Module *>(this)->findNF(name));
  }
  const Import *findImport(const std::string &name) const;
  NF *addNF(std::unique_ptr<NF> nf);
  Import *addImport(std::unique_ptr<Import> imp);

private:
  std::map<std::string, size_t> nfIndex_, importIndex_, portIndex_;
};

/// Prints the NF IR in a stable, line-oriented form (`metronc check --emit=nfir`).
std::string printModule(const Module &m, const SourceManager &sm);

// ---- address helpers --------------------------------------------------------------------------
std::string ipv4Str(uint32_t a);
std::string macStr(uint64_t m);
/// Parses dotted-quad IPv4; false on any malformation (octet > 255, wrong count, empty).
bool parseIpv4(std::string_view s, uint32_t &out);
bool parseMac(std::string_view s, uint64_t &out);

} // namespace metron::ir
