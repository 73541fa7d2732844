//===- runtime/state/Describe.h - Stateful elements as JSON, for the data-plane executables --*- C++ -*-===//
///
/// \file
/// The data-plane executable has no front end: the code generator describes each stateful
/// element instance of the chain in its embedded configuration, and the runtime rebuilds the
/// element from that description to create its state (ElementState::create), so the
/// reference interpreter and the data plane run one definition of every stateful element.
///
///   {"kind": "napt", "field": "ip.src", "address": 3405803777, "ports": [1024, 65535], "timeout": 60}
///   {"kind": "balance", "policy": "round_robin"|"hash", "field": "ip.dst", "backends": [...]}
///   {"kind": "monitor", "key": ["ip.src", ...], "timeout": 30}
///   {"kind": "conntrack", "timeout": 120, "strict": false}
///   {"kind": "ratelimit", "packets": true, "rate": 1000, "burst": 10, "key": [...]}
///   {"kind": "dpi", "set": "NAME", "patterns": [{"id": 1, "regex": "...", "flags": "i"}, ...]}
///     with Suricata rules also "rules": [{"sid": 1, ..., "contents": [[0, false]], "http": true,
///     "checks": [{"buffer": "http.uri", "absent": "or_else", "bsize": [1, 1]}]}], and patterns
///     matched in an HTTP buffer have "buffer": "http.uri"
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/NFIR.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace metron::state {

/// The description of a stateful element (Napt, Balance, Monitor, Conntrack, RateLimit, Dpi).
nlohmann::json describeElement(const ir::Element &e);

/// A rebuilt element and what it points to (a Dpi's pattern set).
struct DescribedElement {
  std::unique_ptr<ir::Element> element;
  std::unique_ptr<ir::Import> patterns;
};

/// Rebuilds an element from its description; nullptr element and \p err (naming what is
/// missing or wrong) for a description that is not one describeElement writes.
DescribedElement elementFromJson(const nlohmann::json &j, std::string &err);

} // namespace metron::state
