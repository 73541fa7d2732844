#!/usr/bin/env bash
#===- tests/tools/testpmd-check-selftest.sh - testpmd-check.sh must pass good and fail bad rules -===#
#
# usage: testpmd-check-selftest.sh
#
# Runs tests/tools/testpmd-check.sh on a file of well-formed rules (every pattern item and
# action form the rte_flow printer uses; must pass with the summary line) and on files with
# deliberately malformed lines (must fail, naming each bad FILE:LINE and testpmd's message,
# and nothing else). Exit 0 when the checker behaves, 1 when it does not (or when
# dpdk-testpmd is missing: scripts/install-deps.sh installs it, and a skip would hide that).
#===----------------------------------------------------------------------------------------===#
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
check=$here/testpmd-check.sh
command -v "${TESTPMD:-dpdk-testpmd}" >/dev/null || { echo "FAIL: dpdk-testpmd not installed (scripts/install-deps.sh installs it)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/testpmd-selftest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect_in() { # expect_in OUTPUT_FILE FIXED_STRING WHAT
  grep -qF -- "$2" "$1" || { fail "$3: output lacks '$2'"; sed 's/^/    /' "$1"; }
}

# ---- well-formed rules: the forms targets/rteflow/RteFlow.cpp prints ---------------------------
cat >"$tmp/good.rules" <<'EOF'
# rte_flow rules for server1.nic0 (profile connectx-5): 8 rules
# rule 0: class 0 (class, group 0)
flow create 0 group 0 priority 0 ingress pattern eth / ipv4 src spec 10.0.0.0 src mask 255.0.0.0 / tcp dst is 80 / end actions drop / end

# rule 1: a range
flow create 0 group 0 priority 1 ingress pattern eth / ipv4 / udp dst spec 1024 dst last 65535 dst mask 0xffff / end actions mark id 7 / queue index 3 / end
flow create 0 group 0 priority 2 ingress pattern eth / end actions jump group 1 / end
flow create 0 group 1 priority 0 ingress pattern eth / vlan tci spec 0x0005 tci mask 0x0fff / end actions of_pop_vlan / queue index 2 / end
flow create 0 group 1 priority 1 ingress pattern eth src is 02:00:00:00:00:01 dst spec 02:00:00:00:01:00 dst mask ff:ff:ff:ff:ff:00 type is 0x0806 / end actions queue index 0 / end
flow create 0 group 1 priority 2 ingress pattern eth / ipv4 tos spec 0xb8 tos mask 0xfc ttl is 64 proto is 47 / end actions dec_ttl / queue index 1 / end
flow create 0 group 1 priority 3 ingress pattern eth / ipv4 / tcp flags spec 0x02 flags mask 0x12 / end actions set_ipv4_dscp dscp_value 46 / set_tp_dst port 8080 / queue index 1 / end
flow create 0 group 1 priority 4 ingress pattern eth / ipv4 / icmp type is 8 code is 0 / end actions set_mac_src mac_addr 02:00:00:00:00:01 / set_mac_dst mac_addr 02:00:00:00:00:02 / set_ipv4_src ipv4_addr 10.1.2.3 / set_ipv4_dst ipv4_addr 10.3.2.1 / set_ttl ttl_value 9 / queue index 0 / end
flow create 0 group 1 priority 5 ingress pattern eth / end actions of_push_vlan ethertype 0x8100 / of_set_vlan_vid vlan_vid 100 / of_set_vlan_pcp vlan_pcp 3 / port_id id 1 / end
flow create 1 group 2 priority 4294967295 ingress pattern eth / ipv4 / tcp src spec 0 src last 1023 src mask 0xffff / end actions set_tp_src port 1 / drop / end
EOF
"$check" "$tmp/good.rules" >"$tmp/good.out" 2>&1
rc=$?
[ "$rc" = 0 ] || fail "good.rules: exit $rc, expected 0"
expect_in "$tmp/good.out" "testpmd-check: 10 rules in 1 files accepted by the dpdk-testpmd 22.11 parser" good.rules

# ---- malformed lines: each must be reported by file:line ---------------------------------------
cat >"$tmp/bad.rules" <<'EOF'
# one good rule, then bad ones
flow create 0 group 0 priority 0 ingress pattern eth / ipv4 / udp / end actions drop / end
flow create 0 group 0 priority 1 ingress pattern eth / ipv4 / udpx / end actions drop / end
flow create 0 group 0 priority 2 ingress pattern eth / end actions set_ipv4_dscp dscp 46 / queue index 0 / end
flow create 0 group 0 priority 3 ingress pattern eth / vlan tci is 70000 / end actions drop / end
flow create 0 group 0 priority 4 ingress pattern eth / ipv4 src is 256.1.1.1 / end actions drop / end
flow create 0 group 0 priority 5 ingress pattern eth / ipv4 / tcp / end actions queue index 1 / end
show port info 0
flow create 0 group 0 priority 6 ingress pattern eth / ipv4 / end actions queue index 1 ? / end
flow create 0 group 0 priority 7 ingress pattern eth / ipv4 / end actions queue index 1 / end
EOF
# a rule longer than testpmd's 512-character line once `create` becomes `validate` (line 10)
{
  printf 'flow create 0 group 0 priority 8 ingress pattern eth / end actions '
  for _ in $(seq 1 40); do printf 'mark id 1 / '; done
  printf 'queue index 0 / end\n'
} >>"$tmp/bad.rules"
"$check" "$tmp/good.rules" "$tmp/bad.rules" >"$tmp/bad.out" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "bad.rules: exit $rc, expected 1"
for want in \
    "bad.rules:3: rejected by dpdk-testpmd: Bad arguments" \
    "bad.rules:4: rejected by dpdk-testpmd: Bad arguments" \
    "bad.rules:5: rejected by dpdk-testpmd: Bad arguments" \
    "bad.rules:6: rejected by dpdk-testpmd: Bad arguments" \
    "bad.rules:8: neither a \`flow create\` line nor a \`#\` comment" \
    "bad.rules:9: contains \"?\"" \
    "bad.rules:11: " \
    "FAILED: 7 bad lines; 13 of 19 rules in 2 files accepted"; do
  expect_in "$tmp/bad.out" "$want" bad.rules
done
# the good lines of bad.rules and good.rules must not be reported
for ok in "bad.rules:2:" "bad.rules:7:" "bad.rules:10:" "good.rules:"; do
  grep -qF -- "$ok" "$tmp/bad.out" && fail "bad.rules: a good line was reported ($ok)"
done

# ---- a missing port: no net_null vdev answers for it -> not "accepted" --------------------------
printf 'flow create 32 ingress pattern eth / end actions drop / end\n' >"$tmp/port.rules"
"$check" "$tmp/port.rules" >"$tmp/port.out" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "port.rules: exit $rc, expected 1"
expect_in "$tmp/port.out" "port.rules:1: port id 32 is beyond" port.rules

if [ "$fails" = 0 ]; then
  echo "testpmd-check-selftest: OK (good rules accepted; malformed lines reported by file:line)"
  exit 0
fi
echo "testpmd-check-selftest: $fails failure(s)"
exit 1
