//===- tests/unit/acl_test.cpp - rte_acl traffic-class tables against first-match oracles ----===//
///
/// AclTable::lookup and lookupBurst against a brute-force first match over the same classes
/// (hand-made tables, seeded random tables with boundary-biased vectors) and against ClassBench's
/// own trace (fw1_5K: the trace's last column is the first matching rule). The flat encoding
/// round-trips and rejects corrupt input with exact messages. METRON_ACL_BENCH=1 runs a small
/// benchmark (AclBench.*) that prints lookup and build costs; it asserts nothing about time.
/// Route tables (Lpm.*) go to rte_lpm (runtime/dataplane/Lpm.h) and must give the first match too.
//===----------------------------------------------------------------------------------------===//
#include "runtime/dataplane/Acl.h"
#include "runtime/dataplane/Lpm.h"

#include "compiler/NFIR.h"

#include <gtest/gtest.h>
#include <rte_acl.h>
#include <rte_errno.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace metron::dp {
namespace {

using ir::FieldId;
using Fields = std::array<uint64_t, ir::kNumFields>;

const std::string kData = std::string(METRON_DATA_DIR) + "/";

AclConstraint rng(FieldId f, uint64_t lo, uint64_t hi) { return {uint8_t(f), AclConstraint::Range, lo, hi}; }
AclConstraint msk(FieldId f, uint64_t value, uint64_t mask) { return {uint8_t(f), AclConstraint::Mask, value, mask}; }
uint64_t maxOf(unsigned f) { return ir::fieldInfo(FieldId(f)).maxValue(); }

/// The oracle: the first class whose every constraint holds.
int32_t brute(const std::vector<AclClass> &classes, const uint64_t *v) {
  for (size_t i = 0; i < classes.size(); ++i) {
    bool all = true;
    for (const AclConstraint &k : classes[i].c) {
      uint64_t x = v[k.field];
      if (k.kind == AclConstraint::Range ? (x < k.a || x > k.b) : ((x & k.b) != k.a)) {
        all = false;
        break;
      }
    }
    if (all) return int32_t(i);
  }
  return -1;
}

double nsSince(std::chrono::steady_clock::time_point t0) {
  return double(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
}

std::unique_ptr<AclTable> mustBuild(const std::vector<AclClass> &classes, const std::string &name) {
  std::string err;
  auto t = AclTable::build(classes, name, err);
  EXPECT_TRUE(t) << err;
  return t;
}

std::string show(const uint64_t *v) {
  std::string s;
  for (size_t f = 0; f < ir::kNumFields; ++f)
    if (v[f]) s += std::string(ir::fieldInfo(FieldId(f)).name) + "=" + std::to_string(v[f]) + " ";
  return s;
}

/// lookup and lookupBurst (in bursts of several sizes, across rte_acl chunk boundaries) agree
/// with the oracle on every vector. Returns how many vectors matched some class; \p winners
/// receives how many different classes were the answer.
size_t expectSame(const AclTable &t, const std::vector<AclClass> &classes, const std::vector<Fields> &vs,
                  size_t *winners = nullptr) {
  std::vector<int32_t> want(vs.size());
  std::vector<bool> won(classes.size());
  size_t matched = 0, bad = 0;
  for (size_t i = 0; i < vs.size(); ++i) {
    want[i] = brute(classes, vs[i].data());
    matched += want[i] >= 0;
    if (want[i] >= 0) won[size_t(want[i])] = true;
    int32_t got = t.lookup(vs[i].data());
    if (got != want[i] && ++bad <= 5)
      ADD_FAILURE() << "lookup: " << got << ", first match " << want[i] << " for " << show(vs[i].data());
  }
  std::vector<const uint64_t *> ptrs;
  for (const Fields &v : vs) ptrs.push_back(v.data());
  for (uint32_t burst : {1u, 7u, 32u, 64u, 65u, 200u}) {
    std::vector<int32_t> got(vs.size(), -7);
    for (size_t i = 0; i < vs.size(); i += burst)
      t.lookupBurst(ptrs.data() + i, uint32_t(std::min<size_t>(burst, vs.size() - i)), got.data() + i);
    for (size_t i = 0; i < vs.size(); ++i)
      if (got[i] != want[i] && ++bad <= 10)
        ADD_FAILURE() << "lookupBurst(" << burst << "): " << got[i] << ", first match " << want[i] << " for "
                      << show(vs[i].data());
  }
  if (winners) *winners = size_t(std::count(won.begin(), won.end(), true));
  return matched;
}

/// Values around every bound and mask of the table, per field, for boundary-biased vectors.
std::vector<std::vector<uint64_t>> interestingValues(const std::vector<AclClass> &classes) {
  std::vector<std::vector<uint64_t>> vals(ir::kNumFields);
  for (unsigned f = 0; f < ir::kNumFields; ++f) vals[f] = {0, maxOf(f)};
  for (const AclClass &c : classes)
    for (const AclConstraint &k : c.c) {
      auto &v = vals[k.field];
      uint64_t max = maxOf(k.field);
      if (k.kind == AclConstraint::Range) {
        for (uint64_t x : {k.a, k.b}) v.push_back(x);
        if (k.a > 0) v.push_back(k.a - 1);
        if (k.b < max) v.push_back(k.b + 1);
      } else {
        v.push_back(k.a);                               // matches
        v.push_back(k.a | (~k.b & max));                // matches, every free bit set
        if (k.b) v.push_back(k.a ^ (k.b & (~k.b + 1))); // the lowest looked-at bit flipped
      }
    }
  return vals;
}

/// Vectors: uniform ones, ones built from the interesting values, and ones aimed at a class
/// (each of its constraints at a bound or just outside).
std::vector<Fields> makeVectors(const std::vector<AclClass> &classes, std::mt19937_64 &g, size_t n) {
  auto vals = interestingValues(classes);
  std::vector<Fields> out;
  auto uniform = [&](unsigned f) { return g() & maxOf(f); };
  for (size_t i = 0; i < n; ++i) {
    Fields v{};
    unsigned mode = i % 4;
    for (unsigned f = 0; f < ir::kNumFields; ++f) v[f] = mode == 0 ? uniform(f) : vals[f][g() % vals[f].size()];
    if (mode >= 2 && !classes.empty()) {
      const AclClass &c = classes[g() % classes.size()];
      for (const AclConstraint &k : c.c) {
        uint64_t max = maxOf(k.field);
        uint64_t &x = v[k.field];
        if (k.kind == AclConstraint::Range) {
          switch (g() % 6) {
          case 0: x = k.a; break;
          case 1: x = k.b; break;
          case 2: x = k.a > 0 ? k.a - 1 : k.a; break;
          case 3: x = k.b < max ? k.b + 1 : k.b; break;
          default: x = k.a + g() % (k.b - k.a + 1); break;
          }
        } else {
          x = (x & ~k.b) | k.a; // may undo an earlier range choice: fine, both are probes
          if (g() % 8 == 0 && k.b) x ^= uint64_t(1) << __builtin_ctzll(k.b);
        }
      }
    }
    out.push_back(v);
  }
  return out;
}

// ---- hand-made tables -------------------------------------------------------------------------

TEST(Acl, RangesAndMasksFirstMatch) {
  std::vector<AclClass> classes = {
      {{rng(FieldId::TpDst, 80, 80), msk(FieldId::IpProto, 6, 0xff)}},                   // 0 http
      {{rng(FieldId::TpDst, 1, 1023), rng(FieldId::IpProto, 6, 17)}},                    // 1 low ports, tcp..udp
      {{msk(FieldId::IpDst, 0x0a000000, 0xff000000), rng(FieldId::TpSrc, 1024, 65535)}}, // 2 10/8
      {{msk(FieldId::TcpFlags, 0x02, 0x12)}},                                            // 3 syn, no ack
      {{msk(FieldId::IpDscp, 46, 0x3f), rng(FieldId::VlanPcp, 5, 7)}},                   // 4 EF, high pcp
      {{rng(FieldId::IpTtl, 0, 1)}},                                                     // 5
  };
  auto t = mustBuild(classes, "hand");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->rules(), 6u);
  std::mt19937_64 g(1);
  EXPECT_GT(expectSame(*t, classes, makeVectors(classes, g, 6000)), 1000u);
  Fields v{};
  v[size_t(FieldId::IpProto)] = 6;
  v[size_t(FieldId::TpDst)] = 80;
  v[size_t(FieldId::IpTtl)] = 64;
  EXPECT_EQ(t->lookup(v.data()), 0);
  v[size_t(FieldId::IpProto)] = 17;
  EXPECT_EQ(t->lookup(v.data()), 1);
  v[size_t(FieldId::TpDst)] = 1024;
  EXPECT_EQ(t->lookup(v.data()), -1);
  v[size_t(FieldId::IpTtl)] = 1;
  EXPECT_EQ(t->lookup(v.data()), 5);
}

TEST(Acl, LayoutDefinesOnlyConstrainedFields) {
  // The ClassBench shape: proto leads, the addresses take a word each, the ports share one.
  std::vector<AclClass> fw = {
      {{msk(FieldId::IpSrc, 0xc0a80000, 0xffff0000), msk(FieldId::IpDst, 0, 0), rng(FieldId::TpSrc, 0, 65535),
        rng(FieldId::TpDst, 53, 53), msk(FieldId::IpProto, 17, 0xff)}},
      {{msk(FieldId::IpDst, 0x08080808, 0xffffffff), rng(FieldId::TpSrc, 1024, 2047)}}};
  auto t = mustBuild(fw, "layout");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->layout(), "ip.proto/mask@0:1; ip.src/mask@4:4; ip.dst/mask@8:4; tp.src/range@12:2; tp.dst/range@14:2");
  EXPECT_EQ(t->keyBytes(), 16u);
  // No 8-bit field: a wild lead byte; a lone 2-byte field padded to its word; a MAC in 8 bytes;
  // a field with both kinds twice.
  std::vector<AclClass> other = {
      {{rng(FieldId::EthType, 0x0800, 0x0800), msk(FieldId::EthSrc, 0x001b21000000, 0xffffff000000)}},
      {{rng(FieldId::IpSrc, 5, 9), msk(FieldId::IpSrc, 1, 1)}}};
  t = mustBuild(other, "layout2");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->layout(), "pad@0:1; eth.src/mask@4:8; eth.type/range@12:2; pad@14:1; pad@15:1; ip.src/range@16:4; "
                         "ip.src/mask@20:4");
  EXPECT_EQ(t->aclFields(), 7u);
}

TEST(Acl, MasksAndRangeOnOneField) {
  // tcp.flags: SYN set (mask), ACK clear (a second mask), value within 0x02..0x0f (range).
  std::vector<AclClass> classes = {
      {{msk(FieldId::TcpFlags, 0x02, 0x02), msk(FieldId::TcpFlags, 0x00, 0x10), rng(FieldId::TcpFlags, 0x02, 0x0f)}},
      {{msk(FieldId::TcpFlags, 0x10, 0x10), rng(FieldId::TcpFlags, 0x11, 0x13)}},
      {{rng(FieldId::TcpFlags, 0x80, 0xff), msk(FieldId::TcpFlags, 0x01, 0x01)}},
      {{msk(FieldId::IpSrc, 0x01000000, 0x01000000), msk(FieldId::IpSrc, 0x00000001, 0x00000001),
        rng(FieldId::IpSrc, 0x7f000000, 0x81ffffff)}},
  };
  auto t = mustBuild(classes, "flags");
  ASSERT_TRUE(t);
  std::vector<Fields> all;
  for (uint64_t f = 0; f < 256; ++f) {
    Fields v{};
    v[size_t(FieldId::TcpFlags)] = f;
    all.push_back(v);
  }
  std::mt19937_64 g(2);
  for (const Fields &v : makeVectors(classes, g, 3000)) all.push_back(v);
  EXPECT_GT(expectSame(*t, classes, all), 300u);
}

TEST(Acl, ConflictingMasksNeverMatch) {
  std::vector<AclClass> classes = {
      {{msk(FieldId::IpProto, 0x06, 0x0f), msk(FieldId::IpProto, 0x01, 0x03)}}, // bit 1: 1 and 0
      {{msk(FieldId::TpDst, 0x1, 0x0)}},                                        // a value bit outside its mask
      {{msk(FieldId::IpProto, 0x06, 0x0f), msk(FieldId::IpProto, 0x16, 0x1f)}}, // agree: proto & 0x1f == 0x16
      {},                                                                       // everything
      {{rng(FieldId::TpDst, 0, 10)}},                                           // after a catch-all: unreachable
  };
  auto t = mustBuild(classes, "conflict");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->rules(), 2u); // classes 2 and 3
  std::vector<Fields> all;
  for (uint64_t p = 0; p < 256; ++p) {
    Fields v{};
    v[size_t(FieldId::IpProto)] = p;
    v[size_t(FieldId::TpDst)] = p % 16;
    all.push_back(v);
  }
  expectSame(*t, classes, all);
  for (const Fields &v : all) {
    int32_t r = t->lookup(v.data());
    EXPECT_TRUE(r == 2 || r == 3) << r;
  }
  // Only impossible classes: no rte_acl context, nothing matches.
  auto none = mustBuild({classes[0], classes[1]}, "conflict-only");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->rules(), 0u);
  EXPECT_EQ(none->lookup(all[6].data()), -1);
}

TEST(Acl, MacFields) {
  std::vector<AclClass> classes = {
      {{msk(FieldId::EthSrc, 0x001b21000000, 0xffffff000000)}}, // an OUI
      {{rng(FieldId::EthDst, 0x0000fffffff0, 0x000100000010)}}, // across the 32-bit boundary
      {{rng(FieldId::EthDst, 0xfeffffffffff, 0xffffffffffff), rng(FieldId::EthType, 0x86dd, 0x86dd)}},
      {{msk(FieldId::EthSrc, 0x010000000000, 0x010000000000), rng(FieldId::EthSrc, 0x0100000000ff, 0x7fffffffffff)}},
      {{msk(FieldId::EthDst, 0x000000000001, 0x000000000001)}},
  };
  auto t = mustBuild(classes, "mac");
  ASSERT_TRUE(t);
  std::mt19937_64 g(3);
  EXPECT_GT(expectSame(*t, classes, makeVectors(classes, g, 8000)), 2000u);
  Fields v{};
  v[size_t(FieldId::EthDst)] = 0x000100000000;
  EXPECT_EQ(t->lookup(v.data()), 1);
  v[size_t(FieldId::EthDst)] = 0x000100000011;
  EXPECT_EQ(t->lookup(v.data()), 4);
  v[size_t(FieldId::EthDst)] = 0x0000ffffffef;
  EXPECT_EQ(t->lookup(v.data()), 4);
  v[size_t(FieldId::EthDst)] = 0x0000ffffffee;
  EXPECT_EQ(t->lookup(v.data()), -1);
}

TEST(Acl, EmptyTableAndCatchAll) {
  Fields v{};
  v[size_t(FieldId::IpSrc)] = 0x01020304;
  auto empty = mustBuild({}, "empty");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->lookup(v.data()), -1);
  const uint64_t *p[3] = {v.data(), v.data(), v.data()};
  int32_t out[3] = {5, 5, 5};
  empty->lookupBurst(p, 3, out);
  EXPECT_EQ(out[0], -1);
  EXPECT_EQ(out[2], -1);
  EXPECT_EQ(empty->memoryBytes(), 0u);

  // A catch-all first: every vector gets class 0 (wildcard constraints count as none).
  auto all =
      mustBuild({{{rng(FieldId::TpDst, 0, 65535), msk(FieldId::IpSrc, 0, 0)}}, {{rng(FieldId::TpDst, 1, 1)}}}, "all");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->lookup(v.data()), 0);
  all->lookupBurst(p, 3, out);
  EXPECT_EQ(out[1], 0);

  // A catch-all after other classes goes through rte_acl.
  std::vector<AclClass> classes = {{{msk(FieldId::IpSrc, 0x01020304, 0xffffffff)}}, {{rng(FieldId::TpDst, 7, 9)}}, {}};
  auto t = mustBuild(classes, "default");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->rules(), 3u);
  EXPECT_GT(t->memoryBytes(), 0u);
  std::mt19937_64 g(4);
  EXPECT_EQ(expectSame(*t, classes, makeVectors(classes, g, 999)), 999u);
  EXPECT_EQ(t->lookup(v.data()), 0);
  v[size_t(FieldId::IpSrc)] = 0;
  EXPECT_EQ(t->lookup(v.data()), 2);
}

TEST(Acl, SameNameTablesAreIndependent) {
  // rte_acl_create returns the existing context of a name: the table must not share it.
  std::vector<AclClass> a = {{{rng(FieldId::TpDst, 1, 1)}}},
                        b = {{{rng(FieldId::TpDst, 2, 2)}}, {{rng(FieldId::TpDst, 1, 1)}}};
  auto ta = mustBuild(a, "twin"), tb = mustBuild(b, "twin");
  ASSERT_TRUE(ta && tb);
  Fields v{};
  v[size_t(FieldId::TpDst)] = 1;
  EXPECT_EQ(ta->lookup(v.data()), 0);
  EXPECT_EQ(tb->lookup(v.data()), 1);
  ta.reset();
  EXPECT_EQ(tb->lookup(v.data()), 1);
  // A name longer than rte_acl's RTE_ACL_NAMESIZE is cut, still unique.
  std::string longName(100, 'x');
  auto l1 = mustBuild(a, longName), l2 = mustBuild(b, longName);
  ASSERT_TRUE(l1 && l2);
  EXPECT_EQ(l1->lookup(v.data()), 0);
  EXPECT_EQ(l2->lookup(v.data()), 1);
}

TEST(Acl, BuildRejectsInvalidClasses) {
  std::string err;
  EXPECT_FALSE(AclTable::build({{}, {{rng(FieldId::IpProto, 9, 3)}}}, "bad", err));
  EXPECT_EQ(err, "acl table 'bad': class 1, constraint 0: range 9..3 on ip.proto is reversed");
  EXPECT_FALSE(AclTable::build({{{msk(FieldId::VlanId, 0x1000, 0x1000)}}}, "bad", err));
  EXPECT_EQ(err, "acl table 'bad': class 0, constraint 0: mask value 0x1000 is wider than vlan.id (12 bits)");
  EXPECT_FALSE(AclTable::build({{{AclConstraint{uint8_t(ir::kNumFields), 0, 0, 0}}}}, "bad", err));
  EXPECT_EQ(err, "acl table 'bad': class 0, constraint 0: field id 16 is not a field (0..15)");
  EXPECT_FALSE(AclTable::build({{{AclConstraint{0, 2, 0, 0}}}}, "bad", err));
  EXPECT_EQ(err, "acl table 'bad': class 0, constraint 0: kind 2 is neither 0 (range) nor 1 (mask)");
  EXPECT_FALSE(AclTable::build({{{rng(FieldId::TpSrc, 1, 2), rng(FieldId::TpSrc, 1, 3)}}}, "bad", err));
  EXPECT_EQ(err,
            "acl table 'bad': class 0, constraint 1: a second range on tp.src (a class has at most one per field)");
}

// ---- random tables ----------------------------------------------------------------------------

/// A random constraint on field f, shaped like rule sets: mostly exact values, short ranges and
/// long prefixes, some arbitrary ranges on narrow fields and sparse bit masks. \p wide makes
/// arbitrary ranges and short prefixes common on every field: what makes rte_acl's tries grow.
AclConstraint randomConstraint(unsigned f, std::mt19937_64 &g, bool wide = false) {
  uint64_t max = maxOf(f);
  unsigned bits = ir::fieldInfo(FieldId(f)).bits;
  if (g() % 2 == 0) {
    uint64_t lo = g() & max, hi = lo;
    unsigned r = unsigned(g() % 20);
    if (r < 2 || (wide && r < 10)) {
      if (bits <= 16 || wide)
        hi = std::max(lo, g() & max); // anything
      else
        hi = std::min(max, lo + (g() & 0xffff));
    } else if (r < 10) {
      hi = std::min(max, lo + g() % 64);
    }
    return rng(FieldId(f), lo, hi);
  }
  uint64_t mask;
  if (g() % 5 != 0) {
    unsigned len = wide ? 1 + unsigned(g() % bits) : bits - unsigned(g() % (bits / 2 + 1));
    mask = (max >> (bits - len)) << (bits - len); // a prefix
  } else {
    mask = 0;
    for (unsigned i = 0, n = 1 + unsigned(g() % 3); i < n; ++i) mask |= uint64_t(1) << (g() % bits); // a few bits
  }
  return msk(FieldId(f), g() & mask, mask);
}

std::vector<AclClass> randomTable(std::mt19937_64 &g, size_t n, const std::vector<unsigned> &pool, bool wide = false) {
  std::vector<AclClass> classes(n);
  for (AclClass &c : classes) {
    unsigned k = 2 + unsigned(g() % 4); // broad classes would hide every later class
    uint32_t ranged = 0;
    for (unsigned i = 0; i < k; ++i) {
      unsigned f = pool[g() % pool.size()];
      AclConstraint con = randomConstraint(f, g, wide);
      if (con.kind == AclConstraint::Range && (ranged & (1u << f))) continue;
      if (con.kind == AclConstraint::Range) ranged |= 1u << f;
      c.c.push_back(con);
      // Sometimes a second mask on the same field: agreeing with the first, or random.
      if (con.kind == AclConstraint::Mask && g() % 6 == 0) {
        uint64_t m2 = g() & maxOf(f);
        c.c.push_back(msk(FieldId(f), (g() % 2 ? con.a : g()) & m2, m2));
      }
    }
  }
  return classes;
}

TEST(Acl, RandomTablesAgainstBruteForce) {
  std::vector<unsigned> every;
  for (unsigned f = 0; f < ir::kNumFields; ++f) every.push_back(f);
  auto ids = [](std::initializer_list<FieldId> fs) {
    std::vector<unsigned> out;
    for (FieldId f : fs) out.push_back(unsigned(f));
    return out;
  };
  std::vector<std::vector<unsigned>> pools = {
      every,
      ids({FieldId::IpSrc, FieldId::IpDst, FieldId::TpSrc, FieldId::TpDst, FieldId::IpProto}),
      ids({FieldId::InPort, FieldId::EthSrc, FieldId::EthDst, FieldId::EthType, FieldId::VlanId, FieldId::VlanPcp}),
      ids({FieldId::TcpFlags, FieldId::IcmpType, FieldId::IcmpCode, FieldId::IpDscp, FieldId::IpTtl, FieldId::IpDst,
           FieldId::TpDst}),
  };
  size_t tables = 0;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    std::mt19937_64 g(seed * 7919);
    const auto &pool = pools[seed % pools.size()];
    // rte_acl builds tables over many fields slowly (and splits them into contexts): fewer.
    size_t n = pool.size() > 8 ? 150 + g() % 100 : 200 + g() % 400;
    std::vector<AclClass> classes = randomTable(g, n, pool);
    std::string err;
    auto t0 = std::chrono::steady_clock::now();
    auto t = AclTable::build(classes, "random", err);
    double ms = nsSince(t0) / 1e6;
    ASSERT_TRUE(t) << "seed " << seed << ": " << err;
    std::vector<Fields> vs = makeVectors(classes, g, 6000);
    size_t winners = 0;
    size_t matched = expectSame(*t, classes, vs, &winners);
    EXPECT_GT(matched, vs.size() / 10) << "seed " << seed << ": too few vectors match anything";
    EXPECT_GT(winners, n / 4) << "seed " << seed << ": too few classes are ever the answer";
    printf("seed %u: %zu classes over %zu fields -> %u rules, %u rte_acl fields, %u contexts, built in %.0f ms; "
           "%zu/%zu vectors match, %zu classes win\n",
           unsigned(seed), n, pool.size(), t->rules(), t->aclFields(), t->contexts(), ms, matched, vs.size(), winners);
    ++tables;
    // The encoding round-trips the same table.
    std::vector<uint64_t> w = encodeAclTable(classes);
    std::vector<AclClass> back;
    ASSERT_TRUE(decodeAclTable(w.data(), w.size(), back, err)) << err;
    EXPECT_EQ(back, classes);
  }
  EXPECT_EQ(tables, 8u);
}

TEST(Acl, TablesBeyondEightTriesSplitIntoContexts) {
  // Wide ranges and short prefixes over every field: rte_acl needs more than its 8 tries, the
  // table goes into several consecutive contexts, and the first match must survive that.
  std::vector<unsigned> every;
  for (unsigned f = 0; f < ir::kNumFields; ++f) every.push_back(f);
  std::mt19937_64 g(4);
  std::vector<AclClass> classes = randomTable(g, 150, every, true);
  auto t0 = std::chrono::steady_clock::now();
  auto t = mustBuild(classes, "split");
  ASSERT_TRUE(t);
  printf("split: %u rules, %u contexts, built in %.0f ms\n", t->rules(), t->contexts(), nsSince(t0) / 1e6);
  EXPECT_GT(t->contexts(), 1u);
  size_t winners = 0;
  expectSame(*t, classes, makeVectors(classes, g, 6000), &winners);
  EXPECT_GT(winners, classes.size() / 4);
}

TEST(Acl, TheComparisonCanFail) {
  // A table shifted by one class must disagree with the oracle: the checks above are not blind.
  std::mt19937_64 g(99);
  std::vector<unsigned> pool = {unsigned(FieldId::IpSrc), unsigned(FieldId::TpDst), unsigned(FieldId::IpProto)};
  std::vector<AclClass> classes = randomTable(g, 300, pool);
  std::vector<AclClass> shifted(classes.begin() + 1, classes.end());
  auto t = mustBuild(shifted, "shifted");
  ASSERT_TRUE(t);
  size_t differ = 0;
  for (const Fields &v : makeVectors(classes, g, 3000)) differ += t->lookup(v.data()) != brute(classes, v.data());
  EXPECT_GT(differ, 100u);
}

// ---- ClassBench -------------------------------------------------------------------------------

/// `@a.b.c.d/len a.b.c.d/len lo : hi lo : hi 0xPP/0xMM` -> ip.src/ip.dst masks, port ranges, proto mask.
std::vector<AclClass> readClassBench(const std::string &path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<AclClass> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    unsigned s[4], d[4], sl, dl, splo, sphi, dplo, dphi, proto, pmask;
    int n = sscanf(line.c_str(), "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x", &s[0], &s[1], &s[2], &s[3],
                   &sl, &d[0], &d[1], &d[2], &d[3], &dl, &splo, &sphi, &dplo, &dphi, &proto, &pmask);
    EXPECT_EQ(n, 16) << line;
    if (n != 16) break;
    auto addr = [](unsigned *a) { return uint64_t(a[0]) << 24 | a[1] << 16 | a[2] << 8 | a[3]; };
    auto prefixMask = [](unsigned len) { return len == 0 ? 0 : uint64_t(0xffffffffu << (32 - len)) & 0xffffffffu; };
    AclClass c;
    c.c.push_back(msk(FieldId::IpSrc, addr(s) & prefixMask(sl), prefixMask(sl)));
    c.c.push_back(msk(FieldId::IpDst, addr(d) & prefixMask(dl), prefixMask(dl)));
    c.c.push_back(rng(FieldId::TpSrc, splo, sphi));
    c.c.push_back(rng(FieldId::TpDst, dplo, dphi));
    c.c.push_back(msk(FieldId::IpProto, proto & pmask, pmask));
    out.push_back(std::move(c));
  }
  return out;
}

struct TraceLine {
  Fields v{};
  int32_t want; ///< 0-based first match, -1 none
};

std::vector<TraceLine> readTrace(const std::string &path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<TraceLine> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    uint64_t src, dst, sport, dport, proto, rule;
    if (!(ls >> src >> dst >> sport >> dport >> proto >> rule)) {
      ADD_FAILURE() << "bad trace line: " << line;
      break;
    }
    TraceLine t;
    t.v[size_t(FieldId::EthType)] = 0x0800;
    t.v[size_t(FieldId::IpSrc)] = src;
    t.v[size_t(FieldId::IpDst)] = dst;
    t.v[size_t(FieldId::TpSrc)] = sport;
    t.v[size_t(FieldId::TpDst)] = dport;
    t.v[size_t(FieldId::IpProto)] = proto;
    t.want = int32_t(rule) - 1;
    out.push_back(t);
  }
  return out;
}

TEST(Acl, ClassBenchTrace) {
  const std::string dir = kData + "classbench/pclasseval_song/";
  std::vector<AclClass> classes = readClassBench(dir + "fw1_5K");
  std::vector<TraceLine> trace = readTrace(dir + "fw1_5K_trace");
  ASSERT_EQ(classes.size(), 4653u);
  ASSERT_EQ(trace.size(), 46700u);
  auto t = mustBuild(classes, "fw1_5K");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->layout(), "ip.proto/mask@0:1; ip.src/mask@4:4; ip.dst/mask@8:4; tp.src/range@12:2; tp.dst/range@14:2");
  size_t bad = 0, matched = 0;
  std::vector<const uint64_t *> ptrs;
  for (size_t i = 0; i < trace.size(); ++i) {
    const TraceLine &l = trace[i];
    ptrs.push_back(l.v.data());
    matched += l.want >= 0;
    int32_t got = t->lookup(l.v.data());
    if (got != l.want && ++bad <= 5)
      ADD_FAILURE() << "trace line " << i + 1 << ": " << got << ", trace says " << l.want;
    // The brute force agrees with the trace (every 7th line: it is slow), so the parse is right.
    if (i % 7 == 0 && brute(classes, l.v.data()) != l.want && ++bad <= 5)
      ADD_FAILURE() << "trace line " << i + 1 << ": brute force " << brute(classes, l.v.data()) << ", trace says "
                    << l.want;
  }
  std::vector<int32_t> got(trace.size());
  t->lookupBurst(ptrs.data(), uint32_t(ptrs.size()), got.data());
  for (size_t i = 0; i < trace.size(); ++i)
    if (got[i] != trace[i].want && ++bad <= 10)
      ADD_FAILURE() << "burst, trace line " << i + 1 << ": " << got[i] << ", trace says " << trace[i].want;
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(matched, trace.size()); // every header of this trace matches a rule

  // The trace check can fail: without the first rule the answers move.
  std::vector<AclClass> shifted(classes.begin() + 1, classes.end());
  auto s = mustBuild(shifted, "fw1_5K-shifted");
  ASSERT_TRUE(s);
  size_t differ = 0;
  for (const TraceLine &l : trace) differ += s->lookup(l.v.data()) != l.want;
  EXPECT_GT(differ, trace.size() / 2);
}

TEST(Acl, BuildFailureSaysWhichCallAndLimit) {
  std::vector<AclClass> classes = readClassBench(kData + "classbench/pclasseval_song/fw1_5K");
  classes.resize(300);
  std::string err;
  auto t = AclTable::build(classes, "tiny", err, 4096);
  ASSERT_FALSE(t);
  EXPECT_EQ(err, std::string("acl table 'tiny': rte_acl_build failed: ") + rte_strerror(ERANGE) +
                     " (300 rules, 5 fields of 16 key bytes; the run-time tries do not fit max_size 4096 bytes even "
                     "split into more tries)");
  t = AclTable::build(classes, "roomy", err, 64 << 20);
  ASSERT_TRUE(t) << err;
  EXPECT_LT(t->memoryBytes(), size_t(64) << 20);
}

// ---- the flat encoding ------------------------------------------------------------------------

TEST(Acl, EncodingRoundTrip) {
  std::vector<AclClass> classes = {
      {},
      {{rng(FieldId::EthDst, 1, 0xffffffffffff), msk(FieldId::TcpFlags, 2, 0x12), msk(FieldId::TcpFlags, 0, 0x10)}},
      {}};
  std::vector<uint64_t> w = encodeAclTable(classes);
  std::vector<uint64_t> want = {kAclMagic,
                                3,
                                0,
                                3,
                                uint64_t(FieldId::EthDst),
                                1,
                                0xffffffffffff,
                                uint64_t(FieldId::TcpFlags) | 1 << 8,
                                2,
                                0x12,
                                uint64_t(FieldId::TcpFlags) | 1 << 8,
                                0,
                                0x10,
                                0};
  EXPECT_EQ(w, want);
  std::vector<AclClass> back;
  std::string err;
  ASSERT_TRUE(decodeAclTable(w.data(), w.size(), back, err)) << err;
  EXPECT_EQ(back, classes);
  std::vector<uint64_t> none = encodeAclTable({});
  ASSERT_TRUE(decodeAclTable(none.data(), none.size(), back, err)) << err;
  EXPECT_TRUE(back.empty());
  // Every truncation fails, and leaves nothing behind.
  for (size_t n = 0; n < w.size(); ++n) {
    back = classes;
    EXPECT_FALSE(decodeAclTable(w.data(), n, back, err)) << n;
    EXPECT_TRUE(back.empty());
  }
}

TEST(Acl, DecodeRejectsCorruptInput) {
  std::vector<AclClass> classes = {{{rng(FieldId::TpDst, 80, 90)}}, {{msk(FieldId::IpProto, 6, 0xff)}}};
  const std::vector<uint64_t> good = encodeAclTable(classes); // M 2 | 1 (tp.dst 0) 80 90 | 1 (proto 1) 6 0xff
  auto decode = [](std::vector<uint64_t> w) {
    std::vector<AclClass> out;
    std::string err;
    EXPECT_FALSE(decodeAclTable(w.data(), w.size(), out, err));
    return err;
  };
  auto with = [&](size_t i, uint64_t v) {
    std::vector<uint64_t> w = good;
    w[i] = v;
    return decode(w);
  };
  EXPECT_EQ(decode({}), "acl table: truncated: 0 words, the header alone needs 2");
  EXPECT_EQ(
      with(0, 42),
      "acl table: word 0 is 0x2a, not the magic 0x4d545241434c0001 (not an acl table, or another format version)");
  EXPECT_EQ(with(1, 1000000), "acl table: word 1 announces 1000000 classes but only 8 words follow");
  EXPECT_EQ(with(1, 3), "acl table: truncated: class 2 of 3 starts at word 10, past the end (10 words)");
  EXPECT_EQ(with(2, 5), "acl table: truncated: word 2 gives class 0 5 constraints, but only 7 words follow");
  EXPECT_EQ(with(3, 16), "acl table: word 3 (class 0, constraint 0): field id 16 is not a field (0..15)");
  EXPECT_EQ(with(3, uint64_t(FieldId::TpDst) | 2 << 8),
            "acl table: word 3 (class 0, constraint 0): kind 2 is neither 0 (range) nor 1 (mask)");
  EXPECT_EQ(with(3, uint64_t(FieldId::TpDst) | 1 << 16),
            "acl table: word 3 (class 0, constraint 0): reserved bits set in 0x1000c");
  EXPECT_EQ(with(4, 91), "acl table: word 3 (class 0, constraint 0): range 91..90 on tp.dst is reversed");
  EXPECT_EQ(with(5, 65536),
            "acl table: word 3 (class 0, constraint 0): range value 0x10000 is wider than tp.dst (16 bits)");
  EXPECT_EQ(with(9, 0x1ff),
            "acl table: word 7 (class 1, constraint 0): mask value 0x1ff is wider than ip.proto (8 bits)");
  std::vector<uint64_t> extra = good;
  extra.push_back(0);
  EXPECT_EQ(decode(extra), "acl table: 1 word after the last class (word 10 on)");
  std::vector<uint64_t> twoRanges = {kAclMagic, 1, 2, uint64_t(FieldId::TpDst), 1, 2, uint64_t(FieldId::TpDst), 3, 4};
  EXPECT_EQ(decode(twoRanges),
            "acl table: word 6 (class 0, constraint 1): a second range on tp.dst (a class has at most one per field)");
  // Random corruption never crashes, and what decodes is valid.
  std::mt19937_64 g(5);
  std::vector<unsigned> every;
  for (unsigned f = 0; f < ir::kNumFields; ++f) every.push_back(f);
  std::vector<uint64_t> big = encodeAclTable(randomTable(g, 50, every));
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint64_t> w = big;
    for (int k = 0; k < 3; ++k) {
      size_t at = g() % w.size();
      w[at] = g() % 4 == 0 ? g() : w[at] ^ (uint64_t(1) << (g() % 64));
    }
    std::vector<AclClass> out;
    std::string err;
    if (decodeAclTable(w.data(), w.size(), out, err)) {
      EXPECT_TRUE(validateAclClasses(out, err)) << err;
    } else {
      EXPECT_EQ(err.rfind("acl table: ", 0), 0u) << err;
    }
  }
}

// ---- rte_lpm for route tables (Lpm.h) ----------------------------------------------------------

/// A route table: prefixes (mostly /16 to /32, some /8 to /15) around a few dozen bases, so
/// that they nest and repeat, each class also requiring \p guard; longest first as synthesis
/// orders routes, or in random order (then classes shadow later ones); a default route
/// somewhere when \p withDefault.
std::vector<AclClass> randomRoutes(std::mt19937_64 &g, size_t n, FieldId f, const std::vector<AclConstraint> &guard,
                                   bool longestFirst, bool withDefault) {
  std::vector<uint32_t> bases(40);
  for (uint32_t &b : bases) b = uint32_t(g());
  std::vector<std::pair<int, AclClass>> out;
  for (size_t i = 0; i < n; ++i) {
    AclClass c;
    c.c = guard;
    int d = g() % 5 ? 16 + int(g() % 17) : 8 + int(g() % 8);
    uint32_t a = bases[g() % bases.size()] ^ uint32_t(g() & 0xffff);
    uint32_t m = uint32_t(0xffffffffull << (32 - d));
    c.c.push_back(msk(f, a & m, m));
    std::shuffle(c.c.begin(), c.c.end(), g);
    out.push_back({d, std::move(c)});
  }
  if (longestFirst)
    std::stable_sort(out.begin(), out.end(), [](const auto &x, const auto &y) { return x.first > y.first; });
  std::vector<AclClass> classes;
  for (auto &[d, c] : out) classes.push_back(std::move(c));
  if (withDefault) classes.insert(classes.begin() + std::ptrdiff_t(longestFirst ? n : g() % (n + 1)), AclClass{guard});
  return classes;
}

TEST(Lpm, RouteTablesAgainstBruteForce) {
  size_t shaped = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    std::mt19937_64 g(seed * 104729);
    FieldId f = seed % 3 ? FieldId::IpDst : FieldId::IpSrc;
    std::vector<AclConstraint> guard;
    if (seed % 2) guard.push_back(msk(FieldId::EthType, 0x0800, 0xffff));
    if (seed % 4 == 1) guard.push_back(rng(FieldId::IpProto, 6, 17));
    const bool longestFirst = seed % 2 == 0;
    std::vector<AclClass> classes = randomRoutes(g, 50 + g() % 2000, f, guard, longestFirst, seed % 3 == 0);
    std::string err, why;
    auto t = LpmTable::build(classes, "routes", err, &why);
    ASSERT_TRUE(t) << "seed " << seed << ": " << err << why;
    EXPECT_EQ(t->field(), uint8_t(f));
    ++shaped;
    std::vector<Fields> vs = makeVectors(classes, g, 20000);
    size_t bad = 0, matched = 0;
    std::vector<bool> won(classes.size());
    for (const Fields &v : vs) {
      int32_t want = brute(classes, v.data()), got = t->lookup(v.data());
      matched += want >= 0;
      if (want >= 0) won[size_t(want)] = true;
      if (got != want && ++bad <= 5) ADD_FAILURE() << "seed " << seed << ": lpm " << got << ", first match " << want << " for " << show(v.data());
    }
    size_t winners = size_t(std::count(won.begin(), won.end(), true));
    EXPECT_GT(matched, vs.size() / 4) << "seed " << seed;
    EXPECT_GT(winners, classes.size() / (longestFirst ? 4 : 20)) << "seed " << seed;
    printf("seed %u: %zu routes on %s, guard of %zu -> %u prefixes in rte_lpm; %zu/%zu vectors match, %zu classes win\n",
           unsigned(seed), classes.size(), f == FieldId::IpDst ? "ip.dst" : "ip.src", guard.size(), t->rules(), matched,
           vs.size(), winners);
  }
  EXPECT_EQ(shaped, 12u);
}

TEST(Lpm, OtherShapesAreLeftToRteAcl) {
  const auto ether = msk(FieldId::EthType, 0x0800, 0xffff);
  auto refused = [](const std::vector<AclClass> &classes) {
    std::string err, why;
    auto t = LpmTable::build(classes, "shape", err, &why);
    EXPECT_FALSE(t);
    EXPECT_EQ(err, "");
    return why;
  };
  EXPECT_EQ(refused({{{msk(FieldId::IpDst, 0x0a000000, 0xff000000)}}, {{rng(FieldId::IpDst, 1, 5)}}}),
            "class 1 is not a prefix of ip.dst; class 1 constrains other fields than class 0 besides ip.src");
  EXPECT_EQ(refused({{{msk(FieldId::IpDst, 0x0a000000, 0xff00ff00)}}, {{msk(FieldId::IpDst, 0x0b000000, 0xff000000)}}}),
            "class 0 is not a prefix of ip.dst; class 1 constrains other fields than class 0 besides ip.src");
  EXPECT_EQ(refused({{{msk(FieldId::IpDst, 0x0a000000, 0xff000000), ether}}, {{msk(FieldId::IpDst, 0, 0x80000000)}}}),
            "class 1 constrains other fields than class 0 besides ip.dst; "
            "class 1 constrains other fields than class 0 besides ip.src");
  EXPECT_EQ(refused({{{msk(FieldId::IpDst, 0x0a000000, 0xff000000)}}, {{msk(FieldId::IpSrc, 0, 0x80000000)}}}),
            "class 1 constrains other fields than class 0 besides ip.dst; "
            "class 1 constrains other fields than class 0 besides ip.src");
  EXPECT_EQ(refused({{{rng(FieldId::IpDst, 0x0a000000, 0x0a0000ff)}}, {{rng(FieldId::IpDst, 0x0a000001, 0x0a000002)}}}),
            "class 1 is not a prefix of ip.dst; class 1 constrains other fields than class 0 besides ip.src");
  // Invalid classes are an error, not a shape.
  std::string err;
  EXPECT_FALSE(LpmTable::build({{{msk(FieldId::IpDst, 1, 0x1ffffffffull)}}}, "bad", err));
  EXPECT_NE(err, "");
}

TEST(Lpm, DefaultRouteAndShadowedClasses) {
  // /8, then a /16 inside it (never the first match: left out), a default, then anything after
  // the default (never the first match either).
  std::vector<AclClass> classes = {{{msk(FieldId::IpDst, 0x0a000000, 0xff000000)}},
                                   {{msk(FieldId::IpDst, 0x0a010000, 0xffff0000)}},
                                   {{rng(FieldId::IpDst, 0xc0a80000, 0xc0a8ffff)}}, // a /16 as synthesis writes it
                                   {},
                                   {{msk(FieldId::IpDst, 0x08080808, 0xffffffff)}}};
  std::string err;
  auto t = LpmTable::build(classes, "default", err);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(t->rules(), 2u);
  Fields v{};
  for (auto [addr, want] : std::vector<std::pair<uint32_t, int32_t>>{
           {0x0a010203, 0}, {0x0aff0000, 0}, {0xc0a80101, 2}, {0x08080808, 3}, {0x01020304, 3}}) {
    v[size_t(FieldId::IpDst)] = addr;
    EXPECT_EQ(t->lookup(v.data()), want) << std::hex << addr;
    EXPECT_EQ(brute(classes, v.data()), want) << std::hex << addr;
  }
}

// ---- benchmark (METRON_ACL_BENCH=1) -----------------------------------------------------------

TEST(AclBench, ClassBenchLookupAndBuild) {
  if (!getenv("METRON_ACL_BENCH")) GTEST_SKIP() << "set METRON_ACL_BENCH=1 to run";
  const std::string dir = kData + "classbench/pclasseval_song/";
  for (const char *set : {"fw1_5K", "fw1_10K"}) {
    std::vector<AclClass> classes = readClassBench(dir + set);
    std::vector<TraceLine> trace = readTrace(dir + set + "_trace");
    std::vector<const uint64_t *> ptrs;
    for (const TraceLine &l : trace) ptrs.push_back(l.v.data());
    for (size_t maxBytes : {size_t(0), size_t(256) << 20}) {
      std::string err;
      auto t0 = std::chrono::steady_clock::now();
      auto t = AclTable::build(classes, set, err, maxBytes);
      double buildNs = nsSince(t0);
      ASSERT_TRUE(t) << err;
      const size_t reps = std::max<size_t>(1, 2000000 / trace.size());
      volatile int32_t sink = 0;
      t0 = std::chrono::steady_clock::now();
      for (size_t r = 0; r < reps; ++r)
        for (const TraceLine &l : trace) sink = sink + t->lookup(l.v.data());
      double single = nsSince(t0) / double(reps * trace.size());
      double burstNs[2];
      std::vector<int32_t> out(trace.size());
      for (int b = 0; b < 2; ++b) {
        uint32_t burst = b == 0 ? 32 : 64;
        t0 = std::chrono::steady_clock::now();
        for (size_t r = 0; r < reps; ++r)
          for (size_t i = 0; i + burst <= trace.size(); i += burst)
            t->lookupBurst(ptrs.data() + i, burst, out.data() + i);
        burstNs[b] = nsSince(t0) / double(reps * (trace.size() / burst * burst));
      }
      size_t bad = 0;
      for (size_t i = 0; i < trace.size(); ++i) bad += t->lookup(trace[i].v.data()) != trace[i].want;
      EXPECT_EQ(bad, 0u);
      printf("[acl bench] %-8s max_size %-9s %5zu classes: build %7.1f ms, %6.2f MiB (%u fields, %u key bytes); "
             "lookup %6.1f ns/pkt, burst32 %6.1f ns/pkt, burst64 %6.1f ns/pkt\n",
             set, maxBytes ? "256MiB" : "0", classes.size(), buildNs / 1e6, double(t->memoryBytes()) / (1 << 20),
             t->aclFields(), t->keyBytes(), single, burstNs[0], burstNs[1]);
    }
    // The brute force over the same trace (a subset: it is slow).
    volatile int32_t sink = 0;
    size_t n = std::min<size_t>(trace.size(), 20000);
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < n; ++i) sink = sink + brute(classes, trace[i].v.data());
    printf("[acl bench] %-8s brute force first match: %8.1f ns/pkt\n", set, nsSince(t0) / double(n));
  }
}

} // namespace
} // namespace metron::dp
