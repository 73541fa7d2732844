# shellcheck shell=bash
# ovs-lib.sh — a private userspace Open vSwitch for tests (sourced, not run).
#
#   source tests/tools/ovs-lib.sh
#   trap 'ovs_stop; rm -rf "$tmp"' EXIT
#   trap 'exit 143' INT TERM        # bash runs no EXIT trap when a signal kills it
#   ovs_start "$tmp/ovs" 2          # ovsdb-server + ovs-vswitchd in $tmp/ovs, bridge $OVS_BR
#   ovs-ofctl -O OpenFlow13 dump-flows "$OVS_BR"
#   ovs-appctl ofproto/trace "$OVS_BR" 'udp,in_port=1,...'
#   ovs_stop                        # safe to call twice (the trap calls it again)
#
# ovs_start DIR NPORTS creates DIR, a fresh database in it, and starts both daemons detached
# with pidfiles, logs and control sockets in DIR (OVS_RUNDIR, OVS_DBDIR, OVS_LOGDIR and
# OVS_SYSCONFDIR are exported, so plain `ovs-ofctl br0` and `ovs-appctl` find them). It adds
# the bridge br0 (datapath_type=netdev, protocols=OpenFlow13, fail_mode=secure so that its
# tables start empty: no NORMAL flow, a packet no rule takes is dropped) with NPORTS internal
# ports p1..pNPORTS numbered 1..NPORTS (ofport_request).
#
# ovs-vswitchd runs in a network namespace of its own (metron-ovs-<PID>): the netdev datapath
# creates tap devices for its datapath (always named `ovs-netdev`), the bridge and every port,
# so two instances in one namespace collide ("creating tap device failed: Device or resource
# busy"). In its own namespace each test run has its br0, p1, p2... and two runs (two CTest
# jobs) share the machine. ovsdb-server and the OpenFlow/unixctl sockets are plain files in
# DIR, reachable from the host namespace. After ovs_start: OVS_BR=br0, OVS_DIR, OVS_NETNS.
#
# ovs_stop deletes the bridge, asks ovs-vswitchd and ovsdb-server to exit (`exit --cleanup` /
# `exit`), kills by PID whatever is still alive after 5 s, and deletes the namespace (with any
# tap left in it). It only ever touches the two PIDs and the namespace this library created.
#
# See ../shared/ENVIRONMENT.md §5 for the commands this follows.

OVS_DIR=""
OVS_BR=""
OVS_NETNS=""
_ovs_db_pid=""
_ovs_sw_pid=""

# _ovs_alive PID NAME: PID is a live (not zombie) process named NAME. Detached daemons are
# reparented to init, which here reaps them only every few seconds; checking the name keeps a
# reused PID safe from our kill.
_ovs_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2> /dev/null) || return 1
  [[ $stat == "$1 ($2) "* ]] || return 1
  [[ $stat != "$1 ($2) Z"* ]]
}

# _ovs_wait_gone PID NAME: up to 5 s for PID to exit; returns 1 when it is still alive.
_ovs_wait_gone() {
  local i
  for i in $(seq 50); do
    _ovs_alive "$1" "$2" || return 0
    sleep 0.1
  done
  return 1
}

# _ovs_pidfile FILE: the PID in FILE (waits up to 5 s for the daemon to write it).
_ovs_pidfile() {
  local i
  for i in $(seq 50); do
    if [ -s "$1" ]; then cat "$1"; return 0; fi
    sleep 0.1
  done
  echo "ovs-lib: $1 never appeared" >&2
  return 1
}

ovs_start() {
  local dir=$1 nports=${2:-2} i
  OVS_DIR=$(mkdir -p "$dir" && cd "$dir" && pwd)
  OVS_BR=br0
  OVS_NETNS="metron-ovs-$$"
  ip netns delete "$OVS_NETNS" 2> /dev/null || true # left by a dead process that had our PID
  ip netns add "$OVS_NETNS"
  ip netns exec "$OVS_NETNS" ip link set lo up
  export OVS_RUNDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR OVS_SYSCONFDIR=$OVS_DIR
  local db="unix:$OVS_DIR/db.sock"
  local log="$OVS_DIR/start.log" # the daemons' stderr before they detach
  ovsdb-tool create "$OVS_DIR/conf.db" /usr/share/openvswitch/vswitch.ovsschema
  ovsdb-server "$OVS_DIR/conf.db" --remote="punix:$OVS_DIR/db.sock" \
    --pidfile="$OVS_DIR/ovsdb-server.pid" --detach --log-file="$OVS_DIR/ovsdb-server.log" 2>> "$log" ||
    { cat "$log" >&2; return 1; }
  _ovs_db_pid=$(_ovs_pidfile "$OVS_DIR/ovsdb-server.pid")
  ovs-vsctl --db="$db" --no-wait init
  ip netns exec "$OVS_NETNS" ovs-vswitchd "$db" --pidfile="$OVS_DIR/ovs-vswitchd.pid" --detach \
    --log-file="$OVS_DIR/ovs-vswitchd.log" 2>> "$log" || { cat "$log" >&2; return 1; }
  _ovs_sw_pid=$(_ovs_pidfile "$OVS_DIR/ovs-vswitchd.pid")
  local args=(add-br "$OVS_BR" -- set bridge "$OVS_BR" datapath_type=netdev protocols=OpenFlow13 fail_mode=secure)
  for i in $(seq "$nports"); do
    args+=(-- add-port "$OVS_BR" "p$i" -- set interface "p$i" type=internal ofport_request="$i")
  done
  ovs-vsctl --db="$db" --timeout=20 "${args[@]}"
  # The bridge must answer OpenFlow before the caller installs anything.
  for i in $(seq 50); do
    ovs-ofctl -O OpenFlow13 show "$OVS_BR" > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "ovs-lib: bridge $OVS_BR does not answer OpenFlow; see $OVS_DIR/ovs-vswitchd.log" >&2
  return 1
}

ovs_stop() {
  [ -n "$OVS_DIR$OVS_NETNS" ] || return 0
  local db="unix:$OVS_DIR/db.sock"
  if [ -n "$_ovs_sw_pid" ] && _ovs_alive "$_ovs_sw_pid" ovs-vswitchd; then
    ovs-vsctl --db="$db" --timeout=5 --if-exists del-br "$OVS_BR" > /dev/null 2>&1 || true
    ovs-appctl -t "$OVS_DIR/ovs-vswitchd.$_ovs_sw_pid.ctl" --timeout=5 exit --cleanup > /dev/null 2>&1 || true
    _ovs_wait_gone "$_ovs_sw_pid" ovs-vswitchd || kill -9 "$_ovs_sw_pid" 2> /dev/null || true
  fi
  if [ -n "$_ovs_db_pid" ] && _ovs_alive "$_ovs_db_pid" ovsdb-server; then
    ovs-appctl -t "$OVS_DIR/ovsdb-server.$_ovs_db_pid.ctl" --timeout=5 exit > /dev/null 2>&1 || true
    _ovs_wait_gone "$_ovs_db_pid" ovsdb-server || kill -9 "$_ovs_db_pid" 2> /dev/null || true
  fi
  if [ -n "$OVS_NETNS" ]; then ip netns delete "$OVS_NETNS" 2> /dev/null || true; fi
  _ovs_sw_pid="" _ovs_db_pid="" OVS_DIR="" OVS_BR="" OVS_NETNS=""
  return 0
}
