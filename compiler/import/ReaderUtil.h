//===- compiler/import/ReaderUtil.h - Small helpers shared by the data-file readers -*- C++ -*-===//
#pragma once

#include "lang/Diagnostics.h"

#include <string>
#include <string_view>

namespace metron::import {

inline bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
inline bool isDigit(char c) { return c >= '0' && c <= '9'; }

/// A token of a data file as shown inside a message: printable and at most 40 bytes.
inline std::string shown(std::string_view s) { return printable(s, 40); }

} // namespace metron::import
