#!/usr/bin/env bash
# install-deps.sh — install metronc's build and test dependencies from Debian 12 packages.
#
# Idempotent: packages already installed are skipped, and `apt-get update` runs at most once,
# only when something is missing. Safe to run on every invocation of the README commands.
set -euo pipefail

PKGS=(
  # build toolchain
  build-essential g++ cmake ninja-build pkg-config git
  # parser generator + runtime (the tool is Java)
  antlr4 libantlr4-runtime-dev default-jre-headless
  # compiler back end
  llvm-14-dev clang-14 libclang-rt-14-dev
  # data plane
  dpdk dpdk-dev libdpdk-dev libpcap-dev libhyperscan-dev
  # command line, configuration, serialisation, HTTP
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libcpp-httplib-dev
  # tests
  googletest libgtest-dev libgmock-dev valgrind python3 python3-scapy tcpdump
  # later stages: switch, distributed state, traffic replay, namespaces, TLS test certificates
  openvswitch-switch openvswitch-common etcd-server etcd-client tcpreplay iproute2 openssl
  # documentation checks
  groff-base man-db
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
