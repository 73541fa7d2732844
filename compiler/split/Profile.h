//===- compiler/split/Profile.h - Device capability profiles ---------------------*- C++ -*-===//
///
/// \file
/// A device profile says what an offload device (a NIC or a switch) can do for a chain: how
/// many tables and rules it holds, which packet fields it matches and how (exact values,
/// prefixes, arbitrary masks, ranges), which fields it rewrites, whether it drops and
/// decrements the TTL, and how it tags packets for the server (VLAN id, destination MAC, NIC
/// queue, rte_flow mark). The split (Split.h) decides per traffic class, against a profile,
/// what runs in hardware.
///
/// Profiles are TOML files; the schema is man/metron-device.5. The profiles of the paper's
/// Table 3 devices live in targets/profiles/ and are compiled into metronc, so
/// `--device connectx-5` needs no installed file; `--device path/to/file.toml` reads a file.
///
/// Parsing is strict: an unknown key, a value of the wrong type or out of range, or a missing
/// required key is an error that names the file, line and column and the key. Nothing has a
/// silent default.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/NFIR.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace metron::split {

/// How a device matches one field. Each level includes the ones before it:
///  - None:   not at all (a class that constrains the field cannot be offloaded);
///  - Exact:  one value per rule (a range or prefix expands into its values);
///  - Prefix: a value under a contiguous high-bit mask (a range expands into prefixes);
///  - Mask:   a value under any bit mask (ternary, TCAM-like);
///  - Range:  lo..hi, and masks, in one rule (no expansion at all).
enum class MatchSupport : uint8_t { None, Exact, Prefix, Mask, Range };
const char *matchSupportName(MatchSupport s);

/// How offloaded packets are tagged for the server (paper §2.3.3, §3.2).
///  - Vlan:  the device pushes an 802.1Q tag, VLAN id = tag; the runtime pops it;
///  - Mac:   the device rewrites eth.dst to 02:00:00:00:TT:TT (TT:TT = tag); the original
///           eth.dst is lost, so only groups whose Ω overwrites eth.dst can use it;
///  - Queue: the NIC puts the packet on Rx queue = the core of its group; the tag names the
///           core, not the group, so the core re-classifies the (unmodified) packet;
///  - Mark:  rte_flow MARK: metadata next to the packet, mark = tag; the packet is unchanged.
enum class TagKind : uint8_t { Vlan, Mac, Queue, Mark };
constexpr size_t kNumTagKinds = 4;
const char *tagKindName(TagKind k);

/// A count with no limit: "unbounded" in a profile (the paper's "memory-bounded").
constexpr uint64_t kUnbounded = UINT64_MAX;

/// The limits of one device table.
struct TableLimits {
  uint64_t rules = kUnbounded;      ///< rules the table holds (L3/L4 rules when l2Rules != 0)
  uint64_t priorities = kUnbounded; ///< distinct priority levels a rule may take
  /// A separate pool for rules that match only in_port, eth.* and vlan.* (0: no such pool;
  /// every rule counts against `rules`). The HP 5130 EI: 512 IPv4 rules or 16,384 L2 rules.
  uint64_t l2Rules = 0;
};

struct TagRange {
  uint64_t lo = 0, hi = 0;
  uint64_t size() const { return hi - lo + 1; }
};

struct DeviceProfile {
  std::string name;        ///< "connectx-5"
  std::string path;        ///< where it was read from ("targets/profiles/connectx-5.toml" for built-ins)
  std::string description;
  enum Kind : uint8_t { Nic, Switch } kind = Nic;
  double medianMs = 0, averageMs = 0; ///< rule installation time per rule (paper Table 3)

  uint64_t tableCount = 1; ///< tables usable for a chain (kUnbounded: as many as needed)
  TableLimits table0;      ///< the table every packet enters
  TableLimits other;       ///< each further table (only when tableCount > 1)

  std::array<MatchSupport, ir::kNumFields> match{}; ///< per field
  bool drop = false;       ///< can drop a packet
  bool decTtl = false;     ///< can decrement ip.ttl
  ir::FieldSet set;        ///< fields it can overwrite with a constant
  /// Its writes of IPv4 header fields (ip.src, ip.dst, ip.ttl, ip.dscp, and dec_ttl) do nothing
  /// to a packet of IP protocol 0: Open vSwitch's translation into datapath actions skips the
  /// IPv4 set action when nw_proto is 0 (odp-util.c, commit_set_nw_action: "Check if 'flow'
  /// really has an L3 header"), while the rule's other actions still apply.
  bool ipv4WritesSkipProto0 = false;

  std::vector<TagKind> tagKinds;                       ///< supported, in order of preference
  std::array<std::optional<TagRange>, kNumTagKinds> tagRange; ///< set for each supported kind

  const TableLimits &limits(uint64_t deviceTable) const { return deviceTable == 0 ? table0 : other; }
  MatchSupport supports(ir::FieldId f) const { return match[size_t(f)]; }
  bool hasTag(TagKind k) const { return tagRange[size_t(k)].has_value(); }
};

/// A profile that cannot be used: where and why.
struct ProfileError {
  std::string path;   ///< empty for a name that is neither built in nor a file
  uint32_t line = 0;  ///< 1-based; 0 when there is no position
  uint32_t column = 0;
  std::string key;    ///< the offending key as a dotted path ("match.ip.src"); may be empty
  std::string message;
  /// "ovs.toml:12:1: error: match.ip.foo: unknown key" — the form the driver prints.
  std::string str() const;
};

/// Parses profile text. \p path is used in errors and stored in the profile.
std::optional<DeviceProfile> parseDeviceProfile(std::string_view text, const std::string &path, ProfileError &err);

/// Resolves a `--device` argument: a built-in name ("connectx-5"), or — when it contains a '/'
/// or ends in ".toml" — the path of a profile file (read with a 1 MiB cap).
std::optional<DeviceProfile> loadDeviceProfile(const std::string &nameOrPath, ProfileError &err);

/// The built-in profiles (targets/profiles/*.toml compiled in), sorted by name.
struct BuiltinProfile {
  const char *name;
  const char *text;
};
const std::vector<BuiltinProfile> &builtinProfiles();

} // namespace metron::split
