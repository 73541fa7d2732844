//===- runtime/dataplane/EalFiles.h - What a DPDK primary process leaves in the file system ---*- C++ -*-===//
///
/// \file
/// A DPDK primary process with hugepages and a shared configuration (what secondary processes
/// need) leaves, after rte_eal_cleanup, its hugepage files (`<prefix>map_*` in every hugetlbfs
/// mount; they keep the pages reserved) and its runtime directory (/var/run/dpdk/<prefix>, with
/// the configuration secondaries attach to). removeEalFiles() removes both for a file prefix:
/// the data plane calls it when it ends, metronc run after the data plane ended (also when it
/// was killed). Only for a prefix nobody else uses: EAL's lock on the configuration keeps a
/// second primary from sharing one, and metronc run makes one per run.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <string>
#include <unistd.h>

namespace metron::dp {

/// EAL's runtime directory for \p prefix (eal_get_runtime_dir's rule: /var/run as root, else
/// $XDG_RUNTIME_DIR, else /tmp).
inline std::string ealRuntimeDir(const std::string &prefix) {
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  std::string base = getuid() == 0 ? "/var/run" : xdg ? xdg : "/tmp";
  return base + "/dpdk/" + prefix;
}

/// Removes \p prefix's hugepage files and its runtime directory \p runtimeDir (none when
/// empty); the number of files removed. Nothing else: entries are matched by name.
inline unsigned removeEalFiles(const std::string &prefix, const std::string &runtimeDir) {
  if (prefix.empty() || prefix.find('/') != std::string::npos) return 0;
  unsigned removed = 0;
  auto removeIn = [&](const std::string &dir, const std::string &start) {
    DIR *d = opendir(dir.c_str());
    if (!d) return;
    while (dirent *e = readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == ".." || n.rfind(start, 0) != 0) continue;
      if (unlink((dir + "/" + n).c_str()) == 0) ++removed;
    }
    closedir(d);
  };
  if (FILE *m = fopen("/proc/mounts", "r")) {
    char dev[512], dir[4096], type[64];
    while (fscanf(m, "%511s %4095s %63s %*[^\n]", dev, dir, type) == 3)
      if (std::string(type) == "hugetlbfs") removeIn(dir, prefix + "map_");
    fclose(m);
  }
  if (!runtimeDir.empty()) {
    removeIn(runtimeDir, "");
    rmdir(runtimeDir.c_str());
  }
  return removed;
}

} // namespace metron::dp
