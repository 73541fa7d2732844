//===- tests/fuzz/fuzz_import.cpp - libFuzzer target: the data-file importers -----------------===//
///
/// The first byte picks the reader (ClassBench, routes, patterns); the rest is the file. The
/// importers read files nobody on the project wrote, so they must survive anything.
///
//===----------------------------------------------------------------------------------------===//
#include "compiler/import/Import.h"
#include "compiler/sema/ShadowedRules.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace metron;
  if (size == 0) return 0;
  SourceManager sm;
  DiagnosticEngine diags(sm);
  diags.setErrorLimit(20);
  FileID id = sm.addBuffer("fuzz.data", std::string(reinterpret_cast<const char *>(data) + 1, size - 1));
  std::string format;
  switch (data[0] % 3) {
  case 0: {
    std::vector<ir::Rule> rules;
    readClassBench(sm, id, diags, rules, format);
    (void)findShadowedRules(rules);
    break;
  }
  case 1: {
    std::vector<ir::Route> routes;
    readRoutes(sm, id, diags, routes, format);
    break;
  }
  case 2: {
    std::vector<ir::Pattern> patterns;
    std::vector<ir::PatternRule> rules; // Suricata rules (a file starting with "alert ...")
    readPatterns(sm, id, diags, patterns, format, &rules);
    break;
  }
  }
  for (const auto &d : diags.diagnostics()) (void)diags.formatText(d);
  return 0;
}
