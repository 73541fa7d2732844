//===- compiler/interp/Interpreter.cpp - The reference interpreter ----------------------------===//
///
/// create() resolves everything that does not depend on the packet: the successor of every
/// (node, output port), the NF output port index of every branch, a flat array of checks per
/// rule list, a binary trie per lookup, the state of every stateful element. process() then
/// walks the chain exactly as man/metron-lang.7 (SEMANTICS) describes.
//===----------------------------------------------------------------------------------------===//
#include "compiler/interp/Interpreter.h"

#include "lang/Diagnostics.h"

#include <cctype>

namespace metron::interp {

using ir::FieldId;

namespace {

constexpr int kDrop = -1;

/// An action with its branch port resolved to an NF output index.
struct ActionRT {
  ir::Action::Kind kind = ir::Action::Deny;
  int port = 0;                                 ///< Branch
  const std::vector<ir::Assign> *assigns = nullptr; ///< Set
};

/// One FieldMatch of a rule: lo <= v <= hi (Range) or (v & mask) == value (Mask).
struct Check {
  uint8_t field;
  bool isMask;
  uint64_t a, b; ///< lo, hi or value, mask
};

/// A rule list as consecutive checks: rule i is checks[begin[i], begin[i + 1]).
struct ClassifierRT {
  std::vector<Check> checks;
  std::vector<uint32_t> begin;
  std::vector<ActionRT> actions;
  ActionRT otherwise;

  /// 0-based index of the first rule that accepts \p v, or actions.size().
  size_t firstMatch(const std::array<uint64_t, ir::kNumFields> &v) const {
    size_t n = actions.size();
    for (size_t r = 0; r < n; ++r) {
      bool ok = true;
      for (uint32_t k = begin[r], e = begin[r + 1]; ok && k < e; ++k) {
        const Check &c = checks[k];
        uint64_t x = v[c.field];
        ok = c.isMask ? (x & c.b) == c.a : (c.a <= x && x <= c.b);
      }
      if (ok) return r;
    }
    return n;
  }
};

/// Longest-prefix match over IPv4 prefixes: a binary trie, one level per address bit.
class PrefixTrie {
public:
  PrefixTrie() : nodes_(1) {}
  /// Keeps the first route inserted for a prefix (file order breaks ties).
  void insert(uint32_t prefix, unsigned len, int32_t route) {
    uint32_t cur = 0;
    for (unsigned i = 0; i < len; ++i) {
      unsigned bit = (prefix >> (31 - i)) & 1;
      if (nodes_[cur].child[bit] == 0) {
        nodes_[cur].child[bit] = uint32_t(nodes_.size());
        nodes_.emplace_back();
      }
      cur = nodes_[cur].child[bit];
    }
    if (nodes_[cur].route < 0) nodes_[cur].route = route;
  }
  /// The route of the longest prefix containing \p addr, or -1.
  int32_t find(uint32_t addr) const {
    uint32_t cur = 0;
    int32_t best = nodes_[0].route;
    for (unsigned i = 0; i < 32; ++i) {
      uint32_t next = nodes_[cur].child[(addr >> (31 - i)) & 1];
      if (next == 0) break;
      cur = next;
      if (nodes_[cur].route >= 0) best = nodes_[cur].route;
    }
    return best;
  }

private:
  struct Node {
    uint32_t child[2] = {0, 0}; ///< 0 = none (the root is nobody's child)
    int32_t route = -1;
  };
  std::vector<Node> nodes_;
};

struct LookupRT {
  PrefixTrie trie;
  std::vector<int> routePort; ///< per route of the import: the NF output index it selects
  ActionRT miss;
};

struct ElementRT {
  const ir::Element *el = nullptr;
  std::unique_ptr<ClassifierRT> classifier;
  std::unique_ptr<LookupRT> lookup;
  std::unique_ptr<state::ElementState> state;
  ActionRT onMatch;   ///< Dpi
  std::string prefix; ///< of its counters: "napt.", "monitor2." (the second monitor of the NF)
};

struct NodeRT {
  ir::ChainNode::Kind kind = ir::ChainNode::Ingress;
  const ir::NF *nf = nullptr;
  std::vector<ElementRT> elements;
  std::vector<uint32_t> next; ///< per NF output port (Ingress: one), the successor node
  uint32_t egressPort = 0;    ///< Egress: Module::portNames index
  uint64_t in = 0, dropped = 0;
  std::vector<uint64_t> out;
};

uint32_t portNameIndex(const ir::Module &m, const std::string &name) {
  for (uint32_t i = 0; i < m.portNames.size(); ++i)
    if (m.portNames[i] == name) return i;
  METRON_INTERNAL_ASSERT(false, "chain port '" + name + "' is not interned in the module");
}

int outputIndex(const ir::NF &nf, const std::string &port) {
  for (size_t i = 0; i < nf.outputs.size(); ++i)
    if (nf.outputs[i] == port) return int(i);
  METRON_INTERNAL_ASSERT(false, "NF '" + nf.name + "' has no output port '" + port + "'");
}

ActionRT resolve(const ir::NF &nf, const ir::Action &a) {
  ActionRT r;
  r.kind = a.kind;
  if (a.kind == ir::Action::Branch) r.port = outputIndex(nf, a.port);
  if (a.kind == ir::Action::Set) r.assigns = &a.assigns;
  return r;
}

std::unique_ptr<ClassifierRT> buildClassifier(const ir::NF &nf, const ir::Classifier &c) {
  auto rt = std::make_unique<ClassifierRT>();
  for (const auto &rule : c.rules) {
    rt->begin.push_back(uint32_t(rt->checks.size()));
    for (const auto &m : rule.matches) {
      if (m.isWildcard()) continue;
      bool mask = m.kind == ir::FieldMatch::Mask;
      rt->checks.push_back({uint8_t(m.field), mask, mask ? m.value : m.lo, mask ? m.mask : m.hi});
    }
    rt->actions.push_back(resolve(nf, rule.action));
  }
  rt->begin.push_back(uint32_t(rt->checks.size()));
  rt->otherwise = resolve(nf, c.defaultAction);
  return rt;
}

std::unique_ptr<LookupRT> buildLookup(const ir::NF &nf, const ir::Lookup &l) {
  auto rt = std::make_unique<LookupRT>();
  const auto &routes = l.routes->routes;
  for (size_t i = 0; i < routes.size(); ++i) {
    rt->trie.insert(routes[i].prefix, routes[i].len, int32_t(i));
    auto it = l.portOf.find(routes[i].iface);
    rt->routePort.push_back(it == l.portOf.end() ? outputIndex(nf, "out") : outputIndex(nf, it->second));
  }
  rt->miss = resolve(nf, l.miss);
  return rt;
}

/// MAC 02:00:a:b:c:d for the IPv4 address a.b.c.d.
constexpr uint64_t macOf(uint64_t ipv4) { return 0x020000000000ull | ipv4; }

} // namespace

struct Interpreter::Impl {
  const ir::Chain *chain = nullptr;
  std::vector<NodeRT> nodes;
  std::vector<int64_t> ingressOfPort; ///< Module::portNames index -> ingress node, or -1

  /// Applies \p a: false when it drops; a branch selects its port.
  static bool apply(const ActionRT &a, pkt::Packet &p, int &port) {
    switch (a.kind) {
    case ir::Action::Allow: return true;
    case ir::Action::Deny: return false;
    case ir::Action::Branch: port = a.port; return true;
    case ir::Action::Set:
      for (const auto &as : *a.assigns) p.set(as.field, as.value);
      return true;
    }
    return false;
  }

  /// Runs the NF of node \p v; the selected output port index, or kDrop.
  int runNF(NodeRT &n, uint32_t v, pkt::Packet &p, Outcome &o, bool trace) {
    if (n.nf->blackbox) return 0; // the wire model of Interpreter.h
    int port = 0;                 // "out" is an NF's first output port
    for (size_t i = 0; i < n.elements.size(); ++i) {
      ElementRT &e = n.elements[i];
      switch (e.el->kind) {
      case ir::ElementKind::Classifier: {
        const ClassifierRT &c = *e.classifier;
        size_t r = c.firstMatch(p.fields());
        bool hit = r < c.actions.size();
        if (trace) o.steps.push_back({v, uint16_t(i), hit ? int32_t(r + 1) : 0});
        if (!apply(hit ? c.actions[r] : c.otherwise, p, port)) return kDrop;
        break;
      }
      case ir::ElementKind::Lookup: {
        const auto &l = static_cast<const ir::Lookup &>(*e.el);
        int32_t r = e.lookup->trie.find(uint32_t(p.get(l.field)));
        if (trace) o.steps.push_back({v, uint16_t(i), r + 1});
        if (r < 0) {
          if (!apply(e.lookup->miss, p, port)) return kDrop;
          break;
        }
        const ir::Route &route = l.routes->routes[size_t(r)];
        if (route.kind == ir::Route::Local || route.kind == ir::Route::Drop) return kDrop;
        p.set(FieldId::EthDst, macOf(route.kind == ir::Route::Unicast ? route.nextHop : p.get(FieldId::IpDst)));
        port = e.lookup->routePort[size_t(r)];
        break;
      }
      case ir::ElementKind::SetFields:
        for (const auto &as : static_cast<const ir::SetFields &>(*e.el).assigns) p.set(as.field, as.value);
        break;
      case ir::ElementKind::DecTtl: {
        uint64_t ttl = p.get(FieldId::IpTtl);
        if (ttl <= 1) return kDrop;
        p.set(FieldId::IpTtl, ttl - 1);
        break;
      }
      default: {
        state::Result r = e.state->process(p);
        if (r.drop) return kDrop;
        if (r.matched && !apply(e.onMatch, p, port)) return kDrop;
        break;
      }
      }
    }
    return port;
  }
};

std::unique_ptr<Interpreter> Interpreter::create(const ir::Module &m, const ir::Chain &c, std::string &err) {
  std::unique_ptr<Interpreter> in(new Interpreter());
  in->impl_ = std::make_unique<Impl>();
  Impl &im = *in->impl_;
  im.chain = &c;
  im.nodes.resize(c.nodes.size());
  im.ingressOfPort.assign(m.portNames.size(), -1);
  for (uint32_t v = 0; v < c.nodes.size(); ++v) {
    const ir::ChainNode &cn = c.nodes[v];
    NodeRT &n = im.nodes[v];
    n.kind = cn.kind;
    n.nf = cn.nf;
    if (cn.kind == ir::ChainNode::Ingress) {
      n.next.assign(1, 0);
      im.ingressOfPort[portNameIndex(m, cn.name)] = v;
    } else if (cn.kind == ir::ChainNode::Egress) {
      n.egressPort = portNameIndex(m, cn.name);
    } else {
      n.next.assign(cn.nf->outputs.size(), 0);
      n.out.assign(cn.nf->outputs.size(), 0);
      std::map<std::string, unsigned> seen; // element kind -> how many so far, for counter prefixes
      for (const auto &el : cn.nf->elements) {
        ElementRT e;
        e.el = el.get();
        if (auto *cl = ir::dyn_cast<ir::Classifier>(el.get())) {
          e.classifier = buildClassifier(*cn.nf, *cl);
        } else if (auto *lk = ir::dyn_cast<ir::Lookup>(el.get())) {
          e.lookup = buildLookup(*cn.nf, *lk);
        } else if (el->stateful() && el->kind != ir::ElementKind::Blackbox) {
          std::string kind = ir::elementKindName(el->kind);
          for (char &ch : kind) ch = char(std::tolower(static_cast<unsigned char>(ch)));
          unsigned k = ++seen[kind];
          e.prefix = kind + (k > 1 ? std::to_string(k) : "") + ".";
          e.state = state::ElementState::create(*el, err);
          if (!e.state) {
            err = "NF '" + cn.nf->name + "': " + err;
            return nullptr;
          }
          if (auto *d = ir::dyn_cast<ir::Dpi>(el.get())) e.onMatch = resolve(*cn.nf, d->onMatch);
        }
        n.elements.push_back(std::move(e));
      }
    }
  }
  for (const auto &e : c.edges) {
    NodeRT &from = im.nodes[e.from];
    int port = from.kind == ir::ChainNode::Ingress ? 0 : outputIndex(*from.nf, e.fromPort);
    from.next[size_t(port)] = e.to;
  }
  return in;
}

Interpreter::~Interpreter() = default;

Outcome Interpreter::process(pkt::Packet &p, bool trace) {
  Impl &im = *impl_;
  Outcome o;
  uint16_t inPort = p.inPort();
  METRON_INTERNAL_ASSERT(inPort < im.ingressOfPort.size() && im.ingressOfPort[inPort] >= 0,
                         "the packet's in_port is not an ingress port of the chain");
  uint32_t v = im.nodes[size_t(im.ingressOfPort[inPort])].next[0];
  for (;;) {
    NodeRT &n = im.nodes[v];
    if (n.kind == ir::ChainNode::Egress) {
      o.egress = n.egressPort;
      return o;
    }
    ++n.in;
    int port = im.runNF(n, v, p, o, trace);
    if (port == kDrop) {
      ++n.dropped;
      o.dropped = true;
      return o;
    }
    ++n.out[size_t(port)];
    v = n.next[size_t(port)];
  }
}

std::vector<NFCounters> Interpreter::counters() const {
  const Impl &im = *impl_;
  std::vector<NFCounters> all;
  for (uint32_t v : im.chain->topoOrder) {
    const NodeRT &n = im.nodes[v];
    if (n.kind != ir::ChainNode::Instance) continue;
    NFCounters c;
    c.nf = n.nf->name;
    c.node = v;
    c.in = n.in;
    c.dropped = n.dropped;
    for (size_t i = 0; i < n.out.size(); ++i) c.out.push_back({n.nf->outputs[i], n.out[i]});
    for (const auto &e : n.elements)
      if (e.state)
        for (const auto &[name, value] : e.state->counters()) c.elements.push_back({e.prefix + name, value});
    all.push_back(std::move(c));
  }
  return all;
}

} // namespace metron::interp
