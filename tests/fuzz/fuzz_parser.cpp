//===- tests/fuzz/fuzz_parser.cpp - libFuzzer target: parse and check a .metron file ----------===//
///
/// Feeds arbitrary bytes through the whole checking pipeline of `metronc check`: UTF-8
/// validation, the ANTLR parser, the AST builder, semantic analysis (imports are resolved
/// relative to the working directory; the fuzzer finds paths rarely), and every diagnostic
/// printer. Any crash, sanitizer report, or internal assertion is a bug.
///
//===----------------------------------------------------------------------------------------===//
#include "compiler/sema/Sema.h"
#include "lang/Parser.h"

#include <cstdint>
#include <cstdio>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace metron;
  SourceManager sm;
  DiagnosticEngine diags(sm);
  diags.setErrorLimit(20);
  FileID id = sm.addBuffer("fuzz.metron", std::string(reinterpret_cast<const char *>(data), size));
  if (auto ast = parseFile(sm, id, diags)) {
    (void)ast::printAST(*ast, sm);
    auto module = analyze(*ast, sm, diags);
    if (!diags.hasErrors()) (void)ir::printModule(*module, sm);
  }
  for (const auto &d : diags.diagnostics()) (void)diags.formatText(d, true);
  (void)diags.toJson();
  (void)diags.toSarif("fuzz");
  return 0;
}
