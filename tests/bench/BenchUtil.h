//===- tests/bench/BenchUtil.h - What the benchmarks share ----------------------------*- C++ -*-===//
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace metron::bench {

/// The median wall time of \p runs calls of \p f, in milliseconds.
inline double medianMs(int runs, const std::function<void()> &f) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    auto s = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

} // namespace metron::bench
