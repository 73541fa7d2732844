//===- runtime/dataplane/Runtime.h - A generated program's cores, without the ports ---*- C++ -*-===//
///
/// \file
/// What the data-plane executable (Dataplane.cpp) and the benchmark harness share: the
/// program's embedded configuration, its rte_acl tables, and per core the context generated
/// code runs with (mtr_core: one state per stateful element, a NAPT's part of its port range,
/// per-class counters, the core's packet). The mtr_* functions generated code calls are
/// defined in Runtime.cpp. rte_acl needs DPDK's EAL to be initialised first.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "runtime/dataplane/Abi.h"
#include "runtime/dataplane/Acl.h"
#include "runtime/dataplane/FlowState.h"
#include "runtime/dataplane/Lpm.h"
#include "runtime/packet/Packet.h"
#include "runtime/state/Describe.h"
#include "runtime/state/State.h"

#include <atomic>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

struct rte_ring;

namespace metron::dp {

/// One cache line of counters per worker, written by the worker, read by the main lcore.
struct alignas(64) WorkerCounters {
  std::atomic<uint64_t> useful{0}, useless{0}, packets{0}, dropped{0}, emitted{0}, polls{0};
};

/// A tag a device puts on packets, from the configuration.
struct TagInfo {
  std::string kind; ///< vlan, mac, queue, mark
  uint64_t value = 0;
  uint32_t group = 0, core = 0;
  bool naptReturn = false;
};

/// A large table of the program (mtr_program::acl): rte_lpm when its classes are routes
/// (runtime/dataplane/Lpm.h), else rte_acl.
struct ClassTable {
  uint32_t table = 0; ///< synthesized table id
  std::unique_ptr<LpmTable> lpm;
  std::unique_ptr<AclTable> acl;
  std::string notRoutes; ///< with acl: why rte_lpm could not take the table
  int32_t lookup(const uint64_t *fields) const { return lpm ? lpm->lookup(fields) : acl->lookup(fields); }
  /// The same for n vectors (rte_acl classifies them in bursts).
  void lookupBurst(const uint64_t *const *fields, uint32_t n, int32_t *out) const;
  /// "table 2: rte_lpm on ip.dst, 3522 prefixes" / "table 0: rte_acl, 4653 rules in 1 context".
  std::string describe() const;
};

class ProgramRuntime;

} // namespace metron::dp

/// The runtime's per-core context (opaque to generated code).
struct mtr_core {
  uint32_t id = 0;
  mtr_entry_fn entry = nullptr;
  std::vector<std::unique_ptr<metron::state::ElementState>> states; ///< by slot
  const std::vector<metron::dp::ClassTable> *acl = nullptr;
  std::vector<uint64_t> classCounts;
  metron::pkt::Packet packet;
  rte_ring *in = nullptr, *out = nullptr; ///< NIC-model mode
  metron::dp::WorkerCounters *counters = nullptr;
  unsigned lcore = 0;
  /// Index in *acl of table 0 when it is a large table, else -1.
  int32_t table0 = -1;
  /// Table 0's class of the packet whose field vector is presetFields, looked up beforehand for
  /// a burst (metron::dp::runBurst): mtr_acl answers it without a lookup.
  const uint64_t *presetFields = nullptr;
  int32_t presetClass = -1;
  /// Runs the core's entry point on its packet (set by the caller); the egress port or MTR_DROP.
  int32_t run(uint32_t tag) { return run(packet, tag); }
  int32_t run(metron::pkt::Packet &p, uint32_t tag) {
    return entry(this, reinterpret_cast<mtr_packet *>(&p), reinterpret_cast<mtr_packet_hdr *>(&p.header()), tag,
                 classCounts.data());
  }
};

namespace metron::dp {

/// Table 0's classes of n field vectors (table 0 is a large table: c.table0 >= 0).
void lookupTable0Burst(const mtr_core &c, const uint64_t *const *fields, uint32_t n, int32_t *out);

/// The most packets runBurst takes at once.
constexpr uint32_t kMaxRunBurst = 64;

/// Runs a burst of n packets (n <= kMaxRunBurst), packet i tagged tags[i], through core \p c's
/// entry point, in order: load(i, pkt::Packet &) puts packet i into the packet it is given
/// (false: it cannot be read), done(i, pkt::Packet *, int32_t egress) gets each result, the
/// packet (nullptr when it could not be loaded) and its egress port or MTR_DROP, as run()
/// gives. When table 0 is a large table and two or more packets are untagged, those are loaded
/// first into \p slots (kMaxRunBurst packets) and their classes in table 0 looked up in one
/// burst (rte_acl classifies a burst in far fewer cycles per packet than one at a time); the
/// generated code's mtr_acl call for table 0 then gets them without a lookup. The other
/// packets are loaded into the core's packet one at a time, each just before it runs.
template <class Load, class Done>
void runBurst(mtr_core &c, uint32_t n, const uint32_t *tags, metron::pkt::Packet *slots, Load &&load, Done &&done) {
  const uint64_t *keys[kMaxRunBurst];
  int32_t cls[kMaxRunBurst];
  uint8_t state[kMaxRunBurst] = {}; // 0: not loaded yet, 1: in its slot (class looked up), 2: unreadable
  uint32_t m = 0;
  if (c.table0 >= 0) {
    for (uint32_t i = 0; i < n; ++i) m += tags[i] == MTR_UNTAGGED;
    if (m < 2) {
      m = 0; // one packet: the generated code's own lookup costs the same
    } else {
      m = 0;
      for (uint32_t i = 0; i < n; ++i)
        if (tags[i] == MTR_UNTAGGED) {
          state[i] = load(i, slots[i]) ? 1 : 2;
          if (state[i] == 1) keys[m++] = slots[i].fields().data();
        }
      lookupTable0Burst(c, keys, m, cls);
    }
  }
  for (uint32_t i = 0, k = 0; i < n; ++i) {
    metron::pkt::Packet *p = &c.packet;
    if (state[i] == 1) {
      p = &slots[i];
      c.presetFields = keys[k];
      c.presetClass = cls[k++];
    } else if (state[i] == 2 || !load(i, *p)) {
      done(i, static_cast<metron::pkt::Packet *>(nullptr), MTR_DROP);
      continue;
    }
    const int32_t egress = c.run(*p, tags[i]);
    c.presetFields = nullptr;
    done(i, p, egress);
  }
}

class ProgramRuntime {
public:
  /// Reads the program's configuration and builds its rte_acl tables; nullptr and \p err.
  static std::unique_ptr<ProgramRuntime> create(const mtr_program &p, std::string &err);
  ~ProgramRuntime();

  /// Core \p k's context: its entry point, its own state per stateful element (a NAPT with
  /// this core's part of its ports), zeroed class counters; nullptr and \p err.
  std::unique_ptr<mtr_core> makeCore(uint32_t k, std::string &err);

  const mtr_program &program() const { return p_; }
  const nlohmann::json &config() const { return config_; }
  uint32_t cores() const { return cores_; }
  const std::vector<std::string> &portNames() const { return portNames_; }
  const std::vector<std::string> &ingress() const { return ingress_; }
  const std::vector<std::string> &egress() const { return egress_; }
  const std::vector<TagInfo> &tags() const { return tags_; }
  /// Counter slot of a class id, -1 when the class is unknown.
  int32_t slotOfClass(uint32_t classId) const;
  /// The program's large tables and how each is classified.
  const std::vector<ClassTable> &tables() const { return acl_; }
  /// Frees the rte_acl tables (before rte_eal_cleanup).
  void releaseDpdk() { acl_.clear(); }
  /// The entries of the flow cache of each stateful element of the cores made after this
  /// (FlowState.h; 0: none). Default: kFlowCacheEntries.
  void setFlowCacheEntries(uint32_t n) { flowCacheEntries_ = n; }

private:
  explicit ProgramRuntime(const mtr_program &p) : p_(p) {}
  const mtr_program &p_;
  nlohmann::json config_;
  uint32_t cores_ = 1;
  std::vector<std::string> portNames_, ingress_, egress_;
  std::vector<TagInfo> tags_;
  std::map<uint32_t, uint32_t> slotOfClass_;
  std::vector<ClassTable> acl_;
  std::vector<std::unique_ptr<state::DescribedElement>> elements_; ///< kept alive for the states
  uint32_t flowCacheEntries_ = kFlowCacheEntries;
};

} // namespace metron::dp
