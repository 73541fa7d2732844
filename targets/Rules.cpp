//===- targets/Rules.cpp - Names for the target IR -----------------------------------------===//
#include "targets/Rules.h"

namespace metron::targets {

const char *actionKindName(ActionKind k) {
  switch (k) {
  case ActionKind::Drop: return "drop";
  case ActionKind::Jump: return "jump";
  case ActionKind::Set: return "set";
  case ActionKind::DecTtl: return "dec_ttl";
  case ActionKind::PushVlan: return "push_vlan";
  case ActionKind::PopVlan: return "pop_vlan";
  case ActionKind::Mark: return "mark";
  case ActionKind::Queue: return "queue";
  case ActionKind::Output: return "output";
  }
  return "?";
}

const char *ruleRoleName(RuleRole r) {
  switch (r) {
  case RuleRole::Class: return "class";
  case RuleRole::Mirror: return "mirror";
  case RuleRole::Default: return "default";
  case RuleRole::Path: return "path";
  case RuleRole::Dispatch: return "dispatch";
  case RuleRole::Return: return "return";
  case RuleRole::Root: return "root";
  }
  return "?";
}

uint64_t DeviceRules::count(RuleRole r) const {
  uint64_t n = 0;
  for (const auto &x : rules) n += x.role == r;
  return n;
}

} // namespace metron::targets
