//===- lang/Parser.h - From .metron text to the AST -------------------------------*- C++ -*-===//
///
/// \file
/// parseFile() runs the ANTLR-generated parser (lang/Metron.g4) and builds the AST. It first
/// checks that the text is valid UTF-8 (reporting the first bad byte), then parses in two
/// stages — fast SLL prediction, and full LL only when SLL fails — and reports every syntax
/// error (up to the engine's error limit) in the clang form with a caret at the token.
///
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "lang/AST.h"
#include "lang/Diagnostics.h"

#include <optional>

namespace metron {

/// Parses file \p id. Returns nullopt if any error was reported (nothing half-built escapes).
std::optional<ast::File> parseFile(const SourceManager &sm, FileID id, DiagnosticEngine &diags);

} // namespace metron
