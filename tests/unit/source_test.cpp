//===- tests/unit/source_test.cpp - SourceManager and UTF-8 validation ------------------------===//
#include "lang/Source.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace metron;

TEST(Source, LineAndColumn) {
  SourceManager sm;
  FileID id = sm.addBuffer("a.metron", "ab\ncd\r\n\nlast");
  EXPECT_EQ(sm.locFor(id, 0).line, 1u);
  EXPECT_EQ(sm.locFor(id, 1).col, 2u);
  EXPECT_EQ(sm.locFor(id, 3).line, 2u);
  EXPECT_EQ(sm.locFor(id, 3).col, 1u);
  EXPECT_EQ(sm.locFor(id, 7).line, 3u); // the empty line
  EXPECT_EQ(sm.locFor(id, 8).line, 4u);
  EXPECT_EQ(sm.locFor(id, 8).col, 1u);
  EXPECT_EQ(sm.lineText(id, 2), "cd"); // CR stripped
  EXPECT_EQ(sm.lineText(id, 3), "");
  EXPECT_EQ(sm.lineText(id, 4), "last");
  EXPECT_EQ(sm.lineText(id, 5), "");
}

TEST(Source, EmptyBuffer) {
  SourceManager sm;
  FileID id = sm.addBuffer("e", "");
  EXPECT_EQ(sm.locFor(id, 0).line, 1u);
  EXPECT_EQ(sm.lineText(id, 1), "");
}

TEST(Source, ReadFileRefusesNonRegularAndLarge) {
  SourceManager sm;
  std::string err;
  EXPECT_EQ(sm.readFile("/dev/zero", 1 << 20, err), 0u);
  EXPECT_EQ(err, "not a regular file");
  EXPECT_EQ(sm.readFile("/", 1 << 20, err), 0u);
  EXPECT_EQ(err, "is a directory");
  EXPECT_EQ(sm.readFile("/no/such/file", 1 << 20, err), 0u);
  EXPECT_EQ(err, "No such file or directory");
  std::string path = testing::TempDir() + "/big.metron";
  {
    std::ofstream o(path);
    o << std::string(3 << 20, 'x');
  }
  EXPECT_EQ(sm.readFile(path, 1 << 20, err), 0u);
  EXPECT_EQ(err, "too large (3.0 MiB, limit 1.0 MiB)");
  FileID ok = sm.readFile(path, 4 << 20, err);
  ASSERT_NE(ok, 0u);
  EXPECT_EQ(sm.file(ok).text.size(), size_t(3 << 20));
}

TEST(Source, Utf8Validation) {
  EXPECT_FALSE(findInvalidUtf8("plain ascii"));
  EXPECT_FALSE(findInvalidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_EQ(findInvalidUtf8("ab\xff"), std::optional<size_t>(2));
  EXPECT_EQ(findInvalidUtf8("a\xc0\xaf"), std::optional<size_t>(1));         // overlong '/'
  EXPECT_EQ(findInvalidUtf8("\xed\xa0\x80"), std::optional<size_t>(0));      // surrogate
  EXPECT_EQ(findInvalidUtf8("x\xe2\x82"), std::optional<size_t>(1));         // truncated
  EXPECT_EQ(findInvalidUtf8("\xf4\x90\x80\x80"), std::optional<size_t>(0));  // > U+10FFFF
  EXPECT_FALSE(findInvalidUtf8(std::string("nul\0ok", 6)));                  // NUL is valid UTF-8
}
