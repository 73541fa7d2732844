//===- runtime/agent/Runner.cpp - Starting, supervising and stopping data planes ------------------===//
///
/// \file
/// A chain's data plane is the executable `metronc compile` wrote for this server
/// (metronc-dataplane(8)), started as a process of its own — the paper's slave — with
///  - EAL lcore 0 (the main lcore: the NIC model's rx/tx, statistics) on the agent's main core,
///    lcores 1..N (the chain's cores, l3fwd-style workers) on the cores the agent gave it
///    (--lcores 0@M,1@C1,...), its own --file-prefix, --no-telemetry, the agent's --eal-args;
///  - each NIC as --vdev (a virtual device such as net_af_packet) or -a (a PCI address);
///  - --port CHAINPORT=DEVICE, --rules (the NIC's rules as the agent holds them),
///    --stats-json with --stats-interval 1000: the agent reads the file for SC_STATS and
///    GLOBAL_STATS, and its first appearance says the data plane is running.
/// Everything lives in STATE_DIR/chains/ID (0700), removed when the chain stops. A supervisor
/// thread reaps the processes and logs an exit nobody asked for.
//===----------------------------------------------------------------------------------------===//
#include "runtime/agent/Agent.h"
#include "runtime/dataplane/EalFiles.h"

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace metron::agent {
namespace {

namespace fs = std::filesystem;

std::string describeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "stopped";
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The last \p n lines of a log, for error messages.
std::string tail(const std::string &path, size_t n) {
  std::string s = readFile(path);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  size_t pos = s.size();
  for (size_t k = 0; k < n && pos != std::string::npos && pos > 0; ++k) pos = s.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? s : s.substr(pos + 1);
}

json readStats(const std::string &path) {
  std::string s = readFile(path);
  if (s.empty()) return nullptr;
  json j = json::parse(s, nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

class ControlOnlyRunner final : public Runner {
public:
  bool start(const Launch &, std::string &) override { return true; }
  json stop(const std::string &) override { return nullptr; }
  ProcessState state(const std::string &) override { return {}; }
  bool dataplane() const override { return false; }
};

class ProcessRunner final : public Runner {
public:
  ProcessRunner(std::string dir, std::vector<std::string> eal, unsigned timeoutMs)
      : dir_(std::move(dir)), eal_(std::move(eal)), timeoutMs_(timeoutMs) {
    reaper_ = std::thread([this] { reap(); });
  }
  ~ProcessRunner() override {
    std::vector<std::string> ids;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto &[id, p] : procs_) ids.push_back(id);
    }
    for (const auto &id : ids) stop(id);
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    reaper_.join();
  }

  bool start(const Launch &l, std::string &err) override {
    const std::string dir = dir_ + "/chains/" + l.id;
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    if (ec || chmod(dir.c_str(), 0700) != 0) {
      err = "cannot create '" + dir + "': " + (ec ? ec.message() : strerror(errno));
      return false;
    }
    auto cleanup = [&] { fs::remove_all(dir, ec); };
    const std::string exe = dir + "/dataplane", rules = dir + "/rules.rte_flow.json", stats = dir + "/stats.json",
                      log = dir + "/log";
    if (!writeFile(exe, l.executable, 0700, err) || (!l.rules.empty() && !writeFile(rules, l.rules, 0600, err))) {
      cleanup();
      return false;
    }
    std::vector<std::string> args = {exe};
    std::string lcores = "0@" + std::to_string(l.mainCpu);
    for (size_t k = 0; k < l.cpus.size(); ++k) lcores += "," + std::to_string(k + 1) + "@" + std::to_string(l.cpus[k]);
    // No telemetry socket: nothing reads it, and it would stay in the prefix's runtime
    // directory, which the data plane removes when it ends.
    args.insert(args.end(), {"--lcores", lcores, "--file-prefix", "metron-" + l.id, "--no-telemetry"});
    args.insert(args.end(), eal_.begin(), eal_.end());
    std::vector<std::string> seen;
    for (const auto &[port, nic] : l.ports) {
      if (std::find(seen.begin(), seen.end(), nic.id) != seen.end()) continue;
      seen.push_back(nic.id);
      if (nic.kind == "virtual") args.push_back("--vdev=" + nic.devargs);
      else args.insert(args.end(), {"-a", nic.devargs});
    }
    args.push_back("--");
    for (const auto &[port, nic] : l.ports) args.insert(args.end(), {"--port", port + "=" + nic.device});
    if (!l.rules.empty()) args.insert(args.end(), {"--rules", rules});
    args.insert(args.end(), {"--dispatch", l.dispatch, "--stats", "none", "--stats-json", stats, "--stats-interval", "1000"});

    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setpgroup(&attr, 0); // its own group: a ^C at the agent's terminal is the agent's
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, exe.c_str(), &fa, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      err = "cannot start '" + exe + "': " + strerror(rc);
      cleanup();
      return false;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      procs_[l.id] = Proc{pid, true, "", dir, false};
    }
    // Running once the first statistics are there; failed if it exits first or takes too long.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs_);
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        Proc &p = procs_[l.id];
        if (p.running) poll(l.id, p);
        if (!p.running) {
          err = p.exit + "; its log ends:\n" + tail(log, 6);
          procs_.erase(l.id);
          cleanup();
          return false;
        }
      }
      if (fs::exists(stats)) return true;
      if (std::chrono::steady_clock::now() > deadline) {
        std::string t = tail(log, 6);
        stop(l.id);
        err = "no statistics after " + std::to_string(timeoutMs_) + " ms (--start-timeout); it was stopped; its log ends:\n" + t;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  json stop(const std::string &id) override {
    pid_t pid;
    std::string dir;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = procs_.find(id);
      if (it == procs_.end()) return nullptr;
      it->second.stopping = true;
      pid = it->second.pid;
      dir = it->second.dir;
      if (it->second.running) kill(pid, SIGTERM);
    }
    // The data plane stops its workers, writes its final statistics and exits; 5 s grace.
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        Proc &p = procs_[id];
        if (p.running) poll(id, p);
        if (!p.running) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    json stats;
    {
      std::lock_guard<std::mutex> lock(mu_);
      Proc &p = procs_[id];
      if (p.running) {
        kill(pid, SIGKILL);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        p.running = false;
        p.exit = "killed after 5 s without stopping";
        gone(id);
      }
      stats = readStats(dir + "/stats.json");
      if (stats.is_object()) stats["exit"] = p.exit;
      procs_.erase(id);
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    return stats;
  }

  ProcessState state(const std::string &id) override {
    std::lock_guard<std::mutex> lock(mu_);
    ProcessState s;
    auto it = procs_.find(id);
    if (it == procs_.end()) return s;
    Proc &p = it->second;
    if (p.running) poll(id, p);
    s.running = p.running;
    s.pid = p.pid;
    s.exit = p.exit;
    s.stats = readStats(p.dir + "/stats.json");
    if (!p.running) s.logTail = tail(p.dir + "/log", 6);
    return s;
  }

  bool dataplane() const override { return true; }

private:
  struct Proc {
    pid_t pid = -1;
    bool running = false;
    std::string exit, dir;
    bool stopping = false;
  };

  static bool writeFile(const std::string &path, const std::string &data, mode_t mode, std::string &err) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
      err = "cannot write '" + path + "': " + strerror(errno);
      return false;
    }
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = write(fd, data.data() + off, data.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        err = "cannot write '" + path + "': " + strerror(errno);
        close(fd);
        return false;
      }
      off += size_t(n);
    }
    if (close(fd) != 0) {
      err = "cannot write '" + path + "': " + strerror(errno);
      return false;
    }
    return true;
  }

  /// Reaps \p p if it has exited (mu_ held); an exit nobody asked for is logged here, wherever
  /// it is noticed first (the reaper, a request's state(), a start that waits).
  void poll(const std::string &id, Proc &p) {
    int status = 0;
    pid_t r = waitpid(p.pid, &status, WNOHANG);
    if (r == p.pid) {
      p.running = false;
      p.exit = describeStatus(status);
    } else if (r < 0 && errno == ECHILD) {
      p.running = false;
      p.exit = "gone (reaped elsewhere)";
    }
    if (!p.running) gone(id);
    if (!p.running && !p.stopping)
      fprintf(stderr, "metron-agent: the data plane of chain '%s' (pid %d) %s\n", id.c_str(), int(p.pid), p.exit.c_str());
  }

  /// After a data plane ended: EAL's runtime directory of its prefix, which a data plane that was
  /// killed or failed early could not remove, goes when it is empty.
  static void gone(const std::string &id) { rmdir(dp::ealRuntimeDir("metron-" + id).c_str()); }

  void reap() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!quit_) {
      cv_.wait_for(lock, std::chrono::milliseconds(250));
      for (auto &[id, p] : procs_)
        if (p.running) poll(id, p);
    }
  }

  std::string dir_;
  std::vector<std::string> eal_;
  unsigned timeoutMs_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool quit_ = false;
  std::map<std::string, Proc> procs_;
  std::thread reaper_;
};

} // namespace

std::unique_ptr<Runner> makeControlOnlyRunner() { return std::make_unique<ControlOnlyRunner>(); }

std::unique_ptr<Runner> makeProcessRunner(const std::string &stateDir, std::vector<std::string> ealArgs,
                                          unsigned startTimeoutMs) {
  return std::make_unique<ProcessRunner>(stateDir, std::move(ealArgs), startTimeoutMs);
}

} // namespace metron::agent
