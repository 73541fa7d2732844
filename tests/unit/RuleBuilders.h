//===- tests/unit/RuleBuilders.h - Short builders of target-IR rules for the printer tests -*- C++ -*-===//
///
/// The OpenFlow, rte_flow and P4 printer tests build targets::Rule values by hand; these are
/// the matches, actions and rules they share. Each test keeps its own device() helper, whose
/// element and profile differ with the target.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "targets/Rules.h"

namespace metron::targets::testing {

inline uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) { return (a << 24) | (b << 16) | (c << 8) | d; }

inline DeviceMatch masked(ir::FieldId f, uint64_t v, uint64_t mask) {
  DeviceMatch m;
  m.field = f;
  m.value = v;
  m.mask = mask;
  return m;
}
inline DeviceMatch exact(ir::FieldId f, uint64_t v) { return masked(f, v, ir::fieldInfo(f).maxValue()); }
/// The top \p len bits of \p v.
inline DeviceMatch prefix(ir::FieldId f, uint64_t v, unsigned len) {
  unsigned bits = ir::fieldInfo(f).bits;
  uint64_t mask = len == 0 ? 0 : (ir::fieldInfo(f).maxValue() >> (bits - len)) << (bits - len);
  return masked(f, v, mask);
}
inline DeviceMatch range(ir::FieldId f, uint64_t lo, uint64_t hi) {
  DeviceMatch m;
  m.field = f;
  m.isRange = true;
  m.lo = lo;
  m.hi = hi;
  return m;
}

inline Action act(ActionKind k, uint64_t v = 0) {
  Action a;
  a.kind = k;
  a.value = v;
  return a;
}
inline Action set(ir::FieldId f, uint64_t v) {
  Action a = act(ActionKind::Set, v);
  a.field = f;
  return a;
}

/// A rule of \p table at \p priority; the role defaults to a class rule with no class id.
inline Rule rule(uint32_t table, uint32_t priority, std::vector<DeviceMatch> match, std::vector<Action> actions,
                 RuleRole role = RuleRole::Class, int64_t classId = -1) {
  Rule r;
  r.table = table;
  r.priority = priority;
  r.match = std::move(match);
  r.actions = std::move(actions);
  r.role = role;
  r.classId = classId;
  return r;
}

} // namespace metron::targets::testing
