#!/usr/bin/env bash
# run.sh — hostile inputs: metronc must answer each with a clear diagnostic and exit 1, never
# crash, and stay within time and memory bounds (ulimit -v, timeout). Inputs are generated here
# (nothing big is committed).
set -u
metronc=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# Random bytes from a fixed seed: failures reproduce.
randbytes() { /usr/bin/python3 -c "import random, sys; random.seed($2); sys.stdout.buffer.write(random.randbytes($1))"; }
fail=0 n=0

# case NAME EXPECTED-SUBSTRING [max-seconds] — runs metronc check on $tmp/NAME
case_() {
  # ASan+UBSan runs 3-5 times slower and shares the machine with the other tests: the bound
  # that catches quadratic behaviour is the Release re-run's 20 s (scripts/test.sh).
  local name=$1 want=$2 secs=${3:-20}
  if [ -n "${METRON_ASAN:-}" ]; then secs=$((secs * 4)); fi
  n=$((n + 1))
  local start=$(date +%s%N)
  # 2 GiB of address space is plenty for a checker; ASan builds need their shadow memory, so the
  # limit applies only when not sanitized.
  ( if [ -z "${METRON_ASAN:-}" ]; then ulimit -v 2097152; fi
    exec timeout "$secs" "$metronc" check --color=never "$tmp/$name" ) < /dev/null > "$tmp/out" 2> "$tmp/err"
  local rc=$? end=$(date +%s%N)
  local took=$(( (end - start) / 1000000 ))
  if [ $rc -ne 1 ]; then
    echo "FAIL $name: exit $rc (want 1) after ${took} ms"; head -c 2000 "$tmp/err"; fail=$((fail + 1)); return
  fi
  if ! grep -qF -- "$want" "$tmp/err"; then
    echo "FAIL $name: diagnostic does not mention '$want':"; head -c 2000 "$tmp/err"; fail=$((fail + 1)); return
  fi
  local lines=$(wc -l < "$tmp/err")
  printf '  ok   %-28s %6d ms  %5d lines  %s\n' "$name" "$took" "$lines" "$(head -1 "$tmp/err" | cut -c1-90)"
}

randbytes 1000000 1 > "$tmp/garbage.metron"
case_ garbage.metron "error:"

# Printable binary-ish garbage that is valid UTF-8 (so the lexer and parser see it).
randbytes 300000 2 | tr -dc 'a-zA-Z0-9{}();.,/>\-=" \n@$' > "$tmp/ascii-garbage.metron"
case_ ascii-garbage.metron "too many errors emitted"

printf 'nf a { dec ip.ttl; }\n// \xc3\x28 bad\n' > "$tmp/invalid-utf8.metron"
case_ invalid-utf8.metron "invalid UTF-8 byte 0xc3"

printf 'nf a { dec ip.ttl; }\0chain c { in p -> a -> out q; }\n' > "$tmp/nul.metron"
case_ nul.metron "unexpected character '\\x00'"

# 50 MB: refused before parsing.
yes 'nf a { rule deny udp dport 53; default allow; }' | head -c 52428800 > "$tmp/huge.metron"
case_ huge.metron "huge.metron': too large (50.0 MiB, limit 8.0 MiB)"

# 100,000 nested parentheses, and 100,000 nested brackets inside a statement.
/usr/bin/python3 -c "print('(' * 100000 + ')' * 100000)" > "$tmp/parens.metron"
case_ parens.metron "unexpected '('"
/usr/bin/python3 -c "print('nf a { rule set' + '(' * 100000 + ' ip.dscp = 1 ' + ')' * 100000 + '; }')" > "$tmp/nested-set.metron"
case_ nested-set.metron "error:"

# 100,000 chain steps through one NF (a self-cycle) and through 100,000 distinct unknown NFs.
/usr/bin/python3 -c "print('nf a { dec ip.ttl; }\nchain c { in p0 -> ' + ' -> '.join(['a'] * 100000) + ' -> out p1; }')" > "$tmp/steps-same.metron"
case_ steps-same.metron "output 'out' of 'a' is already connected to 'a'"
/usr/bin/python3 -c "print('chain c { in p0 -> ' + ' -> '.join('n%d' % i for i in range(100000)) + ' -> out p1; }')" > "$tmp/steps-unknown.metron"
case_ steps-unknown.metron "unknown NF 'n0'"
# 100,000 unknown steps while 20,000 NFs exist: suggestions must not cost 100,000 x 20,000.
/usr/bin/python3 -c "
print(''.join('nf n%d { dec ip.ttl; }\n' % i for i in range(20000)))
print('chain c { in p0 -> ' + ' -> '.join('m%d' % i for i in range(100000)) + ' -> out p1; }')" > "$tmp/steps-unknown-many.metron"
case_ steps-unknown-many.metron "too many errors emitted (limit 50)"
# 20,000 declared NFs chained in a line, with a cycle back to the start: large but legal shape.
/usr/bin/python3 -c "
print('nf n0 { rule branch exit tcp; default allow; }')
print(''.join('nf n%d { dec ip.ttl; }\n' % i for i in range(1, 20000)))
print('chain c { n0.exit -> out p1; in p0 -> ' + ' -> '.join('n%d' % i for i in range(20000)) + ' -> n0; }')" > "$tmp/long-cycle.metron"
case_ long-cycle.metron "has a cycle: n0 -> n1 -> n2"

# Imports of things that are not data files.
printf 'import classbench "/dev/zero" as z;\nnf f { rules z action allow; }\nchain c { in p -> f -> out q; }\n' > "$tmp/devzero.metron"
case_ devzero.metron "cannot import '/dev/zero': not a regular file"
printf 'import routes "/dev/stdin" as z;\nnf f { lookup ip.dst in z; }\nchain c { in p -> f -> out q; }\n' > "$tmp/devstdin.metron"
case_ devstdin.metron "cannot import"
randbytes 2000000 3 > "$tmp/random.cb"
printf 'import classbench "random.cb" as z;\nnf f { rules z action allow; }\nchain c { in p -> f -> out q; }\n' > "$tmp/import-garbage.metron"
case_ import-garbage.metron "[import-malformed]"
head -c 3000000 /dev/zero | tr '\0' 'x' > "$tmp/oneline.txt"
printf 'import routes "oneline.txt" as z;\nnf f { lookup ip.dst in z; }\nchain c { in p -> f -> out q; }\n' > "$tmp/import-longline.metron"
case_ import-longline.metron "oneline.txt:1:"
printf 'import patterns "random.cb" as z;\nnf f stateful { dpi z; }\nchain c { in p -> f -> out q; }\n' > "$tmp/import-patterns-garbage.metron"
case_ import-patterns-garbage.metron "[import-malformed]"

echo "hostile: $((n - fail)) passed, $fail failed"
[ $fail = 0 ]
