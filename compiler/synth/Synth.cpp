//===- compiler/synth/Synth.cpp - Synthesis of a chain into traffic-class tables --------------===//
///
/// Symbolic execution of the chain over classes of packets. A symbolic class carries
///  - Φ, a Box over the packet as it entered the table being built;
///  - the state of every field: unchanged since the table's entry, a known constant, the entry
///    TTL minus n, eth.dst = 02:00:<entry ip.dst>, or known only at run time (a stateful
///    element, a DPI `set`, or a blackbox wrote it);
///  - the operations so far (stateless writes and stateful operations, in chain order);
///  - the NF output port selected so far and the rules it went through.
/// A stateless element splits the class by its rules in first-match order (rule r gets
/// Φ ∩ rule_r, the default gets what is left; children are emitted in rule order, so the
/// concatenation of all classes in depth-first order is a correct first-match table). A read of
/// a field known only at run time ends the class with a jump to a new table that starts at
/// that element and matches the live packet.
///
/// Bound: a table is explored depth first while counting its classes and its box
/// intersections; when the classes exceed SynthOptions::maxClasses (or the intersections 64
/// times that) the exploration stops, the element that multiplied the classes (or did the
/// work) the most becomes a cut point (classes reaching it jump to a table of its own) and the
/// table is explored again. So the cross product is never built beyond the bound.
//===----------------------------------------------------------------------------------------===//
#include "compiler/synth/Synth.h"

#include "lang/Diagnostics.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>

namespace metron::synth {

using namespace ir;

const char *tableReasonName(Table::Reason r) {
  switch (r) {
  case Table::Ingress: return "ingress";
  case Table::Bound: return "bound";
  case Table::StatefulRead: return "stateful-read";
  case Table::DpiFork: return "dpi-fork";
  case Table::Blackbox: return "blackbox";
  }
  return "?";
}

const TrafficClass *ChainTables::findClass(uint32_t id) const {
  for (const auto &t : tables) {
    if (t.classes.empty() || id < t.classes.front().id || id > t.classes.back().id) continue;
    return &t.classes[id - t.classes.front().id];
  }
  return nullptr;
}

bool Omega::hasStateful() const {
  for (const auto &o : ops)
    if (o.kind == Op::Stateful) return true;
  return false;
}

const Op *Omega::leadingWrites() const {
  return !ops.empty() && ops.front().kind == Op::Writes ? &ops.front() : nullptr;
}

namespace {

struct FieldState {
  enum Kind : uint8_t { Entry, Const, Dec, MacOfIpDst, Runtime };
  Kind kind = Entry;
  uint64_t v = 0;
  uint32_t writer = 0; ///< Runtime: the chain node whose element wrote it
};

struct Event {
  bool stateful = false;
  uint8_t guard = 0; ///< a TTL check (see Op::ttlGuard); no write

  WriteExpr w{FieldId::InPort};
  uint32_t node = 0;
  uint16_t element = 0;
  const Element *el = nullptr;
};

struct Sym {
  Box phi;
  std::array<FieldState, kNumFields> st{};
  std::vector<Event> events;
  std::vector<PathStep> path;
  std::string port = "out";
};

/// Fields a stateful operation depends on or changes: a write may not be moved across it.
FieldSet touches(const Element &e) {
  FieldSet s = e.reads();
  s.addAll(e.writes());
  if (auto *r = dyn_cast<RateLimit>(&e); r && !r->packets) {
    s.add(FieldId::VlanId); // a VLAN push changes the length the bucket charges
    s.add(FieldId::VlanPcp);
  }
  return s;
}

/// Normalises events into Ω's operations (see Synth.h).
std::vector<Op> normalise(const std::vector<Event> &events) {
  std::vector<Op> ops;
  for (const Event &e : events) {
    if (e.guard) {
      // A check stays after the stateful operations before it.
      if (ops.empty() || ops.back().kind != Op::Writes) ops.push_back(Op{});
      ops.back().ttlGuard = std::max(ops.back().ttlGuard, e.guard);
      continue;
    }
    if (e.stateful) {
      Op o;
      o.kind = Op::Stateful;
      o.node = e.node;
      o.element = e.element;
      o.el = e.el;
      ops.push_back(std::move(o));
      continue;
    }
    // The earliest write block this write can move to: across stateful ops that do not touch
    // its field. \p target is an existing write block or the place of a new one.
    size_t target = ops.size();
    for (size_t i = ops.size(); i-- > 0;) {
      if (ops[i].kind == Op::Stateful && touches(*ops[i].el).has(e.w.field)) break;
      target = i;
    }
    if (target == ops.size() || ops[target].kind != Op::Writes) {
      Op blk;
      blk.kind = Op::Writes;
      ops.insert(ops.begin() + long(target), blk);
    }
    // Later blocks' writes of the same field were earlier in program order: superseded.
    for (size_t i = target + 1; i < ops.size(); ++i)
      if (ops[i].kind == Op::Writes)
        std::erase_if(ops[i].writes, [&](const WriteExpr &w) { return w.field == e.w.field; });
    auto &ws = ops[target].writes;
    auto it = std::find_if(ws.begin(), ws.end(), [&](const WriteExpr &w) { return w.field == e.w.field; });
    if (it != ws.end()) *it = e.w;
    else {
      ws.push_back(e.w);
      std::sort(ws.begin(), ws.end(), [](const WriteExpr &a, const WriteExpr &b) { return a.field < b.field; });
    }
  }
  std::erase_if(ops, [](const Op &o) { return o.kind == Op::Writes && o.writes.empty() && !o.ttlGuard; });
  // Merge adjacent write blocks (a block emptied above may have joined two).
  for (size_t i = 1; i < ops.size();) {
    if (ops[i].kind == Op::Writes && ops[i - 1].kind == Op::Writes) {
      ops[i - 1].ttlGuard = std::max(ops[i - 1].ttlGuard, ops[i].ttlGuard);
      for (const auto &w : ops[i].writes) {
        auto &ws = ops[i - 1].writes;
        std::erase_if(ws, [&](const WriteExpr &x) { return x.field == w.field; });
        ws.push_back(w);
      }
      std::sort(ops[i - 1].writes.begin(), ops[i - 1].writes.end(),
                [](const WriteExpr &a, const WriteExpr &b) { return a.field < b.field; });
      ops.erase(ops.begin() + long(i));
    } else {
      ++i;
    }
  }
  return ops;
}

struct Abort { ///< thrown when a table exceeds the bound
  bool work = false; ///< the intersection budget, not the class count
};

struct PointKey {
  int32_t node;
  uint16_t element;
  std::string port;
  bool operator<(const PointKey &o) const {
    return std::tie(node, element, port) < std::tie(o.node, o.element, o.port);
  }
};

/// A Lookup prepared for composition: routes in first-match order (longest prefix first, then
/// file order) and sorted by start address for finding the routes that overlap a range.
struct PreparedLookup {
  struct R { uint32_t lo, hi; uint8_t len; uint32_t index; }; ///< index: 1-based in the import
  std::vector<R> byPriority;
  std::vector<uint32_t> byStart; ///< positions in byPriority, sorted by lo
  std::vector<std::unordered_map<uint32_t, uint32_t>> byLen; ///< len -> prefix -> position
};

class Synthesizer {
public:
  Synthesizer(const Module &m, const Chain &c, const SynthOptions &o) : m_(m), c_(c), o_(o) {}

  ChainTables run() {
    auto t0 = std::chrono::steady_clock::now();
    out_.chain = &c_;
    Table t0tab;
    t0tab.id = 0;
    t0tab.reason = Table::Ingress;
    t0tab.why = "entered by every packet at the chain's ingress";
    out_.tables.push_back(std::move(t0tab));
    pending_.push_back(0);
    while (!pending_.empty()) {
      uint32_t id = pending_.front();
      pending_.pop_front();
      buildTable(id);
    }
    finish();
    out_.stats.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return std::move(out_);
  }

private:
  const Module &m_;
  const Chain &c_;
  const SynthOptions &o_;
  ChainTables out_;
  std::deque<uint32_t> pending_;
  std::map<PointKey, uint32_t> tableAt_;
  std::set<std::pair<uint32_t, uint16_t>> cuts_;
  std::map<const Lookup *, PreparedLookup> lookups_;
  std::map<const Classifier *, std::vector<Box>> ruleBoxes_;

  // Per exploration of one table.
  bool enforceBound_ = true;
  std::vector<std::pair<Box, Omega>> leaves_;
  std::vector<std::vector<PathStep>> leafPaths_;
  std::map<std::pair<uint32_t, uint16_t>, int64_t> growth_;  ///< classes an element added
  std::map<std::pair<uint32_t, uint16_t>, uint64_t> workAt_; ///< intersections an element computed
  uint64_t work_ = 0;                                          ///< intersections in this exploration
  std::map<std::pair<uint32_t, uint16_t>, bool> cutForWork_;   ///< why each cut point was cut

  /// Counts one box intersection at element (n, k); aborts the exploration when the table has
  /// cost more than 64 intersections per class of the bound (a composition that is cheap in
  /// classes can still be quadratic in work: 4,653 x 4,415 rules that rarely overlap).
  void count(uint32_t n, uint16_t k) {
    ++out_.stats.intersections;
    ++workAt_[{n, k}];
    if (enforceBound_ && ++work_ > 64ull * o_.maxClasses) throw Abort{true};
  }

  uint32_t portIndex(const std::string &name) const {
    for (uint32_t i = 0; i < m_.portNames.size(); ++i)
      if (m_.portNames[i] == name) return i;
    return 0;
  }

  const ChainEdge *edgeFrom(uint32_t node, const std::string &port) const {
    for (const auto &e : c_.edges)
      if (e.from == node && (c_.nodes[node].kind == ChainNode::Ingress || e.fromPort == port)) return &e;
    return nullptr;
  }

  std::string nfName(uint32_t node) const { return c_.nodes[node].name; }

  uint32_t tableFor(const PointKey &k, Table::Reason reason, const std::string &why) {
    auto it = tableAt_.find(k);
    if (it != tableAt_.end()) return it->second;
    Table t;
    t.id = uint32_t(out_.tables.size());
    t.entry.node = k.node;
    t.entry.element = k.element;
    t.entry.port = k.port;
    t.reason = reason;
    t.why = why;
    out_.tables.push_back(std::move(t));
    tableAt_.emplace(k, out_.tables.back().id);
    pending_.push_back(out_.tables.back().id);
    return out_.tables.back().id;
  }

  void buildTable(uint32_t id) {
    for (;;) {
      leaves_.clear();
      leafPaths_.clear();
      growth_.clear();
      workAt_.clear();
      work_ = 0;
      try {
        explore(id);
        break;
      } catch (const Abort &a) {
        ++out_.stats.restarts;
        // Cut at the element that multiplied the classes the most, or that did the most work
        // (never the table's entry).
        const auto &entry = out_.tables[id].entry;
        std::pair<uint32_t, uint16_t> best{0, 0};
        int64_t bestScore = 0;
        auto consider = [&](std::pair<uint32_t, uint16_t> pt, int64_t score) {
          if (entry.node >= 0 && pt.first == uint32_t(entry.node) && pt.second == entry.element) return;
          if (cuts_.count(pt)) return;
          if (score > bestScore) { bestScore = score; best = pt; }
        };
        if (a.work)
          for (const auto &[pt, w] : workAt_) consider(pt, int64_t(w));
        else
          for (const auto &[pt, g] : growth_) consider(pt, g);
        if (bestScore <= 0) { enforceBound_ = false; continue; } // nothing to cut: accept it
        cuts_.insert(best);
        cutForWork_[best] = a.work;
      }
    }
    enforceBound_ = true;
    Table &t = out_.tables[id];
    t.classes.reserve(leaves_.size());
    for (size_t i = 0; i < leaves_.size(); ++i) {
      TrafficClass tc;
      tc.phi = std::move(leaves_[i].first);
      tc.path = std::move(leafPaths_[i]);
      tc.group = internOmega(std::move(leaves_[i].second));
      t.classes.push_back(std::move(tc));
    }
    out_.stats.classes += t.classes.size();
  }

  std::map<std::string, uint32_t> omegaIndex_;
  std::vector<Omega> omegas_;

  static std::string omegaKey(const Omega &w) {
    std::string k;
    for (const auto &o : w.ops) {
      if (o.kind == Op::Stateful) k += "S" + std::to_string(o.node) + "." + std::to_string(o.element) + ";";
      else {
        k += "G" + std::to_string(o.ttlGuard) + ";";
        for (const auto &x : o.writes)
          k += "W" + std::to_string(int(x.field)) + ":" + std::to_string(int(x.kind)) + ":" + std::to_string(x.value) + ",";
      }
      k += "|";
    }
    k += "T" + std::to_string(int(w.term.kind)) + ":" + std::to_string(w.term.port) + ":" + std::to_string(w.term.node) +
         ":" + w.term.name + ":" + std::to_string(w.term.table) + ":" + std::to_string(w.term.tableIfMatch);
    return k;
  }

  uint32_t internOmega(Omega &&w) {
    std::string k = omegaKey(w);
    auto [it, fresh] = omegaIndex_.emplace(k, uint32_t(omegas_.size()));
    if (fresh) omegas_.push_back(std::move(w));
    else METRON_INTERNAL_ASSERT(omegas_[it->second] == w, "two different Ω with one key");
    return it->second;
  }

  void explore(uint32_t id) {
    const ProgramPoint entry = out_.tables[id].entry;
    if (entry.node < 0) {
      for (uint32_t n = 0; n < c_.nodes.size(); ++n) {
        if (c_.nodes[n].kind != ChainNode::Ingress) continue;
        Sym s;
        s.phi.m.push_back(FieldMatch::exact(FieldId::InPort, portIndex(c_.nodes[n].name)));
        const ChainEdge *e = edgeFrom(n, "");
        if (e) enterNode(std::move(s), e->to, e->toPort);
      }
      return;
    }
    Sym s;
    const ChainNode &node = c_.nodes[size_t(entry.node)];
    if (node.kind == ChainNode::Egress || node.nf->blackbox) return enterNode(std::move(s), uint32_t(entry.node), entry.port);
    s.port = entry.port;
    runNF(std::move(s), uint32_t(entry.node), entry.element, true);
  }

  /// The `port` of a table that starts where an edge arrives: the NF's selected output port
  /// ("out"), or for a blackbox the input the packet is handed to.
  std::string entryPort(uint32_t node, const std::string &toPort) const {
    const ChainNode &n = c_.nodes[node];
    if (n.kind == ChainNode::Instance && n.nf->blackbox) return toPort.empty() ? n.nf->inputs.front() : toPort;
    return "out";
  }

  /// The packet arrives at node \p n (input \p inPort for a blackbox).
  void enterNode(Sym s, uint32_t n, const std::string &inPort) {
    const ChainNode &node = c_.nodes[n];
    if (node.kind == ChainNode::Egress) {
      Terminal t;
      t.kind = Terminal::Egress;
      t.port = portIndex(node.name);
      return leaf(std::move(s), t);
    }
    if (node.nf->blackbox) {
      Terminal t;
      t.kind = Terminal::Blackbox;
      t.node = n;
      t.name = inPort.empty() ? node.nf->inputs.front() : inPort;
      // Packets come back on the blackbox's outputs; the interpreter's wire model uses the first.
      for (size_t i = 0; i < node.nf->outputs.size(); ++i) {
        const ChainEdge *e = edgeFrom(n, node.nf->outputs[i]);
        if (!e) continue;
        uint32_t tid = tableFor({int32_t(e->to), 0, entryPort(e->to, e->toPort)}, Table::Blackbox,
                                "packets come back from blackbox " + node.name + " (output " + node.nf->outputs[i] +
                                    ") and are classified again in software");
        if (i == 0) t.table = tid;
      }
      return leaf(std::move(s), t);
    }
    s.port = "out";
    runNF(std::move(s), n, 0, false);
  }

  void leaf(Sym s, Terminal t) {
    Omega w;
    w.ops = normalise(s.events);
    // Writes after the last stateful operation of a dropped packet change nothing anyone sees.
    if (t.kind == Terminal::Drop)
      while (!w.ops.empty() && w.ops.back().kind == Op::Writes) w.ops.pop_back();
    w.term = std::move(t);
    leaves_.push_back({std::move(s.phi), std::move(w)});
    leafPaths_.push_back(std::move(s.path));
    if (enforceBound_ && leaves_.size() > o_.maxClasses) throw Abort{};
  }

  void jump(Sym s, uint32_t node, uint16_t element, Table::Reason reason, const std::string &why) {
    Terminal t;
    t.kind = Terminal::Goto;
    t.table = tableFor({int32_t(node), element, s.port}, reason, why);
    leaf(std::move(s), t);
  }

  /// Runs the elements of the NF at node \p n from element \p k on.
  void runNF(Sym s, uint32_t n, uint16_t k, bool atEntry) {
    const NF &nf = *c_.nodes[n].nf;
    for (; k < nf.elements.size(); ++k, atEntry = false) {
      const Element &el = *nf.elements[k];
      if (!atEntry && cuts_.count({n, k})) {
        std::string why = "composing the classes that reach " + nf.name + " (element " + std::to_string(k + 1) + ", " +
                          elementKindName(el.kind) + ") with its rules would exceed " +
                          (cutForWork_[{n, k}] ? std::to_string(64ull * o_.maxClasses) + " box intersections (64 per class of --max-classes)"
                                               : std::to_string(o_.maxClasses) + " classes in one table (--max-classes)");
        return jump(std::move(s), n, k, Table::Bound, why);
      }
      // A read of a field known only at run time: continue in a table of its own.
      if (el.kind == ElementKind::Classifier || el.kind == ElementKind::Lookup || el.kind == ElementKind::DecTtl) {
        for (FieldId f : el.reads().list()) {
          const FieldState &fs = s.st[size_t(f)];
          bool unfoldable = fs.kind == FieldState::Runtime || fs.kind == FieldState::MacOfIpDst;
          if (!unfoldable) continue;
          if (atEntry) continue; // cannot happen: a table starts with every field at its entry value
          std::string why = nf.name + " (element " + std::to_string(k + 1) + ", " + elementKindName(el.kind) + ") reads " +
                            fieldInfo(f).name +
                            (fs.kind == FieldState::Runtime ? " after " + nfName(fs.writer) + " wrote it at run time"
                                                            : " after a route lookup wrote it");
          return jump(std::move(s), n, k, Table::StatefulRead, why);
        }
      }
      switch (el.kind) {
      case ElementKind::Classifier: return classify(std::move(s), n, k, static_cast<const Classifier &>(el));
      case ElementKind::Lookup: return lookup(std::move(s), n, k, static_cast<const Lookup &>(el));
      case ElementKind::SetFields:
        for (const auto &a : static_cast<const SetFields &>(el).assigns) write(s, a.field, WriteExpr::Const, a.value);
        break;
      case ElementKind::DecTtl:
        if (!decTtl(s)) return;
        break;
      default: {
        // Stateful elements.
        Event ev;
        ev.stateful = true;
        ev.node = n;
        ev.element = k;
        ev.el = &el;
        s.events.push_back(ev);
        for (FieldId f : el.writes().list()) s.st[size_t(f)] = {FieldState::Runtime, 0, n};
        if (auto *d = dyn_cast<Dpi>(&el); d && d->onMatch.kind == Action::Branch) {
          Terminal t;
          t.kind = Terminal::Goto;
          std::string why = "dpi in " + nf.name + " sends matching packets to output " + d->onMatch.port + " at run time";
          t.table = tableFor({int32_t(n), uint16_t(k + 1), s.port}, Table::DpiFork, why);
          t.tableIfMatch = int32_t(tableFor({int32_t(n), uint16_t(k + 1), d->onMatch.port}, Table::DpiFork, why));
          return leaf(std::move(s), t);
        }
        break;
      }
      }
    }
    // End of the NF: leave through the selected port.
    const ChainEdge *e = edgeFrom(n, s.port);
    METRON_INTERNAL_ASSERT(e, "an NF output port with no connection in a checked chain");
    enterNode(std::move(s), e->to, e->toPort);
  }

  void write(Sym &s, FieldId f, WriteExpr::Kind kind, uint64_t v) {
    Event ev;
    ev.w.field = f;
    ev.w.kind = kind;
    ev.w.value = v;
    s.events.push_back(ev);
    FieldState &fs = s.st[size_t(f)];
    if (kind == WriteExpr::Const) fs = {FieldState::Const, v, 0};
    else if (kind == WriteExpr::DecBy) fs = {FieldState::Dec, v, 0};
    else fs = {FieldState::MacOfIpDst, 0, 0};
  }

  /// `dec ip.ttl`: a TTL known at compile time is decided here; otherwise Ω gets the check
  /// (drop when the TTL here is 0 or 1, i.e. the entry TTL <= d + 1) and the decrement.
  bool decTtl(Sym &s) {
    FieldState &fs = s.st[size_t(FieldId::IpTtl)];
    if (fs.kind == FieldState::Const) {
      if (fs.v <= 1) { leaf(std::move(s), Terminal{}); return false; }
      write(s, FieldId::IpTtl, WriteExpr::Const, fs.v - 1);
      return true;
    }
    uint64_t d = fs.kind == FieldState::Dec ? fs.v : 0; // TTL here = entry TTL - d
    if (d + 1 >= 255) { leaf(std::move(s), Terminal{}); return false; } // no TTL survives
    Event ev;
    ev.guard = uint8_t(d + 1);
    s.events.push_back(ev);
    write(s, FieldId::IpTtl, WriteExpr::DecBy, d + 1);
    return true;
  }

  /// Applies a rule action to a child class; false when the class ended (dropped).
  bool applyAction(Sym &s, const Action &a) {
    switch (a.kind) {
    case Action::Allow: return true;
    case Action::Deny: leaf(std::move(s), Terminal{}); return false;
    case Action::Branch: s.port = a.port; return true;
    case Action::Set:
      for (const auto &as : a.assigns) write(s, as.field, WriteExpr::Const, as.value);
      return true;
    }
    return true;
  }

  /// Folds a rule's matches against the field states: the constraint on the table's entry
  /// packet, or false when the rule cannot match this class.
  bool fold(const Sym &s, const std::vector<FieldMatch> &matches, Box &out) {
    out.m.clear();
    for (const auto &fm : matches) {
      const FieldState &fs = s.st[size_t(fm.field)];
      switch (fs.kind) {
      case FieldState::Entry: out.m.push_back(fm); break;
      case FieldState::Const:
        if (!fm.contains(fs.v)) return false;
        break;
      case FieldState::Dec: {
        // value = entry - d. A packet with entry <= d never gets here: Ω's TTL check, which
        // comes first, drops it; so any constraint on those entries is harmless.
        if (fm.kind != FieldMatch::Range) {
          // A mask on a decremented TTL: enumerate (8-bit field).
          uint64_t lo = 256, hi = 0;
          for (uint64_t v = 0; v + fs.v <= 255; ++v)
            if (fm.contains(v)) { lo = std::min(lo, v + fs.v); hi = std::max(hi, v + fs.v); }
          if (lo > hi) return false;
          bool contiguous = true;
          for (uint64_t v = lo; v <= hi; ++v) contiguous &= fm.contains(v - fs.v);
          if (!contiguous) return false; // not expressible; rare enough to treat conservatively
          out.m.push_back(FieldMatch::range(fm.field, lo, hi));
          break;
        }
        uint64_t lo = fm.lo + fs.v, hi = std::min<uint64_t>(fm.hi + fs.v, 255);
        if (lo > 255 || lo > hi) return false;
        out.m.push_back(FieldMatch::range(fm.field, lo, hi));
        break;
      }
      default: return false; // checked by the caller (runtime reads end the table first)
      }
    }
    std::sort(out.m.begin(), out.m.end(), [](const FieldMatch &a, const FieldMatch &b) { return a.field < b.field; });
    return true;
  }

  bool allEntry(const Sym &s, FieldSet fs) const {
    for (FieldId f : fs.list())
      if (s.st[size_t(f)].kind != FieldState::Entry) return false;
    return true;
  }

  void classify(Sym s, uint32_t n, uint16_t k, const Classifier &cl) {
    auto &boxes = ruleBoxes_[&cl];
    if (boxes.empty() && !cl.rules.empty()) {
      boxes.reserve(cl.rules.size());
      for (const auto &r : cl.rules) boxes.push_back(Box{r.matches});
    }
    bool direct = allEntry(s, cl.reads());
    std::vector<std::pair<Sym, int32_t>> children;
    Box folded, inter;
    bool covered = false;
    for (size_t i = 0; i < cl.rules.size() && !covered; ++i) {
      const Box *rb = &boxes[i];
      if (!direct) {
        if (!fold(s, cl.rules[i].matches, folded)) continue;
        rb = &folded;
      }
      count(n, k);
      if (!s.phi.intersect(*rb, inter)) continue;
      covered = s.phi.subsetOf(*rb);
      Sym c = covered ? std::move(s) : s;
      if (!covered) c.phi = inter;
      children.push_back({std::move(c), int32_t(i + 1)});
    }
    if (!covered) children.push_back({std::move(s), 0});
    growth_[{n, k}] += int64_t(children.size()) - 1;
    for (auto &[c, rule] : children) {
      c.path.push_back({n, k, rule});
      const Action &a = rule ? cl.rules[size_t(rule - 1)].action : cl.defaultAction;
      if (applyAction(c, a)) runNF(std::move(c), n, uint16_t(k + 1), false);
    }
  }

  PreparedLookup &prepare(const Lookup &lk) {
    auto [it, fresh] = lookups_.try_emplace(&lk);
    PreparedLookup &p = it->second;
    if (!fresh) return p;
    const auto &routes = lk.routes->routes;
    for (uint32_t i = 0; i < routes.size(); ++i) {
      const Route &r = routes[i];
      uint32_t host = r.len == 0 ? 0xffffffffu : (r.len == 32 ? 0 : (0xffffffffu >> r.len));
      p.byPriority.push_back({r.prefix, r.prefix | host, r.len, i + 1});
    }
    std::stable_sort(p.byPriority.begin(), p.byPriority.end(), [](const auto &a, const auto &b) { return a.len > b.len; });
    p.byLen.resize(33);
    for (uint32_t i = 0; i < p.byPriority.size(); ++i) {
      p.byStart.push_back(i);
      p.byLen[p.byPriority[i].len].emplace(p.byPriority[i].lo, i); // the first (file order) wins
    }
    std::sort(p.byStart.begin(), p.byStart.end(), [&](uint32_t a, uint32_t b) {
      return p.byPriority[a].lo != p.byPriority[b].lo ? p.byPriority[a].lo < p.byPriority[b].lo : a < b;
    });
    return p;
  }

  void lookup(Sym s, uint32_t n, uint16_t k, const Lookup &lk) {
    PreparedLookup &p = prepare(lk);
    const FieldState &fs = s.st[size_t(lk.field)];
    std::vector<std::pair<Sym, int32_t>> children;
    // The candidate routes, in first-match order.
    std::vector<uint32_t> cand;
    if (fs.kind == FieldState::Const) {
      for (uint32_t len = 33; len-- > 0;) {
        uint32_t mask = len == 0 ? 0 : (0xffffffffu << (32 - len));
        auto it = p.byLen[len].find(uint32_t(fs.v) & mask);
        if (it != p.byLen[len].end()) { cand.push_back(it->second); break; }
      }
    } else {
      uint64_t lo = 0, hi = 0xffffffffu;
      for (const FieldMatch *c : s.phi.on(lk.field))
        if (c->kind == FieldMatch::Range) { lo = c->lo; hi = c->hi; }
      for (uint32_t len = 0; len <= 32; ++len) { // routes containing lo
        uint32_t mask = len == 0 ? 0 : (0xffffffffu << (32 - len));
        auto it = p.byLen[len].find(uint32_t(lo) & mask);
        if (it != p.byLen[len].end() && p.byPriority[it->second].lo < lo) cand.push_back(it->second);
      }
      auto first = std::lower_bound(p.byStart.begin(), p.byStart.end(), lo,
                                    [&](uint32_t i, uint64_t v) { return p.byPriority[i].lo < v; });
      for (auto it = first; it != p.byStart.end() && p.byPriority[*it].lo <= hi; ++it) cand.push_back(*it);
      std::sort(cand.begin(), cand.end());
    }
    bool covered = false;
    Box rb, inter;
    for (uint32_t pos : cand) {
      const auto &r = p.byPriority[pos];
      if (p.byLen[r.len].at(r.lo) != pos) continue; // a duplicate route: the first in the file wins
      if (fs.kind == FieldState::Const) {
        covered = true;
        children.push_back({std::move(s), int32_t(r.index)});
        break;
      }
      rb.m.assign(1, FieldMatch::prefix(lk.field, r.lo, r.len));
      count(n, k);
      if (!s.phi.intersect(rb, inter)) continue;
      covered = s.phi.subsetOf(rb);
      Sym c = covered ? std::move(s) : s;
      if (!covered) c.phi = inter;
      children.push_back({std::move(c), int32_t(r.index)});
      if (covered) break;
    }
    if (!covered) children.push_back({std::move(s), 0});
    growth_[{n, k}] += int64_t(children.size()) - 1;
    const auto &routes = lk.routes->routes;
    for (auto &[c, idx] : children) {
      c.path.push_back({n, k, idx});
      if (idx == 0) {
        if (applyAction(c, lk.miss)) runNF(std::move(c), n, uint16_t(k + 1), false);
        continue;
      }
      const Route &r = routes[size_t(idx - 1)];
      if (r.kind == Route::Drop || r.kind == Route::Local) { leaf(std::move(c), Terminal{}); continue; }
      if (r.kind == Route::Unicast) {
        write(c, FieldId::EthDst, WriteExpr::Const, 0x020000000000ull | r.nextHop);
      } else { // Attached: the next hop is the destination itself
        const FieldState &f = c.st[size_t(lk.field)];
        if (f.kind == FieldState::Const) write(c, FieldId::EthDst, WriteExpr::Const, 0x020000000000ull | f.v);
        else write(c, FieldId::EthDst, WriteExpr::MacOfIpDst, 0);
      }
      auto pit = lk.portOf.find(r.iface);
      c.port = pit != lk.portOf.end() ? pit->second : "out";
      runNF(std::move(c), n, uint16_t(k + 1), false);
    }
  }

  /// Groups, and which tables run only after a stateful operation.
  void finish() {
    out_.groups.resize(omegas_.size());
    for (uint32_t g = 0; g < omegas_.size(); ++g) {
      out_.groups[g].id = g;
      out_.groups[g].omega = std::move(omegas_[g]);
    }
    uint32_t next = 0;
    for (auto &t : out_.tables)
      for (auto &tc : t.classes) {
        tc.id = next++;
        out_.groups[tc.group].classes.push_back(tc.id);
      }
    for (auto &t : out_.tables) t.afterState = t.reason != Table::Ingress && t.reason != Table::Bound;
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto &t : out_.tables)
        for (const auto &tc : t.classes) {
          const Omega &w = out_.groups[tc.group].omega;
          if (w.term.kind != Terminal::Goto) continue;
          bool after = t.afterState || w.hasStateful();
          for (int32_t target : {int32_t(w.term.table), w.term.tableIfMatch}) {
            if (target < 0 || !after || out_.tables[size_t(target)].afterState) continue;
            out_.tables[size_t(target)].afterState = true;
            changed = true;
          }
        }
    }
  }
};

} // namespace

ChainTables synthesize(const Module &m, const Chain &c, const SynthOptions &o) {
  return Synthesizer(m, c, o).run();
}

} // namespace metron::synth
