//===- codegen/ClassifierGen.h - A synthesized table as an LLVM function ---------*- C++ -*-===//
///
/// \file
/// The first piece of the data plane's code generation (issue 5, DESIGN.md §5): one
/// synthesized table (synth::Table) becomes
///
///   i32 NAME(i64* nocapture readonly fields)
///
/// returning the index (into Table::classes) of the first class whose Φ contains the field
/// vector (indexed by ir::FieldId, as synth::Executor keeps it), or -1 — exactly what
/// synth::TableClassifier::lookup answers. Each class is a conjunction of its constraints,
/// folded to constants (a range is one unsigned compare when it starts at 0, else a
/// subtract-and-compare; a mask is an and-compare), tested in table order; LLVM's O2 pipeline
/// (new pass manager) then merges the tests. Tables with more than kMaxInlineClasses classes
/// are not generated: the data plane classifies those with DPDK's rte_acl (issue 5).
///
/// Example:
/// \code
///   llvm::LLVMContext ctx;
///   auto mod = codegen::classifierModule(ctx, table, "classify_t0");   // verified
///   codegen::optimize(*mod);                                          // O2
///   std::string ir = codegen::printModule(*mod);                       // --emit llvm
/// \endcode
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/synth/Synth.h"

#include <cstdint>
#include <memory>
#include <string>

namespace llvm {
class Function;
class LLVMContext;
class Module;
} // namespace llvm

namespace metron::codegen {

/// Beyond this many classes a table is classified by rte_acl, not by generated code.
constexpr size_t kMaxInlineClasses = 1024;

/// A module holding the classifier of \p t as function \p name; nullptr when \p t has more than
/// kMaxInlineClasses classes. The module is verified (an invalid one is an internal error).
std::unique_ptr<llvm::Module> classifierModule(llvm::LLVMContext &ctx, const synth::Table &t, const std::string &name);

/// Adds the classifier of \p t to \p m as function \p name (external linkage) and returns it; \p t
/// must have at most kMaxInlineClasses classes.
llvm::Function *emitClassifier(llvm::Module &m, const synth::Table &t, const std::string &name);

/// Runs LLVM's O2 module pipeline (new pass manager) on \p m.
void optimize(llvm::Module &m);

/// The module as LLVM assembly.
std::string printModule(const llvm::Module &m);

/// A JIT-compiled classifier (LLVM ORC LLJIT), for tests and for checking generated code
/// against the synthesized tables.
class JitClassifier {
public:
  using Fn = int32_t (*)(const uint64_t *);
  /// Generates, optimizes and compiles \p t's classifier; nullptr with \p err when it cannot.
  static std::unique_ptr<JitClassifier> create(const synth::Table &t, std::string &err);
  ~JitClassifier();
  int32_t operator()(const uint64_t *fields) const { return fn_(fields); }

private:
  JitClassifier() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Fn fn_ = nullptr;
};

} // namespace metron::codegen
