//===- runtime/state/State.cpp - Balance, Monitor, Conntrack, RateLimit; shared helpers ------===//
///
/// The behaviour implemented here is specified in State.h; Napt.cpp and Dpi.cpp hold the
/// other two elements.
//===----------------------------------------------------------------------------------------===//
#include "runtime/state/StateImpl.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace metron::state {

// ---- shared -----------------------------------------------------------------------------------

namespace {
/// Width and kind of every field, from Fields.def (this library does not link the compiler).
struct FieldShape {
  unsigned bits;
  ir::ValueKind kind;
};
constexpr FieldShape kFields[] = {
#define FIELD(E, N, B, K, W, D) {B, ir::ValueKind::K},
#include "compiler/Fields.def"
#undef FIELD
};
static_assert(std::size(kFields) == ir::kNumFields);

struct Crc32cTable {
  uint32_t t[256];
  constexpr Crc32cTable() : t() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
  }
};
constexpr Crc32cTable kCrc32c;
} // namespace

uint32_t crc32c(const uint8_t *data, size_t len) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; ++i) c = kCrc32c.t[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t flowHash(const pkt::Packet &p) {
  Tuple t = Tuple::of(p);
  const uint8_t b[13] = {t.proto,
                         uint8_t(t.src >> 24), uint8_t(t.src >> 16), uint8_t(t.src >> 8), uint8_t(t.src),
                         uint8_t(t.dst >> 24), uint8_t(t.dst >> 16), uint8_t(t.dst >> 8), uint8_t(t.dst),
                         uint8_t(t.sport >> 8), uint8_t(t.sport),
                         uint8_t(t.dport >> 8), uint8_t(t.dport)};
  return crc32c(b, sizeof b);
}

PackedKey packKey(const std::vector<FieldId> &fields, const pkt::Packet &p) {
  PackedKey k;
  unsigned bit = 0;
  for (FieldId f : fields) {
    unsigned bits = kFields[size_t(f)].bits;
    uint64_t v = p.get(f);
    unsigned word = bit / 64, off = bit % 64;
    k.w[word] |= v << off;
    if (off + bits > 64) k.w[word + 1] |= v >> (64 - off);
    bit += bits;
  }
  return k;
}

std::unique_ptr<ElementState> ElementState::create(const ir::Element &e, std::string &err) {
  switch (e.kind) {
  case ir::ElementKind::Napt: return makeNapt(static_cast<const ir::Napt &>(e));
  case ir::ElementKind::Balance: return makeBalance(static_cast<const ir::Balance &>(e));
  case ir::ElementKind::Monitor: return makeMonitor(static_cast<const ir::Monitor &>(e));
  case ir::ElementKind::Conntrack: return makeConntrack(static_cast<const ir::Conntrack &>(e));
  case ir::ElementKind::RateLimit: return makeRateLimit(static_cast<const ir::RateLimit &>(e));
  case ir::ElementKind::Dpi: return makeDpi(static_cast<const ir::Dpi &>(e), err);
  default:
    err = "not a stateful element";
    return nullptr;
  }
}

namespace {

/// A value as the language writes it: 10.0.1.1, 02:00:0a:00:01:01, 80.
std::string valueStr(FieldId f, uint64_t v) {
  char buf[24];
  switch (kFields[size_t(f)].kind) {
  case ir::ValueKind::IPv4:
    snprintf(buf, sizeof buf, "%u.%u.%u.%u", unsigned(v >> 24 & 255), unsigned(v >> 16 & 255), unsigned(v >> 8 & 255),
             unsigned(v & 255));
    return buf;
  case ir::ValueKind::Mac:
    snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", unsigned(v >> 40 & 255), unsigned(v >> 32 & 255),
             unsigned(v >> 24 & 255), unsigned(v >> 16 & 255), unsigned(v >> 8 & 255), unsigned(v & 255));
    return buf;
  default: return std::to_string(v);
  }
}

// ---- Balance ----------------------------------------------------------------------------------

class BalanceState final : public ElementState {
public:
  explicit BalanceState(const ir::Balance &e) : e_(e), perBackend_(e.backends.size()) {}

  Result process(pkt::Packet &p) override {
    ++in_;
    Tuple t = Tuple::of(p);
    auto it = flows_.find(t);
    if (it == flows_.end()) {
      size_t n = e_.backends.size();
      size_t pick = e_.policy == ir::Balance::RoundRobin ? size_t(nextRR_++ % n) : size_t(flowHash(p) % n);
      it = flows_.emplace(t, uint32_t(pick)).first;
    }
    ++perBackend_[it->second];
    p.set(e_.field, e_.backends[it->second]);
    return {};
  }

  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    std::vector<std::pair<std::string, uint64_t>> c = {{"in", in_}, {"flows", flows_.size()}};
    for (size_t i = 0; i < e_.backends.size(); ++i)
      c.push_back({"backend[" + std::to_string(i + 1) + "]=" + valueStr(e_.field, e_.backends[i]), perBackend_[i]});
    return c;
  }

private:
  const ir::Balance &e_;
  std::unordered_map<Tuple, uint32_t, TupleHash> flows_;
  uint64_t nextRR_ = 0, in_ = 0;
  std::vector<uint64_t> perBackend_;
};

// ---- Monitor ----------------------------------------------------------------------------------

class MonitorState final : public ElementState {
public:
  explicit MonitorState(const ir::Monitor &e)
      : key_(e.key.empty() ? std::vector<FieldId>{FieldId::IpSrc, FieldId::IpDst, FieldId::IpProto, FieldId::TpSrc,
                                                   FieldId::TpDst}
                           : e.key),
        flows_(uint64_t(e.timeoutSec) * kNsPerSec) {}

  Result process(pkt::Packet &p) override {
    ++in_;
    uint64_t now = clock_.advance(p.timestampNs);
    flows_.expire(now, [&](auto &) { ++expired_; });
    PackedKey k = packKey(key_, p);
    auto *f = flows_.find(k);
    if (f) flows_.touch(f, now);
    else f = flows_.insert(k, Record{}, now);
    ++f->value.packets;
    f->value.bytes += p.wireLen;
    bytes_ += p.wireLen;
    return {};
  }

  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    return {{"in", in_}, {"flows", flows_.size()}, {"expired", expired_}, {"packets", in_}, {"bytes", bytes_}};
  }

private:
  struct Record {
    uint64_t packets = 0, bytes = 0;
  };
  std::vector<FieldId> key_;
  Clock clock_;
  IdleTable<PackedKey, Record, PackedKeyHash> flows_;
  uint64_t in_ = 0, expired_ = 0, bytes_ = 0;
};

// ---- Conntrack --------------------------------------------------------------------------------

class ConntrackState final : public ElementState {
public:
  explicit ConntrackState(const ir::Conntrack &e) : strict_(e.strict), conns_(uint64_t(e.timeoutSec) * kNsPerSec) {}

  Result process(pkt::Packet &p) override {
    ++in_;
    uint64_t now = clock_.advance(p.timestampNs);
    conns_.expire(now, [](auto &) {});
    bool pass = decide(p, now);
    ++(pass ? passed_ : dropped_);
    return {.drop = !pass};
  }

  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    return {{"in", in_}, {"passed", passed_}, {"dropped", dropped_}, {"connections", conns_.size()}};
  }

private:
  static constexpr uint64_t kSyn = 0x02, kRst = 0x04, kAck = 0x10;

  /// The 5-tuple with the endpoints (address, port) in ascending order.
  static Tuple canonical(const pkt::Packet &p) {
    Tuple t = Tuple::of(p);
    if (std::make_pair(t.dst, t.dport) < std::make_pair(t.src, t.sport)) {
      std::swap(t.src, t.dst);
      std::swap(t.sport, t.dport);
    }
    return t;
  }

  bool decide(const pkt::Packet &p, uint64_t now) {
    const pkt::Layout &l = p.layout();
    uint64_t proto = p.get(FieldId::IpProto);
    if (l.ipv4 && proto == 6) {
      if (!l.tcp) return false;
      uint64_t flags = p.get(FieldId::TcpFlags);
      Tuple k = canonical(p);
      auto *c = conns_.find(k);
      if (flags & kRst) {
        if (!c) return false;
        conns_.erase(c);
        return true;
      }
      if ((flags & kSyn) && !(flags & kAck)) {
        if (c) conns_.touch(c, now);
        else conns_.insert(k, 0, now);
        return true;
      }
      if (!c) return false;
      conns_.touch(c, now);
      return true;
    }
    if (!strict_) return true;
    if (!l.ipv4 || proto != 17) return false;
    Tuple k = canonical(p);
    if (auto *c = conns_.find(k)) conns_.touch(c, now);
    else conns_.insert(k, 0, now);
    return true;
  }

  bool strict_;
  Clock clock_;
  IdleTable<Tuple, char, TupleHash> conns_;
  uint64_t in_ = 0, passed_ = 0, dropped_ = 0;
};

// ---- RateLimit --------------------------------------------------------------------------------

class RateLimitState final : public ElementState {
public:
  explicit RateLimitState(const ir::RateLimit &e)
      : e_(e), capacity_(u128(e.packets ? e.burst : 8 * e.burst) * kNsPerSec) {}

  Result process(pkt::Packet &p) override {
    ++in_;
    uint64_t now = clock_.advance(p.timestampNs);
    PackedKey k = packKey(e_.key, p);
    auto it = buckets_.find(k);
    if (it == buckets_.end()) {
      it = buckets_.emplace(k, Bucket{capacity_, now}).first;
    } else {
      Bucket &b = it->second;
      b.tokens = std::min(capacity_, b.tokens + u128(e_.rate) * (now - b.last));
      b.last = now;
    }
    u128 cost = (e_.packets ? u128(1) : u128(8) * p.wireLen) * kNsPerSec;
    if (it->second.tokens < cost) {
      ++dropped_;
      return {.drop = true};
    }
    it->second.tokens -= cost;
    ++passed_;
    return {};
  }

  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    return {{"in", in_}, {"passed", passed_}, {"dropped", dropped_}, {"buckets", buckets_.size()}};
  }

private:
  using u128 = unsigned __int128;
  struct Bucket {
    u128 tokens; ///< nano-units (10^-9 packet or bit)
    uint64_t last;
  };
  const ir::RateLimit &e_;
  u128 capacity_;
  Clock clock_;
  std::unordered_map<PackedKey, Bucket, PackedKeyHash> buckets_;
  uint64_t in_ = 0, passed_ = 0, dropped_ = 0;
};

} // namespace

std::unique_ptr<ElementState> makeBalance(const ir::Balance &e) { return std::make_unique<BalanceState>(e); }
std::unique_ptr<ElementState> makeMonitor(const ir::Monitor &e) { return std::make_unique<MonitorState>(e); }
std::unique_ptr<ElementState> makeConntrack(const ir::Conntrack &e) { return std::make_unique<ConntrackState>(e); }
std::unique_ptr<ElementState> makeRateLimit(const ir::RateLimit &e) { return std::make_unique<RateLimitState>(e); }

} // namespace metron::state
