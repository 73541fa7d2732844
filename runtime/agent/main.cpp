//===- runtime/agent/main.cpp - metron-agent: the daemon (man/metron-agent.8) ---------------------===//
///
/// \file
/// The transport around Agent::handle(): cpp-httplib's server (TLS with --tls-cert/--tls-key),
/// the token file, SERVER_REGISTER at start with retries, and a stop on SIGINT/SIGTERM that
/// stops every chain's data plane first.
//===----------------------------------------------------------------------------------------===//
#include "runtime/agent/Agent.h"
#include "runtime/agent/Client.h"

#include <CLI/CLI.hpp>
#include <httplib.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace metron::agent;

namespace {

bool splitHostPort(const std::string &s, std::string &host, int &port) {
  size_t c = s.rfind(':');
  if (c == std::string::npos || c == 0 || c + 1 == s.size()) return false;
  host = s.substr(0, c);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string p = s.substr(c + 1);
  if (p.find_first_not_of("0123456789") != std::string::npos || p.size() > 5) return false;
  port = std::stoi(p);
  return port <= 65535;
}

} // namespace

int main(int argc, char **argv) {
  // SIGINT and SIGTERM are blocked in every thread (this one, before any other exists) but the
  // one that waits for them; data planes get an empty mask when spawned.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{"metron-agent: the Metron protocol's server side (paper Appendix A) — see metron-agent(8)"};
  std::string listen, tokenFile, controller, advertise, serverId, stateDir = "/var/lib/metron-agent", cores, eal,
                                                                   tlsCert, tlsKey, portFile;
  std::vector<std::string> nics;
  bool noDataplane = false;
  int mainCore = -1;
  unsigned startTimeout = 30000;
  Limits limits;
  app.add_option("--listen", listen, "ADDR:PORT to serve the REST API on (port 0: any free port)")->required();
  app.add_option("--token-file", tokenFile, "file whose first line is the bearer token (mode 0600)")->required();
  app.add_option("--controller", controller, "ADDR:PORT of a controller to register with (SERVER_REGISTER)");
  app.add_option("--advertise", advertise, "ADDR:PORT controllers reach this agent at (default: --listen)");
  app.add_option("--server-id", serverId, "this server's ID (default: the host name)");
  app.add_option("--nic", nics, "a DPDK port this agent owns: ID=DEVARGS (nic0=net_af_packet0,iface=veth1, nic0=0000:01:00.0)");
  app.add_option("--cores", cores, "CPUs chains may use, e.g. 1-7 (default: every CPU this process may run on but the main core)");
  app.add_option("--main-core", mainCore, "CPU of every data plane's main lcore (default: the first allowed CPU)");
  app.add_flag("--no-dataplane", noDataplane, "control only: keep chains and rules, start no data plane");
  app.add_option("--state-dir", stateDir, "where chains' executables, rules, logs and statistics live")->capture_default_str();
  app.add_option("--eal-args", eal, "EAL options for every data plane, e.g. \"--no-huge -m 512\" without hugepages");
  app.add_option("--start-timeout", startTimeout, "ms to wait for a data plane to run")->capture_default_str()->check(CLI::Range(100u, 600000u));
  app.add_option("--max-body", limits.maxBody, "largest request body, bytes")->capture_default_str()->check(CLI::Range(size_t(1024), size_t(1) << 32));
  app.add_option("--max-chains", limits.maxChains, "most chains at once")->capture_default_str()->check(CLI::Range(size_t(1), size_t(4096)));
  app.add_option("--tls-cert", tlsCert, "serve HTTPS with this certificate (PEM) ...");
  app.add_option("--tls-key", tlsKey, "... and this private key");
  app.add_option("--port-file", portFile, "write the port it listens on to this file once it does");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto die = [](const std::string &m, int rc = 2) {
    fprintf(stderr, "metron-agent: error: %s\n", m.c_str());
    return rc;
  };
  std::string host;
  int port = 0;
  if (!splitHostPort(listen, host, port)) return die("--listen wants ADDR:PORT, not '" + listen + "'");
  if (tlsCert.empty() != tlsKey.empty()) return die("--tls-cert and --tls-key go together");
  std::string ctlHost;
  int ctlPort = 0;
  if (!controller.empty() && (!splitHostPort(controller, ctlHost, ctlPort) || ctlPort == 0))
    return die("--controller wants ADDR:PORT, not '" + controller + "'");
  AgentConfig cfg;
  cfg.limits = limits;
  std::string err;
  if (!readTokenFile(tokenFile, "--token-file", cfg.token, err)) return die(err);
  if (serverId.empty()) {
    char hn[256] = {};
    gethostname(hn, sizeof hn - 1);
    serverId = hn;
  }
  if (!validId(serverId, 64, false)) return die("--server-id: '" + serverId + "' is not an ID (1-64 of A-Z a-z 0-9 _ . : -)");
  if (mainCore < 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    for (int c = 0; c < CPU_SETSIZE && mainCore < 0; ++c)
      if (CPU_ISSET(c, &set)) mainCore = c;
  }
  if (!discoverHost(serverId, nics, cores, unsigned(mainCore), cfg.host, err)) return die(err);

  std::unique_ptr<Runner> runner;
  if (noDataplane) {
    runner = makeControlOnlyRunner();
  } else {
    std::error_code ec;
    std::filesystem::create_directories(stateDir + "/chains", ec);
    if (ec || access((stateDir + "/chains").c_str(), W_OK) != 0)
      return die("--state-dir: cannot write '" + stateDir + "/chains'" + (ec ? ": " + ec.message() : ""));
    chmod(stateDir.c_str(), 0700);
    std::vector<std::string> ealArgs;
    std::stringstream ss(eal);
    for (std::string a; ss >> a;) ealArgs.push_back(a);
    runner = makeProcessRunner(stateDir, ealArgs, startTimeout);
  }

  std::unique_ptr<httplib::Server> svr;
  if (!tlsCert.empty()) {
    auto s = std::make_unique<httplib::SSLServer>(tlsCert.c_str(), tlsKey.c_str());
    if (!s->is_valid()) return die("cannot use --tls-cert '" + tlsCert + "' with --tls-key '" + tlsKey + "'");
    svr = std::move(s);
  } else {
    svr = std::make_unique<httplib::Server>();
  }
  // Not cpp-httplib's default options, which add SO_REUSEPORT: a second agent on the same port
  // would then listen too, and the kernel would split the requests between the two.
  svr->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  errno = 0;
  if (port == 0) port = svr->bind_to_any_port(host);
  else if (!svr->bind_to_port(host, port)) port = -1;
  if (port <= 0) return die("cannot listen on " + listen + (errno ? std::string(": ") + strerror(errno) : ""), 1);
  std::string hostForUrl = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (advertise.empty()) {
    if (!controller.empty() && (host == "0.0.0.0" || host == "::"))
      return die("--listen " + listen + " is every address: say which one controllers reach with --advertise ADDR:PORT");
    advertise = hostForUrl + ":" + std::to_string(port);
  }
  cfg.advertise = advertise;
  const std::string token = cfg.token;
  const size_t ncores = cfg.host.cores.size(), nnics = cfg.host.nics.size();
  Agent agent(std::move(cfg), std::move(runner), httpRegister(token, 3000));

  // Requests. The body limit is the transport's: a Content-Length over it is refused (413)
  // before the body is read.
  svr->set_payload_max_length(limits.maxBody);
  svr->set_read_timeout(30, 0);
  svr->set_write_timeout(30, 0);
  auto serve = [&agent](const httplib::Request &hr, httplib::Response &res) {
    Request r;
    r.method = hr.method;
    r.path = hr.path;
    r.body = hr.body;
    for (const auto &[k, v] : hr.headers) {
      std::string lk = k;
      for (auto &c : lk) c = char(tolower(static_cast<unsigned char>(c)));
      r.headers[lk] = v;
    }
    Response out = agent.handle(r);
    res.status = out.status;
    for (const auto &[k, v] : out.headers) res.set_header(k, v);
    res.set_content(out.body.dump(1) + "\n", "application/json");
  };
  svr->Get(".*", serve);
  svr->Post(".*", serve);
  svr->Put(".*", serve);
  svr->Delete(".*", serve);
  svr->set_error_handler([&limits, &serverId](const httplib::Request &, httplib::Response &res) {
    if (!res.body.empty()) return;
    std::string why = res.status == 413 ? "the body is over " + std::to_string(limits.maxBody) + " bytes (--max-body)"
                                        : "HTTP " + std::to_string(res.status);
    json j = {{"server_id", serverId}, {"error", why}};
    res.set_content(j.dump(1) + "\n", "application/json");
  });
  svr->set_exception_handler([&serverId](const httplib::Request &, httplib::Response &res, std::exception_ptr ep) {
    std::string why = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception &e) {
      why = std::string("internal error: ") + e.what();
    } catch (...) {
    }
    res.status = 500;
    res.set_content(json({{"server_id", serverId}, {"error", why}}).dump(1) + "\n", "application/json");
  });

  if (!portFile.empty()) {
    std::ofstream pf(portFile + ".tmp");
    pf << port << "\n";
    pf.close();
    if (!pf || rename((portFile + ".tmp").c_str(), portFile.c_str()) != 0) return die("cannot write --port-file '" + portFile + "'", 1);
  }
  // SIGINT/SIGTERM stop the server; the chains are stopped below.
  std::atomic<bool> stopping{false}, listening{true};
  std::thread sigThread([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (!stopping) fprintf(stderr, "metron-agent: %s: stopping\n", strsignal(sig));
    stopping = true;
    // Again until the server is down: a signal may come before it listens.
    while (listening) {
      svr->stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  fprintf(stderr, "metron-agent: server %s listening on %s://%s:%d (%zu core%s for chains, main core %d, %zu NIC%s, %s)\n",
          serverId.c_str(), tlsCert.empty() ? "http" : "https", hostForUrl.c_str(), port, ncores, ncores == 1 ? "" : "s",
          mainCore, nnics, nnics == 1 ? "" : "s", noDataplane ? "control only (--no-dataplane)" : "data planes on");

  // SERVER_REGISTER with the controller, retried (1 s, 2 s, ... 30 s apart) until it answers.
  std::thread regThread;
  if (!controller.empty()) {
    regThread = std::thread([&, ch = ctlHost, cp = ctlPort] {
      unsigned wait = 1;
      while (!stopping) {
        std::string why = agent.associate(ch, unsigned(cp));
        if (why.empty()) {
          fprintf(stderr, "metron-agent: registered with the controller at %s\n", controller.c_str());
          return;
        }
        fprintf(stderr, "metron-agent: SERVER_REGISTER to %s: %s; again in %u s\n", controller.c_str(), why.c_str(), wait);
        for (unsigned i = 0; i < wait * 10 && !stopping; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        wait = std::min(wait * 2, 30u);
      }
    });
  }

  bool ok = svr->listen_after_bind();
  listening = false;
  if (!stopping) {
    // The server failed by itself: wake the signal thread so that it can be joined.
    stopping = true;
    kill(getpid(), SIGTERM);
  }
  sigThread.join();
  if (regThread.joinable()) regThread.join();
  agent.shutdown();
  fprintf(stderr, "metron-agent: stopped\n");
  return ok ? 0 : 1;
}
