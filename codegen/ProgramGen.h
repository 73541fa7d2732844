//===- codegen/ProgramGen.h - A chain's data plane as an LLVM module and an executable --*- C++ -*-===//
///
/// \file
/// Lowers a placed chain (synthesized tables, the split for its classifier, the tags the
/// devices put on packets) to the module the data-plane executable runs
/// (runtime/dataplane/Abi.h):
///
///  * per table, a classifier: first match over Φ as straight-line compares (ClassifierGen) or,
///    above kMaxInlineClasses classes, a call into the runtime's rte_acl table, whose classes
///    are embedded as constants (runtime/dataplane/Acl.h encoding);
///  * per group, Ω with its constants folded in: the TTL check, the writes inline on the
///    packet's header block (WriteGen.h; values constant, `entry ip.ttl - n` or
///    `02:00:<entry ip.dst>`), each stateful operation as mtr_stateful on its slot, the DPI
///    verdicts, and the terminal: an
///    egress port, drop, or the next table (a tail call). A second variant serves packets the
///    device already applied the group's leading writes to (GroupSplit::hwWrites);
///  * per core k, `metron_core_k`: a switch over the tags whose group core k owns (the
///    device classified the packet: straight to the group), everything else (untagged, queue
///    tags) through table 0 in software;
///  * `metron_program`: the entry points, the rte_acl tables, and a JSON configuration the
///    runtime reads at start (ports, tags, per-class counter slots, stateful elements with
///    their parameters and NAPT port parts per core).
///
/// emitObject() compiles the module with a TargetMachine for the CPU it is given (the driver's
/// default is compiler/driver/Compile.h's kDefaultCpu: the executable runs on the server, not
/// on the machine that compiles it); linkExecutable() links the object with the runtime libraries (DPDK, Hyperscan) into
/// OUT/bin/<server>.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/NFIR.h"
#include "compiler/split/Split.h"
#include "compiler/synth/Synth.h"
#include "targets/Lower.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace metron::codegen {

struct ProgramInput {
  const ir::Module *module = nullptr;
  const synth::ChainTables *tables = nullptr;
  const split::SplitPlan *plan = nullptr;  ///< the split of the classifier chosen (cores, tags)
  const targets::Lowering *lowering = nullptr; ///< tags and NAPT partitions
  std::string server;
};

struct ProgramStats {
  uint32_t inlineTables = 0, aclTables = 0, groups = 0, cores = 0, stateful = 0;
  uint64_t classes = 0;
};

/// The verified, unoptimized module; \p config receives the embedded JSON configuration.
std::unique_ptr<llvm::Module> programModule(llvm::LLVMContext &ctx, const ProgramInput &in, std::string &config,
                                            ProgramStats &stats);

/// The module of core \p core's own executable (OUT/bin/<server>.core<k>, the DPDK secondary
/// process of runtime/dataplane/Dataplane.cpp): a copy of the optimized \p m whose
/// metron_program has only that core's entry point, without the code only other cores reach.
std::unique_ptr<llvm::Module> coreModule(const llvm::Module &m, uint32_t core, std::string &err);

/// Whether LLVM knows \p cpu as an x86-64 CPU name; "native" is the CPU of the machine that
/// compiles. \p err says why not.
bool validCpu(const std::string &cpu, std::string &err);

/// Sets \p m's target triple and data layout (before optimizing it) for \p cpu.
bool setTarget(llvm::Module &m, const std::string &cpu, std::string &err);

/// Compiles \p m (optimized with optimize() first by the caller) for \p cpu into \p path.
bool emitObject(llvm::Module &m, const std::string &path, const std::string &cpu, std::string &err);

/// Links \p object with the data-plane runtime into the executable \p path, with the linker
/// driver the project was built with; \p err carries the linker's output on failure.
bool linkExecutable(const std::string &object, const std::string &path, std::string &err);

/// Where the runtime libraries linkExecutable uses are (for messages and --version).
std::string runtimeDescription();

} // namespace metron::codegen
