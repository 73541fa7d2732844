//===- runtime/state/Dpi.cpp - Payload pattern matching with Hyperscan ------------------------===//
///
/// The behaviour is specified in State.h (Dpi). Compiling a pattern set takes from milliseconds
/// to seconds, so the compiled database of each imported set is shared by every Dpi state of
/// the process that uses the same set; each state has its own scratch space.
//===----------------------------------------------------------------------------------------===//
#include "runtime/state/StateImpl.h"

#include <hs/hs.h>

#include <mutex>

namespace metron::state {

namespace {

struct Database {
  hs_database_t *db = nullptr; ///< nullptr for an empty pattern set (it never matches)
  ~Database() { hs_free_database(db); }
};

/// The hsbench flag letters (see man/metron-lang.7, Pattern sets) as Hyperscan compile flags.
unsigned hsFlags(const std::string &letters) {
  unsigned f = 0;
  for (char c : letters) {
    switch (c) {
    case 'i': f |= HS_FLAG_CASELESS; break;
    case 's': f |= HS_FLAG_DOTALL; break;
    case 'm': f |= HS_FLAG_MULTILINE; break;
    case 'H': f |= HS_FLAG_SINGLEMATCH; break;
    case 'V': f |= HS_FLAG_ALLOWEMPTY; break;
    case 'W': f |= HS_FLAG_UCP; break;
    case '8': f |= HS_FLAG_UTF8; break;
    case 'P': f |= HS_FLAG_PREFILTER; break;
    case 'L': f |= HS_FLAG_SOM_LEFTMOST; break;
    case 'C': f |= HS_FLAG_COMBINATION; break;
    case 'Q': f |= HS_FLAG_QUIET; break;
    default: break; // 'O' (the importer accepts no other letter)
    }
  }
  // Only whether anything matched matters; Hyperscan cannot combine SINGLEMATCH with SOM_LEFTMOST.
  if (!(f & HS_FLAG_SOM_LEFTMOST)) f |= HS_FLAG_SINGLEMATCH;
  return f;
}

/// What a compiled database was compiled from: a cache hit must have the same patterns (an
/// Import freed and another allocated at its address must not find the old database).
std::string signature(const ir::Import &imp) {
  std::string s;
  for (const auto &p : imp.patterns) {
    s += std::to_string(p.id);
    s += '\0';
    s += p.regex;
    s += '\0';
    s += p.flags;
    s += '\0';
  }
  return s;
}

std::shared_ptr<const Database> compile(const ir::Import &imp, const std::string &dpiName, std::string &err) {
  auto out = std::make_shared<Database>();
  if (imp.patterns.empty()) return out;
  std::vector<const char *> exprs;
  std::vector<unsigned> flags, ids;
  for (const auto &p : imp.patterns) {
    exprs.push_back(p.regex.c_str());
    flags.push_back(hsFlags(p.flags));
    ids.push_back(p.id);
  }
  hs_compile_error_t *cerr = nullptr;
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), unsigned(exprs.size()), HS_MODE_BLOCK, nullptr, &out->db,
                       &cerr) != HS_SUCCESS) {
    std::string reason = cerr && cerr->message ? cerr->message : "unknown error";
    if (cerr && cerr->expression >= 0 && size_t(cerr->expression) < imp.patterns.size()) {
      const ir::Pattern &p = imp.patterns[size_t(cerr->expression)];
      err = "dpi " + dpiName + ": Hyperscan rejects pattern " + std::to_string(p.id) + " ('" + imp.path + "' line " +
            std::to_string(p.line) + "): " + reason;
    } else {
      err = "dpi " + dpiName + ": Hyperscan cannot compile the pattern set '" + imp.path + "': " + reason;
    }
    hs_free_compile_error(cerr);
    return nullptr;
  }
  return out;
}

std::shared_ptr<const Database> cachedDatabase(const ir::Import &imp, const std::string &dpiName, std::string &err) {
  struct Cached {
    std::string signature;
    std::shared_ptr<const Database> db;
  };
  static std::mutex mu;
  static std::unordered_map<const ir::Import *, Cached> cache;
  std::string sig = signature(imp);
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(&imp);
  if (it != cache.end() && it->second.signature == sig) return it->second.db;
  auto db = compile(imp, dpiName, err);
  if (db) cache[&imp] = Cached{std::move(sig), db};
  return db;
}

/// The flows a Dpi with Suricata flow conditions tracks, keyed by the 5-tuple with its two
/// endpoints in canonical order.
struct FlowKey {
  uint32_t a = 0, b = 0;
  uint16_t pa = 0, pb = 0;
  uint8_t proto = 0;
  bool operator==(const FlowKey &o) const { return a == o.a && b == o.b && pa == o.pa && pb == o.pb && proto == o.proto; }
};
struct FlowKeyHash {
  size_t operator()(const FlowKey &k) const {
    return size_t(mix64((uint64_t(k.a) << 32 | k.b) ^ mix64(uint64_t(k.pa) << 24 | uint64_t(k.pb) << 8 | k.proto)));
  }
};
struct FlowInfo {
  bool clientIsA = true; ///< the client (the first packet's sender) is endpoint a
  bool fromClient = false, fromServer = false; ///< packets seen each way
  bool syn = false, synAck = false, established = false, closed = false, finClient = false, finServer = false;
};
constexpr uint64_t kDpiFlowTimeoutNs = 600 * kNsPerSec;

class DpiState final : public ElementState {
public:
  DpiState(std::shared_ptr<const Database> db, hs_scratch_t *scratch, const ir::Import &imp)
      : db_(std::move(db)), scratch_(scratch), rules_(imp.patternRules), flows_(kDpiFlowTimeoutNs) {
    hit_.assign(imp.patterns.size(), 0);
    rulesOf_.resize(imp.patterns.size());
    for (uint32_t r = 0; r < rules_.size(); ++r) {
      trackFlows_ = trackFlows_ || rules_[r].flow;
      for (const auto &c : rules_[r].contents)
        if (!c.negated && c.pattern < rulesOf_.size()) rulesOf_[c.pattern].push_back(r);
    }
    seen_.assign(rules_.size(), 0);
  }
  ~DpiState() override { hs_free_scratch(scratch_); }

  Result process(pkt::Packet &p) override {
    ++in_;
    Ctx ctx{this, &p, Tuple::of(p)};
    if (trackFlows_ && p.layout().ipv4) ctx.flow = track(p, ctx.t, ctx.toServer);
    size_t len = p.payloadLen();
    if (!db_->db || len == 0) return {};
    auto onMatch = [](unsigned id, unsigned long long, unsigned long long, unsigned, void *arg) -> int {
      Ctx &c = *static_cast<Ctx *>(arg);
      if (!c.self->rules_.empty()) {
        // A rule's content: which ones matched anywhere in the payload decides, after the scan.
        if (id < c.self->hit_.size() && !c.self->hit_[id]) {
          c.self->hit_[id] = 1;
          c.self->hits_.push_back(id);
        }
        return 0;
      }
      c.matched = true;
      return 1; // stop: one match decides
    };
    hits_.clear();
    hs_scan(db_->db, reinterpret_cast<const char *>(p.payload()), unsigned(len), 0, scratch_, onMatch, &ctx);
    if (!rules_.empty()) {
      // Every rule with a matched positive content is a candidate (once per packet).
      ++epoch_;
      for (uint32_t pat : hits_)
        for (uint32_t r : rulesOf_[pat])
          if (seen_[r] != epoch_) {
            seen_[r] = epoch_;
            if (holds(rules_[r], ctx)) {
              ++ctx.alerts;
              ctx.matched = true;
            }
          }
      for (uint32_t pat : hits_) hit_[pat] = 0;
    }
    if (ctx.matched) ++matched_;
    alerts_ += ctx.alerts;
    return {.matched = ctx.matched};
  }

  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    std::vector<std::pair<std::string, uint64_t>> c = {{"in", in_}, {"matched", matched_}};
    if (!rules_.empty()) c.push_back({"alerts", alerts_});
    if (trackFlows_) c.push_back({"flows", flows_.size()});
    return c;
  }

private:
  struct Ctx {
    DpiState *self;
    pkt::Packet *p;
    Tuple t;
    const FlowInfo *flow = nullptr;
    bool toServer = true;
    bool matched = false;
    uint64_t alerts = 0;
  };

  /// Updates the packet's flow (State.h, Dpi) and returns it.
  const FlowInfo *track(const pkt::Packet &p, const Tuple &t, bool &toServer) {
    const uint64_t now = clock_.advance(p.timestampNs);
    flows_.expire(now, [](const auto &) {});
    const bool aFirst = t.src < t.dst || (t.src == t.dst && t.sport <= t.dport);
    FlowKey k{aFirst ? t.src : t.dst, aFirst ? t.dst : t.src, aFirst ? t.sport : t.dport, aFirst ? t.dport : t.sport, t.proto};
    auto *e = flows_.find(k);
    if (e) flows_.touch(e, now);
    else e = flows_.insert(k, FlowInfo{aFirst, false, false}, now);
    FlowInfo &f = e->value;
    toServer = f.clientIsA == aFirst;
    (toServer ? f.fromClient : f.fromServer) = true;
    if (p.layout().tcp) {
      const uint64_t flags = p.get(FieldId::TcpFlags);
      constexpr uint64_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
      if (flags & kRst) {
        f.closed = true;
      } else if ((flags & kSyn) && !(flags & kAck)) {
        if (toServer && !f.established) f.syn = true;
      } else if ((flags & kSyn) && (flags & kAck)) {
        if (!toServer && f.syn) f.synAck = true;
      } else if ((flags & kAck) && toServer && f.synAck && !f.closed) {
        f.established = true;
      }
      if (flags & kFin) (toServer ? f.finClient : f.finServer) = true;
      if (f.finClient && f.finServer) f.closed = true;
    } else if (f.fromClient && f.fromServer) {
      f.established = true;
    }
    return &f;
  }

  bool holds(const ir::PatternRule &r, const Ctx &c) const {
    for (const auto &k : r.contents)
      if (bool(hit_[k.pattern]) == k.negated) return false;
    const pkt::Packet &p = *c.p;
    if (!p.layout().ipv4) return false;
    if (r.proto && r.proto != c.t.proto) return false;
    const bool ports = r.proto == 6 || r.proto == 17;
    if (ports && !(r.proto == 6 ? p.layout().tcp : p.layout().udp)) return false;
    auto forward = [&](uint32_t s, uint16_t sp, uint32_t d, uint16_t dp) {
      return r.src.contains(s) && r.dst.contains(d) && (!ports || (r.sport.contains(sp) && r.dport.contains(dp)));
    };
    if (!forward(c.t.src, c.t.sport, c.t.dst, c.t.dport) && !(r.bidirectional && forward(c.t.dst, c.t.dport, c.t.src, c.t.sport)))
      return false;
    if (r.flow) {
      if (!c.flow) return false;
      const bool est = c.flow->established && !c.flow->closed;
      if ((r.flow & ir::PatternRule::Established) && !est) return false;
      if ((r.flow & ir::PatternRule::NotEstablished) && est) return false;
      if ((r.flow & ir::PatternRule::ToServer) && !c.toServer) return false;
      if ((r.flow & ir::PatternRule::ToClient) && c.toServer) return false;
    }
    return true;
  }

  std::shared_ptr<const Database> db_;
  hs_scratch_t *scratch_;
  std::vector<ir::PatternRule> rules_;          ///< Suricata rules (none for hsbench patterns)
  std::vector<std::vector<uint32_t>> rulesOf_;  ///< per pattern: the rules it is a positive content of
  std::vector<uint8_t> hit_;                    ///< per pattern: matched in this packet's payload
  std::vector<uint32_t> hits_;                  ///< the patterns that did
  std::vector<uint64_t> seen_;                  ///< per rule: the last packet (epoch_) it was evaluated for
  uint64_t epoch_ = 0;
  bool trackFlows_ = false;
  Clock clock_;
  IdleTable<FlowKey, FlowInfo, FlowKeyHash> flows_;
  uint64_t in_ = 0, matched_ = 0, alerts_ = 0;
};

} // namespace

std::unique_ptr<ElementState> makeDpi(const ir::Dpi &e, std::string &err) {
  auto db = cachedDatabase(*e.patterns, e.patternSet, err);
  if (!db) return nullptr;
  hs_scratch_t *scratch = nullptr;
  if (db->db && hs_alloc_scratch(db->db, &scratch) != HS_SUCCESS) {
    err = "dpi " + e.patternSet + ": Hyperscan cannot allocate its scratch space";
    return nullptr;
  }
  return std::make_unique<DpiState>(std::move(db), scratch, *e.patterns);
}

} // namespace metron::state
