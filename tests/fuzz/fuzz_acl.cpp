//===- tests/fuzz/fuzz_acl.cpp - libFuzzer target: the flat encoding of traffic-class tables -===//
///
/// The input bytes, read as little-endian uint64_t words (copied into an aligned vector; a
/// partial last word is dropped), go to metron::dp::decodeAclTable (runtime/dataplane/Acl.h).
///
///  * a rejected table leaves the output empty and says why;
///  * a decoded table re-encodes (encodeAclTable) to exactly the input words, and
///    validateAclClasses accepts it;
///  * decoding a table with its last word dropped, or with one word appended, fails;
///  * the same words also read as classes built directly in memory (a class: a count word mod
///    4, then per constraint a head word giving field (mod 20: some out of range) and kind
///    (mod 3), and the values a and b): validateAclClasses accepts them exactly when
///    decodeAclTable accepts their encoding, and a decoded encoding gives the classes back.
///
/// AclTable::build is never called (it needs DPDK's EAL). A violated property is
/// __builtin_trap(); crashes and sanitizer reports are bugs too.
//===----------------------------------------------------------------------------------------===//
#include "runtime/dataplane/Acl.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

void check(bool ok, const char *what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_acl: property violated: %s\n", what);
    __builtin_trap();
  }
}

/// The words as classes in memory; validateAclClasses and decodeAclTable(encodeAclTable()) agree.
void inMemory(const std::vector<uint64_t> &w) {
  std::vector<metron::dp::AclClass> classes;
  size_t i = 0;
  while (i < w.size()) {
    metron::dp::AclClass cls;
    uint64_t k = w[i++] % 4;
    for (uint64_t j = 0; j < k && i < w.size(); ++j) {
      uint64_t head = w[i++];
      uint64_t a = i < w.size() ? w[i++] : 0, b = i < w.size() ? w[i++] : 0;
      // Small values are more interesting than the raw words: byte 3 of the head word gives a
      // right shift for a and b (the field widths are at most 48 bits).
      unsigned sh = unsigned(head >> 24) % 65;
      if (sh < 64) {
        a >>= sh;
        b >>= sh;
      }
      cls.c.push_back({uint8_t((head & 0xff) % 20), uint8_t((head >> 8 & 0xff) % 3), a, b});
    }
    classes.push_back(std::move(cls));
  }
  std::string verr, derr;
  bool valid = metron::dp::validateAclClasses(classes, verr);
  check(valid || !verr.empty(), "an invalid class list says why");
  std::vector<uint64_t> enc = metron::dp::encodeAclTable(classes);
  std::vector<metron::dp::AclClass> back;
  bool decoded = metron::dp::decodeAclTable(enc.data(), enc.size(), back, derr);
  check(valid == decoded, "validateAclClasses agrees with decodeAclTable");
  if (decoded) check(back == classes, "decode(encode(classes)) gives the classes back");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint64_t> words(size / 8);
  if (!words.empty()) std::memcpy(words.data(), data, words.size() * 8);
  inMemory(words);

  std::vector<metron::dp::AclClass> out{metron::dp::AclClass{}}; // decode must clear it
  std::string err;
  if (!metron::dp::decodeAclTable(words.data(), words.size(), out, err)) {
    check(out.empty(), "a rejected table leaves the output empty");
    check(!err.empty(), "a rejected table says why");
    return 0;
  }
  check(metron::dp::encodeAclTable(out) == words, "decode/encode round-trips");
  std::string verr;
  check(metron::dp::validateAclClasses(out, verr), "validateAclClasses accepts a decoded table");

  std::vector<metron::dp::AclClass> again;
  std::string e2;
  check(!metron::dp::decodeAclTable(words.data(), words.size() - 1, again, e2) && again.empty(),
        "a table without its last word is rejected");
  words.push_back(0);
  check(!metron::dp::decodeAclTable(words.data(), words.size(), again, e2) && again.empty(),
        "a table with a trailing word is rejected");
  return 0;
}
