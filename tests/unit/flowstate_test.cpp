//===- tests/unit/flowstate_test.cpp - rte_hash flow states against the reference states -----===//
///
/// dp::makeFlowState (runtime/dataplane/FlowState.h) against state::ElementState::create, the
/// definition, packet by packet: seeded random sequences over a small pool of flows (TCP with
/// random flags, UDP, ICMP, another protocol, non-IPv4 frames, later fragments, cut L4 headers,
/// VLAN tags, both directions, NAPT return traffic built from the reference's own translations
/// with the protocol or port sometimes wrong), timestamps that advance (in some runs on a grid,
/// so that entries reach exactly their timeout), jump past the timeout and go backwards, and
/// packet lengths that vary. After every packet the Result, the frame, the field vector and counters()
/// must be equal. Tiny NAPT ranges exhaust the ports; tables start at 8 entries so that they
/// grow. Each run also checks that it reached the situations it is meant to test (drops,
/// returns, expiries, growth), so that a run that tests nothing fails.
///
/// FlowStateTables: the kinds makeFlowState leaves to others, tables freed with their states,
/// 1,000 states alive at once (unique table names). DISABLED_FlowStateCost.* run
/// 100,000 packets through NAPT and Balance (reference and rte_hash) for callgrind; they assert
/// nothing about time.
//===----------------------------------------------------------------------------------------===//
#include "runtime/dataplane/FlowState.h"

#include "runtime/state/State.h"

#include <gtest/gtest.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <array>
#include <map>
#include <random>
#include <sstream>

namespace metron::dp {
namespace {

using ir::FieldId;
using Fields = std::array<uint64_t, ir::kNumFields>;
using Counters = std::vector<std::pair<std::string, uint64_t>>;

constexpr uint64_t kSec = 1000000000ull;
constexpr uint32_t kNaptAddr = 0xCB007101; // 203.0.113.1

struct Flow {
  uint8_t proto = 17;
  uint32_t src = 0, dst = 0;
  uint16_t sport = 0, dport = 0;
  uint64_t ethSrc = 0, ethDst = 0;
  uint16_t vlan = 0;
  uint16_t inPort = 0;
  Flow reversed() const {
    Flow r = *this;
    std::swap(r.src, r.dst);
    std::swap(r.sport, r.dport);
    std::swap(r.ethSrc, r.ethDst);
    return r;
  }
};

/// An Ethernet/IPv4 frame written byte by byte: a later fragment (offset 1480) or a TCP/UDP
/// header cut short by the capture.
pkt::Packet rawIpv4(const Flow &f, bool fragment, uint64_t ts) {
  size_t l4 = f.proto == 6 ? 20 : 8;
  std::vector<uint8_t> b(14 + 20 + l4 + 8);
  for (int i = 0; i < 6; ++i) b[i] = uint8_t(f.ethDst >> (40 - 8 * i)), b[6 + i] = uint8_t(f.ethSrc >> (40 - 8 * i));
  b[12] = 0x08;
  uint8_t *h = b.data() + 14;
  size_t total = 20 + l4 + 8;
  h[0] = 0x45, h[2] = uint8_t(total >> 8), h[3] = uint8_t(total), h[4] = 0x12, h[5] = 0x34;
  if (fragment) h[6] = 0x00, h[7] = 185; // offset 185 * 8
  h[8] = 64, h[9] = f.proto;
  for (int i = 0; i < 4; ++i) h[12 + i] = uint8_t(f.src >> (24 - 8 * i)), h[16 + i] = uint8_t(f.dst >> (24 - 8 * i));
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += uint32_t(h[i]) << 8 | h[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  h[10] = uint8_t(~sum >> 8), h[11] = uint8_t(~sum);
  uint8_t *t = h + 20;
  t[0] = uint8_t(f.sport >> 8), t[1] = uint8_t(f.sport), t[2] = uint8_t(f.dport >> 8), t[3] = uint8_t(f.dport);
  if (f.proto == 6) t[12] = 0x50, t[13] = 0x10;
  else t[5] = uint8_t(l4 + 8);
  if (!fragment) b.resize(14 + 20 + (f.proto == 6 ? 12 : 6)); // the L4 header cut short
  return pkt::Packet(b.data(), b.size(), ts, f.inPort);
}

/// Random packets over a pool of flows (see the file comment).
class Gen {
public:
  struct Options {
    size_t pool = 24;            ///< flows that repeat
    double fresh = 0.02;         ///< share of packets of a flow never seen before
    double ret = 0.0;            ///< share of NAPT return traffic (needs observe())
    uint64_t timeoutNs = 10 * kSec; ///< the time scale: steps, jumps and steps back
    uint32_t packetsPerTimeout = 0; ///< mean packets per timeout; 0: 4 * pool
    bool timeJumps = true;          ///< jumps past the timeout and packets from the past
    uint64_t quantumNs = 0;         ///< timestamps on this grid (so that now - t == timeout)
  };
  Gen(uint64_t seed, Options o) : rng_(seed), o_(o) {
    for (size_t i = 0; i < o_.pool; ++i) pool_.push_back(randomFlow());
    if (!o_.packetsPerTimeout) o_.packetsPerTimeout = uint32_t(4 * o_.pool);
  }

  pkt::Packet next() {
    uint64_t ts = advance();
    double r = uniform();
    pkt::Packet p;
    if (r < o_.ret && !translated_.empty()) {
      Flow f = translated_[rng_() % translated_.size()].reversed();
      if (chance(0.1)) f.proto = f.proto == 6 ? 17 : 6;
      if (chance(0.1)) (chance(0.5) ? f.sport : f.dport) = uint16_t(f.dport + int(rng_() % 5) - 2);
      p = make(f, ts);
    } else if ((r -= o_.ret) < 0.08) {
      p = make(pick().reversed(), ts);
    } else if ((r -= 0.08) < 0.04) {
      Flow f = pick();
      f.proto = 1;
      p = make(f, ts);
    } else if ((r -= 0.04) < 0.02) {
      Flow f = pick();
      f.proto = 47;
      p = make(f, ts);
    } else if ((r -= 0.02) < 0.03) {
      Fields v{};
      v[size_t(FieldId::EthType)] = chance(0.5) ? 0x0806 : 0x86dd;
      v[size_t(FieldId::EthSrc)] = pick().ethSrc;
      v[size_t(FieldId::InPort)] = rng_() % 2;
      p = pkt::Packet::fromFields(v, ts);
    } else if ((r -= 0.03) < 0.03) {
      p = rawIpv4(pick(), /*fragment=*/true, ts);
    } else if ((r -= 0.03) < 0.02) {
      p = rawIpv4(pick(), /*fragment=*/false, ts);
    } else {
      p = make(chance(o_.fresh) ? randomFlow() : pick(), ts);
    }
    p.wireLen = uint32_t(p.frame().size() + rng_() % 1400);
    return p;
  }

  /// Remembers the packet as an element left it, for return traffic.
  void observe(const pkt::Packet &p, bool dropped) {
    if (dropped || !p.layout().ipv4 || (!p.layout().tcp && !p.layout().udp)) return;
    Flow f;
    f.proto = uint8_t(p.get(FieldId::IpProto));
    f.src = uint32_t(p.get(FieldId::IpSrc)), f.dst = uint32_t(p.get(FieldId::IpDst));
    f.sport = uint16_t(p.get(FieldId::TpSrc)), f.dport = uint16_t(p.get(FieldId::TpDst));
    f.ethSrc = p.get(FieldId::EthSrc), f.ethDst = p.get(FieldId::EthDst);
    f.inPort = uint16_t(p.get(FieldId::InPort) ^ 1);
    if (translated_.size() < 64) translated_.push_back(f);
    else translated_[rng_() % translated_.size()] = f;
  }

private:
  double uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool chance(double p) { return uniform() < p; }
  const Flow &pick() { return pool_[rng_() % pool_.size()]; }

  Flow randomFlow() {
    static constexpr uint16_t kPorts[] = {53, 80, 443, 1000, 1001, 1002, 1003, 1024, 5000, 40000, 65535};
    Flow f;
    f.proto = chance(0.55) ? 6 : 17;
    f.src = 0x0A000000u | uint32_t(rng_() % 8);
    f.dst = chance(0.1) ? kNaptAddr : chance(0.05) ? f.src : 0xC0000200u | uint32_t(rng_() % 4);
    f.sport = chance(0.7) ? uint16_t(1024 + rng_() % 64) : kPorts[rng_() % std::size(kPorts)];
    f.dport = kPorts[rng_() % std::size(kPorts)];
    f.ethSrc = 0x020000000000ull | rng_() % 4;
    f.ethDst = 0x020000000100ull | rng_() % 4;
    f.vlan = chance(0.1) ? uint16_t(1 + rng_() % 3) : 0;
    f.inPort = uint16_t(rng_() % 2);
    return f;
  }

  pkt::Packet make(const Flow &f, uint64_t ts) {
    static constexpr uint8_t kFlags[] = {0x02, 0x02, 0x12, 0x10, 0x10, 0x10, 0x18, 0x11, 0x04, 0x14, 0x00, 0x06};
    Fields v{};
    v[size_t(FieldId::InPort)] = f.inPort;
    v[size_t(FieldId::EthSrc)] = f.ethSrc;
    v[size_t(FieldId::EthDst)] = f.ethDst;
    v[size_t(FieldId::EthType)] = 0x0800;
    v[size_t(FieldId::VlanId)] = f.vlan;
    v[size_t(FieldId::IpSrc)] = f.src;
    v[size_t(FieldId::IpDst)] = f.dst;
    v[size_t(FieldId::IpProto)] = f.proto;
    v[size_t(FieldId::IpTtl)] = 64;
    v[size_t(FieldId::IpDscp)] = rng_() % 2 ? 0 : 46;
    if (f.proto == 6 || f.proto == 17) {
      v[size_t(FieldId::TpSrc)] = f.sport;
      v[size_t(FieldId::TpDst)] = f.dport;
    }
    if (f.proto == 6) v[size_t(FieldId::TcpFlags)] = kFlags[rng_() % std::size(kFlags)];
    if (f.proto == 1) v[size_t(FieldId::IcmpType)] = 8;
    return pkt::Packet::fromFields(v, ts);
  }

  /// The next timestamp: mostly small steps, sometimes a jump past the timeout, sometimes a
  /// packet from the past (the element keeps its own clock).
  uint64_t advance() {
    uint64_t ts = step();
    return o_.quantumNs ? ts - ts % o_.quantumNs : ts;
  }
  uint64_t step() {
    double r = o_.timeJumps ? uniform() : 0.5;
    if (r < 0.01) now_ += o_.timeoutNs + rng_() % (o_.timeoutNs + 1);
    else if (r < 0.04) return now_ - std::min<uint64_t>(now_, rng_() % (o_.timeoutNs / 2 + 1));
    else now_ += rng_() % (2 * o_.timeoutNs / o_.packetsPerTimeout + 1);
    if (r > 0.995) return now_ - std::min<uint64_t>(now_, o_.timeoutNs); // exactly the timeout back
    return now_;
  }

  std::mt19937_64 rng_;
  Options o_;
  std::vector<Flow> pool_, translated_;
  uint64_t now_ = 1000;
};

std::string show(const pkt::Packet &p) {
  std::ostringstream s;
  s << "ts=" << p.timestampNs << " fields";
  for (uint64_t v : p.fields()) s << ' ' << v;
  return s.str();
}

struct RunStats {
  bool equal = false; ///< every packet and counter compared equal
  Counters last;
  std::map<std::string, uint64_t> peak; ///< largest value of each counter during the run
  uint64_t cacheHits = 0, cacheMisses = 0; ///< of the rte_hash state's flow cache (NAPT, Balance)
  uint64_t get(const std::string &name) const {
    for (const auto &[n, v] : last)
      if (n == name) return v;
    ADD_FAILURE() << "no counter " << name;
    return 0;
  }
};

/// Runs \p n packets of \p g through the reference state and the rte_hash state of \p e (a
/// flow cache of \p cacheEntries) and compares everything after every packet.
RunStats differential(const ir::Element &e, Gen &g, size_t n, uint32_t initialEntries = 8,
                      uint32_t cacheEntries = kFlowCacheEntries) {
  RunStats st;
  std::string err;
  auto ref = state::ElementState::create(e, err);
  EXPECT_TRUE(ref) << err;
  auto dp = makeFlowState(e, err, initialEntries, cacheEntries);
  EXPECT_TRUE(dp) << err;
  if (!ref || !dp) return st;
  EXPECT_EQ(ref->counters(), dp->counters());
  for (size_t i = 0; i < n; ++i) {
    pkt::Packet p = g.next();
    pkt::Packet a = p, b = p;
    state::Result ra = ref->process(a), rb = dp->process(b);
    bool same = ra.drop == rb.drop && ra.matched == rb.matched && a.fields() == b.fields() && a.frame() == b.frame() &&
                a.layout() == b.layout();
    Counters ca = ref->counters(), cb = dp->counters();
    if (!same || ca != cb) {
      ADD_FAILURE() << "packet " << i << " differs: " << show(p) << "\n  reference: drop=" << ra.drop << " "
                    << show(a) << "\n  rte_hash:  drop=" << rb.drop << " " << show(b)
                    << "\n  counters equal: " << (ca == cb);
      EXPECT_EQ(ca, cb);
      return st;
    }
    // The flow cache holds only what the table holds: after every packet with a small cache,
    // every 64 packets with a large one.
    if (cacheEntries <= 64 || i % 64 == 63 || i + 1 == n) {
      std::string why;
      if (!flowCacheConsistent(*dp, why)) {
        ADD_FAILURE() << "packet " << i << ": the flow cache differs from the table: " << why;
        return st;
      }
    }
    for (const auto &[name, v] : ca) st.peak[name] = std::max(st.peak[name], v);
    st.last = std::move(ca);
    g.observe(a, ra.drop);
  }
  flowCacheCounts(*dp, st.cacheHits, st.cacheMisses);
  st.equal = true;
  return st;
}

ir::Napt napt(FieldId field, uint16_t lo, uint16_t hi, uint32_t timeoutSec) {
  ir::Napt e({});
  e.field = field;
  e.address = kNaptAddr;
  e.portLo = lo;
  e.portHi = hi;
  e.timeoutSec = timeoutSec;
  return e;
}

Gen::Options opts(size_t pool, uint32_t timeoutSec, double ret = 0) {
  Gen::Options o;
  o.pool = pool;
  o.timeoutNs = uint64_t(timeoutSec ? timeoutSec : 1) * kSec;
  o.ret = ret;
  return o;
}

} // namespace

// ---- NAPT -------------------------------------------------------------------------------------

TEST(FlowStateNapt, TinyRangeExhaustsPorts) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto e = napt(FieldId::IpSrc, 1000, 1003, 5);
    Gen::Options o = opts(12, 5, 0.2);
    if (seed % 2) o.quantumNs = kSec / 2; // timestamps on a grid: expiry exactly at the timeout
    Gen g(seed, o);
    RunStats s = differential(e, g, 20000);
    ASSERT_TRUE(s.equal);
    EXPECT_GT(s.get("dropped"), 0u);
    EXPECT_GT(s.get("returned"), 100u);
    EXPECT_EQ(s.peak["mappings"], 4u);
    EXPECT_GT(s.get("allocated"), 40u); // ports freed by the timeout are given again
    EXPECT_GT(s.cacheHits, 1000u);      // and forgotten by the flow cache
  }
}

TEST(FlowStateNapt, DestinationNatAndRangeEdges) {
  // dst-NAT; a range of one port; a range ending at 65535; ranges around 64-bit word edges of
  // the free-port bitmap (63, 64, 65, 130 ports) with more flows than ports.
  struct Case {
    FieldId field;
    uint16_t lo, hi;
    size_t pool;
  } cases[] = {{FieldId::IpDst, 1000, 1003, 12},  {FieldId::IpSrc, 7000, 7000, 6},   {FieldId::IpDst, 65530, 65535, 16},
               {FieldId::IpSrc, 2000, 2062, 100}, {FieldId::IpSrc, 2000, 2063, 100}, {FieldId::IpDst, 2000, 2064, 100},
               {FieldId::IpSrc, 1024, 1153, 200}};
  uint64_t seed = 10;
  for (const Case &c : cases) {
    SCOPED_TRACE("ports " + std::to_string(c.lo) + "-" + std::to_string(c.hi));
    auto e = napt(c.field, c.lo, c.hi, 3);
    Gen::Options o = opts(c.pool, 3, 0.2);
    o.fresh = 0.1;
    if (seed % 2) o.quantumNs = kSec / 4;
    Gen g(++seed, o);
    // Every other case with a flow cache of one set (two ways) for many flows: evictions.
    RunStats s = differential(e, g, 20000, 8, seed % 2 ? 2 : kFlowCacheEntries);
    ASSERT_TRUE(s.equal);
    EXPECT_GT(s.cacheHits, 50u);
    EXPECT_GT(s.get("dropped"), 0u);
    EXPECT_GT(s.get("returned"), 50u);
    EXPECT_EQ(s.peak["mappings"], uint64_t(c.hi) - c.lo + 1);
  }
}

TEST(FlowStateNapt, LargeRangeManyFlows) {
  // Room for every flow: no drops, mappings expire by the timeout only. The flow cache as
  // deployed, and one of 16 entries for 300 flows (evictions all the time).
  for (uint32_t cache : {kFlowCacheEntries, 16u}) {
    SCOPED_TRACE("flow cache " + std::to_string(cache));
    auto e = napt(FieldId::IpSrc, 1024, 65535, 2);
    Gen::Options o = opts(300, 2, 0.25);
    o.fresh = 0.2;
    Gen g(99, o);
    RunStats s = differential(e, g, 30000, 8, cache);
    ASSERT_TRUE(s.equal);
    EXPECT_EQ(s.get("dropped"), 0u);
    EXPECT_GT(s.get("returned"), 1000u);
    EXPECT_GT(s.peak["mappings"], 300u);
    EXPECT_LT(s.get("allocated"), 30000u);
    EXPECT_GT(s.cacheHits, 200u);
    if (cache == 16) {
      EXPECT_GT(s.cacheMisses, s.cacheHits);
    }
  }
}

// ---- Balance ----------------------------------------------------------------------------------

TEST(FlowStateBalance, RoundRobinAndHashGrow) {
  struct Case {
    ir::Balance::Policy policy;
    FieldId field;
    std::vector<uint64_t> backends;
  } cases[] = {{ir::Balance::RoundRobin, FieldId::IpDst, {0x0A010101, 0x0A010102, 0x0A010103}},
               {ir::Balance::Hash, FieldId::IpDst, {0x0A010101, 0x0A010102, 0x0A010103, 0x0A010104, 0x0A010105}},
               {ir::Balance::RoundRobin, FieldId::EthDst, {0x02000a000101ull, 0x02000a000102ull}},
               {ir::Balance::Hash, FieldId::TpDst, {8080, 8081, 8082}},
               {ir::Balance::RoundRobin, FieldId::IpSrc, {0x0A0A0A0A}}};
  uint64_t seed = 20;
  for (const Case &c : cases) {
    SCOPED_TRACE("case " + std::to_string(seed));
    ir::Balance e({});
    e.policy = c.policy;
    e.field = c.field;
    e.backends = c.backends;
    Gen::Options o = opts(64, 10);
    o.fresh = 0.1; // ~1,000 flows: the table grows from 8 entries seven times
    Gen g(++seed, o);
    // Every other case with a flow cache of 4 entries: flows leave it and come back while the
    // table grows.
    RunStats s = differential(e, g, 12000, 8, seed % 2 ? 4 : kFlowCacheEntries);
    ASSERT_TRUE(s.equal);
    EXPECT_GT(s.get("flows"), 512u);
    EXPECT_GT(s.cacheHits, 200u);
  }
}

// ---- Monitor ----------------------------------------------------------------------------------

TEST(FlowStateMonitor, KeysTimeoutsGrowth) {
  using F = FieldId;
  const std::vector<std::vector<F>> keys = {
      {},                                                                       // the 5-tuple (2 words)
      {F::IpSrc},                                                               // 2 words
      {F::EthSrc, F::EthDst, F::IpSrc, F::IpDst, F::TpSrc, F::TpDst, F::VlanId}, // 204 bits: 4 words
      {F::InPort,  F::EthSrc, F::EthDst, F::EthType, F::VlanId,   F::VlanPcp,  F::IpSrc,   F::IpDst,
       F::IpProto, F::IpTtl,  F::IpDscp, F::TpSrc,   F::TpDst,    F::TcpFlags, F::IcmpType, F::IcmpCode}}; // 285: 6
  uint64_t seed = 30;
  for (uint32_t timeout : {0u, 1u, 30u})
    for (const auto &key : keys) {
      SCOPED_TRACE("timeout " + std::to_string(timeout) + " key fields " + std::to_string(key.size()));
      ir::Monitor e({});
      e.key = key;
      e.timeoutSec = timeout;
      Gen::Options o = opts(48, timeout);
      if (seed % 2) o.quantumNs = o.timeoutNs / 8;
      Gen g(++seed, o);
      // Every other run with a flow cache of 4 entries (evictions); 2-word keys have one.
      RunStats s = differential(e, g, 8000, 8, seed % 2 ? 4 : kFlowCacheEntries);
      ASSERT_TRUE(s.equal);
      if (key.size() <= 1 && timeout != 0) {
        EXPECT_GT(s.cacheHits, 100u);
      } else if (key.size() > 1) {
        EXPECT_EQ(s.cacheHits + s.cacheMisses, 0u); // keys of 4 and 6 words: no cache
      }
      if (timeout == 0) {
        EXPECT_EQ(s.peak["flows"], 1u); // every entry expires at the next packet
      } else {
        EXPECT_GT(s.get("expired"), 0u);
        if (key.size() != 1) {
          EXPECT_GT(s.peak["flows"], 16u); // grew from 8
        }
      }
    }
}

// ---- Conntrack --------------------------------------------------------------------------------

TEST(FlowStateConntrack, StrictAndNot) {
  uint64_t seed = 40;
  for (bool strict : {false, true})
    for (uint32_t timeout : {2u, 120u}) {
      SCOPED_TRACE(std::string(strict ? "strict" : "loose") + " timeout " + std::to_string(timeout));
      ir::Conntrack e({});
      e.strict = strict;
      e.timeoutSec = timeout;
      Gen::Options o = opts(160, timeout);
      if (seed % 2) o.quantumNs = o.timeoutNs / 8;
      Gen g(++seed, o);
      RunStats s = differential(e, g, 15000, 8, seed % 2 ? 4 : kFlowCacheEntries);
      ASSERT_TRUE(s.equal);
      EXPECT_GT(s.cacheHits, 100u);
      EXPECT_GT(s.get("dropped"), 100u);
      EXPECT_GT(s.get("passed"), 1000u);
      EXPECT_GT(s.peak["connections"], 16u);
    }
}

// ---- RateLimit --------------------------------------------------------------------------------

TEST(FlowStateRateLimit, PacketsBitsKeys) {
  using F = FieldId;
  const std::vector<std::vector<F>> keys = {{}, {F::IpSrc}, {F::IpSrc, F::IpDst, F::TpSrc, F::TpDst, F::IpProto},
                                            {F::EthSrc, F::EthDst, F::IpSrc, F::IpDst, F::TpSrc, F::TpDst, F::VlanId}};
  uint64_t seed = 50;
  for (bool packets : {true, false})
    for (const auto &key : keys) {
      SCOPED_TRACE(std::string(packets ? "pps" : "bps") + " key fields " + std::to_string(key.size()));
      ir::RateLimit e({});
      e.packets = packets;
      e.rate = packets ? (key.empty() ? 200 : 3) : (key.empty() ? 1000000 : 16000);
      e.burst = packets ? 3 : 3000;
      e.key = key;
      Gen::Options o = opts(64, 1);
      o.fresh = 0.05;
      Gen g(++seed, o);
      // Every other run with a flow cache of 4 entries (evictions); keys of 2 words have one.
      RunStats s = differential(e, g, 10000, 8, seed % 2 ? 4 : kFlowCacheEntries);
      ASSERT_TRUE(s.equal);
      EXPECT_GT(s.get("dropped"), 100u);
      EXPECT_GT(s.get("passed"), 100u);
      if (key.size() > 1) {
        EXPECT_GT(s.get("buckets"), 16u);
      }
      if (key.size() == 1 || key.size() == 5) {
        EXPECT_GT(s.cacheHits, 100u);
      } else {
        EXPECT_EQ(s.cacheHits + s.cacheMisses, 0u); // no key, or one of 4 words: no cache
      }
    }
}

// ---- creation, errors, freeing ----------------------------------------------------------------

TEST(FlowStateTables, DpiAndNonStateful) {
  std::string err = "stale";
  ir::Dpi dpi({});
  EXPECT_FALSE(makeFlowState(dpi, err));
  EXPECT_EQ(err, "");
  ir::DecTtl dec({});
  EXPECT_FALSE(makeFlowState(dec, err));
  EXPECT_EQ(err, "not a stateful element");
}

uint64_t heapAllocated() {
  uint64_t sum = 0;
  for (unsigned s = 0; s < rte_socket_count(); ++s) {
    rte_malloc_socket_stats st{};
    if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &st) == 0) sum += st.heap_allocsz_bytes;
  }
  return sum;
}

TEST(FlowStateTables, FreedWithTheirStates) {
  // Each round creates ~14 MB of rte_hash tables (a full NAPT range, the other elements at
  // 64Ki entries; some rounds grow a small table): 100 rounds would not fit the test's 512 MB
  // if they leaked, and the heap returns to its size.
  auto n = napt(FieldId::IpSrc, 1024, 65535, 60);
  ir::Balance b({});
  b.backends = {1, 2};
  ir::Monitor m({});
  m.key = {FieldId::EthSrc, FieldId::EthDst, FieldId::IpSrc,  FieldId::IpDst,  FieldId::TpSrc,
           FieldId::TpDst,  FieldId::VlanId, FieldId::InPort, FieldId::IpProto};
  ir::Conntrack c({});
  ir::RateLimit r({});
  r.key = {FieldId::IpSrc};
  r.rate = 1, r.burst = 1;
  const ir::Element *elements[] = {&n, &b, &m, &c, &r};
  uint64_t before = heapAllocated();
  for (int round = 0; round < 100; ++round) {
    std::vector<std::unique_ptr<state::ElementState>> states;
    for (const ir::Element *e : elements) {
      std::string err;
      states.push_back(makeFlowState(*e, err));
      ASSERT_TRUE(states.back()) << "round " << round << ": " << err;
    }
    if (round % 25 == 0) { // grow a small Balance table too
      std::string err;
      auto s = makeFlowState(b, err, 8);
      ASSERT_TRUE(s) << err;
      Gen g(round, opts(200, 10));
      for (int i = 0; i < 400; ++i) {
        pkt::Packet p = g.next();
        s->process(p);
      }
    }
  }
  EXPECT_EQ(heapAllocated(), before);
}

TEST(FlowStateTables, ManyAliveAtOnce) {
  // Every table has a name of its own: 1,000 live states (two tables each while one grows).
  // Not many more: each rte_hash takes two memzones (its rings) of the EAL's RTE_MAX_MEMZONE.
  ir::Conntrack c({});
  c.strict = true;
  std::vector<std::unique_ptr<state::ElementState>> states;
  for (int i = 0; i < 1000; ++i) {
    std::string err;
    states.push_back(makeFlowState(c, err, 8));
    ASSERT_TRUE(states.back()) << i << ": " << err;
  }
  Gen g(3, opts(40, 100));
  for (int i = 0; i < 20000; ++i) {
    pkt::Packet p = g.next();
    states[size_t(i) % states.size()]->process(p);
  }
  states.clear();
  std::string err;
  EXPECT_TRUE(makeFlowState(c, err, 8)) << err;
}

// ---- cost, for callgrind (not run by default) -------------------------------------------------
//
//   valgrind --tool=callgrind --toggle-collect='*processAll*' build-syn/tests/dataplane_tests
//     --gtest_also_run_disabled_tests --gtest_filter='DISABLED_FlowStateCost.NaptRteHash'
// Instructions per packet = the Ir of processAll / 100,000.

namespace {

constexpr size_t kCostPackets = 100000;

/// NAPT traffic: 10,000 UDP/TCP flows through a full port range, 10% return traffic (to the
/// ports a reference NAPT gave), 5 us between packets.
std::vector<pkt::Packet> naptWorkload(const ir::Napt &e) {
  std::string err;
  auto probe = state::ElementState::create(e, err);
  Gen::Options o = opts(10000, 60, 0.1);
  o.packetsPerTimeout = 60 * 200000;
  o.timeJumps = false;
  Gen g(7, o);
  std::vector<pkt::Packet> out;
  out.reserve(kCostPackets);
  for (size_t i = 0; i < kCostPackets; ++i) {
    out.push_back(g.next());
    pkt::Packet q = out.back();
    g.observe(q, probe->process(q).drop);
  }
  return out;
}
std::vector<pkt::Packet> balanceWorkload() {
  Gen::Options o = opts(10000, 60);
  o.timeJumps = false;
  Gen g(8, o);
  std::vector<pkt::Packet> out;
  out.reserve(kCostPackets);
  for (size_t i = 0; i < kCostPackets; ++i) out.push_back(g.next());
  return out;
}

[[gnu::noinline]] uint64_t processAll(state::ElementState &s, std::vector<pkt::Packet> &packets) {
  uint64_t dropped = 0;
  for (pkt::Packet &p : packets) dropped += s.process(p).drop;
  return dropped;
}

void cost(const ir::Element &e, std::vector<pkt::Packet> packets, bool rteHash) {
  std::string err;
  auto s = rteHash ? makeFlowState(e, err) : state::ElementState::create(e, err);
  ASSERT_TRUE(s) << err;
  uint64_t dropped = processAll(*s, packets);
  std::ostringstream c;
  for (const auto &[n, v] : s->counters()) c << ' ' << n << '=' << v;
  printf("%s: %zu packets, %lu dropped;%s\n", rteHash ? "rte_hash" : "reference", packets.size(),
         (unsigned long)dropped, c.str().c_str());
}

ir::Balance costBalance() {
  ir::Balance e({});
  e.backends = {0x0A010101, 0x0A010102, 0x0A010103};
  return e;
}

} // namespace

TEST(DISABLED_FlowStateCost, NaptReference) {
  auto e = napt(FieldId::IpSrc, 1024, 65535, 60);
  cost(e, naptWorkload(e), false);
}
TEST(DISABLED_FlowStateCost, NaptRteHash) {
  auto e = napt(FieldId::IpSrc, 1024, 65535, 60);
  cost(e, naptWorkload(e), true);
}
TEST(DISABLED_FlowStateCost, BalanceReference) { cost(costBalance(), balanceWorkload(), false); }
TEST(DISABLED_FlowStateCost, BalanceRteHash) { cost(costBalance(), balanceWorkload(), true); }

} // namespace metron::dp
