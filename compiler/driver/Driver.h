//===- compiler/driver/Driver.h - The metronc command line ------------------------*- C++ -*-===//
///
/// \file
/// `metronc` is a thin main over this function (like llc over LLVM). Exit status: 0 success,
/// 1 the input has errors, 2 usage errors (unknown option, missing file argument).
///
//===----------------------------------------------------------------------------------------===//
#pragma once

namespace metron {
int runMetronc(int argc, char **argv);
}
