# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# lib.sh: shared by the shell tests: a throwaway "host" netns per run, TAP helpers,
# unique names, partitions as network namespaces (routed /32 or on a bridge), UDP
# send/receive, cleanup traps.

XCHAN=${XCHAN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/xchan}
RUN_ID=${RUN_ID:-$$}
PFX="x${RUN_ID}"                       # every name this run creates starts with it
PIN="/sys/fs/bpf/xchan-t${RUN_ID}"

# Every script that sources this file runs again inside its own "host" netns, so
# that its routes, sysctls (ip_forward, proxy_arp), bridges, nftables and podman's
# CNI bridge belong to that netns and vanish with it; the real host is never
# changed. nsenter, not `ip netns exec`, which remounts /sys and hides bpffs. Names
# of what must go even if the script dies (netns, pins, containers) are kept in
# $XCHAN_REAP, which this outer process works through when the script has ended.
hostns_reap() {
	local kind name
	# containers first (their CNI bridge lives in the host netns), then every netns
	# (devices and the XDP programs on them go with it), then the pins
	while read -r kind name; do
		podman container exists "$name" 2>/dev/null || continue
		# from the host netns, where CNI made the container's bridge and rules
		nsenter --net="/run/netns/$XCHAN_HOSTNS" podman --runtime runc \
			--cgroup-manager cgroupfs rm -f -t 0 "$name" >/dev/null 2>&1
	done < <(grep '^ctr ' "$XCHAN_REAP")
	while read -r kind name; do
		ip netns pids "$name" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$name" 2>/dev/null
	done < <(tac "$XCHAN_REAP" | grep '^netns ')
	while read -r kind name; do rm -rf "$name"; done < <(grep -E '^(pin|dir) ' "$XCHAN_REAP")
	rm -f "$XCHAN_REAP"
}
# reap_add KIND NAME: what hostns_reap removes if the script does not.
reap_add() { [ -z "$XCHAN_REAP" ] || echo "$1 $2" >>"$XCHAN_REAP"; }
if [ -z "$XCHAN_HOSTNS" ]; then
	export RUN_ID XCHAN XCHAN_HOSTNS="${PFX}-host" XCHAN_REAP
	XCHAN_REAP=$(mktemp) || exit 1
	trap 'hostns_reap' EXIT
	ip netns add "$XCHAN_HOSTNS" || { echo "Bail out! cannot create netns $XCHAN_HOSTNS"; exit 1; }
	reap_add netns "$XCHAN_HOSTNS"
	ip -n "$XCHAN_HOSTNS" link set lo up
	# In the background with stdin kept, so that INT/TERM reach it through the trap.
	nsenter --net="/run/netns/$XCHAN_HOSTNS" bash "$0" "$@" <&0 &
	hostns_child=$!
	trap 'kill -TERM $hostns_child 2>/dev/null' INT TERM
	while wait $hostns_child; hostns_rc=$?; kill -0 $hostns_child 2>/dev/null; do :; done
	exit $hostns_rc
fi
reap_add pin "$PIN"
NSES=()
HOSTDEVS=()
T_N=0
T_FAIL=0

ok()   { T_N=$((T_N+1)); echo "ok $T_N - $*"; }
nok()  { T_N=$((T_N+1)); T_FAIL=$((T_FAIL+1)); echo "not ok $T_N - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
diag() { echo "# $*"; }

cleanup() {
	"$XCHAN" --pin-root "$PIN" down >/dev/null 2>&1
	for d in "${HOSTDEVS[@]}"; do ip link del "$d" 2>/dev/null; done
	for n in "${NSES[@]}"; do ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del "$n" 2>/dev/null; done
	ip link del "${PFX}br" 2>/dev/null
	rm -rf "$PIN" "$TMPD" 2>/dev/null
}
finish() {
	echo "1..$T_N"
	[ "$T_FAIL" -eq 0 ]
}
TMPD=$(mktemp -d)
trap 'cleanup' EXIT
trap 'exit 130' INT TERM

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# ns_add NAME: a network namespace this run removes, whatever happens to it.
ns_add() { ip netns add "$1" || return 1; NSES+=("$1"); reap_add netns "$1"; }

# VETH_QUEUES=N (the bench): every veth made here and in nodes.sh gets N queues each
# way, so that N CPUs each run their own NAPI on it (veth picks the queue by CPU).
vq() { [ -z "$VETH_QUEUES" ] || echo "numtxqueues $VETH_QUEUES numrxqueues $VETH_QUEUES"; }

# make_part NAME IP [bridge]: netns ${PFX}NAME with eth0 = IP; host side ${PFX}NAME.
# Routed mode sets forwarding and proxy ARP: in this run's host netns only.
make_part() {
	local name=$1 ip=$2 mode=${3:-routed} ns="${PFX}$1" host="${PFX}$1"
	ns_add "$ns" || return 1
	ip link add "$host" $(vq) type veth peer name eth0 $(vq) netns "$ns" || return 1
	HOSTDEVS+=("$host")
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	if [ "$mode" = bridge ]; then
		ip link show "${PFX}br" >/dev/null 2>&1 || { ip link add "${PFX}br" type bridge && ip link set "${PFX}br" up; }
		ip link set "$host" master "${PFX}br"
		ip link set "$host" up
		ip -n "$ns" addr add "$ip/24" dev eth0
	else
		ip link set "$host" up
		ip -n "$ns" addr add "$ip/24" dev eth0
		ip route add "$ip/32" dev "$host"
		sysctl -qw "net.ipv4.conf.$host.proxy_arp=1"
		sysctl -qw "net.ipv4.neigh.$host.proxy_delay=0"   # answer at once: no timing games
		sysctl -qw "net.ipv4.ip_forward=1"
	fi
}

# recv_start NAME PORT: a UDP receiver in the partition, writing what it gets.
recv_start() {
	local out="$TMPD/recv.$1.$2"
	: > "$out"; rm -f "$out.ready"
	ip netns exec "${PFX}$1" python3 -u - "$2" "$out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
open(sys.argv[2] + ".ready", "w").close()
with open(sys.argv[2], "a") as f:
    while True:
        d, a = s.recvfrom(65535)
        f.write("%s %d %s\n" % (a[0], a[1], d.decode(errors="replace")))
        f.flush()
PY
	echo $! > "$TMPD/recv.$1.$2.pid"
	# bound, not merely started: a loaded machine can take seconds to start python
	eventually 20 test -e "$out.ready"
}
recv_stop() { kill "$(cat "$TMPD/recv.$1.$2.pid")" 2>/dev/null; wait "$(cat "$TMPD/recv.$1.$2.pid")" 2>/dev/null; }
# received NAME PORT: the lines delivered to that socket
received() { cat "$TMPD/recv.$1.$2" 2>/dev/null; }
# send NAME SPORT DSTIP DPORT COUNT TAG: COUNT datagrams from sport, payload TAG-i
send_udp() {
	ip netns exec "${PFX}$1" python3 - "$2" "$3" "$4" "$5" "$6" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
for i in range(int(sys.argv[4])):
    try:
        s.sendto(("%s-%d" % (sys.argv[5], i)).encode(), (sys.argv[2], int(sys.argv[3])))
    except OSError:
        pass
    time.sleep(0.002)
PY
}
x() { "$XCHAN" --pin-root "$PIN" "$@"; }
# The counter slots (include/xchan.h): every IN entry of xchan_channels names, in bits
# 8-31 of its word ctl, the slot of xchan_counts holding its channel's counters, and so
# does every OUT entry towards another node (its DATA sequence); an OUT entry within
# the node names none (XCHAN_NO_SLOT, 16777215); the bits of xchan_slotalloc say
# which slots are taken. ROOT defaults to $PIN. Never the entries' key bytes.
NO_SLOT=16777215
# chan_slots [ROOT]: "DIR LOCAL_PART:LOCAL_EP REMOTE_PART:REMOTE_EP SLOT" per entry
chan_slots() {
	bpftool -j map dump pinned "${1:-$PIN}/xchan_channels" | jq -r '.[] | .formatted |
		"\(if .key.dir == 1 then "in" else "out" end) \(.key.local_part):\(.key.local_ep) \(.key.remote_part):\(.key.remote_ep) \(.value.ctl / 256 | floor)"'
}
# slot_count SLOT FIELD [ROOT]: the packets, bytes or drops counted in that slot
slot_count() {
	local s=$1
	bpftool -j map lookup pinned "${3:-$PIN}/xchan_counts" \
		key $((s & 255)) $((s >> 8 & 255)) $((s >> 16 & 255)) $((s >> 24 & 255)) | jq ".formatted.value.$2"
}
# slots_taken [ROOT]: the slots whose bit is set, one a line, ascending; from the raw
# bytes (a word's number can pass 2^53, where jq rounds). Words 0 and 1 are not bits:
# where the next search starts, and the change sequence.
slots_taken() {
	bpftool -j map dump pinned "${1:-$PIN}/xchan_slotalloc" | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    k = int.from_bytes(bytes(int(b, 16) for b in e["key"]), "little")
    v = int.from_bytes(bytes(int(b, 16) for b in e["value"]), "little")
    for b in range(64 if k >= 2 else 0):
        if v >> b & 1:
            print((k - 2) * 64 + b)
'
}
# old_pin ROOT NAME: a pin of a layout before xchan_counts (per-CPU counter rows by
# channel id, flow entries and their per-CPU slots), shaped as its version made it:
# what an instance of that version, or its leftover, holds
old_pin() {
	local shape flags=0
	case $2 in
	xchan_chancount|xchan_chanstats) shape="percpu_hash key 16 value 24" ;;
	xchan_flows) shape="hash key 12 value 48" flags=1 ;;		# BPF_F_NO_PREALLOC
	xchan_flowstats) shape="percpu_array key 4 value 16" ;;
	xchan_flowalloc|xchan_flowslots) shape="array key 4 value 8" flags=1024 ;;	# BPF_F_MMAPABLE
	*) return 1 ;;
	esac
	# shellcheck disable=SC2086
	bpftool map create "$1/$2" type $shape entries 64 name "$2" flags $flags
}
# change_seq [ROOT]: the change sequence (word 1 of xchan_slotalloc), which the CMM's
# per-CPU flow cache checks: moved by two after every key change and channel removal
change_seq() {
	bpftool -j map lookup pinned "${1:-$PIN}/xchan_slotalloc" key 1 0 0 0 | jq '.formatted.value'
}
# eventually SECS CMD...: CMD succeeds within SECS seconds (polled every 0.1 s), for
# what a daemon does on its own schedule; a loaded machine must not fail the test.
eventually() { local n=$(($1 * 10)); shift; while ! "$@"; do n=$((n - 1)); [ $n -gt 0 ] || return 1; sleep 0.1; done; }
quiet() { "$@" >/dev/null; }
