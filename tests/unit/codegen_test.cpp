//===- tests/unit/codegen_test.cpp - A synthesized table as generated code --------------===//
///
/// The classifier LLVM function of a hand-built table: its optimized IR against a golden file
/// (tests/codegen/*.ll, reviewed by hand; METRONC_REPLACE=1 rewrites it), and the JIT-compiled
/// function against a brute-force first-match over the table on every value of two fields.
/// The random-chain differential test (metron-diff --jit, CTest diff.codegen) covers the rest.
/// Ω's field writes (codegen/WriteGen.h), JIT-compiled, against pkt::Packet::set on random and
/// damaged frames.
//===----------------------------------------------------------------------------------------===//
#include "codegen/ClassifierGen.h"
#include "codegen/WriteGen.h"
#include "runtime/dataplane/Abi.h"
#include "runtime/packet/Packet.h"

#include <gtest/gtest.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/TargetSelect.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
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

// ---- Ω's field writes (codegen/WriteGen.h) ----------------------------------------------------

namespace {

/// What generated code calls for VLAN writes (runtime/dataplane/Runtime.cpp defines the real one
/// the same way).
void testSet(mtr_packet *p, uint32_t field, uint64_t value) {
  reinterpret_cast<pkt::Packet *>(p)->set(FieldId(field), value);
}

/// A random frame: every kind fromFields builds (untagged or tagged, IPv4 with TCP, UDP, ICMP
/// or another protocol, non-IP), sometimes with trailing bytes, a UDP checksum of 0 or 0xffff,
/// a damaged checksum or byte (which can make it a fragment, or not IPv4), or cut short.
std::vector<uint8_t> randomFrame(std::mt19937_64 &rng) {
  std::array<uint64_t, ir::kNumFields> f{};
  for (size_t i = 0; i < ir::kNumFields; ++i) f[i] = rng() & ir::fieldInfo(FieldId(i)).maxValue();
  if (rng() % 2) f[size_t(FieldId::VlanId)] = f[size_t(FieldId::VlanPcp)] = 0;
  const uint64_t protos[] = {6, 17, 1, 47};
  f[size_t(FieldId::IpProto)] = protos[rng() % 4];
  f[size_t(FieldId::EthType)] = rng() % 8 ? 0x0800 : 0x86dd;
  pkt::Packet p = pkt::Packet::fromFields(f);
  std::vector<uint8_t> b = p.frame();
  if (rng() % 2) { // trailing bytes beyond the datagram (Ethernet padding)
    size_t extra = rng() % 40;
    for (size_t i = 0; i < extra; ++i) b.push_back(uint8_t(rng()));
  }
  switch (rng() % 8) {
  case 0: b[rng() % b.size()] = uint8_t(rng()); break;                 // any byte
  case 1: if (p.layout().ipv4) b[p.layout().l3 + 10] ^= uint8_t(rng()); break; // IP checksum
  case 2: if (p.layout().tcp) b[p.layout().l4 + 16] ^= uint8_t(rng()); break;  // TCP checksum
  case 3: if (p.layout().udp) b[p.layout().l4 + 6] = b[p.layout().l4 + 7] = 0; break; // no UDP checksum
  case 4: b.resize(rng() % (b.size() + 1)); break;                      // cut
  case 5: if (p.layout().udp) b[p.layout().l4 + 6] = b[p.layout().l4 + 7] = 0xff; break;
  default: break;
  }
  return b;
}

} // namespace

TEST(CodegenWrites, InlineWritesEqualPacketSetOnRandomAndDamagedFrames) {
  // Random sequences of writes (repeats and VLAN pushes included), each JIT-compiled once, on
  // random frames with random values (also wider than the field): the frame, the field vector,
  // the layout and the wire length must be what the same Packet::set calls give, byte for byte.
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto jit = llvm::orc::LLJITBuilder().create();
  ASSERT_TRUE(bool(jit)) << llvm::toString(jit.takeError());
  const auto flags = llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable;
  llvm::cantFail((*jit)->getMainJITDylib().define(llvm::orc::absoluteSymbols(
      {{(*jit)->mangleAndIntern("mtr_set"), llvm::JITEvaluatedSymbol(llvm::pointerToJITTargetAddress(&testSet), flags)}})));
  const FieldId writable[] = {FieldId::EthSrc, FieldId::EthDst, FieldId::VlanId, FieldId::VlanPcp, FieldId::IpSrc,
                              FieldId::IpDst,  FieldId::IpTtl,  FieldId::IpDscp, FieldId::TpSrc,   FieldId::TpDst};
  std::mt19937_64 rng(23);
  uint64_t checked = 0, pushed = 0, checksummed = 0;
  for (int seq = 0; seq < 80; ++seq) {
    std::vector<FieldId> fields(1 + rng() % 6);
    for (FieldId &f : fields) f = writable[rng() % std::size(writable)];
    if (seq % 4 == 0) fields = {FieldId::IpSrc, FieldId::TpSrc}; // a NAPT's pair
    auto ctx = std::make_unique<llvm::LLVMContext>();
    const std::string name = "writes" + std::to_string(seq);
    auto mod = codegen::writeSequenceModule(*ctx, fields, name);
    codegen::optimize(*mod);
    llvm::cantFail((*jit)->addIRModule(llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx))));
    auto fn = reinterpret_cast<void (*)(mtr_packet *, mtr_packet_hdr *, const uint64_t *)>(
        llvm::cantFail((*jit)->lookup(name)).getAddress());
    std::string seqName;
    for (FieldId f : fields) seqName += std::string(ir::fieldInfo(f).name) + " ";
    for (int i = 0; i < 400; ++i) {
      std::vector<uint8_t> b = randomFrame(rng);
      std::vector<uint64_t> values;
      for (FieldId f : fields) values.push_back(rng() % 4 ? rng() & ir::fieldInfo(f).maxValue() : rng());
      pkt::Packet want(b.data(), b.size(), 0, 1);
      for (size_t k = 0; k < fields.size(); ++k) want.set(fields[k], values[k]);
      // The generated code works on a view of an mbuf-like buffer, with headroom or without.
      const uint32_t headroom = rng() % 2 ? 8 : 0;
      std::vector<uint8_t> buf(headroom + b.size());
      std::copy(b.begin(), b.end(), buf.begin() + headroom);
      pkt::Packet got;
      got.attach(buf.data() + headroom, uint32_t(b.size()), headroom, uint32_t(b.size()), 0, 1);
      const bool valid = pkt::checksumsValid(got);
      fn(reinterpret_cast<mtr_packet *>(&got), reinterpret_cast<mtr_packet_hdr *>(&got.header()), values.data());
      std::ostringstream ctxs;
      ctxs << "writes " << seqName << "frame";
      for (uint8_t x : b) ctxs << ' ' << std::hex << int(x);
      ASSERT_EQ(std::vector<uint8_t>(got.data(), got.data() + got.size()), want.frame()) << ctxs.str();
      ASSERT_EQ(got.fields(), want.fields()) << ctxs.str();
      ASSERT_EQ(got.layout(), want.layout()) << ctxs.str();
      ASSERT_EQ(got.wireLen, want.wireLen) << ctxs.str();
      if (valid) {
        ASSERT_TRUE(pkt::checksumsValid(got)) << ctxs.str();
      }
      ++checked;
      pushed += got.layout().vlan && !pkt::Packet(b.data(), b.size()).layout().vlan;
      checksummed += got.layout().tcp || got.layout().udp;
    }
  }
  // A field written twice in one step, on the edge where folding only the first and last values
  // would differ from two updates: a checksum of 0xffff and ip.dst 255.255.255.255 written to
  // 1.2.3.4 and then to 0.0.0.0 (set() twice gives 0x0000; ~0xffff + 0 alone would fold to
  // 0xffff). The generated update adds both writes' word deltas, the intermediate included.
  {
    auto ctx = std::make_unique<llvm::LLVMContext>();
    auto mod = codegen::writeSequenceModule(*ctx, {FieldId::IpDst, FieldId::IpDst}, "rewrite");
    codegen::optimize(*mod);
    llvm::cantFail((*jit)->addIRModule(llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx))));
    auto fn = reinterpret_cast<void (*)(mtr_packet *, mtr_packet_hdr *, const uint64_t *)>(
        llvm::cantFail((*jit)->lookup("rewrite")).getAddress());
    std::array<uint64_t, ir::kNumFields> f{};
    f[size_t(FieldId::IpProto)] = 6;
    f[size_t(FieldId::IpDst)] = 0xffffffff;
    std::vector<uint8_t> b = pkt::Packet::fromFields(f).frame();
    const size_t csum = 14 + 10;
    b[csum] = b[csum + 1] = 0xff;
    pkt::Packet want(b.data(), b.size()), got(b.data(), b.size());
    const uint64_t values[] = {0x01020304, 0};
    for (uint64_t v : values) want.set(FieldId::IpDst, v);
    fn(reinterpret_cast<mtr_packet *>(&got), reinterpret_cast<mtr_packet_hdr *>(&got.header()), values);
    EXPECT_EQ(want.frame()[csum], 0); // the premise
    EXPECT_EQ(got.frame(), want.frame());
  }
  EXPECT_EQ(checked, 80u * 400u);
  EXPECT_GT(pushed, 500u) << "too few VLAN pushes to say anything";
  EXPECT_GT(checksummed, 5000u) << "too few TCP/UDP frames to say anything";
}
