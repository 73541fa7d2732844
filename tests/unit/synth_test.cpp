//===- tests/unit/synth_test.cpp - Boxes and their set algebra --------------------------------===//
///
/// Box (compiler/synth) keeps per field one Range and one Mask and tightens the Range to the
/// values the Mask admits. Every operation is checked against enumeration over two 8-bit fields
/// (tcp.flags and ip.proto: 65,536 points), with random ranges, prefixes and masks.
//===----------------------------------------------------------------------------------------===//
#include "compiler/synth/Synth.h"

#include <gtest/gtest.h>
#include <random>

using namespace metron;
using namespace metron::synth;
using ir::FieldId;
using ir::FieldMatch;

namespace {

FieldMatch randomMatch(std::mt19937 &rng, FieldId f) {
  switch (rng() % 3) {
  case 0: {
    uint64_t a = rng() % 256, b = rng() % 256;
    if (a > b) std::swap(a, b);
    return FieldMatch::range(f, a, b);
  }
  case 1: {
    unsigned len = rng() % 9;
    uint64_t mask = len ? (0xffu << (8 - len)) & 0xff : 0;
    return FieldMatch::masked(f, rng() & mask, mask);
  }
  default: return FieldMatch::masked(f, rng() % 256, rng() % 256); // usually non-contiguous
  }
}

Box randomBox(std::mt19937 &rng) {
  Box b;
  for (int i = 0, n = int(rng() % 4); i < n; ++i) {
    Box one;
    one.m.push_back(randomMatch(rng, rng() % 2 ? FieldId::TcpFlags : FieldId::IpProto));
    Box out;
    if (!b.intersect(one, out)) return b; // keep it non-empty
    b = out;
  }
  return b;
}

/// The points of the box over (tcp.flags, ip.proto), as a 65,536-bit set.
std::vector<bool> points(const Box &b) {
  std::vector<bool> s(65536);
  std::array<uint64_t, ir::kNumFields> v{};
  for (uint64_t x = 0; x < 256; ++x)
    for (uint64_t y = 0; y < 256; ++y) {
      v[size_t(FieldId::TcpFlags)] = x;
      v[size_t(FieldId::IpProto)] = y;
      s[x * 256 + y] = b.contains(v);
    }
  return s;
}

} // namespace

TEST(Box, SetAlgebraAgreesWithEnumeration) {
  std::mt19937 rng(20261125);
  for (int iter = 0; iter < 400; ++iter) {
    Box a = randomBox(rng), b = randomBox(rng);
    auto pa = points(a), pb = points(b);
    std::vector<bool> both(65536);
    bool any = false, aInB = true;
    for (size_t i = 0; i < both.size(); ++i) {
      both[i] = pa[i] && pb[i];
      any |= both[i];
      aInB &= !pa[i] || pb[i];
    }
    Box c;
    bool nonEmpty = a.intersect(b, c);
    ASSERT_EQ(nonEmpty, any) << a.str() << " ∩ " << b.str();
    ASSERT_EQ(a.overlaps(b), any);
    if (nonEmpty) {
      ASSERT_EQ(points(c), both) << a.str() << " ∩ " << b.str() << " = " << c.str();
      // At most one Range and one Mask per field, and a Range with a Mask starts on a value the
      // Mask admits (the tightening).
      for (FieldId f : {FieldId::TcpFlags, FieldId::IpProto}) {
        auto on = c.on(f);
        ASSERT_LE(on.size(), 2u);
        if (on.size() == 2) {
          const FieldMatch *r = on[0]->kind == FieldMatch::Range ? on[0] : on[1];
          const FieldMatch *m = on[0]->kind == FieldMatch::Mask ? on[0] : on[1];
          ASSERT_NE(r, m);
          EXPECT_TRUE(m->contains(r->lo) && m->contains(r->hi)) << c.str();
        }
      }
    }
    // subsetOf is exact for ranges and may only err towards "no" with masks.
    if (a.subsetOf(b)) {
      ASSERT_TRUE(aInB) << a.str() << " ⊆ " << b.str();
    }
  }
}

TEST(Box, MinMaxMatchingByHand) {
  uint64_t v = 0;
  // Values with bit 1 set and bit 4 clear (0x02/0x12), 8 bits: 2, 3, 6, 7, 10, 11, 14, 15, 34...
  ASSERT_TRUE(minMatching(4, 0x02, 0x12, 0xff, v));
  EXPECT_EQ(v, 6u);
  ASSERT_TRUE(minMatching(16, 0x02, 0x12, 0xff, v));
  EXPECT_EQ(v, 34u);
  ASSERT_TRUE(maxMatching(33, 0x02, 0x12, 0xff, v));
  EXPECT_EQ(v, 15u);
  ASSERT_TRUE(minMatching(0xef, 0x02, 0x12, 0xff, v)); // 1110 1111: bit 4 clear, bit 1 set
  EXPECT_EQ(v, 0xefu);
  EXPECT_FALSE(minMatching(0xf0, 0x02, 0x12, 0xff, v)); // 0xf0-0xff all have bit 4 set
  EXPECT_FALSE(maxMatching(1, 0x02, 0x12, 0xff, v));    // 0 and 1 have bit 1 clear
}
