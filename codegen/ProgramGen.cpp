//===- codegen/ProgramGen.cpp - A chain's data plane as an LLVM module and an executable ------===//
#include "codegen/ProgramGen.h"

#include "codegen/ClassifierGen.h"
#include "codegen/WriteGen.h"
#include "lang/Diagnostics.h"
#include "runtime/dataplane/Abi.h"
#include "runtime/dataplane/Acl.h"
#include "runtime/state/Describe.h"

#include "RuntimeLink.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Transforms/IPO/GlobalDCE.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace metron::codegen {

using ir::FieldId;
using nlohmann::json;
using synth::Op;
using synth::Terminal;
using synth::WriteExpr;

namespace {

/// Everything the emitter shares while it builds one module.
class Emitter {
public:
  Emitter(llvm::LLVMContext &ctx, const ProgramInput &in, ProgramStats &stats)
      : ctx_(ctx), in_(in), t_(*in.tables), plan_(*in.plan), stats_(stats), b_(ctx) {}

  std::unique_ptr<llvm::Module> run(std::string &config);

private:
  llvm::LLVMContext &ctx_;
  const ProgramInput &in_;
  const synth::ChainTables &t_;
  const split::SplitPlan &plan_;
  ProgramStats &stats_;
  llvm::IRBuilder<> b_;
  std::unique_ptr<llvm::Module> m_;

  llvm::Type *i8_ = nullptr, *i32_ = nullptr, *i64_ = nullptr;
  llvm::PointerType *ptr_ = nullptr, *i64p_ = nullptr;
  llvm::FunctionType *entryTy_ = nullptr, *tableTy_ = nullptr, *groupTy_ = nullptr;
  llvm::FunctionCallee set_, statefulFn_, acl_;
  std::unique_ptr<WriteEmitter> writer_;

  std::vector<llvm::Function *> classify_, tables_;
  std::vector<std::array<llvm::Function *, 2>> groups_; ///< [full, after the device's writes]
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> statefulSlot_; ///< (node, element) -> slot
  std::vector<uint32_t> classSlotBase_;                           ///< per table
  std::vector<int32_t> aclIndex_;                                 ///< per table, -1: inline
  json stateful_ = json::array();

  void declareRuntime();
  void assignSlots();
  llvm::Function *emitAclClassifier(const synth::Table &t, uint32_t index);
  void emitTable(const synth::Table &t);
  void emitGroup(uint32_t gi, bool afterDevice);

  llvm::Function *emitCore(uint32_t core);
  llvm::GlobalVariable *emitProgram(const std::vector<llvm::Function *> &cores, const std::string &config);
  llvm::Constant *constString(const std::string &s, const std::string &name);
  std::string configJson();
};

void Emitter::declareRuntime() {
  i8_ = b_.getInt8Ty();
  i32_ = b_.getInt32Ty();
  i64_ = b_.getInt64Ty();
  ptr_ = llvm::PointerType::getUnqual(i8_);
  i64p_ = llvm::PointerType::getUnqual(i64_);
  // The packet's header block (mtr_packet_hdr) is an i64* in the IR: the field vector comes
  // first; the frame's address and layout are reached by byte offsets (hdrField).
  // i32 (core*, packet*, i64* hdr, i32 tag, i64* counts)
  entryTy_ = llvm::FunctionType::get(i32_, {ptr_, ptr_, i64p_, i32_, i64p_}, false);
  // i32 (core*, packet*, i64* hdr, i64* counts): a table, entered with the packet's current fields
  tableTy_ = llvm::FunctionType::get(i32_, {ptr_, ptr_, i64p_, i64p_}, false);
  // i32 (core*, packet*, i64* hdr, i64* counts, i64 entry ip.ttl, i64 entry ip.dst)
  groupTy_ = llvm::FunctionType::get(i32_, {ptr_, ptr_, i64p_, i64p_, i64_, i64_}, false);
  set_ = m_->getOrInsertFunction("mtr_set", llvm::FunctionType::get(b_.getVoidTy(), {ptr_, i32_, i64_}, false));
  statefulFn_ = m_->getOrInsertFunction("mtr_stateful", llvm::FunctionType::get(i32_, {ptr_, i32_, ptr_}, false));
  acl_ = m_->getOrInsertFunction("mtr_acl", llvm::FunctionType::get(i32_, {ptr_, i32_, i64p_}, false));
  for (auto *f : {set_.getCallee(), statefulFn_.getCallee(), acl_.getCallee()})
    llvm::cast<llvm::Function>(f)->addFnAttr(llvm::Attribute::NoUnwind);
  writer_ = std::make_unique<WriteEmitter>(b_, set_);
}

/// Stateful element instances in chain order, with their descriptions (and NAPT parts).
void Emitter::assignSlots() {
  const ir::Chain &c = *t_.chain;
  for (uint32_t n = 0; n < c.nodes.size(); ++n) {
    const ir::ChainNode &node = c.nodes[n];
    if (node.kind != ir::ChainNode::Instance || node.nf->blackbox) continue;
    for (uint32_t k = 0; k < node.nf->elements.size(); ++k) {
      const ir::Element &e = *node.nf->elements[k];
      if (!e.stateful()) continue;
      uint32_t slot = uint32_t(stateful_.size());
      statefulSlot_[{n, k}] = slot;
      json d = state::describeElement(e);
      d["slot"] = slot;
      d["node"] = n;
      d["element"] = k;
      d["nf"] = node.name;
      if (in_.lowering)
        for (const auto &np : in_.lowering->napt)
          if (np.node == n && np.element == k) {
            json parts = json::array();
            for (const auto &p : np.parts) parts.push_back({{"core", p.core}, {"ports", {p.lo, p.hi}}});
            d["cores"] = parts;
          }
      stateful_.push_back(std::move(d));
    }
  }
  stats_.stateful = uint32_t(stateful_.size());
  uint32_t slot = 0;
  for (const auto &t : t_.tables) {
    classSlotBase_.push_back(slot);
    slot += uint32_t(t.classes.size());
  }
  stats_.classes = slot;
}

llvm::Function *Emitter::emitAclClassifier(const synth::Table &t, uint32_t index) {
  auto *fn = llvm::Function::Create(llvm::FunctionType::get(i32_, {ptr_, i64p_}, false), llvm::Function::InternalLinkage,
                                    "classify_t" + std::to_string(t.id), m_.get());
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
  b_.CreateRet(b_.CreateCall(acl_, {fn->getArg(0), b_.getInt32(index), fn->getArg(1)}));
  return fn;
}

/// table_T(core, p, counts): classify the packet's current fields, count the class, run its
/// group's Ω (full variant).
void Emitter::emitTable(const synth::Table &t) {
  llvm::Function *fn = tables_[t.id];
  llvm::Argument *core = fn->getArg(0), *p = fn->getArg(1), *fields = fn->getArg(2), *counts = fn->getArg(3);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
  auto load = [&](FieldId f) {
    return b_.CreateAlignedLoad(i64_, b_.CreateConstInBoundsGEP1_64(i64_, fields, size_t(f)), llvm::MaybeAlign(8),
                                std::string(ir::fieldInfo(f).name));
  };
  llvm::Value *ttl = load(FieldId::IpTtl), *dst = load(FieldId::IpDst);
  llvm::Value *cls = aclIndex_[t.id] >= 0 ? b_.CreateCall(classify_[t.id], {core, fields}, "class")
                                          : b_.CreateCall(classify_[t.id], {fields}, "class");
  // counts[slot of the class]++, then a switch over the groups of the table (a constant
  // class -> group array: tables have thousands of classes and a handful of groups).
  auto *miss = llvm::BasicBlock::Create(ctx_, "no_class", fn);
  auto *hit = llvm::BasicBlock::Create(ctx_, "counted", fn);
  b_.CreateCondBr(b_.CreateICmpSLT(cls, b_.getInt32(0)), miss, hit);
  b_.SetInsertPoint(hit);
  llvm::Value *idx = b_.CreateZExt(cls, i64_);
  llvm::Value *slot = b_.CreateInBoundsGEP(i64_, counts, b_.CreateAdd(idx, b_.getInt64(classSlotBase_[t.id])));
  b_.CreateAlignedStore(b_.CreateAdd(b_.CreateAlignedLoad(i64_, slot, llvm::MaybeAlign(8)), b_.getInt64(1)), slot,
                        llvm::MaybeAlign(8));
  std::vector<uint32_t> groupOf;
  std::vector<uint32_t> distinct;
  for (const auto &tc : t.classes) {
    groupOf.push_back(tc.group);
    if (std::find(distinct.begin(), distinct.end(), tc.group) == distinct.end()) distinct.push_back(tc.group);
  }
  llvm::Value *group = nullptr;
  if (distinct.size() == 1) {
    group = b_.getInt32(distinct[0]);
  } else {
    auto *arr = llvm::ConstantDataArray::get(ctx_, llvm::ArrayRef<uint32_t>(groupOf));
    auto *gv = new llvm::GlobalVariable(*m_, arr->getType(), true, llvm::GlobalValue::PrivateLinkage, arr,
                                        "group_of_t" + std::to_string(t.id));
    group = b_.CreateAlignedLoad(i32_, b_.CreateInBoundsGEP(arr->getType(), gv, {b_.getInt64(0), idx}), llvm::MaybeAlign(4),
                                 "group");
  }
  auto *sw = b_.CreateSwitch(group, miss, unsigned(distinct.size()));
  for (uint32_t g : distinct) {
    auto *bb = llvm::BasicBlock::Create(ctx_, "group" + std::to_string(g), fn);
    sw->addCase(b_.getInt32(g), bb);
    b_.SetInsertPoint(bb);
    auto *call = b_.CreateCall(groups_[g][0], {core, p, fields, counts, ttl, dst});
    call->setTailCall();
    b_.CreateRet(call);
  }
  // Synthesized tables cover every packet; a miss would be a compiler bug: drop it.
  b_.SetInsertPoint(miss);
  b_.CreateRet(b_.getInt32(uint32_t(MTR_DROP)));
}

/// group_G(core, p, hdr, counts, entry ttl, entry ip.dst): Ω. With afterDevice, the device has
/// applied GroupSplit::hwWrites (and the TTL check with them): software applies only swWrites
/// of the leading block.
void Emitter::emitGroup(uint32_t gi, bool afterDevice) {
  const synth::Group &g = t_.groups[gi];
  const split::GroupSplit &gs = plan_.groups[gi];
  llvm::Function *fn = groups_[gi][afterDevice ? 1 : 0];
  llvm::Argument *core = fn->getArg(0), *p = fn->getArg(1), *hdr = fn->getArg(2), *counts = fn->getArg(3),
                 *ttl = fn->getArg(4), *dst = fn->getArg(5);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
  auto drop = [&] {
    auto *bb = llvm::BasicBlock::Create(ctx_, "drop", fn);
    llvm::IRBuilder<> d(bb);
    d.CreateRet(d.getInt32(uint32_t(MTR_DROP)));
    return bb;
  };
  auto writes = [&](const std::vector<WriteExpr> &xs) {
    std::vector<WriteEmitter::Write> w;
    for (const WriteExpr &x : xs) {
      llvm::Value *v = nullptr;
      switch (x.kind) {
      case WriteExpr::Const: v = b_.getInt64(x.value); break;
      case WriteExpr::DecBy: v = b_.CreateSub(ttl, b_.getInt64(x.value), "ttl.dec"); break;
      case WriteExpr::MacOfIpDst: v = b_.CreateOr(dst, b_.getInt64(0x020000000000ull), "mac"); break;
      }
      w.push_back({x.field, v});
    }
    writer_->emit(p, hdr, w);
  };
  llvm::Value *matched = b_.getFalse(); // the last DPI verdict (for a DPI fork's terminal)
  for (size_t oi = 0; oi < g.omega.ops.size(); ++oi) {
    const Op &op = g.omega.ops[oi];
    if (op.kind == Op::Writes) {
      const bool deviceDid = afterDevice && oi == 0 && !gs.hwWrites.empty();
      if (deviceDid) {
        writes(gs.swWrites);
        continue;
      }
      if (op.ttlGuard) {
        auto *ok = llvm::BasicBlock::Create(ctx_, "ttl.ok", fn);
        b_.CreateCondBr(b_.CreateICmpULE(ttl, b_.getInt64(op.ttlGuard), "ttl.expired"), drop(), ok);
        b_.SetInsertPoint(ok);
      }
      writes(op.writes);
      continue;
    }
    uint32_t slot = statefulSlot_.at({op.node, op.element});
    llvm::Value *r = b_.CreateCall(statefulFn_, {core, b_.getInt32(slot), p}, "st" + std::to_string(slot));
    auto *go = llvm::BasicBlock::Create(ctx_, "st.pass", fn);
    b_.CreateCondBr(b_.CreateICmpNE(b_.CreateAnd(r, b_.getInt32(MTR_ST_DROP)), b_.getInt32(0)), drop(), go);
    b_.SetInsertPoint(go);
    if (const auto *d = ir::dyn_cast<ir::Dpi>(op.el)) {
      matched = b_.CreateICmpNE(b_.CreateAnd(r, b_.getInt32(MTR_ST_MATCHED)), b_.getInt32(0), "dpi.matched");
      if (d->onMatch.kind == ir::Action::Deny) {
        auto *clean = llvm::BasicBlock::Create(ctx_, "dpi.clean", fn);
        b_.CreateCondBr(matched, drop(), clean);
        b_.SetInsertPoint(clean);
      } else if (d->onMatch.kind == ir::Action::Set) {
        auto *mark = llvm::BasicBlock::Create(ctx_, "dpi.set", fn);
        auto *next = llvm::BasicBlock::Create(ctx_, "dpi.next", fn);
        b_.CreateCondBr(matched, mark, next);
        b_.SetInsertPoint(mark);
        std::vector<WriteEmitter::Write> w;
        for (const auto &a : d->onMatch.assigns) w.push_back({a.field, b_.getInt64(a.value)});
        writer_->emit(p, hdr, w);
        b_.CreateBr(next);
        b_.SetInsertPoint(next);
      }
    }
  }
  const Terminal &term = g.omega.term;
  auto tailTo = [&](uint32_t table) {
    auto *call = b_.CreateCall(tables_.at(table), {core, p, hdr, counts});
    call->setTailCall();
    return call;
  };
  switch (term.kind) {
  case Terminal::Drop: b_.CreateRet(b_.getInt32(uint32_t(MTR_DROP))); break;
  case Terminal::Egress: b_.CreateRet(b_.getInt32(term.port)); break;
  case Terminal::Blackbox: b_.CreateRet(tailTo(term.table)); break; // the interpreter's wire model
  case Terminal::Goto:
    if (term.tableIfMatch >= 0 && uint32_t(term.tableIfMatch) != term.table) {
      auto *yes = llvm::BasicBlock::Create(ctx_, "dpi.fork.match", fn);
      auto *no = llvm::BasicBlock::Create(ctx_, "dpi.fork.nomatch", fn);
      b_.CreateCondBr(matched, yes, no);
      b_.SetInsertPoint(yes);
      b_.CreateRet(tailTo(uint32_t(term.tableIfMatch)));
      b_.SetInsertPoint(no);
    }
    b_.CreateRet(tailTo(term.table));
    break;
  }
}

/// metron_core_K: tags of the groups core K owns go straight to the group (the device
/// classified the packet and applied its writes); the rest is classified in software.
llvm::Function *Emitter::emitCore(uint32_t core) {
  auto *fn = llvm::Function::Create(entryTy_, llvm::Function::ExternalLinkage, "metron_core_" + std::to_string(core), m_.get());
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::Argument *c = fn->getArg(0), *p = fn->getArg(1), *fields = fn->getArg(2), *tag = fn->getArg(3),
                 *counts = fn->getArg(4);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
  auto *untagged = llvm::BasicBlock::Create(ctx_, "software", fn);
  std::vector<const targets::TagUse *> mine;
  if (in_.lowering)
    for (const auto &tu : in_.lowering->tags)
      if (tu.core == core && tu.kind != split::TagKind::Queue) mine.push_back(&tu);
  auto *sw = b_.CreateSwitch(tag, untagged, unsigned(mine.size()));
  for (const targets::TagUse *tu : mine) {
    auto *bb = llvm::BasicBlock::Create(ctx_, "tag" + std::to_string(tu->value), fn);
    sw->addCase(b_.getInt32(uint32_t(tu->value)), bb);
    b_.SetInsertPoint(bb);
    llvm::Value *ttl = b_.CreateAlignedLoad(i64_, b_.CreateConstInBoundsGEP1_64(i64_, fields, size_t(FieldId::IpTtl)),
                                            llvm::MaybeAlign(8), "ip.ttl");
    llvm::Value *dst = b_.CreateAlignedLoad(i64_, b_.CreateConstInBoundsGEP1_64(i64_, fields, size_t(FieldId::IpDst)),
                                            llvm::MaybeAlign(8), "ip.dst");
    auto *call = b_.CreateCall(groups_[tu->group][1], {c, p, fields, counts, ttl, dst});
    call->setTailCall();
    b_.CreateRet(call);
  }
  b_.SetInsertPoint(untagged);
  auto *call = b_.CreateCall(tables_[0], {c, p, fields, counts});
  call->setTailCall();
  b_.CreateRet(call);
  return fn;
}

llvm::Constant *Emitter::constString(const std::string &s, const std::string &name) {
  auto *init = llvm::ConstantDataArray::getString(ctx_, s, true);
  auto *gv = new llvm::GlobalVariable(*m_, init->getType(), true, llvm::GlobalValue::PrivateLinkage, init, name);
  gv->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  return llvm::ConstantExpr::getBitCast(gv, ptr_);
}

std::string Emitter::configJson() {
  const ir::Module &m = *in_.module;
  const ir::Chain &c = *t_.chain;
  json j;
  j["chain"] = c.name;
  j["server"] = in_.server;
  j["cores"] = plan_.cores;
  j["ports"] = m.portNames;
  j["ingress"] = c.portNames(ir::ChainNode::Ingress);
  j["egress"] = c.portNames(ir::ChainNode::Egress);
  json tags = json::array();
  if (in_.lowering)
    for (const auto &tu : in_.lowering->tags)
      tags.push_back({{"kind", split::tagKindName(tu.kind)},
                      {"value", tu.value},
                      {"group", tu.group},
                      {"core", tu.core},
                      {"napt_return", tu.napt}});
  j["tags"] = tags;
  json classes = json::array();
  for (const auto &t : t_.tables)
    for (const auto &tc : t.classes) {
      const split::ClassSplit *cs = plan_.findClass(tc.id);
      classes.push_back({{"table", t.id}, {"class", tc.id}, {"group", tc.group}, {"hw", cs && cs->hw}});
    }
  j["classes"] = classes;
  json groups = json::array();
  for (size_t gi = 0; gi < t_.groups.size(); ++gi)
    groups.push_back({{"group", t_.groups[gi].id},
                      {"core", plan_.groups[gi].core},
                      {"omega", t_.groups[gi].omega.str(m, c)}});
  j["groups"] = groups;
  j["stateful"] = stateful_;
  return j.dump();
}

llvm::GlobalVariable *Emitter::emitProgram(const std::vector<llvm::Function *> &cores, const std::string &config) {
  // struct mtr_acl_table { i32 table; i32 classes; i64 words; ptr encoded; }
  auto *aclTy = llvm::StructType::create(ctx_, {i32_, i32_, i64_, ptr_}, "struct.mtr_acl_table");
  // struct mtr_program { i32 abi; i32 cores; ptr entries; i32 acl_tables; ptr acl; i32 classes; ptr config;
  //                      ptr classify0; }
  auto *progTy = llvm::StructType::create(ctx_, {i32_, i32_, ptr_, i32_, ptr_, i32_, ptr_, ptr_}, "struct.mtr_program");
  // classify0(core, fields): table 0's classifier with the ABI's signature.
  auto *c0 = llvm::Function::Create(llvm::FunctionType::get(i32_, {ptr_, i64p_}, false), llvm::Function::InternalLinkage,
                                    "metron_classify0", m_.get());
  c0->addFnAttr(llvm::Attribute::NoUnwind);
  {
    llvm::IRBuilder<> cb(llvm::BasicBlock::Create(ctx_, "entry", c0));
    cb.CreateRet(aclIndex_[0] >= 0 ? cb.CreateCall(classify_[0], {c0->getArg(0), c0->getArg(1)})
                                   : cb.CreateCall(classify_[0], {c0->getArg(1)}));
  }

  std::vector<llvm::Constant *> entries;
  for (auto *f : cores) entries.push_back(llvm::ConstantExpr::getBitCast(f, ptr_));
  auto *entTy = llvm::ArrayType::get(ptr_, entries.size());
  auto *entGv = new llvm::GlobalVariable(*m_, entTy, true, llvm::GlobalValue::PrivateLinkage,
                                         llvm::ConstantArray::get(entTy, entries), "metron_entries");

  std::vector<llvm::Constant *> acls;
  for (const auto &t : t_.tables) {
    if (aclIndex_[t.id] < 0) continue;
    std::vector<dp::AclClass> classes;
    classes.reserve(t.classes.size());
    for (const auto &tc : t.classes) {
      dp::AclClass ac;
      for (const auto &fm : tc.phi.m)
        ac.c.push_back(fm.kind == ir::FieldMatch::Range
                           ? dp::AclConstraint{uint8_t(fm.field), 0, fm.lo, fm.hi}
                           : dp::AclConstraint{uint8_t(fm.field), 1, fm.value & fm.mask, fm.mask});
      classes.push_back(std::move(ac));
    }
    std::vector<uint64_t> words = dp::encodeAclTable(classes);
    auto *arr = llvm::ConstantDataArray::get(ctx_, llvm::ArrayRef<uint64_t>(words));
    auto *wgv = new llvm::GlobalVariable(*m_, arr->getType(), true, llvm::GlobalValue::PrivateLinkage, arr,
                                         "metron_acl_t" + std::to_string(t.id));
    acls.push_back(llvm::ConstantStruct::get(aclTy, {b_.getInt32(t.id), b_.getInt32(uint32_t(t.classes.size())),
                                                     b_.getInt64(words.size()), llvm::ConstantExpr::getBitCast(wgv, ptr_)}));
  }
  auto *aclArrTy = llvm::ArrayType::get(aclTy, acls.size());
  auto *aclGv = new llvm::GlobalVariable(*m_, aclArrTy, true, llvm::GlobalValue::PrivateLinkage,
                                         llvm::ConstantArray::get(aclArrTy, acls), "metron_acl");

  auto *prog = llvm::ConstantStruct::get(
      progTy, {b_.getInt32(MTR_ABI_VERSION), b_.getInt32(uint32_t(cores.size())), llvm::ConstantExpr::getBitCast(entGv, ptr_),
               b_.getInt32(uint32_t(acls.size())), llvm::ConstantExpr::getBitCast(aclGv, ptr_),
               b_.getInt32(uint32_t(stats_.classes)), constString(config, "metron_config"),
               llvm::ConstantExpr::getBitCast(c0, ptr_)});
  return new llvm::GlobalVariable(*m_, progTy, true, llvm::GlobalValue::ExternalLinkage, prog, "metron_program");
}

std::unique_ptr<llvm::Module> Emitter::run(std::string &config) {
  m_ = std::make_unique<llvm::Module>("metron." + t_.chain->name, ctx_);
  declareRuntime();
  assignSlots();

  // Classifiers: inline compares, or rte_acl through the runtime.
  uint32_t acl = 0;
  for (const auto &t : t_.tables) {
    if (t.classes.size() <= kMaxInlineClasses) {
      auto *fn = emitClassifier(*m_, t, "classify_t" + std::to_string(t.id));
      fn->setLinkage(llvm::Function::InternalLinkage);
      classify_.push_back(fn);
      aclIndex_.push_back(-1);
      ++stats_.inlineTables;
    } else {
      aclIndex_.push_back(int32_t(acl));
      classify_.push_back(emitAclClassifier(t, acl++));
      ++stats_.aclTables;
    }
  }
  for (const auto &t : t_.tables) {
    auto *fn = llvm::Function::Create(tableTy_, llvm::Function::InternalLinkage, "table_" + std::to_string(t.id), m_.get());
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    tables_.push_back(fn);
  }
  for (const auto &g : t_.groups) {
    std::array<llvm::Function *, 2> v{};
    for (int afterDevice = 0; afterDevice < 2; ++afterDevice) {
      v[afterDevice] = llvm::Function::Create(groupTy_, llvm::Function::InternalLinkage,
                                              "group_" + std::to_string(g.id) + (afterDevice ? "_tagged" : ""), m_.get());
      v[afterDevice]->addFnAttr(llvm::Attribute::NoUnwind);
    }
    groups_.push_back(v);
  }
  for (const auto &t : t_.tables) emitTable(t);
  for (uint32_t gi = 0; gi < t_.groups.size(); ++gi) {
    emitGroup(gi, false);
    emitGroup(gi, true);
  }
  stats_.groups = uint32_t(t_.groups.size());
  std::vector<llvm::Function *> cores;
  for (uint32_t k = 0; k < std::max(1u, plan_.cores); ++k) cores.push_back(emitCore(k));
  stats_.cores = uint32_t(cores.size());
  config = configJson();
  emitProgram(cores, config);

  std::string errs;
  llvm::raw_string_ostream os(errs);
  METRON_INTERNAL_ASSERT(!llvm::verifyModule(*m_, &os), "generated data plane does not verify: " + os.str());
  return std::move(m_);
}

} // namespace

std::unique_ptr<llvm::Module> programModule(llvm::LLVMContext &ctx, const ProgramInput &in, std::string &config,
                                            ProgramStats &stats) {
  METRON_INTERNAL_ASSERT(in.module && in.tables && in.plan, "programModule needs the module, the tables and the split");
  Emitter e(ctx, in, stats);
  return e.run(config);
}

namespace {
/// The target machine for \p cpu (one per CPU name, created once): what objects are compiled for.
llvm::TargetMachine *machineFor(const std::string &cpu, std::string &err) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<llvm::TargetMachine>> machines;
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  std::lock_guard<std::mutex> lock(mu);
  auto it = machines.find(cpu);
  if (it != machines.end()) return it->second.get();
  const std::string triple = llvm::sys::getDefaultTargetTriple();
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target) return nullptr;
  const std::string name = cpu == "native" ? llvm::sys::getHostCPUName().str() : cpu;
  std::string features;
  if (cpu == "native") {
    // The host's features as it reports them (a CPU name alone may promise more or less).
    llvm::StringMap<bool> host;
    if (llvm::sys::getHostCPUFeatures(host))
      for (const auto &f : host) features += (features.empty() ? "" : ",") + std::string(f.second ? "+" : "-") + f.first().str();
  }
  // Checked on a generic subtarget: one made for an unknown name would warn on stderr.
  std::unique_ptr<llvm::MCSubtargetInfo> sti(target->createMCSubtargetInfo(triple, "", ""));
  if (!sti || !sti->isCPUStringValid(name)) {
    err = "--cpu: LLVM does not know the CPU '" + cpu + "' (names as for clang -march, e.g. corei7, x86-64-v3, " +
          "znver3, skylake-avx512, or native)";
    return nullptr;
  }
  llvm::TargetOptions opts;
  // Position-independent: the executable is linked as a PIE, like everything Debian builds.
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(triple, name, features, opts, llvm::Reloc::PIC_,
                                                                      llvm::None, llvm::CodeGenOpt::Aggressive));
  if (!tm) {
    err = "LLVM has no target machine for " + triple + " (CPU " + name + ")";
    return nullptr;
  }
  return (machines[cpu] = std::move(tm)).get();
}
} // namespace

bool validCpu(const std::string &cpu, std::string &err) { return machineFor(cpu, err) != nullptr; }

bool setTarget(llvm::Module &m, const std::string &cpu, std::string &err) {
  llvm::TargetMachine *tm = machineFor(cpu, err);
  if (!tm) return false;
  m.setTargetTriple(tm->getTargetTriple().str());
  m.setDataLayout(tm->createDataLayout());
  return true;
}

bool emitObject(llvm::Module &m, const std::string &path, const std::string &cpu, std::string &err) {
  llvm::TargetMachine *tm = machineFor(cpu, err);
  if (!tm || !setTarget(m, cpu, err)) return false;
  const std::string triple = tm->getTargetTriple().str();
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    err = "cannot write '" + path + "': " + ec.message();
    return false;
  }
  llvm::legacy::PassManager pm; // LLVM 14's code generator still runs on the legacy manager
  if (tm->addPassesToEmitFile(pm, out, nullptr, llvm::CGFT_ObjectFile)) {
    err = "LLVM cannot emit an object file for " + triple;
    return false;
  }
  pm.run(m);
  out.flush();
  if (out.has_error()) {
    err = "cannot write '" + path + "': " + out.error().message();
    out.clear_error();
    return false;
  }
  return true;
}

std::unique_ptr<llvm::Module> coreModule(const llvm::Module &m, uint32_t core, std::string &err) {
  std::unique_ptr<llvm::Module> c = llvm::CloneModule(m);
  auto *gv = c->getGlobalVariable("metron_entries", /*AllowInternal=*/true);
  auto *arr = gv && gv->hasInitializer() ? llvm::dyn_cast<llvm::ConstantArray>(gv->getInitializer()) : nullptr;
  if (!arr || core >= arr->getNumOperands()) {
    err = "the module has no entry point for core " + std::to_string(core);
    return nullptr;
  }
  std::vector<llvm::Constant *> entries;
  for (unsigned i = 0; i < arr->getNumOperands(); ++i)
    entries.push_back(i == core ? llvm::cast<llvm::Constant>(arr->getOperand(i)) : llvm::Constant::getNullValue(arr->getType()->getElementType()));
  gv->setInitializer(llvm::ConstantArray::get(arr->getType(), entries));
  for (unsigned i = 0; i < arr->getNumOperands(); ++i)
    if (i != core)
      if (llvm::Function *f = c->getFunction("metron_core_" + std::to_string(i))) f->setLinkage(llvm::GlobalValue::InternalLinkage);
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb;
  pb.registerModuleAnalyses(mam);
  llvm::ModulePassManager mpm;
  mpm.addPass(llvm::GlobalDCEPass());
  mpm.run(*c, mam);
  if (llvm::verifyModule(*c, &llvm::errs())) {
    err = "core " + std::to_string(core) + "'s module does not verify";
    return nullptr;
  }
  return c;
}

bool linkExecutable(const std::string &object, const std::string &path, std::string &err) {
  std::vector<std::string> args = {link::kDriver, "-o", path, object};
  for (const char *const *a = link::kArgs; *a; ++a) args.push_back(*a);
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The linker's messages go to a file beside the executable, shown on failure.
  const std::string log = path + ".link.log";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    err = std::string("cannot run the linker driver '") + link::kDriver + "': " + strerror(rc);
    return false;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  unlink(log.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const auto &a : args) cmd += (cmd.empty() ? "" : " ") + a;
    err = "linking '" + path + "' failed:\n" + text.str() + "command: " + cmd;
    return false;
  }
  return true;
}

std::string runtimeDescription() { return std::string("runtime libraries in ") + link::kRuntimeDir; }

} // namespace metron::codegen
