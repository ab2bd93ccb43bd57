# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# cluster_nodes.sh: simulated nodes joined through a real etcd, for cluster.t and the
# scale script: a fabric bridge, etcd in a namespace of its own on it (10.99.0.250),
# node I as netns ${PFX}cI with its uplink up0 = 10.99.0.I, its own pin root, state
# directory and `xchan agent`. Needs lib.sh, nodes.sh (node_up, part_in), cluster.sh.

ETCD_IP=10.99.0.250
cn()  { echo "${PFX}c$1"; }
cip() { echo "10.99.0.$1"; }
# xn I ARGS...: xchan on node I (its netns and its pins)
xn() { local i=$1; shift; nsenter --net="/run/netns/$(cn "$i")" "$XCHAN" --pin-root "$PIN-c$i" "$@"; }

# cluster_fabric: the fabric and etcd on it
cluster_fabric() {
	ns_add "$FAB" || return 1
	ip -n "$FAB" link add br0 type bridge && ip -n "$FAB" link set br0 up || return 1
	ns_add "${PFX}etcd" || return 1
	ip -n "$FAB" link add fetcd type veth peer name e0 netns "${PFX}etcd"
	ip -n "$FAB" link set fetcd master br0 up
	ip -n "${PFX}etcd" link set lo up
	ip -n "${PFX}etcd" addr add "$ETCD_IP/24" dev e0
	ip -n "${PFX}etcd" link set e0 up
	etcd_start "${PFX}etcd" "$ETCD_IP"
}

# cnode_up I: node I on the fabric, joined through the store, its uplink attached
cnode_up() {
	local i=$1 t
	reap_add pin "$PIN-c$i"
	mkdir -p "$TMPD/st$i" && chmod 700 "$TMPD/st$i"
	node_up "$(cn "$i")" "$(cip "$i")" "f$i" || return 1
	t=$(date +%s.%N)
	# shellcheck disable=SC2086
	xn "$i" ${XCHAN_GLOBALS:-} cluster join --etcd "$ETCD_URL" --node "$i" --addr "$(cip "$i")" \
		--state-dir "$TMPD/st$i" >/dev/null || return 1
	[ -z "$JOIN_TIMES" ] || echo "$(date +%s.%N) - $t" | bc >>"$JOIN_TIMES"
	xn "$i" attach up0 --uplink >/dev/null
}

# cnode_route I J: node I reaches node J's partitions (10.100+J.0.0/24) through J
cnode_route() { ip -n "$(cn "$1")" route add "10.$((100 + $2)).0.0/24" via "$(cip "$2")"; }

# cagent_start I [ARGS]: node I's agent, logging to $TMPD/agentI.log (with CAGENT_TS
# set, each line prefixed with the time, as the journal would)
cagent_start() {
	local i=$1; shift
	if [ -n "$CAGENT_TS" ]; then
		nsenter --net="/run/netns/$(cn "$i")" "$XCHAN" --pin-root "$PIN-c$i" agent \
			--state-dir "$TMPD/st$i" --lease-ttl "${LEASE_TTL:-3}" "$@" </dev/null \
			> >(perl -MTime::HiRes=time -ne '$|=1; printf "%.3f %s", time, $_' >>"$TMPD/agent$i.log") 2>&1 &
	else
		nsenter --net="/run/netns/$(cn "$i")" "$XCHAN" --pin-root "$PIN-c$i" agent \
			--state-dir "$TMPD/st$i" --lease-ttl "${LEASE_TTL:-3}" "$@" \
			>>"$TMPD/agent$i.log" 2>&1 </dev/null &
	fi
	echo $! >"$TMPD/agent$i.pid"
}
# cagent_stop I [SIGNAL]: stops node I's agent and waits for it
cagent_stop() {
	local pid
	pid=$(cat "$TMPD/agent$1.pid" 2>/dev/null) || return 0
	kill -"${2:-TERM}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$TMPD/agent$1.pid"
}
cagent_log() { cat "$TMPD/agent$1.log" 2>/dev/null; }

# peers_of I: how many peers node I has a pair key for
peers_of() { xn "$1" -j node list 2>/dev/null | jq '.peers | length'; }
# has_peers I N: node I installed keys for N peers
has_peers() { [ "$(peers_of "$1")" = "$2" ]; }
# chan_state I LOCAL_PART LOCAL_PORT: state of node I's channel entry on that side
chan_state() {
	xn "$1" -j channel list 2>/dev/null |
		jq -r ".[] | select(.local_part==$2 and .local_ep==$3) | .state" | head -1
}
established() { [ "$(chan_state "$@")" = established ]; }
# reason I NAME: node I's packet count of a verdict reason
reason() { xn "$1" -j stats | jq ".reasons[] | select(.reason==\"$2\") | .packets // 0"; }

cluster_down() {
	local f
	for f in "$TMPD"/agent*.pid; do
		[ -e "$f" ] || continue
		{ kill -KILL "$(cat "$f")"; wait "$(cat "$f")"; } 2>/dev/null
	done
	etcd_stop
	for f in "$PIN"-c*; do [ -e "$f" ] && "$XCHAN" --pin-root "$f" down >/dev/null 2>&1; done
}

# seq_send NAME SPORT DSTIP DPORT COUNT GAP_MS TAG: numbered datagrams TAG-0 ... at a
# steady rate, in the background; its pid in $SEQ_PID
seq_send() {
	ip netns exec "${PFX}$1" python3 - "$2" "$3" "$4" "$5" "$6" "$7" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
gap = int(sys.argv[5]) / 1000.0
t = time.monotonic()
for i in range(int(sys.argv[4])):
    s.sendto(("%s-%d" % (sys.argv[6], i)).encode(), (sys.argv[2], int(sys.argv[3])))
    t += gap
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)
PY
	SEQ_PID=$!
}
# seq_check NAME PORT TAG COUNT: "missing duplicated" among what the socket got
seq_check() {
	received "$1" "$2" | awk -v tag="$3" -v n="$4" '
		{ split($3, a, "-"); if (a[1] == tag) seen[a[2]]++ }
		END { m = 0; d = 0; for (i = 0; i < n; i++) { if (!(i in seen)) m++; else if (seen[i] > 1) d++ }
		      print m, d }'
}
