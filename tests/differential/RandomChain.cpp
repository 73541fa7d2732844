//===- tests/differential/RandomChain.cpp - Random chains for differential testing ------------===//
#include "tests/differential/RandomChain.h"

#include <algorithm>

namespace metron::difftest {

const std::vector<uint32_t> &addressPool() {
  static const std::vector<uint32_t> pool = {
      0x0a000001, 0x0a000002, 0x0a0000ff, 0x0a010203, 0x0a800000, 0xc0a80001, 0xc0a80101,
      0x08080808, 0xcb007101, 0x7f000001, 0xac100001, 0x00000000, 0xffffffff, 0x0a0a0a0a};
  return pool;
}

const std::vector<uint16_t> &portPool() {
  static const std::vector<uint16_t> pool = {0, 1, 22, 53, 80, 443, 1023, 1024, 1025, 5060, 8080, 40000, 65535};
  return pool;
}

namespace {

struct Gen {
  std::mt19937_64 &rng;
  template <typename T> const T &pick(const std::vector<T> &v) { return v[rng() % v.size()]; }
  unsigned below(unsigned n) { return unsigned(rng() % n); }
  bool chance(unsigned pct) { return below(100) < pct; }

  std::string ip(uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) + "." +
           std::to_string(a & 255);
  }
  std::string prefix() {
    static const unsigned lens[] = {0, 8, 16, 24, 25, 31, 32};
    unsigned len = lens[below(7)];
    uint32_t a = pick(addressPool());
    uint32_t mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
    return ip(a & mask) + "/" + std::to_string(len);
  }
  std::string portMatch() {
    uint16_t a = pick(portPool()), b = pick(portPool());
    if (a > b) std::swap(a, b);
    if (chance(50) || a == b) return std::to_string(a);
    return std::to_string(a) + "-" + std::to_string(b);
  }

  /// A rule's match part; may be empty (matches everything).
  std::string match() {
    std::string m;
    unsigned n = below(4);
    bool proto = false;
    unsigned used = 0; // one match per field and rule
    for (unsigned i = 0; i < n; ++i) {
      unsigned k = below(10);
      if (used & (1u << k)) continue;
      used |= 1u << k;
      switch (k) {
      case 0: if (!proto) { m += pick(std::vector<std::string>{"tcp", "udp", "icmp", "proto 47"}) + " "; proto = true; } break;
      case 1: m += "src " + prefix() + " "; break;
      case 2: m += "dst " + prefix() + " "; break;
      case 3: m += "sport " + portMatch() + " "; break;
      case 4: m += "dport " + portMatch() + " "; break;
      case 5: m += "ip.ttl " + pick(std::vector<std::string>{"0-1", "2", "3-64", "0x40/0xc0", "255"}) + " "; break;
      case 6: m += "ip.dscp " + pick(std::vector<std::string>{"0", "46", "8-15"}) + " "; break;
      case 7: m += "tcp.flags " + pick(std::vector<std::string>{"0x02/0x12", "0x10/0x10", "0x04"}) + " "; break;
      case 8: m += "vlan.id " + pick(std::vector<std::string>{"0", "100", "1-4095"}) + " "; break;
      case 9: m += "in_port p0 "; break;
      }
    }
    return m;
  }

  std::string assign() {
    switch (below(6)) {
    case 0: return "ip.dst = " + ip(pick(addressPool()));
    case 1: return "ip.src = " + ip(pick(addressPool()));
    case 2: return "ip.dscp = " + std::to_string(pick(std::vector<unsigned>{0, 8, 46, 63}));
    case 3: return "tp.dst = " + std::to_string(pick(portPool()));
    case 4: return "ip.ttl = " + std::to_string(pick(std::vector<unsigned>{1, 2, 64}));
    default: return "vlan.pcp = " + std::to_string(below(8));
    }
  }

  std::string action(const std::vector<std::string> &ports) {
    unsigned k = below(10);
    if (k < 4) return "allow";
    if (k < 6) return "deny";
    if (k < 8 && !ports.empty()) return "branch " + pick(ports);
    std::string a = assign(), s = "set(" + a;
    if (chance(30)) {
      std::string b = assign();
      if (b.substr(0, b.find(' ')) != a.substr(0, a.find(' '))) s += ", " + b;
    }
    return s + ")";
  }
};

} // namespace

GeneratedChain randomChain(std::mt19937_64 &rng, unsigned index) {
  Gen g{rng};
  GeneratedChain out;
  std::string s = "// random chain " + std::to_string(index) + "\n";
  // Auxiliary files: a small route table and a DPI literal set.
  std::string routes;
  for (unsigned i = 0, n = 3 + g.below(10); i < n; ++i) {
    std::string nh = g.chance(20) ? "-" : g.ip(g.pick(addressPool())); // "-": attached
    routes += g.prefix() + " " + nh + " " + (g.chance(30) ? "eth2" : "eth1") + "\n";
  }
  routes = g.prefix() + " " + g.ip(g.pick(addressPool())) + " eth2\n" + routes; // `ports ("eth2" -> alt)` needs one
  if (g.chance(30)) routes += g.prefix() + " - [dscd]\n";
  out.files.push_back({"routes.txt", routes});
  out.payloadWords = {"attack", "GET /admin", "xyzzy"};
  out.files.push_back({"patterns.txt", "1:/attack/\n2:/GET \\/admin/i\n3:/xyzzy/s\n"});
  s += "import routes \"routes.txt\" as rt;\nimport patterns \"patterns.txt\" as pats;\n\n";

  unsigned nfs = 1 + g.below(5);
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> extraPorts(nfs);
  bool usedRoutes = false, usedPatterns = false;
  for (unsigned i = 0; i < nfs; ++i) {
    std::string name = "nf" + std::to_string(i);
    names.push_back(name);
    bool blackbox = i > 0 && g.chance(8);
    if (blackbox) {
      s += "nf " + name + " blackbox {\n    process \"/bin/cat\";\n" + (g.chance(50) ? "    strips tags;\n" : "") + "}\n";
      continue;
    }
    std::string body;
    bool stateful = false;
    std::vector<std::string> ports;
    if (g.chance(35)) ports.push_back("alt");
    unsigned elems = 1 + g.below(3);
    for (unsigned e = 0; e < elems; ++e) {
      switch (g.below(12)) {
      case 0: case 1: case 2: {
        unsigned rules = 1 + g.below(6);
        for (unsigned r = 0; r < rules; ++r) body += "    rule " + g.action(ports) + " " + g.match() + ";\n";
        break;
      }
      case 3: body += "    set " + g.assign() + ";\n"; break;
      case 4: body += "    dec ip.ttl;\n"; break;
      case 5:
        body += "    lookup ip.dst in rt" + std::string(!ports.empty() && g.chance(50) ? " ports (\"eth2\" -> alt)" : "") +
                (g.chance(30) ? " miss allow" : "") + ";\n";
        usedRoutes = true;
        break;
      case 6:
        body += g.chance(70) ? "    napt ip.src to 203.0.113.1 ports 1024-1030 timeout 5;\n"
                             : "    napt ip.dst to 10.0.0.2 ports 2000-2003;\n";
        stateful = true;
        break;
      case 7:
        body += std::string("    balance ") + (g.chance(50) ? "ip.dst round_robin [10.0.1.1, 10.0.1.2, 10.0.1.3]" : "tp.dst hash [80, 8080]") + ";\n";
        stateful = true;
        break;
      case 8: body += g.chance(50) ? "    monitor;\n" : "    monitor key (ip.src) timeout 1;\n"; stateful = true; break;
      case 9: body += g.chance(50) ? "    conntrack timeout 2;\n" : "    conntrack strict;\n"; stateful = true; break;
      case 10: body += g.chance(50) ? "    ratelimit 100 pps burst 3;\n" : "    ratelimit 20 kbps key (ip.src);\n"; stateful = true; break;
      case 11: {
        std::string act = g.pick(std::vector<std::string>{"", " action deny", " action set(ip.dscp = 1)"});
        if (!ports.empty() && g.chance(40)) act = " action branch alt";
        body += "    dpi pats" + act + ";\n";
        usedPatterns = true;
        stateful = true;
        break;
      }
      }
    }
    if (g.chance(50)) body += "    default " + g.action(ports) + ";\n";
    for (const auto &p : ports) body += "    output " + p + ";\n";
    extraPorts[i] = ports;
    s += "nf " + name + (stateful ? " stateful" : "") + " {\n" + body + "}\n";
  }
  if (!usedRoutes || !usedPatterns) {
    // Unused imports are warnings only; keep the program warning-free anyway.
    std::string drop;
    if (!usedRoutes) s.replace(s.find("import routes"), s.find('\n', s.find("import routes")) - s.find("import routes") + 1, "");
    if (!usedPatterns) s.replace(s.find("import patterns"), s.find('\n', s.find("import patterns")) - s.find("import patterns") + 1, "");
  }
  // The chain: a line through every NF in order; extra ports go to later NFs (merges) or to
  // a second egress.
  s += "\nchain c {\n    in p0 -> ";
  for (unsigned i = 0; i < nfs; ++i) s += names[i] + " -> ";
  s += "out p1;\n";
  if (g.chance(30)) s += "    in p9 -> " + names[g.below(nfs)] + ";\n";
  for (unsigned i = 0; i < nfs; ++i)
    for (const auto &p : extraPorts[i]) {
      if (i + 1 < nfs && g.chance(60)) s += "    " + names[i] + "." + p + " -> " + names[i + 1 + g.below(nfs - i - 1)] + ";\n";
      else s += "    " + names[i] + "." + p + " -> out p2;\n";
    }
  s += "}\n";
  out.source = s;
  return out;
}

} // namespace metron::difftest
