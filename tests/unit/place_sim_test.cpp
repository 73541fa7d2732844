//===- tests/unit/place_sim_test.cpp - Algorithm 1 and the placement emulation ----------------===//
///
/// Algorithm 1 (compiler/place/Select.h) against what the paper's text requires of it, on
/// random server states: it only ever returns a server that fits, returns none exactly when no
/// server fits, asks each server at most once, two at a time, and takes the less loaded of the
/// last two asked. The emulation (PlaceSim.h): fat-tree sizes, message counts, and on two
/// servers (where two random choices ask everybody) every decision is uniform.
//===----------------------------------------------------------------------------------------===//
#include "compiler/place/PlaceSim.h"
#include "compiler/place/Select.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>
#include <set>

using namespace metron::place;

namespace {

std::vector<ServerLoad> randomServers(std::mt19937_64 &rng) {
  std::vector<ServerLoad> s(1 + rng() % 40);
  for (size_t i = 0; i < s.size(); ++i) {
    s[i].name = "s" + std::to_string(i);
    s[i].nics = unsigned(rng() % 4);
    s[i].cores = unsigned(rng() % 12);
    s[i].usedCores = s[i].cores ? unsigned(rng() % (s[i].cores + 1)) : 0;
  }
  return s;
}

} // namespace

TEST(PlaceSelect, Algorithm1FitsAsksOnceTwoAtATimeAndTakesTheLessLoaded) {
  std::mt19937_64 rng(3), choices(4);
  int found = 0, none = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::vector<ServerLoad> servers = randomServers(rng);
    const unsigned nics = unsigned(rng() % 3), cores = unsigned(1 + rng() % 6);
    std::vector<int> asked;
    const int t = selectServer(servers, nics, cores, choices, &asked);
    const bool anyFits =
        std::any_of(servers.begin(), servers.end(), [&](const ServerLoad &s) { return s.fits(nics, cores); });
    ASSERT_EQ(t >= 0, anyFits) << "trial " << trial;
    // Each server asked at most once.
    ASSERT_EQ(std::set<int>(asked.begin(), asked.end()).size(), asked.size()) << "trial " << trial;
    if (t < 0) {
      ASSERT_EQ(asked.size(), servers.size()) << "trial " << trial; // everybody was asked
      ++none;
      continue;
    }
    ++found;
    ASSERT_TRUE(servers[size_t(t)].fits(nics, cores)) << "trial " << trial;
    // Rounds of two: every server asked before the last round does not fit; the answer is in
    // the last round and no server of that round that fits is less loaded.
    const size_t lastRound = (asked.size() - 1) / 2 * 2;
    for (size_t i = 0; i < lastRound; ++i) ASSERT_FALSE(servers[size_t(asked[i])].fits(nics, cores)) << "trial " << trial;
    ASSERT_TRUE(std::find(asked.begin() + long(lastRound), asked.end(), t) != asked.end()) << "trial " << trial;
    for (size_t i = lastRound; i < asked.size(); ++i) {
      const ServerLoad &s = servers[size_t(asked[i])];
      if (s.fits(nics, cores)) {
        ASSERT_FALSE(lessLoaded(s, servers[size_t(t)])) << "trial " << trial;
      }
    }
    // Two random choices ask two servers per round (one when one is left).
    ASSERT_TRUE(asked.size() % 2 == 0 || asked.size() == servers.size()) << "trial " << trial;
  }
  EXPECT_GT(found, 5000);
  EXPECT_GT(none, 500);
}

TEST(PlaceSelect, TheUniformPolicyTakesTheLeastLoadedThatFits) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 20000; ++trial) {
    std::vector<ServerLoad> servers = randomServers(rng);
    const unsigned nics = unsigned(rng() % 3), cores = unsigned(1 + rng() % 6);
    const int u = selectUniform(servers, nics, cores);
    for (size_t s = 0; s < servers.size(); ++s) {
      if (!servers[s].fits(nics, cores)) continue;
      ASSERT_GE(u, 0);
      ASSERT_FALSE(lessLoaded(servers[s], servers[size_t(u)])) << "trial " << trial;
      ASSERT_TRUE(servers[s].load() >= servers[size_t(u)].load()) << "trial " << trial;
    }
    if (u >= 0) {
      ASSERT_TRUE(servers[size_t(u)].fits(nics, cores));
    }
  }
}

TEST(PlaceSelect, LoadsCompareExactly) {
  // 1/3 and 2/6 are the same load; doubles would need luck to say so.
  EXPECT_FALSE(lessLoaded({"a", 1, 3, 1}, {"b", 1, 6, 2}));
  EXPECT_FALSE(lessLoaded({"b", 1, 6, 2}, {"a", 1, 3, 1}));
  EXPECT_TRUE(lessLoaded({"a", 1, 7, 2}, {"b", 1, 6, 2}));
  EXPECT_TRUE(lessLoaded({"a", 1, 1, 1}, {"b", 1, 0, 0})) << "a server without cores counts as full";
}

TEST(PlaceSim, DistanceFromUniformIsByLoadLevelAmongServersThatFit) {
  // Loads 2/8, 2/8, 4/8, 5/8 and a server with 1/8 that lacks NICs (it does not count).
  std::vector<ServerLoad> s = {{"a", 2, 8, 2}, {"b", 2, 8, 2}, {"c", 2, 8, 4}, {"d", 2, 8, 5}, {"e", 0, 8, 1}};
  EXPECT_EQ(distanceFromUniform(s, 1, 1, 0), 0);
  EXPECT_EQ(distanceFromUniform(s, 1, 1, 1), 0);
  EXPECT_EQ(distanceFromUniform(s, 1, 1, 2), 1);
  EXPECT_EQ(distanceFromUniform(s, 1, 1, 3), 2);
  // Needing 4 cores: a, b and c fit (d has 3 free): c is the next level up.
  EXPECT_EQ(distanceFromUniform(s, 1, 4, 2), 1);
}

TEST(PlaceSim, FatTreeSizesAreThePapers) {
  EXPECT_EQ(FatTree{4}.servers(), 16u);
  EXPECT_EQ(FatTree{8}.servers(), 128u);
  EXPECT_EQ(FatTree{16}.servers(), 1024u);
  EXPECT_EQ(FatTree{4}.coreSwitches() + FatTree{4}.aggregationSwitches() + FatTree{4}.edgeSwitches(), 20u);
  EXPECT_EQ(FatTree{4}.serverName(0), "p0e0h0");
  EXPECT_EQ(FatTree{4}.serverName(15), "p3e1h1");
  EXPECT_NE(checkSimOptions({3}), "");
  EXPECT_NE(checkSimOptions({66}), "");
  SimOptions bad;
  bad.maxChainNics = 3; // servers have 2
  EXPECT_NE(checkSimOptions(bad).find("fit nowhere"), std::string::npos);
  EXPECT_EQ(checkSimOptions({}), "");
}

TEST(PlaceSim, OnTwoServersEveryDecisionIsUniform) {
  // Two random choices out of two servers ask both: the uniform policy's choice up to ties.
  SimOptions o;
  o.k = 2;
  o.chains = 500;
  o.runs = 5;
  SimResult r = simulatePlacement(o);
  ASSERT_EQ(r.runs.size(), 5u);
  for (const RunResult &x : r.runs) {
    EXPECT_EQ(x.placed, 500u);
    EXPECT_EQ(x.uniform, 500u);
    EXPECT_EQ(x.metronMessages, 2u * 2u * 500u);
    EXPECT_EQ(x.uniformMessages, 2u * 2u * 500u);
  }
}

TEST(PlaceSim, MessagesAndDecisionsAddUp) {
  SimOptions o;
  o.k = 8;
  o.chains = 2000;
  o.runs = 3;
  SimResult r = simulatePlacement(o);
  for (const RunResult &x : r.runs) {
    EXPECT_EQ(x.placed + x.rejected, o.chains);
    EXPECT_EQ(x.uniform + x.nearUniform + x.other, x.placed);
    EXPECT_EQ(x.uniformMessages, 2u * 128u * o.chains); // every server, every chain
    EXPECT_GE(x.metronMessages, 4u * x.placed);         // at least one round of two per chain
    EXPECT_LT(x.metronMessages, x.uniformMessages / 10);
  }
  // The same seed gives the same runs; JSON has them all.
  SimResult again = simulatePlacement(o);
  EXPECT_EQ(again.runs[1].uniform, r.runs[1].uniform);
  auto j = nlohmann::json::parse(placementJson({r}));
  EXPECT_EQ(j.at(0).at("runs").size(), 3u);
  EXPECT_EQ(j.at(0).at("servers").get<uint64_t>(), 128u);
  EXPECT_NE(placementTable({r}).find("    128   8   2,000"), std::string::npos) << placementTable({r});
}
