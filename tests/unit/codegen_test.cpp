//===- tests/unit/codegen_test.cpp - A synthesized table as generated code --------------===//
///
/// The classifier LLVM function of a hand-built table: its optimized IR against a golden file
/// (tests/codegen/*.ll, reviewed by hand; METRONC_REPLACE=1 rewrites it), and the JIT-compiled
/// function against a brute-force first-match over the table on every value of two fields.
/// The random-chain differential test (metron-diff --jit, CTest diff.codegen) covers the rest.
//===----------------------------------------------------------------------------------------===//
#include "codegen/ClassifierGen.h"

#include <gtest/gtest.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace metron;
using ir::FieldId;
using ir::FieldMatch;

namespace {

synth::Box box(std::vector<FieldMatch> ms) {
  synth::Box b;
  b.m = std::move(ms);
  std::stable_sort(b.m.begin(), b.m.end(), [](const FieldMatch &x, const FieldMatch &y) { return x.field < y.field; });
  return b;
}

/// 0: TCP port 80; 1: ports 1024-65535 from 10.0.0.0/8; 2: SYN set, ACK clear; 3: anything.
synth::Table sample() {
  synth::Table t;
  t.id = 0;
  auto add = [&](std::vector<FieldMatch> ms) {
    synth::TrafficClass c;
    c.id = uint32_t(t.classes.size());
    c.phi = box(std::move(ms));
    t.classes.push_back(std::move(c));
  };
  add({FieldMatch::range(FieldId::IpProto, 6, 6), FieldMatch::range(FieldId::TpDst, 80, 80)});
  add({FieldMatch::masked(FieldId::IpSrc, 0x0a000000, 0xff000000), FieldMatch::range(FieldId::TpDst, 1024, 65535)});
  add({FieldMatch::masked(FieldId::TcpFlags, 0x02, 0x12)});
  add({});
  return t;
}

int32_t bruteForce(const synth::Table &t, const std::array<uint64_t, ir::kNumFields> &v) {
  for (size_t k = 0; k < t.classes.size(); ++k)
    if (t.classes[k].phi.contains(v)) return int32_t(k);
  return -1;
}

} // namespace

TEST(Codegen, OptimizedIrMatchesTheGoldenFile) {
  llvm::LLVMContext ctx;
  auto mod = codegen::classifierModule(ctx, sample(), "classify_t0");
  ASSERT_TRUE(mod);
  codegen::optimize(*mod);
  std::string ir = codegen::printModule(*mod);
  const std::string path = std::string(METRON_SOURCE_DIR) + "/tests/codegen/sample-classifier.ll";
  if (const char *r = std::getenv("METRONC_REPLACE"); r && std::string(r) == "1") std::ofstream(path) << ir;
  std::ifstream in(path);
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(want.str(), ir) << path << " differs (METRONC_REPLACE=1 rewrites it; review the diff)";
}

TEST(Codegen, JitAgreesWithFirstMatchOnEveryPortAndFlagValue) {
  synth::Table t = sample();
  std::string err;
  auto jit = codegen::JitClassifier::create(t, err);
  ASSERT_TRUE(jit) << err;
  std::array<uint64_t, ir::kNumFields> v{};
  uint64_t checked = 0;
  for (uint64_t proto : {6u, 17u})
    for (uint64_t src : {0x0a010203u, 0x0b000001u})
      for (uint64_t port = 0; port <= 65535; port += (port < 2048 ? 1 : 61))
        for (uint64_t flags = 0; flags < 256; flags += 7) {
          v[size_t(FieldId::IpProto)] = proto;
          v[size_t(FieldId::IpSrc)] = src;
          v[size_t(FieldId::TpDst)] = port;
          v[size_t(FieldId::TcpFlags)] = flags;
          ASSERT_EQ((*jit)(v.data()), bruteForce(t, v)) << "proto " << proto << " port " << port << " flags " << flags;
          ++checked;
        }
  EXPECT_GT(checked, 100000u);
}

TEST(Codegen, LargeTablesAreLeftToRteAcl) {
  synth::Table t;
  t.classes.resize(codegen::kMaxInlineClasses + 1);
  llvm::LLVMContext ctx;
  EXPECT_EQ(codegen::classifierModule(ctx, t, "f"), nullptr);
  std::string err;
  EXPECT_EQ(codegen::JitClassifier::create(t, err), nullptr);
  EXPECT_NE(err.find("rte_acl"), std::string::npos) << err;
}
