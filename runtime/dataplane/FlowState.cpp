//===- runtime/dataplane/FlowState.cpp - Stateful elements on rte_hash flow tables ------------===//
///
/// The behaviour is State.h's, line for line as runtime/state implements it (Napt.cpp,
/// State.cpp); what differs is the tables:
///  - HashTable: one rte_hash (rte_hash_crc, init value 0, RTE_HASH_EXTRA_FLAGS_EXT_TABLE so
///    that `entries` keys always fit), keys fixed-size structs without padding bytes;
///  - IdleFlowTable: IdleTable's semantics (expiry from the front of the last-use order) with
///    the entries in an array indexed by the key's rte_hash position and an intrusive doubly
///    linked LRU list of positions; grows by doubling, re-adding the keys in LRU order;
///  - Napt: one entry per port of the range (indexed by port offset, the offset stored as the
///    key's data), a bitmap of the ports in use for the free-port search, and the LRU list;
///  - Balance: the backend index is the key's data; RateLimit: buckets by key position. Both
///    keep their flows for the run and grow by doubling (rte_hash_iterate into a new table).
/// The hash of a packet's key is computed once (keyHash: the tables' rte_hash_crc inlined, the
/// value rte_hash_hash gives) and passed to every lookup/add/delete of that packet (the
/// _with_hash calls); entries keep it for their deletion and for growth.
/// In front of the tables of 16-byte keys, a FlowCache (FlowState.h) answers for known flows;
/// NAPT and Balance build their key in registers (FlowWords) and keep their known-flow path
/// alone inline.
//===----------------------------------------------------------------------------------------===//
#include "runtime/dataplane/FlowState.h"

#include "runtime/state/StateImpl.h"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_memory.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <type_traits>
#include <unistd.h>
#include <utility>
#include <vector>

namespace metron::dp {

namespace {

using ir::FieldId;
using state::Clock;
using state::ElementState;
using state::kNsPerSec;
using state::Result;

constexpr uint32_t kNil = UINT32_MAX;

/// Field widths, from Fields.def (for the size of a packed key).
constexpr unsigned kFieldBits[] = {
#define FIELD(E, N, B, K, W, D) B,
#include "compiler/Fields.def"
#undef FIELD
};
static_assert(std::size(kFieldBits) == ir::kNumFields);

[[noreturn]] void fatal(const std::string &msg) {
  std::fprintf(stderr, "metron: flow state: %s\n", msg.c_str());
  std::fflush(stderr);
  std::abort();
}

/// The hash of a key: the tables' hash function (rte_hash_crc, init value 0) inlined for the
/// key's size; rte_hash_hash would call the same function through a pointer.
template <typename Key> hash_sig_t keyHash(const Key &k) { return rte_hash_crc(&k, sizeof(Key), 0); }

/// The 5-tuple as an rte_hash key: 16 bytes, every byte a member (the padding is explicit and
/// zero), so that equal tuples are equal byte strings.
struct FlowKey {
  uint32_t src = 0, dst = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  uint8_t pad[3] = {0, 0, 0};
};
static_assert(sizeof(FlowKey) == 16 && std::has_unique_object_representations_v<FlowKey>);

/// A packet's FlowKey as the two 64-bit words of its bytes, built in registers from the field
/// vector (the fast paths hash and compare words; the FlowKey in memory is made only for an
/// rte_hash call).
struct FlowWords {
  uint64_t a = 0, b = 0;
  static FlowWords of(const pkt::Packet &p) {
    return {uint64_t(uint32_t(p.get(FieldId::IpSrc))) | uint64_t(uint32_t(p.get(FieldId::IpDst))) << 32,
            uint64_t(uint16_t(p.get(FieldId::TpSrc))) | uint64_t(uint16_t(p.get(FieldId::TpDst))) << 16 |
                uint64_t(uint8_t(p.get(FieldId::IpProto))) << 32};
  }
  /// keyHash(key()), without the key in memory (rte_hash_crc takes a 16-byte key as two words).
  [[gnu::always_inline]] hash_sig_t hash() const { return rte_hash_crc_8byte(b, rte_hash_crc_8byte(a, 0)); }
  FlowKey key() const { return std::bit_cast<FlowKey>(*this); }
  static FlowWords of(const FlowKey &k) { return std::bit_cast<FlowWords>(k); }
};
static_assert(sizeof(FlowWords) == sizeof(FlowKey) && std::endian::native == std::endian::little,
              "FlowWords are FlowKey's bytes");

/// The first W words of a state::PackedKey (the others are zero: the key's fields take at most
/// 64 * W bits, packKey fills words from the first). W is even, so that rte_hash compares the
/// key with its 16-byte-multiple code.
template <size_t W> struct WordsKey {
  uint64_t w[W] = {};
  static WordsKey of(const state::PackedKey &k) {
    WordsKey r;
    for (size_t i = 0; i < W && i < k.w.size(); ++i) r.w[i] = k.w[i];
    return r;
  }
};

/// A per-core exact-match cache in front of a flow table with 16-byte keys whose last 3 bytes
/// are 0 (FlowKey, a WordsKey<2> of at most 104 bits), after OVS-DPDK's EMC: the key and the
/// table's data for it (a NAPT port offset, a backend index, a table position), 16 bytes an
/// entry, two ways a set, the set chosen by the key's hash. It only remembers what the table
/// answered: a hit returns the data the rte_hash lookup would return, because the owner puts
/// an entry only for a key the table holds with that data and drops it when it deletes the key
/// (a table's data never changes while its key is in it; growth keeps the data). A miss costs
/// a probe more than the table alone; a hit saves the rte_hash lookup (two buckets' signatures,
/// a key comparison through a function pointer). Entries: a power of two, 0 for none.
class FlowCache {
public:
  /// The most data a cache entry holds (24 bits, one value reserved for "empty").
  static constexpr uint32_t kMaxData = (1u << 24) - 2;

  FlowCache() { init(0); }
  FlowCache(const FlowCache &) = delete;
  FlowCache &operator=(const FlowCache &) = delete;

  /// Empties the cache and gives it \p entries (the hit and miss counts go on).
  void init(uint32_t entries) {
    sets_ = entries >= 2 ? std::bit_floor(entries) / 2 : 0;
    // No cache: one set that nothing is put in, so that find() needs no test of its own.
    store_.assign(std::max<size_t>(size_t(sets_) * 2, 2), Entry{});
    e_ = store_.data();
    mask_ = sets_ ? sets_ - 1 : 0;
  }
  bool enabled() const { return sets_ != 0; }
  /// The data cached for \p k (hashed \p sig), or -1. An empty entry (b = 0) never matches:
  /// its data bits are 0 and a key's are compared as "not 0".
  int64_t find(const FlowWords &k, hash_sig_t sig) {
    const Entry *s = e_ + (sig & mask_) * 2;
    for (int w = 0; w < 2; ++w)
      if (matches(s[w], k) && s[w].b > kKeyMask) {
        ++hits_;
        return int64_t(s[w].b >> kDataShift) - 1;
      }
    ++misses_;
    return -1;
  }
  /// Remembers \p k -> \p data (data <= kMaxData): in the way that has \p k, else in a free
  /// way of its set, else in the way a bit of the hash names.
  void put(const FlowWords &k, hash_sig_t sig, uint32_t data) {
    if (!sets_) return;
    Entry *s = e_ + (sig & mask_) * 2;
    int w = matches(s[1], k) ? 1 : s[0].b == 0 || matches(s[0], k) ? 0 : s[1].b == 0 ? 1 : int(sig >> 31);
    s[w] = Entry{k.a, k.b | (uint64_t(data) + 1) << kDataShift};
  }
  /// Forgets \p k (the table deleted it).
  void drop(const FlowWords &k, hash_sig_t sig) {
    if (!sets_) return;
    Entry *s = e_ + (sig & mask_) * 2;
    for (int w = 0; w < 2; ++w)
      if (matches(s[w], k)) s[w] = Entry{};
  }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  /// Calls \p f(key, data) for every entry until it returns false; whether none did.
  template <typename F> bool every(F f) const {
    for (uint32_t i = 0; i < sets_ * 2; ++i)
      if (e_[i].b > kKeyMask && !f(FlowWords{e_[i].a, e_[i].b & kKeyMask}, uint32_t(e_[i].b >> kDataShift) - 1))
        return false;
    return true;
  }

private:
  /// The key's 16 bytes as two words; the last 3 bytes (FlowKey::pad) are zero, so an entry
  /// keeps its data + 1 there (0: the entry is empty).
  struct Entry {
    uint64_t a = 0, b = 0;
  };
  static constexpr unsigned kDataShift = 40;
  static constexpr uint64_t kKeyMask = (uint64_t(1) << kDataShift) - 1;
  /// The entry holds \p k (or is empty, when k's words and the entry's are all 0 but the data).
  static bool matches(const Entry &e, const FlowWords &k) { return ((e.a ^ k.a) | ((e.b ^ k.b) & kKeyMask)) == 0; }
  uint32_t sets_ = 0, mask_ = 0;
  std::vector<Entry> store_;
  Entry *e_ = nullptr; ///< store_.data()
  uint64_t hits_ = 0, misses_ = 0;
};
static_assert(offsetof(FlowKey, pad) == 13 && sizeof(FlowKey) == 16, "FlowCache keeps its data in FlowKey::pad");

/// Bits taken by \p fields in a PackedKey.
unsigned keyBits(const std::vector<FieldId> &fields) {
  unsigned bits = 0;
  for (FieldId f : fields) bits += kFieldBits[size_t(f)];
  return bits;
}

/// One rte_hash table, freed with the object.
class HashTable {
public:
  HashTable() = default;
  HashTable(const HashTable &) = delete;
  HashTable &operator=(const HashTable &) = delete;
  HashTable(HashTable &&o) noexcept : h_(std::exchange(o.h_, nullptr)), capacity_(o.capacity_) {}
  HashTable &operator=(HashTable &&o) noexcept {
    if (this != &o) {
      rte_hash_free(h_);
      h_ = std::exchange(o.h_, nullptr);
      capacity_ = o.capacity_;
    }
    return *this;
  }
  ~HashTable() { rte_hash_free(h_); }

  /// A table for \p entries keys of \p keyLen bytes; false and \p err when DPDK refuses.
  bool create(uint32_t entries, uint32_t keyLen, std::string &err) {
    static std::atomic<uint32_t> seq{0};
    // Names are global to the EAL and short: rte_hash prefixes "HT_EXT_" for its ring, whose
    // name (with the ring's "RG_" memzone prefix) must fit RTE_MEMZONE_NAMESIZE.
    for (int attempt = 0; attempt < 8; ++attempt) {
      char name[RTE_HASH_NAMESIZE];
      snprintf(name, sizeof name, "mfs%x_%x", unsigned(getpid()) & 0xffffffu, seq.fetch_add(1));
      rte_hash_parameters prm{};
      prm.name = name;
      prm.entries = entries;
      prm.key_len = keyLen;
      prm.hash_func = rte_hash_crc;
      prm.hash_func_init_val = 0;
      prm.socket_id = SOCKET_ID_ANY;
      prm.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
      h_ = rte_hash_create(&prm);
      if (h_) {
        capacity_ = entries;
        return true;
      }
      if (rte_errno != EEXIST) break;
    }
    err = "cannot create an rte_hash of " + std::to_string(entries) + " entries: " + rte_strerror(rte_errno);
    return false;
  }
  /// The same, or the end of the process (a table that must grow mid-run).
  static HashTable mustCreate(uint32_t entries, uint32_t keyLen) {
    HashTable t;
    std::string err;
    if (!t.create(entries, keyLen, err)) fatal(err);
    return t;
  }

  rte_hash *get() const { return h_; }
  uint32_t capacity() const { return capacity_; }
  hash_sig_t hash(const void *key) const { return rte_hash_hash(h_, key); }
  /// Twice the capacity, within rte_hash's limit.
  uint32_t grownCapacity() const {
    if (capacity_ > RTE_HASH_ENTRIES_MAX / 2)
      fatal("a flow table is full at " + std::to_string(capacity_) + " entries");
    return capacity_ * 2;
  }

private:
  rte_hash *h_ = nullptr;
  uint32_t capacity_ = 0;
};

/// For CachedState::cacheConsistent: whether every entry of \p cache is what \p table answers
/// for its key (its position; with \p data, its data) and \p also(key, value) holds; else false
/// and \p why, naming the value as \p what.
template <typename F>
bool cacheAgrees(const FlowCache &cache, const HashTable &table, bool data, const char *what, std::string &why, F also) {
  return cache.every([&](const FlowWords &w, uint32_t v) {
    const FlowKey k = w.key();
    void *d;
    int32_t pos = data ? rte_hash_lookup_with_hash_data(table.get(), &k, w.hash(), &d)
                       : rte_hash_lookup_with_hash(table.get(), &k, w.hash());
    const int64_t t = pos < 0 ? -1 : data ? int64_t(uintptr_t(d)) : pos;
    if (t == int64_t(v) && also(w, v)) return true;
    char key[48];
    snprintf(key, sizeof key, "%016llx %016llx", (unsigned long long)w.a, (unsigned long long)w.b);
    why = std::string("key ") + key + ": cached " + what + " " + std::to_string(v) + ", the table's " + std::to_string(t);
    return false;
  });
}

/// The links of an entry in an intrusive LRU list of array indices.
struct Links {
  uint32_t prev = kNil, next = kNil;
};
/// An LRU list over the entries of \p slots (each with a `links` member): front = least recent.
struct LruList {
  uint32_t head = kNil, tail = kNil;
  template <typename S> void pushBack(std::vector<S> &slots, uint32_t i) {
    slots[i].links = {tail, kNil};
    if (tail != kNil) slots[tail].links.next = i;
    else head = i;
    tail = i;
  }
  template <typename S> void unlink(std::vector<S> &slots, uint32_t i) {
    Links l = slots[i].links;
    if (l.prev != kNil) slots[l.prev].links.next = l.next;
    else head = l.next;
    if (l.next != kNil) slots[l.next].links.prev = l.prev;
    else tail = l.prev;
  }
  template <typename S> void moveToBack(std::vector<S> &slots, uint32_t i) {
    if (i == tail) return;
    unlink(slots, i);
    pushBack(slots, i);
  }
};

/// IdleTable (StateImpl.h) on an rte_hash: entries by key position, in last-use order.
template <typename Key, typename Value> class IdleFlowTable {
public:
  struct Slot {
    Key key;
    hash_sig_t sig;
    Links links;
    uint64_t lastUsed;
    Value value;
  };

  /// \p cacheEntries: a flow cache in front of the table, for a 16-byte key whose last 3 bytes
  /// are always 0 (FlowCache keeps its data there): the caller says so by giving entries.
  bool init(uint32_t entries, uint64_t timeoutNs, uint32_t cacheEntries, std::string &err) {
    timeoutNs_ = timeoutNs;
    cacheEntries_ = sizeof(Key) == sizeof(FlowWords) ? cacheEntries : 0;
    if (!table_.create(entries, sizeof(Key), err)) return false;
    slots_.resize(entries);
    initCache();
    return true;
  }
  hash_sig_t hash(const Key &k) const { return keyHash(k); }
  const FlowCache &cache() const { return cache_; }
  bool cacheConsistent(std::string &why) const {
    return cacheAgrees(cache_, table_, false, "position", why, [&](const FlowWords &w, uint32_t pos) {
      return pos < slots_.size() && words(slots_[pos].key).a == w.a && words(slots_[pos].key).b == w.b;
    });
  }

  /// Removes every entry with now - lastUsed >= timeout, calling \p onExpire(slot) first.
  template <typename F> void expire(uint64_t now, F onExpire) {
    while (lru_.head != kNil && now - slots_[lru_.head].lastUsed >= timeoutNs_) {
      onExpire(slots_[lru_.head]);
      erase(lru_.head);
    }
  }
  /// The position of \p k's live entry, or -1: from the flow cache, else from the table (the
  /// cache then learns it).
  int32_t find(const Key &k, hash_sig_t sig) {
    if (cacheEntries_) {
      if (int64_t c = cache_.find(words(k), sig); c >= 0) return int32_t(c);
    }
    int32_t pos = rte_hash_lookup_with_hash(table_.get(), &k, sig);
    if (pos < 0) return -1;
    if (cacheEntries_) cache_.put(words(k), sig, uint32_t(pos));
    return pos;
  }
  Slot &at(uint32_t pos) { return slots_[pos]; }
  void touch(uint32_t pos, uint64_t now) {
    lru_.moveToBack(slots_, pos);
    slots_[pos].lastUsed = now;
  }
  /// Adds an entry for a key that has none (growing the table when it is full).
  uint32_t insert(const Key &k, hash_sig_t sig, const Value &v, uint64_t now) {
    int32_t pos = rte_hash_add_key_with_hash(table_.get(), &k, sig);
    if (pos == -ENOSPC) {
      grow();
      pos = rte_hash_add_key_with_hash(table_.get(), &k, sig);
    }
    if (pos < 0) fatal(std::string("rte_hash_add_key_with_hash: ") + rte_strerror(-pos));
    Slot &s = slots_[pos];
    s.key = k;
    s.sig = sig;
    s.lastUsed = now;
    s.value = v;
    lru_.pushBack(slots_, uint32_t(pos));
    ++size_;
    if (cacheEntries_) cache_.put(words(k), sig, uint32_t(pos));
    return uint32_t(pos);
  }
  void erase(uint32_t pos) {
    Slot &s = slots_[pos];
    int32_t rc = rte_hash_del_key_with_hash(table_.get(), &s.key, s.sig);
    if (rc != int32_t(pos)) fatal("rte_hash_del_key_with_hash: the flow table lost a key");
    if (cacheEntries_) cache_.drop(words(s.key), s.sig);
    lru_.unlink(slots_, pos);
    --size_;
  }
  size_t size() const { return size_; }

private:
  /// A table twice as large with the same entries, in the same order.
  void grow() {
    HashTable bigger = HashTable::mustCreate(table_.grownCapacity(), sizeof(Key));
    std::vector<Slot> slots(bigger.capacity());
    LruList lru;
    for (uint32_t i = lru_.head; i != kNil; i = slots_[i].links.next) {
      int32_t pos = rte_hash_add_key_with_hash(bigger.get(), &slots_[i].key, slots_[i].sig);
      if (pos < 0) fatal(std::string("growing a flow table: ") + rte_strerror(-pos));
      slots[pos] = slots_[i];
      lru.pushBack(slots, uint32_t(pos));
    }
    table_ = std::move(bigger);
    slots_ = std::move(slots);
    lru_ = lru;
    initCache(); // every position moved
  }
  /// An empty cache, or none when positions no longer fit its data.
  void initCache() { cache_.init(table_.capacity() - 1 <= FlowCache::kMaxData ? cacheEntries_ : 0); }
  static FlowWords words(const Key &k) {
    if constexpr (sizeof(Key) == sizeof(FlowWords)) return std::bit_cast<FlowWords>(k);
    else return {};
  }

  uint64_t timeoutNs_ = 0;
  HashTable table_;
  std::vector<Slot> slots_;
  LruList lru_;
  size_t size_ = 0;
  uint32_t cacheEntries_ = 0; ///< 0: no flow cache
  FlowCache cache_;           ///< key -> position
};

// ---- Napt -------------------------------------------------------------------------------------

/// A state with a FlowCache (flowCacheCounts reads it).
struct CachedState {
  virtual ~CachedState() = default;
  virtual const FlowCache &flowCache() const = 0;
  /// Whether every entry of the cache is a key of the table with the table's data; else false
  /// and \p why.
  virtual bool cacheConsistent(std::string &why) const = 0;
};

class NaptFlowState final : public ElementState, public CachedState {
public:
  explicit NaptFlowState(const ir::Napt &e)
      : address_(e.address), portLo_(e.portLo), rangeSize_(uint32_t(e.portHi) - e.portLo + 1),
        timeoutNs_(uint64_t(e.timeoutSec) * kNsPerSec),
        addrA_(e.field == FieldId::IpSrc ? FieldId::IpSrc : FieldId::IpDst),
        portA_(e.field == FieldId::IpSrc ? FieldId::TpSrc : FieldId::TpDst),
        addrB_(e.field == FieldId::IpSrc ? FieldId::IpDst : FieldId::IpSrc),
        portB_(e.field == FieldId::IpSrc ? FieldId::TpDst : FieldId::TpSrc), srcNat_(e.field == FieldId::IpSrc),
        map_(rangeSize_), used_((rangeSize_ + 63) / 64, 0) {}

  bool init(uint32_t cacheEntries, std::string &err) {
    cache_.init(std::min<uint32_t>(cacheEntries, std::bit_ceil(rangeSize_) * 2));
    return table_.create(std::max<uint32_t>(rangeSize_, 8), sizeof(FlowKey), err);
  }

  /// The fast path is a TCP/UDP packet that cannot be return traffic (its addrB is not the
  /// NAPT's address: translateBack would say no at once) of a flow the cache knows; the rest is
  /// out of line (slowPath, translate), so that this function stays small.
  Result process(pkt::Packet &p) override {
    ++in_;
    const pkt::Layout &l = p.layout();
    if (!l.ipv4) return {};
    const uint64_t now = clock_.advance(p.timestampNs);
    if (lru_.head != kNil && now - map_[lru_.head].lastUsed >= timeoutNs_) expire(now);
    if (!(l.tcp || l.udp) || p.get(addrB_) == address_) return slowPath(p, now);
    const FlowWords w = FlowWords::of(p);
    const hash_sig_t sig = w.hash();
    const int64_t c = cache_.find(w, sig);
    if (c < 0) return translate(p, w, sig, now);
    touch(uint32_t(c), now);
    p.setAddressAndPort(addrA_, address_, portA_, uint16_t(portLo_ + uint32_t(c)));
    ++translated_;
    return {};
  }

  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    return {{"in", in_},       {"translated", translated_}, {"returned", returned_},
            {"dropped", dropped_}, {"mappings", live_},       {"allocated", allocated_}};
  }
  const FlowCache &flowCache() const override { return cache_; }
  bool cacheConsistent(std::string &why) const override {
    return cacheAgrees(cache_, table_, true, "port offset", why, [&](const FlowWords &w, uint32_t off) {
      return live(off) && FlowWords::of(map_[off].key).a == w.a && FlowWords::of(map_[off].key).b == w.b;
    });
  }

private:
  /// process() after the expiry for a packet off the fast path: not TCP/UDP, or maybe return
  /// traffic.
  [[gnu::noinline]] Result slowPath(pkt::Packet &p, uint64_t now) {
    const pkt::Layout &l = p.layout();
    if (!l.tcp && !l.udp) {
      p.set(addrA_, address_);
      ++translated_;
      return {};
    }
    if (translateBack(p, now)) {
      ++returned_;
      return {};
    }
    const FlowWords w = FlowWords::of(p);
    return translate(p, w, w.hash(), now); // the table answers as the cache would
  }

  /// The forward translation of a flow the cache does not know (or was not asked): its mapping
  /// from the table, or a new one (or a drop when every port is taken).
  [[gnu::noinline]] Result translate(pkt::Packet &p, const FlowWords &w, hash_sig_t sig, uint64_t now) {
    uint32_t off;
    if (off = lookup(w, sig); off != kNil) {
      touch(off, now);
      cache_.put(w, sig, off);
    } else {
      if (live_ == rangeSize_) {
        ++dropped_;
        return {.drop = true};
      }
      off = takeFreePort();
      const FlowKey k = w.key();
      int rc = rte_hash_add_key_with_hash_data(table_.get(), &k, sig, reinterpret_cast<void *>(uintptr_t(off)));
      if (rc < 0) fatal(std::string("NAPT: rte_hash_add_key_with_hash_data: ") + rte_strerror(-rc));
      Mapping &m = map_[off];
      m.key = k;
      m.sig = sig;
      m.lastUsed = now;
      lru_.pushBack(map_, off);
      used_[off >> 6] |= uint64_t(1) << (off & 63);
      ++live_;
      ++allocated_;
      cache_.put(w, sig, off);
    }
    p.setAddressAndPort(addrA_, address_, portA_, uint16_t(portLo_ + off));
    ++translated_;
    return {};
  }

  /// The mapping that owns port portLo + i (live when bit i of used_ is set).
  struct Mapping {
    FlowKey key; ///< the forward 5-tuple
    hash_sig_t sig;
    Links links;
    uint64_t lastUsed;
  };

  bool live(uint32_t off) const { return used_[off >> 6] >> (off & 63) & 1; }

  /// The port offset of \p w's mapping in the table, or kNil.
  uint32_t lookup(const FlowWords &w, hash_sig_t sig) const {
    const FlowKey k = w.key();
    void *data;
    return rte_hash_lookup_with_hash_data(table_.get(), &k, sig, &data) >= 0 ? uint32_t(uintptr_t(data)) : kNil;
  }

  void touch(uint32_t off, uint64_t now) {
    lru_.moveToBack(map_, off);
    map_[off].lastUsed = now;
  }

  [[gnu::noinline]] void expire(uint64_t now) {
    while (lru_.head != kNil && now - map_[lru_.head].lastUsed >= timeoutNs_) {
      uint32_t off = lru_.head;
      Mapping &m = map_[off];
      if (rte_hash_del_key_with_hash(table_.get(), &m.key, m.sig) < 0) fatal("NAPT: the flow table lost a mapping");
      cache_.drop(FlowWords::of(m.key), m.sig);
      lru_.unlink(map_, off);
      used_[off >> 6] &= ~(uint64_t(1) << (off & 63));
      --live_;
    }
  }

  /// Rule 1 of State.h (Napt): return traffic of a live mapping is translated back.
  bool translateBack(pkt::Packet &p, uint64_t now) {
    uint64_t port = p.get(portB_);
    if (p.get(addrB_) != address_ || port < portLo_ || port - portLo_ >= rangeSize_) return false;
    uint32_t off = uint32_t(port - portLo_);
    if (!live(off)) return false;
    const FlowKey &o = map_[off].key;
    uint32_t origAddrA = srcNat_ ? o.src : o.dst, origAddrB = srcNat_ ? o.dst : o.src;
    uint16_t origPortA = srcNat_ ? o.sport : o.dport, origPortB = srcNat_ ? o.dport : o.sport;
    if (p.get(FieldId::IpProto) != o.proto || p.get(addrA_) != origAddrB || p.get(portA_) != origPortB) return false;
    p.setAddressAndPort(addrB_, origAddrA, portB_, origPortA);
    touch(off, now);
    return true;
  }

  /// The first free port at or after the cursor (one exists: the caller checked), by words of
  /// the in-use bitmap.
  uint32_t takeFreePort() {
    uint32_t i = cursor_;
    const uint32_t lastWord = (rangeSize_ - 1) >> 6;
    const uint64_t lastMask = (rangeSize_ & 63) ? (uint64_t(1) << (rangeSize_ & 63)) - 1 : ~uint64_t(0);
    for (;;) {
      uint32_t w = i >> 6;
      uint64_t free = ~used_[w] & (~uint64_t(0) << (i & 63));
      if (w == lastWord) free &= lastMask;
      if (free) {
        uint32_t off = (w << 6) + uint32_t(__builtin_ctzll(free));
        cursor_ = off + 1 == rangeSize_ ? 0 : off + 1;
        return off;
      }
      i = w == lastWord ? 0 : (w + 1) << 6;
    }
  }

  uint32_t address_;
  uint32_t portLo_, rangeSize_;
  uint64_t timeoutNs_;
  FieldId addrA_, portA_, addrB_, portB_;
  bool srcNat_;
  HashTable table_;
  FlowCache cache_;            ///< in front of table_
  std::vector<Mapping> map_;   ///< by port offset
  std::vector<uint64_t> used_; ///< bit i: port portLo + i belongs to a live mapping
  LruList lru_;
  uint32_t live_ = 0;
  uint32_t cursor_ = 0; ///< port offset
  Clock clock_;
  uint64_t in_ = 0, translated_ = 0, returned_ = 0, dropped_ = 0, allocated_ = 0;
};

// ---- Balance ----------------------------------------------------------------------------------

class BalanceFlowState final : public ElementState, public CachedState {
public:
  BalanceFlowState(const ir::Balance &e, std::vector<std::string> labels)
      : field_(e.field), address_(e.field == FieldId::IpDst || e.field == FieldId::IpSrc),
        hashPolicy_(e.policy == ir::Balance::Hash), backends_(e.backends), labels_(std::move(labels)),
        perBackend_(e.backends.size()) {}

  bool init(uint32_t entries, uint32_t cacheEntries, std::string &err) {
    cache_.init(backends_.size() - 1 <= FlowCache::kMaxData ? cacheEntries : 0);
    return table_.create(entries, sizeof(FlowKey), err);
  }

  Result process(pkt::Packet &p) override {
    ++in_;
    const FlowWords w = FlowWords::of(p);
    const hash_sig_t sig = w.hash();
    const int64_t c = cache_.find(w, sig);
    const uint32_t b = c >= 0 ? uint32_t(c) : backendOf(p, w, sig);
    ++perBackend_[b];
    if (address_)
      p.setAddress(field_, uint32_t(backends_[b]));
    else
      p.set(field_, backends_[b]);
    return {};
  }

  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    std::vector<std::pair<std::string, uint64_t>> c = {{"in", in_}, {"flows", flows_}};
    for (size_t i = 0; i < backends_.size(); ++i) c.push_back({labels_[i], perBackend_[i]});
    return c;
  }
  const FlowCache &flowCache() const override { return cache_; }
  bool cacheConsistent(std::string &why) const override {
    return cacheAgrees(cache_, table_, true, "backend", why, [](const FlowWords &, uint32_t) { return true; });
  }

private:
  /// The backend of a flow the cache does not know: from the table, or chosen for a new flow.
  [[gnu::noinline]] uint32_t backendOf(const pkt::Packet &p, const FlowWords &w, hash_sig_t sig) {
    uint32_t b = lookup(w, sig);
    if (b == kNil) {
      size_t n = backends_.size();
      b = uint32_t(hashPolicy_ ? size_t(state::flowHash(p) % n) : size_t(nextRR_++ % n));
      add(w.key(), sig, b);
      ++flows_;
    }
    cache_.put(w, sig, b);
    return b;
  }

  /// The backend of \p w's flow in the table, or kNil.
  uint32_t lookup(const FlowWords &w, hash_sig_t sig) const {
    const FlowKey k = w.key();
    void *data;
    return rte_hash_lookup_with_hash_data(table_.get(), &k, sig, &data) >= 0 ? uint32_t(uintptr_t(data)) : kNil;
  }
  void add(const FlowKey &k, hash_sig_t sig, uint32_t b) {
    void *data = reinterpret_cast<void *>(uintptr_t(b));
    int rc = rte_hash_add_key_with_hash_data(table_.get(), &k, sig, data);
    if (rc == -ENOSPC) {
      grow();
      rc = rte_hash_add_key_with_hash_data(table_.get(), &k, sig, data);
    }
    if (rc < 0) fatal(std::string("balance: rte_hash_add_key_with_hash_data: ") + rte_strerror(-rc));
  }
  /// A table twice as large with every flow and its backend.
  void grow() {
    HashTable bigger = HashTable::mustCreate(table_.grownCapacity(), sizeof(FlowKey));
    const void *key;
    void *data;
    uint32_t next = 0;
    while (rte_hash_iterate(table_.get(), &key, &data, &next) >= 0) {
      int rc = rte_hash_add_key_with_hash_data(bigger.get(), key, bigger.hash(key), data);
      if (rc < 0) fatal(std::string("growing a balance table: ") + rte_strerror(-rc));
    }
    table_ = std::move(bigger);
  }

  FieldId field_;
  bool address_; ///< field_ is ip.src or ip.dst (Packet::setAddress)
  bool hashPolicy_;
  std::vector<uint64_t> backends_;
  std::vector<std::string> labels_; ///< "backend[i]=VALUE", as the reference names them
  HashTable table_;
  FlowCache cache_; ///< in front of table_ (flows are never deleted; growth keeps their backend)
  uint64_t nextRR_ = 0, in_ = 0, flows_ = 0;
  std::vector<uint64_t> perBackend_;
};

// ---- Monitor ----------------------------------------------------------------------------------

template <size_t W> class MonitorFlowState final : public ElementState, public CachedState {
public:
  explicit MonitorFlowState(std::vector<FieldId> key) : key_(std::move(key)) {}
  /// A flow cache when the key leaves the last 3 bytes of a 2-word key 0 (104 bits or fewer:
  /// the 5-tuple, the default key, takes 104).
  bool init(uint32_t entries, uint64_t timeoutNs, uint32_t cacheEntries, std::string &err) {
    return flows_.init(entries, timeoutNs, W == 2 && keyBits(key_) <= 104 ? cacheEntries : 0, err);
  }
  const FlowCache &flowCache() const override { return flows_.cache(); }
  bool cacheConsistent(std::string &why) const override { return flows_.cacheConsistent(why); }

  Result process(pkt::Packet &p) override {
    ++in_;
    uint64_t now = clock_.advance(p.timestampNs);
    flows_.expire(now, [&](auto &) { ++expired_; });
    Key k = Key::of(state::packKey(key_, p));
    hash_sig_t sig = flows_.hash(k);
    int32_t pos = flows_.find(k, sig);
    if (pos >= 0) flows_.touch(uint32_t(pos), now);
    else pos = int32_t(flows_.insert(k, sig, Record{}, now));
    Record &r = flows_.at(uint32_t(pos)).value;
    ++r.packets;
    r.bytes += p.wireLen;
    bytes_ += p.wireLen;
    return {};
  }

  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    return {{"in", in_}, {"flows", flows_.size()}, {"expired", expired_}, {"packets", in_}, {"bytes", bytes_}};
  }

private:
  using Key = WordsKey<W>;
  struct Record {
    uint64_t packets = 0, bytes = 0;
  };
  std::vector<FieldId> key_;
  Clock clock_;
  IdleFlowTable<Key, Record> flows_;
  uint64_t in_ = 0, expired_ = 0, bytes_ = 0;
};

// ---- Conntrack --------------------------------------------------------------------------------

class ConntrackFlowState final : public ElementState, public CachedState {
public:
  explicit ConntrackFlowState(const ir::Conntrack &e) : strict_(e.strict) {}
  bool init(uint32_t entries, uint64_t timeoutNs, uint32_t cacheEntries, std::string &err) {
    return conns_.init(entries, timeoutNs, cacheEntries, err);
  }
  const FlowCache &flowCache() const override { return conns_.cache(); }
  bool cacheConsistent(std::string &why) const override { return conns_.cacheConsistent(why); }

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
  struct None {};

  /// The 5-tuple with the endpoints (address, port) in ascending order (built in registers:
  /// FlowWords).
  static FlowKey canonical(const pkt::Packet &p) {
    uint32_t src = uint32_t(p.get(FieldId::IpSrc)), dst = uint32_t(p.get(FieldId::IpDst));
    uint16_t sport = uint16_t(p.get(FieldId::TpSrc)), dport = uint16_t(p.get(FieldId::TpDst));
    if (std::make_pair(dst, dport) < std::make_pair(src, sport)) {
      std::swap(src, dst);
      std::swap(sport, dport);
    }
    return FlowWords{uint64_t(src) | uint64_t(dst) << 32,
                     uint64_t(sport) | uint64_t(dport) << 16 | uint64_t(uint8_t(p.get(FieldId::IpProto))) << 32}
        .key();
  }

  bool decide(const pkt::Packet &p, uint64_t now) {
    const pkt::Layout &l = p.layout();
    uint64_t proto = p.get(FieldId::IpProto);
    if (l.ipv4 && proto == 6) {
      if (!l.tcp) return false;
      uint64_t flags = p.get(FieldId::TcpFlags);
      FlowKey k = canonical(p);
      hash_sig_t sig = conns_.hash(k);
      int32_t c = conns_.find(k, sig);
      if (flags & kRst) {
        if (c < 0) return false;
        conns_.erase(uint32_t(c));
        return true;
      }
      if ((flags & kSyn) && !(flags & kAck)) {
        if (c >= 0) conns_.touch(uint32_t(c), now);
        else conns_.insert(k, sig, None{}, now);
        return true;
      }
      if (c < 0) return false;
      conns_.touch(uint32_t(c), now);
      return true;
    }
    if (!strict_) return true;
    if (!l.ipv4 || proto != 17) return false;
    FlowKey k = canonical(p);
    hash_sig_t sig = conns_.hash(k);
    int32_t c = conns_.find(k, sig);
    if (c >= 0) conns_.touch(uint32_t(c), now);
    else conns_.insert(k, sig, None{}, now);
    return true;
  }

  bool strict_;
  Clock clock_;
  IdleFlowTable<FlowKey, None> conns_;
  uint64_t in_ = 0, passed_ = 0, dropped_ = 0;
};

// ---- RateLimit --------------------------------------------------------------------------------

/// W == 0: the key is empty, one bucket for every packet (no table).
template <size_t W> class RateLimitFlowState final : public ElementState, public CachedState {
public:
  explicit RateLimitFlowState(const ir::RateLimit &e)
      : key_(e.key), packets_(e.packets), rate_(e.rate),
        capacity_(u128(e.packets ? e.burst : 8 * e.burst) * kNsPerSec) {}

  /// A flow cache (key -> bucket position) when the key takes one set of 2 words with the last
  /// 3 bytes 0 (at most 104 bits).
  bool init([[maybe_unused]] uint32_t entries, [[maybe_unused]] uint32_t cacheEntries, std::string &err) {
    if constexpr (W == 0) {
      buckets_.resize(1);
      return true;
    } else {
      if (!table_.create(entries, sizeof(Key), err)) return false;
      buckets_.resize(entries);
      cacheEntries_ = W == 2 && keyBits(key_) <= 104 ? cacheEntries : 0;
      initCache();
      return true;
    }
  }
  const FlowCache &flowCache() const override { return cache_; }
  bool cacheConsistent(std::string &why) const override {
    return cacheAgrees(cache_, table_, false, "position", why, [](const FlowWords &, uint32_t) { return true; });
  }

  Result process(pkt::Packet &p) override {
    ++in_;
    uint64_t now = clock_.advance(p.timestampNs);
    Bucket *b;
    if constexpr (W == 0) {
      b = &buckets_[0];
      if (!count_) {
        *b = Bucket{capacity_, now};
        count_ = 1;
      } else {
        refill(*b, now);
      }
    } else {
      Key k = Key::of(state::packKey(key_, p));
      hash_sig_t sig = keyHash(k);
      int32_t pos = cacheEntries_ ? int32_t(cache_.find(words(k), sig)) : -1;
      if (pos < 0) {
        pos = rte_hash_lookup_with_hash(table_.get(), &k, sig);
        if (pos >= 0 && cacheEntries_) cache_.put(words(k), sig, uint32_t(pos));
      }
      if (pos >= 0) {
        b = &buckets_[pos];
        refill(*b, now);
      } else {
        b = &buckets_[add(k, sig)];
        *b = Bucket{capacity_, now};
        ++count_;
      }
    }
    u128 cost = (packets_ ? u128(1) : u128(8) * p.wireLen) * kNsPerSec;
    if (b->tokens < cost) {
      ++dropped_;
      return {.drop = true};
    }
    b->tokens -= cost;
    ++passed_;
    return {};
  }

  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    return {{"in", in_}, {"passed", passed_}, {"dropped", dropped_}, {"buckets", count_}};
  }

private:
  using u128 = unsigned __int128;
  using Key = WordsKey<(W ? W : 2)>;
  struct Bucket {
    u128 tokens; ///< nano-units (10^-9 packet or bit)
    uint64_t last;
  };

  void refill(Bucket &b, uint64_t now) {
    b.tokens = std::min(capacity_, b.tokens + u128(rate_) * (now - b.last));
    b.last = now;
  }
  /// Adds \p k (growing the table when it is full); its position.
  uint32_t add(const Key &k, hash_sig_t sig) {
    int32_t pos = rte_hash_add_key_with_hash(table_.get(), &k, sig);
    if (pos == -ENOSPC) {
      grow();
      pos = rte_hash_add_key_with_hash(table_.get(), &k, sig);
    }
    if (pos < 0) fatal(std::string("ratelimit: rte_hash_add_key_with_hash: ") + rte_strerror(-pos));
    if (cacheEntries_) cache_.put(words(k), sig, uint32_t(pos));
    return uint32_t(pos);
  }
  /// An empty cache, or none when positions no longer fit its data.
  void initCache() { cache_.init(table_.capacity() - 1 <= FlowCache::kMaxData ? cacheEntries_ : 0); }
  static FlowWords words(const Key &k) {
    if constexpr (sizeof(Key) == sizeof(FlowWords)) return std::bit_cast<FlowWords>(k);
    else return {};
  }
  /// A table twice as large with every bucket.
  void grow() {
    HashTable bigger = HashTable::mustCreate(table_.grownCapacity(), sizeof(Key));
    std::vector<Bucket> buckets(bigger.capacity());
    const void *key;
    void *data;
    uint32_t next = 0;
    int32_t pos;
    while ((pos = rte_hash_iterate(table_.get(), &key, &data, &next)) >= 0) {
      int32_t to = rte_hash_add_key_with_hash(bigger.get(), key, bigger.hash(key));
      if (to < 0) fatal(std::string("growing a ratelimit table: ") + rte_strerror(-to));
      buckets[to] = buckets_[pos];
    }
    table_ = std::move(bigger);
    buckets_ = std::move(buckets);
    initCache(); // every position moved
  }

  std::vector<FieldId> key_;
  bool packets_;
  uint64_t rate_;
  u128 capacity_;
  Clock clock_;
  HashTable table_;
  uint32_t cacheEntries_ = 0;   ///< 0: no flow cache
  FlowCache cache_;             ///< key -> position, in front of table_
  std::vector<Bucket> buckets_; ///< by key position
  uint64_t count_ = 0, in_ = 0, passed_ = 0, dropped_ = 0;
};

/// A state built by \p S's constructor and init(\p args...), or nullptr and \p err.
template <typename S, typename... I>
std::unique_ptr<ElementState> build(std::unique_ptr<S> s, std::string &err, I... args) {
  if (!s->init(args..., err)) return nullptr;
  return s;
}

/// The words (2, 4 or 6) of the smallest WordsKey holding \p bits; 0 when more than 320 bits.
size_t keyWords(unsigned bits) {
  size_t words = (bits + 63) / 64;
  if (words > 5) return 0;
  return words <= 2 ? 2 : words <= 4 ? 4 : 6;
}

std::unique_ptr<ElementState> makeMonitor(const ir::Monitor &e, std::string &err, uint32_t entries,
                                          uint32_t cacheEntries) {
  std::vector<FieldId> key = e.key.empty() ? std::vector<FieldId>{FieldId::IpSrc, FieldId::IpDst, FieldId::IpProto,
                                                                  FieldId::TpSrc, FieldId::TpDst}
                                           : e.key;
  uint64_t timeoutNs = uint64_t(e.timeoutSec) * kNsPerSec;
  switch (keyWords(keyBits(key))) {
  case 2: return build(std::make_unique<MonitorFlowState<2>>(key), err, entries, timeoutNs, cacheEntries);
  case 4: return build(std::make_unique<MonitorFlowState<4>>(key), err, entries, timeoutNs, cacheEntries);
  case 6: return build(std::make_unique<MonitorFlowState<6>>(key), err, entries, timeoutNs, cacheEntries);
  default: err = "monitor: the key is longer than 320 bits"; return nullptr;
  }
}

std::unique_ptr<ElementState> makeRateLimit(const ir::RateLimit &e, std::string &err, uint32_t entries,
                                            uint32_t cacheEntries) {
  unsigned bits = keyBits(e.key);
  if (bits == 0) return build(std::make_unique<RateLimitFlowState<0>>(e), err, entries, cacheEntries);
  switch (keyWords(bits)) {
  case 2: return build(std::make_unique<RateLimitFlowState<2>>(e), err, entries, cacheEntries);
  case 4: return build(std::make_unique<RateLimitFlowState<4>>(e), err, entries, cacheEntries);
  case 6: return build(std::make_unique<RateLimitFlowState<6>>(e), err, entries, cacheEntries);
  default: err = "ratelimit: the key is longer than 320 bits"; return nullptr;
  }
}

} // namespace

bool flowCacheConsistent(const ElementState &s, std::string &why) {
  const auto *c = dynamic_cast<const CachedState *>(&s);
  return !c || c->cacheConsistent(why);
}

bool flowCacheCounts(const ElementState &s, uint64_t &hits, uint64_t &misses) {
  const auto *c = dynamic_cast<const CachedState *>(&s);
  if (!c || !c->flowCache().enabled()) return false;
  hits = c->flowCache().hits();
  misses = c->flowCache().misses();
  return true;
}

std::unique_ptr<ElementState> makeFlowState(const ir::Element &e, std::string &err, uint32_t initialEntries,
                                            uint32_t cacheEntries) {
  err.clear();
  uint32_t entries = std::clamp<uint32_t>(initialEntries, 8, RTE_HASH_ENTRIES_MAX / 2);
  switch (e.kind) {
  case ir::ElementKind::Napt: {
    const auto &n = static_cast<const ir::Napt &>(e);
    if (n.portHi < n.portLo) {
      err = "napt: empty port range " + std::to_string(n.portLo) + "-" + std::to_string(n.portHi);
      return nullptr;
    }
    auto s = std::make_unique<NaptFlowState>(n);
    if (!s->init(cacheEntries, err)) return nullptr;
    return s;
  }
  case ir::ElementKind::Balance: {
    const auto &b = static_cast<const ir::Balance &>(e);
    if (b.backends.empty()) {
      err = "balance: no backends";
      return nullptr;
    }
    // The counter names ("backend[i]=VALUE", VALUE written as the language writes the field's
    // values) are the reference's own: one definition.
    auto ref = ElementState::create(e, err);
    if (!ref) return nullptr;
    std::vector<std::string> labels;
    for (auto &[name, v] : ref->counters())
      if (name.rfind("backend[", 0) == 0) labels.push_back(name);
    if (labels.size() != b.backends.size()) {
      err = "balance: unexpected counters of the reference state";
      return nullptr;
    }
    return build(std::make_unique<BalanceFlowState>(b, std::move(labels)), err, entries, cacheEntries);
  }
  case ir::ElementKind::Monitor: return makeMonitor(static_cast<const ir::Monitor &>(e), err, entries, cacheEntries);
  case ir::ElementKind::Conntrack: {
    const auto &c = static_cast<const ir::Conntrack &>(e);
    return build(std::make_unique<ConntrackFlowState>(c), err, entries, uint64_t(c.timeoutSec) * kNsPerSec,
                 cacheEntries);
  }
  case ir::ElementKind::RateLimit:
    return makeRateLimit(static_cast<const ir::RateLimit &>(e), err, entries, cacheEntries);
  case ir::ElementKind::Dpi: return nullptr;
  default:
    err = "not a stateful element";
    return nullptr;
  }
}

} // namespace metron::dp
