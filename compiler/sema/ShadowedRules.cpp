//===- compiler/sema/ShadowedRules.cpp - Rules that can never fire ---------------------------===//
///
/// \file
/// Finds rules that earlier rules cover (see ShadowedRules.h). The work is in three parts:
///
///  1. Flattening. Each rule becomes one interval per "slot" (a field some rule constrains):
///     the exact range for Range matches, the hull [value, value | ~mask] for Mask matches, the
///     whole domain for absent fields. With those, "i covers j" is one containment test per
///     slot, plus FieldMatch::subsetOf for the fields where i has a Mask match (the hull is only
///     an over-approximation there). A rule with a field twice or an empty match is left out:
///     it is never reported and never used as a cover (that keeps the result exact).
///
///  2. Single cover, through an index on the address prefixes. For i to cover j, i's ip.src
///     must be a prefix containing j's ip.src (an ancestor, at most 33 of them, fewer when only
///     the prefix lengths present in the rule set are tried) and likewise ip.dst. Rules are
///     bucketed by (src prefix, dst prefix); for j only the buckets of ancestor pairs are
///     scanned. Rules whose address fields are not prefix-shaped go to a fallback list that is
///     scanned for every rule. The earliest covering rule is reported.
///
///  3. Union cover, for rules without Mask matches. Candidates are earlier Mask-free rules that
///     overlap j in every field. Two prefixes overlap iff one contains the other, so the
///     prefixes overlapping j's range are the ancestors of its low end plus the prefixes whose
///     start lies inside the range (a binary search in the prefixes sorted by start). The
///     address field with fewer rules behind its overlapping prefixes is enumerated. Then j's
///     box minus each candidate's box, keeping at most ShadowOptions::unionBudget boxes; an
///     empty remainder proves the cover, and the candidates that removed something are the
///     `by` list.
///
//===----------------------------------------------------------------------------------------===//
#include "compiler/sema/ShadowedRules.h"

#include <algorithm>
#include <cmath>

namespace metron {
namespace {

using ir::FieldId;
using ir::FieldMatch;
using ir::Rule;

struct Interval {
  uint64_t lo, hi;
};

/// Open-addressing hash map from 64-bit keys (never ~0) to 32-bit values, sized up front.
class FlatMap {
public:
  explicit FlatMap(size_t maxKeys) {
    size_t cap = 16;
    while (cap < maxKeys * 2) cap <<= 1;
    keys_.assign(cap, kEmpty);
    vals_.assign(cap, 0);
    mask_ = cap - 1;
  }
  /// Returns the value of \p key, inserting \p value first when the key is new.
  uint32_t getOrAdd(uint64_t key, uint32_t value) {
    for (size_t h = hash(key) & mask_;; h = (h + 1) & mask_) {
      if (keys_[h] == key) return vals_[h];
      if (keys_[h] == kEmpty) {
        keys_[h] = key;
        vals_[h] = value;
        return value;
      }
    }
  }
  const uint32_t *find(uint64_t key) const {
    for (size_t h = hash(key) & mask_;; h = (h + 1) & mask_) {
      if (keys_[h] == key) return &vals_[h];
      if (keys_[h] == kEmpty) return nullptr;
    }
  }

private:
  static constexpr uint64_t kEmpty = ~0ull;
  static uint64_t hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
  }
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> vals_;
  size_t mask_;
};

constexpr uint64_t prefixKey(uint32_t addr, unsigned len) { return (uint64_t(len) << 32) | addr; }
constexpr uint32_t prefixMask(unsigned len) { return len == 0 ? 0 : ~0u << (32 - len); }

/// One address dimension (ip.src or ip.dst) of the index.
struct PrefixDim {
  struct Entry {
    uint32_t lo;
    uint8_t len;
    uint32_t id;
  };
  FlatMap ids;                              ///< prefixKey -> prefix id
  std::vector<Interval> range;              ///< per id
  std::vector<std::vector<uint32_t>> rules; ///< per id: rules with that prefix, ascending
  std::vector<Entry> sorted;                ///< all prefixes by (lo, len)
  std::vector<uint64_t> countBefore;        ///< prefix sums of rule counts over `sorted`
  uint64_t lengths = 0;                     ///< bit L set when some prefix has length L

  explicit PrefixDim(size_t n) : ids(n) {}

  uint32_t add(uint32_t addr, unsigned len) {
    uint32_t id = ids.getOrAdd(prefixKey(addr, len), uint32_t(range.size()));
    if (id == range.size()) {
      range.push_back({addr, uint64_t(addr | ~prefixMask(len))});
      rules.emplace_back();
      lengths |= 1ull << len;
    }
    return id;
  }

  void finish() {
    sorted.reserve(range.size());
    for (uint32_t id = 0; id < range.size(); ++id) {
      uint64_t size = range[id].hi - range[id].lo + 1;
      sorted.push_back({uint32_t(range[id].lo), uint8_t(32 - __builtin_ctzll(size)), id});
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const Entry &a, const Entry &b) { return a.lo != b.lo ? a.lo < b.lo : a.len < b.len; });
    countBefore.assign(sorted.size() + 1, 0);
    for (size_t k = 0; k < sorted.size(); ++k) countBefore[k + 1] = countBefore[k] + rules[sorted[k].id].size();
  }

  /// Calls f(id) for every prefix containing all of [lo, hi].
  template <typename F> void forEachAncestor(uint64_t lo, uint64_t hi, F f) const {
    unsigned common = lo == hi ? 32 : unsigned(__builtin_clz(uint32_t(lo ^ hi)));
    uint64_t lens = lengths & ((2ull << common) - 1); // lengths 0..common
    while (lens) {
      unsigned len = unsigned(__builtin_ctzll(lens));
      lens &= lens - 1;
      if (const uint32_t *id = ids.find(prefixKey(uint32_t(lo) & prefixMask(len), len))) f(*id);
    }
  }

  /// The prefixes overlapping [lo, hi]: those containing lo and starting before it, and the
  /// run [first, last) of `sorted` that starts inside the range.
  template <typename F> void overlapping(uint64_t lo, uint64_t hi, size_t &first, size_t &last, F before) const {
    uint64_t lens = lengths;
    while (lens) {
      unsigned len = unsigned(__builtin_ctzll(lens));
      lens &= lens - 1;
      uint32_t start = uint32_t(lo) & prefixMask(len);
      if (start == lo) continue;
      if (const uint32_t *id = ids.find(prefixKey(start, len))) before(*id);
    }
    auto cmpLo = [](const Entry &e, uint64_t v) { return e.lo < v; };
    first = size_t(std::lower_bound(sorted.begin(), sorted.end(), lo, cmpLo) - sorted.begin());
    last = size_t(std::lower_bound(sorted.begin() + first, sorted.end(), hi + 1, cmpLo) - sorted.begin());
  }
};

class ShadowFinder {
public:
  ShadowFinder(const std::vector<Rule> &rules, const ShadowOptions &opts)
      : rules_(rules), opts_(opts), src_(rules.size()), dst_(rules.size()), pairs_(rules.size()) {}

  std::vector<ShadowedRule> run();
  size_t checked() const { return checked_; }

private:
  void flatten();
  void buildIndex();
  /// Smallest i < j that covers j alone, or j when there is none.
  size_t singleCover(size_t j) const;
  bool unionCover(size_t j, std::vector<size_t> &by);
  /// True when some Mask-free usable rule before j contains the point \p pt (one value per
  /// slot). A cheap necessary condition for a union cover, tried before the expensive search.
  bool pointCovered(size_t j, const uint64_t *pt) const;
  /// True when, in every slot, the candidates' intervals together span j's interval.
  bool projectionsCovered(size_t j);
  /// True when each of a few pseudo-random points of j (fixed seed: results are reproducible)
  /// lies in some candidate. Cheap compared with a subtraction that fails at the budget.
  bool samplesCovered(size_t j) const;
  /// Subtracts the boxes of \p cands (in order) from j's box within the budget; true when
  /// nothing is left. \p useful, when given, receives the candidates that removed something.
  bool subtract(size_t j, const std::vector<size_t> &cands, std::vector<size_t> *useful);

  /// Longest `by` list that is pruned of redundant rules after a union cover is found.
  static constexpr size_t kPruneLimit = 32;

  const Interval *iv(size_t r) const { return iv_.data() + r * slots_; }
  bool covers(size_t i, size_t j) const {
    if (constrained_[i] & ~constrained_[j]) return false;
    const Interval *a = iv(i), *b = iv(j);
    for (size_t s = 0; s < slots_; ++s)
      if (b[s].lo < a[s].lo || a[s].hi < b[s].hi) return false;
    return masked_[i] == 0 || maskCovers(i, j);
  }
  bool maskCovers(size_t i, size_t j) const;
  bool overlaps(size_t i, size_t j) const {
    const Interval *a = iv(i), *b = iv(j);
    for (size_t s = 0; s < slots_; ++s)
      if (a[s].hi < b[s].lo || b[s].hi < a[s].lo) return false;
    return true;
  }

  const std::vector<Rule> &rules_;
  const ShadowOptions &opts_;
  mutable uint64_t work_ = 0; ///< comparisons so far (ShadowOptions::maxWork)
  size_t checked_ = 0;        ///< rules examined by run()
  size_t slots_ = 0;
  int slotOf_[ir::kNumFields];
  FieldId fieldOfSlot_[ir::kNumFields];
  std::vector<Interval> iv_;          ///< rules × slots
  std::vector<uint32_t> constrained_; ///< per rule: fields with a non-wildcard match
  std::vector<uint32_t> masked_;      ///< per rule: fields matched by a Mask
  std::vector<uint8_t> usable_;

  PrefixDim src_, dst_;
  FlatMap pairs_;                              ///< (src id, dst id) -> bucket
  std::vector<std::vector<uint32_t>> buckets_; ///< rules per (src, dst) pair, ascending
  std::vector<uint32_t> fallback_;             ///< usable rules outside the index, ascending

  // Scratch for union cover.
  std::vector<size_t> candidates_, trial_;
  std::vector<std::pair<double, size_t>> ordered_;
  std::vector<uint64_t> boxes_, next_;
  std::vector<Interval> spans_;
};

void ShadowFinder::flatten() {
  size_t n = rules_.size();
  std::fill(std::begin(slotOf_), std::end(slotOf_), -1);
  // Slots for every field constrained somewhere, address fields first (they are the most
  // selective in ClassBench sets, so containment tests fail early).
  uint32_t used = 0;
  for (const Rule &r : rules_)
    for (const FieldMatch &m : r.matches)
      if (size_t(m.field) < ir::kNumFields) used |= 1u << unsigned(m.field);
  auto addSlot = [&](FieldId f) {
    if ((used & (1u << unsigned(f))) && slotOf_[size_t(f)] < 0) {
      slotOf_[size_t(f)] = int(slots_);
      fieldOfSlot_[slots_++] = f;
    }
  };
  addSlot(FieldId::TpDst);
  addSlot(FieldId::IpDst);
  addSlot(FieldId::IpSrc);
  for (size_t f = 0; f < ir::kNumFields; ++f) addSlot(FieldId(f));

  uint64_t slotMax[ir::kNumFields];
  for (size_t s = 0; s < slots_; ++s) slotMax[s] = ir::fieldInfo(fieldOfSlot_[s]).maxValue();
  iv_.resize(n * slots_);
  constrained_.assign(n, 0);
  masked_.assign(n, 0);
  usable_.assign(n, 1);
  for (size_t r = 0; r < n; ++r) {
    Interval *row = iv_.data() + r * slots_;
    for (size_t s = 0; s < slots_; ++s) row[s] = {0, slotMax[s]};
    uint32_t seen = 0;
    for (const FieldMatch &m : rules_[r].matches) {
      // Rules that break the Rule invariant (a field twice) or match nothing are left out.
      if (size_t(m.field) >= ir::kNumFields || (seen & (1u << unsigned(m.field)))) {
        usable_[r] = 0;
        break;
      }
      uint32_t bit = 1u << unsigned(m.field);
      uint64_t maxv = ir::fieldInfo(m.field).maxValue();
      seen |= bit;
      Interval v;
      if (m.kind == FieldMatch::Range) {
        if (m.lo > m.hi || m.lo > maxv) {
          usable_[r] = 0;
          break;
        }
        v = {m.lo, std::min(m.hi, maxv)};
        if (v.lo == 0 && v.hi == maxv) continue;
      } else {
        uint64_t mk = m.mask & maxv;
        if (m.value & ~mk) {
          usable_[r] = 0;
          break;
        }
        if (mk == 0) continue;
        v = {m.value, m.value | (~mk & maxv)};
        masked_[r] |= bit;
      }
      constrained_[r] |= bit;
      row[slotOf_[size_t(m.field)]] = v;
    }
  }
}

bool ShadowFinder::maskCovers(size_t i, size_t j) const {
  for (uint32_t bits = masked_[i]; bits; bits &= bits - 1) {
    FieldId f = FieldId(__builtin_ctz(bits));
    const FieldMatch *mi = rules_[i].find(f), *mj = rules_[j].find(f);
    if (!mi || !mj || !mj->subsetOf(*mi)) return false;
  }
  return true;
}

void ShadowFinder::buildIndex() {
  size_t n = rules_.size();
  int ss = slotOf_[size_t(FieldId::IpSrc)], ds = slotOf_[size_t(FieldId::IpDst)];
  // A prefix-shaped interval of a 32-bit field gives its length; -1 when it is not one.
  auto prefixLen = [&](size_t r, int slot, FieldId f) -> int {
    if (slot < 0) return 0;
    if (masked_[r] & (1u << unsigned(f))) return -1;
    Interval v = iv(r)[slot];
    uint64_t size = v.hi - v.lo + 1;
    if ((size & (size - 1)) || (v.lo & (size - 1))) return -1;
    return 32 - __builtin_ctzll(size);
  };
  for (size_t r = 0; r < n; ++r) {
    if (!usable_[r]) continue;
    int sl = prefixLen(r, ss, FieldId::IpSrc), dl = prefixLen(r, ds, FieldId::IpDst);
    if (sl < 0 || dl < 0) {
      fallback_.push_back(uint32_t(r));
      continue;
    }
    uint32_t sa = ss < 0 ? 0 : uint32_t(iv(r)[ss].lo), da = ds < 0 ? 0 : uint32_t(iv(r)[ds].lo);
    uint32_t sid = src_.add(sa, unsigned(sl)), did = dst_.add(da, unsigned(dl));
    uint32_t b = pairs_.getOrAdd((uint64_t(sid) << 32) | did, uint32_t(buckets_.size()));
    if (b == buckets_.size()) buckets_.emplace_back();
    buckets_[b].push_back(uint32_t(r));
    src_.rules[sid].push_back(uint32_t(r));
    dst_.rules[did].push_back(uint32_t(r));
  }
  src_.finish();
  dst_.finish();
}

size_t ShadowFinder::singleCover(size_t j) const {
  int ss = slotOf_[size_t(FieldId::IpSrc)], ds = slotOf_[size_t(FieldId::IpDst)];
  Interval s = ss < 0 ? Interval{0, 0xffffffffull} : iv(j)[ss];
  Interval d = ds < 0 ? Interval{0, 0xffffffffull} : iv(j)[ds];
  size_t best = j;
  uint32_t dstAnc[33];
  size_t numDst = 0;
  dst_.forEachAncestor(d.lo, d.hi, [&](uint32_t id) { dstAnc[numDst++] = id; });
  if (numDst) {
    src_.forEachAncestor(s.lo, s.hi, [&](uint32_t sid) {
      for (size_t k = 0; k < numDst; ++k) {
        const uint32_t *b = pairs_.find((uint64_t(sid) << 32) | dstAnc[k]);
        if (!b) continue;
        for (uint32_t i : buckets_[*b]) {
          if (i >= best) break;
          ++work_;
          if (covers(i, j)) {
            best = i;
            break;
          }
        }
      }
    });
  }
  for (uint32_t i : fallback_) {
    if (i >= best) break;
    ++work_;
    if (covers(i, j)) best = i;
  }
  return best;
}

bool ShadowFinder::pointCovered(size_t j, const uint64_t *pt) const {
  int ss = slotOf_[size_t(FieldId::IpSrc)], ds = slotOf_[size_t(FieldId::IpDst)];
  uint64_t sp = ss < 0 ? 0 : pt[ss], dp = ds < 0 ? 0 : pt[ds];
  auto contains = [&](uint32_t i) {
    ++work_;
    if (masked_[i]) return false;
    const Interval *a = iv(i);
    for (size_t k = 0; k < slots_; ++k)
      if (pt[k] < a[k].lo || a[k].hi < pt[k]) return false;
    return true;
  };
  uint32_t dstAnc[33];
  size_t numDst = 0;
  dst_.forEachAncestor(dp, dp, [&](uint32_t id) { dstAnc[numDst++] = id; });
  bool found = false;
  src_.forEachAncestor(sp, sp, [&](uint32_t sid) {
    for (size_t k = 0; k < numDst && !found; ++k) {
      const uint32_t *b = pairs_.find((uint64_t(sid) << 32) | dstAnc[k]);
      if (!b) continue;
      for (uint32_t i : buckets_[*b]) {
        if (i >= j) break;
        if (contains(i)) {
          found = true;
          break;
        }
      }
    }
  });
  for (uint32_t i : fallback_) {
    if (found || i >= j) break;
    found = contains(i);
  }
  return found;
}

bool ShadowFinder::projectionsCovered(size_t j) {
  for (size_t k = 0; k < slots_; ++k) {
    Interval want = iv(j)[k];
    spans_.clear();
    for (size_t c : candidates_) spans_.push_back(iv(c)[k]);
    std::sort(spans_.begin(), spans_.end(), [](const Interval &a, const Interval &b) { return a.lo < b.lo; });
    uint64_t next = want.lo; // first value of j's interval not covered yet
    bool spanned = false;
    for (const Interval &v : spans_) {
      if (v.lo > next) break;
      if (v.hi >= want.hi) {
        spanned = true;
        break;
      }
      next = std::max(next, v.hi + 1); // v.hi < want.hi: no overflow
    }
    if (!spanned) return false;
  }
  return true;
}

bool ShadowFinder::samplesCovered(size_t j) const {
  uint64_t state = 0x9e3779b97f4a7c15ull ^ j;
  auto next = [&]() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dull;
  };
  uint64_t pt[ir::kNumFields];
  for (int sample = 0; sample < 32; ++sample) {
    for (size_t k = 0; k < slots_; ++k) {
      Interval v = iv(j)[k];
      uint64_t span = v.hi - v.lo + 1; // fields are at most 48 bits wide: no overflow
      pt[k] = v.lo + next() % span;
    }
    bool inside = false;
    for (size_t c : candidates_) {
      const Interval *a = iv(c);
      size_t k = 0;
      while (k < slots_ && a[k].lo <= pt[k] && pt[k] <= a[k].hi) ++k;
      if (k == slots_) {
        inside = true;
        break;
      }
    }
    if (!inside) return false;
  }
  return true;
}

bool ShadowFinder::unionCover(size_t j, std::vector<size_t> &by) {
  // Cheap rejections first: both extreme corners of j must lie in some earlier rule.
  uint64_t corner[ir::kNumFields] = {}; // only the first slots_ entries are used
  for (size_t k = 0; k < slots_; ++k) corner[k] = iv(j)[k].lo;
  if (!pointCovered(j, corner)) return false;
  for (size_t k = 0; k < slots_; ++k) corner[k] = iv(j)[k].hi;
  if (!pointCovered(j, corner)) return false;

  int ss = slotOf_[size_t(FieldId::IpSrc)], ds = slotOf_[size_t(FieldId::IpDst)];
  Interval s = ss < 0 ? Interval{0, 0xffffffffull} : iv(j)[ss];
  Interval d = ds < 0 ? Interval{0, 0xffffffffull} : iv(j)[ds];

  // Pick the address field whose overlapping prefixes hold fewer rules.
  size_t sFirst, sLast, dFirst, dLast;
  uint32_t sBefore[33], dBefore[33];
  size_t nsb = 0, ndb = 0;
  src_.overlapping(s.lo, s.hi, sFirst, sLast, [&](uint32_t id) { sBefore[nsb++] = id; });
  dst_.overlapping(d.lo, d.hi, dFirst, dLast, [&](uint32_t id) { dBefore[ndb++] = id; });
  uint64_t sCount = src_.countBefore[sLast] - src_.countBefore[sFirst];
  uint64_t dCount = dst_.countBefore[dLast] - dst_.countBefore[dFirst];
  for (size_t k = 0; k < nsb; ++k) sCount += src_.rules[sBefore[k]].size();
  for (size_t k = 0; k < ndb; ++k) dCount += dst_.rules[dBefore[k]].size();
  bool useSrc = sCount <= dCount;
  const PrefixDim &dim = useSrc ? src_ : dst_;
  const uint32_t *before = useSrc ? sBefore : dBefore;
  size_t numBefore = useSrc ? nsb : ndb, first = useSrc ? sFirst : dFirst, last = useSrc ? sLast : dLast;

  candidates_.clear();
  bool tooMany = false;
  auto consider = [&](uint32_t i) {
    ++work_;
    if (masked_[i] == 0 && overlaps(i, j)) {
      if (candidates_.size() == opts_.maxCandidates)
        tooMany = true;
      else
        candidates_.push_back(i);
    }
  };
  auto scan = [&](uint32_t id) {
    for (uint32_t i : dim.rules[id]) {
      if (i >= j || tooMany) break;
      consider(i);
    }
  };
  for (size_t k = 0; k < numBefore && !tooMany; ++k) scan(before[k]);
  for (size_t k = first; k < last && !tooMany; ++k) scan(dim.sorted[k].id);
  for (uint32_t i : fallback_) {
    if (i >= j || tooMany) break;
    consider(i);
  }
  if (tooMany || candidates_.size() < 2) return false; // one candidate would be a single cover
  if (!projectionsCovered(j) || !samplesCovered(j)) return false;
  // Largest pieces of j first: a few wide rules usually do the covering, and subtracting
  // many small ones first would only fragment the box (neurocuts fw1_10k rule 9345, covered by
  // two /1 rules that come after a hundred /32 ones).
  ordered_.clear();
  for (size_t c : candidates_) {
    double logVolume = 0;
    for (size_t k = 0; k < slots_; ++k) {
      uint64_t lo = std::max(iv(c)[k].lo, iv(j)[k].lo), hi = std::min(iv(c)[k].hi, iv(j)[k].hi);
      logVolume += std::log2(double(hi - lo) + 1.0);
    }
    ordered_.push_back({-logVolume, c});
  }
  std::sort(ordered_.begin(), ordered_.end());
  for (size_t k = 0; k < ordered_.size(); ++k) candidates_[k] = ordered_[k].second;

  if (!subtract(j, candidates_, &by)) return false;
  // The candidates that removed something cover j, but one may have become redundant through
  // later ones: drop those greedily, smallest first, while the list is short enough for the
  // re-checks to be cheap.
  if (by.size() <= kPruneLimit) {
    for (size_t k = by.size(); k-- > 0 && by.size() > 2;) {
      trial_.assign(by.begin(), by.end());
      trial_.erase(trial_.begin() + std::ptrdiff_t(k));
      if (subtract(j, trial_, nullptr)) by.swap(trial_);
    }
  }
  std::sort(by.begin(), by.end());
  return true;
}

bool ShadowFinder::subtract(size_t j, const std::vector<size_t> &cands, std::vector<size_t> *useful) {
  // A box is slots_ (lo, hi) pairs.
  const size_t w = 2 * slots_;
  boxes_.assign(w, 0);
  for (size_t k = 0; k < slots_; ++k) {
    boxes_[2 * k] = iv(j)[k].lo;
    boxes_[2 * k + 1] = iv(j)[k].hi;
  }
  if (useful) useful->clear();
  for (size_t c : cands) {
    const Interval *cv = iv(c);
    next_.clear();
    bool meetsAny = false;
    for (size_t b = 0; b < boxes_.size(); b += w) {
      uint64_t *box = &boxes_[b];
      bool meets = true;
      for (size_t k = 0; k < slots_ && meets; ++k) meets = cv[k].lo <= box[2 * k + 1] && box[2 * k] <= cv[k].hi;
      if (!meets) {
        next_.insert(next_.end(), box, box + w);
        continue;
      }
      meetsAny = true;
      // Peel off the parts of the box outside c, one slot at a time; what is left is inside c.
      for (size_t k = 0; k < slots_; ++k) {
        if (cv[k].lo > box[2 * k]) {
          size_t at = next_.size();
          next_.insert(next_.end(), box, box + w);
          next_[at + 2 * k + 1] = cv[k].lo - 1;
          box[2 * k] = cv[k].lo;
        }
        if (cv[k].hi < box[2 * k + 1]) {
          size_t at = next_.size();
          next_.insert(next_.end(), box, box + w);
          next_[at + 2 * k] = cv[k].hi + 1;
          box[2 * k + 1] = cv[k].hi;
        }
      }
    }
    if (meetsAny && useful) useful->push_back(c);
    boxes_.swap(next_);
    if (boxes_.empty()) return true;
    if (boxes_.size() / w > opts_.unionBudget) return false;
  }
  return false;
}

std::vector<ShadowedRule> ShadowFinder::run() {
  std::vector<ShadowedRule> out;
  flatten();
  buildIndex();
  std::vector<size_t> by;
  checked_ = rules_.size();
  for (size_t j = 1; j < rules_.size(); ++j) {
    if (work_ > opts_.maxWork) {
      checked_ = j;
      break;
    }
    if (!usable_[j]) continue;
    size_t i = singleCover(j);
    if (i < j) {
      out.push_back({j, {i}});
      continue;
    }
    if (masked_[j] == 0 && opts_.unionBudget > 0 && unionCover(j, by)) out.push_back({j, by});
  }
  return out;
}

} // namespace

std::vector<ShadowedRule> findShadowedRules(const std::vector<ir::Rule> &rules, const ShadowOptions &opts,
                                            size_t *checked) {
  ShadowFinder finder(rules, opts);
  std::vector<ShadowedRule> out = finder.run();
  if (checked) *checked = finder.checked();
  return out;
}

} // namespace metron
