//===- runtime/dataplane/NicModel.cpp - The generated rte_flow rules, applied in software -----===//
///
/// \file
/// Implements NicModel (semantics in NicModel.h). Three parts:
///  - the reader: the JSON document into Rules (items with spec/last/mask as written, actions),
///    checked field by field against what rte_flow and targets/rteflow/RteFlow.cpp define;
///  - the classifier: each rule compiled to a 5-word key (value, mask) plus range checks; the
///    rules of a (port, group) partitioned into shapes (equal mask and ranged fields), each an
///    open-addressing hash table from the masked key to its best rank (rank = position by
///    (priority, file order)) and, for ranged shapes, the ranks to check in order. With 8
///    shapes or more, a group also has prefix-tracking tries on ip.src, ip.dst, tp.src and
///    tp.dst, and its shapes are indexed by their prefix lengths on those fields: cells by
///    (ip.src, ip.dst) length, sub-cells by (tp.src, tp.dst) length, 0 for a field the shape
///    does not track. A lookup walks the tries once, then visits only the sub-cells of the
///    lengths some rule has for the packet's values, each sub-cell's shapes by best rank,
///    stopping when a shape cannot beat the match found. (fw1_5K's 15,779 prefix rules form
///    349 shapes; a packet probes a few of them.)
///  - install(): the same rules as rte_flow_attr / rte_flow_item / rte_flow_action arrays.
///
/// The key (what a NIC parses from the frame; 0 where the frame lacks the header):
///   w0: eth.dst (48) | eth.type (16, the TPID when tagged)
///   w1: eth.src (48) | vlan.tci (16)
///   w2: ip.src (32) | ip.dst (32)
///   w3: l4.src (16) | l4.dst (16) | - (16) | ip.tos (8) | ip.ttl (8)
///   w4: ip.proto (8) | tcp.flags (8) | icmp.type (8) | icmp.code (8) | has_vlan (1) @32 |
///       header bits @40: eth, vlan, ipv4, tcp, udp, icmp | the EtherType after the tag @48
/// An item requires its header bit, so one masked compare checks both the prerequisites of a
/// rule and its field matches.
//===----------------------------------------------------------------------------------------===//
#include "runtime/dataplane/NicModel.h"

#include <nlohmann/json.hpp>
#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <unordered_map>

namespace metron::dp {

using ir::FieldId;
using Json = nlohmann::json;

namespace {

// ---- the key --------------------------------------------------------------------------------------

constexpr size_t kWords = 5;
using Key = std::array<uint64_t, kWords>;

/// The fields items match, each at a place in the key.
enum Mf : uint8_t {
  MfEthDst,
  MfEthSrc,
  MfEthType,
  MfHasVlan,
  MfTci,
  MfEthInner, ///< the EtherType after the frame's 802.1Q tag (the packet model's eth.type)
  MfIpSrc,
  MfIpDst,
  MfTos,
  MfTtl,
  MfProto,
  MfL4Src,
  MfL4Dst,
  MfTcpFlags,
  MfIcmpType,
  MfIcmpCode,
  kNumMf
};

struct MfPlace {
  uint8_t word, shift, bits;
};
constexpr MfPlace kPlace[kNumMf] = {
    {0, 0, 48},  // eth.dst
    {1, 0, 48},  // eth.src
    {0, 48, 16}, // eth.type
    {4, 32, 1},  // has_vlan
    {1, 48, 16}, // vlan.tci
    {4, 48, 16}, // eth.type after the tag (vlan inner_type; eth type without a vlan item)
    {2, 0, 32},  // ip.src
    {2, 32, 32}, // ip.dst
    {3, 48, 8},  // ip.tos
    {3, 56, 8},  // ip.ttl
    {4, 0, 8},   // ip.proto
    {3, 0, 16},  // tcp/udp src
    {3, 16, 16}, // tcp/udp dst
    {4, 8, 8},   // tcp.flags
    {4, 16, 8},  // icmp.type
    {4, 24, 8},  // icmp.code
};

constexpr uint64_t widthMask(unsigned bits) { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }
uint64_t mfGet(const Key &k, unsigned f) { return (k[kPlace[f].word] >> kPlace[f].shift) & widthMask(kPlace[f].bits); }
void mfPut(Key &k, unsigned f, uint64_t v) { k[kPlace[f].word] |= (v & widthMask(kPlace[f].bits)) << kPlace[f].shift; }

/// Header bits (word 4).
enum Hdr : uint8_t { HdrEth, HdrVlan, HdrIpv4, HdrTcp, HdrUdp, HdrIcmp, kNumHdr };
constexpr unsigned kHdrShift = 40;
constexpr uint64_t hdrBit(unsigned h) { return 1ull << (kHdrShift + h); }

inline uint16_t rd16(const uint8_t *p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t rd32(const uint8_t *p) { return uint32_t(rd16(p)) << 16 | rd16(p + 2); }
inline uint64_t rd48(const uint8_t *p) { return uint64_t(rd16(p)) << 32 | rd32(p + 2); }

/// The key of a packet, from its frame and the layout the packet model parsed.
void extractKey(const pkt::Packet &p, Key &k) {
  k = {};
  const uint8_t *b = p.data();
  if (p.size() < 14) return; // no Ethernet header: no item matches
  const pkt::Layout &L = p.layout();
  k[0] = rd48(b) | uint64_t(rd16(b + 12)) << 48;
  k[1] = rd48(b + 6);
  k[4] = hdrBit(HdrEth);
  if (L.vlan) {
    k[1] |= uint64_t(rd16(b + 14)) << 48;
    k[4] |= hdrBit(HdrVlan) | 1ull << 32;
  }
  k[4] |= uint64_t(rd16(b + (L.vlan ? 16 : 12))) << 48;
  if (L.ipv4) {
    const uint8_t *ip = b + L.l3;
    k[2] = rd32(ip + 12) | uint64_t(rd32(ip + 16)) << 32;
    k[3] |= uint64_t(ip[1]) << 48 | uint64_t(ip[8]) << 56;
    k[4] |= uint64_t(ip[9]) | hdrBit(HdrIpv4);
  }
  if (L.tcp || L.udp) {
    const uint8_t *t = b + L.l4;
    k[3] |= uint64_t(rd16(t)) | uint64_t(rd16(t + 2)) << 16;
    k[4] |= L.tcp ? (uint64_t(t[13]) << 8 | hdrBit(HdrTcp)) : hdrBit(HdrUdp);
  }
  if (L.icmp) {
    const uint8_t *t = b + L.l4;
    k[4] |= uint64_t(t[0]) << 16 | uint64_t(t[1]) << 24 | hdrBit(HdrIcmp);
  }
}

uint64_t hashKey(const Key &k) {
  uint64_t h = 0x243f6a8885a308d3ull;
  for (uint64_t w : k) {
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 31;
  }
  return h;
}

struct KeyHash {
  size_t operator()(const Key &k) const { return size_t(hashKey(k)); }
};

// ---- items and actions as written ----------------------------------------------------------------

enum ItemType : uint8_t { ItEth, ItVlan, ItIpv4, ItTcp, ItUdp, ItIcmp, kNumItems };

/// How a field's value is written in JSON.
enum class Fmt : uint8_t { Num, Mac, Ipv4 };

struct FieldDef {
  const char *name;
  Mf mf;
  Fmt fmt;
  uint64_t defaultMask; ///< rte_flow's default mask for the item (DPDK 22.11 rte_flow.h)
};

struct ItemDef {
  const char *name;
  uint8_t layer;  ///< eth 0, vlan 1, ipv4 2, tcp/udp/icmp 3: items come in increasing layer order
  Hdr hdr;        ///< the header the item needs
  std::vector<FieldDef> fields;
};

const ItemDef &itemDef(unsigned t) {
  static const ItemDef defs[kNumItems] = {
      {"eth", 0, HdrEth,
       {{"dst", MfEthDst, Fmt::Mac, 0xffffffffffffull},
        {"src", MfEthSrc, Fmt::Mac, 0xffffffffffffull},
        {"type", MfEthType, Fmt::Num, 0},
        {"has_vlan", MfHasVlan, Fmt::Num, 0}}},
      {"vlan", 1, HdrVlan, {{"tci", MfTci, Fmt::Num, 0x0fff}, {"inner_type", MfEthInner, Fmt::Num, 0}}},
      {"ipv4", 2, HdrIpv4,
       {{"src", MfIpSrc, Fmt::Ipv4, 0xffffffffull},
        {"dst", MfIpDst, Fmt::Ipv4, 0xffffffffull},
        {"tos", MfTos, Fmt::Num, 0},
        {"ttl", MfTtl, Fmt::Num, 0},
        {"proto", MfProto, Fmt::Num, 0}}},
      {"tcp", 3, HdrTcp,
       {{"src", MfL4Src, Fmt::Num, 0xffff}, {"dst", MfL4Dst, Fmt::Num, 0xffff}, {"flags", MfTcpFlags, Fmt::Num, 0}}},
      {"udp", 3, HdrUdp, {{"src", MfL4Src, Fmt::Num, 0xffff}, {"dst", MfL4Dst, Fmt::Num, 0xffff}}},
      {"icmp", 3, HdrIcmp, {{"type", MfIcmpType, Fmt::Num, 0xff}, {"code", MfIcmpCode, Fmt::Num, 0xff}}},
  };
  return defs[t];
}

/// One pattern item as the document gives it.
struct Item {
  ItemType type = ItEth;
  bool hasSpec = false, hasLast = false, hasMask = false;
  struct Field {
    uint8_t def = 0; ///< index into ItemDef::fields
    uint64_t spec = 0, last = 0, mask = 0;
    bool inSpec = false, inLast = false, inMask = false;
  };
  std::vector<Field> fields;
};

enum class Act : uint8_t {
  Drop,
  Queue,
  Jump,
  PortId,
  Mark,
  SetMacSrc,
  SetMacDst,
  SetIpv4Src,
  SetIpv4Dst,
  SetTtl,
  SetDscp,
  SetTpSrc,
  SetTpDst,
  DecTtl,
  PushVlan,
  SetVlanVid,
  SetVlanPcp,
  PopVlan
};

struct ActDef {
  const char *name;
  Act act;
  const char *param; ///< nullptr: none
  Fmt fmt;
  uint64_t max;
  bool fate;
};

const std::vector<ActDef> &actDefs() {
  static const std::vector<ActDef> defs = {
      {"drop", Act::Drop, nullptr, Fmt::Num, 0, true},
      {"queue", Act::Queue, "index", Fmt::Num, 0xffff, true},
      {"jump", Act::Jump, "group", Fmt::Num, 0xffffffffull, true},
      {"port_id", Act::PortId, "id", Fmt::Num, 0xffffffffull, true},
      {"mark", Act::Mark, "id", Fmt::Num, 0xffffffffull, false},
      {"set_mac_src", Act::SetMacSrc, "mac_addr", Fmt::Mac, 0xffffffffffffull, false},
      {"set_mac_dst", Act::SetMacDst, "mac_addr", Fmt::Mac, 0xffffffffffffull, false},
      {"set_ipv4_src", Act::SetIpv4Src, "ipv4_addr", Fmt::Ipv4, 0xffffffffull, false},
      {"set_ipv4_dst", Act::SetIpv4Dst, "ipv4_addr", Fmt::Ipv4, 0xffffffffull, false},
      {"set_ttl", Act::SetTtl, "ttl_value", Fmt::Num, 0xff, false},
      {"set_ipv4_dscp", Act::SetDscp, "dscp_value", Fmt::Num, 63, false},
      {"set_tp_src", Act::SetTpSrc, "port", Fmt::Num, 0xffff, false},
      {"set_tp_dst", Act::SetTpDst, "port", Fmt::Num, 0xffff, false},
      {"dec_ttl", Act::DecTtl, nullptr, Fmt::Num, 0, false},
      {"of_push_vlan", Act::PushVlan, "ethertype", Fmt::Num, 0xffff, false},
      {"of_set_vlan_vid", Act::SetVlanVid, "vlan_vid", Fmt::Num, 0xfff, false},
      {"of_set_vlan_pcp", Act::SetVlanPcp, "vlan_pcp", Fmt::Num, 7, false},
      {"of_pop_vlan", Act::PopVlan, nullptr, Fmt::Num, 0, false},
  };
  return defs;
}

struct Action {
  Act act = Act::Drop;
  uint64_t value = 0;
};

struct Range {
  uint8_t mf;
  uint64_t lo, hi, mask;
};

struct Rule {
  uint32_t index = 0;
  uint32_t group = 0, priority = 0;
  uint16_t port = 0;
  std::vector<Item> pattern;
  std::vector<Action> actions;
  int32_t classId = -1;
  // compiled match
  Key value{}, mask{};
  std::vector<Range> ranges; ///< sorted by field
  // compiled actions
  enum Fate : uint8_t { FateNone, FateDrop, FateQueue, FateJump, FatePort } fate = FateNone;
  uint32_t fateValue = 0;
  bool writes = false; ///< some action changes the packet
};

// ---- prefix tracking --------------------------------------------------------------------------------

/// The prefix lengths some rule uses on one field, as a 4-bit-stride trie: lookup(v) has bit
/// L-1 set when a prefix of length L of some rule equals v's first L bits.
class PrefixTrie {
public:
  explicit PrefixTrie(unsigned bits = 32) : bits_(bits) { nodes_.assign(16, 0); }
  void insert(uint64_t v, unsigned len) {
    uint32_t node = 0;
    for (unsigned k = 0; 4 * k < bits_; ++k) {
      const uint32_t nib = uint32_t(v >> (bits_ - 4 * (k + 1))) & 15;
      if (len <= 4 * (k + 1)) {
        const unsigned r = len - 4 * k; // 1..4 bits of this nibble are fixed
        const uint32_t free = (1u << (4 - r)) - 1, base = nib & ~free;
        for (uint32_t e = base; e <= (base | free); ++e) nodes_[node * 16 + e] |= 1u << (r - 1);
        return;
      }
      if ((nodes_[node * 16 + nib] >> 4) == 0) {
        const uint32_t child = uint32_t(nodes_.size() / 16);
        nodes_.resize(nodes_.size() + 16, 0);
        nodes_[node * 16 + nib] |= child << 4;
      }
      node = nodes_[node * 16 + nib] >> 4;
    }
  }
  uint64_t lookup(uint64_t v) const {
    uint64_t out = 0;
    uint32_t node = 0;
    for (unsigned k = 0; 4 * k < bits_; ++k) {
      const uint32_t e = nodes_[node * 16 + (uint32_t(v >> (bits_ - 4 * (k + 1))) & 15)];
      out |= uint64_t(e & 15) << (4 * k);
      node = e >> 4;
      if (!node) break;
    }
    return out;
  }

private:
  unsigned bits_;
  std::vector<uint32_t> nodes_; ///< 16 entries per node: child << 4 | the lengths ending here
};

/// The tracked fields: ip.src and ip.dst share prefix-bit word A, tp.src and tp.dst word B.
constexpr Mf kTracked[4] = {MfIpSrc, MfIpDst, MfL4Src, MfL4Dst};

/// The prefix length of \p mask within \p bits bits, or -1 when it is not a prefix mask.
int prefixLen(uint64_t mask, unsigned bits) {
  if (mask == 0) return 0;
  const uint64_t full = widthMask(bits);
  const uint64_t inv = ~mask & full; // must be 0...01...1
  if (inv & (inv + 1)) return -1;
  return int(bits) - __builtin_popcountll(inv);
}

// ---- one group of one port ---------------------------------------------------------------------------

/// A shape: the rules with one mask and one set of ranged fields, in an open-addressing hash
/// table from the masked key to the best rank with that key (and, when the shape has ranged
/// fields, every rank with that key, to check in order).
struct Shape {
  Key mask{};
  std::vector<std::pair<uint8_t, uint64_t>> rangeFields; ///< (field, mask): the shape's identity
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    Key key{};
    uint32_t rank = kEmpty; ///< the best rank with this key; kEmpty: a free slot
    uint32_t list = 0;      ///< ranged shapes: index into lists (the ranks to check, ascending)
  };
  std::vector<Slot> slots;
  uint32_t slotMask = 0;
  std::vector<std::pair<uint32_t, uint32_t>> lists; ///< (first, count) into cand
  std::vector<uint32_t> cand;
  uint8_t words[kWords] = {}; ///< the key words the mask has bits in (the others are 0 in every key)
  uint8_t nwords = 0;
  bool ranged() const { return !rangeFields.empty(); }

  void setMask(const Key &m) {
    mask = m;
    nwords = 0;
    for (uint8_t w = 0; w < kWords; ++w)
      if (m[w]) words[nwords++] = w;
  }
  /// hashKey over the mask's words only.
  uint64_t hash(const Key &mk) const {
    uint64_t h = 0x243f6a8885a308d3ull;
    for (unsigned i = 0; i < nwords; ++i) {
      h = (h ^ mk[words[i]]) * 0x9e3779b97f4a7c15ull;
      h ^= h >> 31;
    }
    return h;
  }
  /// The slot of the packet key \p k (masked here), nullptr when no rule has its masked value.
  const Slot *find(const Key &k) const {
    Key mk;
    for (unsigned i = 0; i < nwords; ++i) mk[words[i]] = k[words[i]] & mask[words[i]];
    for (uint32_t i = uint32_t(hash(mk)) & slotMask;; i = (i + 1) & slotMask) {
      const Slot &s = slots[i];
      if (s.rank == kEmpty) return nullptr;
      uint64_t diff = 0;
      for (unsigned j = 0; j < nwords; ++j) diff |= s.key[words[j]] ^ mk[words[j]];
      if (!diff) return &s;
    }
  }
};

struct ShapeHead {
  uint32_t bestRank;
  uint32_t shape;
  uint64_t needA, needB; ///< prefix bits the packet must have (see kTracked)
};

/// The shape index: a cell per (prefix length on ip.src, on ip.dst) and, inside it, a sub-cell
/// per (prefix length on tp.src, on tp.dst); length 0 means "not tracked" (no mask, not a
/// prefix mask, or a ranged field).
constexpr unsigned kLens = 33, kPortLens = 17, kSub = kPortLens * kPortLens;

struct Group {
  uint32_t id = 0;
  std::vector<uint32_t> ruleOfRank; ///< rank → rule index
  std::vector<uint32_t> rangeStart; ///< rank → its range checks in ranges (rank + 1: the end)
  std::vector<Range> ranges;
  std::vector<Shape> shapes;
  /// By bestRank; with tracking, by cell and sub-cell first (sub indexes them).
  std::vector<ShapeHead> heads;
  bool track = false;     ///< prefix tracking: the cells, the tries
  bool trackPorts = false;
  std::vector<int32_t> cellSub;    ///< kLens * kLens: the cell's block in sub, -1 when empty
  std::vector<uint32_t> sub;       ///< per non-empty cell, kSub + 1 offsets into heads
  PrefixTrie tries[4] = {PrefixTrie(32), PrefixTrie(32), PrefixTrie(16), PrefixTrie(16)};
};

struct PortTables {
  uint16_t port = 0;
  std::vector<Group> groups; ///< by id
  const Group *find(uint32_t id) const {
    auto it = std::lower_bound(groups.begin(), groups.end(), id, [](const Group &g, uint32_t x) { return g.id < x; });
    return it != groups.end() && it->id == id ? &*it : nullptr;
  }
};

/// Shapes at which prefix tracking starts to pay for its trie walks.
constexpr size_t kTrackShapes = 8;

} // namespace

struct NicModel::Impl {
  std::string name;
  std::vector<Rule> rules;
  std::vector<PortTables> ports; ///< by port
  size_t shapeCount = 0;

  const PortTables *findPort(uint16_t port) const {
    for (const auto &p : ports)
      if (p.port == port) return &p;
    return nullptr;
  }
  /// The rank of the best rule of \p g matching \p k; UINT32_MAX when none.
  uint32_t lookup(const Group &g, const Key &k) const;
  bool parse(const Json &doc, std::string &err);
  bool parseRule(const Json &j, uint32_t index, uint16_t defaultPort, bool hasDefaultPort, uint64_t groups,
                 Rule &r, std::string &err) const;
  void compile(Rule &r) const;
  void build();
};

namespace {

// ---- reading values ------------------------------------------------------------------------------------

bool parseIpv4Text(const std::string &s, uint64_t &out) {
  uint64_t v = 0;
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part && (i >= s.size() || s[i++] != '.')) return false;
    size_t start = i;
    uint64_t x = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) x = x * 10 + uint64_t(s[i++] - '0');
    if (i == start || x > 255) return false;
    v = v << 8 | x;
  }
  if (i != s.size()) return false;
  out = v;
  return true;
}

bool parseMacText(const std::string &s, uint64_t &out) {
  if (s.size() != 17) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < 17; ++i) {
    char c = s[i];
    if (i % 3 == 2) {
      if (c != ':') return false;
      continue;
    }
    const int d = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
    if (d < 0) return false;
    v = v << 4 | uint64_t(d);
  }
  out = v;
  return true;
}

/// A value of format \p fmt no larger than \p max; "" or what is wrong.
std::string readValue(const Json &j, Fmt fmt, uint64_t max, uint64_t &out) {
  if (j.is_number_unsigned()) {
    out = j.get<uint64_t>();
  } else if (j.is_string() && fmt == Fmt::Ipv4) {
    if (!parseIpv4Text(j.get<std::string>(), out)) return "'" + j.get<std::string>() + "' is not an IPv4 address";
  } else if (j.is_string() && fmt == Fmt::Mac) {
    if (!parseMacText(j.get<std::string>(), out)) return "'" + j.get<std::string>() + "' is not a MAC address";
  } else {
    const char *want = fmt == Fmt::Ipv4 ? "an IPv4 address (\"a.b.c.d\") or a non-negative integer"
                       : fmt == Fmt::Mac ? "a MAC address (\"aa:bb:cc:dd:ee:ff\") or a non-negative integer"
                                         : "a non-negative integer";
    return "expected " + std::string(want) + ", got " + j.dump();
  }
  if (out > max) return std::to_string(out) + " does not fit (at most " + std::to_string(max) + ")";
  return "";
}

std::string knownList(const std::vector<std::string> &v) {
  std::string s;
  for (const auto &x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

} // namespace

// ---- the reader ------------------------------------------------------------------------------------------

bool NicModel::Impl::parseRule(const Json &j, uint32_t index, uint16_t defaultPort, bool hasDefaultPort,
                               uint64_t groups, Rule &r, std::string &err) const {
  const std::string at = name + ": rule " + std::to_string(index) + ": ";
  auto fail = [&](const std::string &what) {
    err = at + what;
    return false;
  };
  if (!j.is_object()) return fail("expected an object, got " + std::string(j.type_name()));
  r.index = index;
  static const std::vector<std::string> kKeys = {"group", "priority", "ingress", "egress", "transfer", "port",
                                                 "pattern", "actions", "role", "class", "class_group",
                                                 "rule_priority", "note"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::find(kKeys.begin(), kKeys.end(), it.key()) == kKeys.end())
      return fail("unknown key '" + it.key() + "' (known: " + knownList(kKeys) + ")");
  auto num = [&](const char *key, uint64_t max, uint64_t &out, bool required) {
    if (!j.contains(key)) {
      if (required) return fail(std::string("no \"") + key + "\"");
      return true;
    }
    if (std::string w = readValue(j[key], Fmt::Num, max, out); !w.empty())
      return fail(std::string("\"") + key + "\": " + w);
    return true;
  };
  uint64_t v = 0;
  if (!num("group", 0xffffffffull, v, true)) return false;
  r.group = uint32_t(v);
  if (groups && r.group >= groups)
    return fail("group " + std::to_string(r.group) + ", but the document has " + std::to_string(groups) + " groups");
  if (!num("priority", 0xffffffffull, v, true)) return false;
  r.priority = uint32_t(v);
  if (!j.contains("ingress") || !j["ingress"].is_boolean() || !j["ingress"].get<bool>())
    return fail("\"ingress\" must be true (the NIC model applies ingress rules)");
  for (const char *k : {"egress", "transfer"})
    if (j.contains(k) && (!j[k].is_boolean() || j[k].get<bool>()))
      return fail(std::string("\"") + k + "\" rules are not supported (ingress only)");
  if (j.contains("port")) {
    if (!num("port", 0xffff, v, true)) return false;
    r.port = uint16_t(v);
  } else if (hasDefaultPort) {
    r.port = defaultPort;
  } else {
    return fail("no \"port\" here nor in the document");
  }
  if (j.contains("class") && !j["class"].is_null()) {
    if (!num("class", 0x7fffffff, v, true)) return false;
    r.classId = int32_t(v);
  }
  if (j.contains("class_group") && !j["class_group"].is_null() && !j["class_group"].is_number_unsigned())
    return fail("\"class_group\": expected a non-negative integer or null");
  if (j.contains("rule_priority") && !j["rule_priority"].is_number_unsigned())
    return fail("\"rule_priority\": expected a non-negative integer");
  for (const char *k : {"role", "note"})
    if (j.contains(k) && !j[k].is_string()) return fail(std::string("\"") + k + "\": expected a string");

  // ---- pattern
  if (!j.contains("pattern") || !j["pattern"].is_array()) return fail("no \"pattern\" array");
  int lastLayer = -1;
  const Json &pat = j["pattern"];
  for (size_t i = 0; i < pat.size(); ++i) {
    const Json &ji = pat[i];
    std::string iat = "pattern item " + std::to_string(i);
    if (!ji.is_object() || !ji.contains("type") || !ji["type"].is_string())
      return fail(iat + ": expected an object with a \"type\"");
    const std::string type = ji["type"].get<std::string>();
    int t = -1;
    std::vector<std::string> names;
    for (unsigned k = 0; k < kNumItems; ++k) {
      names.push_back(itemDef(k).name);
      if (type == itemDef(k).name) t = int(k);
    }
    if (t < 0) return fail(iat + ": unsupported item type '" + type + "' (supported: " + knownList(names) + ")");
    const ItemDef &def = itemDef(unsigned(t));
    iat += " (" + type + ")";
    if (int(def.layer) <= lastLayer)
      return fail(iat + ": out of order (items go eth, vlan, ipv4, then one of tcp/udp/icmp, each at most once)");
    lastLayer = def.layer;
    Item it;
    it.type = ItemType(t);
    for (auto kv = ji.begin(); kv != ji.end(); ++kv)
      if (kv.key() != "type" && kv.key() != "spec" && kv.key() != "last" && kv.key() != "mask")
        return fail(iat + ": unknown key '" + kv.key() + "' (known: type, spec, last, mask)");
    it.hasSpec = ji.contains("spec");
    it.hasLast = ji.contains("last");
    it.hasMask = ji.contains("mask");
    if ((it.hasLast || it.hasMask) && !it.hasSpec) return fail(iat + ": \"last\" or \"mask\" without \"spec\"");
    std::vector<std::string> fnames;
    for (const auto &fd : def.fields) fnames.push_back(fd.name);
    for (const char *part : {"spec", "last", "mask"}) {
      if (!ji.contains(part)) continue;
      const Json &o = ji[part];
      if (!o.is_object()) return fail(iat + ": \"" + part + "\" must be an object");
      for (auto kv = o.begin(); kv != o.end(); ++kv) {
        int fi = -1;
        for (size_t k = 0; k < def.fields.size(); ++k)
          if (kv.key() == def.fields[k].name) fi = int(k);
        if (fi < 0)
          return fail(iat + ": unsupported field '" + kv.key() + "' in \"" + part + "\" (" + type +
                      " fields: " + knownList(fnames) + ")");
        const FieldDef &fd = def.fields[size_t(fi)];
        uint64_t val = 0;
        if (std::string w = readValue(kv.value(), fd.fmt, widthMask(kPlace[fd.mf].bits), val); !w.empty())
          return fail(iat + ": " + part + " " + kv.key() + ": " + w);
        Item::Field *f = nullptr;
        for (auto &x : it.fields)
          if (x.def == fi) f = &x;
        if (!f) {
          it.fields.push_back({});
          f = &it.fields.back();
          f->def = uint8_t(fi);
        }
        if (part[0] == 's') f->spec = val, f->inSpec = true;
        else if (part[0] == 'l') f->last = val, f->inLast = true;
        else f->mask = val, f->inMask = true;
      }
    }
    for (const auto &f : it.fields) {
      const FieldDef &fd = def.fields[f.def];
      if (f.inLast && !f.inSpec)
        return fail(iat + ": field '" + fd.name + "' has a \"last\" but no \"spec\"");
      const uint64_t m = it.hasMask ? (f.inMask ? f.mask : 0) : fd.defaultMask;
      if (f.inLast && (f.last & m) < (f.spec & m))
        return fail(iat + ": field '" + fd.name + "': last " + std::to_string(f.last) + " is below spec " +
                    std::to_string(f.spec) + " (an empty range)");
    }
    std::sort(it.fields.begin(), it.fields.end(),
              [](const Item::Field &a, const Item::Field &b) { return a.def < b.def; });
    r.pattern.push_back(std::move(it));
  }

  // ---- actions
  if (!j.contains("actions") || !j["actions"].is_array()) return fail("no \"actions\" array");
  const Json &acts = j["actions"];
  if (acts.empty()) return fail("no actions");
  int fates = 0, marks = 0;
  for (size_t i = 0; i < acts.size(); ++i) {
    const Json &ja = acts[i];
    std::string aat = "action " + std::to_string(i);
    if (!ja.is_object() || !ja.contains("type") || !ja["type"].is_string())
      return fail(aat + ": expected an object with a \"type\"");
    const std::string type = ja["type"].get<std::string>();
    const ActDef *d = nullptr;
    std::vector<std::string> names;
    for (const auto &x : actDefs()) {
      names.push_back(x.name);
      if (type == x.name) d = &x;
    }
    if (!d) return fail(aat + ": unsupported action '" + type + "' (supported: " + knownList(names) + ")");
    aat += " (" + type + ")";
    for (auto kv = ja.begin(); kv != ja.end(); ++kv)
      if (kv.key() != "type" && (!d->param || kv.key() != d->param))
        return fail(aat + ": unknown parameter '" + kv.key() + "'" +
                    (d->param ? std::string(" (it takes '") + d->param + "')" : std::string(" (it takes none)")));
    Action a;
    a.act = d->act;
    if (d->param) {
      if (!ja.contains(d->param)) return fail(aat + ": no '" + d->param + "'");
      if (std::string w = readValue(ja[d->param], d->fmt, d->max, a.value); !w.empty())
        return fail(aat + ": " + d->param + ": " + w);
    }
    if (d->fate && ++fates > 1) return fail(aat + ": a second fate action (drop, queue, jump, port_id): at most one");
    if (d->act == Act::Mark && ++marks > 1) return fail(aat + ": a second mark");
    if (d->act == Act::Jump) {
      if (a.value == r.group) return fail(aat + ": jumps to its own group " + std::to_string(r.group));
      if (groups && a.value >= groups)
        return fail(aat + ": jumps to group " + std::to_string(a.value) + ", but the document has " +
                    std::to_string(groups) + " groups");
    }
    r.actions.push_back(a);
  }
  return true;
}

void NicModel::Impl::compile(Rule &r) const {
  r.value = {};
  r.mask = {};
  r.ranges.clear();
  bool vlanItem = false;
  for (const auto &it : r.pattern) vlanItem = vlanItem || it.type == ItVlan;
  for (const auto &it : r.pattern) {
    const ItemDef &def = itemDef(it.type);
    r.value[4] |= hdrBit(def.hdr);
    r.mask[4] |= hdrBit(def.hdr);
    if (!it.hasSpec) continue;
    // Every field of the item: with no "mask" object the default mask applies to the default
    // fields even when the spec leaves them out (they are then 0 in rte_flow's spec struct).
    for (size_t fi = 0; fi < def.fields.size(); ++fi) {
      const FieldDef &fd = def.fields[fi];
      const Item::Field *f = nullptr;
      for (const auto &x : it.fields)
        if (x.def == fi) f = &x;
      const uint64_t m = it.hasMask ? (f && f->inMask ? f->mask : 0) : fd.defaultMask;
      if (m == 0) continue;
      const uint64_t spec = f && f->inSpec ? f->spec & m : 0;
      const uint64_t last = f && f->inLast ? f->last & m : 0;
      const bool range = f && f->inLast && last > spec;
      Mf mf = fd.mf;
      if (mf == MfEthType && !vlanItem) {
        // eth type with no vlan item: the EtherType, after the frame's 802.1Q tag when it has
        // one (as mlx5 matches it, and as the packet model reads eth.type), except that a TPID
        // matches "only tagged packets with the specified TPID" (rte_flow.rst, Item: ETH).
        if (!range && m == 0xffff && spec == 0x8100) {
          r.value[4] |= hdrBit(HdrVlan);
          r.mask[4] |= hdrBit(HdrVlan);
          continue;
        }
        mf = MfEthInner;
      }
      if (range) {
        r.ranges.push_back({uint8_t(mf), spec, last, m});
      } else {
        mfPut(r.value, mf, spec);
        mfPut(r.mask, mf, m);
      }
    }
  }
  std::sort(r.ranges.begin(), r.ranges.end(), [](const Range &a, const Range &b) { return a.mf < b.mf; });
  for (const auto &a : r.actions) {
    switch (a.act) {
    case Act::Drop: r.fate = Rule::FateDrop; break;
    case Act::Queue: r.fate = Rule::FateQueue, r.fateValue = uint32_t(a.value); break;
    case Act::Jump: r.fate = Rule::FateJump, r.fateValue = uint32_t(a.value); break;
    case Act::PortId: r.fate = Rule::FatePort, r.fateValue = uint32_t(a.value); break;
    case Act::Mark: break;
    default: r.writes = true; break;
    }
  }
}

/// Builds the per-port, per-group tuple-space tables from the compiled rules.
void NicModel::Impl::build() {
  std::map<std::pair<uint16_t, uint32_t>, std::vector<uint32_t>> byGroup;
  for (const auto &r : rules) byGroup[{r.port, r.group}].push_back(r.index);
  shapeCount = 0;
  for (auto &[pg, idx] : byGroup) {
    auto [port, gid] = pg;
    if (ports.empty() || ports.back().port != port) {
      ports.push_back({});
      ports.back().port = port;
    }
    Group &g = ports.back().groups.emplace_back();
    g.id = gid;
    // Rank order: priority, then file order (the tie-break: stable_sort keeps the file order).
    std::stable_sort(idx.begin(), idx.end(),
                     [&](uint32_t a, uint32_t b) { return rules[a].priority < rules[b].priority; });
    g.ruleOfRank = idx;
    g.rangeStart.assign(idx.size() + 1, 0);
    for (uint32_t rank = 0; rank < idx.size(); ++rank) {
      g.rangeStart[rank] = uint32_t(g.ranges.size());
      g.ranges.insert(g.ranges.end(), rules[idx[rank]].ranges.begin(), rules[idx[rank]].ranges.end());
    }
    g.rangeStart[idx.size()] = uint32_t(g.ranges.size());
    // Shapes, in rank order of their first rule.
    std::vector<std::vector<Key>> keys; // per shape, its distinct keys
    std::map<std::pair<Key, std::vector<std::pair<uint8_t, uint64_t>>>, uint32_t> shapeOf;
    std::vector<std::unordered_map<Key, uint32_t, KeyHash>> bucketOf;
    std::vector<std::vector<std::vector<uint32_t>>> cands; // per shape, per bucket
    for (uint32_t rank = 0; rank < idx.size(); ++rank) {
      const Rule &r = rules[idx[rank]];
      std::vector<std::pair<uint8_t, uint64_t>> rf;
      for (const auto &x : r.ranges) rf.push_back({x.mf, x.mask});
      auto [it, fresh] = shapeOf.try_emplace({r.mask, rf}, uint32_t(g.shapes.size()));
      if (fresh) {
        Shape s;
        s.setMask(r.mask);
        s.rangeFields = rf;
        g.shapes.push_back(std::move(s));
        bucketOf.emplace_back();
        keys.emplace_back();
        cands.emplace_back();
        ShapeHead h{rank, it->second, 0, 0};
        for (unsigned t = 0; t < 4; ++t) {
          bool ranged = false;
          for (const auto &x : rf) ranged = ranged || x.first == kTracked[t];
          const unsigned bits = kPlace[kTracked[t]].bits;
          const int len = ranged ? -1 : prefixLen(mfGet(r.mask, kTracked[t]), bits);
          if (len > 0) (t < 2 ? h.needA : h.needB) |= 1ull << ((t & 1) * bits + unsigned(len) - 1);
        }
        g.heads.push_back(h);
      }
      const uint32_t si = it->second;
      Shape &s = g.shapes[si];
      auto [bt, bfresh] = bucketOf[si].try_emplace(r.value, uint32_t(keys[si].size()));
      if (bfresh) {
        keys[si].push_back(r.value);
        cands[si].emplace_back();
      }
      auto &c = cands[si][bt->second];
      // Without ranges, an identical key with a better rank already wins every packet.
      if (c.empty() || s.ranged()) c.push_back(rank);
      // Prefix tracking: this rule's values on the tracked fields.
      const ShapeHead &h = g.heads[si]; // (heads are in shape order until sorted below)
      for (unsigned t = 0; t < 4; ++t) {
        const unsigned bits = kPlace[kTracked[t]].bits;
        const uint64_t need = (t < 2 ? h.needA : h.needB) >> ((t & 1) * bits) & widthMask(bits);
        if (need) g.tries[t].insert(mfGet(r.value, kTracked[t]), unsigned(__builtin_ctzll(need)) + 1);
      }
    }
    for (size_t si = 0; si < g.shapes.size(); ++si) {
      Shape &s = g.shapes[si];
      size_t cap = 4;
      while (cap < 2 * keys[si].size()) cap *= 2;
      s.slots.assign(cap, {});
      s.slotMask = uint32_t(cap - 1);
      for (size_t b = 0; b < keys[si].size(); ++b) {
        uint32_t i = uint32_t(s.hash(keys[si][b])) & s.slotMask;
        while (s.slots[i].rank != Shape::kEmpty) i = (i + 1) & s.slotMask;
        Shape::Slot &slot = s.slots[i];
        slot.key = keys[si][b];
        slot.rank = cands[si][b].front();
        if (s.ranged()) {
          slot.list = uint32_t(s.lists.size());
          s.lists.push_back({uint32_t(s.cand.size()), uint32_t(cands[si][b].size())});
          s.cand.insert(s.cand.end(), cands[si][b].begin(), cands[si][b].end());
        }
      }
    }
    std::sort(g.heads.begin(), g.heads.end(),
              [](const ShapeHead &a, const ShapeHead &b) { return a.bestRank < b.bestRank; });
    g.track = g.shapes.size() >= kTrackShapes;
    if (!g.track) {
      for (auto &h : g.heads) h.needA = h.needB = 0;
    } else {
      // Index the shapes by their prefix lengths: a lookup visits only the (sub-)cells of the
      // lengths some rule of the group has for the packet's values.
      auto len = [](uint64_t bits) { return bits ? unsigned(__builtin_ctzll(bits)) + 1 : 0u; };
      auto cell = [&](const ShapeHead &h) { return len(h.needA & 0xffffffffu) * kLens + len(h.needA >> 32); };
      auto subCell = [&](const ShapeHead &h) { return len(h.needB & 0xffff) * kPortLens + len(h.needB >> 16); };
      std::stable_sort(g.heads.begin(), g.heads.end(), [&](const ShapeHead &a, const ShapeHead &b) {
        return cell(a) != cell(b) ? cell(a) < cell(b) : subCell(a) < subCell(b);
      });
      g.cellSub.assign(kLens * kLens, -1);
      for (size_t i = 0; i < g.heads.size();) {
        const unsigned c = cell(g.heads[i]);
        size_t j = i;
        while (j < g.heads.size() && cell(g.heads[j]) == c) ++j;
        const size_t base = g.sub.size();
        g.cellSub[c] = int32_t(base / (kSub + 1));
        g.sub.resize(base + kSub + 1, 0);
        for (size_t k = i; k < j; ++k) ++g.sub[base + subCell(g.heads[k]) + 1];
        g.sub[base] = uint32_t(i);
        for (size_t k = 1; k <= kSub; ++k) g.sub[base + k] += g.sub[base + k - 1];
        i = j;
      }
      for (const auto &h : g.heads) g.trackPorts = g.trackPorts || h.needB;
    }
    shapeCount += g.shapes.size();
  }
}

uint32_t NicModel::Impl::lookup(const Group &g, const Key &k) const {
  uint32_t best = UINT32_MAX;
  // Visits heads[from, to) (by bestRank) until none can beat the best match found.
  auto visit = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      const ShapeHead &h = g.heads[i];
      if (h.bestRank >= best) return;
      const Shape &s = g.shapes[h.shape];
      const Shape::Slot *hit = s.find(k);
      if (!hit || hit->rank >= best) continue;
      if (!s.ranged()) {
        best = hit->rank;
        continue;
      }
      const auto [first, count] = s.lists[hit->list];
      for (uint32_t j = first; j < first + count; ++j) {
        const uint32_t rank = s.cand[j];
        if (rank >= best) break;
        bool ok = true;
        for (uint32_t x = g.rangeStart[rank]; ok && x < g.rangeStart[rank + 1]; ++x) {
          const Range &rg = g.ranges[x];
          const uint64_t v = mfGet(k, rg.mf) & rg.mask;
          ok = rg.lo <= v && v <= rg.hi;
        }
        if (ok) {
          best = rank;
          break;
        }
      }
    }
  };
  if (!g.track) {
    visit(0, g.heads.size());
    return best;
  }
  // The prefix lengths some rule has for this packet's values (bit L: length L; bit 0: a
  // shape that does not track the field).
  const uint64_t src = g.tries[0].lookup(mfGet(k, MfIpSrc)) << 1 | 1;
  const uint64_t dst = g.tries[1].lookup(mfGet(k, MfIpDst)) << 1 | 1;
  uint64_t sp = 1, dp = 1;
  if (g.trackPorts) {
    sp = g.tries[2].lookup(mfGet(k, MfL4Src)) << 1 | 1;
    dp = g.tries[3].lookup(mfGet(k, MfL4Dst)) << 1 | 1;
  }
  for (uint64_t s = src; s; s &= s - 1) {
    const int32_t *row = g.cellSub.data() + unsigned(__builtin_ctzll(s)) * kLens;
    for (uint64_t d = dst; d; d &= d - 1) {
      const int32_t blk = row[__builtin_ctzll(d)];
      if (blk < 0) continue;
      const uint32_t *sc = g.sub.data() + size_t(blk) * (kSub + 1);
      for (uint64_t x = sp; x; x &= x - 1) {
        const uint32_t *srow = sc + unsigned(__builtin_ctzll(x)) * kPortLens;
        for (uint64_t y = dp; y; y &= y - 1) {
          const unsigned c = unsigned(__builtin_ctzll(y));
          if (srow[c] != srow[c + 1]) visit(srow[c], srow[c + 1]);
        }
      }
    }
  }
  return best;
}

bool NicModel::Impl::parse(const Json &doc, std::string &err) {
  if (!doc.is_object()) {
    err = name + ": expected a JSON object (an rte_flow rule document), got " + doc.type_name();
    return false;
  }
  static const std::vector<std::string> kTop = {"element", "profile", "kind",  "port",
                                                "groups",  "max_priority", "rules"};
  for (auto it = doc.begin(); it != doc.end(); ++it)
    if (std::find(kTop.begin(), kTop.end(), it.key()) == kTop.end()) {
      err = name + ": unknown key '" + it.key() + "' (known: " + knownList(kTop) + ")";
      return false;
    }
  auto topNum = [&](const char *key, uint64_t max, uint64_t &out) {
    if (std::string w = readValue(doc[key], Fmt::Num, max, out); !w.empty()) {
      err = name + ": \"" + key + "\": " + w;
      return false;
    }
    return true;
  };
  for (const char *k : {"element", "profile"})
    if (doc.contains(k) && !doc[k].is_string()) {
      err = name + ": \"" + k + "\": expected a string";
      return false;
    }
  if (doc.contains("kind") && doc["kind"] != "nic") {
    err = name + ": \"kind\" is " + doc["kind"].dump() + ": the NIC model applies the rules of a NIC (\"nic\")";
    return false;
  }
  uint64_t port = 0, groups = 0, mp = 0;
  const bool hasPort = doc.contains("port");
  if (hasPort && !topNum("port", 0xffff, port)) return false;
  if (doc.contains("groups") && !topNum("groups", 0xffffffffull, groups)) return false;
  if (doc.contains("max_priority") && !topNum("max_priority", 0xffffffffull, mp)) return false;
  if (!doc.contains("rules") || !doc["rules"].is_array()) {
    err = name + ": no \"rules\" array";
    return false;
  }
  const Json &rs = doc["rules"];
  rules.resize(rs.size());
  for (size_t i = 0; i < rs.size(); ++i) {
    if (!parseRule(rs[i], uint32_t(i), uint16_t(port), hasPort, groups, rules[i], err)) return false;
    compile(rules[i]);
  }
  // Jumps must not loop: per port, the group graph is acyclic (every packet's walk ends).
  // port → group → (target group, rule index)
  std::map<uint16_t, std::map<uint32_t, std::vector<std::pair<uint32_t, uint32_t>>>> edges;
  for (const auto &r : rules)
    if (r.fate == Rule::FateJump) edges[r.port][r.group].push_back({r.fateValue, r.index});
  for (auto &pg : edges) {
    // (not a structured binding: clang 14, which builds the fuzz targets, cannot capture one)
    const uint16_t p = pg.first;
    auto &g = pg.second;
    std::map<uint32_t, int> state; // 1: on the stack, 2: done
    std::string loop;
    std::function<bool(uint32_t)> dfs = [&](uint32_t u) {
      state[u] = 1;
      for (auto [v, ri] : g[u]) {
        if (state[v] == 1) {
          loop = "rule " + std::to_string(ri) + ": jump from group " + std::to_string(u) + " to group " +
                 std::to_string(v) + " closes a loop of jumps on port " + std::to_string(p);
          return false;
        }
        if (!state[v] && !dfs(v)) return false;
      }
      state[u] = 2;
      return true;
    };
    for (auto &[u, out] : g)
      if (!state[u] && !dfs(u)) {
        err = name + ": " + loop;
        return false;
      }
  }
  build();
  return true;
}

// ---- NicModel --------------------------------------------------------------------------------------------

NicModel::NicModel() : impl_(std::make_unique<Impl>()) {}

NicModel::~NicModel() {
  std::vector<uint16_t> ports;
  for (const auto &[port, flows] : installed_) ports.push_back(port);
  for (uint16_t port : ports)
    if (rte_eth_dev_is_valid_port(port)) uninstall(port);
}

std::unique_ptr<NicModel> NicModel::parse(std::string_view json, const std::string &name, std::string &err) {
  Json doc;
  try {
    doc = Json::parse(json.begin(), json.end());
  } catch (const Json::exception &e) {
    err = name + ": not valid JSON: " + e.what();
    return nullptr;
  }
  return parseDocument(doc, name, err);
}

std::unique_ptr<NicModel> NicModel::parseDocument(const nlohmann::json &doc, const std::string &name, std::string &err) {
  std::unique_ptr<NicModel> m(new NicModel());
  m->impl_->name = name;
  if (!m->impl_->parse(doc, err)) return nullptr;
  return m;
}

std::unique_ptr<NicModel> NicModel::load(const std::string &path, std::string &err) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    err = "cannot open '" + path + "': " + strerror(errno);
    return nullptr;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) {
    err = "cannot read '" + path + "': " + strerror(errno);
    return nullptr;
  }
  return parse(ss.str(), path, err);
}

size_t NicModel::size() const { return impl_->rules.size(); }
size_t NicModel::shapes() const { return impl_->shapeCount; }

namespace {

/// Replaces the frame of \p p (a VLAN push or pop) and parses it again, as the software behind
/// the NIC will: the packet is what the NIC delivers (values that only the field vector held are
/// gone, as they would be on the wire).
void rebuild(pkt::Packet &p, const std::vector<uint8_t> &frame, uint32_t wireLen) {
  pkt::Packet q(frame.data(), frame.size(), p.timestampNs, p.inPort());
  q.wireLen = wireLen;
  p = std::move(q);
}

void pushVlan(pkt::Packet &p, uint16_t tpid) {
  const uint8_t *fr = p.data(), *end = fr + p.size();
  if (p.size() < 14) return;
  if (!p.layout().vlan && tpid == 0x8100) {
    p.set(FieldId::VlanId, 0); // the packet model's push: TCI pcp << 13 | 0, pcp 0 on untagged frames
    if (p.get(FieldId::VlanPcp) != 0) p.set(FieldId::VlanPcp, 0);
    return;
  }
  const uint16_t tci = p.layout().vlan ? rd16(fr + 14) : 0;
  std::vector<uint8_t> f(fr, fr + 12);
  f.push_back(uint8_t(tpid >> 8));
  f.push_back(uint8_t(tpid));
  f.push_back(uint8_t(tci >> 8));
  f.push_back(uint8_t(tci));
  f.insert(f.end(), fr + 12, end);
  rebuild(p, f, p.wireLen + 4);
}

void popVlan(pkt::Packet &p) {
  if (!p.layout().vlan) return;
  const uint8_t *fr = p.data(), *end = fr + p.size();
  std::vector<uint8_t> f(fr, fr + 12);
  f.insert(f.end(), fr + 16, end);
  rebuild(p, f, p.wireLen >= 4 ? p.wireLen - 4 : 0);
}

} // namespace

NicVerdict NicModel::apply(pkt::Packet &p, uint16_t port) const {
  NicVerdict v;
  const PortTables *pt = impl_->findPort(port);
  if (!pt) return v;
  Key k;
  extractKey(p, k);
  uint32_t gid = 0;
  for (;;) {
    const Group *g = pt->find(gid);
    if (!g) {
      v.matched = false; // (a jump into a group without rules: unmatched there)
      return v;
    }
    const uint32_t rank = impl_->lookup(*g, k);
    if (rank == UINT32_MAX) {
      v.matched = false;
      return v;
    }
    const Rule &r = impl_->rules[g->ruleOfRank[rank]];
    v.matched = true;
    v.rule = int32_t(r.index);
    v.classId = r.classId;
    for (const Action &a : r.actions) {
      switch (a.act) {
      case Act::Drop:
      case Act::Queue:
      case Act::Jump:
      case Act::PortId: break; // fates: below
      case Act::Mark:
        v.hasMark = true;
        v.mark = uint32_t(a.value);
        break;
      case Act::SetMacSrc: p.set(FieldId::EthSrc, a.value); break;
      case Act::SetMacDst: p.set(FieldId::EthDst, a.value); break;
      case Act::SetIpv4Src: p.set(FieldId::IpSrc, a.value); break;
      case Act::SetIpv4Dst: p.set(FieldId::IpDst, a.value); break;
      case Act::SetTtl: p.set(FieldId::IpTtl, a.value); break;
      case Act::SetDscp: p.set(FieldId::IpDscp, a.value); break;
      case Act::SetTpSrc: p.set(FieldId::TpSrc, a.value); break;
      case Act::SetTpDst: p.set(FieldId::TpDst, a.value); break;
      case Act::DecTtl:
        if (p.layout().ipv4) p.set(FieldId::IpTtl, (p.data()[p.layout().l3 + 8] + 255u) & 255u);
        break;
      case Act::PushVlan: pushVlan(p, uint16_t(a.value)); break;
      case Act::SetVlanVid: p.set(FieldId::VlanId, a.value); break;
      case Act::SetVlanPcp: p.set(FieldId::VlanPcp, a.value); break;
      case Act::PopVlan: popVlan(p); break;
      }
    }
    switch (r.fate) {
    case Rule::FateNone: return v;
    case Rule::FateDrop: v.drop = true; return v;
    case Rule::FateQueue: v.queue = int32_t(r.fateValue); return v;
    case Rule::FatePort: v.outPort = int32_t(r.fateValue); return v;
    case Rule::FateJump:
      gid = r.fateValue;
      ++v.jumps;
      if (r.writes) extractKey(p, k);
      break;
    }
  }
}

// ---- hardware: rte_flow ----------------------------------------------------------------------------------

namespace {

/// Storage for one rule's rte_flow arrays (pointers into it stay valid while it lives).
struct FlowSpec {
  rte_flow_attr attr{};
  struct alignas(8) Buf {
    uint8_t b[64];
  };
  std::vector<Buf> bufs;
  std::vector<rte_flow_item> items;
  std::vector<rte_flow_action> actions;
};

void be(uint8_t *p, uint64_t v, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i) p[i] = uint8_t(v >> (8 * (bytes - 1 - i)));
}

/// Writes field \p mf = \p v into the rte_flow item struct of type \p t at \p s.
void putItemField(ItemType t, Mf mf, uint64_t v, void *s) {
  switch (t) {
  case ItEth: {
    auto *e = static_cast<rte_flow_item_eth *>(s);
    if (mf == MfEthDst) be(e->hdr.dst_addr.addr_bytes, v, 6);
    else if (mf == MfEthSrc) be(e->hdr.src_addr.addr_bytes, v, 6);
    else if (mf == MfEthType) e->hdr.ether_type = rte_cpu_to_be_16(uint16_t(v));
    else e->has_vlan = uint32_t(v & 1);
    break;
  }
  case ItVlan: {
    auto *e = static_cast<rte_flow_item_vlan *>(s);
    if (mf == MfTci) e->hdr.vlan_tci = rte_cpu_to_be_16(uint16_t(v));
    else e->hdr.eth_proto = rte_cpu_to_be_16(uint16_t(v));
    break;
  }
  case ItIpv4: {
    auto *e = static_cast<rte_flow_item_ipv4 *>(s);
    if (mf == MfIpSrc) e->hdr.src_addr = rte_cpu_to_be_32(uint32_t(v));
    else if (mf == MfIpDst) e->hdr.dst_addr = rte_cpu_to_be_32(uint32_t(v));
    else if (mf == MfTos) e->hdr.type_of_service = uint8_t(v);
    else if (mf == MfTtl) e->hdr.time_to_live = uint8_t(v);
    else e->hdr.next_proto_id = uint8_t(v);
    break;
  }
  case ItTcp: {
    auto *e = static_cast<rte_flow_item_tcp *>(s);
    if (mf == MfL4Src) e->hdr.src_port = rte_cpu_to_be_16(uint16_t(v));
    else if (mf == MfL4Dst) e->hdr.dst_port = rte_cpu_to_be_16(uint16_t(v));
    else e->hdr.tcp_flags = uint8_t(v);
    break;
  }
  case ItUdp: {
    auto *e = static_cast<rte_flow_item_udp *>(s);
    if (mf == MfL4Src) e->hdr.src_port = rte_cpu_to_be_16(uint16_t(v));
    else e->hdr.dst_port = rte_cpu_to_be_16(uint16_t(v));
    break;
  }
  case ItIcmp: {
    auto *e = static_cast<rte_flow_item_icmp *>(s);
    if (mf == MfIcmpType) e->hdr.icmp_type = uint8_t(v);
    else e->hdr.icmp_code = uint8_t(v);
    break;
  }
  case kNumItems: break;
  }
}

static_assert(sizeof(rte_flow_item_eth) <= 64 && sizeof(rte_flow_item_vlan) <= 64 && sizeof(rte_flow_item_ipv4) <= 64 &&
              sizeof(rte_flow_item_tcp) <= 64 && sizeof(rte_flow_item_udp) <= 64 && sizeof(rte_flow_item_icmp) <= 64 &&
              sizeof(rte_flow_action_port_id) <= 64 && sizeof(rte_flow_action_set_mac) <= 64);

const rte_flow_item_type kItemType[kNumItems] = {RTE_FLOW_ITEM_TYPE_ETH,  RTE_FLOW_ITEM_TYPE_VLAN,
                                                 RTE_FLOW_ITEM_TYPE_IPV4, RTE_FLOW_ITEM_TYPE_TCP,
                                                 RTE_FLOW_ITEM_TYPE_UDP,  RTE_FLOW_ITEM_TYPE_ICMP};

void toFlow(const Rule &r, FlowSpec &fs) {
  fs.attr.group = r.group;
  fs.attr.priority = r.priority;
  fs.attr.ingress = 1;
  fs.bufs.assign(3 * r.pattern.size() + r.actions.size(), {});
  for (auto &b : fs.bufs) memset(b.b, 0, sizeof b.b);
  size_t nb = 0;
  for (const auto &it : r.pattern) {
    const ItemDef &def = itemDef(it.type);
    void *spec = fs.bufs[nb++].b, *last = fs.bufs[nb++].b, *mask = fs.bufs[nb++].b;
    for (const auto &f : it.fields) {
      const Mf mf = def.fields[f.def].mf;
      if (f.inSpec) putItemField(it.type, mf, f.spec, spec);
      if (f.inLast) putItemField(it.type, mf, f.last, last);
      if (f.inMask) putItemField(it.type, mf, f.mask, mask);
    }
    rte_flow_item item{};
    item.type = kItemType[it.type];
    item.spec = it.hasSpec ? spec : nullptr;
    item.last = it.hasLast ? last : nullptr;
    item.mask = it.hasMask ? mask : nullptr; // none: the PMD uses the item's default mask
    fs.items.push_back(item);
  }
  fs.items.push_back({RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr});
  for (const auto &a : r.actions) {
    void *c = fs.bufs[nb++].b;
    rte_flow_action act{};
    act.conf = c;
    switch (a.act) {
    case Act::Drop: act.type = RTE_FLOW_ACTION_TYPE_DROP, act.conf = nullptr; break;
    case Act::Queue:
      act.type = RTE_FLOW_ACTION_TYPE_QUEUE;
      static_cast<rte_flow_action_queue *>(c)->index = uint16_t(a.value);
      break;
    case Act::Jump:
      act.type = RTE_FLOW_ACTION_TYPE_JUMP;
      static_cast<rte_flow_action_jump *>(c)->group = uint32_t(a.value);
      break;
    case Act::PortId:
      act.type = RTE_FLOW_ACTION_TYPE_PORT_ID;
      static_cast<rte_flow_action_port_id *>(c)->id = uint32_t(a.value);
      break;
    case Act::Mark:
      act.type = RTE_FLOW_ACTION_TYPE_MARK;
      static_cast<rte_flow_action_mark *>(c)->id = uint32_t(a.value);
      break;
    case Act::SetMacSrc:
    case Act::SetMacDst:
      act.type = a.act == Act::SetMacSrc ? RTE_FLOW_ACTION_TYPE_SET_MAC_SRC : RTE_FLOW_ACTION_TYPE_SET_MAC_DST;
      be(static_cast<rte_flow_action_set_mac *>(c)->mac_addr, a.value, 6);
      break;
    case Act::SetIpv4Src:
    case Act::SetIpv4Dst:
      act.type = a.act == Act::SetIpv4Src ? RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC : RTE_FLOW_ACTION_TYPE_SET_IPV4_DST;
      static_cast<rte_flow_action_set_ipv4 *>(c)->ipv4_addr = rte_cpu_to_be_32(uint32_t(a.value));
      break;
    case Act::SetTtl:
      act.type = RTE_FLOW_ACTION_TYPE_SET_TTL;
      static_cast<rte_flow_action_set_ttl *>(c)->ttl_value = uint8_t(a.value);
      break;
    case Act::SetDscp:
      act.type = RTE_FLOW_ACTION_TYPE_SET_IPV4_DSCP;
      static_cast<rte_flow_action_set_dscp *>(c)->dscp = uint8_t(a.value);
      break;
    case Act::SetTpSrc:
    case Act::SetTpDst:
      act.type = a.act == Act::SetTpSrc ? RTE_FLOW_ACTION_TYPE_SET_TP_SRC : RTE_FLOW_ACTION_TYPE_SET_TP_DST;
      static_cast<rte_flow_action_set_tp *>(c)->port = rte_cpu_to_be_16(uint16_t(a.value));
      break;
    case Act::DecTtl: act.type = RTE_FLOW_ACTION_TYPE_DEC_TTL, act.conf = nullptr; break;
    case Act::PushVlan:
      act.type = RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN;
      static_cast<rte_flow_action_of_push_vlan *>(c)->ethertype = rte_cpu_to_be_16(uint16_t(a.value));
      break;
    case Act::SetVlanVid:
      act.type = RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID;
      static_cast<rte_flow_action_of_set_vlan_vid *>(c)->vlan_vid = rte_cpu_to_be_16(uint16_t(a.value));
      break;
    case Act::SetVlanPcp:
      act.type = RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP;
      static_cast<rte_flow_action_of_set_vlan_pcp *>(c)->vlan_pcp = uint8_t(a.value);
      break;
    case Act::PopVlan: act.type = RTE_FLOW_ACTION_TYPE_OF_POP_VLAN, act.conf = nullptr; break;
    }
    fs.actions.push_back(act);
  }
  fs.actions.push_back({RTE_FLOW_ACTION_TYPE_END, nullptr});
}

std::string errnoName(int e) {
  switch (e) {
  case ENOSYS: return "ENOSYS";
  case ENOTSUP: return "ENOTSUP";
  case EINVAL: return "EINVAL";
  case ENODEV: return "ENODEV";
  case EEXIST: return "EEXIST";
  case ENOMEM: return "ENOMEM";
  case ENOENT: return "ENOENT";
  case EBUSY: return "EBUSY";
  case EIO: return "EIO";
  default: return "errno " + std::to_string(e);
  }
}

} // namespace

int NicModel::install(uint16_t portId, bool validateOnly, std::string &err) {
  const Impl &I = *impl_;
  std::vector<const Rule *> mine;
  std::string docPorts;
  for (const auto &r : I.rules) {
    if (r.port == portId) mine.push_back(&r);
  }
  if (mine.empty()) {
    for (const auto &pt : I.ports) docPorts += (docPorts.empty() ? "" : ", ") + std::to_string(pt.port);
    err = I.name + ": no rule is for port " + std::to_string(portId) +
          (docPorts.empty() ? std::string(" (the document has no rules)")
                            : (I.ports.size() == 1 ? " (its rules are for port " : " (its rules are for ports ") +
                                  docPorts + ")");
    return -EINVAL;
  }
  std::vector<rte_flow *> created;
  for (const Rule *r : mine) {
    FlowSpec fs;
    toFlow(*r, fs);
    rte_flow_error e{};
    int rc = 0;
    rte_flow *flow = nullptr;
    if (validateOnly) {
      rc = rte_flow_validate(portId, &fs.attr, fs.items.data(), fs.actions.data(), &e);
    } else {
      flow = rte_flow_create(portId, &fs.attr, fs.items.data(), fs.actions.data(), &e);
      rc = flow ? 0 : -(rte_errno ? rte_errno : EIO);
    }
    if (rc == 0) {
      if (flow) created.push_back(flow);
      continue;
    }
    if (rc > 0) rc = -rc;
    err = I.name + ": rule " + std::to_string(r->index) + " (group " + std::to_string(r->group) + ", priority " +
          std::to_string(r->priority) + "): " + (validateOnly ? "rte_flow_validate" : "rte_flow_create") +
          " on port " + std::to_string(portId) + ": " + (e.message ? e.message : rte_strerror(-rc)) + " (" +
          errnoName(-rc) + ", error type " + std::to_string(int(e.type)) + ")";
    for (auto it = created.rbegin(); it != created.rend(); ++it) {
      rte_flow_error de{};
      rte_flow_destroy(portId, *it, &de);
    }
    return rc;
  }
  auto &keep = installed_[portId];
  keep.insert(keep.end(), created.begin(), created.end());
  return 0;
}

void NicModel::uninstall(uint16_t portId) {
  auto it = installed_.find(portId);
  if (it == installed_.end()) return;
  for (auto f = it->second.rbegin(); f != it->second.rend(); ++f) {
    rte_flow_error e{};
    rte_flow_destroy(portId, *f, &e);
  }
  installed_.erase(it);
}

} // namespace metron::dp
