//===- compiler/split/TomlNames.h - Words for TOML values in error messages ------*- C++ -*-===//
///
/// Shared by the strict TOML readers (device profiles, topologies): "must be an integer, not
/// a string".
//===----------------------------------------------------------------------------------------===//
#pragma once

#include <toml++/toml.h>

namespace metron {

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
