//===- compiler/synth/Classify.h - First-match lookup in a traffic-class table ------*- C++ -*-===//
///
/// \file
/// A decision tree over the classes of one table, for the tools that evaluate synthesized
/// tables on packets (`metronc explain`, the differential tests). Each inner node splits one
/// field's value range at a threshold; a class goes to every side its constraint on that field
/// meets, so the leaf reached by a packet holds every class that can contain it, in table
/// order, and the first one that contains the packet is the table's first match. (The data
/// plane classifies with DPDK's rte_acl instead; see codegen/.)
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/synth/Synth.h"

namespace metron::synth {

class TableClassifier {
public:
  explicit TableClassifier(const Table &t);
  /// Index into Table::classes of the first class containing \p v; -1 when none does.
  int32_t lookup(const std::array<uint64_t, ir::kNumFields> &v) const;
  size_t nodes() const { return nodes_.size(); }

private:
  struct Node {
    int32_t left = -1, right = -1; ///< children; -1 for a leaf
    FieldId field = FieldId::InPort;
    uint64_t threshold = 0;        ///< left: value <= threshold
    uint32_t first = 0, count = 0; ///< leaf: classes_[first, first + count)
  };
  struct Range { uint64_t lo, hi; };
  int32_t build(std::vector<uint32_t> &cls, std::array<Range, ir::kNumFields> region, unsigned depth);
  Range effective(uint32_t c, FieldId f) const;
  const Table &t_;
  std::vector<Node> nodes_;
  std::vector<uint32_t> leafClasses_;
  size_t budget_ = 0;
};

} // namespace metron::synth
