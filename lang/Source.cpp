//===- lang/Source.cpp - Source files, locations and ranges ------------------------------------===//
#include "lang/Source.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace metron {

static std::string mib(uint64_t bytes) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / (1024.0 * 1024.0));
  return buf;
}

FileID SourceManager::readFile(const std::string &path, uint64_t maxBytes, std::string &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    error = strerror(errno);
    return 0;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    error = strerror(errno);
    ::close(fd);
    return 0;
  }
  if (S_ISDIR(st.st_mode)) {
    error = "is a directory";
    ::close(fd);
    return 0;
  }
  if (!S_ISREG(st.st_mode)) {
    error = "not a regular file";
    ::close(fd);
    return 0;
  }
  if (uint64_t(st.st_size) > maxBytes) {
    error = "too large (" + mib(st.st_size) + ", limit " + mib(maxBytes) + ")";
    ::close(fd);
    return 0;
  }
  std::string text;
  text.resize(size_t(st.st_size));
  size_t got = 0;
  // Read at most maxBytes + 1 even if the file grows while we read it.
  for (;;) {
    if (got == text.size()) {
      if (text.size() > maxBytes) break;
      text.resize(std::min<uint64_t>(maxBytes + 1, text.size() + 65536));
    }
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = strerror(errno);
      ::close(fd);
      return 0;
    }
    if (n == 0) break;
    got += size_t(n);
  }
  ::close(fd);
  text.resize(got);
  if (got > maxBytes) {
    error = "too large (over " + mib(maxBytes) + ")";
    return 0;
  }
  return addBuffer(path, std::move(text));
}

FileID SourceManager::readStdin(const std::string &name, uint64_t maxBytes, std::string &reason) {
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      reason = strerror(errno);
      return 0;
    }
    if (n == 0) break;
    text.append(buf, size_t(n));
    if (text.size() > maxBytes) {
      reason = "too large (over " + mib(maxBytes) + ")";
      return 0;
    }
  }
  return addBuffer(name, std::move(text));
}

FileID SourceManager::addBuffer(const std::string &path, std::string text) {
  auto f = std::make_unique<File>();
  f->path = path;
  f->text = std::move(text);
  f->lineStarts.push_back(0);
  const std::string &t = f->text;
  for (size_t i = 0, n = t.size(); i < n; ++i) {
    const void *p = memchr(t.data() + i, '\n', n - i);
    if (!p) break;
    i = size_t(static_cast<const char *>(p) - t.data());
    f->lineStarts.push_back(uint32_t(i + 1));
  }
  files_.push_back(std::move(f));
  return FileID(files_.size());
}

SourceLoc SourceManager::locFor(FileID id, uint32_t offset) const {
  const File &f = file(id);
  auto it = std::upper_bound(f.lineStarts.begin(), f.lineStarts.end(), offset);
  uint32_t line = uint32_t(it - f.lineStarts.begin());
  uint32_t col = offset - f.lineStarts[line - 1] + 1;
  return SourceLoc{id, offset, line, col};
}

std::string_view SourceManager::lineText(FileID id, uint32_t line) const {
  const File &f = file(id);
  if (line == 0 || line > f.lineStarts.size()) return {};
  size_t b = f.lineStarts[line - 1];
  size_t e = line < f.lineStarts.size() ? f.lineStarts[line] - 1 : f.text.size();
  if (e > b && f.text[e - 1] == '\r') --e;
  return std::string_view(f.text).substr(b, e - b);
}

std::optional<size_t> findInvalidUtf8(std::string_view s) {
  const auto *p = reinterpret_cast<const unsigned char *>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned c = p[i];
    if (c < 0x80) { ++i; continue; }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return i;
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and code points beyond U+10FFFF are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return i;
    i += len;
  }
  return std::nullopt;
}

} // namespace metron
