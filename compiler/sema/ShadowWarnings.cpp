//===- compiler/sema/ShadowWarnings.cpp - Pass 4: report rules that can never fire ------------===//
///
/// \file
/// Runs findShadowedRules() on every classifier and reports `shadowed-rule` warnings:
///  - a rule written in the .metron file gets its own warning, with a note on each rule that
///    covers it;
///  - rules of an imported set are summarised in one warning on the `rules` statement (a
///    ClassBench set can have hundreds), with notes on the first few, located in the data file
///    itself. `--list-shadowed` reports every one of them separately instead.
///
//===----------------------------------------------------------------------------------------===//
#include "compiler/sema/ShadowedRules.h"
#include "compiler/sema/Sema.h"

namespace metron {

using namespace ir;

namespace {

std::string ruleName(const Classifier &c, size_t i) {
  const Rule &r = c.rules[i];
  for (const auto &span : c.importSpans)
    if (i >= span.begin && i < span.end) return "rule " + std::to_string(r.importIndex) + " of '" + span.import + "'";
  return "rule " + std::to_string(i + 1);
}

bool isImported(const Classifier &c, size_t i) {
  for (const auto &span : c.importSpans)
    if (i >= span.begin && i < span.end) return true;
  return false;
}

std::string coverList(const Classifier &c, const ShadowedRule &s) {
  std::string out;
  bool allInline = s.by.size() > 1;
  for (size_t k : s.by) allInline &= !isImported(c, k);
  if (allInline) { // "rules 3, 4 and 7"
    out = "rules ";
    for (size_t k = 0; k < s.by.size(); ++k) {
      if (k) out += (k + 1 == s.by.size()) ? " and " : ", ";
      out += std::to_string(s.by[k] + 1);
    }
    return out;
  }
  size_t shown = std::min<size_t>(s.by.size(), 3);
  for (size_t k = 0; k < shown; ++k) {
    if (k) out += (k + 1 == s.by.size()) ? " and " : ", ";
    out += ruleName(c, s.by[k]);
  }
  if (s.by.size() > shown) out += " and " + std::to_string(s.by.size() - shown) + " more";
  return out;
}

void coverNotes(DiagnosticEngine &d, Diagnostic *diag, const Classifier &c, const ShadowedRule &s) {
  size_t shown = std::min<size_t>(s.by.size(), 3);
  for (size_t k = 0; k < shown; ++k) d.note(diag, c.rules[s.by[k]].range, ruleName(c, s.by[k]) + " is here");
}

} // namespace

void reportShadowedRules(const Module &m, DiagnosticEngine &diags, const SemaOptions &opts) {
  for (const auto &nf : m.nfs) {
    if (!nf->used) continue; // an unused NF already has its warning
    for (const auto &e : nf->elements) {
      const auto *c = dyn_cast<Classifier>(e.get());
      if (!c || c->rules.size() < 2) continue;
      size_t checked = 0;
      std::vector<ShadowedRule> shadowed = findShadowedRules(c->rules, {}, &checked);
      if (checked < c->rules.size()) {
        auto *d = diags.report(DiagKind::AnalysisBudget, c->rules[checked].range,
                               "shadowed-rule analysis of NF '" + nf->name + "' stopped at its work budget after " +
                                   std::to_string(checked) + " of " + std::to_string(c->rules.size()) +
                                   " rules; this rule and the ones after it were not checked");
        diags.note(d, {}, "the rules give the index nothing to split on (no addresses, or the same ones); "
                          "shadowed rules among them may go unreported");
      }
      std::vector<std::vector<const ShadowedRule *>> perSpan(c->importSpans.size());
      for (const auto &s : shadowed) {
        int span = -1;
        for (size_t k = 0; k < c->importSpans.size(); ++k)
          if (s.rule >= c->importSpans[k].begin && s.rule < c->importSpans[k].end) span = int(k);
        std::string msg = ruleName(*c, s.rule) + " in NF '" + nf->name + "' can never match: " + coverList(*c, s) +
                          (s.by.size() == 1 ? " matches" : " together match") + " every packet it does";
        if (span < 0 || opts.listAllShadowed) {
          auto *d = diags.report(DiagKind::ShadowedRule, c->rules[s.rule].range, msg);
          coverNotes(diags, d, *c, s);
        } else {
          perSpan[size_t(span)].push_back(&s);
        }
      }
      for (size_t k = 0; k < perSpan.size(); ++k) {
        if (perSpan[k].empty()) continue;
        const auto &span = c->importSpans[k];
        size_t total = span.end - span.begin;
        auto *d = diags.report(DiagKind::ShadowedRule, span.range,
                               std::to_string(perSpan[k].size()) + " of the " + std::to_string(total) +
                                   " rules imported from '" + span.import + "' can never match: earlier rules cover them");
        size_t shown = std::min<size_t>(perSpan[k].size(), opts.shadowNotes);
        for (size_t i = 0; i < shown; ++i) {
          const ShadowedRule &s = *perSpan[k][i];
          diags.note(d, c->rules[s.rule].range, ruleName(*c, s.rule) + " is covered by " + coverList(*c, s));
        }
        if (perSpan[k].size() > shown)
          diags.note(d, {}, "and " + std::to_string(perSpan[k].size() - shown) + " more; use --list-shadowed to list them all");
      }
    }
  }
}

} // namespace metron
