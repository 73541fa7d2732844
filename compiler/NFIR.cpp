//===- compiler/NFIR.cpp - The NF IR: fields, matches, printing -------------------------------===//
#include "compiler/NFIR.h"

#include "lang/Diagnostics.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace metron::ir {

const std::vector<FieldInfo> &allFields() {
  static const std::vector<FieldInfo> fields = {
#define FIELD(E, N, B, K, W, D) {FieldId::E, N, B, ValueKind::K, W, D},
#include "compiler/Fields.def"
#undef FIELD
  };
  return fields;
}

const FieldInfo &fieldInfo(FieldId f) { return allFields()[size_t(f)]; }

std::optional<FieldId> fieldByName(const std::string &name) {
  for (const auto &f : allFields())
    if (name == f.name) return f.id;
  return std::nullopt;
}

std::vector<FieldId> FieldSet::list() const {
  std::vector<FieldId> v;
  for (size_t i = 0; i < kNumFields; ++i)
    if (bits_ & (1u << i)) v.push_back(FieldId(i));
  return v;
}

// ---- FieldMatch -------------------------------------------------------------------------------

FieldMatch FieldMatch::range(FieldId f, uint64_t lo, uint64_t hi) {
  METRON_INTERNAL_ASSERT(lo <= hi && hi <= fieldInfo(f).maxValue(), "bad range for field");
  FieldMatch m;
  m.field = f;
  m.kind = Range;
  m.lo = lo;
  m.hi = hi;
  return m;
}

FieldMatch FieldMatch::prefix(FieldId f, uint64_t addr, unsigned len) {
  unsigned bits = fieldInfo(f).bits;
  METRON_INTERNAL_ASSERT(len <= bits, "prefix longer than field");
  uint64_t hostMask = len == bits ? 0 : ((1ull << (bits - len)) - 1);
  METRON_INTERNAL_ASSERT((addr & hostMask) == 0, "prefix has host bits set");
  FieldMatch m = range(f, addr, addr | hostMask);
  m.prefixLen = int8_t(len);
  return m;
}

FieldMatch FieldMatch::masked(FieldId f, uint64_t value, uint64_t mask) {
  uint64_t maxv = fieldInfo(f).maxValue();
  mask &= maxv;
  value &= mask;
  // A contiguous high-bit mask is a prefix, i.e. a range.
  uint64_t inv = (~mask) & maxv;
  if ((inv & (inv + 1)) == 0) {
    FieldMatch m = range(f, value, value | inv);
    if (fieldInfo(f).kind == ValueKind::IPv4) m.prefixLen = int8_t(fieldInfo(f).bits - __builtin_popcountll(inv));
    return m;
  }
  FieldMatch m;
  m.field = f;
  m.kind = Mask;
  m.value = value;
  m.mask = mask;
  return m;
}

/// Calls f(base, k) for the aligned blocks [base, base + 2^k - 1] that exactly tile [lo, hi]
/// (at most 2 x 64 of them); stops early when f returns false. Returns false if stopped.
template <typename F> static bool forEachBlock(uint64_t lo, uint64_t hi, F f) {
  for (;;) {
    unsigned k = lo == 0 ? 63 : unsigned(__builtin_ctzll(lo));
    while (k > 0 && (k >= 64 || lo + ((1ull << k) - 1) > hi || lo + ((1ull << k) - 1) < lo)) --k;
    uint64_t last = lo + ((1ull << k) - 1);
    if (!f(lo, k)) return false;
    if (last >= hi) return true;
    lo = last + 1;
  }
}

bool FieldMatch::isWildcard() const {
  if (kind == Range) return lo == 0 && hi == fieldInfo(field).maxValue();
  return mask == 0;
}

bool FieldMatch::contains(uint64_t v) const {
  return kind == Range ? (lo <= v && v <= hi) : ((v & mask) == value);
}

bool FieldMatch::subsetOf(const FieldMatch &o) const {
  if (o.isWildcard()) return true;
  if (kind == Range && o.kind == Range) return o.lo <= lo && hi <= o.hi;
  if (kind == Mask && o.kind == Mask) return (o.mask & ~mask) == 0 && (value & o.mask) == o.value;
  if (kind == Range && o.kind == Mask) {
    // Each aligned block of the range must lie inside o: the block's free low bits must be
    // unconstrained by o's mask, and its fixed bits must match.
    return forEachBlock(lo, hi, [&](uint64_t base, unsigned k) {
      uint64_t low = k ? ((1ull << k) - 1) : 0;
      return (o.mask & low) == 0 && (base & o.mask) == o.value;
    });
  }
  // Mask ⊆ Range: the smallest and largest values the mask admits must lie inside.
  uint64_t maxv = fieldInfo(field).maxValue();
  uint64_t minV = value, maxV = value | (~mask & maxv);
  return o.lo <= minV && maxV <= o.hi;
}

bool FieldMatch::overlaps(const FieldMatch &o) const {
  if (kind == Range && o.kind == Range) return lo <= o.hi && o.lo <= hi;
  if (kind == Mask && o.kind == Mask) return ((value ^ o.value) & mask & o.mask) == 0;
  const FieldMatch &r = kind == Range ? *this : o;
  const FieldMatch &m = kind == Range ? o : *this;
  // Some aligned block of the range meets m iff m's constraint on the block's fixed bits holds.
  return !forEachBlock(r.lo, r.hi, [&](uint64_t base, unsigned k) {
    uint64_t low = k ? ((1ull << k) - 1) : 0;
    return ((base ^ m.value) & m.mask & ~low) != 0; // continue while the block misses
  });
}

std::string FieldMatch::str() const {
  const FieldInfo &fi = fieldInfo(field);
  char buf[64];
  if (kind == Mask) {
    snprintf(buf, sizeof buf, "0x%llx/0x%llx", (unsigned long long)value, (unsigned long long)mask);
    return buf;
  }
  if (fi.kind == ValueKind::IPv4) {
    if (prefixLen >= 0) return ipv4Str(uint32_t(lo)) + "/" + std::to_string(prefixLen);
    if (lo == hi) return ipv4Str(uint32_t(lo));
    return ipv4Str(uint32_t(lo)) + "-" + ipv4Str(uint32_t(hi));
  }
  if (fi.kind == ValueKind::Mac) {
    if (lo == hi) return macStr(lo);
    return macStr(lo) + "-" + macStr(hi);
  }
  if (lo == hi) return std::to_string(lo);
  return std::to_string(lo) + "-" + std::to_string(hi);
}

// ---- actions and rules ------------------------------------------------------------------------

static std::string valueStr(FieldId f, uint64_t v) {
  switch (fieldInfo(f).kind) {
  case ValueKind::IPv4: return ipv4Str(uint32_t(v));
  case ValueKind::Mac: return macStr(v);
  default: return std::to_string(v);
  }
}

std::string Action::str() const {
  switch (kind) {
  case Allow: return "allow";
  case Deny: return "deny";
  case Branch: return "branch " + port;
  case Set: {
    std::string s = "set(";
    for (size_t i = 0; i < assigns.size(); ++i) {
      if (i) s += ", ";
      s += std::string(fieldInfo(assigns[i].field).name) + "=" + valueStr(assigns[i].field, assigns[i].value);
    }
    return s + ")";
  }
  }
  return "?";
}

const FieldMatch *Rule::find(FieldId f) const {
  for (const auto &m : matches)
    if (m.field == f) return &m;
  return nullptr;
}

std::string Rule::matchStr() const {
  if (matches.empty()) return "*";
  std::string s;
  for (const auto &m : matches) {
    if (!s.empty()) s += " ";
    s += std::string(fieldInfo(m.field).name) + "=" + m.str();
  }
  return s;
}

// ---- Suricata rules ---------------------------------------------------------------------------

const char *PatternRule::bufferName(Buffer b) {
  switch (b) {
#define X(E, N) case E: return N;
    METRON_PATTERN_BUFFERS(X)
#undef X
  }
  return "?";
}

bool PatternRule::bufferOf(std::string_view name, Buffer &out) {
  for (unsigned b = 0; b < kNumBuffers; ++b)
    if (name == bufferName(Buffer(b))) {
      out = Buffer(b);
      return true;
    }
  return false;
}

// ---- elements ---------------------------------------------------------------------------------

const char *elementKindName(ElementKind k) {
  switch (k) {
#define X(E, S) case ElementKind::E: return #E;
    METRON_FOR_EACH_ELEMENT(X)
#undef X
  }
  return "?";
}

bool elementKindIsStateful(ElementKind k) {
  switch (k) {
#define X(E, S) case ElementKind::E: return S;
    METRON_FOR_EACH_ELEMENT(X)
#undef X
  }
  return false;
}

FieldSet Classifier::reads() const {
  FieldSet s;
  for (const auto &r : rules)
    for (const auto &m : r.matches) s.add(m.field);
  return s;
}
FieldSet Classifier::writes() const {
  FieldSet s;
  auto add = [&](const Action &a) {
    for (const auto &as : a.assigns) s.add(as.field);
  };
  for (const auto &r : rules) add(r.action);
  add(defaultAction);
  return s;
}
FieldSet Lookup::reads() const { FieldSet s; s.add(field); return s; }
FieldSet Lookup::writes() const { FieldSet s; s.add(FieldId::EthDst); return s; }
FieldSet SetFields::writes() const {
  FieldSet s;
  for (const auto &a : assigns) s.add(a.field);
  return s;
}
FieldSet DecTtl::reads() const { FieldSet s; s.add(FieldId::IpTtl); return s; }
FieldSet DecTtl::writes() const { FieldSet s; s.add(FieldId::IpTtl); return s; }
static FieldSet fiveTuple() {
  FieldSet s;
  for (FieldId f : {FieldId::IpSrc, FieldId::IpDst, FieldId::IpProto, FieldId::TpSrc, FieldId::TpDst}) s.add(f);
  return s;
}
FieldSet Napt::reads() const { return fiveTuple(); }
FieldSet Napt::writes() const {
  // Forward packets get `field` and its port rewritten; packets of the return path get the
  // other address and port translated back.
  FieldSet s;
  for (FieldId f : {FieldId::IpSrc, FieldId::TpSrc, FieldId::IpDst, FieldId::TpDst}) s.add(f);
  return s;
}
FieldSet Balance::reads() const { return fiveTuple(); }
FieldSet Balance::writes() const { FieldSet s; s.add(field); return s; }
FieldSet Monitor::reads() const {
  if (key.empty()) return fiveTuple();
  FieldSet s;
  for (FieldId f : key) s.add(f);
  return s;
}
FieldSet Conntrack::reads() const { FieldSet s = fiveTuple(); s.add(FieldId::TcpFlags); return s; }
FieldSet Dpi::reads() const {
  FieldSet s;
  if (patterns && !patterns->patternRules.empty())
    for (FieldId f : {FieldId::IpProto, FieldId::IpSrc, FieldId::IpDst, FieldId::TpSrc, FieldId::TpDst, FieldId::TcpFlags})
      s.add(f);
  return s;
}
FieldSet Dpi::writes() const {
  FieldSet s;
  for (const auto &a : onMatch.assigns) s.add(a.field);
  return s;
}
FieldSet RateLimit::reads() const {
  FieldSet s;
  for (FieldId f : key) s.add(f);
  return s;
}

// ---- NFs and modules --------------------------------------------------------------------------

bool NF::stateful() const {
  for (const auto &e : elements)
    if (e->stateful()) return true;
  return false;
}
FieldSet NF::reads() const {
  FieldSet s;
  for (const auto &e : elements) s.addAll(e->reads());
  return s;
}
FieldSet NF::writes() const {
  FieldSet s;
  for (const auto &e : elements) s.addAll(e->writes());
  return s;
}
bool NF::hasOutput(const std::string &p) const {
  return std::find(outputs.begin(), outputs.end(), p) != outputs.end();
}

uint32_t Module::internPort(const std::string &name) {
  auto [it, fresh] = portIndex_.emplace(name, portNames.size());
  if (fresh) portNames.push_back(name);
  return uint32_t(it->second);
}

const NF *Module::findNF(const std::string &name) const {
  auto it = nfIndex_.find(name);
  return it == nfIndex_.end() ? nullptr : nfs[it->second].get();
}
const Import *Module::findImport(const std::string &name) const {
  auto it = importIndex_.find(name);
  return it == importIndex_.end() ? nullptr : imports[it->second].get();
}
NF *Module::addNF(std::unique_ptr<NF> nf) {
  nfIndex_.emplace(nf->name, nfs.size());
  nfs.push_back(std::move(nf));
  return nfs.back().get();
}
Import *Module::addImport(std::unique_ptr<Import> imp) {
  importIndex_.emplace(imp->name, imports.size());
  imports.push_back(std::move(imp));
  return imports.back().get();
}

// ---- addresses --------------------------------------------------------------------------------

std::string ipv4Str(uint32_t a) {
  char buf[16];
  snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
  return buf;
}

std::string macStr(uint64_t m) {
  char buf[18];
  snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", unsigned(m >> 40) & 255, unsigned(m >> 32) & 255,
           unsigned(m >> 24) & 255, unsigned(m >> 16) & 255, unsigned(m >> 8) & 255, unsigned(m) & 255);
  return buf;
}

bool parseIpv4(std::string_view s, uint32_t &out) {
  uint32_t a = 0;
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
    size_t start = i;
    unsigned v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 4) v = v * 10 + unsigned(s[i++] - '0');
    if (i == start || i - start > 3 || v > 255) return false;
    a = (a << 8) | v;
  }
  if (i != s.size()) return false;
  out = a;
  return true;
}

bool parseMac(std::string_view s, uint64_t &out) {
  if (s.size() != 17) return false;
  uint64_t m = 0;
  for (int b = 0; b < 6; ++b) {
    if (b && s[size_t(b) * 3 - 1] != ':') return false;
    unsigned v = 0;
    auto r = std::from_chars(s.data() + b * 3, s.data() + b * 3 + 2, v, 16);
    if (r.ec != std::errc() || r.ptr != s.data() + b * 3 + 2) return false;
    m = (m << 8) | v;
  }
  out = m;
  return true;
}

} // namespace metron::ir
