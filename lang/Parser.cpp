//===- lang/Parser.cpp - From .metron text to the AST -----------------------------------------===//
#include "lang/Parser.h"

#include "MetronLexer.h"
#include "MetronParser.h"
#include "antlr4-runtime.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace metron {

using P = antlr::MetronParser;

namespace {

/// Maps ANTLR's code-point indices to byte offsets (identity for ASCII files).
class OffsetMap {
public:
  explicit OffsetMap(std::string_view text) {
    bool ascii = true;
    for (unsigned char c : text)
      if (c >= 0x80) { ascii = false; break; }
    if (ascii) return;
    for (size_t i = 0; i < text.size(); ++i)
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) cpToByte_.push_back(uint32_t(i));
    cpToByte_.push_back(uint32_t(text.size()));
  }
  uint32_t byteOf(size_t cp) const {
    if (cpToByte_.empty()) return uint32_t(cp);
    return cp < cpToByte_.size() ? cpToByte_[cp] : cpToByte_.back();
  }

private:
  std::vector<uint32_t> cpToByte_;
};

/// Thrown to abandon parsing once the error limit is reached.
struct StopParsing {};

std::string friendlyTokenSet(const std::string &set) {
  // ANTLR prints {'a', 'b', ID}; turn token names into words and collapse the huge sets that
  // the keyword-or-identifier rule produces.
  std::string body = set;
  if (!body.empty() && body.front() == '{') body = body.substr(1, body.size() - 2);
  std::vector<std::string> items;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t comma = body.find(", ", pos);
    items.push_back(body.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 2;
  }
  bool hasId = false;
  for (auto &i : items) hasId |= (i == "ID");
  if (hasId && items.size() > 6) {
    // A keyword-or-name position: the keywords are just names there, so drop them and keep
    // the kinds of token (number, address, string…) and punctuation.
    std::vector<std::string> kept;
    for (auto &i : items) {
      bool keyword = i.size() > 2 && i.front() == '\'' && std::isalpha(static_cast<unsigned char>(i[1]));
      if (!keyword) kept.push_back(i);
    }
    items = kept;
  } else if (items.size() > 6) {
    // The start of a statement or a declaration: name the construct, not twenty keywords.
    bool statement = std::find(items.begin(), items.end(), "'rule'") != items.end();
    bool declaration = std::find(items.begin(), items.end(), "'import'") != items.end();
    if (statement || declaration) {
      std::vector<std::string> kept;
      for (auto &i : items) {
        bool keyword = i.size() > 2 && i.front() == '\'' && std::isalpha(static_cast<unsigned char>(i[1]));
        if (!keyword) kept.push_back(i);
      }
      kept.push_back(statement ? "a statement" : "a declaration (import, nf, chain)");
      items = kept;
    }
  }
  static const std::map<std::string, std::string> words = {
      {"ID", "a name"}, {"INT", "a number"}, {"IPV4", "an IPv4 address"}, {"STRING", "a string"},
      {"MAC", "a MAC address"}, {"HEX", "a hex number"}, {"<EOF>", "end of file"}};
  std::string out;
  for (size_t k = 0; k < items.size(); ++k) {
    auto it = words.find(items[k]);
    std::string w = it != words.end() ? it->second : items[k];
    if (k) out += (k + 1 == items.size()) ? " or " : ", ";
    out += w;
  }
  return out;
}

std::string friendlyMessage(const std::string &msg, const std::string &tokText) {
  // A token may be a megabyte-long identifier or string: quote at most 40 bytes of it.
  auto shown = [](const std::string &t) { return t == "<EOF>" ? std::string("end of file") : "'" + printable(t, 40) + "'"; };
  static const std::string mism = "mismatched input ", extra = "extraneous input ", missing = "missing ",
                           noViable = "no viable alternative at input ";
  auto expectingPart = [&](const std::string &m) -> std::string {
    size_t e = m.rfind(" expecting ");
    return e == std::string::npos ? std::string() : friendlyTokenSet(m.substr(e + 11));
  };
  if (msg.rfind(mism, 0) == 0 || msg.rfind(extra, 0) == 0) {
    std::string exp = expectingPart(msg);
    return "unexpected " + shown(tokText) + (exp.empty() ? "" : ", expected " + exp);
  }
  if (msg.rfind(missing, 0) == 0) {
    size_t at = msg.rfind(" at ");
    std::string what = msg.substr(missing.size(), at == std::string::npos ? std::string::npos : at - missing.size());
    return "missing " + friendlyTokenSet(what) + " before " + shown(tokText);
  }
  if (msg.rfind(noViable, 0) == 0) return "unexpected " + shown(tokText);
  return msg;
}

class ErrorListener : public antlr4::BaseErrorListener {
public:
  ErrorListener(const SourceManager &sm, FileID id, DiagnosticEngine &d, const OffsetMap &om)
      : sm_(sm), id_(id), diags_(d), om_(om) {}

  void syntaxError(antlr4::Recognizer *rec, antlr4::Token *tok, size_t line, size_t col,
                   const std::string &msg, std::exception_ptr) override {
    SourceRange r;
    std::string text;
    if (tok && missingSemicolon(rec, tok, msg)) return;
    if (tok) {
      text = tok->getText();
      if (tok->getType() == antlr4::Token::EOF) {
        r.begin = r.end = sm_.locFor(id_, uint32_t(sm_.file(id_).text.size()));
        text = "<EOF>";
      } else {
        r.begin = sm_.locFor(id_, om_.byteOf(tok->getStartIndex()));
        r.end = sm_.locFor(id_, om_.byteOf(tok->getStopIndex() + 1));
      }
      report(r, friendlyMessage(msg, text));
    } else {
      // Lexer error: "token recognition error at: 'X'". Locate by line/column (code points).
      (void)line;
      (void)col;
      r.begin = sm_.locFor(id_, om_.byteOf(lexStart_));
      r.end = r.begin;
      std::string bad = msg;
      size_t q = msg.find("at: '");
      if (q != std::string::npos) bad = msg.substr(q + 5, msg.size() - q - 6);
      report(r, "unexpected character '" + printable(bad, 16) + "'");
    }
  }
  void setLexStart(size_t cp) { lexStart_ = cp; }

  /// clang's "expected ';'": when ';' could end the statement and the offending token starts
  /// a later line, point just after the previous token, where the ';' is missing.
  bool missingSemicolon(antlr4::Recognizer *rec, antlr4::Token *tok, const std::string &msg) {
    auto *parser = dynamic_cast<antlr4::Parser *>(rec);
    if (!parser) return false;
    size_t e = msg.rfind(" expecting ");
    bool wantsSemi = (e != std::string::npos && msg.find("';'", e) != std::string::npos) ||
                     msg.rfind("missing ';'", 0) == 0;
    if (!wantsSemi) return false;
    antlr4::TokenStream *ts = parser->getTokenStream();
    antlr4::Token *prev = nullptr;
    for (ssize_t i = ssize_t(tok->getTokenIndex()) - 1; i >= 0; --i) {
      antlr4::Token *t = ts->get(size_t(i));
      if (t->getChannel() == antlr4::Token::DEFAULT_CHANNEL) { prev = t; break; }
    }
    if (!prev || (tok->getType() != antlr4::Token::EOF && prev->getLine() >= tok->getLine())) return false;
    SourceRange r;
    r.begin = r.end = sm_.locFor(id_, om_.byteOf(prev->getStopIndex() + 1));
    report(r, "expected ';' after '" + prev->getText() + "'");
    return true;
  }

private:
  void report(SourceRange r, std::string msg) {
    diags_.report(DiagKind::Syntax, r, std::move(msg));
    if (diags_.errorLimitReached()) throw StopParsing{};
  }
  const SourceManager &sm_;
  FileID id_;
  DiagnosticEngine &diags_;
  const OffsetMap &om_;
  size_t lexStart_ = 0;
};

/// The lexer reports errors without a token; remember where the failing token started.
class Lexer : public antlr::MetronLexer {
public:
  Lexer(antlr4::CharStream *in, ErrorListener &l) : MetronLexer(in), listener_(l) {}
  void notifyListeners(const antlr4::LexerNoViableAltException &e) override {
    sawError = true;
    if (quiet) return;
    listener_.setLexStart(tokenStartCharIndex);
    MetronLexer::notifyListeners(e);
  }
  bool quiet = false;    ///< stage 1: note errors, report nothing
  bool sawError = false;

private:
  ErrorListener &listener_;
};

class Builder {
public:
  Builder(const SourceManager &sm, FileID id, const OffsetMap &om) : sm_(sm), id_(id), om_(om) {}

  SourceRange range(antlr4::Token *a, antlr4::Token *b) const {
    SourceRange r;
    if (!a) return r;
    r.begin = sm_.locFor(id_, om_.byteOf(a->getStartIndex()));
    antlr4::Token *e = (b && b->getStopIndex() + 1 >= a->getStartIndex()) ? b : a;
    r.end = sm_.locFor(id_, om_.byteOf(e->getStopIndex() + 1));
    return r;
  }
  SourceRange range(antlr4::ParserRuleContext *c) const { return range(c->getStart(), c->getStop()); }
  SourceRange range(antlr4::Token *t) const { return range(t, t); }
  SourceRange range(antlr4::tree::TerminalNode *n) const { return range(n->getSymbol()); }

  ast::Name name(antlr4::Token *t) const { return {t->getText(), range(t)}; }
  ast::Name name(P::IdentContext *c) const { return {c->getText(), range(c)}; }

  ast::FieldRef field(P::FieldRefContext *c) const {
    ast::FieldRef f;
    f.name = c->getText(); // "ip.src": no whitespace or comments can sit inside a field name
    f.range = range(c);
    return f;
  }

  static std::string unquote(const std::string &s) {
    std::string out;
    for (size_t i = 1; i + 1 < s.size(); ++i) {
      if (s[i] == '\\' && i + 2 < s.size()) {
        char n = s[++i];
        out += n == 'n' ? '\n' : n == 't' ? '\t' : n;
      } else {
        out += s[i];
      }
    }
    return out;
  }

  ast::Value value(P::ValueContext *c) const {
    ast::Value v;
    v.range = range(c);
    auto two = [&](antlr4::tree::TerminalNode *a, antlr4::tree::TerminalNode *b) {
      v.a = a->getText();
      v.aRange = range(a);
      if (b) {
        v.b = b->getText();
        v.bRange = range(b);
        v.hasB = true;
      }
    };
    if (auto *x = dynamic_cast<P::IpValueContext *>(c)) {
      v.kind = ast::Value::Ip;
      two(x->IPV4(), x->INT());
    } else if (auto *x = dynamic_cast<P::MacValueContext *>(c)) {
      v.kind = ast::Value::Mac;
      two(x->MAC(), nullptr);
    } else if (auto *x = dynamic_cast<P::IntValueContext *>(c)) {
      v.kind = ast::Value::Int;
      two(x->INT(0), x->INT().size() > 1 ? x->INT(1) : nullptr);
    } else if (auto *x = dynamic_cast<P::HexValueContext *>(c)) {
      v.kind = ast::Value::Hex;
      two(x->HEX(0), x->HEX().size() > 1 ? x->HEX(1) : nullptr);
    } else if (dynamic_cast<P::NameValueContext *>(c)) {
      v.kind = ast::Value::Name; // an identifier, or tcp/udp/icmp as a protocol name
      v.a = c->getText();
      v.aRange = range(c);
    } else if (auto *x = dynamic_cast<P::StringValueContext *>(c)) {
      v.kind = ast::Value::String;
      v.a = unquote(x->STRING()->getText());
      v.aRange = range(x->STRING());
    }
    return v;
  }

  ast::Assign assign(P::AssignContext *c) const { return {field(c->field), value(c->value()), range(c)}; }

  ast::Action action(P::ActionContext *c) const {
    ast::Action a;
    a.range = range(c);
    if (dynamic_cast<P::AllowActionContext *>(c)) a.kind = ast::Action::Allow;
    else if (dynamic_cast<P::DenyActionContext *>(c)) a.kind = ast::Action::Deny;
    else if (auto *b = dynamic_cast<P::BranchActionContext *>(c)) {
      a.kind = ast::Action::Branch;
      a.port = name(b->port);
    } else if (auto *s = dynamic_cast<P::SetActionContext *>(c)) {
      a.kind = ast::Action::Set;
      for (auto *x : s->assign()) a.assigns.push_back(assign(x));
    }
    return a;
  }

  ast::Match match(P::MatchItemContext *c) const {
    ast::Match m;
    m.range = range(c);
    if (auto *x = dynamic_cast<P::ProtoMatchContext *>(c)) {
      m.kind = ast::Match::Proto;
      m.keyword = x->proto->getText();
    } else if (auto *x = dynamic_cast<P::ProtoNumMatchContext *>(c)) {
      m.kind = ast::Match::ProtoNum;
      m.value = value(x->value());
    } else if (auto *x = dynamic_cast<P::SrcMatchContext *>(c)) {
      m.kind = ast::Match::Src;
      m.value = value(x->value());
    } else if (auto *x = dynamic_cast<P::DstMatchContext *>(c)) {
      m.kind = ast::Match::Dst;
      m.value = value(x->value());
    } else if (auto *x = dynamic_cast<P::SportMatchContext *>(c)) {
      m.kind = ast::Match::Sport;
      m.value = value(x->value());
    } else if (auto *x = dynamic_cast<P::DportMatchContext *>(c)) {
      m.kind = ast::Match::Dport;
      m.value = value(x->value());
    } else if (auto *x = dynamic_cast<P::FieldMatchContext *>(c)) {
      m.kind = ast::Match::Field;
      m.field = field(x->field);
      m.value = value(x->value());
    }
    return m;
  }

  std::vector<ast::Option> options(const std::vector<P::OptionContext *> &os) const {
    std::vector<ast::Option> out;
    for (auto *o : os) {
      ast::Option opt;
      opt.name = name(o->name);
      if (o->value()) opt.value = value(o->value());
      opt.range = range(o);
      out.push_back(std::move(opt));
    }
    return out;
  }

  void keys(ast::Stmt &s, P::KeyListContext *k) const {
    if (!k) return;
    s.hasKeys = true;
    for (auto *f : k->fieldRef()) s.keys.push_back(field(f));
  }

  ast::Stmt stmt(P::NfStmtContext *c) const {
    ast::Stmt s;
    s.range = range(c);
    s.keywordRange = range(c->getStart());
    using K = ast::Stmt;
    if (auto *x = c->ruleStmt()) {
      s.kind = K::Rule;
      s.action = action(x->action());
      s.hasAction = true;
      for (auto *m : x->matchItem()) s.matches.push_back(match(m));
    } else if (auto *x = c->rulesStmt()) {
      s.kind = K::Rules;
      s.name = name(x->name);
      s.action = action(x->action());
      s.hasAction = true;
    } else if (auto *x = c->defaultStmt()) {
      s.kind = K::Default;
      s.action = action(x->action());
      s.hasAction = true;
    } else if (auto *x = c->lookupStmt()) {
      s.kind = K::Lookup;
      s.field = field(x->field);
      s.name = name(x->table);
      if (auto *pm = x->portMap())
        for (auto *it : pm->portMapItem()) {
          ast::Value iface;
          iface.kind = ast::Value::String;
          iface.a = unquote(it->iface->getText());
          iface.range = iface.aRange = range(it->iface);
          s.portMap.push_back({iface, name(it->port)});
        }
      if (auto *mc = x->missClause()) {
        s.action = action(mc->action());
        s.hasAction = true;
      }
    } else if (auto *x = c->setStmt()) {
      s.kind = K::Set;
      for (auto *a : x->assign()) s.assigns.push_back(assign(a));
    } else if (auto *x = c->decStmt()) {
      s.kind = K::Dec;
      s.field = field(x->field);
    } else if (auto *x = c->naptStmt()) {
      s.kind = K::Napt;
      s.field = field(x->field);
      s.values.push_back(value(x->addr));
      s.values.push_back(value(x->range));
      s.options = options(x->option());
    } else if (auto *x = c->balanceStmt()) {
      s.kind = K::Balance;
      s.field = field(x->field);
      s.name = name(x->policy);
      for (auto *v : x->value()) s.values.push_back(value(v));
      s.options = options(x->option());
    } else if (auto *x = c->monitorStmt()) {
      s.kind = K::Monitor;
      keys(s, x->keyList());
      s.options = options(x->option());
    } else if (auto *x = c->conntrackStmt()) {
      s.kind = K::Conntrack;
      s.options = options(x->option());
    } else if (auto *x = c->ratelimitStmt()) {
      s.kind = K::RateLimit;
      s.values.push_back(value(x->quantity()->value()));
      s.name = name(x->quantity()->unit);
      keys(s, x->keyList());
      s.options = options(x->option());
    } else if (auto *x = c->dpiStmt()) {
      s.kind = K::Dpi;
      s.name = name(x->patterns);
      if (x->action()) {
        s.action = action(x->action());
        s.hasAction = true;
      }
    } else if (auto *x = c->blackboxStmt()) {
      s.kind = K::Blackbox;
      s.name = name(x->what);
      ast::Value v;
      v.kind = ast::Value::String;
      v.a = unquote(x->STRING()->getText());
      v.range = v.aRange = range(x->STRING());
      s.values.push_back(v);
    } else if (auto *ps = c->portsStmt()) {
      if (auto *x = dynamic_cast<P::PortsDeclContext *>(ps)) {
        s.kind = x->dir->getText() == "input" ? K::Inputs : K::Outputs;
        for (auto *id : x->ident()) s.names.push_back(name(id));
      } else if (auto *x = dynamic_cast<P::WritesDeclContext *>(ps)) {
        s.kind = K::Writes;
        for (auto *f : x->fieldRef()) s.fields.push_back(field(f));
      } else {
        s.kind = K::Strips;
      }
    }
    return s;
  }

  ast::File file(P::FileContext *c) const {
    ast::File f;
    f.file = id_;
    for (auto *d : c->decl()) {
      if (auto *x = d->importDecl()) {
        ast::ImportDecl i;
        i.kind = name(x->kind);
        i.path.kind = ast::Value::String;
        i.path.a = unquote(x->path->getText());
        i.path.range = i.path.aRange = range(x->path);
        i.name = name(x->name);
        i.options = options(x->option());
        i.range = range(x);
        f.order.push_back({ast::Decl::Import, f.imports.size()});
        f.imports.push_back(std::move(i));
      } else if (auto *x = d->nfDecl()) {
        ast::NfDecl n;
        n.name = name(x->name);
        if (x->kind) n.kind = name(x->kind);
        for (auto *s : x->nfStmt()) n.stmts.push_back(stmt(s));
        n.range = range(x);
        f.order.push_back({ast::Decl::Nf, f.nfs.size()});
        f.nfs.push_back(std::move(n));
      } else if (auto *x = d->chainDecl()) {
        ast::ChainDecl ch;
        ch.name = name(x->name);
        ch.range = range(x);
        for (auto *p : x->chainPath()) {
          ast::ChainPath path;
          path.range = range(p);
          for (auto *e : p->endpoint()) {
            ast::Endpoint ep;
            ep.range = range(e);
            if (auto *in = dynamic_cast<P::IngressEndpointContext *>(e)) {
              ep.kind = ast::Endpoint::In;
              ep.name = name(in->port);
            } else if (auto *out = dynamic_cast<P::EgressEndpointContext *>(e)) {
              ep.kind = ast::Endpoint::Out;
              ep.name = name(out->port);
            } else if (auto *nf = dynamic_cast<P::NfEndpointContext *>(e)) {
              ep.kind = ast::Endpoint::Nf;
              ep.name = name(nf->nf);
              if (nf->port) ep.port = name(nf->port);
            }
            path.steps.push_back(std::move(ep));
          }
          ch.paths.push_back(std::move(path));
        }
        f.order.push_back({ast::Decl::Chain, f.chains.size()});
        f.chains.push_back(std::move(ch));
      }
    }
    return f;
  }

private:
  const SourceManager &sm_;
  FileID id_;
  const OffsetMap &om_;
};

} // namespace

std::optional<ast::File> parseFile(const SourceManager &sm, FileID id, DiagnosticEngine &diags) {
  const std::string &text = sm.file(id).text;
  if (auto bad = findInvalidUtf8(text)) {
    SourceLoc l = sm.locFor(id, uint32_t(*bad));
    char buf[64];
    snprintf(buf, sizeof buf, "invalid UTF-8 byte 0x%02x; .metron files must be UTF-8",
             static_cast<unsigned char>(text[*bad]));
    diags.report(DiagKind::InvalidUtf8, SourceRange{l, l}, buf);
    return std::nullopt;
  }
  unsigned errorsBefore = diags.numErrors();
  OffsetMap om(text);
  ErrorListener listener(sm, id, diags, om);
  antlr4::ANTLRInputStream input(text);
  input.name = sm.file(id).path;
  Lexer lexer(&input, listener);
  lexer.removeErrorListeners();
  lexer.addErrorListener(&listener);
  antlr4::CommonTokenStream tokens(&lexer);
  antlr::MetronParser parser(&tokens);
  parser.removeErrorListeners();

  P::FileContext *tree = nullptr;
  try {
    // Stage 1: SLL prediction, bail out at the first error (fast path for valid input).
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    lexer.quiet = true;
    bool ok = false;
    try {
      tree = parser.file();
      ok = !lexer.sawError;
    } catch (antlr4::ParseCancellationException &) {
    }
    if (!ok) {
      // Stage 2: full LL with error recovery, reporting every error.
      lexer.reset();
      lexer.quiet = false;
      tokens.setTokenSource(&lexer);
      parser.reset();
      parser.addErrorListener(&listener);
      parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
      parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::LL);
      tree = parser.file();
    }
  } catch (StopParsing &) {
    return std::nullopt;
  }
  if (diags.numErrors() != errorsBefore) return std::nullopt;
  Builder b(sm, id, om);
  return b.file(tree);
}

} // namespace metron
