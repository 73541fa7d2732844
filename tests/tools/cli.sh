#!/usr/bin/env bash
# cli.sh — the metronc command line as a CI pipeline sees it: exit codes (0 clean, 1 errors,
# 2 usage), --help/--version, machine-readable output that parses, -W flags, several files,
# and the man pages (render without warnings, generated tables in sync with the .def files).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/tools/common.sh
source "$here/common.sh"
metronc=$1 root=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
PY=/usr/bin/python3


cat > "$tmp/ok.metron" <<'M'
nf r { dec ip.ttl; }
chain c { in p0 -> r -> out p1; }
M
cat > "$tmp/warn.metron" <<'M'
nf r { dec ip.ttl; }
nf unused { dec ip.ttl; }
chain c { in p0 -> r -> out p1; }
M
cat > "$tmp/bad.metron" <<'M'
nf r { rule deny src 10.0.0.1/33; }
chain c { in p0 -> r -> out p1; }
M

expect help 0 "$metronc" --help && contains help "$tmp/out" "check"
expect check-help 0 "$metronc" check --help && contains check-help "$tmp/out" "--format"
expect version 0 "$metronc" --version && contains version "$tmp/out" "LLVM 14"
expect no-subcommand 2 "$metronc"
expect unknown-subcommand 2 "$metronc" frobnicate
expect unknown-option 2 "$metronc" check --frobnicate "$tmp/ok.metron"
expect no-files 2 "$metronc" check && contains no-files "$tmp/err" "no input files"
expect bad-format 2 "$metronc" check --format xml "$tmp/ok.metron"
expect bad-W 2 "$metronc" check -Wno-such-warning "$tmp/ok.metron" && contains bad-W "$tmp/err" "unknown warning option '-Wno-such-warning'"
expect bad-f 2 "$metronc" check -fno-such "$tmp/ok.metron" && contains bad-f "$tmp/err" "unknown option '-fno-such'; the only -f option is -ferror-limit=N"
expect bad-limit 2 "$metronc" check -ferror-limit=abc "$tmp/ok.metron" && contains bad-limit "$tmp/err" "invalid -ferror-limit value 'abc'; expected a number from 0 to 100000"
expect bad-limit-big 2 "$metronc" check -ferror-limit=100001 "$tmp/ok.metron"
expect clean 0 "$metronc" check "$tmp/ok.metron"
[ -s "$tmp/err" ] && { echo "FAIL clean: printed diagnostics"; fail=$((fail + 1)); }
expect warn 0 "$metronc" check "$tmp/warn.metron" && contains warn "$tmp/err" "[unused-nf]"
expect warn-Werror 1 "$metronc" check -Werror "$tmp/warn.metron" && contains warn-Werror "$tmp/err" "error: NF 'unused' is not used"
expect warn-Wno 0 "$metronc" check -Wno-unused-nf "$tmp/warn.metron"
[ -s "$tmp/err" ] && { echo "FAIL warn-Wno: still printed"; cat "$tmp/err"; fail=$((fail + 1)); }
expect errors 1 "$metronc" check "$tmp/bad.metron" && contains errors "$tmp/err" "bad.metron:1:31: error: prefix length 33 is out of range 0..32 [bad-prefix]"
expect missing-file 1 "$metronc" check "$tmp/nope.metron" && contains missing-file "$tmp/err" "nope.metron': No such file or directory"
expect several 1 "$metronc" check "$tmp/ok.metron" "$tmp/bad.metron" "$tmp/warn.metron" && contains several "$tmp/err" "1 warning and 1 error generated."
expect color 1 "$metronc" check --color=always "$tmp/bad.metron" && contains color "$tmp/err" $'\033[1;31merror: '
expect list-diagnostics 0 "$metronc" check --list-diagnostics && contains list-diagnostics "$tmp/out" "shadowed-rule"

# JSON: parses, and carries the same facts as the text form.
expect json 1 "$metronc" check --format json "$tmp/bad.metron" "$tmp/warn.metron"
if $PY - "$tmp/out" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["errors"] == 1 and d["warnings"] == 1, d
e = [x for x in d["diagnostics"] if x["severity"] == "error"][0]
assert e["kind"] == "bad-prefix" and e["location"]["line"] == 1 and e["location"]["column"] == 31, e
P
then pass=$((pass + 1)); else echo "FAIL json: bad document"; cat "$tmp/out"; fail=$((fail + 1)); fi

# SARIF 2.1.0: the shape GitHub code scanning reads.
expect sarif 1 "$metronc" check --format sarif "$tmp/bad.metron"
if $PY - "$tmp/out" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == "2.1.0"
run = d["runs"][0]
rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
r = run["results"][0]
assert r["ruleId"] == "bad-prefix" and r["level"] == "error", r
assert rules[r["ruleIndex"]] == r["ruleId"]
reg = r["locations"][0]["physicalLocation"]["region"]
assert reg["startLine"] == 1 and reg["startColumn"] == 31, reg
P
then pass=$((pass + 1)); else echo "FAIL sarif: bad document"; cat "$tmp/out"; fail=$((fail + 1)); fi

# --time-passes prints a table on stderr, one row per pass.
expect time-passes 0 "$metronc" check --time-passes "$tmp/ok.metron" && contains time-passes "$tmp/err" "sema: shadowed rules"

# Standard input, named <stdin> in diagnostics.
if "$metronc" check - < "$tmp/bad.metron" 2> "$tmp/err"; then echo "FAIL stdin: exit 0"; fail=$((fail + 1)); else
  contains stdin "$tmp/err" "<stdin>:1:31: error: prefix length 33 is out of range 0..32"; fi
expect emit-json 2 "$metronc" check --format json --emit ast "$tmp/ok.metron" && contains emit-json "$tmp/err" "cannot be combined"

# The work budget of the shadowed-rule analysis (a list the prefix index cannot split).
/usr/bin/python3 -c "
print('nf f {')
for i in range(30000): print('  rule allow tcp dport %d;' % i)
print('  default deny; }')
print('chain c { in p -> f -> out q; }')" > "$tmp/ports.metron"
expect budget 0 "$metronc" check "$tmp/ports.metron" && contains budget "$tmp/err" "[analysis-budget]"
cp "$tmp/err" "$tmp/budget.err"

# place-sim: its errors, the table, JSON that parses with the numbers the options imply.
expect place-sim-odd 2 "$metronc" place-sim --fat-tree 3 --chains 10 && contains place-sim-odd "$tmp/err" "--fat-tree must be an even number from 2 to 64: 3"
expect place-sim-nics 2 "$metronc" place-sim --fat-tree 4 --chains 10 --max-chain-nics 3 && contains place-sim-nics "$tmp/err" "fit nowhere"
expect place-sim-no-chains 2 "$metronc" place-sim --fat-tree 4
expect place-sim-runs 2 "$metronc" place-sim --fat-tree 4 --chains 10 --runs 0 && contains place-sim-runs "$tmp/err" "--runs must be from 1 to 1,000: 0"
expect place-sim-util 2 "$metronc" place-sim --fat-tree 4 --chains 10 --utilization 1.5 && contains place-sim-util "$tmp/err" "--utilization must be in (0, 1]"
expect place-sim-cores 2 "$metronc" place-sim --fat-tree 4 --chains 10 --max-chain-cores 0 && contains place-sim-cores "$tmp/err" "--max-chain-cores must be at least 1"
expect place-sim-table 0 "$metronc" place-sim --fat-tree 4 --fat-tree 8 --chains 100 --runs 3 && contains place-sim-table "$tmp/out" "    128   8     100"
expect place-sim-json 0 "$metronc" place-sim --fat-tree 4 --chains 100 --runs 2 --json
if $PY - "$tmp/out" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 1 and d[0]["servers"] == 16 and len(d[0]["runs"]) == 2, d
for r in d[0]["runs"]:
    assert r["placed"] + r["rejected"] == 100, r
    assert r["messages_uniform"] == 2 * 16 * 100, r
    assert r["uniform"] + r["near_uniform"] + r["other"] == r["placed"], r
P
then pass=$((pass + 1)); else echo "FAIL place-sim-json: bad document"; cat "$tmp/out"; fail=$((fail + 1)); fi

# Every kind of the catalogue is triggered by some test: the golden error cases, or the runs of
# this script and of tests/hostile (whose kinds are listed here).
"$metronc" check --list-diagnostics > "$tmp/kinds"
covered="$tmp/covered"
cat "$root"/tests/errors/*.metron-stderr "$root"/tests/split/*.metron-stderr "$tmp/budget.err" > "$covered"
"$metronc" check "$tmp/nope.metron" 2>> "$covered"                      # io-error
head -c 9000000 /dev/zero | tr '\0' ' ' > "$tmp/big.metron"
"$metronc" check "$tmp/big.metron" 2>> "$covered"                       # file-too-large
while read -r kind _; do
  tag="[$kind]"
  [ "$kind" = too-many-errors ] && tag="too many errors emitted"
  if grep -qF -- "$tag" "$covered"; then pass=$((pass + 1)); else echo "FAIL catalogue: no test triggers '$kind'"; fail=$((fail + 1)); fi
done < "$tmp/kinds"

# Man pages: render without warnings; generated tables match the .def files.
for page in "$root"/man/*.[1-8]; do
  if out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1) && [ -z "$out" ]; then pass=$((pass + 1))
  else echo "FAIL man: $page renders with warnings:"; echo "$out"; fail=$((fail + 1)); fi
done
if (cd "$root" && $PY man/gen-tables.py --check); then pass=$((pass + 1)); else echo "FAIL man: generated tables are stale (run python3 man/gen-tables.py)"; fail=$((fail + 1)); fi

echo "cli: $pass passed, $fail failed"
[ $fail = 0 ]
