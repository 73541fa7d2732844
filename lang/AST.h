//===- lang/AST.h - Abstract syntax of .metron files ------------------------------*- C++ -*-===//
///
/// \file
/// The AST is the syntax of a .metron file with every token's source range, and nothing more:
/// values are kept as written (text), names are unresolved. compiler/sema turns it into the
/// NF IR (compiler/NFIR.h). `metronc check --emit=ast` prints it (printAST).
///
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "lang/Source.h"

#include <optional>
#include <string>
#include <vector>

namespace metron::ast {

/// A value as written. The parts depend on the kind:
///   Ip:     a = "10.0.0.0", b = "8" when written as a prefix
///   Mac:    a = "00:11:22:33:44:55"
///   Int:    a = "1024", b = "65535" when written as a range
///   Hex:    a = "0x11", b = "0xff" when written as value/mask
///   Name:   a = the identifier;  String: a = the unquoted, unescaped text
struct Value {
  enum Kind { Ip, Mac, Int, Hex, Name, String } kind = Int;
  std::string a, b;
  bool hasB = false;
  SourceRange range, aRange, bRange;
  std::string str() const; ///< as written
};

struct Name {
  std::string text;
  SourceRange range;
};

struct FieldRef {
  std::string name; ///< "ip.src"
  SourceRange range;
};

struct Assign {
  FieldRef field;
  Value value;
  SourceRange range;
};

struct Action {
  enum Kind { Allow, Deny, Branch, Set } kind = Deny;
  Name port;                   ///< Branch
  std::vector<Assign> assigns; ///< Set
  SourceRange range;
};

struct Match {
  /// Proto: `tcp`/`udp`/`icmp` (keyword in `name`); ProtoNum: `proto V`; Src/Dst/Sport/Dport:
  /// shorthands; Field: `field value`.
  enum Kind { Proto, ProtoNum, Src, Dst, Sport, Dport, Field } kind = Field;
  std::string keyword;
  FieldRef field; ///< Field
  Value value;    ///< all but Proto
  SourceRange range;
};

struct Option {
  Name name;
  std::optional<Value> value;
  SourceRange range;
};

struct PortMapItem {
  Value iface; ///< a String
  Name port;
};

/// One statement in an NF body. The fields used depend on the kind (listed per kind).
struct Stmt {
  enum Kind {
    Rule,      ///< action, matches
    Rules,     ///< name (import), action
    Default,   ///< action
    Lookup,    ///< field, name (table), portMap, action (miss, when hasAction)
    Set,       ///< assigns
    Dec,       ///< field
    Napt,      ///< field, values[0] (address), values[1] (port range), options
    Balance,   ///< field, name (policy), values (backends), options
    Monitor,   ///< keys (when hasKeys), options
    Conntrack, ///< options
    RateLimit, ///< values[0] (rate), name (unit), keys (when hasKeys), options
    Dpi,       ///< name (pattern import), action (when hasAction)
    Blackbox,  ///< name (process|vm|device), values[0] (string)
    Inputs,    ///< names
    Outputs,   ///< names
    Writes,    ///< fields
    Strips,    ///< (no operands): `strips tags;`
  } kind = Rule;
  SourceRange range;
  SourceRange keywordRange;
  Action action;
  bool hasAction = false;
  std::vector<Match> matches;
  Name name;
  FieldRef field;
  std::vector<Assign> assigns;
  std::vector<PortMapItem> portMap;
  std::vector<Value> values;
  std::vector<FieldRef> keys;
  bool hasKeys = false;
  std::vector<Option> options;
  std::vector<Name> names;
  std::vector<FieldRef> fields;
};

struct ImportDecl {
  Name kind;   ///< classbench | routes | patterns
  Value path;  ///< a String
  Name name;
  std::vector<Option> options;
  SourceRange range;
};

struct NfDecl {
  Name name;
  std::optional<Name> kind; ///< stateful | blackbox
  std::vector<Stmt> stmts;
  SourceRange range;
};

struct Endpoint {
  enum Kind { In, Out, Nf } kind = Nf;
  Name name;                ///< port (In/Out) or NF name
  std::optional<Name> port; ///< Nf: `nf.port`
  SourceRange range;
};

struct ChainPath {
  std::vector<Endpoint> steps;
  SourceRange range;
};

struct ChainDecl {
  Name name;
  std::vector<ChainPath> paths;
  SourceRange range;
};

struct Decl {
  enum Kind { Import, Nf, Chain } kind;
  size_t index; ///< into File::imports / nfs / chains
};

struct File {
  FileID file = 0;
  std::vector<ImportDecl> imports;
  std::vector<NfDecl> nfs;
  std::vector<ChainDecl> chains;
  std::vector<Decl> order; ///< declarations in source order
};

/// Prints the AST as an indented tree with line:col positions (stable; golden-tested).
std::string printAST(const File &f, const SourceManager &sm);

} // namespace metron::ast
