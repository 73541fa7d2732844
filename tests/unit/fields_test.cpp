//===- tests/unit/fields_test.cpp - Packet fields, FieldMatch set algebra, address parsing ----===//
#include "compiler/NFIR.h"

#include <gtest/gtest.h>

#include <random>

using namespace metron;
using namespace metron::ir;

TEST(Fields, Catalogue) {
  EXPECT_EQ(fieldByName("ip.src"), FieldId::IpSrc);
  EXPECT_EQ(fieldByName("tcp.flags"), FieldId::TcpFlags);
  EXPECT_FALSE(fieldByName("ip.source"));
  EXPECT_EQ(fieldInfo(FieldId::TpDst).maxValue(), 65535u);
  EXPECT_EQ(fieldInfo(FieldId::VlanId).maxValue(), 4095u);
  EXPECT_FALSE(fieldInfo(FieldId::IpProto).writable);
  EXPECT_EQ(allFields().size(), kNumFields);
}

TEST(Fields, Addresses) {
  uint32_t a;
  EXPECT_TRUE(parseIpv4("10.0.0.255", a));
  EXPECT_EQ(a, 0x0A0000FFu);
  EXPECT_FALSE(parseIpv4("256.0.0.1", a));
  EXPECT_FALSE(parseIpv4("1.2.3", a));
  EXPECT_FALSE(parseIpv4("1.2.3.4.5", a));
  EXPECT_FALSE(parseIpv4("1..2.3", a));
  EXPECT_FALSE(parseIpv4("0001.2.3.4", a));
  EXPECT_EQ(ipv4Str(0xC0A80001u), "192.168.0.1");
  uint64_t m;
  EXPECT_TRUE(parseMac("02:00:aB:cd:EF:01", m));
  EXPECT_EQ(macStr(m), "02:00:ab:cd:ef:01");
  EXPECT_FALSE(parseMac("02:00:ab:cd:ef", m));
  EXPECT_FALSE(parseMac("02-00-ab-cd-ef-01", m));
}

TEST(FieldMatch, NormalisesContiguousMasks) {
  FieldMatch p = FieldMatch::masked(FieldId::IpDst, 0x0A000000, 0xFF000000);
  EXPECT_EQ(p.kind, FieldMatch::Range);
  EXPECT_EQ(p.str(), "10.0.0.0/8");
  FieldMatch exact = FieldMatch::masked(FieldId::IpProto, 6, 0xFF);
  EXPECT_EQ(exact.kind, FieldMatch::Range);
  EXPECT_EQ(exact.str(), "6");
  FieldMatch any = FieldMatch::masked(FieldId::IpProto, 0, 0);
  EXPECT_TRUE(any.isWildcard());
  FieldMatch syn = FieldMatch::masked(FieldId::TcpFlags, 0x02, 0x12);
  EXPECT_EQ(syn.kind, FieldMatch::Mask);
  EXPECT_EQ(syn.str(), "0x2/0x12");
}

/// subsetOf / overlaps / contains against enumeration of all 256 values of an 8-bit field.
TEST(FieldMatch, SetAlgebraAgreesWithEnumeration) {
  std::mt19937 rng(42);
  auto randomMatch = [&]() {
    if (rng() % 2) {
      uint64_t a = rng() % 256, b = rng() % 256;
      if (rng() % 4 == 0) b = a;
      return FieldMatch::range(FieldId::IcmpType, std::min(a, b), std::max(a, b));
    }
    uint64_t mask = rng() % 256;
    if (rng() % 3 == 0) mask = 0xF0;
    return FieldMatch::masked(FieldId::IcmpType, rng() % 256, mask);
  };
  for (int iter = 0; iter < 20000; ++iter) {
    FieldMatch x = randomMatch(), y = randomMatch();
    bool subset = true, overlap = false;
    for (uint64_t v = 0; v < 256; ++v) {
      if (x.contains(v) && !y.contains(v)) subset = false;
      if (x.contains(v) && y.contains(v)) overlap = true;
    }
    ASSERT_EQ(x.subsetOf(y), subset) << x.str() << " vs " << y.str();
    ASSERT_EQ(x.overlaps(y), overlap) << x.str() << " vs " << y.str();
  }
}

TEST(FieldMatch, PrefixesOnWideFields) {
  FieldMatch slash8 = FieldMatch::prefix(FieldId::IpSrc, 0x0A000000, 8);
  FieldMatch slash16 = FieldMatch::prefix(FieldId::IpSrc, 0x0A010000, 16);
  FieldMatch other = FieldMatch::prefix(FieldId::IpSrc, 0x0B000000, 8);
  EXPECT_TRUE(slash16.subsetOf(slash8));
  EXPECT_FALSE(slash8.subsetOf(slash16));
  EXPECT_TRUE(slash8.overlaps(slash16));
  EXPECT_FALSE(slash8.overlaps(other));
  EXPECT_TRUE(FieldMatch::prefix(FieldId::IpSrc, 0, 0).isWildcard());
  // A mask ⊆ range test on a 32-bit field: 10.0.0.0/8 written as a non-contiguous mask is
  // inside 10.0.0.0/8 only when its free bits stay in the low 24.
  FieldMatch odd = FieldMatch::masked(FieldId::IpSrc, 0x0A000001, 0xFF0000FF);
  EXPECT_EQ(odd.kind, FieldMatch::Mask);
  EXPECT_TRUE(odd.subsetOf(slash8));
  EXPECT_FALSE(odd.subsetOf(slash16));
}
