#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# cluster_scale.sh N...: for each N, N simulated nodes (a netns, an uplink on the
# fabric, a pin root, a state directory and an agent each; no containers) join a real
# etcd; then the agents start together and we time until every node has installed
# every peer's pair key, and until a channel from node N to node 1, written to the
# store with apply --etcd, is established and delivers. The table goes to
# docs/CLUSTER-SCALE.md (SCALE_OUT to write elsewhere, SCALE_OUT=- for stdout only).
# `make scale`; not part of make check.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nodes.sh"
. "$(dirname "$0")/cluster.sh"
. "$(dirname "$0")/cluster_nodes.sh"
trap 'cluster_down; cleanup' EXIT
OUTF=${SCALE_OUT:-$(dirname "$0")/../docs/CLUSTER-SCALE.md}
ROWS=()

now() { date +%s.%N; }
dt() { printf '%.2f' "$(echo "$2 - $1" | bc)"; }

# Agents' log lines carry their time (CAGENT_TS): the times below are read from them.
export CAGENT_TS=1
# the earliest time of a line matching RE in the agents' logs ("first"), or the latest
log_time() {
	grep -h -- "$2" "$TMPD"/agent*.log | cut -d' ' -f1 | sort -n | if [ "$1" = first ]; then head -1; else tail -1; fi
}

# every agent logged a pair key for each of the other N-1 nodes
all_keyed() {
	local n=$1 i
	for ((i = 1; i <= n; i++)); do
		[ "$(grep -o 'node [0-9]* at [0-9.]*: pair key' "$TMPD/agent$i.log" 2>/dev/null | sort -u | wc -l)" -ge $((n - 1)) ] || return 1
	done
}
delivered() { [ "$(received alice 6000 | grep -c " 5000 scale-")" -ge 1 ]; }
rss_kb() {
	local t=0 i
	for ((i = 1; i <= $1; i++)); do
		t=$((t + $(awk '/VmRSS/ { print $2 }' "/proc/$(cat "$TMPD/agent$i.pid")/status" 2>/dev/null || echo 0)))
	done
	echo $((t / $1))
}

# teardown: everything one round made, so the next starts from nothing
teardown() {
	cluster_down
	for f in "$TMPD"/agent*.pid; do [ -e "$f" ] && rm -f "$f"; done
	for n in "${NSES[@]}"; do ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del "$n" 2>/dev/null; done
	NSES=()
	rm -rf "$PIN"-c* "$TMPD"/st* "$TMPD"/agent*.log "$TMPD"/etcd-*
}

round() {
	local n=$1 i t0 t1 ta tk tc chan dbsize nkeys bytes join
	cluster_fabric || { diag "etcd did not start"; return 1; }
	export JOIN_TIMES="$TMPD/join.times"
	: >"$JOIN_TIMES"
	t0=$(now)
	for ((i = 1; i <= n; i++)); do
		XCHAN_GLOBALS="--max-channels 1024 --max-partitions 256" cnode_up "$i" || { diag "node $i did not join"; return 1; }
	done
	t1=$(now)
	join=$(awk '{ s += $1; if ($1 > m) m = $1 } END { printf "%.3f / %.3f", s / NR, m }' "$JOIN_TIMES")
	cnode_route 1 "$n"; cnode_route "$n" 1
	part_in "$(cn 1)" alice 10.101.0.1 && part_in "$(cn "$n")" bob "10.$((100 + n)).0.1" || return 1
	printf 'partition 1 --node 1 --name alice --netns %s\npartition 2 --node %s --name bob --netns %s\nchannel bob:5000 alice:6000\n' \
		"${PFX}alice" "$n" "${PFX}bob" >"$TMPD/scale.conf"
	xn 1 apply --etcd "$ETCD_URL" "$TMPD/scale.conf" >/dev/null || return 1
	recv_start alice 6000
	for ((i = 1; i <= n; i++)); do LEASE_TTL=15 cagent_start "$i"; done
	# a datagram every 0.3 s until one arrives; the keys' progress meanwhile
	chan=never keyed=
	while [ "$(dt "$t1" "$(now)" | cut -d. -f1)" -lt $((120 + n)) ]; do
		if [ "$chan" = never ]; then
			if delivered; then chan=$(dt "$(log_time first 'agent started')" "$(now)")
			else send_udp bob 5000 10.101.0.1 6000 1 scale & fi
		fi
		[ -n "$keyed" ] || ! all_keyed "$n" || keyed=1
		[ "$chan" = never ] || [ -z "$keyed" ] || break
		sleep 0.3
	done
	sleep 0.5	# the last senders end
	[ -n "$keyed" ] || diag "not every node keyed every peer"
	ta=$(log_time first 'agent started') tk=$(log_time last 'pair key id') tc=$(log_time first 'established')
	if [ -n "$SCALE_LOGS" ]; then	# what the agents said, for a round that went wrong
		mkdir -p "$SCALE_LOGS/$n" && cp "$TMPD"/agent*.log "$SCALE_LOGS/$n/"
		{ xn 1 -j channel list; xn "$n" -j channel list; xn 1 -j node list; xn "$n" -j stats; } >"$SCALE_LOGS/$n/maps.json" 2>&1
	fi
	dbsize=$(etcd_ctl endpoint status -w json | jq '.[0].Status.dbSize')
	nkeys=$(etcd_ctl get --prefix /xchan/v1/ --keys-only | grep -c .)
	bytes=$(etcd_ctl get --prefix /xchan/v1/ --print-value-only | wc -c)
	ROWS+=("| $n | $join | $(dt "$t0" "$t1") | $(dt "$ta" "$tk") | $(dt "$ta" "$tc") | $chan | $((n * (n - 1))) | $nkeys | $bytes | $((dbsize / 1024)) | $(( $(rss_kb "$n") / 1024 )) |")
	diag "N=$n: ${ROWS[-1]}"
	recv_stop alice 6000
	teardown
}

for n in "${@:-3 10 50}"; do
	round "$n" || { teardown; ROWS+=("| $n | failed | | | | | | | | | |"); }
done
table() {
	echo "| nodes | cluster join, mean / max (s) | N nodes made and joined (s) | agents started → every pair key installed (s) | → channel established (s) | → a datagram delivered, polled (s) | pair keys N·(N−1) | store keys | store value bytes | etcd DB (KiB) | agent RSS (MiB) |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
}
table
if [ "$OUTF" != - ] && [ -f "$OUTF" ]; then
	python3 - "$OUTF" "$(table)" "$(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -r)" <<'PY'
import sys
path, tab, when = sys.argv[1:]
s = open(path).read()
a, b = s.index("<!-- scale:begin -->"), s.index("<!-- scale:end -->")
open(path, "w").write(s[:a] + "<!-- scale:begin -->\nMeasured " + when + ":\n\n" + tab + "\n" + s[b:])
PY
fi
