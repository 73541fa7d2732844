//===- tests/unit/shadow_test.cpp - Shadowed-rule detection -----------------------------------===//
///
/// \file
/// Hand-built cases (single cover, union cover, partial overlap, mask fields, budgets), a
/// randomized differential test against a brute-force checker over tiny field domains, and the
/// real ClassBench sets (checked against an O(n^2) single-cover scan, timed).
///
//===----------------------------------------------------------------------------------------===//
#include "compiler/import/Import.h"
#include "compiler/sema/ShadowedRules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

using namespace metron;
using ir::FieldId;
using ir::FieldMatch;
using ir::Rule;

namespace {

uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) { return (a << 24) | (b << 16) | (c << 8) | d; }

Rule rule(std::vector<FieldMatch> ms) {
  std::sort(ms.begin(), ms.end(), [](const FieldMatch &a, const FieldMatch &b) { return a.field < b.field; });
  Rule r;
  r.matches = std::move(ms);
  return r;
}

FieldMatch src(uint32_t a, unsigned len) { return FieldMatch::prefix(FieldId::IpSrc, a, len); }
FieldMatch dst(uint32_t a, unsigned len) { return FieldMatch::prefix(FieldId::IpDst, a, len); }
FieldMatch dport(uint64_t lo, uint64_t hi) { return FieldMatch::range(FieldId::TpDst, lo, hi); }
FieldMatch sport(uint64_t lo, uint64_t hi) { return FieldMatch::range(FieldId::TpSrc, lo, hi); }
FieldMatch proto(uint64_t p) { return FieldMatch::exact(FieldId::IpProto, p); }
FieldMatch flags(uint64_t v, uint64_t m) { return FieldMatch::masked(FieldId::TcpFlags, v, m); }

std::string str(const std::vector<ShadowedRule> &v) {
  std::string s;
  for (const auto &r : v) {
    s += std::to_string(r.rule) + " by {";
    for (size_t k = 0; k < r.by.size(); ++k) s += (k ? "," : "") + std::to_string(r.by[k]);
    s += "}; ";
  }
  return s;
}

} // namespace

// ---- hand-built cases -------------------------------------------------------------------------

TEST(Shadow, HeaderExample) {
  std::vector<Rule> rules = {
      rule({src(ip(10, 0, 0, 0), 8)}),                 // 0
      rule({src(ip(10, 1, 0, 0), 16), dport(53, 53)}), // 1: inside 0
      rule({proto(6), dport(0, 1023)}),                // 2
      rule({proto(6), dport(1024, 65535)}),            // 3
      rule({proto(6), dport(80, 80)}),                 // 4: inside 2
      rule({proto(6), dport(1000, 2000)}),             // 5: inside 2 + 3
      rule({proto(17), dport(1000, 2000)}),            // 6: not covered
  };
  EXPECT_EQ(str(findShadowedRules(rules)), "1 by {0}; 4 by {2}; 5 by {2,3}; ");
}

TEST(Shadow, SingleCoverReportsTheEarliestRule) {
  std::vector<Rule> rules = {
      rule({proto(17)}),
      rule({proto(6), dport(0, 1023)}),
      rule({proto(6)}),
      rule({proto(6), dport(22, 22)}),
  };
  EXPECT_EQ(str(findShadowedRules(rules)), "3 by {1}; ");
}

TEST(Shadow, PartialOverlapIsNotShadowed) {
  std::vector<Rule> rules = {
      rule({src(ip(10, 0, 0, 0), 8), dport(0, 100)}), rule({src(ip(10, 0, 0, 0), 8), dport(50, 150)}),
      rule({src(ip(10, 0, 0, 0), 7), dport(60, 70)}), // wider source than rule 0
      rule({dport(60, 70)}),                          // no source constraint at all
  };
  EXPECT_EQ(str(findShadowedRules(rules)), "");
}

TEST(Shadow, WildcardRuleShadowsEverythingAfterIt) {
  std::vector<Rule> rules = {rule({proto(6)}), rule({}), rule({proto(17)}), rule({dst(ip(1, 2, 3, 4), 32)}), rule({})};
  EXPECT_EQ(str(findShadowedRules(rules)), "2 by {1}; 3 by {1}; 4 by {1}; ");
}

TEST(Shadow, IdenticalRules) {
  std::vector<Rule> rules = {rule({src(ip(1, 2, 3, 0), 24), proto(6)}), rule({src(ip(1, 2, 3, 0), 24), proto(6)})};
  EXPECT_EQ(str(findShadowedRules(rules)), "1 by {0}; ");
}

TEST(Shadow, UnionOfTwoAddressHalves) {
  std::vector<Rule> rules = {
      rule({src(ip(10, 0, 0, 0), 9), proto(6)}),
      rule({src(ip(10, 128, 0, 0), 9), proto(6)}),
      rule({src(ip(10, 0, 0, 0), 8), proto(6), dport(443, 443)}),
      rule({src(ip(10, 0, 0, 0), 8), proto(17)}),
  };
  EXPECT_EQ(str(findShadowedRules(rules)), "2 by {0,1}; ");
}

TEST(Shadow, UnionOfFourInTwoDimensions) {
  std::vector<Rule> rules = {
      rule({sport(0, 99), dport(0, 99)}),
      rule({sport(100, 199), dport(0, 99)}),
      rule({sport(0, 99), dport(100, 199)}),
      rule({sport(150, 199), dport(100, 199)}),
      rule({sport(10, 189), dport(10, 189)}), // has a hole at sport 100..149 x dport 100..189
      rule({sport(100, 149), dport(100, 199)}),
      rule({sport(0, 199), dport(0, 199)}), // covered by 0, 1, 2, 3, 5 (4 is redundant)
  };
  EXPECT_EQ(str(findShadowedRules(rules)), "6 by {0,1,2,3,5}; ");
}

TEST(Shadow, UnusedCandidatesAreLeftOutOfBy) {
  std::vector<Rule> rules = {
      rule({dport(0, 10)}),
      rule({dport(5, 8)}), // shadowed by 0 itself, and contributes nothing to rule 3
      rule({dport(11, 20)}),
      rule({dport(3, 15)}),
  };
  EXPECT_EQ(str(findShadowedRules(rules)), "1 by {0}; 3 by {0,2}; ");
}

TEST(Shadow, MaskFields) {
  std::vector<Rule> rules = {
      rule({proto(6), flags(0x02, 0x02)}),                          // SYN set
      rule({proto(6), flags(0x02, 0x12)}),                          // SYN without ACK: inside rule 0
      rule({proto(6), flags(0x10, 0x10)}),                          // ACK set: not inside rule 0
      rule({proto(6), FieldMatch::range(FieldId::TcpFlags, 2, 3)}), // 2 and 3 both have SYN
      rule({proto(6), FieldMatch::range(FieldId::TcpFlags, 1, 2)}), // 1 has no SYN, no ACK
      rule({proto(6)}),                                             // any flags
  };
  EXPECT_EQ(flags(0x02, 0x12).kind, FieldMatch::Mask);
  EXPECT_EQ(str(findShadowedRules(rules)), "1 by {0}; 3 by {0}; ");
}

TEST(Shadow, MaskRuleCoveredByRange) {
  std::vector<Rule> rules = {
      rule({FieldMatch::range(FieldId::TcpFlags, 0, 0x1f)}), rule({flags(0x02, 0x12)}), // 0x02 .. 0xed: beyond 0x1f
      rule({FieldMatch::range(FieldId::TcpFlags, 0x20, 0xff)}),
      rule({flags(0x02, 0xf2)}), // 0x02 .. 0x0f: inside rule 0
  };
  EXPECT_EQ(str(findShadowedRules(rules)), "3 by {0}; ");
}

TEST(Shadow, UnionIsNotTriedForMaskRules) {
  // Rules 0 and 1 together cover rule 2, but rule 2 has a Mask match: only single cover counts.
  std::vector<Rule> rules = {
      rule({flags(0x00, 0x80), proto(6)}),
      rule({flags(0x80, 0x80), proto(6)}),
      rule({flags(0x02, 0x12), proto(6)}),
  };
  EXPECT_EQ(str(findShadowedRules(rules)), "");
}

TEST(Shadow, NonPrefixAddressRanges) {
  std::vector<Rule> rules = {
      rule({FieldMatch::range(FieldId::IpSrc, ip(10, 0, 0, 5), ip(10, 0, 0, 200))}), rule({src(ip(10, 0, 0, 8), 29)}),
      rule({FieldMatch::range(FieldId::IpSrc, ip(10, 0, 0, 3), ip(10, 0, 0, 9))}),   rule({src(ip(10, 0, 0, 0), 29)}),
      rule({FieldMatch::range(FieldId::IpSrc, ip(10, 0, 0, 1), ip(10, 0, 0, 199))}), // by 0 + 3
  };
  EXPECT_EQ(str(findShadowedRules(rules)), "1 by {0}; 4 by {0,3}; ");
}

TEST(Shadow, Budgets) {
  std::vector<Rule> rules = {rule({dport(0, 9)}), rule({dport(10, 19)}), rule({dport(0, 19)})};
  EXPECT_EQ(str(findShadowedRules(rules)), "2 by {0,1}; ");
  ShadowOptions noUnion;
  noUnion.unionBudget = 0;
  EXPECT_EQ(str(findShadowedRules(rules, noUnion)), "");
  ShadowOptions oneCandidate;
  oneCandidate.maxCandidates = 1;
  EXPECT_EQ(str(findShadowedRules(rules, oneCandidate)), "");
}

TEST(Shadow, EmptyAndSingle) {
  EXPECT_TRUE(findShadowedRules({}).empty());
  EXPECT_TRUE(findShadowedRules({rule({})}).empty());
}

TEST(Shadow, MalformedRulesAreNeitherReportedNorUsed) {
  // A rule with the same field twice breaks the Rule invariant; it must not produce claims.
  Rule twice = rule({dport(0, 100)});
  twice.matches.push_back(dport(50, 60));
  std::vector<Rule> rules = {twice, rule({dport(55, 56)}), twice};
  EXPECT_EQ(str(findShadowedRules(rules)), "");
}

// ---- randomized differential test -------------------------------------------------------------

namespace {

/// Brute force over a compressed grid: in every field, each value class (a run of values no
/// rule boundary splits) is represented by one value, so the point checks below are exact.
struct BruteForce {
  static constexpr FieldId kFields[] = {FieldId::IpSrc, FieldId::IpDst, FieldId::IpProto, FieldId::TpDst,
                                        FieldId::TcpFlags};
  std::vector<std::vector<uint64_t>> reps;       ///< per field
  std::vector<std::vector<uint64_t>> memberMask; ///< per field, per rep: rules containing it
  std::vector<uint64_t> pointMasks;              ///< for every grid point, the rules containing it

  explicit BruteForce(const std::vector<Rule> &rules) {
    for (FieldId f : kFields) {
      std::set<uint64_t> r = {0};
      if (f == FieldId::TcpFlags) {
        // Masks live in the low 3 bits and ranges in 0..7: 0..15 are all the classes.
        for (uint64_t v = 0; v < 16; ++v) r.insert(v);
      } else {
        for (const Rule &rl : rules)
          if (const FieldMatch *m = rl.find(f)) {
            r.insert(m->lo);
            if (m->hi < ir::fieldInfo(f).maxValue()) r.insert(m->hi + 1);
          }
      }
      reps.emplace_back(r.begin(), r.end());
      std::vector<uint64_t> mm;
      for (uint64_t v : reps.back()) {
        uint64_t bits = 0;
        for (size_t i = 0; i < rules.size(); ++i) {
          const FieldMatch *m = rules[i].find(f);
          if (!m || m->contains(v)) bits |= 1ull << i;
        }
        mm.push_back(bits);
      }
      memberMask.push_back(mm);
    }
    std::vector<size_t> idx(reps.size(), 0);
    for (;;) {
      uint64_t m = ~0ull;
      for (size_t k = 0; k < reps.size(); ++k) m &= memberMask[k][idx[k]];
      if (m) pointMasks.push_back(m);
      size_t k = 0;
      while (k < idx.size() && ++idx[k] == reps[k].size()) idx[k++] = 0;
      if (k == idx.size()) break;
    }
  }
  /// Every point of rule j lies in some rule of \p set.
  bool coveredBy(size_t j, uint64_t set) const {
    for (uint64_t m : pointMasks)
      if ((m >> j & 1) && !(m & set)) return false;
    return true;
  }
  /// The rules before j containing every point of j.
  uint64_t singleCovers(size_t j) const {
    uint64_t all = (1ull << j) - 1;
    for (uint64_t m : pointMasks)
      if (m >> j & 1) all &= m;
    return all;
  }
};

/// A random rule over tiny domains. Mode 0 uses every field of the brute force; mode 1 only
/// ip.src (inside 10.0.0.0/30) and tp.dst (0..3), where unions of rules often tile a later one.
Rule randomRule(std::mt19937 &rng, int mode) {
  auto pick = [&](unsigned n) { return unsigned(rng() % n); };
  std::vector<FieldMatch> ms;
  if (mode == 1) {
    if (pick(4)) {
      unsigned len = 30 + pick(3);
      ms.push_back(src(ip(10, 0, 0, 0) | (pick(4) & ~((1u << (32 - len)) - 1) & 3), len));
    }
    if (pick(4)) {
      unsigned a = pick(4), b = pick(4);
      ms.push_back(dport(std::min(a, b), std::max(a, b)));
    }
    if (pick(8) == 0) ms.push_back(flags(pick(2) ? 0x02 : 0, 0x02));
    return rule(ms);
  }
  // ip.src: absent, a prefix /29../32 inside 10.0.0.0/29, or an arbitrary range in it.
  unsigned s = pick(10);
  if (s < 6) {
    unsigned len = 29 + pick(4);
    ms.push_back(src(ip(10, 0, 0, 0) | (pick(8) & ~((1u << (32 - len)) - 1) & 7), len));
  } else if (s < 7) {
    unsigned a = pick(8), b = pick(8);
    ms.push_back(FieldMatch::range(FieldId::IpSrc, ip(10, 0, 0, std::min(a, b)), ip(10, 0, 0, std::max(a, b))));
  } else if (s < 8) {
    ms.push_back(src(ip(10, 0, 0, 0), 8));
  }
  // ip.dst: absent or a prefix /31../32 inside 20.0.0.0/30.
  if (pick(2)) {
    unsigned len = 31 + pick(2);
    ms.push_back(dst(ip(20, 0, 0, 0) | (pick(4) & (len == 31 ? 2u : 3u)), len));
  }
  if (pick(2)) ms.push_back(proto(pick(2) ? 6 : 17));
  if (pick(10) < 7) {
    unsigned a = pick(8), b = pick(8);
    ms.push_back(dport(std::min(a, b), std::max(a, b)));
  }
  unsigned f = pick(10);
  if (f < 2) {
    unsigned m = 1 + pick(7);
    ms.push_back(flags(pick(8) & m, m));
  } else if (f < 4) {
    unsigned a = pick(8), b = pick(8);
    ms.push_back(FieldMatch::range(FieldId::TcpFlags, std::min(a, b), std::max(a, b)));
  }
  return rule(ms);
}

bool hasMask(const Rule &r) {
  for (const auto &m : r.matches)
    if (m.kind == FieldMatch::Mask) return true;
  return false;
}

} // namespace

TEST(Shadow, RandomizedAgainstBruteForce) {
  std::mt19937 rng(20240601);
  ShadowOptions generous;
  generous.unionBudget = 1u << 20;
  generous.maxCandidates = 1u << 20;
  size_t totalSingle = 0, totalUnion = 0, totalDefault = 0;
  for (int round = 0; round < 3000; ++round) {
    size_t n = 2 + rng() % 11;
    std::vector<Rule> rules;
    int mode = round % 2;
    for (size_t i = 0; i < n; ++i) rules.push_back(randomRule(rng, mode));
    BruteForce bf(rules);
    uint64_t noMaskRules = 0;
    for (size_t i = 0; i < n; ++i)
      if (!hasMask(rules[i])) noMaskRules |= 1ull << i;

    const ShadowOptions *variants[] = {&generous, nullptr}; // nullptr: the default options
    for (const ShadowOptions *opts : variants) {
      std::vector<ShadowedRule> got = opts ? findShadowedRules(rules, *opts) : findShadowedRules(rules);
      std::vector<bool> reported(n, false);
      for (size_t k = 0; k < got.size(); ++k) {
        const ShadowedRule &s = got[k];
        SCOPED_TRACE("round " + std::to_string(round) + " rule " + std::to_string(s.rule));
        ASSERT_LT(s.rule, n);
        if (k) {
          ASSERT_LT(got[k - 1].rule, s.rule);
        }
        ASSERT_FALSE(s.by.empty());
        uint64_t by = 0;
        for (size_t i = 0; i < s.by.size(); ++i) {
          ASSERT_LT(s.by[i], s.rule);
          if (i) {
            ASSERT_LT(s.by[i - 1], s.by[i]);
          }
          by |= 1ull << s.by[i];
        }
        // No false positives: the rules named really cover it.
        ASSERT_TRUE(bf.coveredBy(s.rule, by));
        if (s.by.size() == 1) {
          // The earliest single cover is the one named.
          uint64_t single = bf.singleCovers(s.rule);
          ASSERT_EQ(size_t(__builtin_ctzll(single)), s.by[0]);
        }
        reported[s.rule] = true;
      }
      for (size_t j = 1; j < n; ++j) {
        SCOPED_TRACE("round " + std::to_string(round) + " rule " + std::to_string(j) + ": " + rules[j].matchStr());
        bool single = bf.singleCovers(j) != 0;
        if (single) {
          ASSERT_TRUE(reported[j]); // single cover is always found
        }
        if (opts) {
          bool unionCovered = !hasMask(rules[j]) && bf.coveredBy(j, noMaskRules & ((1ull << j) - 1));
          ASSERT_EQ(reported[j], single || unionCovered);
          totalSingle += single;
          totalUnion += !single && unionCovered;
        } else {
          totalDefault += reported[j];
        }
      }
    }
  }
  printf("[   INFO   ] randomized: %zu single covers, %zu union covers, %zu reported with defaults\n", totalSingle,
         totalUnion, totalDefault);
  EXPECT_GT(totalSingle, 500u);
  EXPECT_GT(totalUnion, 100u);
}

// ---- real data --------------------------------------------------------------------------------

namespace {

std::vector<Rule> loadClassBench(const std::string &rel) {
  SourceManager sm;
  DiagnosticEngine diags(sm);
  std::string err;
  FileID f = sm.readFile(std::string(METRON_DATA_DIR) + "/" + rel, ReadLimits{}.maxImportBytes, err);
  EXPECT_NE(f, 0u) << err;
  std::vector<Rule> rules;
  std::string format;
  if (f) {
    EXPECT_TRUE(readClassBench(sm, f, diags, rules, format));
  }
  return rules;
}

/// Plain O(n^2) single-cover scan, independent of the index: rule j -> earliest i < j.
std::vector<std::pair<size_t, size_t>> slowSingleCovers(const std::vector<Rule> &rules) {
  std::vector<std::pair<size_t, size_t>> out;
  auto covers = [](const Rule &a, const Rule &b) {
    for (const FieldMatch &m : a.matches) {
      if (m.isWildcard()) continue;
      const FieldMatch *o = b.find(m.field);
      if (!o || !o->subsetOf(m)) return false;
    }
    return true;
  };
  for (size_t j = 1; j < rules.size(); ++j)
    for (size_t i = 0; i < j; ++i)
      if (covers(rules[i], rules[j])) {
        out.push_back({j, i});
        break;
      }
  return out;
}

/// Checks every union claim by subtracting the boxes of its `by` rules here, independently of
/// the implementation (the rules involved are Mask-free, so lo/hi describe them).
void expectUnionClaimsHold(const std::vector<Rule> &rules, const std::vector<ShadowedRule> &got) {
  for (const auto &s : got) {
    if (s.by.size() == 1) continue;
    for (size_t r : s.by)
      for (const FieldMatch &m : rules[r].matches) ASSERT_EQ(m.kind, FieldMatch::Range) << "rule " << r;
    for (const FieldMatch &m : rules[s.rule].matches) ASSERT_EQ(m.kind, FieldMatch::Range) << "rule " << s.rule;
    std::vector<std::vector<std::pair<uint64_t, uint64_t>>> boxes;
    auto boxOf = [](const Rule &r) {
      std::vector<std::pair<uint64_t, uint64_t>> b;
      for (size_t f = 0; f < ir::kNumFields; ++f) {
        const FieldMatch *m = r.find(FieldId(f));
        b.push_back(m ? std::make_pair(m->lo, m->hi)
                      : std::make_pair(uint64_t(0), ir::fieldInfo(FieldId(f)).maxValue()));
      }
      return b;
    };
    boxes.push_back(boxOf(rules[s.rule]));
    for (size_t c : s.by) {
      auto cb = boxOf(rules[c]);
      std::vector<std::vector<std::pair<uint64_t, uint64_t>>> next;
      for (auto b : boxes) {
        bool meets = true;
        for (size_t f = 0; f < b.size(); ++f) meets = meets && cb[f].first <= b[f].second && b[f].first <= cb[f].second;
        if (!meets) {
          next.push_back(b);
          continue;
        }
        for (size_t f = 0; f < b.size(); ++f) {
          if (cb[f].first > b[f].first) {
            auto p = b;
            p[f].second = cb[f].first - 1;
            next.push_back(p);
            b[f].first = cb[f].first;
          }
          if (cb[f].second < b[f].second) {
            auto p = b;
            p[f].first = cb[f].second + 1;
            next.push_back(p);
            b[f].second = cb[f].second;
          }
        }
      }
      boxes = next;
    }
    EXPECT_TRUE(boxes.empty()) << "rule " << s.rule << " is not covered by its 'by' list";
  }
}

void checkRealSet(const std::string &rel) {
  std::vector<Rule> rules = loadClassBench(rel);
  ASSERT_FALSE(rules.empty());
  // Timing lives in tests/bench/bench_check; here only correctness against the O(n^2) oracle.
  std::vector<ShadowedRule> got = findShadowedRules(rules);
  std::vector<std::pair<size_t, size_t>> want = slowSingleCovers(rules);
  std::vector<std::pair<size_t, size_t>> gotSingle;
  for (const auto &s : got)
    if (s.by.size() == 1) gotSingle.push_back({s.rule, s.by[0]});
  EXPECT_EQ(gotSingle, want);
  expectUnionClaimsHold(rules, got);
}

} // namespace

TEST(ShadowReal, Fw1Seed) { checkRealSet("classbench/pclasseval_song/fw1"); }
TEST(ShadowReal, Acl1Seed) { checkRealSet("classbench/pclasseval_song/acl1"); }
TEST(ShadowReal, Fw1_1K) { checkRealSet("classbench/pclasseval_song/fw1_1K"); }
TEST(ShadowReal, Fw1_5K) { checkRealSet("classbench/pclasseval_song/fw1_5K"); }
TEST(ShadowReal, Fw1_10K) { checkRealSet("classbench/pclasseval_song/fw1_10K"); }
TEST(ShadowReal, Acl1_10K) { checkRealSet("classbench/pclasseval_song/acl1_10K"); }
TEST(ShadowReal, NeurocutsFw1_10k) { checkRealSet("classbench/neurocuts/fw1_10k"); }

TEST(ShadowReal, NeurocutsFw1_10kGenerousBudget) {
  std::vector<Rule> rules = loadClassBench("classbench/neurocuts/fw1_10k");
  ShadowOptions generous;
  generous.maxCandidates = 1u << 20;
  generous.unionBudget = 1u << 20;
  auto more = findShadowedRules(rules, generous);
  auto defaults = findShadowedRules(rules);
  EXPECT_GE(more.size(), defaults.size());
  expectUnionClaimsHold(rules, more);
}

TEST(ShadowReal, Acl1SeedUnionNeedsAGenerousBudget) {
  // Rule 751 of acl1 (0-based 750, `@192.151.10.0/23 0.0.0.0/0 ...`) overlaps 748 earlier rules
  // and is covered by a union of some of them: past the default candidate limit (256), found
  // with a larger one.
  std::vector<Rule> rules = loadClassBench("classbench/pclasseval_song/acl1");
  ASSERT_EQ(rules.size(), 752u);
  auto defaults = findShadowedRules(rules);
  ShadowOptions generous;
  generous.maxCandidates = 1u << 20;
  generous.unionBudget = 1u << 20;
  auto more = findShadowedRules(rules, generous);
  EXPECT_EQ(more.size(), defaults.size() + 1);
  auto find750 = [](const std::vector<ShadowedRule> &v) -> const ShadowedRule * {
    for (const auto &s : v)
      if (s.rule == 750) return &s;
    return nullptr;
  };
  EXPECT_EQ(find750(defaults), nullptr);
  ASSERT_NE(find750(more), nullptr);
  EXPECT_GT(find750(more)->by.size(), 1u);
  expectUnionClaimsHold(rules, more);
}

// The analysis is bounded: a list the prefix index cannot split (ports only) stops at the work
// budget, says how far it got, and what it found up to there is still right.
TEST(ShadowBudget, StopsAndSaysWhere) {
  std::vector<ir::Rule> rules;
  for (uint64_t i = 0; i < 3000; ++i) {
    ir::Rule r;
    r.matches.push_back(ir::FieldMatch::exact(FieldId::TpDst, i));
    rules.push_back(r);
  }
  rules.push_back(rules[5]); // rule 3000 is shadowed by rule 5
  size_t checked = 0;
  auto all = findShadowedRules(rules, {}, &checked);
  EXPECT_EQ(checked, rules.size());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].rule, 3000u);
  ShadowOptions tight;
  tight.maxWork = 100000; // about 450 rules' worth of pairwise comparisons
  auto some = findShadowedRules(rules, tight, &checked);
  EXPECT_LT(checked, rules.size());
  EXPECT_GT(checked, 100u);
  EXPECT_TRUE(some.empty());
}
