//===- runtime/dataplane/Lpm.cpp - Prefix tables classified with rte_lpm ----------------------===//
#include "runtime/dataplane/Lpm.h"

#include "compiler/NFIR.h"

#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_memory.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <unistd.h>
#include <tuple>
#include <unordered_set>

namespace metron::dp {

namespace {

std::atomic<uint32_t> gLpmSerial{0};

/// The prefix length of a 32-bit mask of leading ones, or -1.
int prefixLength(uint64_t mask) {
  if (mask > 0xffffffffull) return -1;
  uint32_t m = uint32_t(mask);
  int d = m ? __builtin_popcount(m) : 0;
  uint32_t want = d ? uint32_t(0xffffffffull << (32 - d)) : 0;
  return m == want ? d : -1;
}

uint32_t maskOf(int depth) { return depth ? uint32_t(0xffffffffull << (32 - depth)) : 0; }

bool before(const AclConstraint &x, const AclConstraint &y) {
  return std::tie(x.field, x.kind, x.a, x.b) < std::tie(y.field, y.kind, y.a, y.b);
}

struct Route {
  uint32_t prefix = 0;
  int depth = 0; ///< 0: no constraint on the field
  bool never = false; ///< a value bit outside the mask: the class matches nothing
};

/// The prefix a Range covers exactly (an aligned block of 2^(32-d) addresses), or depth -1.
int blockLength(uint64_t lo, uint64_t hi) {
  if (hi > 0xffffffffull || lo > hi) return -1;
  uint64_t size = hi - lo + 1;
  if (size & (size - 1)) return -1; // not a power of two
  int d = 32 - __builtin_ctzll(size);
  return (lo & (size - 1)) == 0 ? d : -1;
}

/// Splits \p c into its route on \p field and the rest (sorted); false when it is not of that
/// shape (several constraints on the field, a mask that is not a prefix, a range that is not
/// an aligned block).
bool splitClass(const AclClass &c, uint8_t field, Route &r, std::vector<AclConstraint> &rest) {
  rest.clear();
  bool seen = false;
  for (const AclConstraint &k : c.c) {
    if (k.field != field) {
      rest.push_back(k);
      continue;
    }
    if (seen) return false;
    seen = true;
    int d = k.kind == AclConstraint::Mask ? prefixLength(k.b) : blockLength(k.a, k.b);
    if (d < 0) return false;
    r.depth = d;
    r.prefix = uint32_t(k.a) & maskOf(d);
    r.never = k.kind == AclConstraint::Mask && (k.a & ~k.b) != 0;
  }
  std::sort(rest.begin(), rest.end(), before);
  return true;
}

/// What goes into rte_lpm for one choice of the prefix field.
struct Plan {
  uint8_t field = 0;
  std::vector<AclConstraint> guard;
  int32_t defaultClass = -1;
  std::vector<std::pair<Route, int32_t>> kept; ///< (route of depth > 0, class)
  uint32_t tbl8 = 0;                           ///< kept prefixes longer than /24

  /// False and \p why when the classes are not routes on \p f.
  bool make(const std::vector<AclClass> &classes, uint8_t f, std::string &why) {
    const char *name = f == uint8_t(ir::FieldId::IpDst) ? "ip.dst" : "ip.src";
    field = f;
    std::unordered_set<uint64_t> keys; // prefix << 8 | depth of the kept classes
    std::vector<AclConstraint> rest;
    for (size_t i = 0; i < classes.size(); ++i) {
      Route r;
      if (!splitClass(classes[i], f, r, rest)) {
        why = "class " + std::to_string(i) + " is not a prefix of " + name;
        return false;
      }
      if (i == 0) guard = rest;
      else if (rest != guard) {
        why = "class " + std::to_string(i) + " constrains other fields than class 0 besides " + name;
        return false;
      }
      if (r.never || defaultClass >= 0) continue; // matches nothing / behind the default route
      bool shadowed = false;
      for (int e = 0; e <= r.depth && !shadowed; ++e)
        shadowed = keys.count(uint64_t(r.prefix & maskOf(e)) << 8 | uint64_t(e)) != 0;
      if (shadowed) continue;
      keys.insert(uint64_t(r.prefix) << 8 | uint64_t(r.depth));
      if (r.depth == 0) {
        defaultClass = int32_t(i);
      } else {
        kept.push_back({r, int32_t(i)});
        tbl8 += r.depth > 24;
      }
    }
    if (kept.empty() && defaultClass < 0) {
      why = std::string("no prefix of ") + name;
      return false;
    }
    return true;
  }
};

} // namespace

std::unique_ptr<LpmTable> LpmTable::build(const std::vector<AclClass> &classes, const std::string &name,
                                          std::string &err, std::string *why) {
  err.clear();
  auto no = [&](std::string w) -> std::unique_ptr<LpmTable> {
    if (why) *why = std::move(w);
    return nullptr;
  };
  if (!validateAclClasses(classes, err)) return nullptr;
  if (classes.empty()) return no("no class");
  if (classes.size() >= (1u << 24)) return no("more classes than rte_lpm's 24-bit next hops can name");
  Plan plan;
  std::string whyDst, whySrc;
  if (!plan.make(classes, uint8_t(ir::FieldId::IpDst), whyDst)) {
    plan = Plan();
    if (!plan.make(classes, uint8_t(ir::FieldId::IpSrc), whySrc)) return no(whyDst + "; " + whySrc);
  }

  std::unique_ptr<LpmTable> t(new LpmTable());
  t->field_ = plan.field;
  t->guard_ = plan.guard;
  t->default_ = plan.defaultClass;
  t->rules_ = uint32_t(plan.kept.size());
  if (plan.kept.empty()) return t;
  rte_lpm_config cfg{};
  cfg.max_rules = uint32_t(plan.kept.size());
  cfg.number_tbl8s = std::max<uint32_t>(plan.tbl8 + 1, 16);
  // Unique among the processes that share the EAL (per-core secondary processes build their own).
  char pid[16];
  snprintf(pid, sizeof pid, "%x", unsigned(getpid()) & 0xffffffu);
  std::string n = name.substr(0, 10) + "_" + pid + "_" + std::to_string(gLpmSerial.fetch_add(1));
  t->lpm_ = rte_lpm_create(n.c_str(), SOCKET_ID_ANY, &cfg);
  if (!t->lpm_) {
    err = "rte_lpm_create (" + std::to_string(plan.kept.size()) + " prefixes): " + rte_strerror(rte_errno);
    return nullptr;
  }
  for (const auto &[r, cls] : plan.kept)
    if (int rc = rte_lpm_add(t->lpm_, r.prefix, uint8_t(r.depth), uint32_t(cls)); rc < 0) {
      err = "rte_lpm_add (class " + std::to_string(cls) + ", /" + std::to_string(r.depth) + "): " + rte_strerror(-rc);
      return nullptr;
    }
  return t;
}

LpmTable::~LpmTable() { rte_lpm_free(lpm_); }

int32_t LpmTable::lookup(const uint64_t *fields) const {
  for (const AclConstraint &k : guard_) {
    const uint64_t v = fields[k.field];
    if (k.kind == AclConstraint::Range ? (v < k.a || v > k.b) : (v & k.b) != k.a) return -1;
  }
  uint32_t hop;
  if (lpm_ && rte_lpm_lookup(lpm_, uint32_t(fields[field_]), &hop) == 0) return int32_t(hop);
  return default_;
}

} // namespace metron::dp
