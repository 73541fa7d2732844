//===- compiler/synth/Execute.cpp - Running packets through synthesized tables ----------------===//
#include "compiler/synth/Execute.h"

#include "lang/Diagnostics.h"

namespace metron::synth {

using namespace ir;

std::unique_ptr<Executor> Executor::create(const Module &m, const ChainTables &t, std::string &err) {
  std::unique_ptr<Executor> x(new Executor(m, t));
  for (const auto &tab : t.tables) x->classifiers_.push_back(std::make_unique<TableClassifier>(tab));
  // One state per stateful element instance, created in chain order so that state is set up
  // exactly as the interpreter's.
  const Chain &c = *t.chain;
  for (uint32_t n = 0; n < c.nodes.size(); ++n) {
    const ChainNode &node = c.nodes[n];
    if (node.kind != ChainNode::Instance || node.nf->blackbox) continue;
    for (uint32_t k = 0; k < node.nf->elements.size(); ++k) {
      const Element &e = *node.nf->elements[k];
      if (!e.stateful()) continue;
      auto s = state::ElementState::create(e, err);
      if (!s) return nullptr;
      x->state_[{n, k}] = std::move(s);
    }
  }
  return x;
}

ExecOutcome Executor::process(pkt::Packet &p) {
  ExecOutcome out;
  uint32_t table = 0;
  for (unsigned hops = 0;; ++hops) {
    METRON_INTERNAL_ASSERT(hops <= t_.tables.size() * 4 + 8, "synthesized tables loop");
    const auto entry = p.fields();
    int32_t ci = classifiers_[table]->lookup(entry);
    METRON_INTERNAL_ASSERT(ci >= 0, "a synthesized table does not cover every packet");
    const TrafficClass &tc = t_.tables[table].classes[size_t(ci)];
    out.classes.push_back({table, tc.id});
    if (recordEntries) out.entries.push_back(entry);
    const Omega &w = t_.groups[tc.group].omega;
    bool dpiMatched = false;
    for (const Op &op : w.ops) {
      if (op.kind == Op::Writes) {
        if (op.ttlGuard && entry[size_t(FieldId::IpTtl)] <= op.ttlGuard) {
          out.dropped = true;
          return out;
        }
        for (const WriteExpr &x : op.writes) {
          uint64_t v = x.value;
          if (x.kind == WriteExpr::DecBy) v = entry[size_t(FieldId::IpTtl)] - x.value;
          else if (x.kind == WriteExpr::MacOfIpDst) v = 0x020000000000ull | entry[size_t(FieldId::IpDst)];
          p.set(x.field, v);
        }
        continue;
      }
      state::Result r = state_.at({op.node, op.element})->process(p);
      if (r.drop) {
        out.dropped = true;
        return out;
      }
      if (const Dpi *d = dyn_cast<Dpi>(op.el); d && r.matched) {
        dpiMatched = true;
        switch (d->onMatch.kind) {
        case Action::Allow: break;
        case Action::Branch: break; // the terminal chooses the table
        case Action::Deny: out.dropped = true; return out;
        case Action::Set:
          for (const auto &a : d->onMatch.assigns) p.set(a.field, a.value);
          break;
        }
      }
    }
    const Terminal &term = w.term;
    switch (term.kind) {
    case Terminal::Drop: out.dropped = true; return out;
    case Terminal::Egress: out.egress = term.port; return out;
    case Terminal::Blackbox: table = term.table; break; // the wire model of the interpreter
    case Terminal::Goto: table = dpiMatched && term.tableIfMatch >= 0 ? uint32_t(term.tableIfMatch) : term.table; break;
    }
  }
}

} // namespace metron::synth
