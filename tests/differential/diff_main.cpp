//===- tests/differential/diff_main.cpp - Synthesized tables vs the reference interpreter -----===//
///
/// metron-diff runs the same packets through the reference interpreter (compiler/interp) and
/// through the synthesized traffic-class tables (compiler/synth, executed by synth::Executor)
/// and requires, packet by packet: the same verdict, the same egress port, the same bytes on
/// the wire, the same field values, and the same rule in every rule list on the way.
///
///   metron-diff [--packets N] [--seed S] [--pcap FILE]... [--max-classes N] [--jit] FILE.metron...
///   metron-diff --random-chains K [--packets N] [--seed S] [--keep DIR] [--jit]
///
/// With --jit, every table of at most codegen::kMaxInlineClasses classes is also compiled to
/// machine code (codegen/ClassifierGen.h, LLVM O2, ORC JIT), and the class it picks for the
/// field vector a packet enters the table with must be the synthesized one.
///
/// Packets: N random packets per chain, biased towards rule boundaries (every rule and route
/// bound, ±1, and the values chains write), with flows that repeat, replies to packets the
/// chain emitted (so NAPT return paths and conntrack see both directions), TCP flag mixes,
/// VLAN tags, non-IP frames, payloads that carry DPI literals, and timestamps that jump past
/// time-outs; plus every packet of each --pcap capture. On the first mismatch it prints a
/// reproducer (the chain, the packet as an `explain --packet` line and in hex, both outcomes)
/// after checking whether the packet alone, on fresh state, still mismatches.
//===----------------------------------------------------------------------------------------===//
#include "codegen/ClassifierGen.h"
#include "compiler/driver/Commands.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/split/Split.h"
#include "compiler/synth/Execute.h"
#include "runtime/packet/Pcap.h"
#include "targets/Lower.h"
#include "targets/openflow/OpenFlow.h"
#include "targets/p4/P4.h"
#include "targets/rteflow/RteFlow.h"
#include "tests/differential/RandomChain.h"

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

using namespace metron;
using namespace metron::ir;

namespace {

struct Options {
  uint64_t packets = 100000;
  uint64_t seed = 1;
  std::vector<std::string> pcaps, files;
  uint32_t maxClasses = synth::SynthOptions{}.maxClasses;
  unsigned randomChains = 0;
  std::string keep;
  bool jit = false;
};

using Fields = std::array<uint64_t, kNumFields>;

uint64_t g_jitChecks = 0; ///< --jit: lookups of generated code checked (printed at the end)

uint16_t sum16(const uint8_t *p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += uint32_t(p[i] << 8 | p[i + 1]);
  if (n & 1) acc += uint32_t(p[n - 1] << 8);
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return uint16_t(acc);
}

/// Appends \p payload to a frame built by Packet::fromFields and fixes lengths and checksums.
pkt::Packet withPayload(const pkt::Packet &base, const std::string &payload) {
  std::vector<uint8_t> f = base.frame();
  const pkt::Layout &l = base.layout();
  f.insert(f.end(), payload.begin(), payload.end());
  if (l.ipv4) {
    uint8_t *ip = f.data() + l.l3;
    size_t ihl = size_t(ip[0] & 15) * 4;
    size_t total = f.size() - l.l3;
    ip[2] = uint8_t(total >> 8), ip[3] = uint8_t(total);
    ip[10] = ip[11] = 0;
    uint16_t c = uint16_t(~sum16(ip, ihl));
    ip[10] = uint8_t(c >> 8), ip[11] = uint8_t(c);
    if (l.tcp || l.udp) {
      uint8_t *t = f.data() + l.l4;
      size_t len = f.size() - l.l4;
      if (l.udp) t[4] = uint8_t(len >> 8), t[5] = uint8_t(len);
      size_t ck = l.tcp ? 16 : 6;
      t[ck] = t[ck + 1] = 0;
      uint32_t pseudo = uint32_t(sum16(ip + 12, 8)) + ip[9] + uint32_t(len);
      uint16_t s = uint16_t(~sum16(t, len, pseudo));
      if (l.udp && s == 0) s = 0xffff;
      t[ck] = uint8_t(s >> 8), t[ck + 1] = uint8_t(s);
    }
  }
  pkt::Packet p(f.data(), f.size(), base.timestampNs, base.inPort());
  // Field values the frame cannot carry (tp ports of other protocols) stay as generated.
  for (size_t i = 0; i < kNumFields; ++i)
    if (p.get(FieldId(i)) != base.get(FieldId(i))) p.set(FieldId(i), base.get(FieldId(i)));
  return p;
}

/// Values that sit on or next to a bound of some rule or route of the chain, per field.
std::array<std::vector<uint64_t>, kNumFields> boundaryValues(const Chain &c) {
  std::array<std::set<uint64_t>, kNumFields> s;
  auto addRange = [&](FieldId f, uint64_t lo, uint64_t hi) {
    uint64_t maxv = fieldInfo(f).maxValue();
    for (uint64_t v : {lo, hi}) s[size_t(f)].insert(v);
    if (lo > 0) s[size_t(f)].insert(lo - 1);
    if (hi < maxv) s[size_t(f)].insert(hi + 1);
  };
  for (const auto &n : c.nodes) {
    if (n.kind != ChainNode::Instance) continue;
    for (const auto &e : n.nf->elements) {
      if (const auto *cl = dyn_cast<Classifier>(e.get())) {
        for (const auto &r : cl->rules) {
          for (const auto &m : r.matches) {
            if (m.kind == FieldMatch::Range) addRange(m.field, m.lo, m.hi);
            else addRange(m.field, m.value, m.value | (~m.mask & fieldInfo(m.field).maxValue()));
          }
          for (const auto &a : r.action.assigns) s[size_t(a.field)].insert(a.value);
        }
      } else if (const auto *lk = dyn_cast<Lookup>(e.get())) {
        for (const auto &r : lk->routes->routes) {
          uint32_t host = r.len == 0 ? 0xffffffffu : r.len == 32 ? 0 : 0xffffffffu >> r.len;
          addRange(lk->field, r.prefix, r.prefix | host);
        }
      } else if (const auto *sf = dyn_cast<SetFields>(e.get())) {
        for (const auto &a : sf->assigns) s[size_t(a.field)].insert(a.value);
      } else if (const auto *np = dyn_cast<Napt>(e.get())) {
        s[size_t(np->field)].insert(np->address);
        FieldId pf = np->field == FieldId::IpSrc ? FieldId::TpDst : FieldId::TpSrc;
        for (uint64_t p = np->portLo; p <= np->portHi && p < uint64_t(np->portLo) + 4; ++p) s[size_t(pf)].insert(p);
      } else if (const auto *b = dyn_cast<Balance>(e.get())) {
        for (uint64_t v : b->backends) s[size_t(b->field)].insert(v);
      }
    }
  }
  std::array<std::vector<uint64_t>, kNumFields> out;
  for (size_t f = 0; f < kNumFields; ++f) out[f].assign(s[f].begin(), s[f].end());
  return out;
}

class PacketSource {
public:
  PacketSource(const Module &m, const Chain &c, uint64_t seed, std::vector<std::string> words)
      : rng_(seed), bounds_(boundaryValues(c)), words_(std::move(words)) {
    for (const auto &n : c.nodes)
      if (n.kind == ChainNode::Ingress)
        for (uint32_t i = 0; i < m.portNames.size(); ++i)
          if (m.portNames[i] == n.name) ingress_.push_back(i);
    for (const auto &w : difftest::addressPool()) extraAddr_.push_back(w);
  }

  pkt::Packet next() {
    ts_ += rng_() % 2000000; // up to 2 ms
    if (rng_() % 500 == 0) ts_ += 200ull * 1000000000ull; // past every time-out
    Fields v{};
    unsigned mode = unsigned(rng_() % 100);
    if (mode < 25 && !seen_.empty()) {
      v = seen_[rng_() % seen_.size()]; // the same flow again
      v[size_t(FieldId::TcpFlags)] = flags();
    } else if (mode < 35 && !emitted_.empty()) {
      v = emitted_[rng_() % emitted_.size()]; // a reply to something the chain emitted
      std::swap(v[size_t(FieldId::IpSrc)], v[size_t(FieldId::IpDst)]);
      std::swap(v[size_t(FieldId::TpSrc)], v[size_t(FieldId::TpDst)]);
      std::swap(v[size_t(FieldId::EthSrc)], v[size_t(FieldId::EthDst)]);
      v[size_t(FieldId::TcpFlags)] = flags();
    } else {
      for (size_t f = 1; f < kNumFields; ++f) v[f] = value(FieldId(f));
      static const uint64_t protos[] = {6, 6, 17, 17, 1, 47, 0};
      if (rng_() % 4) v[size_t(FieldId::IpProto)] = protos[rng_() % 7];
      v[size_t(FieldId::EthType)] = rng_() % 50 == 0 ? 0x0806 : 0x0800;
      if (rng_() % 3) v[size_t(FieldId::VlanId)] = v[size_t(FieldId::VlanPcp)] = 0;
      uint64_t proto = v[size_t(FieldId::IpProto)];
      if (proto != 6) v[size_t(FieldId::TcpFlags)] = 0;
      else v[size_t(FieldId::TcpFlags)] = flags();
      if (proto != 1) v[size_t(FieldId::IcmpType)] = v[size_t(FieldId::IcmpCode)] = 0;
      if (proto != 6 && proto != 17) v[size_t(FieldId::TpSrc)] = v[size_t(FieldId::TpDst)] = 0;
      if (v[size_t(FieldId::EthType)] != 0x0800)
        for (FieldId f : {FieldId::IpSrc, FieldId::IpDst, FieldId::IpProto, FieldId::IpTtl, FieldId::IpDscp, FieldId::TpSrc,
                          FieldId::TpDst, FieldId::TcpFlags, FieldId::IcmpType, FieldId::IcmpCode})
          v[size_t(f)] = 0;
      seen_.push_back(v);
      if (seen_.size() > 4096) seen_.erase(seen_.begin(), seen_.begin() + 2048);
    }
    v[size_t(FieldId::InPort)] = ingress_[rng_() % ingress_.size()];
    pkt::Packet base = pkt::Packet::fromFields(v, ts_);
    std::string payload;
    unsigned pl = unsigned(rng_() % 4);
    if (pl == 1) payload = randomBytes(1 + rng_() % 64);
    else if (pl == 2 && !words_.empty())
      payload = randomBytes(rng_() % 8) + words_[rng_() % words_.size()] + randomBytes(rng_() % 8);
    return payload.empty() ? base : withPayload(base, payload);
  }

  void noteEmitted(const pkt::Packet &p) {
    emitted_.push_back(p.fields());
    if (emitted_.size() > 4096) emitted_.erase(emitted_.begin(), emitted_.begin() + 2048);
  }

private:
  std::mt19937_64 rng_;
  std::array<std::vector<uint64_t>, kNumFields> bounds_;
  std::vector<std::string> words_;
  std::vector<uint64_t> ingress_;
  std::vector<uint64_t> extraAddr_;
  std::vector<Fields> seen_, emitted_;
  uint64_t ts_ = 1000000000ull;

  uint64_t flags() {
    static const uint64_t f[] = {0x02, 0x10, 0x12, 0x04, 0x11, 0x18, 0x00};
    return rng_() % 8 == 0 ? rng_() % 256 : f[rng_() % 7];
  }
  uint64_t value(FieldId f) {
    const auto &b = bounds_[size_t(f)];
    uint64_t maxv = fieldInfo(f).maxValue();
    unsigned r = unsigned(rng_() % 10);
    if (!b.empty() && r < 6) return b[rng_() % b.size()];
    if (f == FieldId::IpTtl) return std::vector<uint64_t>{0, 1, 2, 3, 64, 255}[rng_() % 6];
    if ((f == FieldId::IpSrc || f == FieldId::IpDst) && r < 8) return extraAddr_[rng_() % extraAddr_.size()];
    if ((f == FieldId::TpSrc || f == FieldId::TpDst) && r < 8) return difftest::portPool()[rng_() % difftest::portPool().size()];
    return rng_() & maxv;
  }
  std::string randomBytes(size_t n) {
    std::string s(n, '\0');
    for (auto &ch : s) ch = char(rng_());
    return s;
  }
};

std::string hex(const std::vector<uint8_t> &b) {
  std::string s;
  char buf[4];
  for (uint8_t x : b) snprintf(buf, sizeof buf, "%02x", x), s += buf;
  return s;
}

std::string spec(const Module &m, const Fields &v) {
  std::string s = std::to_string(v[size_t(FieldId::IpProto)]) + " " + ipv4Str(uint32_t(v[size_t(FieldId::IpSrc)])) + ":" +
                  std::to_string(v[size_t(FieldId::TpSrc)]) + " -> " + ipv4Str(uint32_t(v[size_t(FieldId::IpDst)])) + ":" +
                  std::to_string(v[size_t(FieldId::TpDst)]);
  for (FieldId f : {FieldId::InPort, FieldId::EthType, FieldId::VlanId, FieldId::VlanPcp, FieldId::IpTtl, FieldId::IpDscp,
                    FieldId::TcpFlags, FieldId::IcmpType, FieldId::IcmpCode}) {
    uint64_t x = v[size_t(f)];
    std::string val = f == FieldId::InPort ? m.portNames[x] : std::to_string(x);
    s += " " + std::string(fieldInfo(f).name) + "=" + val;
  }
  return s;
}

/// What one device would match: per synthesized table, its offloaded classes in table order.
struct DeviceView {
  std::string device;
  std::vector<synth::Table> hwTables;
  std::vector<std::vector<split::ClassSplit>> hwSplits; ///< aligned with hwTables: the prerequisites
  std::vector<std::unique_ptr<synth::TableClassifier>> hw;
};

/// The first prerequisite of a device rule that the frame lacks ("" when it has them all): a
/// device only matches a field in frames that have its layer (split::classPrerequisites).
std::string missingPrerequisite(const split::ClassSplit &cs, const pkt::Layout &l, bool checkVlan) {
  if (checkVlan && cs.vlan && !l.vlan) return "an 802.1Q tag";
  if ((cs.ipv4 || !cs.protos.empty()) && !l.ipv4) return "IPv4";
  if (cs.protos.empty()) return "";
  for (uint8_t p : cs.protos)
    if ((p == 6 && l.tcp) || (p == 17 && l.udp) || (p == 1 && l.icmp)) return "";
  return "a TCP/UDP/ICMP header of the rule's protocols";
}

std::vector<DeviceView> deviceViews(const Module &m, const synth::ChainTables &t, SourceManager &sm) {
  std::vector<DeviceView> views;
  for (const auto &bp : split::builtinProfiles()) {
    split::ProfileError perr;
    auto dev = split::loadDeviceProfile(bp.name, perr);
    METRON_INTERNAL_ASSERT(dev, "a built-in device profile does not load: " + perr.str());
    DiagnosticEngine quiet(sm);
    split::SplitOptions so;
    so.cores = 2;
    split::SplitPlan plan = split::splitChain(m, t, *dev, so, quiet);
    // The targets must lower and print whatever the split offloads: a printer's internal
    // assertion (a rule it cannot express) aborts the run here, with the chain kept.
    {
      targets::Site site;
      site.element = dev->kind == split::DeviceProfile::Switch ? "s1" : "server1.nic0";
      site.profile = dev->name;
      site.kind = dev->kind;
      site.ingressPort.assign(m.portNames.size(), -1);
      for (const auto &n : t.chain->nodes)
        if (n.kind == ir::ChainNode::Ingress)
          for (size_t i = 0; i < m.portNames.size(); ++i)
            if (m.portNames[i] == n.name) site.ingressPort[i] = int64_t(1 + i);
      if (dev->kind == split::DeviceProfile::Switch) site.toServer = 100, site.toServerName = "s1:100";
      targets::Lowering low = targets::lower(m, t, plan, site, {}, {}, {});
      for (const auto &d : low.devices) {
        if (d.kind == split::DeviceProfile::Switch) {
          (void)targets::openflow::printFlows(d);
          (void)targets::p4::printProgram(d);
          (void)targets::p4::printCli(d);
          (void)targets::p4::printP4Runtime(d);
        } else {
          (void)targets::rteflow::printTestpmd(d);
          (void)targets::rteflow::printJson(d);
        }
      }
    }
    DeviceView v;
    v.device = bp.name;
    v.hwTables.resize(t.tables.size());
    v.hwSplits.resize(t.tables.size());
    for (size_t i = 0; i < t.tables.size(); ++i) {
      v.hwTables[i].id = t.tables[i].id;
      for (size_t k = 0; k < t.tables[i].classes.size(); ++k)
        if (plan.tables[i].classes[k].hw) {
          v.hwTables[i].classes.push_back(t.tables[i].classes[k]);
          v.hwSplits[i].push_back(plan.tables[i].classes[k]);
        }
    }
    for (const auto &ht : v.hwTables) v.hw.push_back(std::make_unique<synth::TableClassifier>(ht));
    views.push_back(std::move(v));
  }
  return views;
}

struct Pair {
  const Module &m;
  const Chain &c;
  const synth::ChainTables &t;
  const std::vector<DeviceView> *views = nullptr;
  /// --jit: per table, its compiled classifier (nullptr: too large, classified by rte_acl).
  std::vector<std::unique_ptr<codegen::JitClassifier>> jits;
  std::unique_ptr<interp::Interpreter> ref;
  std::unique_ptr<synth::Executor> syn;
  std::string err;

  Pair(const Module &m, const Chain &c, const synth::ChainTables &t) : m(m), c(c), t(t) { reset(); }
  bool reset() {
    ref = interp::Interpreter::create(m, c, err);
    syn = synth::Executor::create(m, t, err);
    if (syn) syn->recordEntries = true;
    return ref && syn;
  }

  /// "" when both agree; else what differs. \p out receives the interpreter's packet.
  std::string compare(const pkt::Packet &in, pkt::Packet &out) {
    pkt::Packet a = in, b = in;
    interp::Outcome ra = ref->process(a, true);
    synth::ExecOutcome rb = syn->process(b);
    out = a;
    std::string d;
    if (ra.dropped != rb.dropped) d += "verdict: reference " + std::string(ra.dropped ? "drops" : "emits") + ", synthesized " +
                                       (rb.dropped ? "drops" : "emits") + "\n";
    else if (!ra.dropped && ra.egress != rb.egress)
      d += "egress: reference " + m.portNames[ra.egress] + ", synthesized " + m.portNames[rb.egress] + "\n";
    if (!ra.dropped && !rb.dropped) {
      if (a.frame() != b.frame()) d += "frame: reference " + hex(a.frame()) + "\n       synthesized " + hex(b.frame()) + "\n";
      for (size_t f = 0; f < kNumFields; ++f)
        if (a.fields()[f] != b.fields()[f])
          d += std::string("field ") + fieldInfo(FieldId(f)).name + ": reference " + std::to_string(a.fields()[f]) + ", synthesized " +
               std::to_string(b.fields()[f]) + "\n";
    }
    std::vector<synth::PathStep> path;
    for (auto [tab, cls] : rb.classes)
      for (const auto &s : t.findClass(cls)->path) path.push_back(s);
    // A class's path lists every rule list of the class; a stateful element that drops the
    // packet (rate limiter, conntrack, DPI deny, NAPT out of ports) stops it earlier, so for a
    // dropped packet the interpreter's steps need only be a prefix of the path.
    bool same = ra.dropped && rb.dropped ? ra.steps.size() <= path.size() : path.size() == ra.steps.size();
    for (size_t i = 0; same && i < ra.steps.size(); ++i)
      same = path[i].node == ra.steps[i].node && path[i].element == ra.steps[i].element && path[i].rule == ra.steps[i].rule;
    if (!same) {
      auto str = [&](uint32_t node, unsigned el, int32_t rule) {
        return c.nodes[node].name + "#" + std::to_string(el + 1) + ":" + std::to_string(rule);
      };
      d += "rules: reference";
      for (const auto &s : ra.steps) d += " " + str(s.node, s.element, s.rule);
      d += "\n       synthesized";
      for (const auto &s : path) d += " " + str(s.node, s.element, s.rule);
      d += "\n";
    }
    // Generated code: the compiled classifier of each table picks the synthesized class.
    for (size_t i = 0; i < rb.classes.size() && !jits.empty(); ++i) {
      auto [tab, cls] = rb.classes[i];
      if (!jits[tab]) continue;
      int32_t k = (*jits[tab])(rb.entries[i].data());
      int64_t got = k < 0 ? -1 : int64_t(t.tables[tab].classes[size_t(k)].id);
      ++g_jitChecks;
      if (got != int64_t(cls))
        d += "generated code: table " + std::to_string(tab) + " picks class " + std::to_string(got) +
             ", the synthesized table class " + std::to_string(cls) + "\n";
    }
    // The split: a device never matches a packet with another class than its own. A device
    // reads the frame, so its rules' prerequisites are checked only on packets whose field
    // vector is what their frame parses into (random packets need not be: Packet::fromFields).
    bool wire = false;
    if (views) {
      pkt::Packet parsed(in.frame().data(), in.frame().size(), 0);
      wire = true;
      for (size_t f = 0; f < kNumFields; ++f)
        wire = wire && (FieldId(f) == FieldId::InPort || parsed.fields()[f] == in.fields()[f]);
    }
    if (views)
      for (const auto &v : *views)
        for (size_t i = 0; i < rb.classes.size(); ++i) {
          auto [tab, cls] = rb.classes[i];
          int32_t k = v.hw[tab]->lookup(rb.entries[i]);
          if (k >= 0 && v.hwTables[tab].classes[size_t(k)].id != cls)
            d += "split for " + v.device + ": in table " + std::to_string(tab) + " the device would match class " +
                 std::to_string(v.hwTables[tab].classes[size_t(k)].id) + ", the packet's class is " + std::to_string(cls) + "\n";
          // Its rules must also apply to this frame: the layers they require must be there
          // (the input frame's layers; a write before a later table may only add a VLAN tag).
          if (k >= 0 && wire)
            if (std::string miss = missingPrerequisite(v.hwSplits[tab][size_t(k)], in.layout(), tab == 0); !miss.empty())
              d += "split for " + v.device + ": in table " + std::to_string(tab) + " class " +
                   std::to_string(v.hwTables[tab].classes[size_t(k)].id) + " is offloaded, but its device rules need " +
                   miss + ", which this frame lacks\n";
        }
    if (!d.empty()) {
      d += "synthesized classes:";
      for (auto [tab, cls] : rb.classes) d += " table " + std::to_string(tab) + " class " + std::to_string(cls);
      d += "\n";
    }
    return d;
  }
};

struct Totals {
  uint64_t packets = 0, chains = 0, mismatches = 0, emitted = 0, dropped = 0;
};

/// Runs one chain; false on a mismatch (after printing the reproducer).
bool runChain(const Module &m, SourceManager &sm, const Chain &c, const Options &o, const std::string &label,
              const std::vector<std::string> &words, uint64_t packets, uint64_t seed, Totals &tot) {
  synth::SynthOptions so;
  so.maxClasses = o.maxClasses;
  synth::ChainTables t = synth::synthesize(m, c, so);
  std::vector<DeviceView> views = deviceViews(m, t, sm);
  Pair pr(m, c, t);
  pr.views = &views;
  if (!pr.ref || !pr.syn) {
    fprintf(stderr, "%s: error: %s\n", label.c_str(), pr.err.c_str());
    return false;
  }
  if (o.jit)
    for (const auto &tab : t.tables) {
      std::string err;
      pr.jits.push_back(tab.classes.size() <= codegen::kMaxInlineClasses ? codegen::JitClassifier::create(tab, err)
                                                                          : nullptr);
      if (tab.classes.size() <= codegen::kMaxInlineClasses && !pr.jits.back()) {
        fprintf(stderr, "%s: error: table %u: %s\n", label.c_str(), tab.id, err.c_str());
        return false;
      }
    }
  PacketSource src(m, c, seed, words);
  std::vector<pkt::Packet> history;
  auto check = [&](const pkt::Packet &p, const std::string &where) {
    pkt::Packet out;
    std::string d = pr.compare(p, out);
    ++tot.packets;
    if (d.empty()) {
      if (!out.frame().empty()) src.noteEmitted(out);
      return true;
    }
    Pair fresh(m, c, t);
    pkt::Packet ignored;
    bool alone = !fresh.compare(p, ignored).empty();
    fprintf(stderr,
            "MISMATCH in %s, chain %s, %s\n%s"
            "reproducer: metronc explain %s --chain %s --packet '%s'\n"
            "frame: %s\n%s\n",
            label.c_str(), c.name.c_str(), where.c_str(), d.c_str(), label.c_str(), c.name.c_str(), spec(m, p.fields()).c_str(),
            hex(p.frame()).c_str(),
            alone ? "the packet alone, on fresh state, mismatches too"
                  : "on fresh state the packet alone agrees: the mismatch depends on the state left by the packets before it");
    ++tot.mismatches;
    return false;
  };
  for (const auto &path : o.pcaps) {
    std::string err;
    auto rd = pkt::PcapReader::open(path, err);
    if (!rd) {
      fprintf(stderr, "metron-diff: error: %s\n", err.c_str());
      return false;
    }
    pkt::Packet p;
    uint64_t i = 0;
    uint16_t in0 = 0;
    for (const auto &n : c.nodes)
      if (n.kind == ChainNode::Ingress) {
        for (uint32_t k = 0; k < m.portNames.size(); ++k)
          if (m.portNames[k] == n.name) in0 = uint16_t(k);
        break;
      }
    while (rd->next(p)) {
      p.setInPort(in0);
      if (!check(p, path + " packet " + std::to_string(++i))) return false;
    }
    // A capture that is corrupt part-way (truncated_dns_2.pcap ends inside a record header)
    // is compared up to the damage, as `metronc run` would refuse it there.
    if (!rd->error().empty()) fprintf(stderr, "metron-diff: note: %s; compared the %llu packets before it\n", rd->error().c_str(), (unsigned long long)i);
  }
  for (uint64_t i = 0; i < packets; ++i)
    if (!check(src.next(), "random packet " + std::to_string(i + 1) + " (seed " + std::to_string(seed) + ")")) return false;
  ++tot.chains;
  return true;
}

int usage() {
  fprintf(stderr, "usage: metron-diff [--packets N] [--seed S] [--pcap FILE]... [--max-classes N] [--jit] FILE.metron...\n"
                  "       metron-diff --random-chains K [--packets N] [--seed S] [--keep DIR] [--jit]\n");
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) { fprintf(stderr, "metron-diff: %s needs a value\n", a.c_str()); exit(2); }
      return argv[++i];
    };
    if (a == "--packets") o.packets = std::stoull(val());
    else if (a == "--seed") o.seed = std::stoull(val());
    else if (a == "--pcap") o.pcaps.push_back(val());
    else if (a == "--max-classes") o.maxClasses = uint32_t(std::stoul(val()));
    else if (a == "--random-chains") o.randomChains = unsigned(std::stoul(val()));
    else if (a == "--keep") o.keep = val();
    else if (a == "--jit") o.jit = true;
    else if (!a.empty() && a[0] == '-') return usage();
    else o.files.push_back(a);
  }
  if (o.files.empty() && !o.randomChains) return usage();
  auto t0 = std::chrono::steady_clock::now();
  Totals tot;
  bool ok = true;
  for (const auto &f : o.files) {
    auto lm = loadModule("diff", f);
    if (!lm) return 1;
    for (const auto &c : lm->module->chains) {
      std::vector<std::string> words;
      ok &= runChain(*lm->module, *lm->sm, c, o, f, words, o.packets, o.seed, tot);
    }
  }
  if (o.randomChains) {
    namespace fs = std::filesystem;
    fs::path dir = o.keep.empty() ? fs::temp_directory_path() / ("metron-diff-" + std::to_string(getpid())) : fs::path(o.keep);
    fs::create_directories(dir);
    std::mt19937_64 rng(o.seed);
    for (unsigned k = 0; k < o.randomChains && ok; ++k) {
      auto g = difftest::randomChain(rng, k);
      fs::path sub = dir / ("chain" + std::to_string(k));
      fs::create_directories(sub);
      for (const auto &[name, text] : g.files) std::ofstream(sub / name) << text;
      std::ofstream(sub / "chain.metron") << g.source;
      auto lm = loadModule("diff", (sub / "chain.metron").string(), {}, /*warnings=*/false);
      if (!lm) {
        fprintf(stderr, "metron-diff: the generator wrote an invalid program: %s\n", (sub / "chain.metron").c_str());
        return 1;
      }
      ok &= runChain(*lm->module, *lm->sm, lm->module->chains[0], o, (sub / "chain.metron").string(), g.payloadWords, o.packets,
                     o.seed * 1000003 + k, tot);
      if (ok && o.keep.empty()) fs::remove_all(sub);
    }
    if (ok && o.keep.empty()) fs::remove_all(dir);
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  printf("metron-diff: %llu chains, %llu packets, %llu mismatches (%.1f s)\n", (unsigned long long)tot.chains,
         (unsigned long long)tot.packets, (unsigned long long)tot.mismatches, s);
  if (o.jit) {
    printf("metron-diff: %llu table lookups by generated code checked\n", (unsigned long long)g_jitChecks);
    if (g_jitChecks == 0) {
      fprintf(stderr, "metron-diff: --jit checked nothing\n");
      return 1;
    }
  }
  return ok ? 0 : 1;
}
