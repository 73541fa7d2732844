//===- compiler/sema/FieldFlow.cpp - Pass 3: how fields flow along chains ---------------------===//
///
/// \file
/// A forward dataflow over each chain's DAG (topological order; state at a merge is the union
/// of its predecessors'), element by element inside each NF. For every field it tracks
///   - pending writes: writes not yet read by anything downstream;
///   - stateful writers: stateful elements that rewrote the field earlier on some path.
/// Warnings:
///   conflicting-write         `set ip.dscp = 10` in a, then `set ip.dscp = 20` in b with no
///                             read between: a's write is dead on that path.
///   read-after-stateful-write `napt ip.src ...` then a rule matching ip.src: the match depends
///                             on the translation, so it becomes a run-time check that cannot
///                             be offloaded. Only stateless reads (rules, lookups) warn;
///                             stateful NFs reading their flow key are expected to.
/// Inside an NF the packets headed for each output port are tracked apart: a rule's set() only
/// reaches the port its packets leave by. Egress ports read everything (the packet leaves with
/// its fields). A blackbox is assumed to read every field.
///
//===----------------------------------------------------------------------------------------===//
#include "compiler/sema/Sema.h"

#include <array>
#include <map>
#include <set>

namespace metron {

using namespace ir;

namespace {

struct Write {
  const Element *element;
  const NF *nf;
  SourceRange range; ///< the statement or rule action that writes
  bool operator<(const Write &o) const {
    return element != o.element ? element < o.element : range.begin.offset < o.range.begin.offset;
  }
};

struct State {
  std::array<std::set<Write>, kNumFields> pending, stateful;
  void merge(const State &o) {
    for (size_t f = 0; f < kNumFields; ++f) {
      pending[f].insert(o.pending[f].begin(), o.pending[f].end());
      stateful[f].insert(o.stateful[f].begin(), o.stateful[f].end());
    }
  }
};

/// Whether every packet that leaves the element carries the write (then earlier pending writes
/// of the field are dead). Rule actions and DPI marks write only some packets.
bool unconditional(const Element &e) {
  switch (e.kind) {
  case ElementKind::SetFields:
  case ElementKind::DecTtl:
  case ElementKind::Napt:
  case ElementKind::Balance: return true;
  case ElementKind::Lookup: return static_cast<const Lookup &>(e).miss.kind == Action::Deny;
  default: return false;
  }
}

class Flow {
public:
  explicit Flow(DiagnosticEngine &d) : d_(d) {}

  void run(const Chain &c) {
    std::vector<State> in(c.nodes.size());
    std::vector<std::vector<const ChainEdge *>> succ(c.nodes.size());
    for (const auto &e : c.edges) succ[e.from].push_back(&e);
    for (uint32_t v : c.topoOrder) {
      const ChainNode &node = c.nodes[v];
      if (node.kind != ChainNode::Instance) {
        for (const auto *e : succ[v]) in[e->to].merge(in[v]);
        continue;
      }
      std::map<std::string, State> out = visitNF(*node.nf, in[v]);
      for (const auto *e : succ[v]) {
        auto it = out.find(e->fromPort);
        if (it != out.end()) in[e->to].merge(it->second);
      }
    }
  }

private:
  using PortStates = std::map<std::string, State>; ///< packets about to leave by each port

  static void addTo(PortStates &m, const std::string &port, const State &s) {
    auto [it, fresh] = m.emplace(port, s);
    if (!fresh) it->second.merge(s);
  }

  /// Applies an action's effect to packets currently headed for \p port.
  void action(const Action &a, const std::string &port, const State &s, const Element &e, const NF &nf, PortStates &next) {
    switch (a.kind) {
    case Action::Deny: return;
    case Action::Allow: addTo(next, port, s); return;
    case Action::Branch: addTo(next, a.port, s); return;
    case Action::Set: {
      State w = s;
      // Conditional: the rule rewrites only the packets it matches, so an earlier write of the
      // field still matters for the others and is not dead.
      for (const auto &as : a.assigns) write(w, e, nf, as.field, /*uncond=*/false, a.range);
      addTo(next, port, w);
      return;
    }
    }
  }

  /// Runs the NF element by element, keeping apart the packets headed for each output port.
  PortStates visitNF(const NF &nf, const State &input) {
    PortStates cur;
    cur.emplace("out", input);
    for (const auto &e : nf.elements) {
      for (auto &[port, s] : cur) read(*e, nf, s);
      PortStates next;
      for (auto &[port, s] : cur) {
        switch (e->kind) {
        case ElementKind::Classifier: {
          const auto &c = static_cast<const Classifier &>(*e);
          // Rules with equal actions have equal effects: visit each distinct action once.
          std::set<std::string> seen;
          for (const auto &r : c.rules)
            if (seen.insert(r.action.str()).second) action(r.action, port, s, *e, nf, next);
          if (seen.insert(c.defaultAction.str()).second) action(c.defaultAction, port, s, *e, nf, next);
          break;
        }
        case ElementKind::Lookup: {
          const auto &l = static_cast<const Lookup &>(*e);
          State hit = s;
          write(hit, *e, nf, FieldId::EthDst, l.miss.kind == Action::Deny, e->range);
          addTo(next, "out", hit);
          for (const auto &[iface, p] : l.portOf) addTo(next, p, hit);
          action(l.miss, port, s, *e, nf, next);
          break;
        }
        case ElementKind::Dpi: {
          const auto &d = static_cast<const Dpi &>(*e);
          addTo(next, port, s); // packets that match nothing go on unchanged
          action(d.onMatch, port, s, *e, nf, next);
          break;
        }
        default: {
          State w = s;
          for (FieldId f : e->writes().list()) write(w, *e, nf, f, unconditional(*e), e->range);
          addTo(next, port, w);
          break;
        }
        }
      }
      cur = std::move(next);
    }
    return cur;
  }

  void read(const Element &e, const NF &nf, State &s) {
    FieldSet reads = e.reads();
    bool readsAll = e.kind == ElementKind::Blackbox;
    for (size_t f = 0; f < kNumFields; ++f) {
      if (!readsAll && !reads.has(FieldId(f))) continue;
      if (!e.stateful())
        for (const Write &w : s.stateful[f]) warnStatefulRead(e, nf, FieldId(f), w);
      s.pending[f].clear();
      // A blackbox ends the synthesized segment: what comes after it is classified again in
      // software, so reads there do not depend on stateful writes before it.
      if (readsAll) s.stateful[f].clear();
    }
  }

  void write(State &s, const Element &e, const NF &nf, FieldId f, bool uncond, SourceRange at) {
    Write me{&e, &nf, at};
    auto &pend = s.pending[size_t(f)];
    if (uncond) {
      for (const Write &w : pend)
        if (w.element != &e) warnConflict(w, me, f);
      pend.clear();
      // The field no longer holds what a stateful NF wrote: later reads do not depend on it.
      s.stateful[size_t(f)].clear();
    }
    pend.insert(me);
    if (e.stateful()) s.stateful[size_t(f)].insert(me);
  }

  void warnConflict(const Write &first, const Write &second, FieldId f) {
    if (!conflictsReported_.insert({first.element, first.range.begin.offset, second.element, f}).second) return;
    auto *d = d_.report(DiagKind::ConflictingWrite, first.range,
                        std::string(fieldInfo(f).name) + " written by '" + first.nf->name + "' is overwritten by '" +
                            second.nf->name + "' before anything reads it");
    d_.note(d, second.range, "overwritten here");
  }

  void warnStatefulRead(const Element &reader, const NF &nf, FieldId f, const Write &w) {
    if (!statefulReadsReported_.insert({&reader, w.element, f}).second) return;
    auto *d = d_.report(DiagKind::ReadAfterStatefulWrite, reader.range,
                        "'" + nf.name + "' reads " + fieldInfo(f).name + " after stateful NF '" + w.nf->name +
                            "' rewrote it; this check cannot be offloaded");
    d_.note(d, w.range, std::string(fieldInfo(f).name) + " rewritten here");
  }

  DiagnosticEngine &d_;
  /// Each warning once, however many paths lead to it: (first write, its offset, overwriter,
  /// field) and (reader, stateful writer, field).
  std::set<std::tuple<const Element *, uint32_t, const Element *, FieldId>> conflictsReported_;
  std::set<std::tuple<const Element *, const Element *, FieldId>> statefulReadsReported_;
};

} // namespace

void checkFieldFlow(const Module &m, DiagnosticEngine &diags) {
  Flow flow(diags);
  for (const auto &c : m.chains) flow.run(c);
}

} // namespace metron
