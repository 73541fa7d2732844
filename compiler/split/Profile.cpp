//===- compiler/split/Profile.cpp - Reading device capability profiles ----------------------===//
///
/// \file
/// Strict TOML reading of the schema in man/metron-device.5: every table's keys are checked
/// against the list of keys it may hold, every value's type and range is checked, every
/// required key must be present. The first problem stops the reading and is reported with
/// the position toml++ recorded for the offending key or value.
//===----------------------------------------------------------------------------------------===//
#include "compiler/split/Profile.h"

#include "lang/Diagnostics.h"
#include "lang/Source.h"

#include "compiler/split/TomlNames.h"

#include <toml++/toml.h>

#include <cctype>
#include <cmath>

namespace metron::split {

const char *matchSupportName(MatchSupport s) {
  switch (s) {
  case MatchSupport::None: return "none";
  case MatchSupport::Exact: return "exact";
  case MatchSupport::Prefix: return "prefix";
  case MatchSupport::Mask: return "mask";
  case MatchSupport::Range: return "range";
  }
  return "?";
}

const char *tagKindName(TagKind k) {
  switch (k) {
  case TagKind::Vlan: return "vlan";
  case TagKind::Mac: return "mac";
  case TagKind::Queue: return "queue";
  case TagKind::Mark: return "mark";
  }
  return "?";
}

std::string ProfileError::str() const {
  std::string s;
  if (!path.empty()) {
    s += path;
    if (line) s += ":" + std::to_string(line) + ":" + std::to_string(column ? column : 1);
    s += ": ";
  }
  return s + "error: " + message;
}

namespace {

constexpr uint64_t kMaxProfileBytes = 1 << 20;

/// The value bounds of each tag kind, in TagKind order.
constexpr TagRange kTagBounds[kNumTagKinds] = {
    {1, 4094},       // vlan: 0 is "priority tag only", 4095 is reserved
    {0, 65535},      // mac: TT:TT of 02:00:00:00:TT:TT
    {0, 65535},      // queue: a 16-bit rte_flow queue index
    {0, 4294967295}, // mark: a 32-bit rte_flow mark id
};

class Reader {
public:
  Reader(const std::string &path, ProfileError &err) : path_(path), err_(err) {}

  bool read(const toml::table &root, DeviceProfile &p) {
    p.path = path_;
    if (!keys(root, "", {"name", "kind", "description", "install", "tables", "match", "actions", "tags"})) return false;
    const toml::table *install, *tables, *match, *actions, *tags;
    if (!str(root, "", "name", p.name) || !validName(root, p.name)) return false;
    std::string kind;
    if (!str(root, "", "kind", kind)) return false;
    if (kind == "nic") p.kind = DeviceProfile::Nic;
    else if (kind == "switch") p.kind = DeviceProfile::Switch;
    else return fail(*root.get("kind"), "kind", "'kind' must be \"nic\" or \"switch\", not \"" + printable(kind) + "\"");
    if (!str(root, "", "description", p.description)) return false;
    if (!(install = sub(root, "", "install")) || !(tables = sub(root, "", "tables")) ||
        !(match = sub(root, "", "match")) || !(actions = sub(root, "", "actions")) || !(tags = sub(root, "", "tags")))
      return false;
    return readInstall(*install, p) && readTables(*tables, p) && readMatch(*match, p) && readActions(*actions, p) &&
           readTags(*tags, p);
  }

  bool fail(const toml::node &n, const std::string &key, const std::string &msg) { return failAt(n.source(), key, msg); }
  bool failAt(const toml::source_region &r, const std::string &key, const std::string &msg) {
    err_.path = path_;
    err_.line = r.begin.line ? r.begin.line : 1;
    err_.column = r.begin.column ? r.begin.column : 1;
    err_.key = key;
    err_.message = msg;
    return false;
  }

private:
  static std::string join(const std::string &table, const std::string &key) { return table.empty() ? key : table + "." + key; }
  static std::string where(const std::string &table) { return table.empty() ? "at the top level" : "in [" + table + "]"; }

  /// Every key of \p t must be in \p allowed.
  bool keys(const toml::table &t, const std::string &table, std::initializer_list<const char *> allowed) {
    for (auto &&[k, v] : t) {
      bool ok = false;
      for (const char *a : allowed) ok = ok || k.str() == a;
      if (!ok) return failAt(k.source(), join(table, std::string(k.str())), "unknown key '" + printable(k.str()) + "' " + where(table));
    }
    return true;
  }

  const toml::node *need(const toml::table &t, const std::string &table, const char *key) {
    const toml::node *n = t.get(key);
    if (!n) failAt(t.source(), join(table, key), "missing required key '" + join(table, key) + "'");
    return n;
  }

  static const char *typeName(const toml::node &n) { return tomlTypeName(n); }
  bool wrongType(const toml::node &n, const std::string &key, const std::string &want) {
    return fail(n, key, "'" + key + "' must be " + want + ", not " + typeName(n));
  }

  const toml::table *sub(const toml::table &t, const std::string &table, const char *key) {
    const toml::node *n = need(t, table, key);
    if (!n) return nullptr;
    if (!n->is_table()) {
      wrongType(*n, join(table, key), "a table");
      return nullptr;
    }
    return n->as_table();
  }

  bool str(const toml::table &t, const std::string &table, const char *key, std::string &out) {
    const toml::node *n = need(t, table, key);
    if (!n) return false;
    if (!n->is_string()) return wrongType(*n, join(table, key), "a string");
    out = n->as_string()->get();
    return true;
  }

  bool boolean(const toml::table &t, const std::string &table, const char *key, bool &out) {
    const toml::node *n = need(t, table, key);
    if (!n) return false;
    if (!n->is_boolean()) return wrongType(*n, join(table, key), "true or false");
    out = n->as_boolean()->get();
    return true;
  }

  bool validName(const toml::table &root, const std::string &name) {
    bool ok = !name.empty() && name.size() <= 64 && (std::islower((unsigned char)name[0]) || std::isdigit((unsigned char)name[0]));
    for (char c : name) ok = ok && (std::islower((unsigned char)c) || std::isdigit((unsigned char)c) || c == '-' || c == '.' || c == '_');
    if (!ok)
      return fail(*root.get("name"), "name",
                  "'name' must be 1 to 64 characters of a-z, 0-9, '-', '.', '_', starting with a letter or digit, not \"" +
                      printable(name) + "\"");
    return true;
  }

  /// A time in milliseconds: a number >= 0 and <= 1e6 (integers are accepted).
  bool millis(const toml::table &t, const std::string &table, const char *key, double &out) {
    const toml::node *n = need(t, table, key);
    if (!n) return false;
    std::string k = join(table, key);
    if (n->is_integer()) out = double(n->as_integer()->get());
    else if (n->is_floating_point()) out = n->as_floating_point()->get();
    else return wrongType(*n, k, "a number of milliseconds");
    if (!std::isfinite(out) || out < 0 || out > 1e6) return fail(*n, k, "'" + k + "' must be between 0 and 1000000 ms");
    return true;
  }

  /// A positive integer up to \p max, or "unbounded" (when \p allowUnbounded).
  bool count(const toml::node &n, const std::string &k, uint64_t max, bool allowUnbounded, uint64_t &out) {
    std::string want = "an integer from 1 to " + std::to_string(max) + (allowUnbounded ? " or \"unbounded\"" : "");
    if (n.is_string()) {
      if (allowUnbounded && n.as_string()->get() == "unbounded") {
        out = kUnbounded;
        return true;
      }
      return fail(n, k, "'" + k + "' must be " + want + ", not \"" + printable(n.as_string()->get()) + "\"");
    }
    if (!n.is_integer()) return wrongType(n, k, want);
    int64_t v = n.as_integer()->get();
    if (v < 1 || uint64_t(v) > max) return fail(n, k, "'" + k + "' must be " + want + ", not " + std::to_string(v));
    out = uint64_t(v);
    return true;
  }

  bool readInstall(const toml::table &t, DeviceProfile &p) {
    return keys(t, "install", {"median_ms", "average_ms"}) && millis(t, "install", "median_ms", p.medianMs) &&
           millis(t, "install", "average_ms", p.averageMs);
  }

  bool readLimits(const toml::table &t, const std::string &table, TableLimits &l) {
    const toml::node *n;
    if (!(n = need(t, table, "rules")) || !count(*n, join(table, "rules"), 1ull << 40, true, l.rules)) return false;
    if (!(n = need(t, table, "priorities")) || !count(*n, join(table, "priorities"), 1ull << 32, true, l.priorities))
      return false;
    l.l2Rules = 0;
    if (const toml::node *l2 = t.get("l2_rules")) {
      if (!count(*l2, join(table, "l2_rules"), 1ull << 40, false, l.l2Rules)) return false;
      if (l.rules == kUnbounded) return fail(*l2, join(table, "l2_rules"), "'" + join(table, "l2_rules") + "' needs a bounded 'rules'");
    }
    return true;
  }

  bool readTables(const toml::table &t, DeviceProfile &p) {
    if (!keys(t, "tables", {"count", "rules", "priorities", "l2_rules", "other"})) return false;
    const toml::node *n = need(t, "tables", "count");
    if (!n || !count(*n, "tables.count", 1000000, true, p.tableCount)) return false;
    if (!readLimits(t, "tables", p.table0)) return false;
    const toml::node *other = t.get("other");
    if (p.tableCount == 1) {
      if (other) return fail(*other, "tables.other", "[tables.other] describes tables after table 0, but 'tables.count' is 1");
      p.other = p.table0;
      return true;
    }
    if (!other) return failAt(t.source(), "tables.other", "missing required table [tables.other] ('tables.count' is more than 1)");
    if (!other->is_table()) return wrongType(*other, "tables.other", "a table");
    return keys(*other->as_table(), "tables.other", {"rules", "priorities", "l2_rules"}) &&
           readLimits(*other->as_table(), "tables.other", p.other);
  }

  /// Flattens [match] (dotted keys make nested tables: `eth.src = "mask"` is eth = {src = ...}).
  bool readMatchTable(const toml::table &t, const std::string &prefix, DeviceProfile &p, std::vector<bool> &seen) {
    for (auto &&[k, v] : t) {
      std::string name = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      if (v.is_table()) {
        if (!readMatchTable(*v.as_table(), name, p, seen)) return false;
        continue;
      }
      auto f = ir::fieldByName(name);
      if (!f) return failAt(k.source(), "match." + name, "unknown field '" + printable(name) + "' in [match]; the fields are those of metron-lang(7)");
      std::string key = "match." + name;
      if (seen[size_t(*f)]) return failAt(k.source(), key, "field '" + name + "' is given twice in [match]");
      seen[size_t(*f)] = true;
      if (!v.is_string()) return wrongType(v, key, "one of \"none\", \"exact\", \"prefix\", \"mask\", \"range\"");
      const std::string &s = v.as_string()->get();
      MatchSupport m;
      if (s == "none") m = MatchSupport::None;
      else if (s == "exact") m = MatchSupport::Exact;
      else if (s == "prefix") m = MatchSupport::Prefix;
      else if (s == "mask") m = MatchSupport::Mask;
      else if (s == "range") m = MatchSupport::Range;
      else return fail(v, key, "'" + key + "' must be one of \"none\", \"exact\", \"prefix\", \"mask\", \"range\", not \"" + printable(s) + "\"");
      p.match[size_t(*f)] = m;
    }
    return true;
  }

  bool readMatch(const toml::table &t, DeviceProfile &p) {
    std::vector<bool> seen(ir::kNumFields, false);
    if (!readMatchTable(t, "", p, seen)) return false;
    for (const auto &fi : ir::allFields())
      if (!seen[size_t(fi.id)])
        return failAt(t.source(), std::string("match.") + fi.name,
                      std::string("missing required key '") + fi.name + "' in [match]: every field of the packet model must be listed");
    return true;
  }

  bool readActions(const toml::table &t, DeviceProfile &p) {
    if (!keys(t, "actions", {"drop", "dec_ttl", "set", "ipv4_writes_skip_proto_0"}) ||
        !boolean(t, "actions", "drop", p.drop) || !boolean(t, "actions", "dec_ttl", p.decTtl))
      return false;
    if (t.contains("ipv4_writes_skip_proto_0") &&
        !boolean(t, "actions", "ipv4_writes_skip_proto_0", p.ipv4WritesSkipProto0))
      return false;
    const toml::node *n = need(t, "actions", "set");
    if (!n) return false;
    if (!n->is_array()) return wrongType(*n, "actions.set", "an array of field names");
    p.set = {};
    for (const toml::node &e : *n->as_array()) {
      if (!e.is_string()) return wrongType(e, "actions.set", "an array of field names");
      const std::string &s = e.as_string()->get();
      auto f = ir::fieldByName(s);
      if (!f) return fail(e, "actions.set", "unknown field '" + printable(s) + "' in 'actions.set'");
      if (!ir::fieldInfo(*f).writable) return fail(e, "actions.set", "field '" + s + "' cannot be written (metron-lang(7)); remove it from 'actions.set'");
      if (p.set.has(*f)) return fail(e, "actions.set", "field '" + s + "' is listed twice in 'actions.set'");
      p.set.add(*f);
    }
    return true;
  }

  bool readTags(const toml::table &t, DeviceProfile &p) {
    if (!keys(t, "tags", {"kinds", "vlan", "mac", "queue", "mark"})) return false;
    const toml::node *n = need(t, "tags", "kinds");
    if (!n) return false;
    if (!n->is_array()) return wrongType(*n, "tags.kinds", "an array of tag kinds");
    p.tagKinds.clear();
    p.tagRange = {};
    for (const toml::node &e : *n->as_array()) {
      if (!e.is_string()) return wrongType(e, "tags.kinds", "an array of tag kinds");
      const std::string &s = e.as_string()->get();
      std::optional<TagKind> k;
      for (size_t i = 0; i < kNumTagKinds; ++i)
        if (s == tagKindName(TagKind(i))) k = TagKind(i);
      if (!k) return fail(e, "tags.kinds", "unknown tag kind '" + printable(s) + "'; the kinds are vlan, mac, queue, mark");
      for (TagKind o : p.tagKinds)
        if (o == *k) return fail(e, "tags.kinds", "tag kind '" + s + "' is listed twice in 'tags.kinds'");
      p.tagKinds.push_back(*k);
    }
    for (size_t i = 0; i < kNumTagKinds; ++i) {
      TagKind k = TagKind(i);
      std::string key = std::string("tags.") + tagKindName(k);
      const toml::node *r = t.get(tagKindName(k));
      bool listed = false;
      for (TagKind o : p.tagKinds) listed = listed || o == k;
      if (!listed) {
        if (r) return fail(*r, key, "'" + key + "' is given but '" + tagKindName(k) + "' is not in 'tags.kinds'");
        continue;
      }
      if (!r) return failAt(t.source(), key, "missing required key '" + key + "' (the value range of '" + tagKindName(k) + "' tags)");
      const TagRange &b = kTagBounds[i];
      std::string want = "an array [lo, hi] of integers with " + std::to_string(b.lo) + " <= lo <= hi <= " + std::to_string(b.hi);
      const toml::array *a = r->as_array();
      if (!a || a->size() != 2 || !(*a)[0].is_integer() || !(*a)[1].is_integer()) {
        if (!a) return wrongType(*r, key, want);
        return fail(*r, key, "'" + key + "' must be " + want);
      }
      int64_t lo = (*a)[0].as_integer()->get(), hi = (*a)[1].as_integer()->get();
      if (lo < int64_t(b.lo) || hi > int64_t(b.hi) || lo > hi)
        return fail(*r, key, "'" + key + "' must be " + want + ", not [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
      p.tagRange[i] = TagRange{uint64_t(lo), uint64_t(hi)};
    }
    return true;
  }

  std::string path_;
  ProfileError &err_;
};

} // namespace

std::optional<DeviceProfile> parseDeviceProfile(std::string_view text, const std::string &path, ProfileError &err) {
  err = {};
  std::optional<toml::table> parsed = parseTomlOrError(text, path, err);
  if (!parsed) return std::nullopt;
  const toml::table &root = *parsed;
  DeviceProfile p;
  Reader r(path, err);
  if (!r.read(root, p)) return std::nullopt;
  return p;
}

std::optional<DeviceProfile> loadDeviceProfile(const std::string &arg, ProfileError &err) {
  err = {};
  bool isPath = arg.find('/') != std::string::npos ||
                (arg.size() >= 5 && arg.compare(arg.size() - 5, 5, ".toml") == 0);
  if (!isPath) {
    for (const BuiltinProfile &b : builtinProfiles())
      if (arg == b.name) return parseDeviceProfile(b.text, std::string("targets/profiles/") + b.name + ".toml", err);
    std::string names;
    for (const BuiltinProfile &b : builtinProfiles()) names += std::string(names.empty() ? "" : ", ") + b.name;
    err.message = "unknown device '" + printable(arg) + "'; the built-in devices are " + names +
                  ", or give the path of a profile file (metron-device(5))";
    return std::nullopt;
  }
  SourceManager sm;
  std::string reason;
  FileID id = sm.readFile(arg, kMaxProfileBytes, reason);
  if (!id) {
    err.message = "cannot read device profile '" + printable(arg, 200) + "': " + reason;
    return std::nullopt;
  }
  return parseDeviceProfile(sm.file(id).text, arg, err);
}

} // namespace metron::split
