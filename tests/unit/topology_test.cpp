//===- tests/unit/topology_test.cpp - Topology files and paths to servers -------------------===//
///
/// \file
/// The three shipped topologies (examples/fig8a.toml, fig8b.toml, fig13.toml) are parsed and
/// every field is checked against the file's text and the built-in profiles' table-0 rules
/// (targets/profiles/*.toml). The bad inputs assert the exact error text: each line:column is
/// counted by hand in the input (toml++ reports a key's or value's first character, and a
/// missing key at its table's header). Paths (pathToServer) are derived by hand from the
/// links: fewest hops, ties by the order of links, NICs as terminals.
//===----------------------------------------------------------------------------------------===//
#include "compiler/place/Topology.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace metron;
using namespace metron::place;

namespace {

std::string example(const std::string &name) { return std::string(METRON_SOURCE_DIR) + "/examples/" + name; }

Topology load(const std::string &path) {
  TopologyError err;
  auto t = loadTopology(path, err);
  EXPECT_TRUE(t) << err.str();
  return t ? *t : Topology{};
}

Topology parse(const std::string &text, const std::string &path = "t.toml") {
  TopologyError err;
  auto t = parseTopology(text, path, err);
  EXPECT_TRUE(t) << err.str();
  EXPECT_TRUE(err.message.empty()) << "an accepted topology left an error: " << err.str();
  return t ? *t : Topology{};
}

std::string parseError(const std::string &text, const std::string &path = "t.toml") {
  TopologyError err;
  auto t = parseTopology(text, path, err);
  EXPECT_FALSE(t) << "accepted:\n" << text;
  return err.str();
}

/// "s1 1>2, server1.nic0 0": each switch with its in and out ports, the NIC with its in port.
std::string hops(const std::vector<Hop> &path) {
  std::string s;
  for (const Hop &h : path) {
    if (!s.empty()) s += ", ";
    s += h.element + " " + std::to_string(h.inPort);
    if (h.isSwitch) s += ">" + std::to_string(h.outPort);
  }
  return s;
}

std::string route(const Topology &t, const std::string &chainPort, const std::string &server) {
  std::string err;
  std::vector<Hop> p = pathToServer(t, chainPort, server, err);
  EXPECT_EQ(p.empty(), !err.empty());
  return p.empty() ? "error: " + err : hops(p);
}

/// A scratch directory, removed with its files at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "topology_test.XXXXXX";
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string write(const std::string &name, const std::string &text) const {
    std::string p = path + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ---- the shipped examples ------------------------------------------------------------------

TEST(TopologyExamples, Fig8a) {
  // The paper's testbed: a NoviFlow 1132 (4,096 rules, CAP_THR 0.9) in front of a server with
  // two dual-port Intel 82599 NICs on switch ports 2, 4, 5, 6 (examples/fig8a.toml).
  Topology t = load(example("fig8a.toml"));
  EXPECT_EQ(t.name, "fig8a");
  EXPECT_EQ(t.path, example("fig8a.toml"));
  EXPECT_EQ(t.capThr, 1.0); // no top-level cap_thr
  ASSERT_EQ(t.switches.size(), 1u);
  const Switch &s1 = t.switches[0];
  EXPECT_EQ(s1.name, "s1");
  EXPECT_EQ(s1.profile.name, "noviflow-1132");
  EXPECT_EQ(s1.profile.kind, split::DeviceProfile::Switch);
  EXPECT_EQ(s1.capacity, 4096u); // `rules`, equal to the profile's table 0
  EXPECT_EQ(s1.capThr, 0.9);
  EXPECT_EQ(s1.ports, 0u);
  ASSERT_EQ(t.servers.size(), 1u);
  const Server &srv = t.servers[0];
  EXPECT_EQ(srv.name, "server1");
  EXPECT_EQ(srv.cores, 16u);
  ASSERT_EQ(srv.nics.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const Nic &n = srv.nics[i];
    EXPECT_EQ(n.name, "nic" + std::to_string(i));
    EXPECT_EQ(n.id, "server1.nic" + std::to_string(i));
    EXPECT_EQ(n.profile.name, "intel-82599");
    EXPECT_EQ(n.profile.kind, split::DeviceProfile::Nic);
    EXPECT_EQ(n.capacity, 128u); // intel-82599.toml: tables.rules = 128
    EXPECT_EQ(n.capThr, 1.0);
    EXPECT_EQ(n.ports, 2u);
  }
  ASSERT_EQ(t.links.size(), 4u);
  EXPECT_EQ(t.links[0].a.str(), "s1:2");
  EXPECT_EQ(t.links[0].b.str(), "server1.nic0:0");
  EXPECT_EQ(t.links[3].a.str(), "s1:6");
  EXPECT_EQ(t.links[3].b.str(), "server1.nic1:1");
  ASSERT_EQ(t.ingress.size(), 1u);
  EXPECT_EQ(t.ingress[0].chainPort, "port0");
  EXPECT_EQ(t.ingress[0].at.str(), "s1:1");
  ASSERT_EQ(t.egress.size(), 1u);
  EXPECT_EQ(t.egress[0].chainPort, "port1");
  EXPECT_EQ(t.egress[0].at.str(), "s1:3");

  EXPECT_EQ(t.findSwitch("s1"), &t.switches[0]);
  EXPECT_EQ(t.findSwitch("server1"), nullptr);
  EXPECT_EQ(t.findServer("server1"), &t.servers[0]);
  EXPECT_EQ(t.findServer("s1"), nullptr);
  EXPECT_EQ(t.findNic("server1.nic0"), &t.servers[0].nics[0]);
  EXPECT_EQ(t.findNic("server1.nic1"), &t.servers[0].nics[1]);
  EXPECT_EQ(t.findNic("server1"), nullptr);
  EXPECT_EQ(t.findNic("server1.nic2"), nullptr);
  ASSERT_TRUE(t.peer(PortRef{"s1", 5}));
  EXPECT_EQ(t.peer(PortRef{"s1", 5})->str(), "server1.nic1:0");
  ASSERT_TRUE(t.peer(PortRef{"server1.nic0", 1}));
  EXPECT_EQ(t.peer(PortRef{"server1.nic0", 1})->str(), "s1:4");
  EXPECT_FALSE(t.peer(PortRef{"s1", 1})); // the ingress point
  EXPECT_FALSE(t.peer(PortRef{"s1", 3})); // the egress point

  // In at s1:1; four links lead to the server, all one hop: the first in the file, s1:2.
  EXPECT_EQ(route(t, "port0", "server1"), "s1 1>2, server1.nic0 0");
  EXPECT_EQ(route(t, "port1", "server1"), "error: no ingress point for chain port 'port1' in topology 'fig8a'");
}

TEST(TopologyExamples, Fig8b) {
  Topology t = load(example("fig8b.toml"));
  EXPECT_EQ(t.name, "fig8b");
  EXPECT_TRUE(t.switches.empty());
  EXPECT_TRUE(t.links.empty());
  ASSERT_EQ(t.servers.size(), 1u);
  EXPECT_EQ(t.servers[0].name, "server1");
  EXPECT_EQ(t.servers[0].cores, 16u);
  ASSERT_EQ(t.servers[0].nics.size(), 1u);
  const Nic &n = t.servers[0].nics[0];
  EXPECT_EQ(n.id, "server1.nic0");
  EXPECT_EQ(n.profile.name, "connectx-5");
  EXPECT_EQ(n.profile.kind, split::DeviceProfile::Nic);
  EXPECT_EQ(n.capacity, 65536u); // connectx-5.toml: tables.rules = 65536 (table 0)
  EXPECT_EQ(n.capThr, 1.0);
  EXPECT_EQ(n.ports, 2u);
  ASSERT_EQ(t.ingress.size(), 1u);
  EXPECT_EQ(t.ingress[0].at.str(), "server1.nic0:0");
  ASSERT_EQ(t.egress.size(), 1u);
  EXPECT_EQ(t.egress[0].at.str(), "server1.nic0:1");
  // The ingress point is on the server's NIC: the path is that NIC alone.
  EXPECT_EQ(route(t, "port0", "server1"), "server1.nic0 0");
}

TEST(TopologyExamples, Fig13) {
  Topology t = load(example("fig13.toml"));
  EXPECT_EQ(t.name, "fig13");
  EXPECT_TRUE(t.switches.empty());
  ASSERT_EQ(t.servers.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const Server &s = t.servers[i];
    EXPECT_EQ(s.name, "server" + std::to_string(i + 1));
    EXPECT_EQ(s.cores, 8u);
    ASSERT_EQ(s.nics.size(), 1u);
    EXPECT_EQ(s.nics[0].id, s.name + ".nic0");
    EXPECT_EQ(s.nics[0].profile.name, "connectx-5");
    EXPECT_EQ(s.nics[0].capacity, 65536u);
    EXPECT_EQ(s.nics[0].ports, 2u);
  }
  ASSERT_EQ(t.links.size(), 2u);
  EXPECT_EQ(t.links[0].a.str(), "server1.nic0:1");
  EXPECT_EQ(t.links[0].b.str(), "server2.nic0:0");
  EXPECT_EQ(t.links[1].a.str(), "server2.nic0:1");
  EXPECT_EQ(t.links[1].b.str(), "server3.nic0:0");
  ASSERT_EQ(t.ingress.size(), 1u);
  ASSERT_EQ(t.egress.size(), 1u);
  EXPECT_EQ(t.ingress[0].at.str(), "server1.nic0:0");
  EXPECT_EQ(t.egress[0].at.str(), "server1.nic0:0"); // in and out on the generator's cable
  EXPECT_FALSE(t.peer(PortRef{"server3.nic0", 1}));

  EXPECT_EQ(route(t, "port0", "server1"), "server1.nic0 0");
  // Traffic does not cross a NIC: server 2 lies behind server 1's.
  EXPECT_EQ(route(t, "port0", "server2"),
            "error: server 'server2' is not reachable from ingress 'port0' (server1.nic0:0)");
  EXPECT_EQ(route(t, "port0", "server9"), "error: no server 'server9' in topology 'fig13'");
}

// ---- defaults and what is derived ----------------------------------------------------------

TEST(Topology, DefaultsAndOverrides) {
  Topology t = parse("cap_thr = 0.5\n"
                     "[[switch]]\n"
                     "name = \"a\"\n"
                     "profile = \"ovs\"\n"
                     "[[switch]]\n"
                     "name = \"b\"\n"
                     "profile = \"hp-5130ei\"\n"
                     "rules = 100\n"
                     "cap_thr = 0.25\n"
                     "ports = 48\n"
                     "[[switch]]\n"
                     "name = \"c\"\n"
                     "profile = \"ovs\"\n"
                     "rules = \"unbounded\"\n"
                     "[[server]]\n"
                     "name = \"srv\"\n"
                     "cores = 1024\n"
                     "  [[server.nic]]\n"
                     "  name = \"x_1\"\n"
                     "  profile = \"intel-82599\"\n"
                     "  [[server.nic]]\n"
                     "  name = \"y-2\"\n"
                     "  profile = \"software-nic\"\n"
                     "  rules = 5000000\n"
                     "  cap_thr = 1\n"
                     "  ports = 4\n",
                     "dir/my-net.toml");
  EXPECT_EQ(t.name, "my-net"); // no `name`: the base name without .toml
  EXPECT_EQ(t.capThr, 0.5);
  ASSERT_EQ(t.switches.size(), 3u);
  EXPECT_EQ(t.switches[0].capacity, split::kUnbounded); // ovs.toml: tables.rules = "unbounded"
  EXPECT_EQ(t.switches[0].capThr, 0.5);                 // the top-level default
  EXPECT_EQ(t.switches[0].ports, 0u);
  EXPECT_EQ(t.switches[1].capacity, 100u);
  EXPECT_EQ(t.switches[1].capThr, 0.25);
  EXPECT_EQ(t.switches[1].ports, 48u);
  EXPECT_EQ(t.switches[2].capacity, split::kUnbounded);
  ASSERT_EQ(t.servers.size(), 1u);
  EXPECT_EQ(t.servers[0].cores, 1024u);
  ASSERT_EQ(t.servers[0].nics.size(), 2u);
  EXPECT_EQ(t.servers[0].nics[0].id, "srv.x_1");
  EXPECT_EQ(t.servers[0].nics[0].capacity, 128u);
  EXPECT_EQ(t.servers[0].nics[0].capThr, 0.5);
  EXPECT_EQ(t.servers[0].nics[0].ports, 1u);
  EXPECT_EQ(t.servers[0].nics[1].capacity, 5000000u); // a bound on an unbounded device
  EXPECT_EQ(t.servers[0].nics[1].capThr, 1.0);
  EXPECT_EQ(t.servers[0].nics[1].ports, 4u);
  EXPECT_TRUE(t.links.empty());
  EXPECT_TRUE(t.ingress.empty());
  EXPECT_TRUE(t.egress.empty());

  // An explicit name wins over the file's.
  EXPECT_EQ(parse("name = \"lab_2\"\n[[server]]\nname = \"s\"\ncores = 1\n[[server.nic]]\nname = \"n\"\n"
                  "profile = \"connectx-5\"\n",
                  "x/y.toml")
                .name,
            "lab_2");
}

TEST(Topology, ProfilePathIsRelativeToTheTopology) {
  TempDir d;
  ASSERT_EQ(mkdir((d.path + "/profiles").c_str(), 0700), 0);
  d.write("profiles/nic.toml", readFile(std::string(METRON_SOURCE_DIR) + "/targets/profiles/intel-82599.toml"));
  d.write("profiles/bad.toml", "nmae = 1\n");
  std::string topo = d.write("net.toml", "[[server]]\n"
                                         "name = \"s\"\n"
                                         "cores = 2\n"
                                         "[[server.nic]]\n"
                                         "name = \"n\"\n"
                                         "profile = \"profiles/nic.toml\"\n");
  Topology t = load(topo);
  ASSERT_EQ(t.servers.size(), 1u);
  EXPECT_EQ(t.name, "net");
  EXPECT_EQ(t.servers[0].nics[0].profile.name, "intel-82599");
  EXPECT_EQ(t.servers[0].nics[0].profile.path, d.path + "/profiles/nic.toml");
  EXPECT_EQ(t.servers[0].nics[0].capacity, 128u);

  // An error in the profile file is reported at the topology's `profile` key, with the
  // profile's own position (the profile reader's message, compiler/split/Profile.cpp).
  topo = d.write("bad-net.toml", "[[switch]]\n"
                                 "name = \"s1\"\n"
                                 "profile = \"profiles/bad.toml\"\n");
  TopologyError err;
  EXPECT_FALSE(loadTopology(topo, err));
  EXPECT_EQ(err.str(), topo + ":3:11: error: switch[0].profile: " + d.path +
                           "/profiles/bad.toml:1:1: unknown key 'nmae' at the top level");
}

TEST(Topology, AgentAndOpenflowTargets) {
  Topology t = parse("[[switch]]\nname = \"s1\"\nprofile = \"ovs\"\nopenflow = \"unix:/run/ovs/br0.mgmt\"\n"
                     "[[switch]]\nname = \"s2\"\nprofile = \"ovs\"\nopenflow = \"tcp:[::1]:6653\"\n"
                     "[[server]]\nname = \"s\"\ncores = 1\nagent = \"192.0.2.7:8600\"\n"
                     "[[server.nic]]\nname = \"n\"\nprofile = \"connectx-5\"\n"
                     "[[server]]\nname = \"t\"\ncores = 1\n[[server.nic]]\nname = \"n\"\nprofile = \"connectx-5\"\n");
  EXPECT_EQ(t.switches[0].openflow, "unix:/run/ovs/br0.mgmt");
  EXPECT_EQ(t.switches[1].openflow, "tcp:[::1]:6653");
  EXPECT_EQ(t.servers[0].agent, "192.0.2.7:8600");
  EXPECT_EQ(t.servers[1].agent, "");
}

TEST(Topology, IngressAndEgressMayShareAPort) {
  Topology t = parse("[[server]]\nname = \"s\"\ncores = 1\n[[server.nic]]\nname = \"n\"\nprofile = \"connectx-5\"\n"
                     "[[ingress]]\nport = \"in0\"\nat = \"s.n:0\"\n"
                     "[[egress]]\nport = \"out0\"\nat = \"s.n:0\"\n");
  ASSERT_EQ(t.ingress.size(), 1u);
  ASSERT_EQ(t.egress.size(), 1u);
  EXPECT_EQ(t.ingress[0].at, t.egress[0].at);
}

// ---- bad inputs ----------------------------------------------------------------------------

/// Lines 1-10 of the link and endpoint cases: switch s1 with ports 1..3, server1 with nic0
/// (one port, 0).
const std::string kNet = "[[switch]]\n"                  // 1
                         "name = \"s1\"\n"               // 2
                         "profile = \"ovs\"\n"           // 3
                         "ports = 3\n"                   // 4
                         "[[server]]\n"                  // 5
                         "name = \"server1\"\n"          // 6
                         "cores = 4\n"                   // 7
                         "  [[server.nic]]\n"            // 8
                         "  name = \"nic0\"\n"           // 9
                         "  profile = \"connectx-5\"\n"; // 10

/// Lines 1-6: server1 with nic0 (connectx-5).
const std::string kServer = "[[server]]\n"                  // 1
                            "name = \"server1\"\n"          // 2
                            "cores = 4\n"                   // 3
                            "  [[server.nic]]\n"            // 4
                            "  name = \"nic0\"\n"           // 5
                            "  profile = \"connectx-5\"\n"; // 6

/// A [[link]] table (three lines).
std::string link(const std::string &a, const std::string &b) {
  return "[[link]]\na = \"" + a + "\"\nb = \"" + b + "\"\n";
}

struct BadCase {
  const char *what;
  std::string text;
  std::string expected;
  std::string path = "t.toml";
};

TEST(Topology, BadInputs) {
  const std::string sw = "[[switch]]\nname = \"s1\"\nprofile = \"ovs\"\n"; // lines 1-3
  const std::vector<BadCase> cases = {
      {"unknown top-level key", "nmae = \"x\"\n",
       "t.toml:1:1: error: nmae: unknown key; the top level has the keys name, cap_thr, switch, server, link, ingress, "
       "egress"},
      {"agent not IP:PORT", "[[server]]\nname = \"server1\"\ncores = 4\nagent = \"localhost:80\"\n",
       "t.toml:4:9: error: server[0].agent: must be the IP:PORT of the server's metron-agent, not \"localhost:80\""},
      {"agent port out of range", "[[server]]\nname = \"server1\"\ncores = 4\nagent = \"127.0.0.1:65536\"\n",
       "t.toml:4:9: error: server[0].agent: must be the IP:PORT of the server's metron-agent, not \"127.0.0.1:65536\""},
      {"agent not a string", "[[server]]\nname = \"server1\"\ncores = 4\nagent = 8600\n",
       "t.toml:4:9: error: server[0].agent: must be a string, not an integer"},
      {"openflow not a target", sw + "openflow = \"br0\"\n",
       "t.toml:4:12: error: switch[0].openflow: must be an OpenFlow connection ovs-ofctl takes: \"unix:PATH\" (a "
       "bridge's .mgmt socket), \"tcp:IP:PORT\" or \"ssl:IP:PORT\", not \"br0\""},
      {"openflow tcp without port", sw + "openflow = \"tcp:127.0.0.1\"\n",
       "t.toml:4:12: error: switch[0].openflow: must be an OpenFlow connection ovs-ofctl takes: \"unix:PATH\" (a "
       "bridge's .mgmt socket), \"tcp:IP:PORT\" or \"ssl:IP:PORT\", not \"tcp:127.0.0.1\""},
      {"unknown switch key", sw + "rulez = 5\n",
       "t.toml:4:1: error: switch[0].rulez: unknown key; a [[switch]] has the keys name, profile, rules, cap_thr, "
       "ports, openflow"},
      {"unknown NIC key", kServer + "  queues = 4\n",
       "t.toml:7:3: error: server[0].nic[0].queues: unknown key; a [[server.nic]] has the keys name, profile, ports, "
       "rules, cap_thr"},
      {"unknown link key", kNet + "[[link]]\na = \"s1:1\"\nb = \"s1:2\"\nc = \"s1:3\"\n",
       "t.toml:14:1: error: link[0].c: unknown key; a [[link]] has the keys a, b"},
      {"name of the wrong type", "name = 8\n", "t.toml:1:8: error: name: must be a string, not an integer"},
      {"cap_thr of the wrong type", "cap_thr = \"high\"\n",
       "t.toml:1:11: error: cap_thr: must be a number greater than 0 and at most 1, not a string"},
      {"cap_thr zero", "cap_thr = 0\n",
       "t.toml:1:11: error: cap_thr: must be a number greater than 0 and at most 1, not 0"},
      {"switch cap_thr above 1", sw + "cap_thr = 1.5\n",
       "t.toml:4:11: error: switch[0].cap_thr: must be a number greater than 0 and at most 1, not 1.5"},
      {"NIC cap_thr negative", kServer + "  cap_thr = -0.25\n",
       "t.toml:7:13: error: server[0].nic[0].cap_thr: must be a number greater than 0 and at most 1, not -0.25"},
      {"[switch] instead of [[switch]]", "[switch]\nname = \"s1\"\n",
       "t.toml:1:1: error: switch: must be an array of tables ([[switch]]), not a table"},
      {"a link that is not a table", "link = [1]\n" + kServer,
       "t.toml:1:9: error: link[0]: must be a table, not an integer"},
      {"missing profile", "[[switch]]\nname = \"s1\"\n",
       "t.toml:1:1: error: switch[0].profile: missing required key 'profile' in [[switch]]"},
      {"bad element name", "[[switch]]\nname = \"1s\"\nprofile = \"ovs\"\n",
       "t.toml:2:8: error: switch[0].name: must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '-', starting with a "
       "letter or '_', not \"1s\""},
      {"switch and server of the same name", sw + "[[server]]\nname = \"s1\"\n",
       "t.toml:5:8: error: server[0].name: 's1' is already the name of switch[0]"},
      {"two switches of the same name", sw + sw,
       "t.toml:5:8: error: switch[1].name: 's1' is already the name of switch[0]"},
      {"two NICs of the same name", kServer + "  [[server.nic]]\n  name = \"nic0\"\n",
       "t.toml:8:10: error: server[0].nic[1].name: 'nic0' is already the name of NIC 0 of server 'server1'"},
      {"no server", sw, "t.toml:1:1: error: server: a topology needs at least one [[server]]"},
      {"an empty server array", "server = []\n",
       "t.toml:1:10: error: server: a topology needs at least one [[server]]"},
      {"a server without a NIC", "[[server]]\nname = \"server1\"\ncores = 4\n",
       "t.toml:1:1: error: server[0].nic: server 'server1' has no NIC; add a [[server.nic]]"},
      {"missing cores", "[[server]]\nname = \"server1\"\n",
       "t.toml:1:1: error: server[0].cores: missing required key 'cores' in [[server]]"},
      {"zero cores", "[[server]]\nname = \"server1\"\ncores = 0\n",
       "t.toml:3:9: error: server[0].cores: must be an integer from 1 to 1024, not 0"},
      {"too many cores", "[[server]]\nname = \"server1\"\ncores = 1025\n",
       "t.toml:3:9: error: server[0].cores: must be an integer from 1 to 1024, not 1025"},
      {"switch with a NIC profile", "[[switch]]\nname = \"s1\"\nprofile = \"connectx-5\"\n",
       "t.toml:3:11: error: switch[0].profile: 'connectx-5' is a NIC profile; a switch needs a profile of kind "
       "\"switch\""},
      {"NIC with a switch profile",
       "[[server]]\nname = \"server1\"\ncores = 4\n  [[server.nic]]\n  name = \"nic0\"\n"
       "  profile = \"ovs\"\n",
       "t.toml:6:13: error: server[0].nic[0].profile: 'ovs' is a switch profile; a NIC needs a profile of kind "
       "\"nic\""},
      {"a missing profile file, relative to the topology", "[[switch]]\nname = \"s1\"\nprofile = \"nope.toml\"\n",
       "net/t.toml:3:11: error: switch[0].profile: cannot read device profile 'net/nope.toml': No such file or "
       "directory",
       "net/t.toml"},
      {"rules over the device's table 0", kServer + "  rules = 70000\n",
       "t.toml:7:11: error: server[0].nic[0].rules: 70000 is more than the 65536 rules table 0 of 'connectx-5' holds"},
      {"unbounded rules on a bounded device", kServer + "  rules = \"unbounded\"\n",
       "t.toml:7:11: error: server[0].nic[0].rules: \"unbounded\" is more than the 65536 rules table 0 of "
       "'connectx-5' holds"},
      {"rules not a count", sw + "rules = \"many\"\n",
       "t.toml:4:9: error: switch[0].rules: must be an integer from 1 to 1099511627776 or \"unbounded\", not \"many\""},
      {"switch ports zero", sw + "ports = 0\n",
       "t.toml:4:9: error: switch[0].ports: must be an integer from 1 to 65535, not 0"},
      {"link to an unknown element", kNet + "[[link]]\na = \"s1:2\"\nb = \"s9:1\"\n",
       "t.toml:13:5: error: link[0].b: unknown element 's9'"},
      {"link to an unknown server's NIC", kNet + "[[link]]\na = \"s1:2\"\nb = \"server9.nic0:0\"\n",
       "t.toml:13:5: error: link[0].b: unknown element 'server9.nic0'"},
      {"port reference without a port", kNet + "[[link]]\na = \"s1:2\"\nb = \"s1\"\n",
       "t.toml:13:5: error: link[0].b: bad port reference \"s1\"; write SWITCH:PORT or SERVER.NIC:PORT"},
      {"port reference with a sign", kNet + "[[link]]\na = \"s1:+2\"\nb = \"s1:3\"\n",
       "t.toml:12:5: error: link[0].a: bad port reference \"s1:+2\"; write SWITCH:PORT or SERVER.NIC:PORT"},
      {"port reference of the wrong type", kNet + "[[link]]\na = 2\nb = \"s1:3\"\n",
       "t.toml:12:5: error: link[0].a: must be a string, not an integer"},
      {"switch port above `ports`", kNet + "[[link]]\na = \"s1:2\"\nb = \"s1:4\"\n",
       "t.toml:13:5: error: link[0].b: port 4 is out of range: switch 's1' has 3 ports, numbered from 1"},
      {"switch port 0", "[[switch]]\nname = \"s2\"\nprofile = \"ovs\"\n" + kServer + link("s2:0", "server1.nic0:0"),
       "t.toml:11:5: error: link[0].a: port 0 is out of range: switch ports are numbered from 1 to 65535"},
      {"NIC port out of range", kNet + "[[link]]\na = \"s1:2\"\nb = \"server1.nic0:1\"\n",
       "t.toml:13:5: error: link[0].b: port 1 is out of range: NIC 'server1.nic0' has 1 port, numbered from 0"},
      {"a server instead of its NIC", kNet + "[[link]]\na = \"s1:2\"\nb = \"server1:0\"\n",
       "t.toml:13:5: error: link[0].b: 'server1' is a server; name a port of one of its NICs, as in "
       "\"server1.nic0:0\""},
      {"an unknown NIC", kNet + "[[link]]\na = \"s1:2\"\nb = \"server1.nic1:0\"\n",
       "t.toml:13:5: error: link[0].b: server 'server1' has no NIC 'nic1'"},
      {"a port in two links",
       kNet + "[[link]]\na = \"s1:2\"\nb = \"server1.nic0:0\"\n[[link]]\na = \"s1:3\"\nb = \"s1:2\"\n",
       "t.toml:16:5: error: link[1].b: port s1:2 is already linked by link[0]"},
      {"a link from a port to itself", kNet + "[[link]]\na = \"s1:2\"\nb = \"s1:2\"\n",
       "t.toml:13:5: error: link[0].b: a link cannot connect port s1:2 to itself"},
      {"ingress at a linked port",
       kNet + "[[link]]\na = \"s1:2\"\nb = \"server1.nic0:0\"\n[[ingress]]\nport = \"port0\"\nat = \"s1:2\"\n",
       "t.toml:16:6: error: ingress[0].at: port s1:2 is linked (link[0]); an ingress point must be a port with no "
       "link"},
      {"egress at a linked NIC port",
       kNet + "[[link]]\na = \"s1:2\"\nb = \"server1.nic0:0\"\n[[egress]]\nport = \"port1\"\nat = \"server1.nic0:0\"\n",
       "t.toml:16:6: error: egress[0].at: port server1.nic0:0 is linked (link[0]); an egress point must be a port with "
       "no link"},
      {"ingress for one chain port twice",
       kNet + "[[ingress]]\nport = \"port0\"\nat = \"s1:1\"\n[[ingress]]\nport = \"port0\"\nat = \"s1:3\"\n",
       "t.toml:15:8: error: ingress[1].port: chain port 'port0' already has an ingress point (ingress[0], at s1:1)"},
      {"egress for one chain port twice",
       kNet + "[[egress]]\nport = \"port1\"\nat = \"s1:1\"\n[[egress]]\nport = \"port1\"\nat = \"s1:3\"\n",
       "t.toml:15:8: error: egress[1].port: chain port 'port1' already has an egress point (egress[0], at s1:1)"},
      {"two ingress points at one port",
       kNet + "[[ingress]]\nport = \"port0\"\nat = \"s1:1\"\n[[ingress]]\nport = \"port2\"\nat = \"s1:1\"\n",
       "t.toml:16:6: error: ingress[1].at: port s1:1 is already the ingress point of 'port0' (ingress[0])"},
      {"a chain port that is not an identifier", kNet + "[[ingress]]\nport = \"port-0\"\nat = \"s1:1\"\n",
       "t.toml:12:8: error: ingress[0].port: must be a chain port name: 1 to 64 characters of A-Z, a-z, 0-9, '_', "
       "starting with a letter or '_', not \"port-0\""},
      {"missing `at`", kNet + "[[egress]]\nport = \"port1\"\n",
       "t.toml:11:1: error: egress[0].at: missing required key 'at' in [[egress]]"},
      // toml++ decodes in blocks of 32 bytes and reports a bad byte at the last code point it
      // decoded before it: the '"' in column 8.
      {"invalid UTF-8", "name = \"\xff\"\n", "t.toml:1:8: error: not valid TOML: Encountered invalid utf-8 sequence"},
      {"larger than 1 MiB", "#" + std::string(1 << 20, 'x'),
       "t.toml: error: the topology is larger than 1 MiB (1048577 bytes)"},
  };
  for (const BadCase &c : cases) EXPECT_EQ(parseError(c.text, c.path), c.expected) << c.what;
}

TEST(Topology, LoadErrors) {
  TempDir d;
  TopologyError err;
  EXPECT_FALSE(loadTopology(d.path + "/missing.toml", err));
  EXPECT_EQ(err.str(), d.path + "/missing.toml: error: cannot read the topology: No such file or directory");
  std::string big = d.write("big.toml", "#" + std::string(1 << 20, 'x'));
  EXPECT_FALSE(loadTopology(big, err));
  EXPECT_EQ(err.str(), big + ": error: cannot read the topology: too large (1.0 MiB, limit 1.0 MiB)");
  EXPECT_FALSE(loadTopology(d.path, err));
  EXPECT_EQ(err.str(), d.path + ": error: cannot read the topology: is a directory");
}

// ---- paths ---------------------------------------------------------------------------------

/// Lines for switches s1, s2, s3 (OVS) and server1 with NICs nic0 and nic1.
const std::string kThreeSwitches = "[[switch]]\nname = \"s1\"\nprofile = \"ovs\"\n"
                                   "[[switch]]\nname = \"s2\"\nprofile = \"ovs\"\n"
                                   "[[switch]]\nname = \"s3\"\nprofile = \"ovs\"\n"
                                   "[[server]]\nname = \"server1\"\ncores = 4\n"
                                   "  [[server.nic]]\n  name = \"nic0\"\n  profile = \"connectx-5\"\n"
                                   "  [[server.nic]]\n  name = \"nic1\"\n  profile = \"connectx-5\"\n"
                                   "[[server]]\nname = \"server2\"\ncores = 4\n"
                                   "  [[server.nic]]\n  name = \"nic0\"\n  profile = \"connectx-5\"\n  ports = 2\n"
                                   "[[ingress]]\nport = \"port0\"\nat = \"s1:1\"\n";


TEST(TopologyPath, ThreeSwitchesInALine) {
  // s1:1 (in) -> s1:2 - s2:1, s2:2 - s3:1, s3:2 - server1.nic0:0.
  std::string line = kThreeSwitches + link("s1:2", "s2:1") + link("s2:2", "s3:1") + link("s3:2", "server1.nic0:0");
  EXPECT_EQ(route(parse(line), "port0", "server1"), "s1 1>2, s2 1>2, s3 1>2, server1.nic0 0");
  // A shortcut s1:3 - s3:3, though last in the file, makes the path one switch shorter.
  EXPECT_EQ(route(parse(line + link("s1:3", "s3:3")), "port0", "server1"), "s1 1>3, s3 3>2, server1.nic0 0");
  // Links may name the NIC first and the switch second.
  std::string reversed = kThreeSwitches + link("s2:1", "s1:2") + link("s3:1", "s2:2") + link("server1.nic0:0", "s3:2");
  EXPECT_EQ(route(parse(reversed), "port0", "server1"), "s1 1>2, s2 1>2, s3 1>2, server1.nic0 0");
}

TEST(TopologyPath, TiesGoToTheEarlierLinks) {
  // Two paths of three hops: s1 -> s3 -> server1.nic1 and s1 -> s2 -> server1.nic0. The link
  // into nic0 comes first in the file, but the path's first link decides: s1:2 - s3:1 is
  // link 0, so the search reaches s3 first and takes its link to nic1.
  std::string t = kThreeSwitches + link("s1:2", "s3:1") + link("s1:3", "s2:1") + link("s2:2", "server1.nic0:0") +
                  link("s3:2", "server1.nic1:0");
  EXPECT_EQ(route(parse(t), "port0", "server1"), "s1 1>2, s3 1>2, server1.nic1 0");
  // With the first two links swapped, s2 comes first.
  t = kThreeSwitches + link("s1:3", "s2:1") + link("s1:2", "s3:1") + link("s2:2", "server1.nic0:0") +
      link("s3:2", "server1.nic1:0");
  EXPECT_EQ(route(parse(t), "port0", "server1"), "s1 1>3, s2 1>2, server1.nic0 0");
  // Two NICs of the server on one switch: the first link in the file.
  t = kThreeSwitches + link("s1:5", "server1.nic1:0") + link("s1:4", "server1.nic0:0");
  EXPECT_EQ(route(parse(t), "port0", "server1"), "s1 1>5, server1.nic1 0");
  // Parallel links s1 - s2: the first one.
  t = kThreeSwitches + link("s1:3", "s2:2") + link("s1:2", "s2:1") + link("s2:3", "server1.nic0:0");
  EXPECT_EQ(route(parse(t), "port0", "server1"), "s1 1>3, s2 2>3, server1.nic0 0");
}

TEST(TopologyPath, NicsAreTerminals) {
  // s1 - server2.nic0:0; server2.nic0:1 - server1.nic0:0: the way to server1 crosses server2's
  // NIC, which traffic does not do.
  std::string t = kThreeSwitches + link("s1:2", "server2.nic0:0") + link("server2.nic0:1", "server1.nic0:0");
  Topology topo = parse(t);
  EXPECT_EQ(route(topo, "port0", "server2"), "s1 1>2, server2.nic0 0");
  EXPECT_EQ(route(topo, "port0", "server1"), "error: server 'server1' is not reachable from ingress 'port0' (s1:1)");
}

TEST(TopologyPath, LoopsAndDeadEnds) {
  // A ring s1 - s2 - s3 - s1 with no server on it: the search ends.
  std::string ring = kThreeSwitches + link("s1:2", "s2:1") + link("s2:2", "s3:1") + link("s3:2", "s1:3");
  EXPECT_EQ(route(parse(ring), "port0", "server1"),
            "error: server 'server1' is not reachable from ingress 'port0' (s1:1)");
  // The same ring with server1 on s3: s1 reaches s3 directly by link 2 (s1:3 - s3:2).
  EXPECT_EQ(route(parse(ring + link("s3:4", "server1.nic1:0")), "port0", "server1"), "s1 1>3, s3 2>4, server1.nic1 0");
  // A switch looped to itself (s2:3 - s2:4) does not confuse the search.
  std::string loop = kThreeSwitches + link("s1:2", "s2:1") + link("s2:3", "s2:4") + link("s2:5", "server1.nic0:0");
  EXPECT_EQ(route(parse(loop), "port0", "server1"), "s1 1>2, s2 1>5, server1.nic0 0");
}

TEST(TopologyPath, IngressOnANic) {
  std::string base = "[[server]]\nname = \"a\"\ncores = 1\n[[server.nic]]\nname = \"n\"\nprofile = \"connectx-5\"\n"
                     "ports = 2\n"
                     "[[server]]\nname = \"b\"\ncores = 1\n[[server.nic]]\nname = \"n\"\nprofile = \"connectx-5\"\n"
                     "[[ingress]]\nport = \"p\"\nat = \"a.n:1\"\n";
  Topology t = parse(base);
  EXPECT_EQ(route(t, "p", "a"), "a.n 1");
  EXPECT_EQ(route(t, "p", "b"), "error: server 'b' is not reachable from ingress 'p' (a.n:1)");
  EXPECT_EQ(route(t, "q", "a"), "error: no ingress point for chain port 'q' in topology 't'");
}

TEST(Topology, ErrorString) {
  TopologyError e;
  e.message = "m";
  EXPECT_EQ(e.str(), "error: m");
  e.key = "link[0].a";
  EXPECT_EQ(e.str(), "error: link[0].a: m");
  e.path = "f.toml";
  EXPECT_EQ(e.str(), "f.toml: error: link[0].a: m");
  e.line = 3;
  EXPECT_EQ(e.str(), "f.toml:3:1: error: link[0].a: m");
  e.column = 7;
  EXPECT_EQ(e.str(), "f.toml:3:7: error: link[0].a: m");
}

} // namespace
