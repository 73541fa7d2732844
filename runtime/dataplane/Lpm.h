//===- runtime/dataplane/Lpm.h - Prefix tables classified with rte_lpm -------------------*- C++ -*-===//
///
/// \file
/// A large first-match table (runtime/dataplane/Acl.h) whose classes are routes — each class a
/// prefix of one IPv4 field, ip.dst or else ip.src (a Mask with a contiguous prefix mask, or a
/// Range that is an aligned block of 2^k addresses, as synthesis writes prefixes; none for the
/// default) and otherwise the same constraints as every other class (e.g. eth.type 0x0800) — is
/// classified by DPDK's rte_lpm instead of rte_acl: a route lookup in a few memory reads.
///
/// First match equals longest prefix once the classes that first match can never return are
/// left out: class j (prefix P/d) is kept unless a kept earlier class has a prefix of length
/// <= d containing P. Then for an address, the first class containing it is kept, and any
/// longer kept prefix containing it would come later and lie inside that class's prefix — it
/// would have been left out. So rte_lpm's answer over the kept prefixes is the first match. A
/// kept class without a prefix (length 0, the default route: rte_lpm has no depth 0) answers
/// when rte_lpm finds nothing.
///
/// Building needs DPDK's EAL. Lookups are const and use only the stack.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "runtime/dataplane/Acl.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct rte_lpm;

namespace metron::dp {

class LpmTable {
public:
  /// The table for \p classes when they have the shape above. nullptr with \p err empty when
  /// they do not (the caller uses rte_acl: AclTable) and \p why says what does not fit, for
  /// logs; nullptr with \p err set when they are invalid (validateAclClasses) or rte_lpm fails.
  /// \p name names the rte_lpm object (made unique).
  static std::unique_ptr<LpmTable> build(const std::vector<AclClass> &classes, const std::string &name,
                                         std::string &err, std::string *why = nullptr);
  ~LpmTable(); ///< rte_lpm_free
  LpmTable(const LpmTable &) = delete;
  LpmTable &operator=(const LpmTable &) = delete;

  /// Index of the first class containing \p fields (ir::kNumFields values); -1 when none.
  int32_t lookup(const uint64_t *fields) const;

  /// The field the prefixes are on (ir::FieldId).
  uint8_t field() const { return field_; }
  /// Prefixes handed to rte_lpm (classes left out or the default class not counted).
  uint32_t rules() const { return rules_; }

private:
  LpmTable() = default;
  rte_lpm *lpm_ = nullptr;
  std::vector<AclConstraint> guard_; ///< what every class requires besides its prefix
  uint8_t field_ = 0;
  int32_t default_ = -1; ///< the kept class without a prefix, or -1
  uint32_t rules_ = 0;
};

} // namespace metron::dp
