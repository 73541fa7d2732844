//===- compiler/split/Split.h - The stateless/stateful split of a synthesized chain -----*- C++ -*-===//
///
/// \file
/// The split (paper §2.3.3, DESIGN.md §4) decides, for one device profile, which traffic
/// classes of a synthesized chain (synth::ChainTables) the device executes and which run on
/// the server's cores, and how the device tags what it hands to the cores.
///
/// Tables. Only tables entered without a stateful operation before them (Table::afterState is
/// false) may go to the device, in table order, as long as the device has tables left
/// (DeviceProfile::tableCount). Other tables run in software. When the first table has more
/// classes than device table 0 has priority levels and the other device tables have more, it
/// starts in device table 1 and table 0 only jumps there (SplitPlan::rootJump).
///
/// Classes, per table, in priority (vector) order. A class is offloaded when:
///  1. the device can match every constraint of its Φ. A constraint the device cannot match
///     as such is expanded: a range into masked prefixes (1024-65535 → 6 prefixes), a prefix
///     into exact values on an exact-only field, a mask into prefixes or values; every
///     resulting rule counts against the capacity, and a class needing more than
///     SplitOptions::maxRulesPerClass rules stays in software;
///  2. the device can apply its terminal: `drop` needs a device that drops; a jump to another
///     device table needs a stateless Ω, a target table that is offloaded completely (every
///     class), and device support for all of Ω's writes; anything else (egress, blackbox,
///     stateful operations, a jump into a software table) hands the packet to software with
///     the tag of its group, which needs a tag kind the device has;
///  3. no higher-priority class of the same table that overlaps it runs in software (else
///     the device would take packets that the software class must see first). The blocking
///     set grows with every class that stays in software, so blocking is transitive;
///     non-overlapping classes may still be offloaded (the paper's rule-3/rule-4 example);
///  4. its rules fit in what is left of the table (then the table's priority levels: a class
///     overlapping an offloaded one needs a lower level than it).
/// A class failing several conditions is reported with the first of: match or action (1, 2),
/// capacity (4), blocked (3), priority levels (4). Finally a table that no offloaded rule
/// jumps into is taken back to software.
///
/// Groups. Each group that needs a core (a stateful operation or a non-drop terminal) gets a
/// core, round robin over SplitOptions::cores in group order. Each group some of whose
/// offloaded classes hand packets to software gets a tag of the first kind in the device's
/// list that fits it (see TagKind): VLAN id and mark: the range's n-th value for the n-th
/// such group; MAC: 02:00:00:00:TT:TT with TT:TT likewise; queue: the group's core. More
/// groups than tag values is an error [offload-tags]. The group's leading stateless writes
/// (Omega::leadingWrites) run on the device when it supports them all (with a MAC tag,
/// except the eth.dst write, which software applies); with a queue tag, the core
/// re-classifies the unmodified packet, so the writes stay in software; on a device whose IPv4
/// writes skip IP protocol 0 (DeviceProfile::ipv4WritesSkipProto0: Open vSwitch), a group with
/// an IPv4 write and a class admitting protocol 0 keeps its writes in software.
///
/// Diagnostics (warnings, lang/DiagnosticKinds.def): offload-capacity (a table, the table
/// count or the priority levels of the device are exhausted), offload-unsupported (a rule the
/// device cannot match or act on), offload-priority (a rule kept in software only because a
/// higher-priority one is). They point at the rule a class came from (its TrafficClass::path),
/// else at the chain.
///
/// Example (the driver):
/// \code
///   split::ProfileError perr;
///   auto dev = split::loadDeviceProfile("connectx-5", perr);   // or a path to a .toml file
///   split::SplitPlan plan = split::splitChain(module, tables, *dev, {.cores = 4}, diags);
///   std::string text = split::printSplit(module, tables, plan);  // --emit split
/// \endcode
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/split/Profile.h"
#include "compiler/synth/Synth.h"
#include "lang/Diagnostics.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace metron::split {

struct SplitOptions {
  unsigned cores = 1;               ///< server cores the groups are spread over (>= 1)
  uint64_t maxRulesPerClass = 4096; ///< a class expanding into more device rules stays in software
  unsigned maxClassWarnings = 10;   ///< per kind (unsupported, priority); the rest in a note
};

/// One device match on one field: (v & mask) == value, and, on devices with range support,
/// lo <= v <= hi (isRange). A mask of 0 matches everything.
struct DeviceMatch {
  ir::FieldId field = ir::FieldId::InPort;
  bool isRange = false;
  uint64_t value = 0, mask = 0;
  uint64_t lo = 0, hi = 0;
  bool operator==(const DeviceMatch &o) const {
    return field == o.field && isRange == o.isRange && value == o.value && mask == o.mask && lo == o.lo && hi == o.hi;
  }
  /// "tp.dst 1024/0xfc00", "ip.src 10.0.0.0/8", "tp.dst 1024-65535", "in_port p0".
  std::string str(const ir::Module &m) const;
};

/// Why a class runs where it does.
enum class Reason : uint8_t {
  Offloaded,     ///< on the device
  SoftwareTable, ///< its table comes after a stateful operation
  NoDeviceTable, ///< the device has no table left for its table
  NotEntered,    ///< no offloaded rule jumps into its table
  Match,         ///< the device cannot match a constraint of Φ
  TooManyRules,  ///< Φ expands into more than SplitOptions::maxRulesPerClass device rules
  Action,        ///< the device cannot drop, or has no tag kind for the group
  Blocked,       ///< overlaps a higher-priority class that runs in software
  Capacity,      ///< the rules do not fit in what is left of the table
  Priorities     ///< needs a lower priority level than the table has
};
const char *reasonName(Reason r); ///< "offloaded", "software-table", ..., "priorities"

/// What the device rules of an offloaded class do.
enum class HwAction : uint8_t {
  Drop,      ///< drop the packet
  Jump,      ///< apply the group's writes and continue in device table of `jumpTable`
  ToSoftware ///< apply GroupSplit::hwWrites, tag, and hand the packet to the group's core
};
const char *hwActionName(HwAction a); ///< "drop", "jump", "software"

struct ClassSplit {
  uint32_t classId = 0;
  uint32_t group = 0;
  bool hw = false;
  Reason reason = Reason::Offloaded;
  std::string why;        ///< one sentence for software classes ("noviflow-1132 cannot match tcp.flags")
  uint64_t rules = 0;     ///< device rules (the product of the per-field alternatives); 0 in software
  uint32_t priority = 0;  ///< device priority level (1 = highest) when the table's levels are
                          ///< limited and had to be computed; 0: any order-preserving priority
  HwAction action = HwAction::ToSoftware;
  uint32_t jumpTable = 0; ///< Jump: the synthesized table the packet continues in
  int64_t blockedBy = -1; ///< Blocked: the id of the software class it overlaps
  /// Offloaded classes: per constrained field, the alternatives the device matches; the
  /// class's device rules are the cross product (fields absent: wildcards) — per protocol of
  /// `protos` when it is not empty, each protocol taking only the L4 fields it has.
  std::vector<std::vector<DeviceMatch>> fields;
  /// Protocol prerequisites of the device rules (see classPrerequisites): IPv4 frames only,
  /// 802.1Q-tagged frames only, and the L4 protocols (6, 17, 1) the rules are written for —
  /// then eth.type and ip.proto are not among `fields`.
  bool ipv4 = false, vlan = false;
  std::vector<uint8_t> protos;
};

struct TableSplit {
  uint32_t table = 0;       ///< synthesized table id
  int64_t deviceTable = -1; ///< -1: the whole table runs in software
  std::string why;          ///< software tables: why
  TableLimits limits;       ///< of its device table
  uint64_t rules = 0;       ///< device rules used (L3/L4 pool when limits.l2Rules != 0)
  uint64_t l2Rules = 0;     ///< device rules used in the L2 pool
  uint32_t offloaded = 0;   ///< classes on the device
  uint32_t levels = 0;      ///< priority levels used, when computed
  std::vector<ClassSplit> classes; ///< in the table's order
};

struct GroupSplit {
  uint32_t group = 0;
  bool needsCore = false;  ///< a stateful operation or a non-drop terminal
  int32_t core = -1;       ///< when needsCore
  std::optional<TagKind> tagKind; ///< the kind its software-bound packets would be tagged with
  bool tagged = false;     ///< some offloaded class hands packets to software with `tag`
  uint64_t tag = 0;        ///< VLAN id, TT:TT of the MAC, queue, or mark
  std::vector<synth::WriteExpr> hwWrites; ///< leading writes the device applies before tagging
  std::vector<synth::WriteExpr> swWrites; ///< leading writes software applies
  std::string writesWhy;   ///< when some leading writes stay in software
  uint32_t hwClasses = 0, swClasses = 0;
};

struct SplitPlan {
  DeviceProfile device;
  unsigned cores = 1;
  std::string chain;
  std::vector<TableSplit> tables; ///< one per synthesized table, same order
  std::vector<GroupSplit> groups; ///< one per synthesized group, same order
  bool ok = true;                 ///< false when an error was reported (tag space exhausted)
  /// Device table 0 holds a single rule jumping to device table 1, where the first synthesized
  /// table starts: its classes need more priority levels than table 0 has and fewer than the
  /// other tables have (mlx5's root table has 4).
  bool rootJump = false;
  const ClassSplit *findClass(uint32_t classId) const;
  uint64_t totalClasses() const;
  uint64_t offloadedClasses() const;
  uint64_t deviceRules() const;
};

/// Splits one synthesized chain for \p dev. Warnings and errors go to \p diags.
SplitPlan splitChain(const ir::Module &m, const synth::ChainTables &t, const DeviceProfile &dev, const SplitOptions &o,
                     DiagnosticEngine &diags);

/// `metronc synth --emit split`: per table, per class the verdict, device rules, action, tag
/// and core; per group the tag, core and Ω; then totals.
std::string printSplit(const ir::Module &m, const synth::ChainTables &t, const SplitPlan &p);
/// The same as a JSON document.
std::string splitToJson(const ir::Module &m, const synth::ChainTables &t, const SplitPlan &p);

/// Box::overlaps without allocating (the split asks it once per pair of classes it compares):
/// on every field both boxes constrain, the combined range and mask admit a value. Both boxes
/// must be non-empty, as synthesis makes them. Exposed for tests.
bool boxesOverlap(const synth::Box &a, const synth::Box &b);

/// The protocol prerequisites of a device rule for \p phi. A device matches a header field
/// only in frames that have its layer (a rule on tp.dst is a TCP or a UDP rule), whereas the
/// packet model reads an absent layer's fields as 0 (metron-lang(7)). So a Φ that constrains
/// a field of a layer is expressible as device rules when it excludes every frame lacking that
/// layer (then the rules require the layer: `ipv4`, `vlan`, `protos`), or when the frames
/// lacking it that Φ admits are still expressible (a ip.proto 47 class with tp.dst 0-1023 is
/// just "protocol 47"). When not — tp.dst 0-1023 with any protocol also admits every ICMP or
/// GRE packet — the result is false with a sentence in \p why naming the field. \p empty is
/// set when Φ admits no frame at all once layers are taken into account.
struct Prerequisites {
  bool ipv4 = false, vlan = false;
  std::vector<uint8_t> protos; ///< 6, 17, 1 in that order; empty: no L4 prerequisite
  bool dropEthType = false;    ///< eth.type is implied by `ipv4`
  bool dropIpProto = false;    ///< ip.proto is implied by `protos`
  std::vector<ir::FieldId> vacuous; ///< L4 fields that no admitted protocol has (their constraint admits 0)
  bool empty = false;
};
bool classPrerequisites(const synth::Box &phi, Prerequisites &out, std::string &why, ir::FieldId &culprit);

/// Prefix decomposition of [lo, hi] in a field of \p bits bits: the fewest aligned blocks
/// (value, mask) covering it exactly, in increasing order. Exposed for tests.
std::vector<std::pair<uint64_t, uint64_t>> rangeToPrefixes(uint64_t lo, uint64_t hi, unsigned bits);

} // namespace metron::split
