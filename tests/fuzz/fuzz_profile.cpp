//===- tests/fuzz/fuzz_profile.cpp - libFuzzer target: device profiles (TOML) ----------------===//
///
/// The input is the text of a device profile (man/metron-device.5), parsed by
/// metron::split::parseDeviceProfile, the function loadDeviceProfile uses for files and
/// built-ins. It must never crash nor let an exception out; a rejected input must come with a
/// non-empty message, and an accepted one must satisfy what Profile.h promises.
/// LLVMFuzzerInitialize checks once that every built-in profile is accepted, by name.
//===----------------------------------------------------------------------------------------===//
#include "compiler/split/Profile.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

void check(bool ok, const char *what, const std::string &detail = {}) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_profile: property violated: %s %s\n", what, detail.c_str());
    __builtin_trap();
  }
}

void checkAccepted(const metron::split::DeviceProfile &p) {
  using namespace metron::split;
  check(!p.name.empty() && p.name.size() <= 64, "accepted a profile with an invalid name");
  check(p.tableCount >= 1, "accepted a profile with no table");
  check(p.tagKinds.size() <= kNumTagKinds, "more tag kinds than there are");
  size_t ranges = 0;
  for (size_t i = 0; i < kNumTagKinds; ++i) {
    bool listed = false;
    for (TagKind k : p.tagKinds) listed = listed || size_t(k) == i;
    check(listed == p.hasTag(TagKind(i)), "tag range set for an unlisted kind, or missing for a listed one");
    if (p.tagRange[i]) {
      ++ranges;
      check(p.tagRange[i]->lo <= p.tagRange[i]->hi, "tag range with lo > hi");
    }
  }
  check(ranges == p.tagKinds.size(), "tag kinds and ranges disagree");
  for (const auto &fi : metron::ir::allFields()) {
    (void)matchSupportName(p.supports(fi.id));
    if (p.set.has(fi.id)) check(fi.writable, "actions.set accepted a read-only field");
  }
  for (uint64_t t : {uint64_t(0), uint64_t(1)}) {
    const TableLimits &l = p.limits(t);
    check(l.rules >= 1 && l.priorities >= 1, "table limits below 1");
    check(l.l2Rules == 0 || l.rules != kUnbounded, "l2_rules with unbounded rules");
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  for (const auto &b : metron::split::builtinProfiles()) {
    metron::split::ProfileError err;
    auto p = metron::split::loadDeviceProfile(b.name, err);
    check(p.has_value(), "a built-in profile is rejected:", err.str());
    checkAccepted(*p);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  metron::split::ProfileError err;
  auto p = metron::split::parseDeviceProfile(text, "fuzz.toml", err);
  if (!p) {
    check(!err.message.empty(), "an input was rejected with an empty message");
    check(!err.str().empty(), "an input was rejected with an empty error string");
    return 0;
  }
  check(err.message.empty(), "an accepted input left an error message");
  check(p->path == "fuzz.toml", "the profile does not record its path");
  checkAccepted(*p);
  return 0;
}
