//===- compiler/synth/Classify.cpp - Decision tree over a traffic-class table -----------------===//
#include "compiler/synth/Classify.h"

#include <algorithm>

namespace metron::synth {

using ir::fieldInfo;

TableClassifier::TableClassifier(const Table &t) : t_(t) {
  std::vector<uint32_t> all(t.classes.size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  std::array<Range, ir::kNumFields> region;
  for (size_t f = 0; f < ir::kNumFields; ++f) region[f] = {0, fieldInfo(FieldId(f)).maxValue()};
  budget_ = 64 * all.size() + 1024; // bounds the replication of wide classes into many leaves
  build(all, region, 0);
}

TableClassifier::Range TableClassifier::effective(uint32_t c, FieldId f) const {
  Range r{0, fieldInfo(f).maxValue()};
  for (const auto &m : t_.classes[c].phi.m) {
    if (m.field != f) continue;
    if (m.kind == FieldMatch::Range) {
      r.lo = std::max(r.lo, m.lo);
      r.hi = std::min(r.hi, m.hi);
    } else {
      r.lo = std::max(r.lo, m.value);
      r.hi = std::min(r.hi, m.value | (~m.mask & fieldInfo(f).maxValue()));
    }
  }
  return r;
}

int32_t TableClassifier::build(std::vector<uint32_t> &cls, std::array<Range, ir::kNumFields> region, unsigned depth) {
  int32_t id = int32_t(nodes_.size());
  nodes_.push_back({});
  auto makeLeaf = [&] {
    nodes_[size_t(id)].first = uint32_t(leafClasses_.size());
    nodes_[size_t(id)].count = uint32_t(cls.size());
    leafClasses_.insert(leafClasses_.end(), cls.begin(), cls.end());
    return id;
  };
  if (cls.size() <= 8 || depth >= 48 || leafClasses_.size() + cls.size() > budget_) return makeLeaf();
  // Pick the field and threshold that leave the fewest classes on the larger side.
  size_t best = cls.size();
  FieldId bestF = FieldId::InPort;
  uint64_t bestT = 0;
  std::vector<uint64_t> cuts;
  std::vector<Range> rs(cls.size());
  for (size_t f = 0; f < ir::kNumFields; ++f) {
    const Range reg = region[f];
    if (reg.lo == reg.hi) continue;
    cuts.clear();
    for (size_t i = 0; i < cls.size(); ++i) {
      rs[i] = effective(cls[i], FieldId(f));
      rs[i].lo = std::max(rs[i].lo, reg.lo);
      rs[i].hi = std::min(rs[i].hi, reg.hi);
      if (rs[i].lo > reg.lo) cuts.push_back(rs[i].lo - 1);
      if (rs[i].hi < reg.hi) cuts.push_back(rs[i].hi);
    }
    if (cuts.empty()) continue;
    std::nth_element(cuts.begin(), cuts.begin() + long(cuts.size() / 2), cuts.end());
    uint64_t t = cuts[cuts.size() / 2];
    size_t left = 0, right = 0;
    for (const auto &r : rs) {
      left += r.lo <= t;
      right += r.hi > t;
    }
    size_t worst = std::max(left, right);
    if (worst < best) { best = worst; bestF = FieldId(f); bestT = t; }
  }
  if (best >= cls.size()) return makeLeaf();
  std::vector<uint32_t> l, r;
  for (uint32_t c : cls) {
    Range e = effective(c, bestF);
    if (e.lo <= bestT) l.push_back(c);
    if (e.hi > bestT) r.push_back(c);
  }
  cls.clear();
  cls.shrink_to_fit();
  auto lreg = region, rreg = region;
  lreg[size_t(bestF)].hi = bestT;
  rreg[size_t(bestF)].lo = bestT + 1;
  nodes_[size_t(id)].field = bestF;
  nodes_[size_t(id)].threshold = bestT;
  int32_t li = build(l, lreg, depth + 1);
  int32_t ri = build(r, rreg, depth + 1);
  nodes_[size_t(id)].left = li;
  nodes_[size_t(id)].right = ri;
  return id;
}

int32_t TableClassifier::lookup(const std::array<uint64_t, ir::kNumFields> &v) const {
  if (nodes_.empty()) return -1;
  const Node *n = &nodes_[0];
  while (n->left >= 0) n = &nodes_[size_t(v[size_t(n->field)] <= n->threshold ? n->left : n->right)];
  for (uint32_t i = n->first; i < n->first + n->count; ++i)
    if (t_.classes[leafClasses_[i]].phi.contains(v)) return int32_t(leafClasses_[i]);
  return -1;
}

} // namespace metron::synth
