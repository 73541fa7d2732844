#!/usr/bin/env bash
# bench-placement.sh — placement at datacenter scale (paper §5.7, Fig. 19): `metronc place-sim`
# on the paper's three fat trees (16, 128 and 1,024 servers) with 200, 1,000 and 10,000 chains,
# 20 runs each: how often Algorithm 1 (two random choices) decides as the uniform policy (asks
# every server) would, or one load level off, and the messages each sends; the uniform policy
# is the baseline, run on the same chains in the same process. Prints the table and the time.
#
#   bench-placement.sh METRONC
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: bench-placement.sh METRONC" >&2
  exit 2
fi
metronc=$1
t0=$(date +%s%N)
"$metronc" place-sim --fat-tree 4 --fat-tree 8 --fat-tree 16 --chains 200 --chains 1000 --chains 10000 --runs 20
t1=$(date +%s%N)
echo "place-sim: 9 combinations x 20 runs in $(( (t1 - t0) / 1000000 )) ms"
