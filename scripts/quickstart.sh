#!/usr/bin/env bash
# quickstart.sh — the README's first command: install what is needed (Debian 12 packages),
# build metronc, and run the furthest stage that exists on the bundled example: check it, then
# print the parsed chain.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMETRON_TESTS=OFF > build.configure.log 2>&1 \
  || { cat build.configure.log; exit 1; }
ninja -C build metronc
example=examples/web.metron
echo
echo "\$ build/metronc check $example"
build/metronc check "$example"
echo "ok: no errors, no warnings"
echo
echo "\$ build/metronc check --emit=ast $example"
build/metronc check --emit=ast "$example"
