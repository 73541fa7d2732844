//===- runtime/state/Dpi.cpp - Payload pattern matching with Hyperscan ------------------------===//
///
/// The behaviour is specified in State.h (Dpi). Compiling a pattern set takes from milliseconds
/// to seconds, so the compiled database of each imported set is shared by every Dpi state of
/// the process that uses the same set; each state has its own scratch space.
//===----------------------------------------------------------------------------------------===//
#include "runtime/state/StateImpl.h"

#include <hs/hs.h>

#include <mutex>

namespace metron::state {

namespace {

struct Database {
  hs_database_t *db = nullptr; ///< nullptr for an empty pattern set (it never matches)
  ~Database() { hs_free_database(db); }
};

/// The hsbench flag letters (see man/metron-lang.7, Pattern sets) as Hyperscan compile flags.
unsigned hsFlags(const std::string &letters) {
  unsigned f = 0;
  for (char c : letters) {
    switch (c) {
    case 'i': f |= HS_FLAG_CASELESS; break;
    case 's': f |= HS_FLAG_DOTALL; break;
    case 'm': f |= HS_FLAG_MULTILINE; break;
    case 'H': f |= HS_FLAG_SINGLEMATCH; break;
    case 'V': f |= HS_FLAG_ALLOWEMPTY; break;
    case 'W': f |= HS_FLAG_UCP; break;
    case '8': f |= HS_FLAG_UTF8; break;
    case 'P': f |= HS_FLAG_PREFILTER; break;
    case 'L': f |= HS_FLAG_SOM_LEFTMOST; break;
    case 'C': f |= HS_FLAG_COMBINATION; break;
    case 'Q': f |= HS_FLAG_QUIET; break;
    default: break; // 'O' (the importer accepts no other letter)
    }
  }
  // Only whether anything matched matters; Hyperscan cannot combine SINGLEMATCH with SOM_LEFTMOST.
  if (!(f & HS_FLAG_SOM_LEFTMOST)) f |= HS_FLAG_SINGLEMATCH;
  return f;
}

/// What a compiled database was compiled from: a cache hit must have the same patterns (an
/// Import freed and another allocated at its address must not find the old database).
std::string signature(const ir::Import &imp) {
  std::string s;
  for (const auto &p : imp.patterns) {
    s += std::to_string(p.id);
    s += '\0';
    s += p.regex;
    s += '\0';
    s += p.flags;
    s += '\0';
  }
  return s;
}

std::shared_ptr<const Database> compile(const ir::Import &imp, const std::string &dpiName, std::string &err) {
  auto out = std::make_shared<Database>();
  if (imp.patterns.empty()) return out;
  std::vector<const char *> exprs;
  std::vector<unsigned> flags, ids;
  for (const auto &p : imp.patterns) {
    exprs.push_back(p.regex.c_str());
    flags.push_back(hsFlags(p.flags));
    ids.push_back(p.id);
  }
  hs_compile_error_t *cerr = nullptr;
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), unsigned(exprs.size()), HS_MODE_BLOCK, nullptr, &out->db,
                       &cerr) != HS_SUCCESS) {
    std::string reason = cerr && cerr->message ? cerr->message : "unknown error";
    if (cerr && cerr->expression >= 0 && size_t(cerr->expression) < imp.patterns.size()) {
      const ir::Pattern &p = imp.patterns[size_t(cerr->expression)];
      err = "dpi " + dpiName + ": Hyperscan rejects pattern " + std::to_string(p.id) + " ('" + imp.path + "' line " +
            std::to_string(p.line) + "): " + reason;
    } else {
      err = "dpi " + dpiName + ": Hyperscan cannot compile the pattern set '" + imp.path + "': " + reason;
    }
    hs_free_compile_error(cerr);
    return nullptr;
  }
  return out;
}

std::shared_ptr<const Database> cachedDatabase(const ir::Import &imp, const std::string &dpiName, std::string &err) {
  struct Cached {
    std::string signature;
    std::shared_ptr<const Database> db;
  };
  static std::mutex mu;
  static std::unordered_map<const ir::Import *, Cached> cache;
  std::string sig = signature(imp);
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(&imp);
  if (it != cache.end() && it->second.signature == sig) return it->second.db;
  auto db = compile(imp, dpiName, err);
  if (db) cache[&imp] = Cached{std::move(sig), db};
  return db;
}

class DpiState final : public ElementState {
public:
  DpiState(std::shared_ptr<const Database> db, hs_scratch_t *scratch) : db_(std::move(db)), scratch_(scratch) {}
  ~DpiState() override { hs_free_scratch(scratch_); }

  Result process(pkt::Packet &p) override {
    ++in_;
    size_t len = p.payloadLen();
    if (!db_->db || len == 0) return {};
    bool matched = false;
    auto onMatch = [](unsigned, unsigned long long, unsigned long long, unsigned, void *ctx) -> int {
      *static_cast<bool *>(ctx) = true;
      return 1; // stop: one match decides
    };
    hs_scan(db_->db, reinterpret_cast<const char *>(p.payload()), unsigned(len), 0, scratch_, onMatch, &matched);
    if (matched) ++matched_;
    return {.matched = matched};
  }

  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    return {{"in", in_}, {"matched", matched_}};
  }

private:
  std::shared_ptr<const Database> db_;
  hs_scratch_t *scratch_;
  uint64_t in_ = 0, matched_ = 0;
};

} // namespace

std::unique_ptr<ElementState> makeDpi(const ir::Dpi &e, std::string &err) {
  auto db = cachedDatabase(*e.patterns, e.patternSet, err);
  if (!db) return nullptr;
  hs_scratch_t *scratch = nullptr;
  if (db->db && hs_alloc_scratch(db->db, &scratch) != HS_SUCCESS) {
    err = "dpi " + e.patternSet + ": Hyperscan cannot allocate its scratch space";
    return nullptr;
  }
  return std::make_unique<DpiState>(std::move(db), scratch);
}

} // namespace metron::state
