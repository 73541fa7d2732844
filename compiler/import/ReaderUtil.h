//===- compiler/import/ReaderUtil.h - Small helpers shared by the data-file readers -*- C++ -*-===//
#pragma once

#include "lang/Diagnostics.h"

#include <cstring>
#include <string>
#include <string_view>

namespace metron::import {

inline bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
inline bool isDigit(char c) { return c >= '0' && c <= '9'; }

/// A token of a data file as shown inside a message: printable and at most 40 bytes.
inline std::string shown(std::string_view s) { return printable(s, 40); }

/// Calls \p entry(lineNo, lineBegin, begin, end) for every line of \p text that is neither blank
/// nor a comment ('#' first), [begin, end) trimmed of blanks, until \p diags reaches its error
/// limit; false when an entry returned false.
template <typename F> bool forEachEntryLine(const std::string &text, const DiagnosticEngine &diags, F entry) {
  bool ok = true;
  const size_t n = text.size();
  uint32_t lineNo = 0;
  for (size_t lineBegin = 0; lineBegin < n && !diags.errorLimitReached();) {
    ++lineNo;
    const void *nl = memchr(text.data() + lineBegin, '\n', n - lineBegin);
    size_t lineEnd = nl ? size_t(static_cast<const char *>(nl) - text.data()) : n;
    size_t b = lineBegin, e = lineEnd;
    while (b < e && isBlank(text[b])) ++b;
    while (e > b && isBlank(text[e - 1])) --e;
    if (b < e && text[b] != '#' && !entry(lineNo, uint32_t(lineBegin), uint32_t(b), uint32_t(e))) ok = false;
    lineBegin = lineEnd + 1;
  }
  return ok;
}

} // namespace metron::import
