//===- compiler/sema/ChainGraph.cpp - Pass 2: chains as DAGs ----------------------------------===//
///
/// \file
/// Builds each chain's graph from its paths and checks it:
///   in port0 -> fw -> router -> out port1;   fw.voip -> qos -> out port1;
/// becomes nodes {in port0, fw, router, out port1, qos} and edges
/// {port0→fw, fw.out→router, router.out→port1, fw.voip→qos, qos.out→port1}.
/// Errors: unknown NFs or ports, an output connected twice, `in`/`out` in the wrong place,
/// cycles (with the cycle spelled out), NFs no ingress reaches, output ports that lead nowhere.
/// Warnings: NFs that no chain uses.
///
//===----------------------------------------------------------------------------------------===//
#include "compiler/sema/Sema.h"

#include <algorithm>
#include <functional>
#include <map>

namespace metron {

using namespace ir;

namespace {

class GraphBuilder {
public:
  GraphBuilder(Module &m, DiagnosticEngine &d) : m_(m), d_(d) {}

  void build(const ast::ChainDecl &decl) {
    for (const auto &c : m_.chains)
      if (c.name == decl.name.text) {
        auto *d = d_.report(DiagKind::Redefinition, decl.name.range, "chain '" + decl.name.text + "' is declared twice");
        d_.note(d, c.nameRange, "first declared here");
        return;
      }
    Chain c;
    nodeIndex_.clear();
    c.name = decl.name.text;
    c.range = decl.range;
    c.nameRange = decl.name.range;
    std::map<std::pair<uint32_t, std::string>, size_t> outUse; // (node, port) -> edge index
    std::vector<ChainEdge> edges;
    bool ok = true;
    for (const auto &path : decl.paths) {
      bool hasPrev = false; // the previous step, when it can feed this one
      uint32_t prev = 0;
      std::string prevPort;
      for (size_t i = 0; i < path.steps.size(); ++i) {
        const ast::Endpoint &e = path.steps[i];
        bool first = i == 0, last = i + 1 == path.steps.size();
        std::optional<uint32_t> node;
        std::string outPort = "out";
        std::string inPort; // the input port this step arrives on
        if (e.kind == ast::Endpoint::In) {
          if (!first) {
            d_.report(DiagKind::BadEndpoint, e.range, "'in " + e.name.text + "' can only start a path");
            ok = false;
            hasPrev = false;
            continue;
          }
          node = nodeFor(c, ChainNode::Ingress, e.name.text, e.range);
          outPort = "";
        } else if (e.kind == ast::Endpoint::Out) {
          if (!last) {
            d_.report(DiagKind::BadEndpoint, e.range, "'out " + e.name.text + "' can only end a path");
            ok = false;
            hasPrev = false;
            continue;
          }
          node = nodeFor(c, ChainNode::Egress, e.name.text, e.range);
        } else {
          NF *nf = m_.findNF(e.name.text);
          if (!nf) {
            auto *d = d_.report(DiagKind::UnknownName, e.name.range, "unknown NF '" + e.name.text + "'");
            if (d) { // past the error limit, skip the (linear) search for a suggestion
              std::vector<std::string> names;
              for (const auto &n : m_.nfs) names.push_back(n->name);
              std::string cl = closestName(e.name.text, names);
              if (!cl.empty()) d_.note(d, m_.findNF(cl)->nameRange, "did you mean '" + cl + "'?");
            }
            if (d_.errorLimitReached()) return;
            ok = false;
            hasPrev = false;
            continue;
          }
          nf->used = true;
          node = nodeFor(c, ChainNode::Instance, e.name.text, e.range);
          c.nodes[*node].nf = nf;
          inPort = nf->inputs.empty() ? "in" : nf->inputs.front();
          if (e.port) {
            const std::string &p = e.port->text;
            // `a -> fw.voip -> b`: the port names where the packet leaves fw, unless the path
            // ends at fw (`a -> bb.in2;`), where it names the input it arrives on.
            bool asOutput = !last;
            if (asOutput) {
              if (!nf->hasOutput(p)) {
                auto *d = d_.report(DiagKind::UnknownName, e.port->range, "NF '" + nf->name + "' has no output port '" + p + "'");
                d_.note(d, nf->nameRange, portList(*nf));
                ok = false;
                hasPrev = false;
                continue;
              }
              outPort = p;
            } else if (std::find(nf->inputs.begin(), nf->inputs.end(), p) == nf->inputs.end()) {
              auto *d = d_.report(DiagKind::UnknownName, e.port->range, "NF '" + nf->name + "' has no input port '" + p + "'");
              d_.note(d, nf->nameRange, portList(*nf));
              ok = false;
            } else {
              inPort = p;
            }
          }
        }
        if (hasPrev) {
          ChainEdge edge{prev, prevPort, *node, e.range, inPort};
          auto key = std::make_pair(prev, prevPort);
          auto it = outUse.find(key);
          if (it != outUse.end()) {
            const ChainEdge &first = edges[it->second];
            if (first.to != *node || first.toPort != inPort) {
              const ChainNode &from = c.nodes[prev];
              std::string what = from.kind == ChainNode::Ingress ? "ingress port '" + from.name + "'"
                                                                 : "output '" + prevPort + "' of '" + from.name + "'";
              auto *d = d_.report(DiagKind::DuplicateConnection, e.range,
                                  what + " is already connected to '" + c.nodes[first.to].name +
                                      (first.toPort.empty() || first.toPort == "in" ? "" : "." + first.toPort) + "'");
              d_.note(d, first.range, "first connected here");
              d_.note(d, {}, "to send packets to several NFs, branch with rules or use distinct output ports");
              ok = false;
            }
          } else {
            outUse[key] = edges.size();
            edges.push_back(edge);
          }
        }
        if (c.nodes[*node].kind == ChainNode::Egress) {
          hasPrev = false;
        } else {
          hasPrev = true;
          prev = *node;
          prevPort = outPort;
        }
      }
    }
    c.edges = std::move(edges);
    if (c.nodes.empty()) {
      d_.report(DiagKind::BadEndpoint, decl.name.range, "chain '" + c.name + "' is empty");
      ok = false;
    } else if (std::none_of(c.nodes.begin(), c.nodes.end(), [](const ChainNode &n) { return n.kind == ChainNode::Ingress; })) {
      d_.report(DiagKind::BadEndpoint, decl.name.range, "chain '" + c.name + "' has no ingress port; start a path with 'in PORT'");
      ok = false;
    } else if (std::none_of(c.nodes.begin(), c.nodes.end(), [](const ChainNode &n) { return n.kind == ChainNode::Egress; })) {
      d_.report(DiagKind::BadEndpoint, decl.name.range, "chain '" + c.name + "' has no egress port; end a path with 'out PORT'");
      ok = false;
    }
    if (ok) check(c);
    for (const auto &n : c.nodes)
      if (n.kind != ChainNode::Instance) m_.internPort(n.name);
    m_.chains.push_back(std::move(c));
  }

  void reportUnused() {
    for (const auto &n : m_.nfs)
      if (!n->used) d_.report(DiagKind::UnusedNF, n->nameRange, "NF '" + n->name + "' is not used by any chain");
  }

private:
  static std::string portList(const NF &nf) {
    std::string s = "'" + nf.name + "' has output";
    s += nf.outputs.size() == 1 ? " " : "s ";
    for (size_t i = 0; i < nf.outputs.size(); ++i) s += (i ? ", " : "") + nf.outputs[i];
    s += " and input";
    s += nf.inputs.size() == 1 ? " " : "s ";
    for (size_t i = 0; i < nf.inputs.size(); ++i) s += (i ? ", " : "") + nf.inputs[i];
    return s;
  }

  uint32_t nodeFor(Chain &c, ChainNode::Kind k, const std::string &name, SourceRange r) {
    auto [it, fresh] = nodeIndex_.emplace(std::make_pair(int(k), name), uint32_t(c.nodes.size()));
    if (fresh) c.nodes.push_back({k, name, nullptr, r});
    return it->second;
  }
  std::map<std::pair<int, std::string>, uint32_t> nodeIndex_; ///< of the chain being built

  void check(Chain &c) {
    size_t n = c.nodes.size();
    std::vector<std::vector<const ChainEdge *>> succ(n);
    for (const auto &e : c.edges) succ[e.from].push_back(&e);
    // Cycles: iterative DFS with colours; on a back edge, spell out the cycle.
    std::vector<int> colour(n, 0);
    std::vector<const ChainEdge *> stackEdge(n, nullptr);
    bool cyclic = false;
    for (uint32_t root = 0; root < n && !cyclic; ++root) {
      if (colour[root]) continue;
      std::vector<std::pair<uint32_t, size_t>> stack{{root, 0}};
      colour[root] = 1;
      while (!stack.empty() && !cyclic) {
        auto &[v, idx] = stack.back();
        if (idx == succ[v].size()) {
          colour[v] = 2;
          stack.pop_back();
          continue;
        }
        const ChainEdge *e = succ[v][idx++];
        if (colour[e->to] == 1) {
          std::vector<uint32_t> members;
          bool on = false;
          for (auto &[u, _] : stack) {
            if (u == e->to) on = true;
            if (on) members.push_back(u);
          }
          members.push_back(e->to);
          // Long cycles are abbreviated: the first six NFs, "...", the last two.
          std::string cyc;
          for (size_t k = 0; k < members.size(); ++k) {
            if (members.size() > 10 && k == 6) {
              cyc += " -> ... (" + std::to_string(members.size() - 8) + " more)";
              k = members.size() - 3;
              continue;
            }
            cyc += (k ? " -> " : "") + c.nodes[members[k]].name;
          }
          auto *d = d_.report(DiagKind::ChainCycle, e->range, "chain '" + c.name + "' has a cycle: " + cyc);
          d_.note(d, {}, "chains must be acyclic: a packet may not visit an NF twice");
          cyclic = true;
        } else if (colour[e->to] == 0) {
          colour[e->to] = 1;
          stack.push_back({e->to, 0});
        }
      }
    }
    if (cyclic) return;
    // Reachability from the ingresses.
    std::vector<bool> seen(n, false);
    std::vector<uint32_t> work;
    for (uint32_t i = 0; i < n; ++i)
      if (c.nodes[i].kind == ChainNode::Ingress) {
        seen[i] = true;
        work.push_back(i);
      }
    while (!work.empty()) {
      uint32_t v = work.back();
      work.pop_back();
      for (const auto *e : succ[v])
        if (!seen[e->to]) {
          seen[e->to] = true;
          work.push_back(e->to);
        }
    }
    bool ok = true;
    for (uint32_t i = 0; i < n; ++i) {
      const ChainNode &node = c.nodes[i];
      if (node.kind == ChainNode::Instance && !seen[i]) {
        d_.report(DiagKind::UnreachableNF, node.range, "NF '" + node.name + "' in chain '" + c.name + "' is not reachable from any ingress port");
        ok = false;
      }
      if (node.kind == ChainNode::Egress && !seen[i]) {
        d_.report(DiagKind::UnreachableNF, node.range, "egress port '" + node.name + "' in chain '" + c.name + "' is not reachable from any ingress port");
        ok = false;
      }
      if (node.kind != ChainNode::Instance || !seen[i]) continue;
      for (const auto &p : node.nf->outputs) {
        bool connected = std::any_of(succ[i].begin(), succ[i].end(), [&](const ChainEdge *e) { return e->fromPort == p; });
        if (!connected) {
          auto *d = d_.report(DiagKind::UnconnectedPort, node.range,
                              "output port '" + p + "' of '" + node.name + "' is not connected in chain '" + c.name + "'");
          d_.note(d, node.nf->nameRange, "'" + node.name + "' declared here");
          ok = false;
        }
      }
    }
    if (!ok) return;
    checkInPorts(c);
    // Topological order (Kahn), ingresses first in declaration order.
    std::vector<unsigned> indeg(n, 0);
    for (const auto &e : c.edges) ++indeg[e.to];
    std::vector<uint32_t> ready;
    for (uint32_t i = 0; i < n; ++i)
      if (indeg[i] == 0) ready.push_back(i);
    std::reverse(ready.begin(), ready.end());
    while (!ready.empty()) {
      uint32_t v = ready.back();
      ready.pop_back();
      c.topoOrder.push_back(v);
      std::vector<uint32_t> next;
      for (const auto *e : succ[v])
        if (--indeg[e->to] == 0) next.push_back(e->to);
      for (auto it = next.rbegin(); it != next.rend(); ++it) ready.push_back(*it);
    }
  }

  /// A rule matching `in_port NAME` must name an ingress port of every chain its NF is in;
  /// otherwise it silently matches nothing there (a typo, usually).
  void checkInPorts(const Chain &c) {
    std::vector<std::string> ingresses;
    for (const auto &n : c.nodes)
      if (n.kind == ChainNode::Ingress) ingresses.push_back(n.name);
    for (const auto &n : c.nodes) {
      if (n.kind != ChainNode::Instance) continue;
      for (const auto &e : n.nf->elements) {
        const auto *cl = dyn_cast<Classifier>(e.get());
        if (!cl) continue;
        for (const auto &r : cl->rules) {
          const FieldMatch *fm = r.find(FieldId::InPort);
          if (!fm || fm->lo >= m_.portNames.size()) continue;
          const std::string &p = m_.portNames[fm->lo];
          if (std::find(ingresses.begin(), ingresses.end(), p) != ingresses.end()) continue;
          auto *d = d_.report(DiagKind::UnknownName, r.range,
                              "in_port '" + p + "' is not an ingress port of chain '" + c.name + "', which uses NF '" + n.name + "'");
          std::string cl2 = closestName(p, ingresses);
          SourceRange where = c.nameRange;
          for (const auto &in : c.nodes)
            if (in.kind == ChainNode::Ingress && in.name == cl2) where = in.range;
          d_.note(d, where, cl2.empty() ? "chain '" + c.name + "' is declared here" : "did you mean '" + cl2 + "'?");
        }
      }
    }
  }

  Module &m_;
  DiagnosticEngine &d_;
};

} // namespace

void buildChainGraphs(const ast::File &file, Module &m, DiagnosticEngine &diags) {
  GraphBuilder b(m, diags);
  for (const auto &c : file.chains) {
    b.build(c);
    if (diags.errorLimitReached()) return;
  }
  b.reportUnused();
}

} // namespace metron
