//===- lang/Source.h - Source files, locations and ranges -------------------------*- C++ -*-===//
///
/// \file
/// The source manager owns the text of every file the compiler reads — `.metron` sources and
/// the files they import (rule sets, route tables, pattern sets) — so that any diagnostic can
/// print the offending line with a caret, whichever file it comes from.
///
/// Files are read with a size cap and must be regular files: `/dev/zero`, a FIFO or a 50 MB
/// blob are refused with a clear message before any parsing starts.
///
//===----------------------------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace metron {

/// Identifies a file in the SourceManager; 0 means "no file".
using FileID = uint32_t;

/// A point in a file: byte offset plus the 1-based line and column it maps to (columns count
/// bytes, as clang does).
struct SourceLoc {
  FileID file = 0;
  uint32_t offset = 0;
  uint32_t line = 0;
  uint32_t col = 0;
  bool valid() const { return file != 0; }
};

/// A half-open byte range [begin, end) inside one file.
struct SourceRange {
  SourceLoc begin;
  SourceLoc end;
  bool valid() const { return begin.valid(); }
};

/// Limits applied when reading files (all hostile-input protection for file I/O lives here).
struct ReadLimits {
  uint64_t maxSourceBytes = 8ull << 20;   ///< a .metron file: 8 MiB (rule sets belong in imports)
  uint64_t maxImportBytes = 256ull << 20; ///< an imported data file: 256 MiB
};

class SourceManager {
public:
  struct File {
    std::string path;    ///< as given by the user (used in diagnostics)
    std::string text;    ///< whole content
    std::vector<uint32_t> lineStarts; ///< offsets of the first byte of each line
  };

  /// Reads a file. On failure returns 0 and sets \p reason to why, without the path:
  /// "No such file or directory", "is a directory", "not a regular file",
  /// "too large (50.0 MiB, limit 8.0 MiB)". Callers say "cannot read 'PATH': REASON".
  FileID readFile(const std::string &path, uint64_t maxBytes, std::string &reason);

  /// Reads all of standard input (at most \p maxBytes) as a file called \p name.
  FileID readStdin(const std::string &name, uint64_t maxBytes, std::string &reason);

  /// Registers in-memory text (tests, the fuzzer).
  FileID addBuffer(const std::string &path, std::string text);

  const File &file(FileID id) const { return *files_.at(id - 1); }
  size_t numFiles() const { return files_.size(); }

  /// Location of byte \p offset in \p id (line and column computed by binary search).
  SourceLoc locFor(FileID id, uint32_t offset) const;
  /// The text of 1-based line \p line, without its newline.
  std::string_view lineText(FileID id, uint32_t line) const;

private:
  std::vector<std::unique_ptr<File>> files_;
};

/// Validates UTF-8. Returns the byte offset of the first invalid sequence, or nullopt.
std::optional<size_t> findInvalidUtf8(std::string_view text);

} // namespace metron
