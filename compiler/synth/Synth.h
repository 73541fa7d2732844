//===- compiler/synth/Synth.h - Traffic classes: the synthesized form of a chain ------*- C++ -*-===//
///
/// \file
/// Synthesis (paper §2.3.1, the SNF technique) turns the NF IR of a chain into *tables* of
/// *traffic classes*. A table is an ordered list of classes with first-match semantics; a
/// class is (Φ, Ω): Φ a box (one set of values per field) over the packet as it enters the
/// table, Ω the composed operations of the whole chain segment for those packets.
///
/// Table 0 of a chain is entered by every packet at the chain's ingress, so its Φ is over the
/// packet as it entered the chain (in_port names the ingress). A chain needs more tables when:
///  * composing two classifications would exceed SynthOptions::maxClasses (the cross product is
///    not built: the second becomes its own table; targets map it to goto_table / jump group /
///    a second software lookup) — reason Bound;
///  * an element reads a field that a stateful element wrote before it in the segment (the
///    value is known only at run time: the read becomes a software table) — reason StatefulRead;
///  * a DPI element with a branch or set action forks at run time — reason DpiFork;
///  * a blackbox returns packets (they are re-classified in software) — reason Blackbox.
/// A table after a stateful operation runs in software only (Table::afterState).
///
/// Ω is a sequence of operations: blocks of stateless writes (each field at most once per
/// block; later writes override earlier ones, TTL decrements add up; every right-hand side is a
/// constant or reads the packet *as it entered the table*, so a block is a parallel assignment)
/// and stateful operations in chain order. A stateless write is moved ahead of every stateful operation that
/// neither reads nor writes its field, so usually Ω = one write block + the stateful part; a
/// field is written twice only when a stateful operation between the writes reads it. Then a
/// terminal: drop, an egress port, a blackbox input, or a jump to another table.
///
/// Classes with equal Ω form a group (paper §4); the group is the unit of tagging and scaling.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/NFIR.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace metron::synth {

using ir::FieldId;
using ir::FieldMatch;

/// A conjunction of field matches: at most one Range per field and any number of Mask matches
/// (a Range and a Mask on one field cannot always be merged into one). Sorted by field; absent
/// fields are wildcards.
struct Box {
  std::vector<FieldMatch> m;
  bool contains(const std::array<uint64_t, ir::kNumFields> &v) const;
  /// this ∩ o; false when the intersection is empty (\p out is then unspecified).
  bool intersect(const Box &o, Box &out) const;
  bool overlaps(const Box &o) const;
  /// True when every packet in this box is in \p o (exact for ranges; masks are compared
  /// conservatively: false may be returned for a subset).
  bool subsetOf(const Box &o) const;
  /// Constraints on one field (nullptr-terminated iteration helpers).
  std::vector<const FieldMatch *> on(FieldId f) const;
  bool isWildcard() const { return m.empty(); }
  std::string str() const; ///< "ip.src 10.0.0.0/8, tp.dst 80" or "*"
};

/// The smallest value v >= lo (minMatching) or the largest v <= hi (maxMatching) with
/// (v & mask) == value, among the values up to maxv; false when there is none. For Range ∩ Mask.
bool minMatching(uint64_t lo, uint64_t value, uint64_t mask, uint64_t maxv, uint64_t &out);
bool maxMatching(uint64_t hi, uint64_t value, uint64_t mask, uint64_t maxv, uint64_t &out);

/// The value a write stores, in terms of the packet as it entered the table.
struct WriteExpr {
  enum Kind : uint8_t {
    Const,     ///< field := value
    DecBy,     ///< ip.ttl := entry ip.ttl - value (`dec ip.ttl`, value times)
    MacOfIpDst ///< eth.dst := 02:00:<entry ip.dst> (attached routes)
  };
  FieldId field;
  Kind kind = Const;
  uint64_t value = 0;
  bool operator==(const WriteExpr &o) const { return field == o.field && kind == o.kind && value == o.value; }
  std::string str() const; ///< "ip.dst=10.0.0.1", "ip.ttl-=2", "eth.dst=mac(ip.dst)"
};

struct Op {
  enum Kind : uint8_t { Writes, Stateful };
  Kind kind = Writes;
  std::vector<WriteExpr> writes;       ///< Writes: sorted by field
  /// Writes: the check of `dec ip.ttl` — the packet is dropped here when its TTL as it entered
  /// the table is <= ttlGuard (0: no check). It stays where the decrement was relative to the
  /// stateful operations (they must see exactly the packets that survive it); the TTL is not
  /// split into Φ, so devices that cannot match ip.ttl can still take the class and apply
  /// the decrement with its own expiry check.
  uint8_t ttlGuard = 0;
  uint32_t node = 0;                   ///< Stateful: chain node of the NF
  uint32_t element = 0;                ///< Stateful: index of the element in the NF
  const ir::Element *el = nullptr;     ///< Stateful
  bool operator==(const Op &o) const {
    return kind == o.kind && writes == o.writes && ttlGuard == o.ttlGuard && node == o.node && element == o.element;
  }
};

struct Terminal {
  enum Kind : uint8_t {
    Drop,     ///< the chain drops the packet
    Egress,   ///< leaves the chain through egress port `port` (a Module::portNames index)
    Blackbox, ///< handed to blackbox node `node`, input `name`; it comes back in table `table`
    Goto      ///< continues in table `table` (and, after a DPI fork, in `tableIfMatch` when the
              ///< last Dpi op of Ω matched)
  };
  Kind kind = Drop;
  uint32_t port = 0;
  uint32_t node = 0;
  std::string name;
  uint32_t table = 0;
  int32_t tableIfMatch = -1;
  bool operator==(const Terminal &o) const {
    return kind == o.kind && port == o.port && node == o.node && name == o.name && table == o.table &&
           tableIfMatch == o.tableIfMatch;
  }
};

struct Omega {
  std::vector<Op> ops;
  Terminal term;
  bool operator==(const Omega &o) const { return ops == o.ops && term == o.term; }
  bool hasStateful() const;
  /// The stateless write block before the first stateful op (what hardware can apply).
  const Op *leadingWrites() const;
  std::string str(const ir::Module &m, const ir::Chain &c) const;
};

/// Which rule of which element a class went through (for explain and `rules` in JSON).
struct PathStep {
  uint32_t node;    ///< chain node
  uint16_t element; ///< element index within the NF
  int32_t rule;     ///< 1-based index in the element's rule list (Lookup: route index in the
                    ///< imported table); 0 = the default / miss
};

struct TrafficClass {
  uint32_t id = 0;    ///< unique within the chain
  Box phi;
  uint32_t group = 0; ///< index into ChainTables::groups (equal Ω ⇔ equal group)
  std::vector<PathStep> path;
};

/// Where a table starts: a chain node, an element of its NF, and the NF output port selected
/// so far ("out" unless a branch chose another). Table 0 starts at the ingress ports.
struct ProgramPoint {
  int32_t node = -1; ///< -1: the chain ingress
  uint16_t element = 0;
  std::string port = "out";
  bool operator==(const ProgramPoint &o) const { return node == o.node && element == o.element && port == o.port; }
};

struct Table {
  enum Reason : uint8_t { Ingress, Bound, StatefulRead, DpiFork, Blackbox };
  uint32_t id = 0;
  ProgramPoint entry;
  Reason reason = Ingress;
  std::string why;         ///< a sentence for `synth --stats` ("firewall × router would give ...")
  bool afterState = false; ///< reached only after a stateful operation: software only
  std::vector<TrafficClass> classes;
};
const char *tableReasonName(Table::Reason r);

struct Group {
  uint32_t id = 0;
  Omega omega;
  std::vector<uint32_t> classes; ///< class ids
};

struct SynthStats {
  uint64_t intersections = 0;  ///< box intersections computed
  uint64_t classes = 0;
  uint32_t restarts = 0;       ///< explorations restarted after a bound was hit
  double ms = 0;
};

/// The synthesized form of one chain.
struct ChainTables {
  const ir::Chain *chain = nullptr;
  std::vector<Table> tables; ///< tables[0] is entered at the ingress
  std::vector<Group> groups;
  SynthStats stats;
  const TrafficClass *findClass(uint32_t id) const;
};

struct SynthOptions {
  /// Largest table a composition may produce before the next classification is kept as a
  /// separate table. 16,384: well inside every offload device's table 0 except the 82599.
  uint32_t maxClasses = 16384;
};

/// Synthesizes one chain. Errors are not possible on a checked module.
ChainTables synthesize(const ir::Module &m, const ir::Chain &c, const SynthOptions &o = {});

/// Printers (`metronc synth --emit tc|json|dot`).
std::string printTables(const ir::Module &m, const ChainTables &t);
std::string tablesToJson(const ir::Module &m, const ChainTables &t);
std::string tablesToDot(const ir::Module &m, const ChainTables &t);
std::string printStats(const ir::Module &m, const ChainTables &t);

} // namespace metron::synth
