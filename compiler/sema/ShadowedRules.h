//===- compiler/sema/ShadowedRules.h - Rules that can never fire ------------------*- C++ -*-===//
///
/// \file
/// Finds rules of a first-match rule list that earlier rules match completely, so they can
/// never fire (`shadowed-rule` warning).
///
/// Before:  rule 1: src 10.0.0.0/8          -> allow
///          rule 2: src 10.1.0.0/16 dport 53 -> deny     (inside rule 1: shadowed by [1])
///          rule 3: tcp dport 0-1023 ; rule 4: tcp dport 1024-65535 ; rule 5: tcp dport 80
///                                                       (rule 5 shadowed by [3]; a rule
///                                                        covered by 3+4 together: by [3, 4])
/// After:   {rule 2, by {1}}, {rule 5, by {3}}, ...
///
/// Exactness: a rule reported is really shadowed (no false positives). Coverage by a single
/// earlier rule is always found. Coverage by a union of several earlier rules is found when it
/// can be decided within a work budget per rule (box subtraction over the overlapping earlier
/// rules); otherwise the rule is not reported.
///
/// Cost: must check ClassBench fw1_10K (9,311 rules) in well under 100 ms — rules are indexed
/// by their address prefixes, so the pairwise O(n^2) scan is avoided.
///
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/NFIR.h"

#include <vector>

namespace metron {

struct ShadowedRule {
  size_t rule;             ///< index in the rule list
  std::vector<size_t> by;  ///< earlier rules that together cover it, ascending (1 = single cover)
};

struct ShadowOptions {
  size_t unionBudget = 4096; ///< max boxes kept while subtracting for one rule
  size_t maxCandidates = 256; ///< max overlapping earlier rules considered for union coverage
  /// Total work (rule-to-rule comparisons) for the whole list. Indexed real rule sets need a
  /// few per rule; lists the index cannot split (say 200,000 rules on ports only) would go
  /// quadratic, so the analysis stops at this budget and says where (about a second here).
  uint64_t maxWork = 200'000'000;
};

/// Returns the shadowed rules in ascending order of `rule`. When \p checked is given it receives
/// how many rules were examined: rules.size(), or less when the work budget ran out (rules from
/// there on were not checked).
std::vector<ShadowedRule> findShadowedRules(const std::vector<ir::Rule> &rules,
                                            const ShadowOptions &opts = {}, size_t *checked = nullptr);

} // namespace metron
