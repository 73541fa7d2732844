//===- codegen/ClassifierGen.cpp - A synthesized table as an LLVM function -----------------===//
#include "codegen/ClassifierGen.h"

#include "lang/Diagnostics.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>

#include <array>
#include <mutex>

namespace metron::codegen {

using ir::FieldId;
using ir::FieldMatch;

std::unique_ptr<llvm::Module> classifierModule(llvm::LLVMContext &ctx, const synth::Table &t, const std::string &name) {
  if (t.classes.size() > kMaxInlineClasses) return nullptr;
  auto mod = std::make_unique<llvm::Module>("metron." + name, ctx);
  emitClassifier(*mod, t, name);
  std::string errs;
  llvm::raw_string_ostream os(errs);
  METRON_INTERNAL_ASSERT(!llvm::verifyModule(*mod, &os), "generated classifier does not verify: " + os.str());
  return mod;
}

llvm::Function *emitClassifier(llvm::Module &module, const synth::Table &t, const std::string &name) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Module *mod = &module;
  llvm::IRBuilder<> b(ctx);
  llvm::Type *i64 = b.getInt64Ty();
  llvm::Type *i32 = b.getInt32Ty();
  auto *fnTy = llvm::FunctionType::get(i32, {llvm::PointerType::getUnqual(i64)}, false);
  auto *fn = llvm::Function::Create(fnTy, llvm::Function::ExternalLinkage, name, mod);
  llvm::Argument *fields = fn->getArg(0);
  fields->setName("fields");
  fn->addParamAttr(0, llvm::Attribute::NoCapture);
  fn->addParamAttr(0, llvm::Attribute::ReadOnly);
  fn->addParamAttr(0, llvm::Attribute::NoAlias);
  fn->addFnAttr(llvm::Attribute::NoUnwind);

  // Every field a class tests, loaded once in the entry block (the vector is read-only).
  auto *entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  b.SetInsertPoint(entry);
  std::array<llvm::Value *, ir::kNumFields> value{};
  for (const auto &c : t.classes)
    for (const FieldMatch &m : c.phi.m) {
      size_t f = size_t(m.field);
      if (value[f]) continue;
      llvm::Value *p = b.CreateConstInBoundsGEP1_64(i64, fields, f, std::string(ir::fieldInfo(m.field).name) + ".p");
      value[f] = b.CreateAlignedLoad(i64, p, llvm::MaybeAlign(8), std::string(ir::fieldInfo(m.field).name));
    }

  // Class k: its constraints in order; the first that fails goes on to class k + 1.
  auto *miss = llvm::BasicBlock::Create(ctx, "miss", fn);
  std::vector<llvm::BasicBlock *> test(t.classes.size() + 1);
  for (size_t k = 0; k < t.classes.size(); ++k) test[k] = llvm::BasicBlock::Create(ctx, "class" + std::to_string(k), fn, miss);
  test[t.classes.size()] = miss;
  b.CreateBr(test[0]);
  for (size_t k = 0; k < t.classes.size(); ++k) {
    b.SetInsertPoint(test[k]);
    llvm::Value *ok = b.getTrue();
    for (const FieldMatch &m : t.classes[k].phi.m) {
      llvm::Value *v = value[size_t(m.field)];
      const uint64_t maxv = ir::fieldInfo(m.field).maxValue();
      llvm::Value *cond = nullptr;
      if (m.kind == FieldMatch::Range) {
        if (m.lo == 0 && m.hi >= maxv) continue; // the whole field
        if (m.lo == 0) cond = b.CreateICmpULE(v, b.getInt64(m.hi));
        else if (m.lo == m.hi) cond = b.CreateICmpEQ(v, b.getInt64(m.lo));
        else cond = b.CreateICmpULE(b.CreateSub(v, b.getInt64(m.lo)), b.getInt64(m.hi - m.lo));
      } else {
        if (m.mask == 0) continue;
        cond = b.CreateICmpEQ(b.CreateAnd(v, b.getInt64(m.mask)), b.getInt64(m.value & m.mask));
      }
      ok = b.CreateAnd(ok, cond);
    }
    auto *hit = llvm::BasicBlock::Create(ctx, "hit" + std::to_string(k), fn, test[k + 1]);
    b.CreateCondBr(ok, hit, test[k + 1]);
    b.SetInsertPoint(hit);
    b.CreateRet(b.getInt32(uint32_t(k)));
  }
  b.SetInsertPoint(miss);
  b.CreateRet(b.getInt32(uint32_t(-1)));
  return fn;
}

void optimize(llvm::Module &m) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb;
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2);
  mpm.run(m, mam);
}

std::string printModule(const llvm::Module &m) {
  std::string s;
  llvm::raw_string_ostream os(s);
  m.print(os, nullptr);
  return os.str();
}

struct JitClassifier::Impl {
  std::unique_ptr<llvm::orc::LLJIT> jit;
};

JitClassifier::~JitClassifier() = default;

std::unique_ptr<JitClassifier> JitClassifier::create(const synth::Table &t, std::string &err) {
  static std::once_flag init;
  std::call_once(init, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  auto ctx = std::make_unique<llvm::LLVMContext>();
  const std::string name = "classify_t" + std::to_string(t.id);
  auto mod = classifierModule(*ctx, t, name);
  if (!mod) {
    err = "table " + std::to_string(t.id) + " has " + std::to_string(t.classes.size()) + " classes, more than " +
          std::to_string(kMaxInlineClasses) + " (such tables are classified by rte_acl)";
    return nullptr;
  }
  optimize(*mod);
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit) {
    err = llvm::toString(jit.takeError());
    return nullptr;
  }
  if (auto e = (*jit)->addIRModule(llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx)))) {
    err = llvm::toString(std::move(e));
    return nullptr;
  }
  auto sym = (*jit)->lookup(name);
  if (!sym) {
    err = llvm::toString(sym.takeError());
    return nullptr;
  }
  std::unique_ptr<JitClassifier> c(new JitClassifier());
  c->fn_ = reinterpret_cast<Fn>(sym->getAddress());
  c->impl_ = std::make_unique<Impl>();
  c->impl_->jit = std::move(*jit);
  return c;
}

} // namespace metron::codegen
