//===- tests/tools/mkpcap.cpp - Realistic test captures for the data-plane differential tests -===//
///
/// metron-mkpcap writes an Ethernet pcap made of flows whose headers come from ClassBench header
/// traces, from a route table (destinations inside random prefixes, and some just outside), or
/// from random draws, for comparing the compiled data plane with the reference interpreter
/// (`metronc run` vs `metronc run --reference`, compared by metron-pcapdiff).
///
///   metron-mkpcap --out FILE.pcap --packets N [--seed S] [--classbench TRACE]...
///                 [--routes FILE [--every K]] [--mix KEY=VALUE,...] [--rate PPS]
///                 [--flow-len MEAN] [--active N] [--idle SEC] [--start SEC]
///
/// What is in the capture (all of it deterministic given the options and the seed):
///
///  * Flows. A flow is a forward 5-tuple and a planned number of packets (geometric lengths
///    around --flow-len, with 3% elephants 5-25 times longer). --active flows are open at a
///    time; each packet comes from one of them picked at random, so flows interleave. Some
///    flows (mix `pause`) stop once for about --idle seconds, so the idle timeouts of NAPT,
///    flow monitors and connection tracking expire in the middle of a flow.
///  * Flow headers, by the weights `cb`, `route`, `random`:
///      cb      the next header of the ClassBench traces, unchanged (SRC DST SPORT DPORT PROTO;
///              the rest of the line is ignored): the traces in order on the first pass, then
///              again and again, each pass shuffled with the seed;
///      route   a client source and a destination inside a random forwarding route of the
///              table (longest match unicast or attached) or, for the share `miss` of them,
///              just outside a random prefix where the longest match does not forward (drop,
///              local, or no route); the table is read by compiler/import (Routes.cpp) after
///              keeping entries 1, K+1, 2K+1... like the language's `import routes ... every K`;
///      random  random addresses and ports.
///    The protocol of a route or random flow is drawn by the weights `tcp udp icmp other`; a
///    cb flow has the trace's protocol (6 TCP, 17 UDP, 1 ICMP echo, anything else an IPv4
///    datagram of that protocol without an L4 header).
///  * TCP flows open with SYN, SYN-ACK (the reverse direction), ACK, carry ACK / PSH-ACK data
///    both ways (share `rev` reversed), and close with FIN-ACK or (share `rst` of the flows) RST;
///    the share `midstream` of TCP flows starts without a handshake (ACK only), and `oddflags`
///    of TCP packets carry random flag bytes. UDP and ICMP echo flows have `rev` replies; some
///    ICMP flows are single errors (unreachable, time exceeded).
///  * Per packet: `arp` and `ipv6` shares of frames that are not IPv4 (ARP request/reply;
///    IPv6 with UDP or TCP); `frag` of IPv4 packets are non-first fragments (no L4 header);
///    `lowttl` have TTL 0, 1 or 2 (flows otherwise keep one TTL among 64, 128, 255, 32).
///    Per flow: `vlan` are 802.1Q-tagged, some have a DSCP.
///  * Sizes: control packets are as small as possible; data packets are 60..1514 bytes (untagged
///    frame without FCS): many minimal, many 1514, the rest spread between. Every frame has a
///    payload whose first 8 bytes are the 0-based record number (big-endian; after the TCP,
///    UDP or 8-byte ICMP echo header, after the IPv4 header for fragments and other protocols,
///    after the ARP body, after the IPv6 L4 header), then the flow number and the packet's
///    number in its flow (32 bits each, when there is room), then filler.
///  * Checksums are correct (IPv4, TCP, UDP, ICMP, and UDP/TCP over IPv6); every IPv4 frame is
///    checked with pkt::checksumsValid before it is written.
///  * Timestamps start at --start (seconds) and increase by 1/--rate per packet, with jitter.
///
/// A one-line summary goes to standard output. Exit 0, 1 on I/O errors, 2 on usage errors.
//===----------------------------------------------------------------------------------------===//
#include "compiler/import/Import.h"
#include "runtime/packet/Pcap.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cinttypes>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <queue>
#include <unordered_map>

using namespace metron;

namespace {

// ---- random numbers (xoshiro256**, seeded by splitmix64: the same stream on every platform) ----

class Rng {
public:
  explicit Rng(uint64_t seed) {
    for (auto &w : s_) {
      seed += 0x9e3779b97f4a7c15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      w = z ^ (z >> 31);
    }
  }
  uint64_t next() {
    uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  /// Uniform in [0, n) (n > 0).
  uint64_t below(uint64_t n) { return uint64_t((unsigned __int128)next() * n >> 64); }
  /// Uniform in [lo, hi].
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }
  double unit() { return double(next() >> 11) * 0x1.0p-53; }
  /// True with probability pct/100.
  bool chance(double pct) { return pct > 0 && unit() * 100.0 < pct; }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// ---- the mix ----------------------------------------------------------------------------------

/// Every tunable share, by its --mix key. Weights are relative; the others are percentages.
struct Mix {
  struct Entry {
    const char *key;
    double value;
    bool weight;
    const char *what;
  };
  std::vector<Entry> entries = {
      {"cb", -1, true, "flows from the ClassBench traces (default 45 with routes, else 90)"},
      {"route", -1, true, "flows to route-table destinations (default 45 with traces, else 90)"},
      {"random", -1, true, "flows with random headers (default 10; 100 without traces and routes)"},
      {"tcp", 60, true, "protocol weight of route/random flows"},
      {"udp", 28, true, "protocol weight of route/random flows"},
      {"icmp", 8, true, "protocol weight of route/random flows"},
      {"other", 4, true, "protocol weight of route/random flows (GRE, ESP, OSPF, SCTP, 0, 255)"},
      {"miss", 25, false, "% of route flows just outside a prefix, where no route forwards"},
      {"arp", 1, false, "% of frames that are ARP"},
      {"ipv6", 1, false, "% of frames that are IPv6"},
      {"frag", 0.5, false, "% of IPv4 data packets that are non-first fragments"},
      {"lowttl", 3, false, "% of IPv4 packets with TTL 0, 1 or 2"},
      {"vlan", 10, false, "% of flows with an 802.1Q tag"},
      {"rev", 25, false, "% of TCP/UDP/ICMP data packets sent in the reverse direction"},
      {"midstream", 10, false, "% of TCP flows without a handshake"},
      {"rst", 5, false, "% of TCP flows closed by RST instead of FIN"},
      {"oddflags", 0.5, false, "% of TCP data packets with a random flags byte"},
      {"pause", 3, false, "% of flows that pause once for about --idle seconds"},
  };
  double &operator[](std::string_view k) {
    for (auto &e : entries)
      if (k == e.key) return e.value;
    static double none;
    return none;
  }
  bool has(std::string_view k) const {
    return std::any_of(entries.begin(), entries.end(), [&](const Entry &e) { return k == e.key; });
  }
  std::string keys() const {
    std::string s;
    for (auto &e : entries) s += (s.empty() ? "" : ", ") + std::string(e.key);
    return s;
  }
  /// Parses "key=value,key=value"; false and \p err on a bad item.
  bool parse(const std::string &spec, std::string &err) {
    size_t b = 0;
    while (b <= spec.size()) {
      size_t e = spec.find(',', b);
      if (e == std::string::npos) e = spec.size();
      std::string item = spec.substr(b, e - b);
      b = e + 1;
      if (item.empty()) continue;
      size_t eq = item.find('=');
      std::string k = item.substr(0, eq);
      if (eq == std::string::npos || !has(k)) {
        err = "--mix: expected KEY=VALUE with KEY one of " + keys() + ", found '" + item + "'";
        return false;
      }
      char *end = nullptr;
      double v = std::strtod(item.c_str() + eq + 1, &end);
      bool pct = false;
      for (auto &en : entries)
        if (k == en.key) pct = !en.weight;
      if (end == item.c_str() + eq + 1 || *end || !(v >= 0) || (pct && v > 100) || v > 1e9) {
        err = "--mix: bad value in '" + item + "' (" + (pct ? "a percentage 0..100" : "a weight >= 0") + ")";
        return false;
      }
      (*this)[k] = v;
    }
    return true;
  }
};

// ---- headers and routes ------------------------------------------------------------------------

struct Header {
  uint32_t src = 0, dst = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
};

/// Reads `SRC DST SPORT DPORT PROTO ...` lines (decimal); false and \p err on a malformed line.
bool readTrace(const std::string &path, std::vector<Header> &out, std::string &err) {
  std::ifstream in(path);
  if (!in) {
    err = "cannot read '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::string line;
  uint64_t lineNo = 0;
  size_t before = out.size();
  while (std::getline(in, line)) {
    ++lineNo;
    const char *p = line.c_str();
    while (*p == ' ' || *p == '\t' || *p == '\r') ++p;
    if (!*p || *p == '#') continue;
    uint64_t v[5];
    static const uint64_t kMax[5] = {0xffffffffu, 0xffffffffu, 0xffff, 0xffff, 0xff};
    static const char *kName[5] = {"source address", "destination address", "source port", "destination port",
                                   "protocol"};
    for (int i = 0; i < 5; ++i) {
      while (*p == ' ' || *p == '\t') ++p;
      char *end = nullptr;
      errno = 0;
      v[i] = std::strtoull(p, &end, 10);
      if (end == p || *p == '-' || errno || v[i] > kMax[i] || (*end && *end != ' ' && *end != '\t' && *end != '\r')) {
        err = path + ":" + std::to_string(lineNo) + ": expected the " + kName[i] + " (a decimal number up to " +
              std::to_string(kMax[i]) + ") as field " + std::to_string(i + 1) +
              " of `SRC DST SPORT DPORT PROTO ...`";
        return false;
      }
      p = end;
    }
    out.push_back({uint32_t(v[0]), uint32_t(v[1]), uint16_t(v[2]), uint16_t(v[3]), uint8_t(v[4])});
  }
  if (in.bad()) {
    err = "cannot read '" + path + "'";
    return false;
  }
  if (out.size() == before) {
    err = "'" + path + "' holds no header";
    return false;
  }
  return true;
}

/// The route table: entries kept like `import routes ... every K`, then read by readRoutes().
class RouteTable {
public:
  bool load(const std::string &path, uint32_t every, std::string &err) {
    SourceManager sm;
    std::string reason;
    FileID id = sm.readFile(path, 256u << 20, reason);
    if (!id) {
      err = "cannot read '" + path + "': " + reason;
      return false;
    }
    if (every > 1) id = sm.addBuffer(path, sample(sm.file(id).text, every));
    DiagnosticEngine diags(sm);
    std::string format;
    if (!readRoutes(sm, id, diags, routes_, format)) {
      diags.printText(stderr, false);
      err = "'" + path + "' is not a route table metronc can import";
      return false;
    }
    for (uint32_t i = 0; i < routes_.size(); ++i) {
      const ir::Route &r = routes_[i];
      byLen_[r.len].emplace(r.prefix, i);
      if (forwarding(r)) fwd_.push_back(i);
    }
    return true;
  }
  size_t size() const { return routes_.size(); }
  size_t forwardingRoutes() const { return fwd_.size(); }

  /// Whether the longest match of \p a forwards the packet (a unicast or attached route).
  bool forwards(uint32_t a) const {
    for (int len = 32; len >= 0; --len) {
      uint32_t net = len == 0 ? 0 : a & (0xffffffffu << (32 - len));
      auto it = byLen_[len].find(net);
      if (it != byLen_[len].end()) return forwarding(routes_[it->second]);
    }
    return false;
  }
  /// A destination whose longest match forwards; false when none was found.
  bool hit(Rng &rng, uint32_t &a) const {
    if (fwd_.empty()) return false;
    for (int tries = 0; tries < 16; ++tries) {
      const ir::Route &r = routes_[fwd_[rng.below(fwd_.size())]];
      uint32_t host = r.len == 32 ? 0 : (0xffffffffu >> r.len);
      a = r.prefix | (uint32_t(rng.next()) & host);
      if (forwards(a)) return true;
    }
    return false;
  }
  /// A destination just outside a random prefix (or, failing that, anywhere) that no route
  /// forwards; false when none was found.
  bool miss(Rng &rng, uint32_t &a) const {
    for (int tries = 0; tries < 32 && !routes_.empty(); ++tries) {
      const ir::Route &r = routes_[rng.below(routes_.size())];
      if (r.len == 0) continue;
      uint64_t size = 1ull << (32 - r.len);
      uint64_t c = rng.below(2) ? uint64_t(r.prefix) + size : uint64_t(r.prefix) - 1;
      if (c > 0xffffffffull) continue; // wrapped
      a = uint32_t(c);
      if (!forwards(a)) return true;
    }
    for (int tries = 0; tries < 32; ++tries) {
      a = uint32_t(rng.next());
      if (!forwards(a)) return true;
    }
    return false;
  }

private:
  static bool forwarding(const ir::Route &r) { return r.kind == ir::Route::Unicast || r.kind == ir::Route::Attached; }

  /// The same lines as Sema's `every N` sampling: entry lines 1, N+1, 2N+1... keep their
  /// text; blank lines, comments and a "Prefix" header are kept; a line starting with a blank
  /// (a Cisco ECMP continuation) goes with its entry.
  static std::string sample(const std::string &t, uint32_t every) {
    std::string out;
    bool keepEntry = false;
    uint64_t entry = 0;
    for (size_t b = 0; b < t.size();) {
      size_t e = t.find('\n', b);
      if (e == std::string::npos) e = t.size();
      size_t f = t.find_first_not_of(" \t\r", b);
      bool empty = f == std::string::npos || f >= e;
      bool comment = !empty && t[f] == '#';
      bool header = !empty && t.compare(f, 6, "Prefix") == 0;
      bool continuation = !empty && f > b;
      bool keep;
      if (empty || comment || header) keep = true;
      else if (continuation) keep = keepEntry;
      else keep = keepEntry = (entry++ % every == 0);
      if (keep) out.append(t, b, e - b);
      if (e < t.size()) out += '\n';
      b = e + 1;
    }
    return out;
  }

  std::vector<ir::Route> routes_;
  std::array<std::unordered_map<uint32_t, uint32_t>, 33> byLen_;
  std::vector<uint32_t> fwd_;
};

// ---- frames -------------------------------------------------------------------------------------

constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1;
constexpr uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10;

void wr16(uint8_t *p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
void wr32(uint8_t *p, uint32_t v) {
  wr16(p, uint16_t(v >> 16));
  wr16(p + 2, uint16_t(v));
}
void wr48(uint8_t *p, uint64_t v) {
  wr16(p, uint16_t(v >> 32));
  wr32(p + 2, uint32_t(v));
}
void wr64(uint8_t *p, uint64_t v) {
  wr32(p, uint32_t(v >> 32));
  wr32(p + 4, uint32_t(v));
}

/// One's-complement sum of big-endian 16-bit words (a last odd byte is padded with zero).
uint64_t sum16(const uint8_t *p, size_t n, uint64_t s = 0) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t w;
    std::memcpy(&w, p + i, 4);
    w = __builtin_bswap32(w);
    s += (w >> 16) + (w & 0xffff);
  }
  for (; i + 2 <= n; i += 2) s += uint32_t(p[i] << 8 | p[i + 1]);
  if (i < n) s += uint32_t(p[i]) << 8;
  return s;
}
uint16_t fold(uint64_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return uint16_t(s);
}

/// Everything one frame needs. Sizes are of the untagged frame; a tag adds 4 bytes.
struct FrameSpec {
  enum Kind : uint8_t { IPv4, Arp, IPv6 } kind = IPv4;
  uint64_t srcMac = 0, dstMac = 0;
  uint16_t tci = 0;
  bool vlan = false;
  uint32_t src = 0, dst = 0;
  uint8_t proto = 0, ttl = 64, dscp = 0;
  uint16_t ipId = 0;
  uint16_t fragOff = 0; ///< in 8-byte units; non-zero makes a non-first fragment (no L4 header)
  bool mf = false;
  uint16_t sport = 0, dport = 0;
  uint8_t tcpFlags = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t icmpType = 8, icmpCode = 0;
  uint16_t icmpId = 0, icmpSeq = 0;
  bool arpReply = false;
  uint8_t v6Next = kUdp;
  std::array<uint8_t, 16> src6{}, dst6{};
  size_t size = 60; ///< untagged frame length; raised to fit the headers and 8 payload bytes
  uint64_t record = 0, flow = 0, flowPacket = 0;
};

/// Length of the headers before the payload, untagged.
size_t headerLen(const FrameSpec &s) {
  switch (s.kind) {
  case FrameSpec::Arp: return 14 + 28;
  case FrameSpec::IPv6: return 14 + 40 + (s.v6Next == kTcp ? 20 : 8);
  case FrameSpec::IPv4: break;
  }
  size_t l4 = 0;
  if (s.fragOff == 0) l4 = s.proto == kTcp ? 20 : s.proto == kUdp ? 8 : s.proto == kIcmp ? 8 : 0;
  return 14 + 20 + l4;
}

/// Fills the payload: the record number, the flow and its packet number, then filler.
void fillPayload(uint8_t *p, size_t n, const FrameSpec &s, const std::vector<uint8_t> &filler) {
  uint8_t head[16];
  wr64(head, s.record);
  wr32(head + 8, uint32_t(s.flow));
  wr32(head + 12, uint32_t(s.flowPacket));
  size_t h = std::min(n, sizeof head);
  std::memcpy(p, head, h);
  if (n > h) {
    size_t from = size_t(s.record * 131 % 1024);
    std::memcpy(p + h, filler.data() + from, n - h); // filler holds 1024 + 1514 bytes
  }
}

/// Writes the frame of \p s into \p f.
void buildFrame(const FrameSpec &s, const std::vector<uint8_t> &filler, std::vector<uint8_t> &f) {
  const size_t tag = s.vlan ? 4 : 0;
  const size_t hdr = headerLen(s);
  const size_t size = std::max({s.size, hdr + 8, size_t(60)}) + tag;
  f.assign(size, 0);
  uint8_t *b = f.data();
  wr48(b, s.dstMac);
  wr48(b + 6, s.srcMac);
  size_t l3 = 14 + tag;
  if (s.vlan) {
    wr16(b + 12, 0x8100);
    wr16(b + 14, s.tci);
  }
  const uint16_t type = s.kind == FrameSpec::Arp ? 0x0806 : s.kind == FrameSpec::IPv6 ? 0x86dd : 0x0800;
  wr16(b + l3 - 2, type);
  uint8_t *n = b + l3;

  if (s.kind == FrameSpec::Arp) {
    wr16(n, 1);
    wr16(n + 2, 0x0800);
    n[4] = 6;
    n[5] = 4;
    wr16(n + 6, s.arpReply ? 2 : 1);
    wr48(n + 8, s.srcMac);
    wr32(n + 14, s.src);
    wr48(n + 18, s.arpReply ? s.dstMac : 0);
    wr32(n + 24, s.dst);
    fillPayload(n + 28, size - l3 - 28, s, filler);
    return;
  }

  if (s.kind == FrameSpec::IPv6) {
    const size_t l4len = s.v6Next == kTcp ? 20 : 8;
    const size_t plen = size - l3 - 40; // L4 header and payload
    wr32(n, 0x60000000u | uint32_t(s.dscp) << 22 | (uint32_t(s.flow) & 0xfffff));
    wr16(n + 4, uint16_t(plen));
    n[6] = s.v6Next;
    n[7] = s.ttl;
    std::memcpy(n + 8, s.src6.data(), 16);
    std::memcpy(n + 24, s.dst6.data(), 16);
    uint8_t *t = n + 40;
    wr16(t, s.sport);
    wr16(t + 2, s.dport);
    fillPayload(t + l4len, plen - l4len, s, filler);
    uint64_t pseudo = sum16(n + 8, 32) + plen + s.v6Next;
    if (s.v6Next == kTcp) {
      wr32(t + 4, s.seq);
      wr32(t + 8, s.ack);
      t[12] = 5 << 4;
      t[13] = s.tcpFlags;
      wr16(t + 14, 0xffff);
      wr16(t + 16, uint16_t(~fold(sum16(t, plen, pseudo))));
    } else {
      wr16(t + 4, uint16_t(plen));
      uint16_t c = uint16_t(~fold(sum16(t, plen, pseudo)));
      wr16(t + 6, c == 0 ? 0xffff : c);
    }
    return;
  }

  // IPv4.
  const size_t total = size - l3; // no Ethernet padding: the datagram fills the frame
  const size_t l4len = hdr - 14 - 20;
  n[0] = 0x45;
  n[1] = uint8_t(s.dscp << 2);
  wr16(n + 2, uint16_t(total));
  wr16(n + 4, s.ipId);
  wr16(n + 6, uint16_t((s.fragOff == 0 && s.proto == kTcp ? 0x4000 : 0) | (s.mf ? 0x2000 : 0) | (s.fragOff & 0x1fff)));
  n[8] = s.ttl;
  n[9] = s.proto;
  wr32(n + 12, s.src);
  wr32(n + 16, s.dst);
  wr16(n + 10, uint16_t(~fold(sum16(n, 20))));
  uint8_t *t = n + 20;
  const size_t l4total = total - 20;
  fillPayload(t + l4len, l4total - l4len, s, filler);
  if (s.fragOff != 0 || l4len == 0) return;
  uint64_t pseudo = sum16(n + 12, 8) + s.proto + l4total;
  if (s.proto == kTcp) {
    wr16(t, s.sport);
    wr16(t + 2, s.dport);
    wr32(t + 4, s.seq);
    wr32(t + 8, s.ack);
    t[12] = 5 << 4;
    t[13] = s.tcpFlags;
    wr16(t + 14, 0xffff);
    wr16(t + 16, uint16_t(~fold(sum16(t, l4total, pseudo))));
  } else if (s.proto == kUdp) {
    wr16(t, s.sport);
    wr16(t + 2, s.dport);
    wr16(t + 4, uint16_t(l4total));
    uint16_t c = uint16_t(~fold(sum16(t, l4total, pseudo)));
    wr16(t + 6, c == 0 ? 0xffff : c);
  } else { // ICMP: echo (id, sequence) or an error (unused word)
    t[0] = s.icmpType;
    t[1] = s.icmpCode;
    if (s.icmpType == 0 || s.icmpType == 8) {
      wr16(t + 4, s.icmpId);
      wr16(t + 6, s.icmpSeq);
    }
    wr16(t + 2, uint16_t(~fold(sum16(t, l4total))));
  }
}

/// Whether the packet model reads back what the frame was built with; "" or what differs.
std::string misparsed(const FrameSpec &s, const pkt::Packet &p) {
  using F = ir::FieldId;
  auto field = [&](F f, uint64_t want) -> std::string {
    if (p.get(f) == want) return "";
    return std::string(ir::fieldInfo(f).name) + " reads " + std::to_string(p.get(f)) + ", built " + std::to_string(want);
  };
  std::string e = field(F::EthSrc, s.srcMac) + field(F::EthDst, s.dstMac) + field(F::VlanId, s.vlan ? s.tci & 0xfff : 0) +
                  field(F::VlanPcp, s.vlan ? s.tci >> 13 : 0);
  if (s.kind != FrameSpec::IPv4) return e + field(F::EthType, s.kind == FrameSpec::Arp ? 0x0806 : 0x86dd) + field(F::IpProto, 0);
  e += field(F::EthType, 0x0800);
  const bool ports = s.fragOff == 0 && (s.proto == kTcp || s.proto == kUdp);
  e += field(F::IpSrc, s.src) + field(F::IpDst, s.dst) + field(F::IpProto, s.proto) + field(F::IpTtl, s.ttl) +
       field(F::IpDscp, s.dscp) + field(F::TpSrc, ports ? s.sport : 0) + field(F::TpDst, ports ? s.dport : 0) +
       field(F::TcpFlags, s.fragOff == 0 && s.proto == kTcp ? s.tcpFlags : 0);
  if (s.fragOff == 0 && s.proto == kIcmp) e += field(F::IcmpType, s.icmpType) + field(F::IcmpCode, s.icmpCode);
  if (p.layout().fragment != (s.fragOff != 0)) e += "fragment flag";
  // The model's ICMP payload starts after type, code and checksum: ours after the echo header.
  const size_t at = s.fragOff == 0 && s.proto == kIcmp ? 4 : 0;
  uint64_t rec = 0;
  for (size_t k = 0; k < 8 && p.payloadLen() >= at + 8; ++k) rec = rec << 8 | p.payload()[at + k];
  if (p.payloadLen() < at + 8 || rec != s.record) e += "record number not at the payload's start";
  return e;
}

// ---- flows --------------------------------------------------------------------------------------

struct Flow {
  Header h;
  uint32_t id = 0;
  uint32_t total = 1, sent = 0;
  uint32_t pauseAt = 0; ///< stop after this many packets (0: never)
  bool handshake = true, rstEnd = false, icmpError = false;
  bool vlan = false;
  uint16_t tci = 0;
  uint8_t ttl = 64, dscp = 0;
  uint8_t icmpType = 3, icmpCode = 3;
  uint64_t mac = 0;
  uint16_t ipId = 0;
  uint32_t seqFwd = 0, seqRev = 0;
};

struct Options {
  std::string out;
  uint64_t packets = 0;
  uint64_t seed = 1;
  std::vector<std::string> traces;
  std::string routes;
  uint32_t every = 1;
  std::string mix;
  double rate = 10000;
  double flowLen = 8;
  uint32_t active = 256;
  double idle = 75;
  uint64_t start = 1700000000;
};

enum class Source : uint8_t { Cb, Route, Miss, Random };

struct Stats {
  uint64_t packets = 0, bytes = 0, flows = 0;
  uint64_t tcp = 0, udp = 0, icmp = 0, other = 0, arp = 0, ipv6 = 0, frag = 0, vlan = 0, lowttl = 0;
  uint64_t src[4] = {}; ///< flows by Source
  uint64_t missFallback = 0; ///< route flows that wanted a miss or hit and got a random address
};

class Generator {
public:
  Generator(const Options &o, Mix &mix, std::vector<Header> cb, const RouteTable *routes)
      : o_(o), mix_(mix), rng_(o.seed), cb_(std::move(cb)), routes_(routes) {
    Rng f(o.seed ^ 0x5eed);
    filler_.resize(1024 + 1514);
    for (auto &c : filler_) c = uint8_t(f.range(0x20, 0x7e)); // printable, like text payloads
    wSrc_[0] = cb_.empty() ? 0 : mix["cb"];
    wSrc_[1] = routes_ ? mix["route"] : 0;
    wSrc_[2] = mix["random"];
    wProto_[0] = mix["tcp"];
    wProto_[1] = mix["udp"];
    wProto_[2] = mix["icmp"];
    wProto_[3] = mix["other"];
    cbOrder_.resize(cb_.size());
    for (size_t i = 0; i < cbOrder_.size(); ++i) cbOrder_[i] = uint32_t(i);
  }

  bool run(pkt::PcapWriter &w, std::string &err) {
    std::vector<uint8_t> frame;
    const double periodNs = 1e9 / o_.rate;
    const uint64_t startNs = o_.start * 1000000000ull;
    for (uint64_t i = 0; i < o_.packets; ++i) {
      uint64_t now = startNs + uint64_t(double(i) * periodNs) + uint64_t(rng_.unit() * periodNs * 0.5);
      while (!parked_.empty() && parked_.top().first <= now) {
        active_.push_back(parked_.top().second);
        parked_.pop();
      }
      FrameSpec s;
      s.record = i;
      double u = rng_.unit() * 100;
      if (u < mix_["arp"]) nonIp(s, FrameSpec::Arp);
      else if (u < mix_["arp"] + mix_["ipv6"]) nonIp(s, FrameSpec::IPv6);
      else flowPacket(s, now);
      buildFrame(s, filler_, frame);
      pkt::Packet p(frame.data(), frame.size(), now);
      std::string why;
      if (!pkt::checksumsValid(p, &why)) {
        err = "internal error: record " + std::to_string(i + 1) + " was built with a wrong checksum: " + why;
        return false;
      }
      if (std::string m = misparsed(s, p); !m.empty()) {
        err = "internal error: record " + std::to_string(i + 1) + " does not parse as built: " + m;
        return false;
      }
      if (!w.write(p)) {
        err = "cannot write record " + std::to_string(i + 1) + " to '" + o_.out + ".tmp'";
        return false;
      }
      count(s, p);
    }
    return true;
  }

  const Stats &stats() const { return st_; }
  double durationSec() const { return o_.packets ? double(o_.packets) / o_.rate : 0; }

private:
  void count(const FrameSpec &s, const pkt::Packet &p) {
    ++st_.packets;
    st_.bytes += p.frame().size();
    if (s.vlan) ++st_.vlan;
    if (s.kind == FrameSpec::Arp) ++st_.arp;
    else if (s.kind == FrameSpec::IPv6) ++st_.ipv6;
    else {
      if (s.proto == kTcp) ++st_.tcp;
      else if (s.proto == kUdp) ++st_.udp;
      else if (s.proto == kIcmp) ++st_.icmp;
      else ++st_.other;
      if (s.fragOff) ++st_.frag;
      if (s.ttl <= 2) ++st_.lowttl;
    }
  }

  /// A client address: private ranges mostly, some public.
  uint32_t clientAddr() {
    uint64_t r = rng_.below(10);
    if (r < 5) return 0x0a000000u | uint32_t(rng_.below(1u << 24));
    if (r < 7) return 0xc0a80000u | uint32_t(rng_.below(1u << 16));
    return uint32_t(rng_.next());
  }
  uint16_t servicePort() {
    static const uint16_t kPorts[] = {80, 443, 443, 80, 53, 22, 25, 123, 8080, 3306, 5060, 161, 993, 1194, 3389};
    if (rng_.chance(20)) return uint16_t(rng_.range(1, 65535));
    return kPorts[rng_.below(std::size(kPorts))];
  }
  uint8_t drawProto() {
    static const uint8_t kOther[] = {47, 50, 89, 132, 0, 255};
    size_t k = pick(wProto_, 4);
    if (k == 0) return kTcp;
    if (k == 1) return kUdp;
    if (k == 2) return kIcmp;
    return kOther[rng_.below(std::size(kOther))];
  }
  /// An index drawn by weights (the last one when all are zero).
  size_t pick(const double *w, size_t n) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) total += w[i];
    if (total <= 0) return n - 1;
    double u = rng_.unit() * total;
    for (size_t i = 0; i < n; ++i) {
      if (u < w[i]) return i;
      u -= w[i];
    }
    return n - 1;
  }

  const Header &nextCb() {
    if (cbNext_ == cbOrder_.size()) { // a new pass, shuffled
      for (size_t i = cbOrder_.size(); i > 1; --i) std::swap(cbOrder_[i - 1], cbOrder_[rng_.below(i)]);
      cbNext_ = 0;
    }
    return cb_[cbOrder_[cbNext_++]];
  }

  uint32_t flowLength() {
    // Geometric around mean/1.42 for 97% of flows, elephants of 5-25x the mean for 3%: the
    // mixture's mean is about --flow-len.
    if (rng_.chance(3)) return uint32_t(rng_.range(uint64_t(5 * o_.flowLen), uint64_t(25 * o_.flowLen) + 1));
    double m = std::max(1.0, o_.flowLen / 1.42);
    if (m <= 1.0) return 1;
    double p = 1.0 / m;
    double u = std::max(rng_.unit(), 1e-12);
    return 1 + uint32_t(std::min(1e6, std::floor(std::log(u) / std::log(1 - p))));
  }

  uint32_t newFlow() {
    Flow f;
    f.id = uint32_t(flows_.size());
    size_t k = pick(wSrc_, 3);
    Source src = Source::Random;
    if (k == 0) {
      f.h = nextCb();
      src = Source::Cb;
    } else {
      f.h.proto = drawProto();
      f.h.sport = uint16_t(rng_.range(1024, 65535));
      f.h.dport = servicePort();
      if (k == 1) {
        f.h.src = clientAddr();
        bool wantMiss = rng_.chance(mix_["miss"]);
        bool ok = wantMiss ? routes_->miss(rng_, f.h.dst) : routes_->hit(rng_, f.h.dst);
        if (!ok) {
          f.h.dst = uint32_t(rng_.next());
          ++st_.missFallback;
        }
        src = wantMiss ? Source::Miss : Source::Route;
      } else {
        f.h.src = uint32_t(rng_.next());
        f.h.dst = uint32_t(rng_.next());
        if (rng_.chance(30)) f.h.sport = uint16_t(rng_.range(0, 1023));
      }
    }
    ++st_.src[size_t(src)];
    ++st_.flows;
    f.total = flowLength();
    if (f.h.proto == kTcp) {
      f.handshake = !rng_.chance(mix_["midstream"]);
      f.rstEnd = rng_.chance(mix_["rst"]);
    }
    if (f.h.proto == kIcmp && rng_.chance(15)) {
      static const uint8_t kErr[][2] = {{3, 0}, {3, 1}, {3, 3}, {3, 4}, {3, 13}, {11, 0}};
      const auto &e = kErr[rng_.below(std::size(kErr))];
      f.icmpError = true;
      f.icmpType = e[0];
      f.icmpCode = e[1];
      f.total = 1;
    }
    if (f.total >= 2 && rng_.chance(mix_["pause"])) f.pauseAt = uint32_t(rng_.range(1, f.total - 1));
    if (rng_.chance(mix_["vlan"])) {
      static const uint16_t kVlans[] = {10, 20, 30, 100, 101, 200, 4094};
      uint16_t vid = rng_.chance(70) ? kVlans[rng_.below(std::size(kVlans))] : uint16_t(rng_.range(1, 4094));
      f.vlan = true;
      f.tci = uint16_t(rng_.below(8) << 13 | vid);
    }
    static const uint8_t kTtl[] = {64, 64, 64, 128, 128, 255, 32};
    f.ttl = kTtl[rng_.below(std::size(kTtl))];
    if (rng_.chance(20)) {
      static const uint8_t kDscp[] = {8, 10, 18, 26, 34, 46};
      f.dscp = kDscp[rng_.below(std::size(kDscp))];
    }
    f.mac = 0x020000000000ull | (uint64_t(f.id) * 0x9e3779b1u & 0xffffffffull);
    f.ipId = uint16_t(rng_.next());
    f.seqFwd = uint32_t(rng_.next());
    f.seqRev = uint32_t(rng_.next());
    flows_.push_back(f);
    return f.id;
  }

  size_t dataSize() {
    uint64_t r = rng_.below(100);
    if (r < 35) return 60;                             // minimal (raised to fit the headers)
    if (r < 50) return 1514;                           // full-size
    if (r < 58) return 590;                            // 576-byte datagrams
    return size_t(rng_.range(60, 1514));
  }

  void flowPacket(FrameSpec &s, uint64_t now) {
    while (active_.size() < o_.active) active_.push_back(newFlow());
    size_t j = rng_.below(active_.size());
    Flow &f = flows_[active_[j]];
    const uint32_t n = f.sent++;
    const bool last = f.sent == f.total;
    if (last) {
      active_[j] = active_.back();
      active_.pop_back();
    } else if (f.pauseAt && f.sent == f.pauseAt) {
      parked_.push({now + uint64_t(o_.idle * (0.9 + 0.6 * rng_.unit()) * 1e9), f.id});
      active_[j] = active_.back();
      active_.pop_back();
    }

    s.kind = FrameSpec::IPv4;
    s.flow = f.id;
    s.flowPacket = n;
    s.vlan = f.vlan;
    s.tci = f.tci;
    s.proto = f.h.proto;
    s.dscp = f.dscp;
    s.ttl = rng_.chance(mix_["lowttl"]) ? uint8_t(rng_.below(3)) : f.ttl;
    s.ipId = f.ipId++;
    bool control = false, rev = false;
    if (f.h.proto == kTcp) {
      if (f.handshake && n == 0) s.tcpFlags = SYN, control = true;
      else if (f.handshake && n == 1) s.tcpFlags = SYN | ACK, control = rev = true;
      else if (f.handshake && n == 2) s.tcpFlags = ACK, control = true;
      else if (last && f.total >= 4) s.tcpFlags = f.rstEnd ? (rng_.below(2) ? RST : RST | ACK) : FIN | ACK, control = true;
      else {
        rev = rng_.chance(mix_["rev"]);
        s.tcpFlags = rng_.chance(mix_["oddflags"]) ? uint8_t(rng_.next()) : rng_.below(3) ? (PSH | ACK) : ACK;
      }
    } else if (f.h.proto == kUdp || (f.h.proto == kIcmp && !f.icmpError)) {
      rev = n > 0 && rng_.chance(mix_["rev"]);
    }
    s.size = control ? 0 : dataSize();
    if (!control && rng_.chance(mix_["frag"])) {
      s.fragOff = uint16_t(rng_.range(1, 185));
      s.mf = rng_.below(2);
    }
    s.src = rev ? f.h.dst : f.h.src;
    s.dst = rev ? f.h.src : f.h.dst;
    s.sport = rev ? f.h.dport : f.h.sport;
    s.dport = rev ? f.h.sport : f.h.dport;
    s.srcMac = rev ? 0x0200000000feull : f.mac;
    s.dstMac = rev ? f.mac : 0x0200000000feull;
    if (f.h.proto == kTcp) {
      uint32_t &mine = rev ? f.seqRev : f.seqFwd, &theirs = rev ? f.seqFwd : f.seqRev;
      s.seq = mine;
      s.ack = (s.tcpFlags & ACK) ? theirs : 0;
      size_t payload = std::max(s.size, headerLen(s) + 8) - headerLen(s);
      mine += uint32_t(payload) + ((s.tcpFlags & (SYN | FIN)) ? 1 : 0);
    } else if (f.h.proto == kIcmp) {
      s.icmpType = f.icmpError ? f.icmpType : rev ? 0 : 8;
      s.icmpCode = f.icmpError ? f.icmpCode : 0;
      s.icmpId = uint16_t(f.id);
      s.icmpSeq = uint16_t(n);
    }
  }

  void nonIp(FrameSpec &s, FrameSpec::Kind kind) {
    s.kind = kind;
    s.flow = 0xffffffffu;
    s.srcMac = 0x020000000000ull | (rng_.next() & 0xffffffffull);
    s.vlan = rng_.chance(mix_["vlan"]);
    s.tci = uint16_t(rng_.range(1, 4094));
    if (kind == FrameSpec::Arp) {
      s.arpReply = rng_.below(2);
      s.dstMac = s.arpReply ? 0x0200000000feull : 0xffffffffffffull;
      s.src = clientAddr();
      s.dst = clientAddr();
      s.size = 60;
      return;
    }
    s.dstMac = 0x0200000000feull;
    s.v6Next = rng_.below(2) ? kTcp : kUdp;
    s.tcpFlags = ACK;
    s.ttl = 64;
    s.sport = uint16_t(rng_.range(1024, 65535));
    s.dport = servicePort();
    s.seq = uint32_t(rng_.next());
    s.ack = uint32_t(rng_.next());
    for (int i = 0; i < 16; i += 8) {
      wr64(s.src6.data() + i, rng_.next());
      wr64(s.dst6.data() + i, rng_.next());
    }
    wr32(s.src6.data(), 0x20010db8); // documentation prefix
    s.size = dataSize();
  }

  const Options &o_;
  Mix &mix_;
  Rng rng_;
  std::vector<Header> cb_;
  std::vector<uint32_t> cbOrder_;
  size_t cbNext_ = 0;
  const RouteTable *routes_;
  double wSrc_[3] = {}, wProto_[4] = {};
  std::vector<uint8_t> filler_;
  std::vector<Flow> flows_;
  std::vector<uint32_t> active_;
  std::priority_queue<std::pair<uint64_t, uint32_t>, std::vector<std::pair<uint64_t, uint32_t>>, std::greater<>>
      parked_;
  Stats st_;
};

std::string pct(uint64_t n, uint64_t of) {
  char b[32];
  snprintf(b, sizeof b, "%.1f%%", of ? 100.0 * double(n) / double(of) : 0.0);
  return b;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  Mix mix;
  CLI::App app{"metron-mkpcap: builds a test capture of interleaved flows from ClassBench header traces, a route "
               "table and random headers (Ethernet/IPv4 TCP, UDP, ICMP, other; ARP, IPv6; VLAN; fragments; low TTLs), "
               "with correct checksums and a record number in every payload. Exit 0, 1 on I/O errors, 2 on usage "
               "errors."};
  app.add_option("--out", o.out, "The capture to write (pcap, nanosecond timestamps)")->required();
  app.add_option("--packets", o.packets, "Number of packets")->required();
  app.add_option("--seed", o.seed, "Random seed: the same options and seed give the same capture")->capture_default_str();
  app.add_option("--classbench", o.traces, "A ClassBench header trace (SRC DST SPORT DPORT PROTO ..., decimal); may repeat")
      ->allow_extra_args(false);
  app.add_option("--routes", o.routes, "A route table (as for `import routes`): destinations inside and just outside its prefixes");
  app.add_option("--every", o.every, "Keep route entries 1, K+1, 2K+1... (like `import routes ... every K`)")
      ->check(CLI::Range(1u, 1u << 30))
      ->capture_default_str();
  std::string mixHelp = "Shares, as KEY=VALUE,...:";
  for (auto &e : mix.entries) {
    char b[32];
    snprintf(b, sizeof b, "%g", e.value);
    mixHelp += std::string("\n  ") + e.key + " " + e.what + (e.value >= 0 ? std::string(" [") + b + "]" : "");
  }
  app.add_option("--mix", o.mix, mixHelp);
  app.add_option("--rate", o.rate, "Packets per second (timestamps)")->check(CLI::Range(0.001, 1e10))->capture_default_str();
  app.add_option("--flow-len", o.flowLen, "Mean packets per flow")->check(CLI::Range(1.0, 100000.0))->capture_default_str();
  app.add_option("--active", o.active, "Flows open at a time (interleaved)")->check(CLI::Range(1u, 10000000u))->capture_default_str();
  app.add_option("--idle", o.idle, "Seconds a pausing flow stays idle (about; mix key `pause`)")
      ->check(CLI::Range(0.0, 1e7))
      ->capture_default_str();
  app.add_option("--start", o.start, "Timestamp of the first packet, in seconds since 1970")
      ->check(CLI::Range(uint64_t(0), uint64_t(1) << 33))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int rc = app.exit(e);
    return e.get_exit_code() == 0 ? rc : 2;
  }
  auto usage = [](const std::string &msg) {
    fprintf(stderr, "metron-mkpcap: error: %s\n", msg.c_str());
    return 2;
  };
  std::string err;
  if (!mix.parse(o.mix, err)) return usage(err);
  if (o.every > 1 && o.routes.empty()) return usage("--every needs --routes");
  bool haveCb = !o.traces.empty(), haveRoutes = !o.routes.empty();
  if (mix["cb"] < 0) mix["cb"] = haveCb ? (haveRoutes ? 45 : 90) : 0;
  if (mix["route"] < 0) mix["route"] = haveRoutes ? (haveCb ? 45 : 90) : 0;
  if (mix["random"] < 0) mix["random"] = (haveCb || haveRoutes) ? 10 : 100;
  if (mix["cb"] > 0 && !haveCb) return usage("--mix cb=" + std::to_string(mix["cb"]) + " needs --classbench");
  if (mix["route"] > 0 && !haveRoutes) return usage("--mix route=... needs --routes");
  if (mix["cb"] + mix["route"] + mix["random"] <= 0) return usage("--mix: the flow sources cb, route, random are all 0");
  if (mix["tcp"] + mix["udp"] + mix["icmp"] + mix["other"] <= 0) return usage("--mix: tcp, udp, icmp, other are all 0");
  if (mix["arp"] + mix["ipv6"] > 100) return usage("--mix: arp + ipv6 exceed 100%");

  std::vector<Header> cb;
  for (const auto &t : o.traces)
    if (!readTrace(t, cb, err)) return usage(err);
  RouteTable routes;
  if (haveRoutes) {
    if (!routes.load(o.routes, o.every, err)) return usage(err);
    if (routes.forwardingRoutes() == 0)
      fprintf(stderr, "metron-mkpcap: warning: no route of '%s' forwards (unicast or attached): every route flow misses\n",
              o.routes.c_str());
  }

  auto w = pkt::PcapWriter::create(o.out, err);
  if (!w) {
    fprintf(stderr, "metron-mkpcap: error: %s\n", err.c_str());
    return 1;
  }
  Generator g(o, mix, std::move(cb), haveRoutes ? &routes : nullptr);
  if (!g.run(*w, err) || !w->commit(err)) {
    fprintf(stderr, "metron-mkpcap: error: %s\n", err.c_str());
    return 1;
  }
  const Stats &s = g.stats();
  uint64_t v4 = s.tcp + s.udp + s.icmp + s.other;
  printf("metron-mkpcap: %s: %" PRIu64 " packets, %" PRIu64 " flows, %" PRIu64 " bytes, %.1f s; tcp %s udp %s icmp %s "
         "other %s arp %s ipv6 %s; vlan %s, fragments %s, ttl<=2 %s of IPv4; flows: cb %" PRIu64 ", route hit %" PRIu64
         ", route miss %" PRIu64 ", random %" PRIu64 "%s\n",
         o.out.c_str(), s.packets, s.flows, s.bytes, g.durationSec(), pct(s.tcp, s.packets).c_str(),
         pct(s.udp, s.packets).c_str(), pct(s.icmp, s.packets).c_str(), pct(s.other, s.packets).c_str(),
         pct(s.arp, s.packets).c_str(), pct(s.ipv6, s.packets).c_str(), pct(s.vlan, s.packets).c_str(),
         pct(s.frag, v4).c_str(), pct(s.lowttl, v4).c_str(), s.src[size_t(Source::Cb)], s.src[size_t(Source::Route)],
         s.src[size_t(Source::Miss)], s.src[size_t(Source::Random)],
         s.missFallback ? (" (" + std::to_string(s.missFallback) + " route flows got a random destination)").c_str() : "");
  return 0;
}
