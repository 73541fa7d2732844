#!/usr/bin/python3
"""agent_test.py — metron-agent, the binary, over real HTTP on loopback.

What tests/unit/agent_test.cpp cannot see: the command line and the token file, the transport
(401 before anything, 413 from Content-Length, the JSON error bodies), SERVER_REGISTER and the
three-way handshake with a controller (a small HTTP server here that answers by asking
FEATURES_REQ), and real data planes: a chain compiled by metronc, deployed through the agent
on DPDK net_pcap ports, must emit exactly the frames the reference interpreter emits; a data
plane that cannot start must leave no rule, file or process behind; SIGTERM stops the agent and
its data planes.

usage: agent_test.py METRON_AGENT METRONC SOURCE_DIR DATA_DIR
Every agent and data plane this starts is stopped by PID at the end.
"""
import atexit, base64, hashlib, http.client, http.server, json, os, signal, struct, subprocess, sys, tempfile, threading, time

AGENT, METRONC, SRC, DATA = sys.argv[1:5]
TMP = tempfile.mkdtemp(prefix="metron-agent-test.")
TOKEN = base64.b64encode(os.urandom(24)).decode()
EAL = "--no-huge --no-shconf -m 256 --no-pci"
procs = []
failures = []
passed = 0


def stop_all():
    """Stops every agent this started and every data plane of its state directories, by PID;
    also when the test ends early (an exception, SystemExit): registered with atexit."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    r = subprocess.run(["pgrep", "-f", TMP + "/"], capture_output=True, text=True)
    for pid in (int(x) for x in r.stdout.split()):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


atexit.register(stop_all)


def check(cond, what, detail=""):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what + (": " + str(detail)[:2000] if detail else ""))
        print("FAIL", what, str(detail)[:2000], flush=True)


def write(path, data, mode=0o600):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)
    return path


TOKEN_FILE = write(os.path.join(TMP, "token"), TOKEN + "\n")


def start_agent(name, *args, wait=True):
    port_file = os.path.join(TMP, name + ".port")
    log = open(os.path.join(TMP, name + ".log"), "w")
    p = subprocess.Popen([AGENT, "--listen", "127.0.0.1:0", "--port-file", port_file, "--token-file", TOKEN_FILE,
                          "--server-id", name, *args], stdout=log, stderr=subprocess.STDOUT)
    procs.append(p)
    if not wait:
        return p, None
    for _ in range(200):
        if os.path.exists(port_file):
            return p, int(open(port_file).read())
        if p.poll() is not None:
            break
        time.sleep(0.02)
    raise SystemExit("metron-agent %s did not start: %s" % (name, open(os.path.join(TMP, name + ".log")).read()))


def request(port, method, path, body=None, token=TOKEN, ctype="application/json", raw=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {}
    if token is not None:
        headers["Authorization"] = "Bearer " + token
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None and ctype:
        headers["Content-Type"] = ctype
    c.request(method, path, body=data, headers=headers)
    r = c.getresponse()
    text = r.read().decode()
    try:
        j = json.loads(text)
    except ValueError:
        j = {"unparsed": text}
    return r.status, j, dict(r.getheaders())


def cli_rejects(args, text, what):
    r = subprocess.run([AGENT, *args], capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and text in r.stderr, what, "rc %d: %s" % (r.returncode, r.stderr))


# ---- the command line -------------------------------------------------------------------------
open_token = write(os.path.join(TMP, "open-token"), TOKEN, 0o644)
short_token = write(os.path.join(TMP, "short-token"), "abc")
cli_rejects(["--listen", "127.0.0.1:0", "--token-file", open_token, "--no-dataplane"], "has mode 0644: others can read the token",
            "a token file others can read is refused")
cli_rejects(["--listen", "127.0.0.1:0", "--token-file", short_token, "--no-dataplane"], "use at least 16",
            "a short token is refused")
cli_rejects(["--listen", "127.0.0.1:0", "--token-file", TMP + "/none", "--no-dataplane"], "cannot read", "a missing token file")
cli_rejects(["--listen", "nowhere", "--token-file", TOKEN_FILE, "--no-dataplane"], "--listen wants ADDR:PORT", "a bad --listen")
cli_rejects(["--listen", "127.0.0.1:0", "--token-file", TOKEN_FILE, "--no-dataplane", "--nic", "nic0"], "--nic wants ID=DEVARGS",
            "a bad --nic")
cli_rejects(["--listen", "127.0.0.1:0", "--token-file", TOKEN_FILE, "--no-dataplane", "--nic", "a=net_null0", "--nic",
             "b=net_null0"], "belongs to another NIC", "one device for two NICs")
cli_rejects(["--listen", "127.0.0.1:0", "--token-file", TOKEN_FILE, "--no-dataplane", "--cores", "0-x"], "not a CPU list",
            "a bad --cores")
cli_rejects(["--listen", "0.0.0.0:0", "--token-file", TOKEN_FILE, "--no-dataplane", "--controller", "127.0.0.1:9"],
            "--advertise", "a wildcard --listen with a controller needs --advertise")
cli_rejects(["--token-file", TOKEN_FILE], "--listen is required", "--listen is required")

# ---- the transport, on a control-only agent ---------------------------------------------------
ctl, port = start_agent("ctl", "--no-dataplane", "--max-body", "4096", "--nic", "nic0=net_null0")
r = subprocess.run([AGENT, "--listen", "127.0.0.1:%d" % port, "--token-file", TOKEN_FILE, "--no-dataplane"],
                   capture_output=True, text=True, timeout=30)
check(r.returncode == 1 and "cannot listen on 127.0.0.1:%d: Address already in use" % port in r.stderr,
      "a port in use: exit 1, cannot listen", "rc %d: %s" % (r.returncode, r.stderr))
a_file = write(os.path.join(TMP, "a-file"), "x")
cli_rejects(["--listen", "127.0.0.1:0", "--token-file", TOKEN_FILE, "--state-dir", a_file], "--state-dir: cannot write '%s/chains'" % a_file,
            "a --state-dir that is a file is refused")
status, body, headers = request(port, "GET", "/metron/server_resources", token=None)
check(status == 401 and "no bearer token" in body.get("error", ""), "no token: 401", body)
check(headers.get("WWW-Authenticate") == 'Bearer realm="metron-agent"', "401 names the scheme", headers)
status, body, _ = request(port, "GET", "/metron/server_resources", token=TOKEN[:-1] + ("A" if TOKEN[-1] != "A" else "B"))
check(status == 401 and body.get("error") == "wrong token", "wrong token: 401", body)
status, body, _ = request(port, "GET", "/metron/nothing", token="x" * 30)
check(status == 401, "an unknown resource without the token is a 401, not a 404", body)
status, body, _ = request(port, "POST", "/metron/service_chains", raw=b"{" + b" " * 10000 + b"}")
check(status == 413 and "--max-body" in body.get("error", ""), "an oversized body: 413 with a JSON error", (status, body))
status, body, _ = request(port, "POST", "/metron/service_chains", raw=b'{"id": "a", ')
check(status == 400 and body.get("error", "").startswith("malformed JSON") and body.get("message") == "SC_DEPLOY_REQ",
      "malformed JSON: 400 naming the message", body)
status, body, _ = request(port, "POST", "/metron/rules/nic9", {"rules": []})
check(status == 404 and "no NIC 'nic9'" in body.get("error", ""), "rules for a missing NIC: 404", body)
status, body, _ = request(port, "GET", "/metron/service_chains/nope")
check(status == 404 and "no chain 'nope'" in body.get("error", ""), "an unknown chain: 404", body)
status, body, _ = request(port, "GET", "/metron/server_resources")
check(status == 200 and body.get("message") == "FEATURES_REP" and body["nics"][0]["driver"] == "net_null",
      "FEATURES_REP", body)
status, body, _ = request(port, "GET", "/metron/server_stats")
check(status == 200 and body.get("message") == "GLOBAL_STATS_REP", "GLOBAL_STATS_REP", body)


# ---- TLS ----------------------------------------------------------------------------------------
cert, key = os.path.join(TMP, "cert.pem"), os.path.join(TMP, "key.pem")
r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], capture_output=True, text=True)
check(r.returncode == 0, "openssl makes a test certificate", r.stderr)
tls, tport = start_agent("tls", "--no-dataplane", "--tls-cert", cert, "--tls-key", key)
import ssl
ctx = ssl.create_default_context(cafile=cert)
c = http.client.HTTPSConnection("127.0.0.1", tport, context=ctx, timeout=30)
c.request("GET", "/metron/server_resources", headers={"Authorization": "Bearer " + TOKEN})
resp = c.getresponse()
check(resp.status == 200 and json.loads(resp.read()).get("message") == "FEATURES_REP", "FEATURES_REQ over HTTPS")
try:
    plain = request(tport, "GET", "/metron/server_resources")[0]
except Exception:
    plain = "refused"
check(plain != 200, "no plain HTTP on a TLS agent", plain)
cli_rejects(["--listen", "127.0.0.1:0", "--token-file", TOKEN_FILE, "--no-dataplane", "--tls-cert", TMP + "/none.pem",
             "--tls-key", key], "cannot use --tls-cert", "a missing certificate")

# ---- SERVER_REGISTER → FEATURES_REQ/REP with a controller ------------------------------------
class Controller(http.server.BaseHTTPRequestHandler):
    registrations = []
    features = []

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        msg = json.loads(self.rfile.read(n))
        ok = self.path == "/metron/server_register" and self.headers.get("Authorization") == "Bearer " + TOKEN
        self.send_response(200 if ok else 403)
        self.end_headers()
        if not ok:
            return
        Controller.registrations.append(msg)

        def ask():  # the controller answers SERVER_REGISTER with FEATURES_REQ
            Controller.features.append(request(msg["port"], "GET", "/metron/server_resources")[1])

        threading.Thread(target=ask).start()


ctrl = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Controller)
threading.Thread(target=ctrl.serve_forever, daemon=True).start()
cport = ctrl.server_address[1]
reg, rport = start_agent("reg", "--no-dataplane", "--controller", "127.0.0.1:%d" % cport)
for _ in range(300):
    if Controller.features:
        break
    time.sleep(0.02)
check(len(Controller.registrations) == 1 and Controller.registrations[0].get("message") == "SERVER_REGISTER"
      and Controller.registrations[0].get("server_id") == "reg" and Controller.registrations[0].get("port") == rport,
      "--controller: SERVER_REGISTER with the agent's ID and port", Controller.registrations)
check(Controller.features and Controller.features[0].get("message") == "FEATURES_REP", "the handshake ends with FEATURES_REP",
      Controller.features)
status, body, _ = request(rport, "GET", "/metron/controllers")
check(body.get("controllers") == [{"ip": "127.0.0.1", "port": cport, "status": "registered"}], "GET_CTRL_REP lists it", body)
status, body, _ = request(port, "POST", "/metron/controllers", {"ip": "127.0.0.1", "port": cport})
check(status == 200 and body.get("message") == "SET_CTRL_REP" and len(Controller.registrations) == 2,
      "SET_CTRL_REQ registers with the controller", (status, body))
status, body, _ = request(port, "DELETE", "/metron/controllers", {"ip": "127.0.0.1", "port": cport})
check(status == 200 and body.get("message") == "DEL_CTRL_REP", "DEL_CTRL_REP", body)
# A controller that is not there: 502, nothing associated.
dead = http.server.HTTPServer(("127.0.0.1", 0), Controller)
dport = dead.server_address[1]
dead.server_close()
status, body, _ = request(port, "POST", "/metron/controllers", {"ip": "127.0.0.1", "port": dport})
check(status == 502 and "the controller was not associated" in body.get("error", ""), "SET_CTRL to nobody: 502", body)
check(request(port, "GET", "/metron/controllers")[1].get("controllers") == [], "... and nothing is associated")
ctrl.shutdown()

# ---- real data planes -----------------------------------------------------------------------
example = os.path.join(SRC, "examples/campus-fw-dpi.metron")
capture = os.path.join(DATA, "pcap/tcpreplay/test.pcap")
out = os.path.join(TMP, "out")
r = subprocess.run([METRONC, "compile", example, "--topology", os.path.join(SRC, "tests/agent/one-server.toml"), "-o", out],
                   capture_output=True, text=True, timeout=300)
if r.returncode != 0:
    raise SystemExit("metronc compile failed: " + r.stderr)
exe = open(os.path.join(out, "bin/server1"), "rb").read()
rules = json.load(open(os.path.join(out, "rules/server1.nic0.rte_flow.json")))["rules"]
empty = write(os.path.join(TMP, "empty.pcap"), struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1), 0o644)
agent_out = os.path.join(TMP, "agent-out.pcap")
state = os.path.join(TMP, "state")
dp, dport = start_agent("dp", "--state-dir", state, "--eal-args", EAL, "--max-body", str(1 << 28), "--start-timeout", "120000",
                        "--nic", "nic0=net_pcap0,rx_pcap=%s,tx_pcap=/dev/null" % capture,
                        "--nic", "nic1=net_pcap1,rx_pcap=%s,tx_pcap=%s" % (empty, agent_out),
                        "--nic", "nic2=net_pcap2,rx_pcap=%s/missing.pcap,tx_pcap=/dev/null" % TMP)


def deploy_body(cid, ports):
    return {"id": cid, "cores": 1, "ports": ports,
            "config": {"executable": base64.b64encode(exe).decode(), "sha256": hashlib.sha256(exe).hexdigest()},
            "rules": {"nic": "nic0", "rules": [{"id": "%s/%d" % (cid, i), "rule": x} for i, x in enumerate(rules)]}}


def dataplanes():
    """PIDs of data planes started from this test's state directory."""
    r = subprocess.run(["pgrep", "-f", state + "/chains/"], capture_output=True, text=True)
    return [int(x) for x in r.stdout.split()]


# A data plane that cannot start (its egress NIC's capture is missing): rolled back.
status, body, _ = request(dport, "POST", "/metron/service_chains", deploy_body("broken", {"port0": "nic0", "port1": "nic2"}))
check(status == 502 and "did not start" in body.get("error", "") and "missing.pcap" in body.get("error", "")
      and "its %d rules were removed" % len(rules) in body.get("error", ""), "a failed start: 502 with the data plane's log", body)
check(request(dport, "GET", "/metron/rules/nic0")[1].get("rule_ids") == [], "... its rules are gone")
check(request(dport, "GET", "/metron/service_chains")[1].get("service_chains") == [], "... the chain is not there")
check(os.listdir(os.path.join(state, "chains")) == [], "... nor its files", os.listdir(os.path.join(state, "chains")))
check(dataplanes() == [], "... nor a process")

# A data plane that does not come up in time (its NIC's capture is a FIFO nobody writes: the
# pcap driver's probe blocks): stopped, 502 with its log, nothing left.
fifo = os.path.join(TMP, "never.fifo")
os.mkfifo(fifo)
slow_state = os.path.join(TMP, "slow-state")
slow, sport = start_agent("slow", "--state-dir", slow_state, "--eal-args", EAL, "--max-body", str(1 << 28),
                          "--start-timeout", "1500", "--nic", "nic0=net_pcap0,rx_pcap=%s,tx_pcap=/dev/null" % fifo,
                          "--nic", "nic1=net_pcap1,rx_pcap=%s,tx_pcap=/dev/null" % empty)
t0 = time.time()
status, body, _ = request(sport, "POST", "/metron/service_chains", deploy_body("slow", {"port0": "nic0", "port1": "nic1"}))
check(status == 502 and "no statistics after 1500 ms (--start-timeout); it was stopped" in body.get("error", ""),
      "a data plane that does not start in time: 502, stopped", body)
check(time.time() - t0 < 60, "... answered after the timeout, not later", time.time() - t0)
check(request(sport, "GET", "/metron/service_chains")[1].get("service_chains") == [], "... the chain is not there")
check(subprocess.run(["pgrep", "-f", slow_state + "/chains/"], capture_output=True).returncode == 1, "... nor a process")
slow.terminate()
slow.wait(timeout=30)

# The chain, deployed through the agent, against the reference interpreter.
t0 = time.time()
status, body, _ = request(dport, "POST", "/metron/service_chains", deploy_body("campus", {"port0": "nic0", "port1": "nic1"}))
check(status == 200 and body.get("chain", {}).get("dataplane", {}).get("state") == "running", "SC_DEPLOY_REP: running", body)
print("deploy (%d rules, %d-byte executable): %.0f ms" % (len(rules), len(exe), 1000 * (time.time() - t0)), flush=True)
check(len(dataplanes()) == 1, "one data plane runs")
received = 0
for _ in range(250):
    st = request(dport, "GET", "/metron/service_chains/campus")[1]
    received = (st.get("chain", {}).get("stats") or {}).get("nic", {}).get("received", 0)
    if received == 179:
        break
    time.sleep(0.04)
check(received == 179, "SC_STATS_REP shows the capture's 179 packets received", st)
status, body, _ = request(dport, "GET", "/metron/server_stats")
check(status == 200 and body["cpus"][0]["chain"] == "campus" and "useful_cycles" in body["cpus"][0],
      "GLOBAL_STATS_REP: the core's chain and cycles", body)
status, body, _ = request(dport, "POST", "/metron/rules/nic0", {"rules": [{"id": "x", "rule": rules[0]}]})
check(status == 409 and "running data plane" in body.get("error", ""), "rules of a NIC in use: 409", body)
status, body, _ = request(dport, "DELETE", "/metron/service_chains/campus")
fs = body.get("final_stats") or {}
check(status == 200 and body.get("message") == "SC_DELETE_REP" and len(body.get("rules_deleted", [])) == len(rules)
      and fs.get("stopped_by") == "Terminated" and fs.get("emitted", {}).get("port1") == 132,
      "SC_DELETE_REP: rules deleted, final statistics", body if status != 200 else {k: v for k, v in fs.items() if k != "classes"})
check(dataplanes() == [], "... and the process is gone")
reference = os.path.join(TMP, "reference.pcap")
r = subprocess.run([METRONC, "run", "--reference", example, "--pcap", capture, "--out", reference], capture_output=True,
                   text=True, timeout=300)


def frames(path):
    """The frames of a capture, timestamps aside (net_pcap stamps what it sends)."""
    data, out, off = open(path, "rb").read(), [], 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


got, want = frames(agent_out), frames(reference)
check(r.returncode == 0 and len(want) == 132 and got == want,
      "the agent's data plane emits the reference interpreter's frames", "%d vs %d frames" % (len(got), len(want)))

# A data plane that dies is reported: SC_STATS_REP says how, the agent's log too.
status, body, _ = request(dport, "POST", "/metron/service_chains", deploy_body("dies", {"port0": "nic0", "port1": "nic1"}))
check(status == 200, "deployed again", body)
pid = body.get("chain", {}).get("dataplane", {}).get("pid", -1)
if pid > 0:
    os.kill(pid, signal.SIGKILL)
dp_state = {}
for _ in range(100):
    dp_state = request(dport, "GET", "/metron/service_chains/dies")[1].get("chain", {}).get("dataplane", {})
    if dp_state.get("state") == "exited":
        break
    time.sleep(0.05)
check(dp_state.get("state") == "exited" and dp_state.get("exit") == "killed by signal 9 (Killed)",
      "SC_STATS_REP reports a data plane that was killed", dp_state)
time.sleep(0.5)
check("the data plane of chain 'dies' (pid %d) killed by signal 9" % pid in open(os.path.join(TMP, "dp.log")).read(),
      "the agent logs the exit")
check(request(dport, "DELETE", "/metron/service_chains/dies")[0] == 200, "a dead chain can be deleted")

# SIGTERM with a chain running: the agent stops its data plane, then itself.
status, body, _ = request(dport, "POST", "/metron/service_chains", deploy_body("again", {"port0": "nic0", "port1": "nic1"}))
check(status == 200 and len(dataplanes()) == 1, "deployed again", body)
dp.send_signal(signal.SIGTERM)
rc = dp.wait(timeout=30)
check(rc == 0 and dataplanes() == [], "SIGTERM: the agent exits 0 and leaves no data plane", rc)

stop_all()
print("agent: %d passed, %d failed" % (passed, len(failures)))
if failures:
    for p in ("ctl", "reg", "tls", "dp"):
        path = os.path.join(TMP, p + ".log")
        if os.path.exists(path):
            print("---", p, "log:\n" + open(path).read()[-3000:])
    sys.exit(1)
subprocess.run(["rm", "-rf", TMP])
