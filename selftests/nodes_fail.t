#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# nodes_fail.t: between two simulated nodes (forwarding off), the ways the path can
# fail on real hosts: a lost answer, channel churn, concurrent connects, a clock
# stepped back; and --max-channels counting channels.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/nodes.sh"
trap 'nodes_down; cleanup' EXIT
nodes_setup; ok_all=$?
check "two nodes with forwarding off, partitions local and remote" [ $ok_all -eq 0 ]
st1() { x1 -j stats | jq ".reasons[] | select(.reason==\"$1\") | .packets"; }
st2() { x2 -j stats | jq ".reasons[] | select(.reason==\"$1\") | .packets"; }

# The fabric drops the first CONNECT_ACK and the first CLOSE_ACK (type byte 3 and 6
# of the xchan header; a quota lets through every answer after the first one).
ip netns exec "$FAB" nft -f - <<'NFT'
table bridge lossy {
	chain answers {
		type filter hook forward priority 0; policy accept;
		udp sport 7420 @th,72,8 3 quota until 100 bytes counter drop
		udp sport 7420 @th,72,8 6 quota until 100 bytes counter drop
	}
}
NFT
quiet x2 channel authorize bob:5000 alice:6000 --out
quiet x1 channel authorize alice:6000 bob:5000 --in
check "the first CONNECT_ACK is lost: the retry of the same CONNECT is ACKed" quiet x1 channel connect alice:6000 bob:5000
drops=$(ip netns exec "$FAB" nft -j list table bridge lossy | jq '[.nftables[].rule? | select(.) | .expr[] | .counter? | select(.) | .packets] | add')
check "... the fabric did drop one answer ($drops)" [ "$drops" -eq 1 ]
recv_start alice 6000
send_udp bob 5000 10.101.0.1 6000 5 lost
sleep 0.3
check "... and the channel delivers (5 of 5)" [ "$(received alice 6000 | grep -c ' 5000 lost-')" -eq 5 ]
x1 channel close bob:5000 alice:6000 >/dev/null 2>"$TMPD/close.err"
check "the first CLOSE_ACK is lost: the retry is acknowledged, no warning" [ ! -s "$TMPD/close.err" ]
drops=$(ip netns exec "$FAB" nft -j list table bridge lossy | jq '[.nftables[].rule? | select(.) | .expr[] | .counter? | select(.) | .packets] | add')
check "... the fabric dropped that answer too ($drops in all)" [ "$drops" -eq 2 ]
check "... the sender's key is gone" [ "$(x2 -j channel list | jq -r '.[] | select(.local_ep==5000) | .key')" = none ]
ip netns exec "$FAB" nft delete table bridge lossy
recv_stop alice 6000

# Every answer lost: the connect fails, but its CONNECT reached node 2's CMM, which
# stored the key. The receiver's agent asks it to drop that copy again (CLOSE gets
# through, only its answer is lost), so that the next connect is not refused.
ip netns exec "$FAB" nft -f - <<'NFT'
table bridge deaf {
	chain answers {
		type filter hook forward priority 0; policy accept;
		udp sport 7420 @th,72,8 3 counter drop
		udp sport 7420 @th,72,8 6 counter drop
	}
}
NFT
quiet x2 channel authorize bob:5100 alice:6100 --out
quiet x1 channel authorize alice:6100 bob:5100 --in
x1 channel connect alice:6100 bob:5100 >/dev/null 2>"$TMPD/deaf.err"; rc=$?
check "every answer lost: the connect fails (exit $rc: $(cat "$TMPD/deaf.err"))" [ $rc -eq 1 ]
check "... and leaves no key at the sender's CMM" \
	[ "$(x2 -j channel list | jq -r '.[] | select(.local_ep==5100) | .key')" = none ]
ip netns exec "$FAB" nft delete table bridge deaf
check "... so the next connect succeeds" quiet x1 channel connect alice:6100 bob:5100
quiet x1 channel close bob:5100 alice:6100

# Churn: the same channel opened and closed 1000 times by both agents (the sender
# starts at sequence 1 each time), a datagram through it each time; then new ones.
quiet x2 channel close bob:5000 alice:6000
t0=$(date +%s.%N)
nsenter --net="/run/netns/$N1" "$(dirname "$XCHAN")/node_churn" "$PIN1" "$PIN2" \
	"/run/netns/${PFX}alice" "/run/netns/${PFX}bob" 10.101.0.1 1000 8
churn=$?
diag "churn took $(echo "$(date +%s.%N) - $t0" | bc) s"
check "churn: every round delivered, then the new channels" [ $churn -eq 0 ]
check "... node 1 holds a window for each open channel only ($(x1 -j status | jq '.maps[] | select(.name=="xchan_replay") | .entries'))" \
	[ "$(x1 -j status | jq '.maps[] | select(.name=="xchan_replay") | .entries')" -eq 8 ]

# Eight connects in flight at once from node 1's agents, each to node 2.
for i in $(seq 0 7); do
	quiet x2 channel authorize bob:$((5200 + i)) alice:$((6200 + i)) --out
	quiet x1 channel authorize alice:$((6200 + i)) bob:$((5200 + i)) --in
done
# all eight wait on one FIFO and start together when it opens; the fabric drops the
# answers of the first 0.1 s, so that all eight are in flight at once and each
# needs its own answer to its retry (sent after 0.2 s)
mkfifo "$TMPD/go"
pids=()
for i in $(seq 0 7); do
	( read -r _ <"$TMPD/go"; x1 channel connect alice:$((6200 + i)) bob:$((5200 + i)) ) \
		>/dev/null 2>"$TMPD/c$i.err" & pids+=($!)
done
sleep 0.5
t0=$(date +%s.%N)
ip netns exec "$FAB" nft add table bridge mute
ip netns exec "$FAB" nft add chain bridge mute answers '{ type filter hook forward priority 0; policy accept; }'
ip netns exec "$FAB" nft add rule bridge mute answers udp sport 7420 @th,72,8 3 counter drop
echo go >"$TMPD/go"
sleep 0.1; ip netns exec "$FAB" nft delete table bridge mute
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
diag "8 concurrent connects took $(echo "$(date +%s.%N) - $t0" | bc) s; $(cat "$TMPD"/c*.err)"
check "8 connects in flight at once: all succeed ($fails failed)" [ $fails -eq 0 ]
recv_start alice 6207
send_udp bob 5207 10.101.0.1 6207 5 conc
sleep 0.3
check "... and deliver" [ "$(received alice 6207 | grep -c ' 5207 conc-')" -eq 5 ]

# Node 1's clock stepped back a day: its control nonces must still be newer.
quiet x2 channel authorize bob:5300 alice:6300 --out
quiet x1 channel authorize alice:6300 bob:5300 --in
slow() { FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f -1d nsenter --net="/run/netns/$N1" "$XCHAN" --pin-root "$PIN1" "$@"; }
check "the clock runs a day behind for the agent" [ "$(FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f -1d date +%s)" -lt $(( $(date +%s) - 80000 )) ]
rp=$(st2 drop_replay)
check "clock stepped back: CONNECT still works" quiet slow channel connect alice:6300 bob:5300
x1 channel close bob:5300 alice:6300 >/dev/null 2>"$TMPD/close2.err"
slow channel close bob:5200 alice:6200 >/dev/null 2>>"$TMPD/close2.err"
check "... and CLOSE, with the clock back or not, no warning" [ ! -s "$TMPD/close2.err" ]
check "... node 2 refused no nonce as stale ($(( $(st2 drop_replay) - rp )))" [ "$(st2 drop_replay)" -eq "$rp" ]

# Next hop: unresolved is counted, refresh repairs it.
nh=$(x2 -j node list | jq -r '.peers[0].next_hop')
check "node 2 shows its next hop to node 1 ($nh)" [ "${nh%% *}" = up0 ]
bpftool map delete pinned "$PIN2/xchan_nexthop" key 1 0 0 0
nn=$(st2 drop_no_neighbour)
send_udp bob 5207 10.101.0.1 6207 3 nonb
check "without a next hop: drop_no_neighbour on node 2" [ $(( $(st2 drop_no_neighbour) - nn )) -eq 3 ]
check "... shown as unresolved" [ "$(x2 -j node list | jq -r '.peers[0].next_hop')" = unresolved ]
check "node refresh resolves it again" quiet x2 node refresh
send_udp bob 5207 10.101.0.1 6207 3 again
sleep 0.3
check "... and delivers (3 of 3)" [ "$(received alice 6207 | grep -c ' 5207 again-')" -eq 3 ]
recv_stop alice 6207
nodes_down

# --max-channels N holds N channels (one node, two partitions)
make_part p1 10.98.0.1 && make_part p2 10.98.0.2
quiet x --max-channels 3 partition add 1 --netns "${PFX}p1" && quiet x partition add 2 --netns "${PFX}p2"
ok_n=0
for i in 1 2 3; do x channel open 2:$((5000 + i)) 1:$((6000 + i)) >/dev/null 2>&1 && ok_n=$((ok_n + 1)); done
check "--max-channels 3: three channels open ($ok_n)" [ $ok_n -eq 3 ]
x channel open 2:5004 1:6004 >/dev/null 2>"$TMPD/full.err"; rc=$?
grep -q "full" "$TMPD/full.err" && [ $rc -eq 1 ]
check "... a fourth is refused: $(cat "$TMPD/full.err")" [ $? -eq 0 ]
check "... status says 3 channels" [ "$(x -j status | jq .max_channels)" -eq 3 ]
finish
