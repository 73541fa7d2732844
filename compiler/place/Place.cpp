//===- compiler/place/Place.cpp - Algorithm 2: where the stateless part runs ---------------===//
#include "compiler/place/Place.h"

#include <cmath>

namespace metron::place {

namespace {

std::string thousands(uint64_t v) {
  if (v == split::kUnbounded) return "unbounded";
  std::string s = std::to_string(v);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}

/// C × CAP_THR, rounded down (unbounded stays unbounded).
uint64_t available(uint64_t capacity, double thr) {
  if (capacity == split::kUnbounded) return capacity;
  return uint64_t(std::floor(double(capacity) * thr));
}

} // namespace

std::optional<Placement> placeChain(const ir::Module &m, const synth::ChainTables &t, const Topology &topo,
                                    const std::string &server, unsigned cores, DiagnosticEngine &diags,
                                    std::string &err) {
  const Server *srv = topo.findServer(server);
  if (!srv) {
    err = "no server '" + server + "' in topology '" + topo.name + "'";
    return std::nullopt;
  }
  // The chain's ingress ports must all enter the network at one element.
  std::string ingress;
  for (const auto &n : t.chain->nodes)
    if (n.kind == ir::ChainNode::Ingress) {
      if (ingress.empty()) ingress = n.name;
    }
  Placement pl;
  pl.server = server;
  pl.cores = cores ? cores : srv->cores;
  pl.path = pathToServer(topo, ingress, server, err);
  if (pl.path.empty()) return std::nullopt;
  for (const auto &n : t.chain->nodes) {
    if (n.kind != ir::ChainNode::Ingress || n.name == ingress) continue;
    std::string e2;
    auto other = pathToServer(topo, n.name, server, e2);
    if (other.empty()) {
      err = e2;
      return std::nullopt;
    }
    if (other.front().element != pl.path.front().element) {
      err = "chain ingress ports '" + ingress + "' and '" + n.name + "' enter the network at different elements (" +
            pl.path.front().element + ", " + other.front().element + "); one classifier cannot see both";
      return std::nullopt;
    }
  }

  split::SplitOptions so;
  so.cores = pl.cores;
  auto profileOf = [&](const Hop &h, uint64_t &cap, double &thr) -> const split::DeviceProfile & {
    if (h.isSwitch) {
      const Switch *s = topo.findSwitch(h.element);
      cap = s->capacity, thr = s->capThr;
      return s->profile;
    }
    const Nic *n = topo.findNic(h.element);
    cap = n->capacity, thr = n->capThr;
    return n->profile;
  };
  // Algorithm 2, lines 5-16: the first switch on the path with D <= C x CAP_THR.
  std::optional<size_t> chosen;
  for (size_t i = 0; i < pl.path.size() && !chosen; ++i) {
    const Hop &h = pl.path[i];
    if (!h.isSwitch) break;
    Candidate c;
    c.element = h.element;
    uint64_t cap;
    double thr;
    split::DeviceProfile dev = profileOf(h, cap, thr);
    c.profile = dev.name;
    c.capacity = cap, c.capThr = thr;
    dev.table0.rules = dev.other.rules = split::kUnbounded;
    SourceManager sm;
    DiagnosticEngine quiet(sm);
    split::SplitPlan demand = split::splitChain(m, t, dev, so, quiet);
    c.demand = demand.deviceRules();
    c.offloadable = demand.offloadedClasses();
    const uint64_t avail = available(cap, thr);
    if (c.offloadable == 0) {
      c.why = dev.name + " cannot offload any class of the chain";
    } else if (c.demand <= avail) {
      c.chosen = true;
      c.why = "D = " + thousands(c.demand) + " <= C x CAP_THR = " + thousands(avail);
      chosen = i;
    } else {
      c.why = "D = " + thousands(c.demand) + " exceeds C x CAP_THR = " + thousands(avail);
    }
    pl.candidates.push_back(c);
  }
  // The last resort: the server's NIC, with what fits.
  if (!chosen) {
    chosen = pl.path.size() - 1;
    Candidate c;
    c.element = pl.path.back().element;
    c.isSwitch = false;
    uint64_t cap;
    double thr;
    const split::DeviceProfile &dev = profileOf(pl.path.back(), cap, thr);
    c.profile = dev.name;
    c.capacity = cap, c.capThr = thr;
    c.chosen = true;
    c.why = "no switch on the path qualifies: the server's NIC takes what fits in C x CAP_THR = " +
            thousands(available(cap, thr));
    pl.candidates.push_back(c);
  }
  pl.classifier = *chosen;
  uint64_t cap;
  double thr;
  pl.device = profileOf(pl.path[pl.classifier], cap, thr);
  const uint64_t avail = available(cap, thr);
  pl.device.table0.rules = std::min(pl.device.table0.rules, avail);
  pl.plan = split::splitChain(m, t, pl.device, so, diags);
  if (!pl.candidates.empty() && pl.candidates.back().chosen) {
    pl.candidates.back().demand = pl.plan.deviceRules();
    pl.candidates.back().offloadable = pl.plan.offloadedClasses();
  }
  return pl;
}

} // namespace metron::place
