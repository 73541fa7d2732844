//===- tests/differential/RandomChain.h - Random chains for differential testing ----*- C++ -*-===//
///
/// \file
/// Writes random but valid .metron programs: a few NFs drawn from every element kind
/// (classifiers with overlapping rules, writes, TTL decrements, route lookups on a generated
/// table, NAPT, load balancers, monitors, conntrack, rate limiters, DPI on generated literals,
/// blackboxes), linked into a chain with branches and merges. Values come from small pools so
/// that rules overlap and writes meet later reads.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace metron::difftest {

struct GeneratedChain {
  std::string source;                      ///< the .metron text
  std::vector<std::pair<std::string, std::string>> files; ///< auxiliary files: name, content
  std::vector<std::string> payloadWords;   ///< literals the DPI patterns match
};

GeneratedChain randomChain(std::mt19937_64 &rng, unsigned index);

/// The address and port pools the generator draws from (the packet generator uses them too).
const std::vector<uint32_t> &addressPool();
const std::vector<uint16_t> &portPool();

} // namespace metron::difftest
