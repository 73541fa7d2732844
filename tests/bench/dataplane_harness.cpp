//===- tests/bench/dataplane_harness.cpp - One core's per-packet cost, by dispatch mode -------===//
///
/// dataplane_harness measures what one core spends per packet on a compiled chain
/// (`metronc compile` → OUT/bin/<server>.o) and on its baselines (DESIGN.md §9), single-threaded
/// and with the capture preloaded in memory, so that I/O is not the bottleneck and the figures
/// are repeatable under `valgrind --tool=callgrind`:
///
///   dataplane_harness --object OUT/bin/server1.o --rules OUT/rules/server1.nic0.rte_flow.json
///                     --metron CHAIN.metron --pcap IN.pcap [--mode M[,M...]|all]
///                     [--packets N] [--repeat K] [--warmup W] [--snap BYTES]
///
/// The object is loaded into this process with LLVM ORC (LLJIT::addObjectFile; the mtr_* calls
/// it makes resolve to this binary's runtime, runtime/dataplane/Runtime.cpp) and its
/// `metron_program` drives dp::ProgramRuntime, exactly as the data-plane executable does.
/// Each mode's timed loop is one `__attribute__((noinline))` function (bench_loop_<mode>), so
/// that callgrind can count it alone (`--toggle-collect=*bench_loop_tagged*`); a warm-up of W
/// packets (default: one pass over the capture) runs first on the same state through a twin
/// function (bench_warm_<mode>), so that the figures are the steady state (flows known to NAPT
/// and the balancer, caches warm). The loop body is what a core does per packet. Frames reach
/// it as from a NIC: copied (untimed, and taken out of callgrind's collection) a segment at a
/// time into buffers with mbuf headroom, where the core processes them in place as the runtime
/// does with its mbufs (pkt::Packet::attach); a packet that had to own its frame is copied
/// back out, as the runtime's storePacket does:
///
///   forward     attach (parse) and send: the plain L2 forward baseline;
///   reference   attach + interp::Interpreter::process: the chain NF by NF, as written;
///   dispatcher  E2-style: attach + metron_program.classify0 (table 0's classifier; a large
///               table once per burst of 32) → class → group → its tag, a hand-off through an
///               rte_ring per burst, then the worker's attach + run(tag) (one thread plays
///               both: cycles are their sum);
///   tagged      the NIC's rte_flow rules (dp::NicModel) applied to every packet before the
///               loop, as the NIC delivers them (its header writes, its mark; its drops never
///               reach the core), then attach + run(mark), in bursts of 32 (dp::runBurst);
///   tagged_nocache  the same with the stateful elements' flow caches off (--flow-cache 0):
///               what the caches are worth on this capture;
///   untagged    the same with MTR_UNTAGGED: the whole classification in software (table 0,
///               when rte_acl classifies it, once per burst, as the runtime's worker does).
///
/// W + N packets cycle through the capture (timestamps shifted by the capture's span on every
/// pass, so that time never runs backwards); `tagged` runs the packets the NIC delivers out of
/// those same packets. Each repetition starts from fresh state (new interpreter, new cores) and
/// repetitions interleave the modes. Cycles: rte_rdtsc around the loop (wall clock, which on a
/// shared machine includes the time other processes held the core) and around every segment of
/// 1,024 frames of a pass; after the warm-up every pass does the same work, so a segment's
/// fewest cycles over all passes and repetitions is its cost without interference, and
/// cycles_per_packet (and mpps) is their sum over a pass per packet ("quiet"; the wall figure
/// when N is less than a pass). noise = wall / quiet - 1. Output: one `mode=... key=value...`
/// line per mode (packets, emitted, dropped, cycles_per_packet, mpps, wall_cycles_per_packet,
/// noise; for tagged the packets the NIC dropped, which never reach the core and are not in
/// `packets`), then a check that reference, dispatcher, tagged and untagged emitted the same
/// packets (count and bytes); exit 1 when they did not or a mode failed, 2 on usage errors.
///
/// Under callgrind, a profile part is dumped after every measured loop (CALLGRIND_DUMP_STATS_AT
/// "bench_loop_<mode>"): with `--toggle-collect=*bench_loop_*`, each part's total is exactly one
/// mode's instructions, and one process serves every mode. Only what the modes given need is
/// set up (the chain for the interpreter, rte_acl, the NIC model), since set-up is ~50 times
/// slower under valgrind.
///
/// --snap BYTES cuts every frame to BYTES captured bytes (the wire length stays), e.g. 64 for
/// the 64-byte frames DESIGN.md §9's FastClick figures were measured with.
//===----------------------------------------------------------------------------------------===//
#include "compiler/driver/Commands.h"
#include "compiler/interp/Interpreter.h"
#include "runtime/dataplane/Abi.h"
#include "runtime/dataplane/FlowState.h"
#include "runtime/dataplane/NicModel.h"
#include "runtime/dataplane/Runtime.h"
#include "runtime/packet/Packet.h"
#include "runtime/packet/Pcap.h"

#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#if __has_include(<valgrind/callgrind.h>) // Debian's valgrind package (scripts/install-deps.sh)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_DUMP_STATS_AT(name) ((void)(name))
#define CALLGRIND_TOGGLE_COLLECT
#endif

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace metron;
using nlohmann::json;

namespace {

/// The runtime directory EAL makes even with --no-shconf (/var/run/dpdk/rte for root): removed
/// at the end when it is empty, as the data plane does; empty until the EAL is up.
std::string gRuntimeDir;

/// Flushes, removes gRuntimeDir if it is empty, and ends the process with \p status (no EAL
/// teardown racing with static destructors, as in the data plane).
[[noreturn]] void leave(int status) {
  fflush(nullptr);
  if (!gRuntimeDir.empty()) rmdir(gRuntimeDir.c_str());
  _exit(status);
}

[[noreturn]] void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("dataplane_harness: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  leave(1);
}

[[noreturn]] void usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("dataplane_harness: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fputs("usage: dataplane_harness --object OUT/bin/SERVER.o --rules OUT/rules/NIC.rte_flow.json --metron CHAIN.metron\n"
        "         --pcap IN.pcap [--mode forward|reference|dispatcher|tagged|tagged_nocache|untagged[,...]|all]\n"
        "         [--packets N]"
        "         [--repeat K] [--warmup W] [--snap BYTES]\n",
        stderr);
  fflush(nullptr);
  _exit(2);
}

const char *const kModes[] = {"forward", "reference", "dispatcher", "tagged", "tagged_nocache", "untagged"};

/// --warmup default: one pass over the capture.
constexpr uint64_t kOnePass = ~uint64_t(0);

struct Options {
  std::string object, rules, metron, pcap;
  std::vector<std::string> modes;
  uint64_t packets = 1000000;
  unsigned repeat = 1;
  uint32_t snap = 0;
  uint64_t warmup = kOnePass;
};

Options parseOptions(int argc, char **argv) {
  Options o;
  auto need = [&](int &i) -> std::string {
    if (i + 1 >= argc) usage("option %s needs a value", argv[i]);
    return argv[++i];
  };
  auto number = [&](const std::string &v, const char *opt) {
    char *end = nullptr;
    errno = 0;
    unsigned long long n = strtoull(v.c_str(), &end, 10);
    if (v.empty() || *end || errno || v[0] == '-') usage("%s wants a number, not '%s'", opt, v.c_str());
    return uint64_t(n);
  };
  std::string modes = "all";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--object") o.object = need(i);
    else if (a == "--rules") o.rules = need(i);
    else if (a == "--metron") o.metron = need(i);
    else if (a == "--pcap") o.pcap = need(i);
    else if (a == "--mode") modes = need(i);
    else if (a == "--packets") o.packets = number(need(i), "--packets");
    else if (a == "--repeat") o.repeat = unsigned(number(need(i), "--repeat"));
    else if (a == "--snap") o.snap = uint32_t(number(need(i), "--snap"));
    else if (a == "--warmup") o.warmup = number(need(i), "--warmup");
    else if (a == "-h" || a == "--help") usage("%s", "help requested");
    else usage("unknown option '%s'", a.c_str());
  }
  if (o.object.empty() || o.rules.empty() || o.metron.empty() || o.pcap.empty())
    usage("--object, --rules, --metron and --pcap are required");
  if (o.packets == 0 || o.repeat == 0) usage("--packets and --repeat must be at least 1");
  if (o.snap != 0 && o.snap < 14) usage("--snap must be at least 14 (an Ethernet header)");
  std::stringstream ss(modes);
  for (std::string m; std::getline(ss, m, ',');) {
    if (m == "all") {
      o.modes.assign(std::begin(kModes), std::end(kModes));
      continue;
    }
    if (std::find(std::begin(kModes), std::end(kModes), m) == std::end(kModes)) usage("unknown mode '%s'", m.c_str());
    if (std::find(o.modes.begin(), o.modes.end(), m) == o.modes.end()) o.modes.push_back(m);
  }
  if (o.modes.empty()) usage("no mode given");
  return o;
}

// ---- the generated object, in this process ------------------------------------------------------

/// Keeps the JIT (and so the loaded code) alive.
std::unique_ptr<llvm::orc::LLJIT> gJit;

const mtr_program &loadObject(const std::string &path) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit) die("cannot create an LLJIT: %s", llvm::toString(jit.takeError()).c_str());
  gJit = std::move(*jit);
  llvm::orc::JITDylib &jd = gJit->getMainJITDylib();
  // What generated code calls (runtime/dataplane/Abi.h), from this binary's runtime; taking
  // the addresses here also keeps them linked in.
  const auto flags = llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable;
  llvm::orc::SymbolMap runtime = {
      {gJit->mangleAndIntern("mtr_set"), llvm::JITEvaluatedSymbol(llvm::pointerToJITTargetAddress(&mtr_set), flags)},
      {gJit->mangleAndIntern("mtr_stateful"),
       llvm::JITEvaluatedSymbol(llvm::pointerToJITTargetAddress(&mtr_stateful), flags)},
      {gJit->mangleAndIntern("mtr_acl"), llvm::JITEvaluatedSymbol(llvm::pointerToJITTargetAddress(&mtr_acl), flags)},
  };
  if (auto e = jd.define(llvm::orc::absoluteSymbols(std::move(runtime))))
    die("cannot define the runtime's symbols: %s", llvm::toString(std::move(e)).c_str());
  // Anything else the object needs (memcpy, memset) from the process.
  auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(gJit->getDataLayout().getGlobalPrefix());
  if (!gen) die("cannot search the process's symbols: %s", llvm::toString(gen.takeError()).c_str());
  jd.addGenerator(std::move(*gen));
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf) die("cannot read '%s': %s", path.c_str(), buf.getError().message().c_str());
  if (auto e = gJit->addObjectFile(std::move(*buf)))
    die("cannot load '%s': %s", path.c_str(), llvm::toString(std::move(e)).c_str());
  auto sym = gJit->lookup("metron_program");
  if (!sym) die("'%s' has no metron_program: %s", path.c_str(), llvm::toString(sym.takeError()).c_str());
  return *llvm::jitTargetAddressToPointer<const mtr_program *>(sym->getAddress());
}

// ---- the input ----------------------------------------------------------------------------------

struct Frame {
  uint32_t off = 0, len = 0, wire = 0;
  uint32_t tag = MTR_UNTAGGED; ///< tagged mode: the NIC's mark
  uint64_t ts = 0;
};

/// Frames preloaded back to back in one buffer.
struct Input {
  std::vector<uint8_t> bytes;
  std::vector<Frame> frames;
  uint64_t spanNs = 0; ///< added to the timestamps on every pass over the frames
  uint16_t inPort = 0; ///< Module::portNames index of the chain's ingress port
  const uint8_t *data(const Frame &f) const { return bytes.data() + f.off; }
};

Input readCapture(const std::string &path, uint32_t snap, uint16_t inPort) {
  std::string err;
  auto r = pkt::PcapReader::open(path, err);
  if (!r) die("%s", err.c_str());
  Input in;
  in.inPort = inPort;
  pkt::Packet p;
  while (r->next(p)) {
    const auto &f = p.frame();
    uint32_t len = uint32_t(snap && f.size() > snap ? snap : f.size());
    in.frames.push_back({uint32_t(in.bytes.size()), len, std::max<uint32_t>(p.wireLen, uint32_t(f.size())), MTR_UNTAGGED,
                         p.timestampNs});
    in.bytes.insert(in.bytes.end(), f.begin(), f.begin() + len);
  }
  if (!r->error().empty()) die("%s", r->error().c_str());
  if (in.frames.empty()) die("'%s' holds no packet", path.c_str());
  in.spanNs = in.frames.back().ts - std::min(in.frames.back().ts, in.frames.front().ts) + 1000;
  return in;
}

/// The capture as the NIC delivers it to the core: its rules applied to every frame (header
/// writes, mark), the frames it drops left out; \p nicDropped[i]: frame i was dropped.
Input nicDeliver(const Input &in, const dp::NicModel &nic, uint16_t nicPort, std::vector<bool> &nicDropped,
                 uint64_t &unmatched) {
  Input out;
  out.inPort = in.inPort;
  out.spanNs = in.spanNs;
  nicDropped.assign(in.frames.size(), false);
  unmatched = 0;
  pkt::Packet p;
  for (size_t i = 0; i < in.frames.size(); ++i) {
    const Frame &f = in.frames[i];
    p.assign(in.data(f), f.len, f.wire, f.ts, in.inPort);
    dp::NicVerdict v = nic.apply(p, nicPort);
    if (!v.matched) ++unmatched;
    if (v.drop) {
      nicDropped[i] = true;
      continue;
    }
    if (v.queue > 0) die("the NIC rules send frame %zu to queue %d; the harness runs core 0 only", i, v.queue);
    const auto &g = p.frame();
    out.frames.push_back({uint32_t(out.bytes.size()), uint32_t(g.size()), p.wireLen, v.hasMark ? v.mark : MTR_UNTAGGED, f.ts});
    out.bytes.insert(out.bytes.end(), g.begin(), g.end());
  }
  return out;
}

// ---- the timed loops ------------------------------------------------------------------------------

struct Result {
  uint64_t packets = 0;  ///< packets the loop handled
  uint64_t emitted = 0, dropped = 0;
  uint64_t bytes = 0;    ///< sum of the emitted frames' lengths
  uint64_t cycles = 0;   ///< rte_rdtsc over the whole loop (wall clock)
  uint64_t fallback = 0; ///< dispatcher: packets handed over untagged (the worker classifies)
  /// Per segment of a pass over the input (Cursor::kSegment frames), the fewest cycles any
  /// pass spent on it; 0 when no pass covered the segment from start to end.
  std::vector<uint64_t> segmentBest;
  uint64_t passPackets = 0; ///< packets in a pass over the input
};

/// An emitted frame: the runtime sends the mbuf the packet was processed in (storePacket:
/// nothing to copy for a view); a packet that had to own its frame is copied back, as there.
alignas(64) uint8_t gOut[pkt::PcapReader::kMaxFrameBytes + 64];

inline void emit(const pkt::Packet &p, Result &r) {
  if (!p.isView()) {
    memcpy(gOut, p.data(), p.size());
    asm volatile("" : : "r"(gOut) : "memory");
  }
  r.bytes += p.size();
  ++r.emitted;
}

/// True while a measured loop (bench_loop_<mode>) runs: the emulated NIC's copies are then
/// taken out of callgrind's collection.
bool gMeasured = false;

/// Headroom before each emulated mbuf's frame (RTE_PKTMBUF_HEADROOM), for VLAN pushes.
constexpr uint32_t kHeadroom = 128;

/// Cycles through \p in: frame, timestamp of this pass. It also times every segment of
/// kSegment frames of a pass with rte_rdtsc (startTiming, then advanced() after the frames of
/// at most left() next() calls): every pass does the same work after the warm-up, so the fewest
/// cycles any pass spent on a segment is its cost without interference, and their sum the cost
/// of a quiet pass. On a shared machine the wall clock of a long loop includes the time other
/// processes held the core (rte_rdtsc counts on).
struct Cursor {
  static constexpr uint32_t kSegment = 1024;
  const Input &in;
  size_t i = 0;
  uint64_t base = 0;
  explicit Cursor(const Input &input) : in(input) {
    uint32_t most = 0;
    for (const Frame &f : in.frames) most = std::max(most, f.len);
    slot_ = (kHeadroom + most + 63) / 64 * 64;
    rx_.resize(size_t(2) * kSegment * slot_ + 64);
  }
  const Frame &frame() const { return in.frames[i]; }
  /// The current frame as the NIC delivered it: in an emulated mbuf of its own (kHeadroom
  /// bytes before it), which the core processes in place.
  uint8_t *buf() { return rxBase() + size_t(half_ * kSegment + i % kSegment) * slot_ + kHeadroom; }
  void next() {
    if (++i == in.frames.size()) {
      i = 0;
      base += in.spanNs;
    }
  }
  void startTiming(std::vector<uint64_t> &best, uint64_t now) {
    best_ = &best;
    best.assign((in.frames.size() + kSegment - 1) / kSegment, 0);
    receive();
    last_ = rte_rdtsc();
    (void)now;
    whole_ = i % kSegment == 0; // a segment started mid-way is not counted
    left_ = uint32_t(std::min<size_t>(kSegment - i % kSegment, in.frames.size() - i));
  }
  /// Frames until the end of the current segment.
  uint32_t left() const { return left_; }
  /// \p m frames (at most left()) went by.
  void advanced(uint32_t m) {
    left_ -= m;
    if (left_ == 0) segmentDone();
  }

private:
  uint8_t *rxBase() { return reinterpret_cast<uint8_t *>((uintptr_t(rx_.data()) + 63) & ~uintptr_t(63)); }
  /// The NIC's DMA: the frames from i to the end of its segment into the other half of the
  /// buffers (the half in use may still hold frames a dispatcher handed over), untimed.
  __attribute__((noinline)) void receive() {
    if (gMeasured) CALLGRIND_TOGGLE_COLLECT;
    half_ ^= 1;
    const size_t end = std::min<size_t>((i / kSegment + 1) * kSegment, in.frames.size());
    for (size_t j = i; j < end; ++j) {
      const Frame &f = in.frames[j];
      memcpy(rxBase() + size_t(half_ * kSegment + j % kSegment) * slot_ + kHeadroom, in.data(f), f.len);
    }
    if (gMeasured) CALLGRIND_TOGGLE_COLLECT;
  }
  __attribute__((noinline)) void segmentDone() {
    const uint64_t now = rte_rdtsc();
    const size_t seg = (i == 0 ? in.frames.size() - 1 : i - 1) / kSegment; // the segment just finished
    uint64_t &b = (*best_)[seg];
    if (whole_ && (b == 0 || now - last_ < b)) b = now - last_;
    receive();
    last_ = rte_rdtsc();
    whole_ = true;
    left_ = uint32_t(std::min<size_t>(kSegment, in.frames.size() - i));
  }
  bool whole_ = false;
  uint32_t left_ = 0;
  uint64_t last_ = 0;
  std::vector<uint64_t> *best_ = nullptr;
  std::vector<uint8_t> rx_;
  uint32_t slot_ = 0, half_ = 0;
};

} // namespace

// Each loop body is an always-inline function instantiated twice: bench_warm_<mode> (the
// warm-up, on the same state; its figures are dropped and callgrind does not collect it) and
// bench_loop_<mode> (measured). They have external linkage and plain names so that callgrind's
// --toggle-collect finds them (`*bench_loop_forward*`).

namespace {

/// The timed loop: n frames in chunks of at most \p most that never cross a timed segment;
/// chunk(m, r) handles the next m frames (calling c.next() after each).
template <class Chunk>
__attribute__((always_inline)) inline Result timedChunks(Cursor &c, uint64_t n, uint64_t most, Chunk &&chunk) {
  Result r;
  const uint64_t t0 = rte_rdtsc();
  c.startTiming(r.segmentBest, t0);
  for (uint64_t k = 0; k < n;) {
    const uint32_t m = uint32_t(std::min<uint64_t>({uint64_t(c.left()), n - k, most}));
    chunk(m, r);
    k += m;
    c.advanced(m);
  }
  r.cycles = rte_rdtsc() - t0;
  r.packets = n;
  r.passPackets = c.in.frames.size();
  return r;
}

/// The same, frame by frame: body(frame, its buffer, the pass's time base, r).
template <class Body> __attribute__((always_inline)) inline Result timed(Cursor &c, uint64_t n, Body &&body) {
  return timedChunks(c, n, UINT64_MAX, [&](uint32_t m, Result &r) {
    for (uint32_t j = 0; j < m; ++j, c.next()) body(c.frame(), c.buf(), c.base, r);
  });
}

__attribute__((always_inline)) inline Result forwardLoop(Cursor &c, uint64_t n, pkt::Packet &p) {
  const Input &in = c.in;
  return timed(c, n, [&](const Frame &f, uint8_t *buf, uint64_t base, Result &r) {
    p.attach(buf, f.len, kHeadroom, f.wire, f.ts + base, in.inPort);
    emit(p, r);
  });
}

__attribute__((always_inline)) inline Result referenceLoop(Cursor &c, uint64_t n, pkt::Packet &p, interp::Interpreter &ip) {
  const Input &in = c.in;
  return timed(c, n, [&](const Frame &f, uint8_t *buf, uint64_t base, Result &r) {
    p.attach(buf, f.len, kHeadroom, f.wire, f.ts + base, in.inPort);
    if (ip.process(p).dropped) ++r.dropped;
    else emit(p, r);
  });
}

constexpr unsigned kBurst = 32;

/// tagged (each frame's NIC mark) and untagged (MTR_UNTAGGED): bursts of up to kBurst frames
/// through dp::runBurst, as the runtime's worker does (table 0 classified for the untagged
/// packets of a burst at once); a burst never crosses a timed segment.
__attribute__((always_inline)) inline Result coreLoop(Cursor &c, uint64_t n, mtr_core &core, bool useTag,
                                                      std::vector<pkt::Packet> &slots) {
  const Input &in = c.in;
  const Frame *fr[kBurst];
  uint8_t *buf[kBurst];
  uint64_t base[kBurst];
  uint32_t tags[kBurst];
  return timedChunks(c, n, kBurst, [&](uint32_t m, Result &r) {
    for (uint32_t j = 0; j < m; ++j, c.next()) {
      fr[j] = &c.frame();
      buf[j] = c.buf();
      base[j] = c.base;
      tags[j] = useTag ? fr[j]->tag : MTR_UNTAGGED;
    }
    dp::runBurst(
        core, m, tags, slots.data(),
        [&](uint32_t j, pkt::Packet &p) {
          p.attach(buf[j], fr[j]->len, kHeadroom, fr[j]->wire, fr[j]->ts + base[j], in.inPort);
          return true;
        },
        [&](uint32_t, pkt::Packet *p, int32_t egress) {
          if (egress < 0) ++r.dropped;
          else emit(*p, r);
        });
  });
}

/// What the dispatcher hands to the worker through the ring (the mbuf, in the runtime).
struct Handoff {
  const Frame *frame;
  uint8_t *buf;
  uint64_t ts;
  uint32_t tag;
};

/// The dispatcher's decision per class of table 0: drop, or hand over with a tag.
struct DispatchTable {
  static constexpr uint32_t kDrop = 0xfffffffeu;
  std::vector<uint32_t> tagOfClass; ///< kDrop, a tag, or MTR_UNTAGGED (the worker classifies)
};

struct DispatchCtx {
  const mtr_program &prog;
  const DispatchTable &dt;
  mtr_core &dispatcher, &worker;
  rte_ring *ring;
  std::vector<pkt::Packet> &parsed; ///< the dispatcher's packets of a burst (kBurst)
};

/// E2: the dispatcher core receives a burst, classifies its packets (table 0, generated code;
/// a large table 0 once for the burst, dp::lookupTable0Burst, as the runtime's workers do),
/// tags each with its group and enqueues the burst to the worker's ring; the worker dequeues and
/// runs the group the tag names.
__attribute__((always_inline)) inline Result dispatchLoop(Cursor &c, uint64_t n, DispatchCtx &x) {
  const Input &in = c.in;
  Result r;
  Handoff slots[kBurst];
  void *burst[kBurst], *got[kBurst];
  const Frame *fr[kBurst];
  uint8_t *bufs[kBurst];
  uint64_t ts[kBurst];
  const uint64_t *keys[kBurst];
  int32_t cls[kBurst];
  const uint32_t nclasses = uint32_t(x.dt.tagOfClass.size());
  const uint64_t t0 = rte_rdtsc();
  c.startTiming(r.segmentBest, t0);
  for (uint64_t k = 0; k < n;) {
    unsigned rx = 0;
    for (; rx < kBurst && k < n; ++rx, ++k, c.next(), c.advanced(1)) {
      fr[rx] = &c.frame();
      bufs[rx] = c.buf();
      ts[rx] = fr[rx]->ts + c.base;
      x.parsed[rx].attach(bufs[rx], fr[rx]->len, kHeadroom, fr[rx]->wire, ts[rx], in.inPort);
      keys[rx] = x.parsed[rx].fields().data();
    }
    const bool burstLookup = x.dispatcher.table0 >= 0 && rx > 1;
    if (burstLookup) dp::lookupTable0Burst(x.dispatcher, keys, rx, cls);
    unsigned m = 0;
    for (unsigned j = 0; j < rx; ++j) {
      if (burstLookup) {
        x.dispatcher.presetFields = keys[j];
        x.dispatcher.presetClass = cls[j];
      }
      const int32_t cl = x.prog.classify0(&x.dispatcher, keys[j]);
      x.dispatcher.presetFields = nullptr;
      uint32_t tag = cl >= 0 && uint32_t(cl) < nclasses ? x.dt.tagOfClass[uint32_t(cl)] : MTR_UNTAGGED;
      if (tag == DispatchTable::kDrop) {
        ++r.dropped;
        continue;
      }
      if (tag == MTR_UNTAGGED) ++r.fallback;
      slots[m] = {fr[j], bufs[j], ts[j], tag};
      burst[m] = &slots[m];
      ++m;
    }
    if (m == 0) continue;
    if (rte_ring_enqueue_burst(x.ring, burst, m, nullptr) != m) die("the dispatcher's ring is full");
    unsigned got_n = rte_ring_dequeue_burst(x.ring, got, kBurst, nullptr);
    for (unsigned j = 0; j < got_n; ++j) {
      const Handoff &h = *static_cast<const Handoff *>(got[j]);
      x.worker.packet.attach(h.buf, h.frame->len, kHeadroom, h.frame->wire, h.ts, in.inPort);
      if (x.worker.run(h.tag) < 0) ++r.dropped;
      else emit(x.worker.packet, r);
    }
  }
  r.cycles = rte_rdtsc() - t0;
  r.packets = n;
  r.passPackets = c.in.frames.size();
  return r;
}

} // namespace

// no_icf: the twins are identical and g++ would fold one into the other (-fipa-icf), so that
// callgrind would count the warm-up too; noclone keeps the names free of .isra/.constprop.
#define METRON_BENCH_PAIR(MODE, IMPL, PARAMS, ARGS)                                                                   \
  __attribute__((noinline, noclone, no_icf)) Result bench_warm_##MODE(Cursor &c, uint64_t n, PARAMS) {                \
    return IMPL(c, n, ARGS);                                                                                          \
  }                                                                                                                   \
  __attribute__((noinline, noclone, no_icf)) Result bench_loop_##MODE(Cursor &c, uint64_t n, PARAMS) {                \
    return IMPL(c, n, ARGS);                                                                                          \
  }
#define METRON_COMMA ,
METRON_BENCH_PAIR(forward, forwardLoop, pkt::Packet &p, p)
METRON_BENCH_PAIR(reference, referenceLoop, pkt::Packet &p METRON_COMMA interp::Interpreter &ip, p METRON_COMMA ip)
METRON_BENCH_PAIR(tagged, coreLoop, mtr_core &core METRON_COMMA std::vector<pkt::Packet> &pk,
                  core METRON_COMMA true METRON_COMMA pk)
METRON_BENCH_PAIR(untagged, coreLoop, mtr_core &core METRON_COMMA std::vector<pkt::Packet> &pk,
                  core METRON_COMMA false METRON_COMMA pk)
METRON_BENCH_PAIR(dispatcher, dispatchLoop, DispatchCtx &x, x)
#undef METRON_BENCH_PAIR
#undef METRON_COMMA

namespace {

struct ModeResult {
  std::string mode;
  std::vector<Result> runs;
  std::string state; ///< the stateful elements' counters after the first repetition (compiled modes)
  uint64_t nicDropped = 0, nicUnmatched = 0; ///< tagged: of the N input packets
  /// The repetition with the fewest cycles (wall clock).
  Result best() const {
    return *std::min_element(runs.begin(), runs.end(), [](const Result &a, const Result &b) { return a.cycles < b.cycles; });
  }
  /// Cycles per packet of a quiet pass: per segment the fewest cycles of any pass of any
  /// repetition, summed over a pass (Cursor); 0 when some segment was never timed whole (fewer
  /// packets than a pass, or a --warmup that is not whole passes).
  double quietCyclesPerPacket() const {
    std::vector<uint64_t> best;
    for (const Result &r : runs) {
      if (best.empty()) best.assign(r.segmentBest.size(), 0);
      for (size_t s = 0; s < best.size() && s < r.segmentBest.size(); ++s)
        if (r.segmentBest[s] && (!best[s] || r.segmentBest[s] < best[s])) best[s] = r.segmentBest[s];
    }
    uint64_t sum = 0;
    for (uint64_t b : best) {
      if (!b) return 0;
      sum += b;
    }
    return runs.empty() || !runs[0].passPackets ? 0 : double(sum) / double(runs[0].passPackets);
  }
};

/// The NIC port the rules are written for (the document's "port"), and whether any rule that
/// marks packets also rewrites headers (a software dispatcher would have to do those writes).
struct RulesInfo {
  uint16_t port = 0;
  std::set<uint32_t> marksWithWrites;
};

RulesInfo readRulesInfo(const std::string &path) {
  std::ifstream f(path);
  if (!f) die("cannot read '%s': %s", path.c_str(), strerror(errno));
  RulesInfo ri;
  try {
    json j = json::parse(f);
    ri.port = j.at("port").get<uint16_t>();
    for (const auto &rule : j.at("rules")) {
      bool writes = false;
      std::optional<uint32_t> mark;
      for (const auto &a : rule.at("actions")) {
        const std::string t = a.at("type").get<std::string>();
        if (t == "mark") mark = a.at("id").get<uint32_t>();
        else if (t.rfind("set_", 0) == 0 || t.rfind("of_", 0) == 0 || t == "dec_ttl") writes = true;
      }
      if (mark && writes) ri.marksWithWrites.insert(*mark);
    }
  } catch (const json::exception &e) {
    die("'%s': %s", path.c_str(), e.what());
  }
  return ri;
}

/// Table 0's classes → what a software dispatcher does with them: the tag of the class's group
/// on core 0 (so the worker runs the group directly), a drop when the group is `drop` and runs
/// nowhere, else untagged (the worker classifies again: the group has no tag, or its tag
/// assumes header writes the NIC would have made).
DispatchTable dispatchTable(const dp::ProgramRuntime &rt, const RulesInfo &ri, uint64_t &untaggedClasses) {
  DispatchTable dt;
  std::map<uint32_t, uint32_t> tagOfGroup;
  for (const auto &t : rt.tags())
    if (t.kind == "mark" && t.core == 0 && !t.naptReturn && !ri.marksWithWrites.count(uint32_t(t.value)))
      tagOfGroup.emplace(t.group, uint32_t(t.value));
  std::set<uint32_t> dropGroups;
  for (const auto &g : rt.config().at("groups"))
    if (g.at("omega").get<std::string>() == "drop") dropGroups.insert(g.at("group").get<uint32_t>());
  untaggedClasses = 0;
  for (const auto &c : rt.config().at("classes")) {
    if (c.at("table").get<uint32_t>() != 0) break; // table 0's classes come first
    uint32_t g = c.at("group").get<uint32_t>();
    if (dropGroups.count(g)) dt.tagOfClass.push_back(DispatchTable::kDrop);
    else if (auto it = tagOfGroup.find(g); it != tagOfGroup.end()) dt.tagOfClass.push_back(it->second);
    else {
      dt.tagOfClass.push_back(MTR_UNTAGGED);
      ++untaggedClasses;
    }
  }
  return dt;
}

/// The counters of a core's stateful elements ("napt: in=... mappings=...; lb: ..."), over the
/// warm-up and the measured packets, and for those with a flow cache its flow_cache_hits= and
/// flow_cache_misses=.
std::string stateCounters(const dp::ProgramRuntime &rt, const mtr_core &core) {
  std::string s;
  const auto &desc = rt.config().at("stateful");
  for (size_t i = 0; i < core.states.size(); ++i) {
    s += (s.empty() ? "" : "; ") + (i < desc.size() ? desc[i].value("nf", "?") : "?") + ":";
    for (const auto &[k, v] : core.states[i]->counters()) s += " " + k + "=" + std::to_string(v);
    uint64_t hits, misses;
    if (dp::flowCacheCounts(*core.states[i], hits, misses))
      s += " flow_cache_hits=" + std::to_string(hits) + " flow_cache_misses=" + std::to_string(misses);
  }
  return s;
}

/// Packets the NIC delivers out of the first \p n of the capture (cycled).
uint64_t deliveredOf(uint64_t n, const std::vector<bool> &nicDropped) {
  const uint64_t per = uint64_t(std::count(nicDropped.begin(), nicDropped.end(), false));
  uint64_t d = (n / nicDropped.size()) * per;
  for (uint64_t i = 0; i < n % nicDropped.size(); ++i) d += !nicDropped[i];
  return d;
}

void initEal() {
  const char *args[] = {"dataplane_harness", "-l", "0", "--no-huge", "--no-shconf", "--no-telemetry", "-m", "1024", "--no-pci",
                        "--log-level=lib.*:error"};
  int n = int(sizeof args / sizeof *args);
  std::vector<char *> argv;
  for (const char *a : args) argv.push_back(const_cast<char *>(a));
  argv.push_back(nullptr);
  if (rte_eal_init(n, argv.data()) < 0) die("cannot initialise DPDK's EAL: %s", rte_strerror(rte_errno));
  gRuntimeDir = rte_eal_get_runtime_dir();
}

/// Wall-clock milliseconds of the set-up steps, printed as one line.
struct SetupTimes {
  std::string text;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  void step(const char *what) {
    auto now = std::chrono::steady_clock::now();
    char b[64];
    snprintf(b, sizeof b, "%s%s %.0f ms", text.empty() ? "" : ", ", what,
             std::chrono::duration<double, std::milli>(now - t0).count());
    text += b;
    t0 = now;
  }
};

} // namespace

int main(int argc, char **argv) {
  Options o = parseOptions(argc, argv);
  auto uses = [&](const char *m) { return std::find(o.modes.begin(), o.modes.end(), m) != o.modes.end(); };
  const bool tagged = uses("tagged") || uses("tagged_nocache");
  const bool compiled = uses("dispatcher") || tagged || uses("untagged");
  // Only what the modes need is set up (under callgrind every step is ~50 times slower).
  SetupTimes setup;
  initEal();
  setup.step("EAL");

  const mtr_program &prog = loadObject(o.object);
  setup.step("object (ORC)");
  json config;
  try {
    config = json::parse(prog.config_json);
  } catch (const json::exception &e) {
    die("the object's embedded configuration is malformed: %s", e.what());
  }
  const auto names = config.value("ports", std::vector<std::string>{});
  const auto ingress = config.value("ingress", std::vector<std::string>{});
  if (ingress.empty()) die("the program has no ingress port");
  auto ing = std::find(names.begin(), names.end(), ingress.front());
  if (ing == names.end()) die("ingress port %s is not among the program's ports", ingress.front().c_str());
  const uint16_t inPort = uint16_t(ing - names.begin());

  // The chain, for the reference interpreter.
  std::unique_ptr<LoadedModule> lm;
  const ir::Chain *chain = nullptr;
  if (uses("reference")) {
    lm = loadModule("bench", o.metron, {}, /*warnings=*/false);
    if (!lm) die("cannot load '%s'", o.metron.c_str());
    chain = selectChain("bench", *lm->module, "");
    if (!chain) die("'%s': no chain to run", o.metron.c_str());
    if (names != lm->module->portNames) die("the object and '%s' disagree on the ports: recompile", o.metron.c_str());
    setup.step("chain (reference)");
  }

  std::string err;
  std::unique_ptr<dp::ProgramRuntime> rt;
  if (compiled) {
    rt = dp::ProgramRuntime::create(prog, err);
    if (!rt) die("%s", err.c_str());
    setup.step("runtime (rte_acl, rte_lpm)");
  }

  Input in = readCapture(o.pcap, o.snap, inPort);
  setup.step("capture");

  // The NIC's view of the capture, for tagged mode; which marks the dispatcher may use.
  RulesInfo ri;
  if (tagged || uses("dispatcher")) ri = readRulesInfo(o.rules);
  std::vector<bool> nicDropped;
  uint64_t nicUnmatched = 0;
  Input delivered;
  if (tagged) {
    auto nic = dp::NicModel::load(o.rules, err);
    if (!nic) die("%s", err.c_str());
    delivered = nicDeliver(in, *nic, ri.port, nicDropped, nicUnmatched);
    setup.step("NIC model");
  }
  uint64_t capBytes = 0;
  for (const auto &f : in.frames) capBytes += f.len;
  printf("capture: %zu frames, %.1f bytes on average%s; program: chain %s, %u classes, %u large tables, %zu tags\n",
         in.frames.size(), double(capBytes) / double(in.frames.size()), o.snap ? " (cut by --snap)" : "",
         config.value("chain", "").c_str(), prog.classes, prog.acl_tables, config.value("tags", json::array()).size());
  printf("setup: %s\n", setup.text.c_str());
  if (rt)
    for (const auto &t : rt->tables()) printf("large %s\n", t.describe().c_str());
  const uint64_t warmup = o.warmup == kOnePass ? in.frames.size() : o.warmup;

  // Repetitions interleave the modes (forward, reference, ..., forward, reference, ...), so that
  // a slow spell of a shared machine does not fall on one mode alone.
  std::vector<ModeResult> results(o.modes.size());
  std::vector<pkt::Packet> burstPackets(dp::kMaxRunBurst);
  for (unsigned rep = 0; rep < o.repeat; ++rep) {
    for (size_t mi = 0; mi < o.modes.size(); ++mi) {
      const std::string &mode = o.modes[mi];
      ModeResult &mr = results[mi];
      mr.mode = mode;
      Result r;
      Cursor c(in);
      if (mode == "forward") {
        pkt::Packet p;
        bench_warm_forward(c, warmup, p);
        gMeasured = true;
        r = bench_loop_forward(c, o.packets, p);
        gMeasured = false;
      } else if (mode == "reference") {
        auto ip = interp::Interpreter::create(*lm->module, *chain, err);
        if (!ip) die("reference: %s", err.c_str());
        pkt::Packet p;
        bench_warm_reference(c, warmup, p, *ip);
        gMeasured = true;
        r = bench_loop_reference(c, o.packets, p, *ip);
        gMeasured = false;
      } else if (mode == "untagged") {
        auto core = rt->makeCore(0, err);
        if (!core) die("%s", err.c_str());
        bench_warm_untagged(c, warmup, *core, burstPackets);
        gMeasured = true;
        r = bench_loop_untagged(c, o.packets, *core, burstPackets);
        gMeasured = false;
        if (rep == 0) mr.state = stateCounters(*rt, *core);
      } else if (mode == "tagged" || mode == "tagged_nocache") {
        // The packets the NIC delivers out of the warm-up's and the measured input packets.
        const uint64_t w = deliveredOf(warmup, nicDropped), m = deliveredOf(warmup + o.packets, nicDropped) - w;
        mr.nicDropped = o.packets - m;
        mr.nicUnmatched = nicUnmatched;
        rt->setFlowCacheEntries(mode == "tagged" ? dp::kFlowCacheEntries : 0);
        auto core = rt->makeCore(0, err);
        rt->setFlowCacheEntries(dp::kFlowCacheEntries);
        if (!core) die("%s", err.c_str());
        if (!delivered.frames.empty()) {
          Cursor d(delivered);
          bench_warm_tagged(d, w, *core, burstPackets);
          gMeasured = true;
          r = bench_loop_tagged(d, m, *core, burstPackets);
          gMeasured = false;
        }
        if (rep == 0) mr.state = stateCounters(*rt, *core);
      } else if (mode == "dispatcher") {
        if (!prog.classify0) die("the program has no classify0 (recompile with this metronc)");
        uint64_t untaggedClasses = 0;
        DispatchTable dt = dispatchTable(*rt, ri, untaggedClasses);
        auto worker = rt->makeCore(0, err);
        if (!worker) die("%s", err.c_str());
        auto dispatcher = rt->makeCore(0, err); // its own packet (its stateful elements stay unused)
        if (!dispatcher) die("%s", err.c_str());
        rte_ring *ring = rte_ring_create(("bench_disp" + std::to_string(rep)).c_str(), 1024, int(rte_socket_id()),
                                         RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (!ring) die("cannot create a ring: %s", rte_strerror(rte_errno));
        DispatchCtx x{prog, dt, *dispatcher, *worker, ring, burstPackets};
        bench_warm_dispatcher(c, warmup, x);
        gMeasured = true;
        r = bench_loop_dispatcher(c, o.packets, x);
        gMeasured = false;
        if (rep == 0) mr.state = stateCounters(*rt, *worker);
        rte_ring_free(ring);
        if (rep == 0 && untaggedClasses)
          fprintf(stderr, "dataplane_harness: dispatcher: %llu of %zu classes of table 0 have no usable tag: the worker "
                          "classifies their packets again\n",
                  (unsigned long long)untaggedClasses, dt.tagOfClass.size());
      }
      mr.runs.push_back(r);
      // Under callgrind, one profile part per measured loop, named after it (no-op otherwise).
      const std::string part = "bench_loop_" + mode;
      CALLGRIND_DUMP_STATS_AT(part.c_str());
    }
  }

  const double hz = double(rte_get_tsc_hz());
  for (const ModeResult &mr : results) {
    Result r = mr.best();
    const double wall = r.packets ? double(r.cycles) / double(r.packets) : 0.0;
    const double quiet = mr.quietCyclesPerPacket();
    const double cpp = quiet > 0 ? quiet : wall;
    printf("mode=%s packets=%" PRIu64 " emitted=%" PRIu64 " dropped=%" PRIu64 " emitted_bytes=%" PRIu64
           " cycles_per_packet=%.1f mpps=%.3f wall_cycles=%" PRIu64 " wall_cycles_per_packet=%.1f noise=%.3f",
           mr.mode.c_str(), r.packets, r.emitted, r.dropped, r.bytes, cpp, cpp > 0 ? hz / cpp / 1e6 : 0.0, r.cycles, wall,
           cpp > 0 ? wall / cpp - 1.0 : 0.0);
    if (mr.mode == "tagged" || mr.mode == "tagged_nocache") printf(" nic_dropped=%" PRIu64 " nic_unmatched_per_pass=%" PRIu64, mr.nicDropped, mr.nicUnmatched);
    if (mr.mode == "dispatcher") printf(" untagged_handoffs=%" PRIu64, r.fallback);
    printf(" repeat=%zu quiet=%s tsc_hz=%.0f\n", mr.runs.size(), quiet > 0 ? "yes" : "no", hz);
    if (!mr.state.empty()) printf("state mode=%s (warm-up and measured packets): %s\n", mr.mode.c_str(), mr.state.c_str());
    // Every repetition starts from fresh state: they must agree with each other.
    for (const Result &x : mr.runs)
      if (x.emitted != mr.runs[0].emitted || x.bytes != mr.runs[0].bytes)
        die("mode %s: repetitions emitted different packets (%" PRIu64 " vs %" PRIu64 ")", mr.mode.c_str(), x.emitted,
            mr.runs[0].emitted);
  }
  // The chain modes must do the same work: the same packets out.
  const ModeResult *first = nullptr;
  bool same = true;
  for (const ModeResult &mr : results) {
    if (mr.mode == "forward") continue;
    if (!first) {
      first = &mr;
      continue;
    }
    const Result a = first->runs[0], b = mr.runs[0];
    if (a.emitted != b.emitted || a.bytes != b.bytes) {
      fprintf(stderr,
              "dataplane_harness: error: %s emitted %" PRIu64 " packets (%" PRIu64 " bytes), %s %" PRIu64 " (%" PRIu64
              " bytes)\n",
              first->mode.c_str(), a.emitted, a.bytes, mr.mode.c_str(), b.emitted, b.bytes);
      same = false;
    }
  }
  if (first) printf("check: %s\n", same ? "every chain mode emitted the same packets" : "MODES DISAGREE");
  if (rt) rt->releaseDpdk();
  leave(same ? 0 : 1);
}
