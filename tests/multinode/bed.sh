#!/usr/bin/env bash
# A test bed of simulated nodes on this machine: each node is a network namespace and a UTS
# namespace of its own (hostname node1, node2, ...), with one veth link to a bridge that lives in
# a namespace of its own too (the "switch"), so the machine's own network is never touched and
# nothing sent on the bed can leave it. Addresses 10.77.0.<i>/24; a command on a node sees the
# bed's hosts file as /etc/hosts (a mount namespace of its own) and this machine's /sys (cgroups
# for slurmd). tests/multinode/README.md says how Open MPI and Slurm use it.
#
# Usage: bed.sh start DIR NODES [RATE]   # RATE (tc syntax, e.g. 1gbit) shapes every link, both ways
#        bed.sh stop DIR                 # kills what runs on the nodes, removes all it made
#        bed.sh exec DIR NODE CMD...     # runs CMD on NODE (node1, node2, ...)
#        bed.sh shape DIR RATE|none      # reshapes the links of a running bed
# Needs root (CI has it), iproute2's ip and tc, util-linux's unshare and nsenter.
set -eEu   # -E: the ERR trap of `start` also fires in the functions it calls

usage() { echo "usage: $0 start DIR NODES [RATE] | stop DIR | exec DIR NODE CMD... | shape DIR RATE|none" >&2; exit 2; }
[ $# -ge 2 ] || usage
action="$1"
[ "$action" = start ] && mkdir -p "$2"
[ -d "$2" ] || { [ "$action" = stop ] && exit 0; echo "bed.sh: $2: no bed there" >&2; exit 2; }
dir="$(cd "$2" && pwd)"
# Names from the folder, short enough for a link name (15 bytes): two beds in two folders never meet.
id="$(printf %s "$dir" | md5sum | cut -c1-6)"
switch="sb$id-sw"
ns_of() { echo "sb$id-$1"; }
nodes() { cat "$dir/nodes" 2>/dev/null || true; }

# tc on one end of a link: a token bucket at RATE (burst: 4 ms of traffic, at least 64 KiB), or nothing.
shape_dev() {
  local ns="$1" dev="$2" rate="$3" bytes_per_s burst
  ip netns exec "$ns" tc qdisc del dev "$dev" root 2>/dev/null || true
  [ "$rate" = none ] && return 0
  bytes_per_s="$(tc_rate_bytes "$rate")"
  burst=$((bytes_per_s / 250)); [ "$burst" -ge 65536 ] || burst=65536
  ip netns exec "$ns" tc qdisc add dev "$dev" root tbf rate "$rate" burst "$burst" latency 100ms
}
# RATE in tc's units (bit, kbit, mbit, gbit) as bytes per second.
tc_rate_bytes() {
  local rate="$1" n unit
  n="${rate%%[a-z]*}"; unit="${rate#"$n"}"
  case "$unit" in
    bit) echo $((n / 8)) ;; kbit) echo $((n * 125)) ;; mbit) echo $((n * 125000)) ;; gbit) echo $((n * 125000000)) ;;
    *) echo "bed.sh: rate '$rate': use a whole number of bit, kbit, mbit or gbit (e.g. 1gbit)" >&2; exit 2 ;;
  esac
}
shape() {
  local rate="$1" node i=0
  for node in $(nodes); do
    i=$((i + 1))
    shape_dev "$(ns_of "$node")" eth0 "$rate"   # the node's sending side
    shape_dev "$switch" "v$id$i" "$rate"        # and what the switch sends to it
  done
  echo "$rate" >"$dir/rate"
}

start() {
  local count="$1" rate="${2:-none}" i node ns
  [[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -ge 1 ] && [ "$count" -le 200 ] ||
    { echo "bed.sh: NODES must be a number from 1 to 200, got '$count'" >&2; exit 2; }
  [ "$rate" = none ] || tc_rate_bytes "$rate" >/dev/null
  [ ! -s "$dir/nodes" ] || { echo "bed.sh: a bed already stands in $dir (bed.sh stop $dir)" >&2; exit 1; }
  # Whatever fails from here on, the bed is taken down again.
  trap 'stop; exit 1' ERR
  mkdir -p "$dir/uts"
  ip netns add "$switch"
  ip -n "$switch" link add br0 type bridge
  ip -n "$switch" link set br0 up
  {
    echo "127.0.0.1 localhost"
    for i in $(seq "$count"); do echo "10.77.0.$i node$i"; done
  } >"$dir/hosts"
  for i in $(seq "$count"); do
    node="node$i"; ns="$(ns_of "$node")"
    echo "$node" >>"$dir/nodes"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$switch" link add "v$id$i" type veth peer name eth0 netns "$ns"
    ip -n "$switch" link set "v$id$i" master br0 up
    ip -n "$ns" addr add "10.77.0.$i/24" dev eth0
    ip -n "$ns" link set eth0 up
    # The node's hostname: a UTS namespace kept alive by a bind mount on a file of the bed.
    : >"$dir/uts/$node"
    unshare --uts="$dir/uts/$node" hostname "$node"
  done
  shape "$rate"
  trap - ERR
}

stop() {
  local node ns pids
  for node in $(nodes); do
    ns="$(ns_of "$node")"
    if [ -e "/run/netns/$ns" ]; then
      pids="$(ip netns pids "$ns" 2>/dev/null || true)"
      # shellcheck disable=SC2086
      [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
      ip netns del "$ns" 2>/dev/null || true
    fi
    umount "$dir/uts/$node" 2>/dev/null || true
  done
  [ ! -e "/run/netns/$switch" ] || ip netns del "$switch"
  rm -rf "$dir/uts" "$dir/nodes" "$dir/hosts" "$dir/rate"
}

node_exec() {
  local node="$1"; shift
  [ $# -ge 1 ] || usage
  grep -qx -- "$node" "$dir/nodes" 2>/dev/null || { echo "bed.sh: no node '$node' in the bed in $dir" >&2; exit 2; }
  # Not `ip netns exec`: it mounts a fresh /sys without the cgroup folders that slurmd needs.
  exec nsenter --net="/run/netns/$(ns_of "$node")" --uts="$dir/uts/$node" -- \
    unshare --mount sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$dir/hosts" "$@"
}

case "$action" in
  start) [ $# -ge 3 ] || usage; start "$3" "${4:-none}" ;;
  stop) stop ;;
  exec) [ $# -ge 4 ] || usage; shift 2; node_exec "$@" ;;
  shape) [ $# = 3 ] || usage; [ "$3" = none ] || tc_rate_bytes "$3" >/dev/null; shape "$3" ;;
  *) usage ;;
esac
