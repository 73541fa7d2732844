#!/usr/bin/env bash
#===- tests/tools/testpmd-check.sh - rte_flow rule files through dpdk-testpmd's flow parser ----===#
#
# usage: testpmd-check.sh FILE...
#
# Feeds every `flow create` line of the given files (as printed by metronc's rte_flow target,
# targets/rteflow/RteFlow.h) to ONE real dpdk-testpmd process and checks that testpmd's flow
# parser accepted each of them and that the driver answered. Exit 0 and one summary line
#   testpmd-check: N rules in M files accepted by the dpdk-testpmd 22.11 parser
# when all were accepted; exit 1 with one `FILE:LINE: ...` message per bad line (and the
# testpmd message) otherwise; exit 2 when testpmd itself could not be run.
#
# What is fed. Each `flow create` line is fed as `flow validate` (same parser, reaches the
# driver's validate callback, never installs anything); `#` comment lines are fed unchanged
# (testpmd's cmdline treats a line whose first non-blank character is `#` as empty); blank
# lines are not fed (a deterministic filter: they are no-ops in testpmd). Any other line is an
# error, as is a line testpmd's line editor would not read verbatim: a character outside
# printable ASCII (tab completes, ^D quits, ESC starts a vt100 sequence), a `?` (the help key,
# never inserted), or a command longer than the 512 characters of the line buffer (the rest
# is silently cut off) -- so a `flow create` line can be at most 510 characters.
#
# The device. net_null vdevs (one per port id used, port ids 0..31), EAL with --no-huge
# --no-shconf --no-pci and a private --file-prefix, so several checks can run at once and
# nothing is left in /var/run/dpdk. net_null has no rte_flow support: a rule the parser
# accepted gets the driver's answer
#   port_flow_complain(): Caught PMD error type 1 (cause unspecified): Function not implemented: ...
# (ENOSYS); `Flow rule validated` (a driver with rte_flow support) is accepted too. Any other
# driver answer (`No such device`, ...) is a failure.
#
# How lines and answers are matched (DPDK 22.11 cmdline facts this relies on):
#  - Commands typed on stdin are echoed, but every stdin command is looked up in the line
#    editor's 8 KB history with a quadratic realignment (cirbuf_align_left): once the history
#    is full, each 200-character line costs ~8 ms of CPU (10,000 rules: ~3 minutes). So the
#    lines go into chunk files of < 7.6 KB each, run with testpmd's `load FILE` command: each
#    `load` has a fresh, never-full history (10,000 rules: a few seconds).
#  - Commands read by `load` are not echoed and their parse errors are not printed (the file
#    cmdline has no output fd). So each fed line is followed by a marker command,
#    `set verbose K` (K = 1..65535, cycling), which prints `Change verbose level from J to K`.
#    Everything printed between two markers is the answer to the line in between; a rule line
#    whose answer is empty was rejected by the parser. testpmd runs under `stdbuf -o0` so its
#    stdout (markers, `Flow rule validated`) and stderr (port_flow_complain) interleave in
#    the order they were written; `load` prints `Read CLI commands from FILE` at the end of
#    each chunk.
#  - Second phase, same process: the (at most 50) rejected lines are typed on stdin, where
#    testpmd echoes them and prints the parser's message (`Bad arguments`), which is reported.
#
# Environment: TESTPMD (default dpdk-testpmd), TESTPMD_CHECK_KEEP=1 keeps the work directory,
# TESTPMD_CHECK_TIMEOUT (seconds, default 60 + 1 per 100 lines).
#===----------------------------------------------------------------------------------------===#
set -uo pipefail
export LC_ALL=C

prog=testpmd-check
TESTPMD=${TESTPMD:-dpdk-testpmd}

die() { echo "$prog: $*" >&2; exit 2; }

[ $# -ge 1 ] || { echo "usage: $0 FILE..." >&2; exit 2; }
for f in "$@"; do [ -f "$f" ] && [ -r "$f" ] || die "cannot read '$f'"; done
command -v "$TESTPMD" >/dev/null || die "'$TESTPMD' not found (Debian package dpdk)"
command -v stdbuf >/dev/null || die "stdbuf not found (coreutils)"

work=$(mktemp -d "${TMPDIR:-/tmp}/testpmd-check.XXXXXX") || die "mktemp failed"
pid=
# DPDK makes a runtime directory per file prefix even with --no-shconf; it is ours to remove.
prefix="testpmd-check-$$-$RANDOM"
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
  { exec 3>&-; } 2>/dev/null
  if [ "${TESTPMD_CHECK_KEEP:-0}" = 1 ]; then echo "$prog: work directory kept: $work" >&2; else rm -rf "$work"; fi
  for d in "/var/run/dpdk/$prefix" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$prefix"; do rmdir "$d" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. split the files into chunk files with markers, check what testpmd cannot read verbatim -
# map: marker <TAB> kind (rule|comment) <TAB> file <TAB> line <TAB> fed command
awk -v dir="$work" '
  function bad(msg) { printf "%s:%d: %s\n", FILENAME, FNR, msg > (dir "/precheck"); }
  BEGIN { budget = 7600; used = budget + 1; chunk = 0; marker = 0; maxport = -1; rules = 0 }
  {
    line = $0
    if (line ~ /^[ ]*$/) next
    isrule = substr(line, 1, 12) == "flow create "
    if (isrule) rules++
    if (line ~ /[^ -~]/) {
      bad("contains a tab, control or non-ASCII character, which testpmd'\''s line editor does not read verbatim")
      next
    }
    if (index(line, "?")) { bad("contains \"?\", testpmd'\''s help key (never inserted into the line)"); next }
    if (line ~ /^[ ]*#/) { kind = "comment"; cmd = line }
    else if (isrule) {
      kind = "rule"; cmd = "flow validate " substr(line, 13)
      if (length(cmd) > 512) {
        bad(sprintf("%d characters: as `flow validate` it exceeds the 512 characters of testpmd'\''s line buffer" \
                    " (at most 510 for `flow create`)", length(line)))
        next
      }
      p = $3
      if (p !~ /^[0-9]+$/) { bad("port id \"" p "\" is not a number"); next }
      if (p + 0 > 31) { bad("port id " p " is beyond the 32 ports (RTE_MAX_ETHPORTS) the checker can create"); next }
      if (p + 0 > maxport) maxport = p + 0
    } else { bad("neither a `flow create` line nor a `#` comment"); next }
    marker = marker % 65535 + 1
    mcmd = "set verbose " marker
    cost = length(cmd) + length(mcmd) + 2
    if (used + cost > budget) {
      if (chunk) close(cf)
      chunk++; cf = dir "/c" chunk; used = 0
      print "load c" chunk > (dir "/loads")
    }
    used += cost
    print cmd > cf
    print mcmd > cf
    printf "%d\t%s\t%s\t%d\t%s\n", marker, kind, FILENAME, FNR, cmd > (dir "/map")
  }
  END {
    if (chunk) close(cf)
    printf "rules=%d\nchunks=%d\nmaxport=%d\n", rules, chunk, maxport > (dir "/stats")
  }
' "$@" || die "awk failed"

files=$#
rules=$(sed -n 's/^rules=//p' "$work/stats")
chunks=$(sed -n 's/^chunks=//p' "$work/stats")
maxport=$(sed -n 's/^maxport=//p' "$work/stats")
fed=0
[ -f "$work/map" ] && fed=$(wc -l <"$work/map")
status=0
if [ -s "$work/precheck" ]; then
  sed "s/^/$prog: /" "$work/precheck"
  status=1
fi

# ---- 2. one testpmd: phase 1 (load the chunks) ------------------------------------------------
version=22.11
if [ "$chunks" -gt 0 ]; then
  nports=$((maxport + 1))
  [ "$nports" -ge 1 ] || nports=1
  vdevs=()
  for ((i = 0; i < nports; i++)); do vdevs+=("--vdev=net_null$i"); done
  mkfifo "$work/in" || die "mkfifo failed"
  (cd "$work" && exec stdbuf -o0 -e0 "$TESTPMD" -l 0,1 --no-huge -m 256 --no-pci --no-shconf --no-telemetry \
    --file-prefix="$prefix" -v "${vdevs[@]}" -- -i --total-num-mbufs=2048 \
    <"$work/in" >"$work/out" 2>&1) &
  pid=$!
  exec 3>"$work/in"
  cat "$work/loads" >&3

  timeout_s=${TESTPMD_CHECK_TIMEOUT:-$((60 + fed / 100))}
  deadline=$((SECONDS + timeout_s))
  done1=0
  while :; do
    if grep -qx "Read CLI commands from c$chunks" "$work/out" 2>/dev/null; then done1=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.05
  done
  if [ "$done1" != 1 ]; then
    echo "$prog: dpdk-testpmd did not finish reading the rules (died, or timed out after ${timeout_s}s);" \
      "its output ends with:" >&2
    tail -n 20 "$work/out" | sed 's/^/  /' >&2
    exit 2
  fi
  v=$(sed -n "s/^EAL: RTE Version: 'DPDK \([0-9]*\.[0-9]*\).*/\1/p" "$work/out" | head -n 1)
  [ -n "$v" ] && version=$v

  # ---- phase 1 analysis: the answers between the markers --------------------------------------
  awk -F'\t' -v dir="$work" -v chunks="$chunks" '
    function flush(   i, n, ans, okans) {
      # the answer to map entry `cur`
      n = 0; ans = ""
      for (i = 1; i <= nseg; i++) { ans = ans (n++ ? " | " : "") seg[i] }
      if (kind[cur] == "comment") {
        if (n) printf "%s:%d: a comment line produced output: %s\n", file[cur], line[cur], ans > (dir "/fail")
      } else if (n == 0) {
        printf "%s\t%d\t%s\n", file[cur], line[cur], cmd[cur] > (dir "/retry")
      } else {
        okans = n == 1 && (seg[1] == "Flow rule validated" ||
          seg[1] ~ /^port_flow_complain\(\): Caught PMD error type 1 \(cause unspecified\): Function not implemented/)
        if (okans) accepted++
        else printf "%s:%d: unexpected answer from dpdk-testpmd: %s\n", file[cur], line[cur], ans > (dir "/fail")
      }
      nseg = 0
    }
    FILENAME == dir "/map" { n++; mk[n] = $1; kind[n] = $2; file[n] = $3; line[n] = $4; cmd[n] = $5; next }
    !started { if ($0 ~ /^testpmd> load c1\r?$/) started = 1; next }
    {
      sub(/\r$/, "")
      if ($0 ~ /^testpmd> /) next                    # echo of a `load` typed on stdin
      if ($0 ~ /^Change verbose level from [0-9]+ to [0-9]+$/) {
        k = $0; sub(/.* to /, "", k)
        cur++
        if (cur > n || mk[cur] != k) {
          printf "lost track of the answers at marker %s (expected %s, %s:%d); giving up\n",
            k, (cur > n ? "none" : mk[cur]), file[cur], line[cur] > (dir "/fatal")
          fatal = 1; exit
        }
        flush(); next
      }
      if ($0 ~ /^Read CLI commands from c[0-9]+$/) {
        if (nseg) {
          printf "%s:%d: output after the last line of a chunk: %s\n", file[cur], line[cur], seg[1] > (dir "/fail")
          nseg = 0
        }
        if ($0 == "Read CLI commands from c" chunks) exit
        next
      }
      if ($0 ~ /^[ ]*$/) next
      seg[++nseg] = $0
    }
    END {
      if (cur < n && !fatal) printf "dpdk-testpmd answered %d of %d lines\n", cur, n >> (dir "/fatal")
      printf "accepted=%d\n", accepted > (dir "/result")
    }
  ' "$work/map" "$work/out"
  if [ -s "$work/fatal" ]; then
    sed "s/^/$prog: /" "$work/fatal" >&2
    exit 2
  fi
  accepted=$(sed -n 's/^accepted=//p' "$work/result")

  # ---- phase 2: type the rejected lines to get testpmd's message --------------------------------
  mark=$(wc -l <"$work/out")
  if [ -s "$work/retry" ]; then
    head -n 50 "$work/retry" | cut -f3 >"$work/retry.cmds"
    cat "$work/retry.cmds" >&3
  fi
  echo quit >&3
  exec 3>&-
  deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then echo "$prog: dpdk-testpmd did not quit; killing it" >&2; fi
  if [ -s "$work/retry" ]; then
    tail -n +"$((mark + 1))" "$work/out" | awk -F'\t' -v dir="$work" '
      FILENAME == dir "/retry" { n++; file[n] = $1; line[n] = $2; cmd[n] = $3; next }
      {
        sub(/\r$/, "")
        if (substr($0, 1, 9) == "testpmd> ") { r++; echo[r] = substr($0, 10); msg[r] = ""; next }
        if (r && $0 !~ /^[ ]*$/) msg[r] = msg[r] (msg[r] == "" ? "" : " | ") $0
      }
      END {
        j = 1
        for (i = 1; i <= n; i++) {
          m = ""
          if (i <= 50) {
            for (; j <= r; j++) if (echo[j] == cmd[i]) { m = msg[j]; j++; break }
          }
          if (m == "" && i <= 50) m = "no answer (the parser rejected it silently)"
          if (m == "") m = "no answer (the parser rejected it; messages are collected for the first 50 only)"
          printf "%s:%d: rejected by dpdk-testpmd: %s\n  %s\n", file[i], line[i], m, cmd[i] >> (dir "/fail")
        }
      }
    ' "$work/retry" -
  fi
else
  accepted=0
fi

if [ -s "$work/fail" ]; then
  sed "s/^/$prog: /; s/^$prog:   /    /" "$work/fail"
  status=1
fi
if [ "$status" != 0 ]; then
  problems=$(cat "$work/precheck" "$work/fail" 2>/dev/null | grep -cv '^ ')
  echo "$prog: FAILED: $problems bad lines; $accepted of $rules rules in $files files accepted" \
    "by the dpdk-testpmd $version parser"
  exit 1
fi
echo "$prog: $rules rules in $files files accepted by the dpdk-testpmd $version parser"
