#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# demo.sh: `xchan demo` / `make demo`. Three partitions (podman containers when
# podman works here, network namespaces on a bridge otherwise): alice and bob
# user-namespaced as the README recommends, mallory compromised and deliberately
# at risk (host uid 0). Doctor's verdicts; one channel and traffic over it and over
# paths nobody authorized; mallory's attempts to get around the CMM through the
# bridge and the host (broadcast, multicast, DHCP, a port mapping, a host route),
# first against both sides and then against the receive side alone; processes
# asking `xchan agent` for a channel under a policy. Shows what alice's sockets
# received and what was refused and why; cleans up. Exits non-zero if anything did
# not behave.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB=${XCHAN_LIB:-$HERE/../selftests}
export XCHAN=${XCHAN:-$HERE/../build/xchan}
# installed: share/xchan/{scripts,selftests,ctr_tool}; in the tree: build/ctr_tool
[ -x "$(dirname "$XCHAN")/ctr_tool" ] || export CTR_TOOL=$HERE/../ctr_tool
RUN_ID=${RUN_ID:-d$(( $$ % 100000 ))}	# host veth names stay within 15 characters; kept when lib.sh re-runs this in its host netns
. "$LIB/lib.sh"
. "$LIB/containers.sh"
CLIENT=$(dirname "$XCHAN")/xchan-client
[ -x "$CLIENT" ] || CLIENT=$(command -v xchan-client)
PROBE=$LIB/rx_probe.py
[ -r "$PROBE" ] || PROBE=
AGENT_PID=
MON_PID=
agent_stop() {
	[ -n "$AGENT_PID" ] || return 0
	kill -TERM "$AGENT_PID" 2>/dev/null; wait "$AGENT_PID" 2>/dev/null; local rc=$?
	AGENT_PID=
	return $rc
}
mon_stop() { [ -n "$MON_PID" ] || return 0; kill -TERM "$MON_PID" 2>/dev/null; wait "$MON_PID" 2>/dev/null; MON_PID=; }
trap 'agent_stop; mon_stop; ctr_cleanup; cleanup' EXIT
BAD=0
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
indent() { sed 's/^/   /'; }
start=$(date +%s)
GW2=10.99.5.5	# a second address of alice's, reached by a host route

if [ -z "$XCHAN_DEMO_NETNS" ] && podman_works 2>/dev/null; then
	PODMAN_MODE=1
	KIND="podman containers (runc, rootfs: busybox-static, ctr_tool, xchan-client)"
	[ -n "$CLIENT" ] && install -m 0755 "$CLIENT" "$ROOTFS/bin/xchan-client"
	# alice and bob as the README recommends: user-namespaced, uid 0 mapped away (each
	# its own range); alice publishes a port (podman -p: a DNAT on the host)
	ctr_run alice --uidmap 0:100000:65536 --gidmap 0:100000:65536 -p 8080:6000/udp &&
	ctr_run bob --uidmap 0:165536:65536 --gidmap 0:165536:65536 || exit 1
	# compromised, and deliberately at risk: host uid 0, no user namespace, root in its netns
	ctr_run mallory --cap-add NET_ADMIN --cap-add NET_RAW || exit 1
	A=$(ctr_ip alice); B=$(ctr_ip bob); M=$(ctr_ip mallory)
	GW=$(ip -j addr show cni-podman0 | jq -r '.[0].addr_info[] | select(.family=="inet") | .local' | head -1)
	src() { echo "--podman ${PFX}$1"; }
	run_in() { local c=$1; shift; ctr_exec "$c" /bin/ctr_tool "$@"; }
	ip_in() { local c=$1; shift; ctr_exec "$c" ip "$@"; }
	cl() { local c=$1; shift; ctr_exec "$c" /bin/xchan-client "$@"; }
	# the containers' netns by name too, for host tools (rx_probe.py) run inside them
	for c in alice bob mallory; do ctr_netns_attach $c || exit 1; done
else
	PODMAN_MODE=
	KIND="network namespaces on a bridge (podman is not usable here)"
	A=10.90.0.1; B=10.90.0.2; M=10.90.0.3; GW=10.90.0.254
	make_part alice $A bridge && make_part bob $B bridge && make_part mallory $M bridge || exit 1
	ip addr add "$GW/24" dev "${PFX}br"
	for c in alice bob mallory; do ip -n "${PFX}$c" route add default via "$GW"; done
	sysctl -qw net.ipv4.ip_forward=1	# this run's host netns only
	# a port mapping as podman -p makes one (host:8080 -> alice:6000, the host's own too);
	# br_netfilter off here, so that a hairpin goes up through the bridge device
	sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null
	nft -f - <<NFT
table ip xdemo {
	chain pre { type nat hook prerouting priority dstnat; ip daddr $GW udp dport 8080 dnat to $A:6000; }
	chain out { type nat hook output priority -100; ip daddr $GW udp dport 8080 dnat to $A:6000; }
}
NFT
	ctr_rootfs >/dev/null 2>&1
	src() { echo "--netns ${PFX}$1"; }
	run_in() { local c=$1; shift; ip netns exec "${PFX}$c" "$CTR_TOOL" "$@"; }
	ip_in() { local c=$1; shift; ip -n "${PFX}$c" "$@"; }
	cl() { local c=$1; shift; ip netns exec "${PFX}$c" "$CLIENT" "$@"; }
fi
say "xchan demo: three partitions as $KIND"
i=1
for c in alice bob mallory; do
	# shellcheck disable=SC2046
	x partition add $i --name $c $(src $c) 2>&1 | indent || BAD=1
	i=$((i+1))
done
MID=3

say "doctor: can these partitions reach xchan's maps?"
if [ -n "$PODMAN_MODE" ]; then
	echo "   alice and bob run user-namespaced (--uidmap 0:100000:65536, 0:165536:65536);"
	echo "   mallory runs as host uid 0 with NET_ADMIN, no user namespace: at risk, on purpose"
fi
x doctor | indent
if [ -n "$PODMAN_MODE" ]; then
	verdicts=$(x -j doctor | jq -r 'map("\(.name)=\(.verdict)") | sort | join(" ")')
	[ "$verdicts" = "alice=ok bob=ok mallory=at-risk" ] ||
		{ echo "   UNEXPECTED verdicts ($verdicts; want alice=ok bob=ok mallory=at-risk)"; BAD=1; }
else
	echo "   (no container lives in these netns: user-namespaced containers and their verdicts need podman; skipped)"
fi

say "one channel, authorized on both sides, key created by the receiver"
echo "   \$ xchan channel open bob:5000 alice:6000"
x channel open bob:5000 alice:6000 | sed 's/^/   /'
x channel list | sed 's/^/   /'

say "traffic (what alice's sockets received is the ground truth)"
reasons() { x -j stats | jq -c '[.reasons[] | {(.reason): .packets}] | add'; }
echo "   (send side's reasons; the receive side's, for the partitions' own ARP and IPv6 chatter, are in the stats below)"
printf '   %-34s %-34s %5s %9s  %s\n' "path" "what" "sent" "delivered" "verdict"
# path FROM SPORT DPORT COUNT EXPECT WHAT [SRCIP]
path() {
	local from=$1 sport=$2 dport=$3 n=$4 want=$5 what=$6 srcip=$7 before after got why
	before=$(reasons)
	run_in alice recv "$dport" 2 >"$TMPD/rx" &
	sleep 0.4
	run_in "$from" send "$sport" "$A" "$dport" "$n" msg $srcip
	wait
	after=$(reasons)
	got=$(grep -c " msg-" "$TMPD/rx")
	why=$(jq -rn --argjson a "$after" --argjson b "$before" \
		'[$a | to_entries[] | select(.value > ($b[.key] // 0)) | select(.key | startswith("drop") and (startswith("drop_rx_") | not)) | "\(.key) \(.value - ($b[.key] // 0))"] | join(", ")')
	local mark="ok"; [ "$got" -eq "$want" ] || { mark="UNEXPECTED (want $want)"; BAD=1; }
	printf '   %-34s %-34s %5d %9d  %s%s\n' "$from:$sport -> alice:$dport" "$what" "$n" "$got" "$mark" "${why:+, refused: $why}"
}
path bob 5000 6000 20 20 "authorized channel"
path bob 5001 6000 5 0 "wrong source port"
path bob 5000 6001 5 0 "wrong destination port"
path mallory 5000 6000 5 0 "no channel for mallory"
ip_in mallory addr add "$B/32" dev eth0 || BAD=1
path mallory 5000 6000 5 0 "mallory claiming bob's address" "$B"
ip_in mallory addr del "$B/32" dev eth0
{
	before=$(x -j stats | jq '.reasons[] | select(.reason=="drop_ctrl_untrusted") | .packets')
	run_in mallory forge "$A" >/dev/null
	after=$(x -j stats | jq '.reasons[] | select(.reason=="drop_ctrl_untrusted") | .packets')
	est=$(x -j channel list | jq '[.[] | select(.state=="established")] | length')
	mark="ok"; [ "$est" -eq 2 ] && [ $((after - before)) -gt 0 ] || { mark="UNEXPECTED"; BAD=1; }
	printf '   %-34s %-34s %5d %9s  %s, refused: drop_ctrl_untrusted %d\n' "mallory -> alice:7420" \
		"forged CONNECT/ACK/CLOSE, all types" 54 "-" "$mark" $((after - before))
}

say "audit events (xchan monitor, first few)"
x monitor --timeout 1 | grep -v ' drop ' | head -6 | sed 's/^/   /'

say "the channel table as bpftool shows it (the key bytes left out here: root can read them)"
echo "   \$ bpftool -j map dump pinned $PIN/xchan_channels | jq ..."
# each side's entry: its keys, their ids, valid and cur, and ctl, decoded beside it:
# state (1 authorized, 2 established), the key's owner (1 local, 2 remote), the slot
bpftool -j map dump pinned "$PIN/xchan_channels" | jq '.[0:2] | map(.formatted |
	.value.key = "<two 16-byte keys, not shown>" |
	.value += { state: (.value.ctl % 4), owner: ((.value.ctl / 4 | floor) % 4),
		    slot: (.value.ctl / 256 | floor) })' | sed 's/^/   /'
# a channel is counted at its receiver: its IN entry names a slot of xchan_counts (the
# OUT entry within the node none, 16777215), where the CMM adds every frame it passed
slot=$(chan_slots | awk '$1 == "in" && $2 == "1:6000" && $3 == "2:5000" { print $4 }')
echo "   the channel's counters, in slot $slot as its IN entry names:"
echo "   \$ bpftool map lookup pinned $PIN/xchan_counts key $((slot & 255)) $((slot >> 8 & 255)) $((slot >> 16 & 255)) $((slot >> 24 & 255))"
bpftool map lookup pinned "$PIN/xchan_counts" key $((slot & 255)) $((slot >> 8 & 255)) $((slot >> 16 & 255)) $((slot >> 24 & 255)) | indent
pk=$(slot_count "$slot" packets)
shown=$(x -j stats --channels | jq '[.channels[] | select(.src_part==2 and .src_ep==5000 and .dst_ep==6000) | .packets] | add')
if [ "$pk" -ge 20 ] && [ "$pk" = "$shown" ]; then
	echo "   ok: $pk packets, at least the 20 alice's socket got, as \`xchan stats --channels\` shows"
else
	echo "   UNEXPECTED: $pk packets in the slot, $shown in \`xchan stats --channels\`; alice's socket got 20"; BAD=1
fi

say "mallory (compromised) tries to get around the CMM, through the bridge and the host"
# What alice's sockets get is the ground truth; the reasons are the audit events
# charged to mallory while each attempt ran, and the counters in `xchan stats`.
# The crafted frames come from rx_probe.py (the receive side's test probes), run from
# the host inside mallory's netns: its rootfs has no python; root in a netns with
# NET_RAW, as mallory is, can send them all itself.
nsx() { local c=$1; shift; ip netns exec "${PFX}$c" "$@"; }
mono() { python3 -c 'import time; print(time.monotonic_ns())'; }
LLA=$(nsx alice ip -6 -o addr show dev eth0 scope link | awk '{sub("/.*", "", $4); print $4; exit}')
MDEV=$(x -j partition list | jq -r '.[] | select(.name=="mallory") | .host_dev')
# a second address of alice's and a host route to it
nsx alice ip addr add "$GW2/32" dev eth0 && ip route add "$GW2/32" via "$A" || BAD=1
ATT=()
reasons() { x -j stats | jq -c '[.reasons[] | select(.reason | startswith("drop")) | {(.reason): .packets}] | add'; }
# attempt WHAT SENT WANT FILE TAG CMD...: one attempt; TAG counts what alice's socket (FILE) got
attempt() {
	local what=$1 n=$2 want=$3 file=$4 tag=$5 t0 before; shift 5
	before=$(reasons)
	t0=$(mono)
	"$@" >/dev/null 2>&1
	# time for the last frames to be judged inside this attempt's window, and for
	# mallory's event budget (100/s after a burst of 64) to refill between attempts
	sleep 0.3
	ATT+=("$what|$n|$want|$file|$tag|$t0|$before|$(reasons)")
}
round() {	# ROUND: every attempt once, then the table
	local r=$1 l pids=() end
	: >"$TMPD/events.$r"
	"$XCHAN" --pin-root "$PIN" -j monitor >"$TMPD/events.$r" 2>/dev/null &
	MON_PID=$!
	# (ip netns exec execs its command: these pids are the listeners')
	ip netns exec "${PFX}alice" "$CTR_TOOL" recv 6000 30 >"$TMPD/a6000.$r" & pids+=($!)
	ip netns exec "${PFX}alice" "$CTR_TOOL" recv 68 30 >"$TMPD/a68.$r" & pids+=($!)
	[ -n "$PROBE" ] && { : >"$TMPD/a6.$r"; ip netns exec "${PFX}alice" python3 "$PROBE" listen6 6000 30 "$TMPD/a6.$r" & pids+=($!); }
	sleep 0.5
	ATT=()
	attempt "UDP to alice:6000, no channel" 5 0 a6000 "plain-" nsx mallory "$CTR_TOOL" send 5000 "$A" 6000 5 plain
	if [ -n "$PROBE" ]; then
		attempt "IPv6 all-nodes ff02::1 :6000, unprivileged" 5 0 a6 mcast6 \
			nsx mallory setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 "$PROBE" mcast6 6000
		[ -n "$LLA" ] && attempt "IPv6 to alice's link-local, bcast MAC" 5 0 a6 llbcast \
			nsx mallory python3 "$PROBE" ll_bcast "$LLA" 6000
		attempt "IPv4 to alice's address, bcast MAC, :68" 5 0 a68 bcast4 nsx mallory python3 "$PROBE" bcast4 "$A" 68
		attempt "rogue DHCP offer to 255.255.255.255:68" 5 0 a68 "bcast-" \
			nsx mallory python3 "$PROBE" bcast 255.255.255.255 68 67
	fi
	attempt "alice's port mapping host:8080 -> :6000" 5 0 a6000 viadnat nsx mallory "$CTR_TOOL" send 5001 "$GW" 8080 5 viadnat
	attempt "host route to alice's 2nd address $GW2" 5 0 a6000 viaroute nsx mallory "$CTR_TOOL" send 5002 "$GW2" 6000 5 viaroute
	# the host itself is outside any partition: the same mapping and route still work for it
	attempt "(the host, through the same mapping)" 3 -1 a6000 hostdnat "$CTR_TOOL" send 5999 "$GW" 8080 3 hostdnat
	attempt "(the host, to the 2nd address)" 3 -1 a6000 hostroute "$CTR_TOOL" send 5998 "$GW2" 6000 3 hostroute
	sleep 0.5
	end=$(mono)
	kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null
	mon_stop
	printf '   %-42s %5s %9s  %s\n' "attempt from mallory" "sent" "alice got" "verdict (reasons counted)"
	for ((i = 0; i < ${#ATT[@]}; i++)); do
		local what n want file tag t0 t1 b a got why mark
		IFS='|' read -r what n want file tag t0 b a <<<"${ATT[$i]}"
		if [ $((i + 1)) -lt ${#ATT[@]} ]; then IFS='|' read -r _ _ _ _ _ t1 _ <<<"${ATT[$((i + 1))]}"; else t1=$end; fi
		got=$(grep -c -- "$tag" "$TMPD/$file.$r")
		# the counters that moved during the attempt; a receive-side reason only if the
		# audit charged it to mallory then (the others' own ARP and IPv6 chatter is refused too)
		why=$(jq -rs --argjson t0 "$t0" --argjson t1 "$t1" --argjson m "$MID" --argjson a "$a" --argjson b "$b" '
			[.[] | select(.src_kind == "partition" and .src_id == $m and .ts_ns >= $t0 and .ts_ns < $t1) | .reason] as $mine
			| [$a | to_entries[] | select(.value > ($b[.key] // 0))
			   | select((.key | startswith("drop_rx_") | not) or (.key as $k | $mine | index($k)))
			   | "\(.key) \(.value - ($b[.key] // 0))"] | join(", ")' "$TMPD/events.$r")
		if [ "$want" -lt 0 ]; then
			mark="ok, delivered"; [ "$got" -ge 1 ] || { mark="UNEXPECTED (want some)"; BAD=1; }
		else
			mark="ok, refused"; [ "$got" -eq "$want" ] || { mark="UNEXPECTED (want $want)"; BAD=1; }
			# a host that does not route mallory's datagram there (its forwarding,
			# its firewall) leaves nothing to judge: said so, not counted as a pass
			if [ -z "$why" ] && [ "$got" -eq 0 ] && [ "$tag" = viaroute ]; then
				mark="not routed by this host: nothing reached alice's veth to judge"
			else
				[ -n "$why" ] || [ "$got" -ne 0 ] || { mark="UNEXPECTED (nothing audited)"; BAD=1; }
			fi
		fi
		printf '   %-42s %5d %9d  %s%s\n' "$what" "$n" "$got" "$mark" "${why:+: $why}"
	done
}
[ -n "$PROBE" ] || echo "   (rx_probe.py not found beside lib.sh: the crafted-frame attempts are skipped)"
echo "   (a broadcast or multicast frame is refused at each partition it would reach: alice and bob, hence 10 for 5)"
echo "   -- round 1: mallory's send side (XDP on $MDEV) and alice's receive side (TC) both on"
round 1
echo "   -- round 2: as if mallory had got past its send side: XDP taken off $MDEV, the receive side alone"
ip link set dev "$MDEV" xdp off || BAD=1
round 2
echo "   a few of round 2's audit events (xchan monitor):"
jq -r 'select(.kind == "receive_refused" and .src_id == '"$MID"') | "     \(.kind) \(.reason) if=\(.ifindex) \(.saddr) -> \(.daddr), charged to \(.src_kind) \(.src_id)"' \
	"$TMPD/events.2" | awk '!seen[$2]++' | head -5
echo "   \$ xchan stats   (every refusal so far, by reason)"
x stats | awk 'NR == 1 || ($1 ~ /^drop_/ && $2 > 0)' | indent
# mallory's send side back, for what follows
{ x partition del mallory && x partition add $MID --name mallory $(src mallory); } >/dev/null 2>&1 || BAD=1
ip route del "$GW2/32" 2>/dev/null

say "processes ask for their channels: xchan agent"
if [ -z "$CLIENT" ]; then
	echo "   (xchan-client not found: skipped)"
else
	cat >"$TMPD/policy" <<'POL'
# alice takes bob's 5100 on her 6100; bob may send from 5100 to alice:6100; nothing for mallory
allow alice receive bob:5100 local 6100
allow bob   send    alice:6100 local 5100
POL
	echo "   policy:"; indent <"$TMPD/policy"
	echo "   \$ xchan agent --policy policy &     (a request socket @xchan in each partition's netns)"
	"$XCHAN" --pin-root "$PIN" agent --policy "$TMPD/policy" --poll-ms 200 2>"$TMPD/agent.log" &
	AGENT_PID=$!
	served() { for _ in $(seq 50); do cl "$1" list >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
	served alice && served bob && served mallory || { echo "   UNEXPECTED: the agent does not serve every partition"; BAD=1; }
	cl alice --timeout 5000 offer 6100 bob:5100 >"$TMPD/offer" 2>&1 &	# (a function: its own pid)
	opid=$!
	sleep 0.3
	cl bob ask 5100 alice:6100 >"$TMPD/ask" 2>&1; arc=$?
	wait $opid; orc=$?
	echo "   alice\$ xchan-client --timeout 5000 offer 6100 bob:5100   (waits for bob)"
	indent <"$TMPD/offer" | sed 's/^/  /'
	echo "   bob\$ xchan-client ask 5100 alice:6100"
	indent <"$TMPD/ask" | sed 's/^/  /'
	[ $arc -eq 0 ] && [ $orc -eq 0 ] || { echo "   UNEXPECTED: exit $orc and $arc"; BAD=1; }
	run_in alice recv 6100 2 >"$TMPD/rx" &
	rpid=$!
	sleep 0.4
	run_in bob send 5100 "$A" 6100 5 req
	wait $rpid
	got=$(grep -c " req-" "$TMPD/rx")
	mark="ok"; [ "$got" -eq 5 ] || { mark="UNEXPECTED (want 5)"; BAD=1; }
	echo "   bob:5100 -> alice:6100: 5 sent, $got delivered: $mark"
	refused() {	# WHO ARGS...: a request the policy refuses, and its reason
		local who=$1 rc; shift
		echo "   $who\$ xchan-client $*"
		cl "$who" "$@" >"$TMPD/err" 2>&1; rc=$?
		indent <"$TMPD/err" | sed 's/^/  /'
		[ $rc -eq 1 ] && grep -q "not allowed" "$TMPD/err" || { echo "   UNEXPECTED: exit $rc"; BAD=1; }
	}
	refused bob ask 5100 alice:6101
	refused mallory ask 5000 alice:6100
	refused mallory offer 6100 bob:5100
	echo "   alice\$ xchan-client list"
	cl alice list 2>&1 | indent | sed 's/^/  /'
	echo "   the agent's log (its audit lines):"
	grep -E 'audit:|agent started' "$TMPD/agent.log" | indent | sed 's/^/  /'
	agent_stop; echo "   agent stopped (exit $?); the channel stays in the maps until closed or down"
fi

say "cleaning up"
x down | sed 's/^/   /'
ctr_cleanup
echo "   done in $(( $(date +%s) - start )) s"
if [ $BAD -ne 0 ]; then
	echo "   something did not behave (see UNEXPECTED above)"
	exit 1
fi
echo "   everything behaved"
