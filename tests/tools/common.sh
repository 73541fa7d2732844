# common.sh — helpers the test scripts source. They use the caller's $tmp (a scratch
# directory) and its pass/fail counters.

# expect NAME WANT-EXIT CMD... : runs CMD with stdout in $tmp/out and stderr in $tmp/err and
# counts a pass when it exits WANT-EXIT.
expect() {
  local name=$1 want=$2; shift 2
  "$@" > "$tmp/out" 2> "$tmp/err"; local rc=$?
  if [ "$rc" = "$want" ]; then pass=$((pass + 1)); return 0; fi
  echo "FAIL $name: exit $rc, expected $want"; head -20 "$tmp/err"; fail=$((fail + 1)); return 1
}

# contains NAME FILE STRING
contains() {
  if grep -qF -- "$3" "$2"; then pass=$((pass + 1)); else echo "FAIL $1: '$3' not in:"; head -20 "$2"; fail=$((fail + 1)); fi
}

# check NAME CMD... : counts a pass when CMD succeeds.
check() {
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL $name"; fail=$((fail + 1)); fi
}

# compare EXPECTED-FILE ACTUAL-FILE CASE-NAME : golden comparison; METRONC_REPLACE=1 rewrites
# the expected file instead (an empty output removes it).
compare() {
  if [ "${METRONC_REPLACE:-0}" = 1 ]; then
    if [ -s "$2" ]; then cp "$2" "$1"; else rm -f "$1"; fi
    return 0
  fi
  if [ ! -s "$2" ] && [ ! -e "$1" ]; then return 0; fi
  if [ ! -e "$1" ]; then echo "FAIL $3: no expected file $1; output was:"; cat "$2"; return 1; fi
  if ! diff -u "$1" "$2" > "$tmp/diff"; then echo "FAIL $3: output differs from $1:"; cat "$tmp/diff"; return 1; fi
  return 0
}
