//===- runtime/agent/Host.cpp - What a server has: cores, NICs (FEATURES_REP) ---------------------===//
///
/// \file
/// Cores from /proc/cpuinfo and the agent's CPU affinity; NICs from --nic ID=DEVARGS, described
/// from sysfs without touching them (DPDK probes a port only when a chain's data plane starts):
/// a virtual device's driver is its name without the trailing number (net_af_packet0 →
/// net_af_packet) and its interface the iface= argument; a PCI device's driver is the one bound
/// to it (vfio-pci, mlx5_core, ...). Also SERVER_REGISTER's HTTP client.
//===----------------------------------------------------------------------------------------===//
#include "runtime/agent/Agent.h"

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sched.h>
#include <set>
#include <sstream>
#include <sys/utsname.h>
#include <unistd.h>

namespace metron::agent {
namespace {

std::string firstLine(const std::string &path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

/// "0-3,8" → {0,1,2,3,8}; false on anything else.
bool parseCpuList(const std::string &s, std::set<unsigned> &out) {
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    unsigned a = 0, b = 0;
    char dash = 0, extra = 0;
    int n = sscanf(part.c_str(), "%u%c%u%c", &a, &dash, &b, &extra);
    if (n == 1 && part.find_first_not_of("0123456789") == std::string::npos) b = a;
    else if (n != 3 || dash != '-' || b < a || b - a > 4096) return false;
    for (unsigned c = a; c <= b; ++c) out.insert(c);
  }
  return !out.empty();
}

bool isPci(const std::string &d) {
  // DDDD:BB:DD.F or BB:DD.F
  unsigned a, b, c, f;
  char x;
  return sscanf(d.c_str(), "%x:%x:%x.%x%c", &a, &b, &c, &f, &x) == 4 || sscanf(d.c_str(), "%x:%x.%x%c", &b, &c, &f, &x) == 3;
}

} // namespace

bool discoverHost(const std::string &serverId, const std::vector<std::string> &nics, const std::string &cores,
                  unsigned mainCore, Host &h, std::string &err) {
  h.serverId = serverId;
  h.manufacturer = firstLine("/sys/class/dmi/id/sys_vendor");
  h.product = firstLine("/sys/class/dmi/id/product_name");
  h.serial = firstLine("/sys/class/dmi/id/product_serial"); // root only; "" otherwise
  struct utsname u {};
  if (uname(&u) == 0) h.kernel = std::string(u.sysname) + " " + u.release;
  h.swVersion = "metron-agent 0.1.0";

  // /proc/cpuinfo: vendor, model, MHz per processor.
  std::map<unsigned, Core> info;
  {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    Core cur;
    bool have = false;
    auto flush = [&] {
      if (have) info[cur.id] = cur;
      cur = Core{};
      have = false;
    };
    while (std::getline(in, line)) {
      size_t colon = line.find(':');
      if (line.empty()) {
        flush();
        continue;
      }
      if (colon == std::string::npos) continue;
      std::string k = line.substr(0, colon), v = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
      while (!k.empty() && (k.back() == '\t' || k.back() == ' ')) k.pop_back();
      if (k == "processor") {
        flush();
        cur.id = unsigned(std::stoul(v));
        have = true;
      } else if (k == "vendor_id") cur.vendor = v;
      else if (k == "model name") cur.model = v;
      else if (k == "cpu MHz") cur.mhz = std::stod(v);
    }
    flush();
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  std::set<unsigned> allowed;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (unsigned c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) allowed.insert(c);
  std::set<unsigned> want = allowed;
  if (!cores.empty()) {
    want.clear();
    if (!parseCpuList(cores, want)) {
      err = "--cores: '" + cores + "' is not a CPU list (e.g. 1-3,6)";
      return false;
    }
    for (unsigned c : want)
      if (!allowed.count(c)) {
        err = "--cores: CPU " + std::to_string(c) + " is not one this process may run on (allowed: " +
              std::to_string(*allowed.begin()) + "-" + std::to_string(*allowed.rbegin()) + ")";
        return false;
      }
  }
  if (!allowed.count(mainCore)) {
    err = "--main-core: CPU " + std::to_string(mainCore) + " is not one this process may run on";
    return false;
  }
  h.mainCore = mainCore;
  // By default chains get every CPU but the main core (the agent and the data planes' main
  // lcores run there), unless that is the only one.
  if (cores.empty() && want.size() > 1) want.erase(mainCore);
  for (unsigned c : want) {
    Core k = info.count(c) ? info[c] : Core{};
    k.id = c;
    h.cores.push_back(k);
  }

  std::set<std::string> ids, devices;
  for (const auto &spec : nics) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      err = "--nic wants ID=DEVARGS (nic0=net_af_packet0,iface=veth1 or nic0=0000:01:00.0), not '" + spec + "'";
      return false;
    }
    Nic n;
    n.id = spec.substr(0, eq);
    n.devargs = spec.substr(eq + 1);
    if (!validId(n.id, 64, false)) {
      err = "--nic: '" + n.id + "' is not a NIC ID (1-64 of A-Z a-z 0-9 _ . : -)";
      return false;
    }
    if (!ids.insert(n.id).second) {
      err = "--nic: NIC '" + n.id + "' is given twice";
      return false;
    }
    n.device = n.devargs.substr(0, n.devargs.find(','));
    if (!devices.insert(n.device).second) {
      err = "--nic " + n.id + ": device '" + n.device + "' belongs to another NIC already";
      return false;
    }
    if (n.device.rfind("net_", 0) == 0) {
      n.kind = "virtual";
      n.driver = n.device;
      while (!n.driver.empty() && isdigit(static_cast<unsigned char>(n.driver.back()))) n.driver.pop_back();
      std::stringstream ss(n.devargs);
      std::string kv;
      while (std::getline(ss, kv, ','))
        if (kv.rfind("iface=", 0) == 0) n.iface = kv.substr(6);
    } else if (isPci(n.device)) {
      n.kind = "pci";
      std::string dev = n.device.size() < 12 ? "0000:" + n.device : n.device;
      std::error_code ec;
      auto link = std::filesystem::read_symlink("/sys/bus/pci/devices/" + dev + "/driver", ec);
      if (!std::filesystem::exists("/sys/bus/pci/devices/" + dev)) {
        err = "--nic " + n.id + ": there is no PCI device " + dev + " (lspci -D lists them)";
        return false;
      }
      n.driver = ec ? "none (bind it: dpdk-devbind.py)" : link.filename().string();
      for (const auto &e : std::filesystem::directory_iterator("/sys/bus/pci/devices/" + dev + "/net", ec))
        n.iface = e.path().filename().string();
    } else {
      err = "--nic " + n.id + ": '" + n.device + "' is neither a DPDK virtual device (net_...) nor a PCI address";
      return false;
    }
    if (!n.iface.empty()) {
      n.mac = firstLine("/sys/class/net/" + n.iface + "/address");
      std::string sp = firstLine("/sys/class/net/" + n.iface + "/speed");
      if (!sp.empty() && sp.find_first_not_of("-0123456789") == std::string::npos) n.speedMbps = std::stoll(sp);
    }
    h.nics.push_back(std::move(n));
  }
  return true;
}

RegisterFn httpRegister(std::string token, unsigned timeoutMs) {
  return [token, timeoutMs](const std::string &host, unsigned port, const json &msg) -> std::string {
    httplib::Client cli(host.find(':') != std::string::npos ? "[" + host + "]" : host, int(port));
    cli.set_connection_timeout(std::chrono::milliseconds(timeoutMs));
    cli.set_read_timeout(std::chrono::milliseconds(timeoutMs));
    cli.set_bearer_token_auth(token);
    auto res = cli.Post("/metron/server_register", msg.dump(), "application/json");
    if (!res) return "no answer (" + httplib::to_string(res.error()) + ")";
    if (res->status / 100 != 2) return "HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 200);
    return "";
  };
}

} // namespace metron::agent
