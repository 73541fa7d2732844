//===- tests/unit/dataplane_test_main.cpp - gtest main with DPDK's EAL set up once -----------===//
///
/// rte_acl (and the rte_flow structures of the NIC model) allocate from DPDK's memory, which
/// needs the EAL: one lcore, no hugepages, no shared config (concurrent test processes are fine).
//===----------------------------------------------------------------------------------------===//
#include <gtest/gtest.h>
#include <rte_eal.h>

#include <string>
#include <unistd.h>

int main(int argc, char **argv) {
  testing::InitGoogleTest(&argc, argv);
  const char *eal[] = {"dataplane_tests", "-l", "0", "--no-huge", "--no-shconf", "--no-telemetry", "-m", "512", "--no-pci",
                       "--log-level", "lib.eal:error"};
  if (rte_eal_init(int(sizeof eal / sizeof *eal), const_cast<char **>(eal)) < 0) {
    fprintf(stderr, "dataplane_tests: cannot initialise DPDK's EAL\n");
    return 1;
  }
  // EAL makes its runtime directory (/var/run/dpdk/rte for root) even with --no-shconf: removed
  // at the end when it is empty, so that test runs leave nothing behind.
  const std::string runtimeDir = rte_eal_get_runtime_dir();
  int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  rmdir(runtimeDir.c_str());
  return rc;
}
