//===- codegen/WriteGen.h - Ω's field writes as inline code --------------------------*- C++ -*-===//
///
/// \file
/// Generated code writes header fields itself, at the offsets of the packet's header block
/// (runtime/dataplane/Abi.h, mtr_packet_hdr), with the same effect as pkt::Packet::set: the
/// field vector, then the frame when its layout has the field, with incremental checksum
/// updates (RFC 1624). What a sequence of writes folds into:
///
///  * the field vector: one store per write, the value cut to the field's width;
///  * the Ethernet addresses: under one check that the frame has its 14 bytes;
///  * the IPv4 words (ttl, dscp, addresses): under one check that the frame is IPv4, one
///    update of the header checksum for all of them;
///  * the ports: under one check that the frame has a TCP or UDP header, one update of that
///    checksum for the addresses (pseudo-header) and the ports together. A UDP checksum of 0
///    stays 0, a result of 0 is sent as 0xffff.
///
/// One update equals Packet::set's update per write: a one's-complement sum folds to the same
/// value however it is grouped, and the sums folded here are zero only when every word delta
/// is (see runtime/packet/Packet.cpp on the arithmetic).
///
/// vlan.id and vlan.pcp are written by calling the runtime's mtr_set: on an untagged frame the
/// write pushes a tag, so the frame and its offsets move; the writes on either side of it are
/// folded separately.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/NFIR.h"

#include <llvm/IR/IRBuilder.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace metron::codegen {

class WriteEmitter {
public:
  /// A write: the field and its value (an i64).
  using Write = std::pair<ir::FieldId, llvm::Value *>;
  /// \p set: the runtime's `void mtr_set(i8 *packet, i32 field, i64 value)`.
  WriteEmitter(llvm::IRBuilder<> &b, llvm::FunctionCallee set);

  /// Emits \p writes, in order, at the builder's insertion point (which ends in a block after
  /// them): \p p is the runtime's packet (i8*), \p hdr its header block (i64*).
  void emit(llvm::Value *p, llvm::Value *hdr, const std::vector<Write> &writes);

private:
  void emitFrameWrites(llvm::Value *hdr, const std::vector<Write> &writes);
  llvm::Value *hdrField(llvm::Value *hdr, size_t offset, llvm::Type *ty, const char *name);
  llvm::Value *loadBE(llvm::Value *at, unsigned bits);
  void storeBE(llvm::Value *at, llvm::Value *v, unsigned bits);
  llvm::Value *wordDelta(llvm::Value *from, llvm::Value *to);
  void applyChecksumDelta(llvm::Value *at, llvm::Value *delta, bool udp);

  llvm::IRBuilder<> &b_;
  llvm::LLVMContext &ctx_;
  llvm::FunctionCallee set_;
  llvm::Type *i8_, *i32_, *i64_;
  llvm::PointerType *ptr_;
};

/// For tests: a verified module with `void NAME(i8 *packet, i64 *hdr, const i64 *values)` that
/// writes values[i] to fields[i], in order, as a group's Ω does; it calls `mtr_set` (which
/// the caller provides) for VLAN fields.
std::unique_ptr<llvm::Module> writeSequenceModule(llvm::LLVMContext &ctx, const std::vector<ir::FieldId> &fields,
                                                  const std::string &name);

} // namespace metron::codegen
