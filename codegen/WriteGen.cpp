//===- codegen/WriteGen.cpp - Ω's field writes as inline code ------------------------------===//
#include "codegen/WriteGen.h"

#include "lang/Diagnostics.h"
#include "runtime/dataplane/Abi.h"

#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <cstddef>
#include <functional>

namespace metron::codegen {

using ir::FieldId;

WriteEmitter::WriteEmitter(llvm::IRBuilder<> &b, llvm::FunctionCallee set)
    : b_(b), ctx_(b.getContext()), set_(set), i8_(b.getInt8Ty()), i32_(b.getInt32Ty()), i64_(b.getInt64Ty()),
      ptr_(llvm::PointerType::getUnqual(b.getInt8Ty())) {}

/// A member of the packet's header block (mtr_packet_hdr) at byte \p offset.
llvm::Value *WriteEmitter::hdrField(llvm::Value *hdr, size_t offset, llvm::Type *ty, const char *name) {
  llvm::Value *at = b_.CreateConstInBoundsGEP1_64(i8_, b_.CreateBitCast(hdr, ptr_), offset);
  return b_.CreateLoad(ty, b_.CreateBitCast(at, llvm::PointerType::getUnqual(ty)), name);
}

/// A big-endian 16- or 32-bit word of the frame at \p at (an i8*), as an i64.
llvm::Value *WriteEmitter::loadBE(llvm::Value *at, unsigned bits) {
  llvm::Type *ty = b_.getIntNTy(bits);
  llvm::Value *v = b_.CreateAlignedLoad(ty, b_.CreateBitCast(at, llvm::PointerType::getUnqual(ty)), llvm::MaybeAlign(1));
  return b_.CreateZExt(b_.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, v), i64_);
}

/// Stores the low \p bits (16 or 32) of the i64 \p v big-endian at \p at.
void WriteEmitter::storeBE(llvm::Value *at, llvm::Value *v, unsigned bits) {
  llvm::Type *ty = b_.getIntNTy(bits);
  llvm::Value *w = b_.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, b_.CreateTrunc(v, ty));
  b_.CreateAlignedStore(w, b_.CreateBitCast(at, llvm::PointerType::getUnqual(ty)), llvm::MaybeAlign(1));
}

/// How a one's-complement sum changes when the 16-bit word \p from becomes \p to: ~from + to.
llvm::Value *WriteEmitter::wordDelta(llvm::Value *from, llvm::Value *to) {
  return b_.CreateAdd(b_.CreateXor(from, b_.getInt64(0xffff)), to);
}

/// RFC 1624 eqn. 3 on the checksum at \p at: HC' = ~(~HC + delta), folded in two steps (the sum
/// stays below 2^32). With \p udp, a checksum of 0 (none) stays 0 and a result of 0 is sent as
/// 0xffff. This is runtime/packet/Packet.cpp's applyDelta / applyDeltaUdp.
void WriteEmitter::applyChecksumDelta(llvm::Value *at, llvm::Value *delta, bool udp) {
  llvm::Value *hc = loadBE(at, 16);
  llvm::Value *sum = b_.CreateAdd(b_.CreateXor(hc, b_.getInt64(0xffff)), delta);
  for (int i = 0; i < 2; ++i) sum = b_.CreateAdd(b_.CreateAnd(sum, b_.getInt64(0xffff)), b_.CreateLShr(sum, 16));
  llvm::Value *now = b_.CreateXor(b_.CreateAnd(sum, b_.getInt64(0xffff)), b_.getInt64(0xffff), "csum");
  if (udp) {
    now = b_.CreateSelect(b_.CreateICmpEQ(now, b_.getInt64(0)), b_.getInt64(0xffff), now);
    now = b_.CreateSelect(b_.CreateICmpEQ(hc, b_.getInt64(0)), hc, now, "udp.csum");
  }
  storeBE(at, now, 16);
}

/// Ω's writes, in order. Each writes the field vector and, when the frame has the field, the
/// frame, as Packet::set does (runtime/packet/Packet.h); a vlan.id / vlan.pcp write is a call
/// of mtr_set (on an untagged frame it pushes a tag: the frame and its offsets move), so the
/// writes between two of those are emitted together (emitFrameWrites).
void WriteEmitter::emit(llvm::Value *p, llvm::Value *hdr, const std::vector<Write> &writes) {
  std::vector<Write> run;
  for (const Write &w : writes) {
    if (w.first != FieldId::VlanId && w.first != FieldId::VlanPcp) {
      run.push_back(w);
      continue;
    }
    emitFrameWrites(hdr, run);
    run.clear();
    b_.CreateCall(set_, {p, b_.getInt32(uint32_t(w.first)), w.second});
  }
  emitFrameWrites(hdr, run);
}

/// Writes none of which moves the frame, with the offsets folded in: the field vector; the
/// Ethernet addresses when the frame has 14 bytes; under one check that the frame is IPv4, the
/// IPv4 words with a single header-checksum update, and under one check that it has a TCP or UDP
/// header, the ports with a single update of that checksum for addresses and ports together.
/// One update equals the sequence of Packet::set's: one's-complement sums fold the same whichever
/// way they are grouped, and the sums here are never zero unless every word delta is.
void WriteEmitter::emitFrameWrites(llvm::Value *hdr, const std::vector<Write> &writes) {
  if (writes.empty()) return;
  auto is = [&](std::initializer_list<FieldId> fs) {
    return std::any_of(writes.begin(), writes.end(),
                       [&](const Write &w) { return std::find(fs.begin(), fs.end(), w.first) != fs.end(); });
  };
  std::vector<llvm::Value *> value;
  for (const Write &w : writes) {
    const unsigned bits = ir::fieldInfo(w.first).bits;
    llvm::Value *v = bits < 64 ? b_.CreateAnd(w.second, b_.getInt64((1ull << bits) - 1)) : w.second;
    value.push_back(v);
    b_.CreateAlignedStore(v, b_.CreateConstInBoundsGEP1_64(i64_, hdr, size_t(w.first)), llvm::MaybeAlign(8));
  }
  llvm::Function *fn = b_.GetInsertBlock()->getParent();
  const bool eth = is({FieldId::EthDst, FieldId::EthSrc});
  const bool header = is({FieldId::IpTtl, FieldId::IpDscp, FieldId::IpSrc, FieldId::IpDst});
  const bool ports = is({FieldId::TpSrc, FieldId::TpDst});
  if (!eth && !header && !ports) return; // the field vector only
  llvm::Value *data = hdrField(hdr, offsetof(mtr_packet_hdr, data), ptr_, "frame");
  auto frame = [&] { return data; };
  // Runs body() when the byte flag (or flags) of the header block is set, then goes on.
  auto when = [&](llvm::Value *cond, const char *name, const std::function<void()> &body) {
    auto *yes = llvm::BasicBlock::Create(ctx_, name, fn);
    auto *done = llvm::BasicBlock::Create(ctx_, std::string(name) + ".done", fn);
    b_.CreateCondBr(cond, yes, done);
    b_.SetInsertPoint(yes);
    body();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  };
  auto flag = [&](size_t offset, const char *name) {
    return b_.CreateICmpNE(hdrField(hdr, offset, i8_, name), b_.getInt8(0));
  };

  if (eth) {
    llvm::Value *len = hdrField(hdr, offsetof(mtr_packet_hdr, len), i32_, "len");
    when(b_.CreateICmpUGE(len, b_.getInt32(14)), "eth", [&] {
      for (size_t i = 0; i < writes.size(); ++i) {
        if (writes[i].first != FieldId::EthDst && writes[i].first != FieldId::EthSrc) continue;
        llvm::Value *at = b_.CreateConstInBoundsGEP1_64(i8_, frame(), writes[i].first == FieldId::EthDst ? 0 : 6);
        storeBE(at, b_.CreateLShr(value[i], 32), 16);
        storeBE(b_.CreateConstInBoundsGEP1_64(i8_, at, 2), value[i], 32);
      }
    });
  }
  if (!header && !ports) return;
  when(flag(offsetof(mtr_packet_hdr, ipv4), "ipv4"), "ip", [&] {
    llvm::Value *l3 = b_.CreateZExt(hdrField(hdr, offsetof(mtr_packet_hdr, l3), b_.getInt16Ty(), "l3"), i64_);
    llvm::Value *ip = b_.CreateInBoundsGEP(i8_, frame(), l3, "ip");
    llvm::Value *ipDelta = b_.getInt64(0), *l4Delta = b_.getInt64(0);
    for (size_t i = 0; i < writes.size(); ++i) {
      const FieldId f = writes[i].first;
      llvm::Value *v = value[i];
      if (f == FieldId::IpTtl || f == FieldId::IpDscp) {
        // The word holding ttl|proto, or version/ihl|tos.
        llvm::Value *at = b_.CreateConstInBoundsGEP1_64(i8_, ip, f == FieldId::IpTtl ? 8 : 0);
        llvm::Value *old = loadBE(at, 16);
        llvm::Value *now = f == FieldId::IpTtl
                               ? b_.CreateOr(b_.CreateShl(v, 8), b_.CreateAnd(old, b_.getInt64(0xff)))
                               : b_.CreateOr(b_.CreateAnd(old, b_.getInt64(0xff03)), b_.CreateShl(v, 2));
        storeBE(at, now, 16);
        ipDelta = b_.CreateAdd(ipDelta, wordDelta(old, now));
      } else if (f == FieldId::IpSrc || f == FieldId::IpDst) {
        llvm::Value *at = b_.CreateConstInBoundsGEP1_64(i8_, ip, f == FieldId::IpSrc ? 12 : 16);
        llvm::Value *old = loadBE(at, 32);
        storeBE(at, v, 32);
        llvm::Value *d = b_.CreateAdd(wordDelta(b_.CreateLShr(old, 16), b_.CreateLShr(v, 16)),
                                      wordDelta(b_.CreateAnd(old, b_.getInt64(0xffff)), b_.CreateAnd(v, b_.getInt64(0xffff))));
        ipDelta = b_.CreateAdd(ipDelta, d);
        l4Delta = b_.CreateAdd(l4Delta, d); // the pseudo-header
      }
    }
    if (header) applyChecksumDelta(b_.CreateConstInBoundsGEP1_64(i8_, ip, 10), ipDelta, false);
    if (!ports && !is({FieldId::IpSrc, FieldId::IpDst})) return;
    llvm::Value *tcp = flag(offsetof(mtr_packet_hdr, tcp), "tcp"), *udp = flag(offsetof(mtr_packet_hdr, udp), "udp");
    when(b_.CreateOr(tcp, udp), "l4", [&] {
      llvm::Value *l4 = b_.CreateZExt(hdrField(hdr, offsetof(mtr_packet_hdr, l4), b_.getInt16Ty(), "l4off"), i64_);
      llvm::Value *t = b_.CreateInBoundsGEP(i8_, frame(), l4, "l4");
      llvm::Value *d = l4Delta;
      for (size_t i = 0; i < writes.size(); ++i) {
        const FieldId f = writes[i].first;
        if (f != FieldId::TpSrc && f != FieldId::TpDst) continue;
        llvm::Value *at = b_.CreateConstInBoundsGEP1_64(i8_, t, f == FieldId::TpSrc ? 0 : 2);
        llvm::Value *old = loadBE(at, 16);
        storeBE(at, value[i], 16);
        d = b_.CreateAdd(d, wordDelta(old, value[i]));
      }
      auto *isTcp = llvm::BasicBlock::Create(ctx_, "tcp.csum", fn), *isUdp = llvm::BasicBlock::Create(ctx_, "udp.csum", fn),
           *done = llvm::BasicBlock::Create(ctx_, "l4.csum.done", fn);
      b_.CreateCondBr(tcp, isTcp, isUdp);
      b_.SetInsertPoint(isTcp);
      applyChecksumDelta(b_.CreateConstInBoundsGEP1_64(i8_, t, 16), d, false);
      b_.CreateBr(done);
      b_.SetInsertPoint(isUdp);
      applyChecksumDelta(b_.CreateConstInBoundsGEP1_64(i8_, t, 6), d, true);
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
    });
  });
}

std::unique_ptr<llvm::Module> writeSequenceModule(llvm::LLVMContext &ctx, const std::vector<FieldId> &fields,
                                                  const std::string &name) {
  auto m = std::make_unique<llvm::Module>("metron.writes", ctx);
  llvm::IRBuilder<> b(ctx);
  auto *ptr = llvm::PointerType::getUnqual(b.getInt8Ty());
  auto *i64p = llvm::PointerType::getUnqual(b.getInt64Ty());
  llvm::FunctionCallee set =
      m->getOrInsertFunction("mtr_set", llvm::FunctionType::get(b.getVoidTy(), {ptr, b.getInt32Ty(), b.getInt64Ty()}, false));
  auto *fn = llvm::Function::Create(llvm::FunctionType::get(b.getVoidTy(), {ptr, i64p, i64p}, false),
                                    llvm::Function::ExternalLinkage, name, m.get());
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", fn));
  std::vector<WriteEmitter::Write> w;
  for (size_t i = 0; i < fields.size(); ++i)
    w.push_back({fields[i], b.CreateLoad(b.getInt64Ty(), b.CreateConstInBoundsGEP1_64(b.getInt64Ty(), fn->getArg(2), i))});
  WriteEmitter(b, set).emit(fn->getArg(0), fn->getArg(1), w);
  b.CreateRetVoid();
  std::string errs;
  llvm::raw_string_ostream os(errs);
  METRON_INTERNAL_ASSERT(!llvm::verifyModule(*m, &os), "generated writes do not verify: " + os.str());
  return m;
}

} // namespace metron::codegen
