//===- compiler/split/TomlNames.h - Words for TOML values in error messages ------*- C++ -*-===//
///
/// Shared by the strict TOML readers (device profiles, topologies): "must be an integer, not
/// a string", and the parse step with its error position.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <string_view>

namespace metron {

/// Parses \p text; on a syntax error fills \p err (any type with path, line, column and
/// message: split::ProfileError, place::TopologyError) and returns nothing.
template <class Error>
std::optional<toml::table> parseTomlOrError(std::string_view text, const std::string &path, Error &err) {
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error &e) {
    err.path = path;
    err.line = e.source().begin.line;
    err.column = e.source().begin.column;
    err.message = "not valid TOML: " + std::string(e.description());
    return std::nullopt;
  }
}

/// "a table", "an integer", ... for the type of \p n.
inline const char *tomlTypeName(const toml::node &n) {
  switch (n.type()) {
  case toml::node_type::table: return "a table";
  case toml::node_type::array: return "an array";
  case toml::node_type::string: return "a string";
  case toml::node_type::integer: return "an integer";
  case toml::node_type::floating_point: return "a floating-point number";
  case toml::node_type::boolean: return "a boolean";
  case toml::node_type::date: return "a date";
  case toml::node_type::time: return "a time";
  case toml::node_type::date_time: return "a date-time";
  default: return "nothing";
  }
}

} // namespace metron
