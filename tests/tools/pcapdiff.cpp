//===- tests/tools/pcapdiff.cpp - Compare captures, exactly or per input packet with renaming -===//
///
/// metron-pcapdiff compares what two runs of a chain emitted (the compiled data plane and the
/// reference interpreter: `metronc run` vs `metronc run --reference`).
///
///   metron-pcapdiff [--timestamps] [--show N] A.pcap B.pcap
///     Exact: the same number of records and, record by record, the same frame bytes and the
///     same original length (timestamps too with --timestamps). Exit 0 and "N records
///     identical"; exit 1 with the first differences: record number (1-based), lengths, the
///     packet-model fields that differ (values in A and in B), wrong checksums, the first
///     differing byte offset and the header byte it falls in, and a guess at what happened
///     (a record missing, one extra, two swapped).
///
///   metron-pcapdiff --input IN.pcap --index A.pcap A.pcap.idx B.pcap B.pcap.idx
///                   [--rename FIELD]... [--rename-injective FIELD]... [--strict-flows] [--show N]
///                   (both modes: [--captured-only]: original lengths not compared;
///                   [--snaplen N]: only the first N bytes of each frame compared)
///     Per input packet: A.pcap.idx holds, for each record of A.pcap, the 0-based index of the
///     input record that produced it (little-endian uint64; `metronc run --index`); likewise
///     for B. The order of records in A and B does not matter (multi-core runs interleave):
///     records are matched by input index. For every input:
///      - the outcome agrees: emitted in A iff emitted in B (absent = dropped, or sent to
///        another egress port: run once per egress port), and the same number of times;
///      - the emitted frames are equal except in the --rename fields and the checksums those
///        fields enter (both frames are compared with the renamed fields set to 0 through
///        Packet::set, which updates checksums incrementally, so a wrong checksum is still
///        seen);
///      - renamed values are consistent per flow, the flow being the input packet's 5-tuple
///        (ip.proto, ip.src, ip.dst, tp.src, tp.dst; frames that are not IPv4 form one flow of
///        zeros): walking a flow's packets in input order, the renamed values (all of them
///        together) change in A exactly where they change in B. When A shows one value per
///        flow, B must too; when A changes (a NAPT mapping that expired after an idle timeout
///        and was allocated again), B must change at the same packet;
///      - --rename-injective fields (also renamed) are injective across flows, as one tuple
///        when several are given: two flows may not carry one tuple in B and different tuples
///        in A while both are live, a flow being live with a tuple from the first to the last
///        input that carries it (NAPT ports: `--rename-injective tp.src`; a port that B frees
///        and gives to another flow later is fine).
///     --strict-flows instead requires one value per flow in A and one in B, and injectivity
///     over the whole capture regardless of time: for captures that cross no idle timeout.
///     Exit 0 when everything agrees; exit 1 with the counts and the first differing inputs.
///
/// Exit 2 on usage errors and bad files: a pcap that libpcap or the reader rejects (truncated,
/// corrupt), an idx whose size is not 8 times the number of records of its capture, an idx
/// entry beyond the input's records. Input indices count the records PcapReader returns (a
/// zero-length record, which carries no packet, is skipped and not counted).
//===----------------------------------------------------------------------------------------===//
#include "runtime/packet/Pcap.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>

using namespace metron;
using pkt::Packet;
using ir::FieldId;

namespace {

constexpr uint32_t kNone = UINT32_MAX;

/// Exit 2 with a message.
struct BadInput {
  std::string msg;
};

[[noreturn]] void bad(std::string msg) { throw BadInput{std::move(msg)}; }

// ---- hashing -----------------------------------------------------------------------------------

/// A 64-bit hash of a frame and its original length. Each step is a bijection of the state for
/// a fixed word, so frames that differ in one 8-byte word never collide; other collisions have
/// odds of about 2^-64.
/// --captured-only: a record's original (wire) length is not compared, only its bytes. A DPDK
/// port transmits what the mbuf holds, so a frame cut by the input's snap length leaves the
/// data plane with its captured length as its wire length, where the reference keeps the
/// original (metronc-run(1), BUGS).
bool gCapturedOnly = false;

/// --snaplen N: only the first N bytes of each frame are compared (and, beyond them, neither
/// lengths nor checksums), as if both captures had been taken with that snap length. net_pcap
/// writes at most 16,128 bytes of a frame (RTE_ETHER_MAX_JUMBO_FRAME_LEN).
uint32_t gSnaplen = 0;

/// The record's wire length as compared.
uint32_t wireOf(const Packet &p) { return gCapturedOnly || gSnaplen ? uint32_t(p.frame().size()) : p.wireLen; }

/// Cuts a frame read from A or B to --snaplen (re-parsed: fields as a cut capture shows them).
void applySnaplen(Packet &p) {
  if (!gSnaplen || p.frame().size() <= gSnaplen) return;
  Packet cut;
  cut.assign(p.frame().data(), gSnaplen, gSnaplen, p.timestampNs, p.inPort());
  p = cut;
}

uint64_t hashFrame(const std::vector<uint8_t> &f, uint32_t wireLen) {
  constexpr uint64_t K1 = 0x9e3779b97f4a7c15ull, K2 = 0xc2b2ae3d27d4eb4full;
  auto step = [&](uint64_t h, uint64_t w) {
    h ^= w * K1;
    h = (h << 29) | (h >> 35);
    return h * K2;
  };
  uint64_t h = step(0x243f6a8885a308d3ull, uint64_t(f.size()) << 32 | wireLen);
  size_t i = 0, n = f.size();
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, f.data() + i, 8);
    h = step(h, w);
  }
  if (i < n) {
    uint64_t w = 0;
    std::memcpy(&w, f.data() + i, n - i);
    h = step(h, w ^ 0xff00000000000000ull);
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

// ---- describing packets ------------------------------------------------------------------------

std::string fieldValue(FieldId f, uint64_t v) {
  const ir::FieldInfo &fi = ir::fieldInfo(f);
  if (fi.kind == ir::ValueKind::IPv4) return ir::ipv4Str(uint32_t(v));
  if (fi.kind == ir::ValueKind::Mac) return ir::macStr(v);
  char b[32];
  if (f == FieldId::EthType || f == FieldId::TcpFlags) snprintf(b, sizeof b, "0x%" PRIx64, v);
  else snprintf(b, sizeof b, "%" PRIu64, v);
  return b;
}

std::string layoutStr(const pkt::Layout &l, const Packet &p) {
  std::string s = p.frame().size() < 14 ? "runt" : "eth";
  if (l.vlan) s += "/vlan";
  if (l.ipv4) {
    s += "/ipv4";
    if (l.fragment) s += "(fragment)";
    if (l.tcp) s += "/tcp";
    else if (l.udp) s += "/udp";
    else if (l.icmp) s += "/icmp";
  } else if (p.frame().size() >= 14) {
    char b[24];
    snprintf(b, sizeof b, "(type 0x%04" PRIx64 ")", p.get(FieldId::EthType));
    s += b;
  }
  return s;
}

/// Which header byte \p off of \p p falls in: "IPv4 header byte 8 (ttl)".
std::string whereIs(const Packet &p, size_t off) {
  const pkt::Layout &l = p.layout();
  auto in = [&](const char *hdr, size_t k, std::initializer_list<std::pair<size_t, const char *>> names) {
    const char *name = nullptr;
    for (auto &[end, n] : names)
      if (k < end) {
        name = n;
        break;
      }
    return std::string(hdr) + " byte " + std::to_string(k) + (name ? std::string(" (") + name + ")" : "");
  };
  if (off >= p.frame().size()) return "past the end of A's frame";
  if (off < 14 && p.frame().size() >= 14) {
    if (off < 6) return in("Ethernet header", off, {{6, "destination"}});
    if (off < 12) return in("Ethernet header", off, {{12, "source"}});
    return in("Ethernet header", off, {{14, l.vlan ? "TPID" : "type"}});
  }
  if (l.vlan && off < 18) return in("802.1Q tag", off - 14, {{2, "TCI"}, {4, "type"}});
  if (l.ipv4 && off >= l.l3 && off < l.l3 + size_t(p.frame()[l.l3] & 0xf) * 4)
    return in("IPv4 header", off - l.l3,
              {{1, "version, IHL"}, {2, "TOS"}, {4, "total length"}, {6, "identification"}, {8, "flags, fragment offset"},
               {9, "ttl"}, {10, "protocol"}, {12, "checksum"}, {16, "source"}, {20, "destination"}, {60, "options"}});
  if (l.payload && off >= l.payload) return "payload byte " + std::to_string(off - l.payload);
  if (l.tcp && off >= l.l4)
    return in("TCP header", off - l.l4,
              {{2, "source port"}, {4, "destination port"}, {8, "sequence"}, {12, "acknowledgment"}, {13, "data offset"},
               {14, "flags"}, {16, "window"}, {18, "checksum"}, {20, "urgent pointer"}, {60, "options"}});
  if (l.udp && off >= l.l4)
    return in("UDP header", off - l.l4, {{2, "source port"}, {4, "destination port"}, {6, "length"}, {8, "checksum"}});
  if (l.icmp && off >= l.l4) return in("ICMP header", off - l.l4, {{1, "type"}, {2, "code"}, {4, "checksum"}});
  return "byte " + std::to_string(off) + " (no header of the packet model)";
}

/// Lines describing how \p b differs from \p a (fields, checksums, first differing byte).
/// \p skip: fields not to list (renamed ones, already described by the caller).
std::vector<std::string> describe(const Packet &a, const Packet &b, const std::set<FieldId> &skip = {}) {
  std::vector<std::string> out;
  const auto &fa = a.frame(), &fb = b.frame();
  if (fa.size() != fb.size() || wireOf(a) != wireOf(b)) {
    std::string s = "length: A " + std::to_string(fa.size()) + ", B " + std::to_string(fb.size());
    if (a.wireLen != fa.size() || b.wireLen != fb.size())
      s += " (on the wire: A " + std::to_string(a.wireLen) + ", B " + std::to_string(b.wireLen) + ")";
    out.push_back(s);
  }
  if (!(a.layout() == b.layout())) {
    std::string la = layoutStr(a.layout(), a), lb = layoutStr(b.layout(), b);
    if (la != lb) out.push_back("headers: A " + la + ", B " + lb);
  }
  for (const auto &fi : ir::allFields()) {
    if (fi.id == FieldId::InPort || skip.count(fi.id)) continue;
    if (a.get(fi.id) != b.get(fi.id))
      out.push_back(std::string(fi.name) + ": A " + fieldValue(fi.id, a.get(fi.id)) + ", B " +
                    fieldValue(fi.id, b.get(fi.id)));
  }
  std::string why;
  if (!pkt::checksumsValid(a, &why)) out.push_back("A has a wrong checksum: " + why);
  why.clear();
  if (!pkt::checksumsValid(b, &why)) out.push_back("B has a wrong checksum: " + why);
  size_t n = std::min(fa.size(), fb.size()), off = 0;
  while (off < n && fa[off] == fb[off]) ++off;
  if (off < n || fa.size() != fb.size()) {
    std::string s = "first differing byte: offset " + std::to_string(off);
    if (off < n) {
      char v[40];
      snprintf(v, sizeof v, " (A 0x%02x, B 0x%02x)", fa[off], fb[off]);
      s += v;
    }
    s += ", " + (off < fa.size() ? whereIs(a, off) : "A's frame ends there");
    out.push_back(s);
  }
  // metron-mkpcap puts the record number of its capture in the first 8 payload bytes: say so
  // when it differs, it tells which input packets ended up here.
  if (a.payloadLen() >= 8 && b.payloadLen() >= 8 && std::memcmp(a.payload(), b.payload(), 8) != 0) {
    auto be64 = [](const uint8_t *p) {
      uint64_t v = 0;
      for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
      return v;
    };
    out.push_back("payload[0..8) (metron-mkpcap's record number, if made by it): A " +
                  std::to_string(be64(a.payload())) + ", B " + std::to_string(be64(b.payload())));
  }
  if (out.empty()) out.push_back("frames equal");
  return out;
}

std::unique_ptr<pkt::PcapReader> openOrDie(const std::string &path) {
  std::string err;
  auto r = pkt::PcapReader::open(path, err);
  if (!r) bad(err);
  return r;
}

/// Reads the records of \p path whose 0-based numbers are in \p want.
std::map<uint64_t, Packet> fetch(const std::string &path, const std::set<uint64_t> &want) {
  std::map<uint64_t, Packet> got;
  if (want.empty()) return got;
  auto r = openOrDie(path);
  Packet p;
  for (uint64_t i = 0; r->next(p) && i <= *want.rbegin(); ++i)
    if (want.count(i)) {
      applySnaplen(p);
      got.emplace(i, p);
    }
  if (!r->error().empty()) bad(r->error());
  return got;
}

// ---- exact mode --------------------------------------------------------------------------------

struct ExactOptions {
  std::string a, b;
  bool timestamps = false;
  unsigned show = 5;
};

/// What happened around the first difference, from the record hashes: a record missing from
/// one side, extra on one side, or two records swapped.
std::string guess(const std::vector<uint64_t> &ha, const std::vector<uint64_t> &hb, size_t i) {
  auto at = [](const std::vector<uint64_t> &h, size_t k) { return k < h.size() ? h[k] : ~0ull - 1; };
  if (i + 1 < ha.size() && i + 1 < hb.size() && ha[i] == hb[i + 1] && ha[i + 1] == hb[i])
    return "records " + std::to_string(i + 1) + " and " + std::to_string(i + 2) + " are swapped in B";
  for (size_t d = 1; d <= 16; ++d) {
    if (i < ha.size() && at(hb, i + d) == ha[i])
      return "B has " + std::to_string(d) + " extra record(s) before record " + std::to_string(i + 1) +
             " of A (which is record " + std::to_string(i + 1 + d) + " of B)";
    if (i < hb.size() && at(ha, i + d) == hb[i])
      return "record(s) " + std::to_string(i + 1) + ".." + std::to_string(i + d) +
             " of A are missing from B (record " + std::to_string(i + 1 + d) + " of A is record " +
             std::to_string(i + 1) + " of B)";
  }
  return "";
}

int exact(const ExactOptions &o) {
  auto ra = openOrDie(o.a), rb = openOrDie(o.b);
  std::vector<uint64_t> ha, hb;
  struct Shown {
    uint64_t rec;
    Packet a, b;
  };
  std::vector<Shown> shown;
  uint64_t differ = 0, firstDiff = UINT64_MAX;
  Packet pa, pb;
  for (;;) {
    bool okA = ra->next(pa), okB = rb->next(pb);
    if (okA) applySnaplen(pa);
    if (okB) applySnaplen(pb);
    if (okA) ha.push_back(hashFrame(pa.frame(), wireOf(pa)));
    if (okB) hb.push_back(hashFrame(pb.frame(), wireOf(pb)));
    if (!okA && !okB) break;
    if (!okA || !okB) continue;
    bool same = pa.frame() == pb.frame() && wireOf(pa) == wireOf(pb) && (!o.timestamps || pa.timestampNs == pb.timestampNs);
    if (same) continue;
    uint64_t rec = ha.size() - 1;
    if (firstDiff == UINT64_MAX) firstDiff = rec;
    ++differ;
    if (shown.size() < o.show) shown.push_back({rec, pa, pb});
  }
  if (!ra->error().empty()) bad(ra->error());
  if (!rb->error().empty()) bad(rb->error());
  const uint64_t na = ha.size(), nb = hb.size(), common = std::min(na, nb);
  if (differ == 0 && na == nb) {
    printf("metron-pcapdiff: %" PRIu64 " records identical%s\n", na, o.timestamps ? " (timestamps included)" : "");
    return 0;
  }
  printf("metron-pcapdiff: '%s' and '%s' differ: ", o.a.c_str(), o.b.c_str());
  if (na != nb) printf("A has %" PRIu64 " records, B has %" PRIu64 "; ", na, nb);
  printf("%" PRIu64 " of the %" PRIu64 " records compared differ\n", differ, common);
  for (const auto &s : shown) {
    printf("record %" PRIu64 ": length %zu in A, %zu in B\n", s.rec + 1, s.a.frame().size(), s.b.frame().size());
    for (const auto &l : describe(s.a, s.b)) printf("  %s\n", l.c_str());
    if (o.timestamps && s.a.timestampNs != s.b.timestampNs)
      printf("  timestamp: A %" PRIu64 " ns, B %" PRIu64 " ns\n", s.a.timestampNs, s.b.timestampNs);
  }
  if (differ > shown.size()) printf("... and %" PRIu64 " more differing records\n", differ - shown.size());
  size_t at = firstDiff != UINT64_MAX ? size_t(firstDiff) : size_t(common);
  std::string g = guess(ha, hb, at);
  if (!g.empty()) printf("at the first difference: %s\n", g.c_str());
  if (na != nb && firstDiff == UINT64_MAX)
    printf("the first %" PRIu64 " records are identical; %s has %" PRIu64 " more\n", common, na > nb ? "A" : "B",
           (na > nb ? na : nb) - common);
  return 1;
}

// ---- index mode --------------------------------------------------------------------------------

struct IndexOptions {
  std::string input;
  std::vector<std::string> index; ///< A, A.idx, B, B.idx
  std::vector<std::string> rename, injective;
  bool strictFlows = false;
  unsigned show = 5;
};

/// The packet's 5-tuple, packed.
struct FlowKey {
  uint64_t addrs = 0, rest = 0; ///< src<<32|dst; proto<<32|sport<<16|dport
  bool operator==(const FlowKey &) const = default;
};
struct FlowKeyHash {
  size_t operator()(const FlowKey &k) const {
    uint64_t h = k.addrs * 0x9e3779b97f4a7c15ull ^ (k.rest + 0x632be59bd9b4e019ull) * 0xc2b2ae3d27d4eb4full;
    return size_t(h ^ (h >> 31));
  }
};

FlowKey flowKey(const Packet &p) {
  return {p.get(FieldId::IpSrc) << 32 | p.get(FieldId::IpDst),
          p.get(FieldId::IpProto) << 32 | p.get(FieldId::TpSrc) << 16 | p.get(FieldId::TpDst)};
}

std::string flowStr(const FlowKey &k) {
  uint32_t src = uint32_t(k.addrs >> 32), dst = uint32_t(k.addrs);
  unsigned proto = unsigned(k.rest >> 32), sport = unsigned(k.rest >> 16 & 0xffff), dport = unsigned(k.rest & 0xffff);
  if (k.addrs == 0 && k.rest == 0) return "the flow of zeros (frames that are not IPv4)";
  std::string p = proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 1 ? "icmp" : "proto " + std::to_string(proto);
  return p + " " + ir::ipv4Str(src) + ":" + std::to_string(sport) + " > " + ir::ipv4Str(dst) + ":" + std::to_string(dport);
}

/// One output capture with its index.
struct Side {
  std::string path, idxPath;
  struct Rec {
    uint64_t input;
    uint64_t hash; ///< of the frame with the renamed fields set to 0
  };
  std::vector<Rec> recs;
  std::vector<uint64_t> vals;    ///< K renamed values per record
  std::vector<uint32_t> first;   ///< per input: its first record, kNone when absent
  std::vector<uint8_t> count;    ///< per input: records it has (saturating)
};

std::vector<uint64_t> readIdx(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bad("cannot open '" + path + "': " + std::strerror(errno));
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) bad("cannot read '" + path + "'");
  if (bytes.size() % 8)
    bad("'" + path + "': size " + std::to_string(bytes.size()) + " bytes is not a multiple of 8 (one little-endian uint64 per record)");
  std::vector<uint64_t> v(bytes.size() / 8);
  for (size_t i = 0; i < v.size(); ++i) {
    uint64_t x = 0;
    for (int k = 7; k >= 0; --k) x = x << 8 | uint8_t(bytes[i * 8 + size_t(k)]);
    v[i] = x;
  }
  return v;
}

void loadSide(Side &s, uint64_t inputs, const std::vector<FieldId> &renamed) {
  std::vector<uint64_t> idx = readIdx(s.idxPath);
  auto r = openOrDie(s.path);
  s.first.assign(inputs, kNone);
  s.count.assign(inputs, 0);
  s.recs.reserve(idx.size());
  s.vals.reserve(idx.size() * renamed.size());
  Packet p;
  uint64_t rec = 0;
  while (r->next(p)) {
    applySnaplen(p);
    if (rec >= idx.size())
      bad("'" + s.idxPath + "' has " + std::to_string(idx.size()) + " entries but '" + s.path + "' has more records");
    uint64_t in = idx[rec];
    if (in >= inputs)
      bad("'" + s.idxPath + "': entry " + std::to_string(rec) + " (record " + std::to_string(rec + 1) + " of '" + s.path +
          "') names input index " + std::to_string(in) + ", but the input has " + std::to_string(inputs) + " records");
    for (FieldId f : renamed) s.vals.push_back(p.get(f));
    for (FieldId f : renamed)
      if (p.get(f) != 0) p.set(f, 0);
    s.recs.push_back({in, hashFrame(p.frame(), wireOf(p))});
    if (s.first[in] == kNone) s.first[in] = uint32_t(rec);
    if (s.count[in] < 255) ++s.count[in];
    ++rec;
  }
  if (!r->error().empty()) bad(r->error());
  if (rec != idx.size())
    bad("'" + s.idxPath + "' has " + std::to_string(idx.size()) + " entries but '" + s.path + "' has " +
        std::to_string(rec) + " records");
  if (rec >= kNone) bad("'" + s.path + "': more than 4294967294 records");
}

struct Diff {
  uint64_t input;
  std::vector<std::string> lines;
  uint32_t recA = kNone, recB = kNone; ///< frames to describe
};

int indexed(const IndexOptions &o) {
  // Fields: renamed ones (injective ones included), in command-line order, once each.
  std::vector<FieldId> renamed;
  std::vector<size_t> injective; // positions in `renamed`
  auto addField = [&](const std::string &name, bool inj) {
    auto f = ir::fieldByName(name);
    if (!f) bad("unknown field '" + name + "' (fields: eth.src eth.dst vlan.id vlan.pcp ip.src ip.dst ip.ttl ip.dscp tp.src tp.dst ...)");
    if (!ir::fieldInfo(*f).writable)
      bad("field '" + name + "' is read-only in the packet model: no chain writes it, so it cannot be renamed");
    size_t at = size_t(std::find(renamed.begin(), renamed.end(), *f) - renamed.begin());
    if (at == renamed.size()) renamed.push_back(*f);
    if (inj && std::find(injective.begin(), injective.end(), at) == injective.end()) injective.push_back(at);
  };
  for (const auto &n : o.rename) addField(n, false);
  for (const auto &n : o.injective) addField(n, true);
  const size_t K = renamed.size();

  // The input: one flow per 5-tuple.
  std::vector<uint32_t> flowOf;
  std::vector<FlowKey> keys;
  {
    std::unordered_map<FlowKey, uint32_t, FlowKeyHash> ids;
    auto r = openOrDie(o.input);
    Packet p;
    while (r->next(p)) {
      auto [it, fresh] = ids.try_emplace(flowKey(p), uint32_t(keys.size()));
      if (fresh) keys.push_back(it->first);
      flowOf.push_back(it->second);
    }
    if (!r->error().empty()) bad(r->error());
  }
  const uint64_t inputs = flowOf.size();
  Side a, b;
  a.path = o.index[0], a.idxPath = o.index[1], b.path = o.index[2], b.idxPath = o.index[3];
  loadSide(a, inputs, renamed);
  loadSide(b, inputs, renamed);

  // Per flow: the renamed values it showed last (and first), in A and in B.
  const size_t nFlows = keys.size();
  std::vector<uint64_t> fa(nFlows * K), fb(nFlows * K);
  std::vector<uint64_t> seenAt(nFlows, UINT64_MAX); ///< input that set fa/fb
  std::vector<uint8_t> flowRenamed(nFlows, 0), flowBad(nFlows, 0);
  // Units for injectivity: a flow's span of inputs with one injective tuple in A and in B.
  struct Unit {
    uint32_t flow;
    uint64_t first, last;
    std::string keyA, keyB;
  };
  std::vector<Unit> units;
  std::vector<uint32_t> unitOf(injective.empty() ? 0 : nFlows, kNone);
  auto tuple = [&](const uint64_t *v) {
    std::string s;
    for (size_t k : injective) s.append(reinterpret_cast<const char *>(&v[k]), 8);
    return s;
  };
  auto tupleStr = [&](const std::string &t) {
    std::string s;
    for (size_t i = 0; i < injective.size(); ++i) {
      uint64_t v;
      std::memcpy(&v, t.data() + 8 * i, 8);
      s += (i ? ", " : "") + std::string(ir::fieldInfo(renamed[injective[i]]).name) + " " +
           fieldValue(renamed[injective[i]], v);
    }
    return s;
  };
  auto valuesStr = [&](const uint64_t *va, const uint64_t *vb) {
    std::string s;
    for (size_t k = 0; k < K; ++k)
      s += (k ? ", " : "") + std::string(ir::fieldInfo(renamed[k]).name) + " " + fieldValue(renamed[k], va[k]) +
           (va[k] == vb[k] ? " in both" : " in A, " + fieldValue(renamed[k], vb[k]) + " in B");
    return s;
  };

  auto inputStr = [&](uint64_t i) {
    return "input " + std::to_string(i) + " (record " + std::to_string(i + 1) + " of the input; " + flowStr(keys[flowOf[i]]) + ")";
  };

  uint64_t emitted = 0, absent = 0, onlyA = 0, onlyB = 0, frameDiffs = 0, countDiffs = 0, inconsistent = 0;
  uint64_t differing = 0;
  std::vector<Diff> diffs;
  auto addDiff = [&](Diff d) {
    ++differing;
    if (diffs.size() < o.show) diffs.push_back(std::move(d));
  };
  for (uint64_t i = 0; i < inputs; ++i) {
    const unsigned ca = a.count[i], cb = b.count[i];
    const uint32_t flow = flowOf[i];
    auto head = [&] { return inputStr(i); };
    if (ca == 0 && cb == 0) {
      ++absent;
      continue;
    }
    if (ca != cb) {
      auto where = [&](const Side &s, unsigned c) {
        if (c == 0) return std::string("absent");
        return "record " + std::to_string(s.first[i] + 1) + (c > 1 ? " and " + std::to_string(c - 1) + " more" : "");
      };
      if (ca == 0) ++onlyB;
      else if (cb == 0) ++onlyA;
      else ++countDiffs;
      addDiff({i, {head() + ": emitted " + std::to_string(ca) + " time(s) in A (" + where(a, ca) + "), " +
                   std::to_string(cb) + " time(s) in B (" + where(b, cb) + ")" +
                   (ca == 0 || cb == 0 ? "; absent means dropped or sent to another egress port" : "")}});
      continue;
    }
    ++emitted;
    // Pair the records of this input in record order (normally one each).
    std::vector<uint32_t> ra{a.first[i]}, rb{b.first[i]};
    if (ca > 1) {
      ra.clear(), rb.clear();
      for (uint32_t r = a.first[i]; r < a.recs.size(); ++r)
        if (a.recs[r].input == i) ra.push_back(r);
      for (uint32_t r = b.first[i]; r < b.recs.size(); ++r)
        if (b.recs[r].input == i) rb.push_back(r);
    }
    bool thisBad = false;
    Diff d{i, {}};
    for (size_t j = 0; j < ra.size() && j < rb.size(); ++j) {
      const uint64_t *va = a.vals.data() + size_t(ra[j]) * K, *vb = b.vals.data() + size_t(rb[j]) * K;
      if (a.recs[ra[j]].hash != b.recs[rb[j]].hash) {
        ++frameDiffs;
        thisBad = true;
        if (d.recA == kNone) {
          d.recA = ra[j], d.recB = rb[j];
          d.lines.push_back(head() + ": frames differ (record " + std::to_string(ra[j] + 1) + " of A, record " +
                            std::to_string(rb[j] + 1) + " of B)" + (K ? " beyond the renamed fields" : ""));
        }
      }
      if (K == 0) continue;
      uint64_t *pa = &fa[size_t(flow) * K], *pb = &fb[size_t(flow) * K];
      bool changedA = false, changedB = false;
      for (size_t k = 0; k < K; ++k) {
        if (va[k] != vb[k]) flowRenamed[flow] = 1;
        changedA |= seenAt[flow] != UINT64_MAX && pa[k] != va[k];
        changedB |= seenAt[flow] != UINT64_MAX && pb[k] != vb[k];
      }
      bool consistent = o.strictFlows ? !changedA && !changedB : changedA == changedB;
      if (!consistent) {
        ++inconsistent;
        flowBad[flow] = 1;
        thisBad = true;
        d.lines.push_back(head() + ": renamed values not consistent with the flow's " +
                          std::string(o.strictFlows ? "first" : "previous") + " packet (input " +
                          std::to_string(seenAt[flow]) + "): there " + valuesStr(pa, pb) + "; here " +
                          valuesStr(va, vb) +
                          (o.strictFlows ? " (--strict-flows; without it, changes on both sides at once are "
                                           "accepted, as after an idle timeout)"
                                         : " (values may change only where they change on both sides)"));
        if (!o.strictFlows) {
          // Follow the new values so that one bad packet is reported once.
          std::copy(va, va + K, pa), std::copy(vb, vb + K, pb), seenAt[flow] = i;
        }
      } else if (seenAt[flow] == UINT64_MAX || changedA || changedB) {
        std::copy(va, va + K, pa), std::copy(vb, vb + K, pb), seenAt[flow] = i;
      } else if (!o.strictFlows) {
        seenAt[flow] = i;
      }
      if (!injective.empty()) {
        std::string ka = tuple(va), kb = tuple(vb);
        uint32_t &u = unitOf[flow];
        if (u != kNone && units[u].keyA == ka && units[u].keyB == kb) units[u].last = i;
        else if (u == kNone || !o.strictFlows) {
          u = uint32_t(units.size());
          units.push_back({flow, i, i, std::move(ka), std::move(kb)});
        }
      }
    }
    if (thisBad) addDiff(std::move(d));
  }

  // Injectivity: two units that carry one tuple in B must carry one tuple in A when their spans
  // of inputs overlap (a unit is live from its first to its last input; with --strict-flows,
  // forever). A sweep per B tuple in order of first input, counting the
  // live units per A tuple: a unit conflicts when a live unit has another A tuple.
  uint64_t conflicts = 0;
  std::vector<Diff> injDiffs;
  if (!injective.empty()) {
    std::unordered_map<std::string, std::vector<uint32_t>> byB;
    for (uint32_t u = 0; u < units.size(); ++u) byB[units[u].keyB].push_back(u);
    for (auto &[kb, us] : byB) {
      if (us.size() < 2) continue;
      std::sort(us.begin(), us.end(), [&](uint32_t x, uint32_t y) { return units[x].first < units[y].first; });
      std::vector<uint32_t> live; // a min-heap on `last`
      auto later = [&](uint32_t x, uint32_t y) { return units[x].last > units[y].last; };
      std::unordered_map<std::string, size_t> liveA;
      for (uint32_t ui : us) {
        const Unit &u = units[ui];
        while (!o.strictFlows && !live.empty() && units[live.front()].last < u.first) {
          --liveA[units[live.front()].keyA];
          std::pop_heap(live.begin(), live.end(), later);
          live.pop_back();
        }
        auto same = liveA.find(u.keyA);
        if (live.size() > (same == liveA.end() ? 0 : same->second)) {
          ++conflicts;
          if (o.show && (injDiffs.size() < o.show || u.first < injDiffs.back().input)) {
            const Unit &v = units[*std::find_if(live.begin(), live.end(), [&](uint32_t x) { return units[x].keyA != u.keyA; })];
            injDiffs.push_back({u.first,
                                {inputStr(u.first) + ": in B it has " +
                                 tupleStr(u.keyB) + " like input " + std::to_string(v.first) + " (" + flowStr(keys[v.flow]) +
                                 ", a different flow" + (o.strictFlows ? "" : " still live") + "), but in A they have " +
                                 tupleStr(u.keyA) + " and " + tupleStr(v.keyA) + ": B maps two flows to one value"}});
            std::sort(injDiffs.begin(), injDiffs.end(), [](const Diff &x, const Diff &y) { return x.input < y.input; });
            if (injDiffs.size() > o.show) injDiffs.pop_back();
          }
        }
        live.push_back(ui);
        std::push_heap(live.begin(), live.end(), later);
        ++liveA[u.keyA];
      }
    }
  }
  differing += conflicts;
  for (auto &d : injDiffs) diffs.push_back(std::move(d));
  std::stable_sort(diffs.begin(), diffs.end(), [](const Diff &x, const Diff &y) { return x.input < y.input; });
  if (diffs.size() > o.show) diffs.resize(o.show);

  uint64_t renamedFlows = 0, badFlows = 0;
  for (size_t f = 0; f < nFlows; ++f) renamedFlows += flowRenamed[f], badFlows += flowBad[f];
  std::string names;
  for (size_t k = 0; k < K; ++k) {
    bool inj = std::find(injective.begin(), injective.end(), k) != injective.end();
    names += (k ? ", " : "") + std::string(ir::fieldInfo(renamed[k]).name) + (inj ? " (injective)" : "");
  }
  printf("metron-pcapdiff: %" PRIu64 " inputs (%zu flows): %" PRIu64 " emitted by both, %" PRIu64
         " absent from both (dropped or sent elsewhere), %" PRIu64 " only in A, %" PRIu64 " only in B, %" PRIu64
         " emitted a different number of times; %" PRIu64 " frames differ",
         inputs, nFlows, emitted, absent, onlyA, onlyB, countDiffs, frameDiffs);
  if (K)
    printf("; renamed %s: %" PRIu64 " flows renamed, %" PRIu64 " inconsistent packets in %" PRIu64 " flows%s", names.c_str(),
           renamedFlows, inconsistent, badFlows,
           injective.empty() ? "" : (", " + std::to_string(conflicts) + " injectivity conflicts").c_str());
  printf("\n");
  if (differing == 0) {
    printf("metron-pcapdiff: A and B agree on every input%s\n", K ? " after renaming" : "");
    return 0;
  }
  printf("metron-pcapdiff: %" PRIu64 " difference(s); the first %zu:\n", differing, diffs.size());
  std::set<uint64_t> wantA, wantB;
  for (const auto &d : diffs)
    if (d.recA != kNone) wantA.insert(d.recA), wantB.insert(d.recB);
  auto gotA = fetch(a.path, wantA), gotB = fetch(b.path, wantB);
  std::set<FieldId> skip(renamed.begin(), renamed.end());
  for (const auto &d : diffs) {
    for (const auto &l : d.lines) printf("%s\n", l.c_str());
    if (d.recA == kNone) continue;
    auto ia = gotA.find(d.recA), ib = gotB.find(d.recB);
    if (ia == gotA.end() || ib == gotB.end()) continue;
    // B with A's values in the renamed fields: what is left is the real difference.
    Packet bb = ib->second;
    for (FieldId f : renamed)
      if (bb.get(f) != ia->second.get(f)) bb.set(f, ia->second.get(f));
    if (K) printf("  renamed: %s\n", valuesStr(&a.vals[size_t(d.recA) * K], &b.vals[size_t(d.recB) * K]).c_str());
    for (const auto &l : describe(ia->second, bb, skip))
      printf("  %s%s\n", K ? "(B renamed to A's values) " : "", l.c_str());
  }
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  ExactOptions eo;
  IndexOptions io;
  std::vector<std::string> files;
  unsigned show = 5;
  CLI::App app{"metron-pcapdiff: compares two captures record by record (A.pcap B.pcap), or per input packet through "
               "index files, with per-flow renaming of fields chosen by stateful NFs (--input, --index). Exit 0 when "
               "they agree, 1 when they differ, 2 on usage errors and bad files."};
  app.add_option("files", files, "A.pcap B.pcap (exact mode)");
  app.add_flag("--timestamps", eo.timestamps, "Exact mode: compare timestamps too");
  app.add_option("--input", io.input, "The input capture both runs read (index mode)");
  app.add_option("--index", io.index, "A.pcap A.pcap.idx, then again for B: each output with its index (index mode)")
      ->expected(2)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--rename", io.rename, "A field whose values may differ, consistently per flow (tp.src, ip.dst, ...)")
      ->allow_extra_args(false);
  app.add_option("--rename-injective", io.injective,
                 "A renamed field that must also be injective across flows (NAPT ports); several form one tuple")
      ->allow_extra_args(false);
  app.add_flag("--strict-flows", io.strictFlows,
               "One renamed value per flow in A and in B (by default values may change where they change on both "
               "sides, as after idle timeouts), and injectivity over the whole capture (by default: among flows live "
               "at the same time)");
  app.add_option("--show", show, "How many differences to describe")->capture_default_str();
  app.add_option("--snaplen", gSnaplen,
                 "Compare only the first N bytes of each frame, as if both captures had that snap length (net_pcap "
                 "writes at most 16128 bytes of a frame)")
      ->check(CLI::Range(14u, 262144u));
  app.add_flag("--captured-only", gCapturedOnly,
               "Compare records' bytes but not their original (wire) lengths: a DPDK port sends a frame cut by the "
               "input's snap length with its captured length");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int rc = app.exit(e);
    return e.get_exit_code() == 0 ? rc : 2;
  }
  auto usage = [](const char *msg) {
    fprintf(stderr, "metron-pcapdiff: error: %s\n", msg);
    return 2;
  };
  try {
    if (!io.input.empty() || !io.index.empty()) {
      if (io.input.empty()) return usage("--index needs --input IN.pcap");
      if (io.index.size() != 4)
        return usage("index mode needs --index twice: --index A.pcap A.pcap.idx --index B.pcap B.pcap.idx");
      if (!files.empty()) return usage("give either A.pcap B.pcap (exact mode) or --input and --index (index mode), not both");
      if (eo.timestamps) return usage("--timestamps is for exact mode (index mode ignores timestamps)");
      io.show = show;
      return indexed(io);
    }
    if (!io.rename.empty() || !io.injective.empty() || io.strictFlows)
      return usage("--rename, --rename-injective and --strict-flows need index mode (--input and --index)");
    if (files.size() != 2) return usage("expected two captures: metron-pcapdiff A.pcap B.pcap");
    eo.a = files[0], eo.b = files[1], eo.show = show;
    return exact(eo);
  } catch (const BadInput &e) {
    fprintf(stderr, "metron-pcapdiff: error: %s\n", e.msg.c_str());
    return 2;
  }
}
