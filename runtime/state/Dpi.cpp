//===- runtime/state/Dpi.cpp - Payload pattern matching with Hyperscan ------------------------===//
///
/// The behaviour is specified in State.h (Dpi). Compiling a pattern set takes from milliseconds
/// to seconds, so the compiled database of each imported set is shared by every Dpi state of
/// the process that uses the same set; each state has its own scratch space.
//===----------------------------------------------------------------------------------------===//
#include "runtime/state/Http.h"
#include "runtime/state/StateImpl.h"

#include <hs/hs.h>

#include <algorithm>
#include <mutex>

namespace metron::state {

namespace {

/// One Hyperscan database per buffer (ir::PatternRule::Buffer) that patterns are matched in;
/// nullptr for a buffer without patterns (it never matches).
struct Database {
  std::array<hs_database_t *, ir::PatternRule::kNumBuffers> db{};
  ~Database() {
    for (hs_database_t *d : db) hs_free_database(d);
  }
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
    s += char('0' + p.buffer);
  }
  return s;
}

std::shared_ptr<const Database> compile(const ir::Import &imp, const std::string &dpiName, std::string &err) {
  auto out = std::make_shared<Database>();
  for (unsigned b = 0; b < ir::PatternRule::kNumBuffers; ++b) {
    std::vector<const char *> exprs;
    std::vector<unsigned> flags, ids;
    std::vector<const ir::Pattern *> of;
    for (const auto &p : imp.patterns) {
      if (p.buffer != b) continue;
      exprs.push_back(p.regex.c_str());
      flags.push_back(hsFlags(p.flags));
      ids.push_back(p.id);
      of.push_back(&p);
    }
    if (exprs.empty()) continue;
    hs_compile_error_t *cerr = nullptr;
    if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), unsigned(exprs.size()), HS_MODE_BLOCK, nullptr,
                         &out->db[b], &cerr) == HS_SUCCESS)
      continue;
    std::string reason = cerr && cerr->message ? cerr->message : "unknown error";
    if (cerr && cerr->expression >= 0 && size_t(cerr->expression) < of.size()) {
      const ir::Pattern &p = *of[size_t(cerr->expression)];
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
    rulesOf_.resize(imp.patterns.size());
    plans_.resize(rules_.size());
    for (uint32_t r = 0; r < rules_.size(); ++r) {
      const ir::PatternRule &rule = rules_[r];
      trackFlows_ = trackFlows_ || rule.flow;
      http_ = http_ || rule.http;
      auto section = [&](ir::PatternRule::Buffer b) -> Section & {
        for (auto &sec : plans_[r])
          if (sec.buffer == b) return sec;
        plans_[r].push_back(Section{b, {}, {}});
        used_[b] = true;
        return plans_[r].back();
      };
      for (const auto &c : rule.contents) {
        if (c.pattern >= imp.patterns.size()) continue;
        section(ir::PatternRule::Buffer(imp.patterns[c.pattern].buffer)).contents.push_back(c);
        if (!c.negated) rulesOf_[c.pattern].push_back(r);
      }
      for (const auto &k : rule.checks) section(k.buffer).check = k;
      // A rule holds only when one of its positive contents matched, unless every such content
      // is in a buffer that may be absent instead (`absent: or_else`).
      bool needsHit = false;
      for (const Section &sec : plans_[r])
        for (const auto &c : sec.contents)
          needsHit = needsHit || (!c.negated && sec.check.absent == ir::PatternRule::BufferCheck::Present);
      if (!needsHit) always_.push_back(r);
    }
    seen_.assign(rules_.size(), 0);
    hitEpoch_.assign(imp.patterns.size(), 0);
  }
  ~DpiState() override { hs_free_scratch(scratch_); }

  Result process(pkt::Packet &p) override {
    ++in_;
    Ctx ctx{this, &p, Tuple::of(p)};
    if (trackFlows_ && p.layout().ipv4) ctx.flow = track(p, ctx.t, ctx.toServer);
    if (rules_.empty()) { // hsbench patterns: any match in the payload decides
      size_t len = p.payloadLen();
      hs_database_t *db = db_->db[ir::PatternRule::Payload];
      if (!db || len == 0) return {};
      auto onMatch = [](unsigned, unsigned long long, unsigned long long, unsigned, void *arg) -> int {
        static_cast<Ctx *>(arg)->matched = true;
        return 1; // stop: one match decides
      };
      hs_scan(db, reinterpret_cast<const char *>(p.payload()), unsigned(len), 0, scratch_, onMatch, &ctx);
      if (ctx.matched) ++matched_;
      return {.matched = ctx.matched};
    }
    ++epoch_;
    scan(p, ctx);
    // Every rule with a matched positive content is a candidate, and every rule that may hold
    // without one (once per packet).
    auto consider = [&](uint32_t r) {
      if (seen_[r] == epoch_) return;
      seen_[r] = epoch_;
      if (holds(r, ctx)) {
        ++ctx.alerts;
        ctx.matched = true;
      }
    };
    for (const Hit &h : hits_)
      for (uint32_t r : rulesOf_[h.pattern]) consider(r);
    for (uint32_t r : always_) consider(r);
    if (ctx.matched) ++matched_;
    alerts_ += ctx.alerts;
    return {.matched = ctx.matched};
  }

  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    std::vector<std::pair<std::string, uint64_t>> c = {{"in", in_}, {"matched", matched_}};
    if (!rules_.empty()) c.push_back({"alerts", alerts_});
    if (http_) c.push_back({"http_requests", httpRequests_});
    if (trackFlows_) c.push_back({"flows", flows_.size()});
    return c;
  }

private:
  /// What a rule asks of one buffer.
  struct Section {
    ir::PatternRule::Buffer buffer;
    ir::PatternRule::BufferCheck check{};
    std::vector<ir::PatternRule::Content> contents;
  };
  /// A pattern matched in an instance of a buffer (instances are numbered over the packet).
  struct Hit {
    uint32_t instance, pattern;
  };
  struct Ctx {
    DpiState *self;
    pkt::Packet *p;
    Tuple t;
    const FlowInfo *flow = nullptr;
    bool toServer = true;
    bool matched = false;
    bool http = false; ///< the payload starts an HTTP request (httpBuffers_ holds it)
    uint64_t alerts = 0;
    uint32_t instance = 0; ///< the instance being scanned
  };

  /// The instances of every buffer a rule names, each scanned with its buffer's database: the
  /// payload (when not empty) and the HTTP request's buffers. Fills first_/count_ and hits_.
  void scan(const pkt::Packet &p, Ctx &ctx) {
    hits_.clear();
    const size_t len = p.payloadLen();
    const std::string_view payload(reinterpret_cast<const char *>(p.payload()), len);
    ctx.http = http_ && len > 0 && p.layout().tcp && httpBuffers_.parse(payload);
    httpRequests_ += ctx.http;
    uint32_t next = 0;
    auto onMatch = [](unsigned id, unsigned long long, unsigned long long, unsigned, void *arg) -> int {
      Ctx &c = *static_cast<Ctx *>(arg);
      DpiState &s = *c.self;
      // SINGLEMATCH reports a pattern once per scan, i.e. once per instance.
      if (id < s.rulesOf_.size()) {
        s.hits_.push_back({c.instance, id});
        s.hitEpoch_[id] = s.epoch_;
      }
      return 0;
    };
    for (unsigned b = 0; b < ir::PatternRule::kNumBuffers; ++b) {
      first_[b] = next;
      count_[b] = 0;
      if (!used_[b]) continue;
      auto scanOne = [&](std::string_view data) {
        ctx.instance = next++;
        ++count_[b];
        if (ctx.instance >= sizes_.size()) sizes_.resize(ctx.instance + 1);
        sizes_[ctx.instance] = uint32_t(std::min<size_t>(data.size(), UINT32_MAX));
        if (db_->db[b]) hs_scan(db_->db[b], data.data(), unsigned(data.size()), 0, scratch_, onMatch, &ctx);
      };
      if (b == ir::PatternRule::Payload) {
        if (len > 0) scanOne(payload);
      } else if (ctx.http) {
        for (const std::string &inst : httpBuffers_.instances(ir::PatternRule::Buffer(b))) scanOne(inst);
      }
    }
  }

  /// Whether \p pattern matched in \p instance of its buffer, which has \p instances of them
  /// (a pattern is matched in one buffer only: with one instance, matching this packet says it).
  bool matchedIn(uint32_t instance, uint32_t instances, uint32_t pattern) const {
    if (hitEpoch_[pattern] != epoch_) return false;
    if (instances == 1) return true;
    for (const Hit &h : hits_)
      if (h.instance == instance && h.pattern == pattern) return true;
    return false;
  }

  /// Whether a rule's section holds: some instance of its buffer has the size and the contents,
  /// or (with `absent`) the buffer is not there.
  bool sectionHolds(const Section &sec) const {
    const uint32_t n = count_[sec.buffer];
    if (n == 0) return sec.check.absent != ir::PatternRule::BufferCheck::Present;
    if (sec.check.absent == ir::PatternRule::BufferCheck::Only) return false;
    for (uint32_t i = first_[sec.buffer]; i < first_[sec.buffer] + n; ++i) {
      if (sizes_[i] < sec.check.bsizeLo || sizes_[i] > sec.check.bsizeHi) continue;
      bool all = true;
      for (const auto &c : sec.contents) all = all && matchedIn(i, n, c.pattern) != c.negated;
      if (all) return true;
    }
    return false;
  }

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

  bool holds(uint32_t ri, const Ctx &c) const {
    const ir::PatternRule &r = rules_[ri];
    const pkt::Packet &p = *c.p;
    if (!p.layout().ipv4) return false;
    if (r.http && !c.http) return false;
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
    for (const Section &sec : plans_[ri])
      if (!sectionHolds(sec)) return false;
    return true;
  }

  std::shared_ptr<const Database> db_;
  hs_scratch_t *scratch_;
  std::vector<ir::PatternRule> rules_;          ///< Suricata rules (none for hsbench patterns)
  std::vector<std::vector<Section>> plans_;     ///< per rule: its conditions on each buffer it names
  std::vector<std::vector<uint32_t>> rulesOf_;  ///< per pattern: the rules it is a positive content of
  std::vector<uint32_t> always_;                ///< the rules that may hold without a match: considered for every packet
  std::array<bool, ir::PatternRule::kNumBuffers> used_{}; ///< the buffers some rule names
  std::vector<Hit> hits_;                       ///< the patterns matched in this packet's instances
  std::vector<uint64_t> hitEpoch_;              ///< per pattern: the last packet (epoch_) it matched in
  std::array<uint32_t, ir::PatternRule::kNumBuffers> first_{}, count_{}; ///< per buffer: its instances
  std::vector<uint32_t> sizes_;                 ///< per instance: its size
  HttpBuffers httpBuffers_;
  bool http_ = false;                           ///< some rule is an `http` rule
  std::vector<uint64_t> seen_;                  ///< per rule: the last packet (epoch_) it was considered for
  uint64_t epoch_ = 0;
  bool trackFlows_ = false;
  Clock clock_;
  IdleTable<FlowKey, FlowInfo, FlowKeyHash> flows_;
  uint64_t in_ = 0, matched_ = 0, alerts_ = 0, httpRequests_ = 0;
};

} // namespace

std::unique_ptr<ElementState> makeDpi(const ir::Dpi &e, std::string &err) {
  auto db = cachedDatabase(*e.patterns, e.patternSet, err);
  if (!db) return nullptr;
  hs_scratch_t *scratch = nullptr; // one scratch space large enough for every buffer's database
  for (hs_database_t *d : db->db)
    if (d && hs_alloc_scratch(d, &scratch) != HS_SUCCESS) {
      hs_free_scratch(scratch);
      err = "dpi " + e.patternSet + ": Hyperscan cannot allocate its scratch space";
      return nullptr;
    }
  return std::make_unique<DpiState>(std::move(db), scratch, *e.patterns);
}

} // namespace metron::state
