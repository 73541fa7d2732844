//===- runtime/state/StateImpl.h - What the element states share (internal) ----------*- C++ -*-===//
///
/// \file
/// Flow keys, the element clock and the idle-timeout table of State.h's common rules, and the
/// constructors of the element states (one file per group of elements).
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "runtime/state/State.h"

#include <array>
#include <cstring>
#include <list>
#include <unordered_map>

namespace metron::state {

using ir::FieldId;

/// 64-bit mixing (splitmix64's finaliser), for hash tables; never part of the semantics.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// A 5-tuple as read from the field vector.
struct Tuple {
  uint32_t src = 0, dst = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  static Tuple of(const pkt::Packet &p) {
    Tuple t;
    t.src = uint32_t(p.get(FieldId::IpSrc));
    t.dst = uint32_t(p.get(FieldId::IpDst));
    t.sport = uint16_t(p.get(FieldId::TpSrc));
    t.dport = uint16_t(p.get(FieldId::TpDst));
    t.proto = uint8_t(p.get(FieldId::IpProto));
    return t;
  }
  bool operator==(const Tuple &o) const {
    return src == o.src && dst == o.dst && sport == o.sport && dport == o.dport && proto == o.proto;
  }
};
struct TupleHash {
  size_t operator()(const Tuple &t) const {
    return size_t(mix64((uint64_t(t.src) << 32 | t.dst) ^ mix64(uint64_t(t.sport) << 24 | uint64_t(t.dport) << 8 | t.proto)));
  }
};

/// The values of a list of key fields, packed bit by bit at their widths (all fields of
/// Fields.def together take 285 bits).
struct PackedKey {
  std::array<uint64_t, 5> w{};
  bool operator==(const PackedKey &o) const { return w == o.w; }
};
struct PackedKeyHash {
  size_t operator()(const PackedKey &k) const {
    uint64_t h = 0;
    for (uint64_t x : k.w) h = mix64(h ^ x);
    return size_t(h);
  }
};
/// Packs the key fields \p fields of \p p.
PackedKey packKey(const std::vector<FieldId> &fields, const pkt::Packet &p);

/// The element clock of State.h: the largest timestamp seen so far.
struct Clock {
  uint64_t now = 0;
  uint64_t advance(uint64_t ts) { return now = ts > now ? ts : now; }
};

/// Entries with an idle timeout. Entries are kept in the order of their last use; since the
/// element clock never runs backwards that is also the order of their last-use times, so the
/// expired ones are always at the front.
template <typename Key, typename Value, typename Hash> class IdleTable {
public:
  struct Entry {
    Key key;
    Value value;
    uint64_t lastUsed;
  };
  explicit IdleTable(uint64_t timeoutNs) : timeoutNs_(timeoutNs) {}

  /// Removes every entry with now - lastUsed >= timeout, calling \p onExpire(entry) first.
  template <typename F> void expire(uint64_t now, F onExpire) {
    while (!order_.empty() && now - order_.front().lastUsed >= timeoutNs_) {
      onExpire(order_.front());
      index_.erase(order_.front().key);
      order_.pop_front();
    }
  }
  /// The live entry of \p key, or nullptr.
  Entry *find(const Key &key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &*it->second;
  }
  /// Marks \p e used at \p now (the newest time of the table).
  void touch(Entry *e, uint64_t now) {
    auto it = index_.find(e->key);
    order_.splice(order_.end(), order_, it->second);
    e->lastUsed = now;
  }
  /// Adds an entry for a key that has none; entries never move in memory while they live.
  Entry *insert(const Key &key, Value value, uint64_t now) {
    order_.push_back(Entry{key, std::move(value), now});
    index_.emplace(key, std::prev(order_.end()));
    return &order_.back();
  }
  void erase(Entry *e) {
    auto it = index_.find(e->key);
    order_.erase(it->second);
    index_.erase(it);
  }
  size_t size() const { return index_.size(); }

private:
  uint64_t timeoutNs_;
  std::list<Entry> order_;
  std::unordered_map<Key, typename std::list<Entry>::iterator, Hash> index_;
};

constexpr uint64_t kNsPerSec = 1000000000ull;

std::unique_ptr<ElementState> makeNapt(const ir::Napt &e);
std::unique_ptr<ElementState> makeBalance(const ir::Balance &e);
std::unique_ptr<ElementState> makeMonitor(const ir::Monitor &e);
std::unique_ptr<ElementState> makeConntrack(const ir::Conntrack &e);
std::unique_ptr<ElementState> makeRateLimit(const ir::RateLimit &e);
/// nullptr and \p err when Hyperscan rejects a pattern of the set.
std::unique_ptr<ElementState> makeDpi(const ir::Dpi &e, std::string &err);

} // namespace metron::state
