//===- runtime/dataplane/Acl.h - Large traffic-class tables classified with rte_acl ---*- C++ -*-===//
///
/// \file
/// A traffic-class table is an ordered list of classes over the field vector of a packet
/// (`const uint64_t fields[ir::kNumFields]`, one value per field of compiler/Fields.def): the
/// first class that contains the vector wins. Small tables become LLVM code (codegen/); large
/// ones (thousands of classes, e.g. a ClassBench firewall) are embedded into the generated
/// object in the flat encoding below (runtime/dataplane/Abi.h, mtr_acl_table) and classified
/// at run time by DPDK's rte_acl through AclTable.
///
/// A class is a conjunction of constraints; an empty class matches every vector.
///  - Range (kind 0):  a <= v <= b;     at most one per field and class.
///  - Mask  (kind 1):  (v & b) == a;    any number per field; they merge into one mask. Masks
///    that contradict each other (a bit required both 0 and 1, or a value bit outside its mask)
///    leave a class that matches nothing: it is never returned.
/// Values and masks must fit the field's width (Fields.def); a vector's values are assumed to
/// fit too (the packet parser guarantees it): AclTable sees only the field's low bytes.
///
/// Flat encoding (encodeAclTable / decodeAclTable), all uint64_t words:
///   [0] kAclMagic ("MTRACL" + format version 1)   [1] number of classes N
///   then per class: [k] then k constraints of 3 words: [field | kind << 8] [a] [b]
///
/// rte_acl limits: at most RTE_ACL_MAX_PRIORITY (2^29 - 1) classes (the first class gets the
/// highest priority), at most RTE_ACL_MAX_TRIES (8) tries per context, run-time structures
/// within `maxSize` (AclTable::build) and DPDK's heap. A table rte_acl cannot build
/// in one context (typically many overlapping ranges over many fields) is split into up to
/// kMaxContexts consecutive contexts, looked up in order; beyond that build() fails and says so.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct rte_acl_ctx;

namespace metron::dp {

struct AclConstraint {
  enum Kind : uint8_t { Range = 0, Mask = 1 };
  uint8_t field; ///< ir::FieldId
  uint8_t kind;  ///< Range: a <= v <= b; Mask: (v & b) == a
  uint64_t a, b;
  bool operator==(const AclConstraint &) const = default;
};

/// A conjunction of constraints; empty = matches everything.
struct AclClass {
  std::vector<AclConstraint> c;
  bool operator==(const AclClass &) const = default;
};

constexpr uint64_t kAclMagic = 0x4d545241434c0001ull; ///< "MTRACL", format version 1

/// The flat encoding embedded into generated objects as a constant uint64_t array.
std::vector<uint64_t> encodeAclTable(const std::vector<AclClass> &classes);
/// Decodes and validates (magic, truncation, trailing words, field ids, kinds, a Range with
/// lo > hi, two Ranges on one field of a class, values wider than the field). On failure
/// returns false, leaves \p out empty and says which word is wrong in \p err.
bool decodeAclTable(const uint64_t *words, size_t n, std::vector<AclClass> &out, std::string &err);
/// The same checks on classes in memory ("class 3, constraint 1: ..."); true when valid.
bool validateAclClasses(const std::vector<AclClass> &classes, std::string &err);

/// A first-match table compiled into an rte_acl context.
///
/// Layout: one rte_acl field per (field, kind) that some class constrains (a field with both
/// Ranges and Masks gets two, each reading its own copy of the value): RANGE for Ranges,
/// BITMASK for the merged Masks. Fields of up to 8/16/32 bits take 1/2/4 bytes, the 48-bit MACs
/// one 8-byte field. rte_acl wants a 1-byte first field (a constrained 8-bit field when there
/// is one, else an always-wild byte) and the rest in 4-byte input groups: 1- and 2-byte fields
/// are packed together and a partial group is padded with always-wild bytes. Lookups copy the
/// constrained values into a key of that layout, big-endian, as rte_acl reads its input.
/// Class i becomes a rule with userdata i + 1 (0 means no match to rte_acl) and a priority
/// above every later class's, in one category. Classes that can never match, and those after a class that matches
/// everything, are left out; when nothing is left no rte_acl context is made at all. When
/// rte_acl_build needs more than its 8 tries, the rules are halved into consecutive contexts
/// (each a first-match table of its own; a lookup asks them in order until one matches).
///
/// Building needs DPDK's EAL (rte_acl allocates from its heap). Lookups are const and use only
/// the stack: any number of threads may classify at once.
class AclTable {
public:
  /// nullptr + err when the classes are invalid or rte_acl refuses (which call, rte_errno's
  /// text, and the limit involved). \p name names the rte_acl context (made unique).
  ///
  /// \p maxSize is rte_acl_config::max_size, per context. 0 (the default) is rte_acl's default:
  /// no limit, and the smallest node limit per trie (NODE_MIN), which builds fastest and with
  /// the least memory. A non-zero limit makes rte_acl start from 8x larger tries and halve them
  /// until the run-time structures fit (-ERANGE when even the smallest do not). Measured on
  /// this project's machine: ClassBench fw1_5K/fw1_10K get the same structures either way (27
  /// and 88 MiB); random mixed-field tables of 300 classes built 5-10x slower with a 256 MiB
  /// limit, into up to 40x more memory, and looked up no faster.
  static std::unique_ptr<AclTable> build(const std::vector<AclClass> &classes, const std::string &name,
                                         std::string &err, size_t maxSize = 0);
  ~AclTable(); ///< rte_acl_free
  AclTable(const AclTable &) = delete;
  AclTable &operator=(const AclTable &) = delete;

  /// Index of the first class containing \p fields (ir::kNumFields values); -1 when none.
  int32_t lookup(const uint64_t *fields) const;
  /// The same for n vectors, classified by rte_acl_classify in bursts of up to kBurst.
  void lookupBurst(const uint64_t *const *fields, uint32_t n, int32_t *out) const;
  /// DPDK heap bytes held by the contexts (rules and run-time tries): the growth of DPDK's heap
  /// across build(), so allocations by other threads meanwhile are counted too.
  size_t memoryBytes() const { return memBytes_; }

  /// Classes handed to rte_acl (after leaving out impossible and unreachable ones).
  uint32_t rules() const { return rules_; }
  /// rte_acl contexts the rules went into (0: none needed, 1: the usual case).
  uint32_t contexts() const { return uint32_t(ctxs_.size()); }
  /// rte_acl fields defined, padding bytes included (0 when there is no context).
  uint32_t aclFields() const { return aclFields_; }
  /// Bytes of the per-packet key.
  uint32_t keyBytes() const { return keyBytes_; }
  /// "ip.proto/mask@0:1; ip.src/mask@4:4; ...; pad@14:1" (field/kind@offset:bytes, in rte_acl
  /// field order), for logs and tests.
  const std::string &layout() const { return layout_; }

  static constexpr uint32_t kBurst = 64;
  static constexpr size_t kMaxContexts = 16;

private:
  /// One field value copied into the key: `size` bytes big-endian at `offset`.
  struct Slot {
    uint8_t field, size;
    uint16_t offset;
  };

  AclTable() = default;
  void pack(const uint64_t *fields, uint8_t *key) const;

  std::vector<rte_acl_ctx *> ctxs_; ///< in class order
  std::vector<Slot> slots_;
  int32_t constant_ = -1; ///< the result when there is no context (-1, or 0 for a catch-all first)
  uint32_t rules_ = 0, aclFields_ = 0, keyBytes_ = 0, keyStride_ = 0;
  size_t memBytes_ = 0;
  std::string layout_;
};

} // namespace metron::dp
