#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# run.sh: `make bench` (and, with SMOKE=1, its seconds-long smoke run in make check).
# One topology: partition b (generator) -> host-side veth with or without the CMM ->
# partition a (receiver), routed. Every alternative is measured in the same run with
# the same 64-byte frames; results are JSON lines, then report.py writes the table.
#   DUR   seconds per measurement (default 2)    REPS  repetitions (default 3)
#   OUTDIR where results go (default build/bench) SMOKE=1: tiny counts, no report
# Two queues per veth: the two-thread rows run a NAPI per CPU (lib.sh, nodes.sh).
export VETH_QUEUES=${VETH_QUEUES:-2}
. "$(dirname "$0")/../selftests/lib.sh"
BENCH="$(dirname "$XCHAN")/xchan-bench"
TESTRUN="$(dirname "$XCHAN")/xchan-bench-testrun"
DUR=${DUR:-2}
REPS=${REPS:-3}
OUTDIR=${OUTDIR:-$(dirname "$XCHAN")/bench}
GENX=1		# the generator runs this much longer than the sink's window
if [ -n "$SMOKE" ]; then DUR=0.3; REPS=1; GENX=0.6; OUTDIR=${SMOKE_OUT:-$TMPD/bench}; fi
mkdir -p "$OUTDIR"
RES="$OUTDIR/results.jsonl"
: >"$RES"
NFT_TABLES=()
AGENT_PID=
trap '[ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null; for t in "${NFT_TABLES[@]}"; do nft delete table $t 2>/dev/null; done
	declare -f nodes_down >/dev/null && nodes_down; cleanup' EXIT

# The machine is shared: how busy it was with other work, at the start and the end
# (CPUs busy over one idle second of ours, /proc/stat; load average).
machine() {
	local a b
	a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat); sleep 1
	b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat)
	record "{\"bench\":\"machine\",\"when\":\"$1\",\"busy_cpus\":$(awk "BEGIN { printf \"%.2f\", ($b - $a) / $(getconf CLK_TCK) }"),\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"ncpu\":$(nproc)}"
}

A=10.77.0.1 B=10.77.0.2 R=10.77.0.254
make_part a $A && make_part b $B || { echo "Bail out! topology"; exit 1; }
HA="${PFX}a" HB="${PFX}b"
nsa() { nsenter --net="/run/netns/${PFX}a" "$@"; }
nsb() { nsenter --net="/run/netns/${PFX}b" "$@"; }
mac() { ip ${2:+-n "$2"} -j link show "$1" | jq -r '.[0].address'; }
AMAC=$(mac eth0 "${PFX}a"); BMAC=$(mac eth0 "${PFX}b"); HBMAC=$(mac "$HB")
# The sink drops ARP too, so the host must know a's MAC without asking.
ip neigh replace $A lladdr "$AMAC" dev "$HA" nud permanent
FRAME=(--src-mac "$BMAC" --dst-mac "$HBMAC" --src $B --dst $A --sport 5000 --dport 6000 --size 64)
record() { echo "$1" >>"$RES"; }
machine start
T_N=0; T_FAIL=0

# once NAME REP SINK_NS GEN_NS [gen options...]: the sink's rate at SINK_NS's eth0
# while the generator runs in GEN_NS, one repetition
once() {
	local name=$1 r=$2 sns=$3 gns=$4
	shift 4
	nsenter --net="/run/netns/$sns" "$BENCH" sink --dev eth0 --secs "$DUR" --warmup 0.3 >"$TMPD/sink" 2>/dev/null &
	sleep 0.2
	nsenter --net="/run/netns/$gns" "$BENCH" gen --dev eth0 --secs "$(echo "$DUR + $GENX" | bc)" "$@" >"$TMPD/gen"
	wait
	record "{\"bench\":\"live\",\"scenario\":\"$name\",\"rep\":$r,\"gen\":$(cat "$TMPD/gen"),\"sink\":$(cat "$TMPD/sink")}"
}
# measure NAME SINK_NS GEN_NS [gen options...]: REPS repetitions in a row
measure() { local name=$1; shift; for r in $(seq "$REPS"); do once "$name" "$r" "$@"; done; }
# live NAME [gen options...], live1 NAME REP [...]: b -> a on this node
live() { local name=$1; shift; measure "$name" "${PFX}a" "${PFX}b" "${FRAME[@]}" "$@"; }
live1() { local name=$1 r=$2; shift 2; once "$name" "$r" "${PFX}a" "${PFX}b" "${FRAME[@]}" "$@"; }
# trafgen_live NAME: the same frame from netsniff-ng's trafgen
trafgen_live() {
	local name=$1
	command -v trafgen >/dev/null || return 0
	"$BENCH" frame "${FRAME[@]}" >"$TMPD/frame.cfg"
	for r in $(seq "$REPS"); do
		nsa "$BENCH" sink --dev eth0 --secs "$DUR" --warmup 0.5 >"$TMPD/sink" 2>/dev/null &
		sleep 0.2
		nsb timeout "$(echo "$DUR + 1" | bc)" trafgen --dev eth0 --conf "$TMPD/frame.cfg" --cpus 1 -q >/dev/null 2>&1
		wait
		record "{\"bench\":\"trafgen\",\"scenario\":\"$name\",\"rep\":$r,\"sink\":$(cat "$TMPD/sink")}"
	done
}
# sockets NAME DST DPORT: messages/s a UDP application in a receives from b's sendmmsg
sockets() {
	local name=$1 dst=$2 dport=$3
	for r in $(seq "$REPS"); do
		nsa "$BENCH" udp-recv --port 6000 --secs "$DUR" --warmup 0.3 >"$TMPD/recv" 2>/dev/null &
		sleep 0.2
		nsb "$BENCH" udp-send --dst "$dst" --dport "$dport" --sport 5000 --secs "$(echo "$DUR + $GENX" | bc)" \
			--token TOKEN-0123456789 >"$TMPD/send"
		wait
		record "{\"bench\":\"sockets\",\"scenario\":\"$name\",\"rep\":$r,\"send\":$(cat "$TMPD/send"),\"recv\":$(cat "$TMPD/recv")}"
	done
}
xstat() { x -j stats | jq ".reasons[] | select(.reason==\"$1\") | .packets"; }

ethtool -K "$HB" gro on >/dev/null	# no XDP on b's host side yet: NAPI for XDP_TX frames

# 1. no CMM: the kernel forwards between the partitions
live nocmm_kernel
trafgen_live nocmm_kernel
sockets nocmm_kernel $A 6000

# 4. nftables allow-lists with the same rule the channel expresses
NFT_TABLES+=("netdev xbench$RUN_ID")
nft -f - <<NFT
table netdev xbench$RUN_ID {
	chain ing {
		type filter hook ingress device "$HB" priority 0; policy accept;
		ether type arp accept
		ip saddr $B ip daddr $A udp sport 5000 udp dport 6000 counter accept
		counter drop
	}
}
NFT
live nft_netdev
nft delete table netdev "xbench$RUN_ID"
NFT_TABLES+=("inet xbench$RUN_ID")
nft -f - <<NFT
table inet xbench$RUN_ID {
	chain xfwd {
		type filter hook forward priority 0; policy accept;
		iifname "$HB" ip saddr $B ip daddr $A udp sport 5000 udp dport 6000 counter accept
		iifname "$HB" counter drop
	}
}
NFT
live nft_inet
nft delete table inet "xbench$RUN_ID"

# 5. the userspace relay: every message through a trusted process checking a token
ip addr add $R/32 dev "$HB"
sysctl -qw "net.ipv4.conf.$HB.rp_filter=0"	# in this run's host netns (lib.sh)
relay_run() {
	for r in $(seq "$REPS"); do
		"$BENCH" relay --port 7000 --to $A --to-port 6000 --secs "$(echo "$DUR + 0.8" | bc)" \
			--token TOKEN-0123456789 >"$TMPD/relay" 2>/dev/null &
		sleep 0.2
		if [ "$1" = live ]; then
			nsa "$BENCH" sink --dev eth0 --secs "$DUR" --warmup 0.3 >"$TMPD/sink" 2>/dev/null &
			sleep 0.2
			nsb "$BENCH" gen --dev eth0 --src-mac "$BMAC" --dst-mac "$HBMAC" --src $B --dst $R \
				--sport 5000 --dport 7000 --size 64 --token TOKEN-0123456789 --secs "$(echo "$DUR + 0.4" | bc)" >"$TMPD/gen"
			wait
			record "{\"bench\":\"live\",\"scenario\":\"relay\",\"rep\":$r,\"gen\":$(cat "$TMPD/gen"),\"sink\":$(cat "$TMPD/sink"),\"relay\":$(cat "$TMPD/relay")}"
		else
			nsa "$BENCH" udp-recv --port 6000 --secs "$DUR" --warmup 0.3 >"$TMPD/recv" 2>/dev/null &
			sleep 0.2
			nsb "$BENCH" udp-send --dst $R --dport 7000 --sport 5000 --secs "$(echo "$DUR + 0.4" | bc)" \
				--token TOKEN-0123456789 >"$TMPD/send"
			wait
			record "{\"bench\":\"sockets\",\"scenario\":\"relay\",\"rep\":$r,\"send\":$(cat "$TMPD/send"),\"recv\":$(cat "$TMPD/recv"),\"relay\":$(cat "$TMPD/relay")}"
		fi
	done
}
relay_run live
relay_run sockets
ip addr del $R/32 dev "$HB"

# 2, 3. the CMM: allowed, and a flood nobody authorized
quiet x partition add 1 --name a --netns "${PFX}a" && quiet x partition add 2 --name b --netns "${PFX}b" &&
	quiet x channel open b:5000 a:6000 || { echo "Bail out! xchan setup"; exit 1; }
# The rows compared with each other, interleaved repetition by repetition so that
# the machine's other load falls on all of them alike: 1b. the bare XDP redirect (no
# checks, the XDP ceiling), 2. the CMM (each CPU's copy in the flow cache, bpf/flow.h),
# 2x. the same program with the flow cache left out (the full path, xchan-bench-swap
# --full-path); one and two generator threads on two CPUs.
SWAP="$(dirname "$XCHAN")/xchan-bench-swap"
for r in $(seq "$REPS"); do
	"$BENCH" fwd --dev "$HB" --to "$HA" --mac "$AMAC"
	live1 nocmm_xdp "$r"
	live1 nocmm_xdp_2c "$r" --threads 2
	"$SWAP" "$PIN" --pinned "$HB" || { echo "Bail out! the CMM could not be put back on $HB"; exit 1; }
	live1 cmm_allowed "$r"
	live1 cmm_allowed_2c "$r" --threads 2
	"$SWAP" "$PIN" --full-path "$HB" || { echo "Bail out! the full-path CMM could not be put on $HB"; exit 1; }
	live1 cmm_full "$r"
	live1 cmm_full_2c "$r" --threads 2
	"$SWAP" "$PIN" --pinned "$HB" || { echo "Bail out! the CMM could not be put back on $HB"; exit 1; }
done
# paced: what arrives when the offered load is below capacity (MEASURED.md: an
# unthrottled generator can cut a receiver's throughput; report both)
PACED_PPS=${PACED_PPS:-2000000}
live cmm_allowed_paced --pps "$PACED_PPS"
trafgen_live cmm_allowed
sockets cmm_allowed $A 6000
for r in $(seq "$REPS"); do
	d0=$(xstat drop_no_out_channel)
	nsa "$BENCH" sink --dev eth0 --secs "$DUR" --warmup 0.3 --wait-first 0 >"$TMPD/sink" 2>/dev/null &
	sleep 0.2
	nsb "$BENCH" gen --dev eth0 "${FRAME[@]}" --sport 5001 --secs "$(echo "$DUR + $GENX" | bc)" >"$TMPD/gen"
	wait
	d1=$(xstat drop_no_out_channel)
	g=$(cat "$TMPD/gen")
	record "{\"bench\":\"live\",\"scenario\":\"cmm_flood\",\"rep\":$r,\"gen\":$g,\"sink\":$(cat "$TMPD/sink"),\"dropped\":$((d1 - d0)),\"drop_pps\":$(jq -n "$((d1 - d0)) / $(jq .secs <<<"$g")")}"
done

# 3r. the receive side refusing a flood the host routes into a: b's send side detached
# (what a CMM that failed open would let through), b -> a:6001 with no channel
"$BENCH" detach --dev "$HB"
for r in $(seq "$REPS"); do
	d0=$(xstat drop_rx_not_channel)
	nsa "$BENCH" sink --dev eth0 --secs "$DUR" --warmup 0.3 --wait-first 0 >"$TMPD/sink" 2>/dev/null &
	sleep 0.2
	nsb "$BENCH" gen --dev eth0 "${FRAME[@]}" --sport 5001 --dport 6001 --secs "$(echo "$DUR + $GENX" | bc)" >"$TMPD/gen"
	wait
	d1=$(xstat drop_rx_not_channel)
	g=$(cat "$TMPD/gen")
	record "{\"bench\":\"live\",\"scenario\":\"rx_flood\",\"rep\":$r,\"gen\":$g,\"sink\":$(cat "$TMPD/sink"),\"dropped\":$((d1 - d0)),\"drop_pps\":$(jq -n "$((d1 - d0)) / $(jq .secs <<<"$g")")}"
done
# 2r. the allowed path with a's receive side detached, as before issue 10: redirected
# frames never pass TC egress, so rows 2 and 2r should agree
quiet x partition del b && quiet x partition add 2 --name b --netns "${PFX}b" &&
	quiet x channel open b:5000 a:6000 || { echo "Bail out! xchan setup"; exit 1; }
bpftool link detach pinned "$PIN/xchan_rx_1"
live cmm_allowed_norx

# agent speed: channel open latency (EPOCHREALTIME: no fork to read the clock),
# beside the cost of starting any process here (/bin/true)
us() { local t=${EPOCHREALTIME/./}; echo "$t"; }
NOPEN=$([ -n "$SMOKE" ] && echo 5 || echo 51)
for i in $(seq 1 "$NOPEN"); do
	t0=$(us); quiet x channel open "b:$((20000 + i))" "a:6000"; t1=$(us)
	echo $(( t1 - t0 ))
done | sort -n >"$TMPD/open_us"
for i in $(seq 1 "$NOPEN"); do t0=$(us); /bin/true; t1=$(us); echo $(( t1 - t0 )); done | sort -n >"$TMPD/true_us"
med() { sed -n "$(( ($(wc -l <"$1") + 1) / 2 ))p" "$1"; }
record "{\"bench\":\"agent\",\"op\":\"channel_open\",\"n\":$NOPEN,\"min_us\":$(head -1 "$TMPD/open_us"),\"median_us\":$(med "$TMPD/open_us"),\"max_us\":$(tail -1 "$TMPD/open_us"),\"process_floor_median_us\":$(med "$TMPD/true_us")}"
# the same through the agent's request sockets (xchan-bench-req: a receiver's offer,
# then the sender's ask, timed until established; no process start per open)
printf 'allow a receive b:* local 6100\nallow b send a:6100\n' >"$TMPD/policy"
"$XCHAN" --pin-root "$PIN" agent --policy "$TMPD/policy" --poll-ms 100 2>"$TMPD/agent.log" &
AGENT_PID=$!
served() { nsenter --net="/run/netns/${PFX}$1" "$(dirname "$XCHAN")/xchan-client" list >/dev/null 2>&1; }
if eventually 10 served a && eventually 10 served b &&
   "$(dirname "$XCHAN")/xchan-bench-req" "/run/netns/${PFX}a" a "/run/netns/${PFX}b" b 6100 30001 "$NOPEN" >"$TMPD/req"; then
	record "$(cat "$TMPD/req")"
fi
kill "$AGENT_PID"; wait "$AGENT_PID"; AGENT_PID=
check "channel open through the agent's request sockets measured" [ -s "$TMPD/req" ]
quiet x down
NAPPLY=$([ -n "$SMOKE" ] && echo 1000 || echo 100000)
{
	echo "partition 1 --name a --netns ${PFX}a"
	echo "partition 2 --name b --netns ${PFX}b"
	awk -v n="$NAPPLY" 'BEGIN { for (i = 0; i < n; i++) printf "channel b:%d a:%d\n", 1 + i % 60000, 1 + int(i / 60000) }'
} >"$TMPD/apply.conf"
# the instance and the two partitions first, timed apart: creating the tables and
# loading the CMM is done once per node, not per channel (`status` creates nothing)
t0=$(date +%s%N)
"$XCHAN" --pin-root "$PIN" --max-channels $((2 * NAPPLY + 1024)) partition add 1 --name a --netns "${PFX}a" >/dev/null &&
"$XCHAN" --pin-root "$PIN" partition add 2 --name b --netns "${PFX}b" >/dev/null; rc=$?
t1=$(date +%s%N)
check "instance for apply created" [ "$rc" -eq 0 ]
CREATE_SECS=$(awk "BEGIN { printf \"%.6f\", ($t1 - $t0) / 1e9 }")
t0=$(date +%s%N)
"$XCHAN" --pin-root "$PIN" --max-channels $((2 * NAPPLY + 1024)) apply "$TMPD/apply.conf" >"$TMPD/apply.out"; rc=$?
t1=$(date +%s%N)
# awk, not bc: bc writes .52 for 0.52, which is not JSON
record "{\"bench\":\"agent\",\"op\":\"apply\",\"channels\":$NAPPLY,\"rc\":$rc,\"secs\":$(awk "BEGIN { printf \"%.6f\", ($t1 - $t0) / 1e9 }"),\"per_sec\":$(awk "BEGIN { printf \"%.1f\", $NAPPLY / (($t1 - $t0) / 1e9) }"),\"create_secs\":$CREATE_SECS}"
quiet x down

# between two simulated nodes: b's twin on node 2 sends to a's twin on node 1, over
# the fabric as a Linux bridge and as a two-port XDP redirect; then the same without
# xchan, the nodes forwarding as routers (unprotected kernel forwarding)
. "$(dirname "$0")/../selftests/nodes.sh"
fabric() {	# fabric bridge|xdp
	local a=f1 b=f2
	for d in "$a $b" "$b $a"; do
		set -- $d
		if [ "$FABRIC" = xdp ]; then ip netns exec "$FAB" "$BENCH" fwd --dev "$1" --to "$2"
		else ip netns exec "$FAB" "$BENCH" pass --dev "$1"; fi
	done
}
size_rows() {	# size_rows NAME REP: 64 and 1400 bytes
	for size in 64 1400; do once "${1}_$size" "$2" "${PFX}alice" "${PFX}bob" "${NFRAME[@]}" --size $size; done
}
# the program on the path's three interfaces: the agent's CMM (with SipHash-2-4 tags,
# or with NH tags once node 2 is told node 1 verifies them), the SipHash-1-3 build over
# the same maps (a prototype: the wire format says 2-4), or none at all
BUILD=$(dirname "$XCHAN")
on_nodes() {	# on_nodes WHAT: xchan-bench-swap WHAT on node 2's hbob up0 and node 1's up0 halice
	nsenter --net="/run/netns/$N2" "$BUILD/xchan-bench-swap" "$PIN2" "$1" hbob up0 &&
	nsenter --net="/run/netns/$N1" "$BUILD/xchan-bench-swap" "$PIN1" "$1" up0 halice
}
path_xchan() { on_nodes --pinned; }
path_sip13() { on_nodes "$BUILD/xchan_sip13.bpf.o"; }
NH_ON=0
path_nh() {	# and whether node 2 then says so, with NH keys towards node 1 to use, the
		# one it tags with marked as held by node 1 (its CONNECT verified under it)
	path_xchan && quiet x2 node set 1 --data-mac nh &&
	[ "$(x2 -j node list | jq -r '.peers[] | select(.id==1) | .data_mac')" = nh ] &&
	[ "$(bpftool -j map dump pinned "$PIN2/xchan_nhkeys" | jq '[.[] | select(.formatted.key.node==1)] | length')" -eq 2 ] &&
	[ "$(bpftool -j map dump pinned "$PIN2/xchan_nhkeys" | jq -r '[.[] | select(.formatted.key.node==1 and .formatted.key.dir==1) | .formatted.value.flags | tostring] | join(" ")')" = $((0x48454c44)) ] &&
	NH_ON=$((NH_ON + 1))
}
path_nh_off() { quiet x2 node set 1 --data-mac siphash; }
path_none() {
	local n d
	for n in "$N2:hbob up0" "$N1:up0 halice"; do
		for d in ${n#*:}; do nsenter --net="/run/netns/${n%%:*}" "$BENCH" detach --dev "$d"; done
	done
}
if nodes_setup && quiet x2 channel authorize bob:5000 alice:6000 --out &&
   quiet x1 channel authorize alice:6000 bob:5000 --in && quiet x1 channel connect alice:6000 bob:5000 &&
   quiet x2 channel authorize bob:5001 alice:6000 --out &&
   quiet x1 channel authorize alice:6000 bob:5001 --in && quiet x1 channel connect alice:6000 bob:5001; then
	NFRAME=(--src-mac "$(mac eth0 "${PFX}bob")" --dst-mac "$(mac hbob "$N2")" --src 10.102.0.1
		--dst 10.101.0.1 --sport 5000 --dport 6000)
	# Unprotected kernel forwarding over the same fabric, in the same run: the nodes
	# route the partitions' subnets (in their own netns), the receiver's MAC is known
	# (the sink drops ARP), the uplinks and hbob run NAPI for redirected frames when
	# no XDP program is there, and alice's receive side is detached (it refuses what
	# the host routes from another partition; xchan's frames arrive by redirect and
	# never pass it: rows 2 and 2r)
	for n in "$N1" "$N2"; do
		ip netns exec "$n" sysctl -qw net.ipv4.conf.up0.forwarding=1
		ip netns exec "$n" ethtool -K up0 gro on >/dev/null
	done
	ip netns exec "$N2" ethtool -K hbob gro on >/dev/null
	ip -n "$N1" neigh replace 10.101.0.1 lladdr "$(mac eth0 "${PFX}alice")" dev halice nud permanent
	nsenter --net="/run/netns/$N1" bpftool link detach pinned "$PIN1/xchan_rx_1"
	nsenter --net="/run/netns/${PFX}bob" "$BENCH" udp-send --dst 10.101.0.1 --dport 6000 --secs 0.5 >/dev/null
	# interleaved: every fabric and every path in each repetition
	for r in $(seq "$REPS"); do
		for FABRIC in xdp bridge; do
			fabric
			path_xchan && size_rows "nodes_xchan_$FABRIC" "$r"
			if [ "$FABRIC" = xdp ]; then
				# two CPUs: one channel on both (its replay window's lock shared), one each
				once nodes_xchan_xdp_64_2c "$r" "${PFX}alice" "${PFX}bob" "${NFRAME[@]}" --threads 2
				once nodes_xchan_xdp_64_2c2ch "$r" "${PFX}alice" "${PFX}bob" "${NFRAME[@]}" --threads 2 --sport-step 1
				path_sip13 && size_rows nodes_xchan_xdp_sip13 "$r"
				path_nh && size_rows nodes_xchan_xdp_nh "$r"
				path_nh_off
			fi
			path_none
			size_rows "nodes_kernel_$FABRIC" "$r"
		done
	done
	path_xchan
else
	echo "# between nodes: set-up failed"
fi
nodes_down

# ns/packet through BPF_PROG_TEST_RUN, and scale; a class that missed its verdict
# fails the run (its figure would measure something else)
tr_rc=0
if [ -n "$SMOKE" ]; then
	"$TESTRUN" classes 10000 3 --json >>"$RES" || tr_rc=$?
	"$TESTRUN" scale 1000 10000 3 >>"$RES" || tr_rc=$?
else
	"$TESTRUN" classes 2000000 7 --json >>"$RES" || tr_rc=$?
	for n in 1 1000 100000 1000000; do "$TESTRUN" scale $n 1000000 5 >>"$RES" || tr_rc=$?; done
fi

machine end

# The harness must not rot: every measurement produced a number, and the
# CMM delivered on the allowed path and nothing on the flood.
n=$(wc -l <"$RES")
check "bench produced $n results" [ "$n" -ge 10 ]
check "every result is JSON (as strict as report.py reads it)" \
	python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' "$RES"
check "every test_run class reached its verdict (exit $tr_rc)" [ "$tr_rc" -eq 0 ]
check "test_run: all 23 classes measured (9, 6 stages, 2 flow-cache rows, 6 MACs)" [ "$(jq -s '[.[] | select(.bench=="test_run" and .min > 0)] | length' "$RES")" -eq 23 ]
check "test_run: the 1000-channel scale measured" [ "$(jq -s '[.[] | select(.bench=="scale" and .channels==1000 and .min > 0)] | length' "$RES")" -eq 1 ]
check "CMM allowed path delivered frames" [ "$(jq -s '[.[] | select(.scenario=="cmm_allowed" and .bench=="live") | .sink.packets] | min' "$RES")" -gt 0 ]
for row in nodes_xchan_bridge_64 nodes_xchan_xdp_64 nodes_xchan_xdp_1400 nodes_xchan_xdp_64_2c2ch nodes_kernel_xdp_64 \
	nodes_xchan_xdp_sip13_1400 nodes_xchan_xdp_nh_1400 nodes_xchan_xdp_nh_64 cmm_full \
	nodes_kernel_bridge_1400 cmm_allowed_2c; do
	check "between nodes: $row delivered frames" [ "$(jq -s "[.[] | select(.scenario==\"$row\") | .sink.packets] | min // 0" "$RES")" -gt 0 ]
done
check "between nodes: the NH rows ran with node 2 set to NH tags and holding their keys ($NH_ON of $REPS)" [ "$NH_ON" -eq "$REPS" ]
check "receive side: the routed flood delivered nothing, was counted" \
	[ "$(jq -s '[.[] | select(.scenario=="rx_flood") | .sink.packets] | max' "$RES")$(jq -s '[.[] | select(.scenario=="rx_flood") | .dropped > 0] | all' "$RES")" = 0true ]
check "CMM flood delivered nothing" [ "$(jq -s '[.[] | select(.scenario=="cmm_flood") | .sink.packets] | max' "$RES")" -eq 0 ]
check "apply succeeded" [ "$(jq -s '.[] | select(.op=="apply") | .rc' "$RES")" -eq 0 ]
if [ -z "$SMOKE" ]; then
	python3 "$(dirname "$0")/report.py" "$RES" "$OUTDIR" && diag "report: $OUTDIR/results.json, $OUTDIR/bench.png, docs/BENCHMARKS.md"
else
	check "report.py reads the results (its page written aside)" \
		quiet env XCHAN_BENCH_DOCS="$TMPD/BENCHMARKS.md" python3 "$(dirname "$0")/report.py" "$RES" "$OUTDIR"
fi
finish
