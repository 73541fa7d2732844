//===- compiler/synth/Box.cpp - Conjunctions of field matches ---------------------------------===//
///
/// A Box keeps, per field, at most one Range and at most one Mask. When both are present the
/// Range is tightened to the smallest and largest values the Mask admits inside it, so a
/// non-empty Box always has a witness at its Range's lower bound.
//===----------------------------------------------------------------------------------------===//
#include "compiler/synth/Synth.h"

#include <algorithm>

namespace metron::synth {

using ir::fieldInfo;

namespace {

/// Places the low bits of \p x, in order, at the set bits of \p freeMask (a software PDEP).
uint64_t deposit(uint64_t x, uint64_t freeMask) {
  uint64_t r = 0;
  for (uint64_t b = freeMask; b && x; b &= b - 1, x >>= 1)
    if (x & 1) r |= b & (~b + 1);
  return r;
}

} // namespace

// The values v with (v & mask) == value, in increasing order, are value | deposit(x, free) for
// x = 0, 1, 2, ...: a binary search over x finds the smallest one >= lo (or the largest <= hi).
bool minMatching(uint64_t lo, uint64_t value, uint64_t mask, uint64_t maxv, uint64_t &out) {
  uint64_t freeM = ~mask & maxv;
  unsigned k = unsigned(__builtin_popcountll(freeM));
  uint64_t a = 0, b = k >= 64 ? ~0ull : (1ull << k) - 1;
  if ((value | deposit(b, freeM)) < lo) return false;
  while (a < b) {
    uint64_t mid = a + (b - a) / 2;
    if ((value | deposit(mid, freeM)) >= lo) b = mid;
    else a = mid + 1;
  }
  out = value | deposit(a, freeM);
  return true;
}

bool maxMatching(uint64_t hi, uint64_t value, uint64_t mask, uint64_t maxv, uint64_t &out) {
  uint64_t freeM = ~mask & maxv;
  unsigned k = unsigned(__builtin_popcountll(freeM));
  uint64_t a = 0, b = k >= 64 ? ~0ull : (1ull << k) - 1;
  if (value > hi) return false;
  while (a < b) {
    uint64_t mid = a + (b - a + 1) / 2;
    if ((value | deposit(mid, freeM)) <= hi) a = mid;
    else b = mid - 1;
  }
  out = value | deposit(a, freeM);
  return true;
}

namespace {

/// Recomputes prefixLen for a Range that happens to be an aligned block of an IPv4 field.
void notePrefix(FieldMatch &r) {
  const auto &fi = fieldInfo(r.field);
  r.prefixLen = -1;
  if (fi.kind != ir::ValueKind::IPv4) return;
  uint64_t size = r.hi - r.lo + 1;
  if ((size & (size - 1)) == 0 && (r.lo & (size - 1)) == 0)
    r.prefixLen = int8_t(fi.bits - unsigned(__builtin_ctzll(size)));
}

/// Merges constraint \p c into the per-field pair (range, mask); false when empty.
bool addTo(std::optional<FieldMatch> &range, std::optional<FieldMatch> &mask, const FieldMatch &c) {
  const uint64_t maxv = fieldInfo(c.field).maxValue();
  if (c.kind == FieldMatch::Range) {
    if (!range) range = c;
    else {
      uint64_t lo = std::max(range->lo, c.lo), hi = std::min(range->hi, c.hi);
      if (lo > hi) return false;
      if (!(range->lo == lo && range->hi == hi)) {
        bool keepC = c.lo == lo && c.hi == hi;
        range = keepC ? c : FieldMatch::range(c.field, lo, hi);
        if (!keepC) notePrefix(*range);
      }
    }
  } else {
    if (!mask) mask = c;
    else {
      if ((mask->value ^ c.value) & mask->mask & c.mask) return false;
      FieldMatch m = FieldMatch::masked(c.field, mask->value | c.value, mask->mask | c.mask);
      mask.reset();
      return addTo(range, mask, m);
    }
  }
  if (range && mask) {
    uint64_t lo, hi;
    if (!minMatching(range->lo, mask->value, mask->mask, maxv, lo) || lo > range->hi) return false;
    if (!maxMatching(range->hi, mask->value, mask->mask, maxv, hi)) return false;
    if (lo != range->lo || hi != range->hi) {
      range = FieldMatch::range(c.field, lo, hi);
      notePrefix(*range);
    }
    if (lo == hi) mask.reset(); // a single value that the mask admits
  }
  return true;
}

} // namespace

bool Box::contains(const std::array<uint64_t, ir::kNumFields> &v) const {
  for (const auto &c : m)
    if (!c.contains(v[size_t(c.field)])) return false;
  return true;
}

bool Box::intersect(const Box &o, Box &out) const {
  out.m.clear();
  out.m.reserve(m.size() + o.m.size());
  size_t i = 0, j = 0;
  while (i < m.size() || j < o.m.size()) {
    FieldId f;
    if (j >= o.m.size() || (i < m.size() && m[i].field < o.m[j].field)) f = m[i].field;
    else f = o.m[j].field;
    std::optional<FieldMatch> range, mask;
    for (; i < m.size() && m[i].field == f; ++i)
      if (!addTo(range, mask, m[i])) return false;
    for (; j < o.m.size() && o.m[j].field == f; ++j)
      if (!addTo(range, mask, o.m[j])) return false;
    if (range && !range->isWildcard()) out.m.push_back(*range);
    if (mask) out.m.push_back(*mask);
  }
  return true;
}

bool Box::overlaps(const Box &o) const {
  Box tmp;
  return intersect(o, tmp);
}

bool Box::subsetOf(const Box &o) const {
  for (const auto &d : o.m) {
    if (d.isWildcard()) continue;
    bool implied = false;
    for (const auto &c : m)
      if (c.field == d.field && c.subsetOf(d)) { implied = true; break; }
    if (!implied) return false;
  }
  return true;
}

std::vector<const FieldMatch *> Box::on(FieldId f) const {
  std::vector<const FieldMatch *> v;
  for (const auto &c : m)
    if (c.field == f) v.push_back(&c);
  return v;
}

std::string Box::str() const {
  if (m.empty()) return "*";
  std::string s;
  for (const auto &c : m) {
    if (!s.empty()) s += ", ";
    s += std::string(fieldInfo(c.field).name) + " " + c.str();
  }
  return s;
}

} // namespace metron::synth
