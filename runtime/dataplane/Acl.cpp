//===- runtime/dataplane/Acl.cpp - Large traffic-class tables classified with rte_acl ---------===//
///
/// \file
/// The flat encoding of traffic-class tables and their compilation into rte_acl contexts.
///
/// What rte_acl (DPDK 22.11, lib/acl/acl_bld.c) requires of the field definitions, and how
/// this file meets it:
///  - the first field is 1 byte (its trie level is the root transition): a constrained 8-bit
///    field when the table has one, else a byte that every rule leaves wild;
///  - every further input group (input_index) is read as one 4-byte word, byte by byte, so the
///    fields of a group must cover exactly 4 consecutive bytes: 1- and 2-byte fields are packed
///    (first fit decreasing) and a partial group is filled with always-wild 1-byte fields; a
///    4-byte field is a group of its own, an 8-byte one takes two consecutive words;
///  - tries consume each field most significant byte first, so the key holds values big-endian
///    (rules give them in host order);
///  - userdata 0 means "no match", priorities are 1..RTE_ACL_MAX_PRIORITY, higher wins;
///  - a context with no rules does not build (-EINVAL), and rte_acl_create returns the existing
///    context when the name is taken, so names get a unique suffix.
///  - a build that needs more than RTE_ACL_MAX_TRIES (8) tries fails with -ENOMEM (and logs
///    "ACL: Exceeded max number of tries"): the rules are then halved into consecutive
///    contexts, up to AclTable::kMaxContexts.
/// A field that no class constrains gets no definition at all; rte_acl itself also drops
/// groups that are wild in every rule.
//===----------------------------------------------------------------------------------------===//
#include "runtime/dataplane/Acl.h"

#include "compiler/NFIR.h"

#include <rte_acl.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace metron::dp {
namespace {

// ---- the fields, from Fields.def --------------------------------------------------------------

constexpr unsigned kBits[] = {
#define FIELD(E, N, B, K, W, D) B,
#include "compiler/Fields.def"
#undef FIELD
};
constexpr const char *kNames[] = {
#define FIELD(E, N, B, K, W, D) N,
#include "compiler/Fields.def"
#undef FIELD
};
static_assert(sizeof kBits / sizeof *kBits == ir::kNumFields);

constexpr uint64_t maxValue(unsigned f) { return kBits[f] >= 64 ? ~0ull : (1ull << kBits[f]) - 1; }
/// Bytes of the rte_acl field that holds field f: 1, 2, 4 or 8.
constexpr uint8_t aclSize(unsigned f) { return kBits[f] <= 8 ? 1 : kBits[f] <= 16 ? 2 : kBits[f] <= 32 ? 4 : 8; }
constexpr uint64_t sizeMask(unsigned bytes) { return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1; }

/// The largest key: the lead word, a Range and a Mask copy of every field, a padded group.
constexpr uint32_t maxKeyBytes() {
  uint32_t n = 4 + 4;
  for (unsigned f = 0; f < ir::kNumFields; ++f) n += 2 * aclSize(f);
  return n;
}
constexpr uint32_t kMaxKeyBytes = (maxKeyBytes() + 7) & ~7u;
/// RTE_ACL_MAX_TRIES of lib/acl/acl.h (not an installed header).
constexpr unsigned kAclMaxTries = 8;
// Lead + two per field + at most 3 padding bytes.
static_assert(1 + 2 * ir::kNumFields + 3 <= RTE_ACL_MAX_FIELDS, "too many fields for one rte_acl context");

std::string hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

/// Checks one constraint on its own; the reason (without location) in \p why.
bool checkConstraint(const AclConstraint &k, std::string &why) {
  if (k.field >= ir::kNumFields) {
    why = "field id " + std::to_string(k.field) + " is not a field (0.." + std::to_string(ir::kNumFields - 1) + ")";
    return false;
  }
  if (k.kind != AclConstraint::Range && k.kind != AclConstraint::Mask) {
    why = "kind " + std::to_string(k.kind) + " is neither 0 (range) nor 1 (mask)";
    return false;
  }
  const char *what = k.kind == AclConstraint::Range ? "range" : "mask";
  uint64_t max = maxValue(k.field);
  for (uint64_t v : {k.a, k.b})
    if (v > max) {
      why = std::string(what) + " value " + hex(v) + " is wider than " + kNames[k.field] + " (" +
            std::to_string(kBits[k.field]) + " bits)";
      return false;
    }
  if (k.kind == AclConstraint::Range && k.a > k.b) {
    why = "range " + std::to_string(k.a) + ".." + std::to_string(k.b) + " on " + kNames[k.field] + " is reversed";
    return false;
  }
  return true;
}

/// Checks a class; the reason and the constraint's position in \p why / \p at.
bool checkClass(const AclClass &cls, std::string &why, size_t &at) {
  uint32_t ranges = 0;
  for (at = 0; at < cls.c.size(); ++at) {
    const AclConstraint &k = cls.c[at];
    if (!checkConstraint(k, why)) return false;
    if (k.kind == AclConstraint::Range) {
      if (ranges & (1u << k.field)) {
        why = std::string("a second range on ") + kNames[k.field] + " (a class has at most one per field)";
        return false;
      }
      ranges |= 1u << k.field;
    }
  }
  return true;
}

// ---- classes normalised for rte_acl -----------------------------------------------------------

/// A class reduced to at most one Range and one merged Mask per field, wildcards dropped.
struct Norm {
  bool impossible = false;
  uint32_t hasRange = 0, hasMask = 0; ///< bit per field
  std::array<uint64_t, ir::kNumFields> lo{}, hi{}, value{}, mask{};
  bool all() const { return !impossible && hasRange == 0 && hasMask == 0; }
};

Norm normalise(const AclClass &cls) {
  Norm n;
  std::array<uint64_t, ir::kNumFields> value{}, mask{};
  for (const AclConstraint &k : cls.c) {
    unsigned f = k.field;
    if (k.kind == AclConstraint::Range) {
      if (k.a == 0 && k.b == maxValue(f)) continue; // the whole field
      n.hasRange |= 1u << f;
      n.lo[f] = k.a;
      n.hi[f] = k.b;
      continue;
    }
    // (v & b) == a: a bit of a outside b can never hold; two masks must agree where both look.
    if ((k.a & ~k.b) || ((value[f] ^ k.a) & mask[f] & k.b)) n.impossible = true;
    value[f] |= k.a;
    mask[f] |= k.b;
  }
  for (unsigned f = 0; f < ir::kNumFields; ++f)
    if (mask[f]) {
      n.hasMask |= 1u << f;
      n.value[f] = value[f];
      n.mask[f] = mask[f];
    }
  return n;
}

/// One rte_acl field of the layout.
struct Def {
  enum Kind : uint8_t { Range, Mask, Pad };
  uint8_t field = 0;
  Kind kind = Pad;
  uint8_t size = 1;
  uint8_t group = 0;   ///< rte_acl input_index
  uint16_t offset = 0; ///< in the key
};

/// Orders the definitions: the lead byte, then 4-byte groups (see the file comment).
std::vector<Def> makeLayout(uint32_t useRange, uint32_t useMask, uint32_t &keyBytes) {
  std::vector<Def> wanted;
  for (unsigned f = 0; f < ir::kNumFields; ++f) {
    if (useRange & (1u << f)) wanted.push_back({uint8_t(f), Def::Range, aclSize(f)});
    if (useMask & (1u << f)) wanted.push_back({uint8_t(f), Def::Mask, aclSize(f)});
  }
  std::vector<Def> out;
  auto lead = std::find_if(wanted.begin(), wanted.end(), [](const Def &d) { return d.size == 1; });
  if (lead != wanted.end()) {
    out.push_back(*lead);
    wanted.erase(lead);
  } else {
    out.push_back(Def{});
  }
  // Groups: a 4- or 8-byte field alone; 1- and 2-byte ones packed first fit decreasing.
  std::vector<std::vector<Def>> groups;
  std::vector<uint32_t> fill;
  for (const Def &d : wanted)
    if (d.size >= 4) {
      groups.push_back({d});
      fill.push_back(4);
    }
  std::vector<Def> small;
  for (const Def &d : wanted)
    if (d.size < 4) small.push_back(d);
  std::stable_sort(small.begin(), small.end(), [](const Def &a, const Def &b) { return a.size > b.size; });
  for (const Def &d : small) {
    size_t g = 0;
    while (g < groups.size() && fill[g] + d.size > 4) ++g;
    if (g == groups.size()) {
      groups.emplace_back();
      fill.push_back(0);
    }
    groups[g].push_back(d);
    fill[g] += d.size;
  }
  for (size_t g = 0; g < groups.size(); ++g)
    for (; fill[g] < 4; ++fill[g]) groups[g].push_back(Def{});
  // Groups in field order (ip.src before ip.dst before the ports), as l3fwd-acl lays them out.
  std::stable_sort(groups.begin(), groups.end(),
                   [](const std::vector<Def> &a, const std::vector<Def> &b) { return a[0].field < b[0].field; });
  uint16_t offset = 4;
  uint8_t group = 1;
  for (auto &g : groups) {
    for (Def d : g) {
      d.group = group;
      d.offset = offset;
      offset = uint16_t(offset + d.size);
      out.push_back(d);
    }
    ++group;
  }
  keyBytes = offset;
  return out;
}

/// Allocated bytes of DPDK's heaps, over every socket.
size_t heapAllocated() {
  size_t total = 0;
  for (unsigned i = 0; i < rte_socket_count(); ++i) {
    rte_malloc_socket_stats s{};
    if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &s) == 0) total += s.heap_allocsz_bytes;
  }
  return total;
}

std::mutex gNameLock; ///< find + create of a context name
std::atomic<uint64_t> gNameCounter{0};

std::string mib(size_t bytes) {
  if (bytes < (1u << 20)) return std::to_string(bytes) + " bytes";
  char buf[32];
  snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / double(1 << 20));
  return buf;
}

/// Creates and builds one rte_acl context over \p count rules; 0, or a negative errno and the
/// call that failed. The context name is unique: rte_acl_create hands back an existing context
/// of the same name instead of a new one.
int makeContext(const std::string &name, const uint8_t *rules, size_t ruleSize, uint32_t count,
                const rte_acl_config &cfg, rte_acl_ctx *&ctx, const char *&call) {
  {
    std::lock_guard<std::mutex> lock(gNameLock);
    std::string ctxName;
    do {
      std::string suffix = "#" + std::to_string(gNameCounter++);
      ctxName = name.substr(0, RTE_ACL_NAMESIZE - 1 - suffix.size()) + suffix;
    } while (rte_acl_find_existing(ctxName.c_str()));
    rte_acl_param param{};
    param.name = ctxName.c_str();
    param.socket_id = SOCKET_ID_ANY;
    param.rule_size = uint32_t(ruleSize);
    param.max_rule_num = count;
    ctx = rte_acl_create(&param);
    if (!ctx) {
      call = "rte_acl_create";
      return -rte_errno;
    }
  }
  int rc = rte_acl_add_rules(ctx, reinterpret_cast<const rte_acl_rule *>(rules), count);
  call = "rte_acl_add_rules";
  if (rc == 0) {
    rc = rte_acl_build(ctx, &cfg);
    call = "rte_acl_build";
  }
  if (rc != 0) {
    rte_acl_free(ctx);
    ctx = nullptr;
  }
  return rc;
}

} // namespace

// ---- the flat encoding ------------------------------------------------------------------------

std::vector<uint64_t> encodeAclTable(const std::vector<AclClass> &classes) {
  std::vector<uint64_t> w{kAclMagic, classes.size()};
  for (const AclClass &cls : classes) {
    w.push_back(cls.c.size());
    for (const AclConstraint &k : cls.c) {
      w.push_back(uint64_t(k.field) | uint64_t(k.kind) << 8);
      w.push_back(k.a);
      w.push_back(k.b);
    }
  }
  return w;
}

bool decodeAclTable(const uint64_t *words, size_t n, std::vector<AclClass> &out, std::string &err) {
  out.clear();
  auto fail = [&](std::string msg) {
    out.clear();
    err = "acl table: " + std::move(msg);
    return false;
  };
  if (n < 2 || !words) return fail("truncated: " + std::to_string(n) + " words, the header alone needs 2");
  if (words[0] != kAclMagic)
    return fail("word 0 is " + hex(words[0]) + ", not the magic " + hex(kAclMagic) +
                " (not an acl table, or another format version)");
  uint64_t count = words[1];
  // Every class needs at least its count word: bound the count before reserving anything.
  if (count > n - 2)
    return fail("word 1 announces " + std::to_string(count) + " classes but only " + std::to_string(n - 2) +
                " words follow");
  out.reserve(count);
  size_t pos = 2;
  for (uint64_t c = 0; c < count; ++c) {
    if (pos >= n)
      return fail("truncated: class " + std::to_string(c) + " of " + std::to_string(count) + " starts at word " +
                  std::to_string(pos) + ", past the end (" + std::to_string(n) + " words)");
    uint64_t k = words[pos];
    if (k > (n - pos - 1) / 3)
      return fail("truncated: word " + std::to_string(pos) + " gives class " + std::to_string(c) + " " +
                  std::to_string(k) + " constraints, but only " + std::to_string(n - pos - 1) + " words follow");
    ++pos;
    AclClass cls;
    cls.c.reserve(k);
    uint32_t ranges = 0;
    for (uint64_t i = 0; i < k; ++i, pos += 3) {
      uint64_t head = words[pos];
      std::string where =
          "word " + std::to_string(pos) + " (class " + std::to_string(c) + ", constraint " + std::to_string(i) + "): ";
      if (head >> 16) return fail(where + "reserved bits set in " + hex(head));
      AclConstraint con{uint8_t(head & 0xff), uint8_t(head >> 8), words[pos + 1], words[pos + 2]};
      std::string why;
      if (!checkConstraint(con, why)) return fail(where + why);
      if (con.kind == AclConstraint::Range) {
        if (ranges & (1u << con.field))
          return fail(where + "a second range on " + kNames[con.field] + " (a class has at most one per field)");
        ranges |= 1u << con.field;
      }
      cls.c.push_back(con);
    }
    out.push_back(std::move(cls));
  }
  if (pos != n)
    return fail(std::to_string(n - pos) + (n - pos == 1 ? " word" : " words") + " after the last class (word " +
                std::to_string(pos) + " on)");
  return true;
}

bool validateAclClasses(const std::vector<AclClass> &classes, std::string &err) {
  for (size_t i = 0; i < classes.size(); ++i) {
    std::string why;
    size_t at = 0;
    if (!checkClass(classes[i], why, at)) {
      err = "class " + std::to_string(i) + ", constraint " + std::to_string(at) + ": " + why;
      return false;
    }
  }
  return true;
}

// ---- AclTable ---------------------------------------------------------------------------------

std::unique_ptr<AclTable> AclTable::build(const std::vector<AclClass> &classes, const std::string &name,
                                          std::string &err, size_t maxSize) {
  std::string why;
  if (!validateAclClasses(classes, why)) {
    err = "acl table '" + name + "': " + why;
    return nullptr;
  }
  if (classes.size() >= UINT32_MAX) {
    err =
        "acl table '" + name + "': " + std::to_string(classes.size()) + " classes do not fit rte_acl's 32-bit userdata";
    return nullptr;
  }
  std::unique_ptr<AclTable> t(new AclTable);

  // The classes that can match: impossible ones left out, nothing after a class matching all.
  std::vector<uint32_t> kept;
  std::vector<Norm> norms;
  uint32_t useRange = 0, useMask = 0;
  for (size_t i = 0; i < classes.size(); ++i) {
    Norm nm = normalise(classes[i]);
    if (nm.impossible) continue;
    bool all = nm.all();
    useRange |= nm.hasRange;
    useMask |= nm.hasMask;
    kept.push_back(uint32_t(i));
    norms.push_back(nm);
    if (all) break;
  }
  if (kept.empty() || norms[0].all()) {
    t->constant_ = kept.empty() ? -1 : int32_t(kept[0]);
    t->layout_ = kept.empty() ? "(no class can match)" : "(class " + std::to_string(kept[0]) + " matches all)";
    return t;
  }
  if (kept.size() > uint64_t(RTE_ACL_MAX_PRIORITY)) {
    err = "acl table '" + name + "': " + std::to_string(kept.size()) +
          " classes exceed rte_acl's priorities (RTE_ACL_MAX_PRIORITY = " + std::to_string(RTE_ACL_MAX_PRIORITY) + ")";
    return nullptr;
  }

  uint32_t keyBytes = 0;
  std::vector<Def> defs = makeLayout(useRange, useMask, keyBytes);
  assert(defs.size() <= RTE_ACL_MAX_FIELDS && keyBytes <= kMaxKeyBytes);
  t->aclFields_ = uint32_t(defs.size());
  t->keyBytes_ = keyBytes;
  t->keyStride_ = (keyBytes + 7) & ~7u;
  for (const Def &d : defs) {
    if (d.kind != Def::Pad) t->slots_.push_back({d.field, d.size, d.offset});
    if (!t->layout_.empty()) t->layout_ += "; ";
    t->layout_ += d.kind == Def::Pad ? std::string("pad")
                                     : std::string(kNames[d.field]) + (d.kind == Def::Range ? "/range" : "/mask");
    t->layout_ += "@" + std::to_string(d.offset) + ":" + std::to_string(d.size);
  }

  // The rules, in rte_acl's variable-size layout (RTE_ACL_RULE_SZ).
  const size_t ruleSize = RTE_ACL_RULE_SZ(defs.size());
  std::vector<uint64_t> ruleMem((ruleSize * kept.size() + 7) / 8, 0);
  auto *base = reinterpret_cast<uint8_t *>(ruleMem.data());
  for (size_t r = 0; r < kept.size(); ++r) {
    auto *rule = reinterpret_cast<rte_acl_rule *>(base + r * ruleSize);
    const Norm &nm = norms[r];
    rule->data.category_mask = 1;
    rule->data.priority = int32_t(kept.size() - r); // the first class the highest
    rule->data.userdata = kept[r] + 1;              // 0 is "no match"
    for (size_t i = 0; i < defs.size(); ++i) {
      const Def &d = defs[i];
      rte_acl_field &fl = rule->field[i];
      uint32_t bit = 1u << d.field;
      if (d.kind == Def::Range) {
        bool has = nm.hasRange & bit;
        fl.value.u64 = has ? nm.lo[d.field] : 0;
        fl.mask_range.u64 = has ? nm.hi[d.field] : sizeMask(d.size);
      } else if (d.kind == Def::Mask && (nm.hasMask & bit)) {
        fl.value.u64 = nm.value[d.field];
        fl.mask_range.u64 = nm.mask[d.field];
      } // else 0/0: wild
    }
  }

  rte_acl_config cfg{};
  cfg.num_categories = 1;
  cfg.num_fields = uint32_t(defs.size());
  cfg.max_size = maxSize;
  for (size_t i = 0; i < defs.size(); ++i) {
    const Def &d = defs[i];
    cfg.defs[i].type = d.kind == Def::Range ? RTE_ACL_FIELD_TYPE_RANGE : RTE_ACL_FIELD_TYPE_BITMASK;
    cfg.defs[i].size = d.size;
    cfg.defs[i].field_index = uint8_t(i);
    cfg.defs[i].input_index = d.group;
    cfg.defs[i].offset = d.offset;
  }

  // One context for all rules; when rte_acl cannot build it within RTE_ACL_MAX_TRIES tries, the
  // rules are halved into consecutive contexts, in class order.
  size_t heapBefore = heapAllocated();
  uint32_t splits = 0;
  std::string failure;
  auto buildRange = [&](auto &self, uint32_t first, uint32_t count) -> bool {
    rte_acl_ctx *ctx = nullptr;
    const char *call = nullptr;
    int rc = makeContext(name, base + size_t(first) * ruleSize, ruleSize, count, cfg, ctx, call);
    if (rc == 0) {
      t->ctxs_.push_back(ctx);
      return true;
    }
    // -ENOMEM from the build is mostly RTE_ACL_MAX_TRIES; -ERANGE (max_size) is not split
    // further: max_size is the memory budget of the table, and rte_acl already tried more tries.
    bool buildLimit = std::strcmp(call, "rte_acl_build") == 0 && rc == -ENOMEM;
    if (buildLimit && count > 1 && t->ctxs_.size() + splits + 1 < kMaxContexts) {
      ++splits;
      uint32_t half = count / 2;
      return self(self, first, half) && self(self, first + half, count - half);
    }
    std::string hint;
    if (rc == -ERANGE)
      hint = "; the run-time tries do not fit max_size " + mib(maxSize) + " even split into more tries";
    else if (rc == -ENOMEM && buildLimit)
      hint = "; rte_acl needs more than its " + std::to_string(kAclMaxTries) +
             " tries (RTE_ACL_MAX_TRIES), or DPDK's heap is exhausted";
    if (splits)
      hint += "; the table was split into " + std::to_string(splits + 1) + " parts, up to " +
              std::to_string(kMaxContexts) + " are allowed";
    std::string part = count == kept.size()
                           ? std::to_string(count) + " rules"
                           : std::to_string(count) + " of the " + std::to_string(kept.size()) + " rules";
    failure = std::string(call) + " failed: " + rte_strerror(-rc) + " (" + part + ", " + std::to_string(defs.size()) +
              " fields of " + std::to_string(keyBytes) + " key bytes" + hint + ")";
    return false;
  };
  if (!buildRange(buildRange, 0, uint32_t(kept.size()))) {
    err = "acl table '" + name + "': " + failure;
    return nullptr;
  }
  t->rules_ = uint32_t(kept.size());
  size_t heapAfter = heapAllocated();
  t->memBytes_ = heapAfter > heapBefore ? heapAfter - heapBefore : 0;
  return t;
}

AclTable::~AclTable() {
  for (rte_acl_ctx *ctx : ctxs_) rte_acl_free(ctx);
}

inline void AclTable::pack(const uint64_t *fields, uint8_t *key) const {
  for (const Slot &s : slots_) {
    uint64_t v = fields[s.field];
    uint8_t *p = key + s.offset;
    switch (s.size) {
    case 1: *p = uint8_t(v); break;
    case 2: {
      uint16_t b = __builtin_bswap16(uint16_t(v));
      memcpy(p, &b, 2);
      break;
    }
    case 4: {
      uint32_t b = __builtin_bswap32(uint32_t(v));
      memcpy(p, &b, 4);
      break;
    }
    default: {
      uint64_t b = __builtin_bswap64(v);
      memcpy(p, &b, 8);
      break;
    }
    }
  }
}

int32_t AclTable::lookup(const uint64_t *fields) const {
  if (ctxs_.empty()) return constant_;
  alignas(16) uint8_t key[kMaxKeyBytes];
  memset(key, 0, keyStride_);
  pack(fields, key);
  const uint8_t *data[1] = {key};
  for (rte_acl_ctx *ctx : ctxs_) {
    uint32_t result = 0;
    rte_acl_classify(ctx, data, &result, 1, 1);
    if (result) return int32_t(result) - 1;
  }
  return -1;
}

void AclTable::lookupBurst(const uint64_t *const *fields, uint32_t n, int32_t *out) const {
  if (ctxs_.empty()) {
    std::fill(out, out + n, constant_);
    return;
  }
  alignas(16) uint8_t keys[kBurst * kMaxKeyBytes];
  const uint8_t *data[kBurst];
  uint32_t results[kBurst], pending[kBurst];
  for (uint32_t done = 0; done < n; done += std::min(kBurst, n - done)) {
    uint32_t m = std::min(kBurst, n - done);
    int32_t *o = out + done;
    memset(keys, 0, size_t(m) * keyStride_);
    for (uint32_t i = 0; i < m; ++i) {
      data[i] = keys + size_t(i) * keyStride_;
      pack(fields[done + i], keys + size_t(i) * keyStride_);
    }
    rte_acl_classify(ctxs_[0], data, results, m, 1);
    if (ctxs_.size() == 1) {
      for (uint32_t i = 0; i < m; ++i) o[i] = int32_t(results[i]) - 1;
      continue;
    }
    // A table split into several contexts: the misses go on to the next one.
    uint32_t left = 0;
    for (uint32_t i = 0; i < m; ++i) {
      o[i] = int32_t(results[i]) - 1;
      if (!results[i]) {
        pending[left] = i;
        data[left++] = keys + size_t(i) * keyStride_;
      }
    }
    for (size_t c = 1; c < ctxs_.size() && left; ++c) {
      rte_acl_classify(ctxs_[c], data, results, left, 1);
      uint32_t still = 0;
      for (uint32_t j = 0; j < left; ++j) {
        if (results[j]) {
          o[pending[j]] = int32_t(results[j]) - 1;
        } else {
          pending[still] = pending[j];
          data[still++] = data[j];
        }
      }
      left = still;
    }
  }
}

} // namespace metron::dp
