#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# rekey.t: key rotation on two simulated nodes (nodes.sh) under continuous traffic.
# Channel keys: `channel rekey` several times on one node and between nodes while
# numbered datagrams flow; the receiving socket gets every number exactly once, and
# a DATA frame captured under the retired key is refused (drop_key_retired). Node
# keys: a directional key 1 installed on both nodes, CONNECT and REKEY under it, the
# key-file key 0 retired, a control message under it refused (drop_ctrl_bad_auth).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nodes.sh"
trap 'nodes_down; cleanup' EXIT
N=2500	# datagrams per stream, one every 2 ms or so

nodes_setup; ok_all=$?
check "two nodes with the key-file pair key (node key 0)" [ $ok_all -eq 0 ]
quiet x1 channel open carol:7000 alice:6000
quiet x2 channel authorize bob:5000 alice:6000 --out
quiet x1 channel authorize alice:6000 bob:5000 --in
fab_capture f2 "$TMPD/ctl0.pcap"	# node 1's CONNECT under node key 0
check "a channel on node 1 and one from node 2 to node 1" quiet x1 channel connect alice:6000 bob:5000
fab_capture_stop
kid() {	# kid X DIR LOCAL_EP: "key_id key_slots" of that entry on node X
	"x$1" -j channel list | jq -r ".[] | select(.dir==\"$2\" and .local_ep==$3) | \"\(.key_id) \(.key_slots)\""
}
check "both start on key 0" [ "$(kid 1 in 6000 | sort -u)" = "0 1" ]
st() { "x$1" -j stats | jq ".reasons[] | select(.reason==\"$2\") | .packets"; }

recv_start alice 6000
# a few of bob's messages under key 0, captured where they enter node 1
fab_capture f1 "$TMPD/old.pcap"
send_udp bob 5000 10.101.0.1 6000 5 pre
fab_capture_stop
check "bob's messages under key 0 captured on the fabric" [ "$(fab_frames "$TMPD/old.pcap" 1 | awk '$2==0' | wc -l)" -eq 5 ]

send_udp carol 7000 10.101.0.1 6000 $N c & sc=$!
send_udp bob 5000 10.101.0.1 6000 $N b & sb=$!
sleep 0.5
fails=0
for r in 1 2 3; do
	x1 channel rekey carol:7000 alice:6000 >/dev/null || fails=$((fails + 1))
	x1 channel rekey bob:5000 alice:6000 >/dev/null || fails=$((fails + 1))
	[ $r -eq 1 ] && { kill -0 $sc 2>/dev/null && kill -0 $sb 2>/dev/null; running=$?; }
	sleep 0.3
done
check "the first rekeys ran while both streams were still sending" [ $running -eq 0 ]
wait $sc $sb
sleep 0.5
check "six rekeys under traffic, none failed ($fails)" [ $fails -eq 0 ]
once() {	# once SPORT TAG [COUNT]: every TAG-i, i < COUNT (N), received exactly once from SPORT
	received alice 6000 | awk -v p="$1" -v t="$2-" '$2 == p && index($3, t) == 1 { print $3 }' |
		sort | uniq -c | awk -v n="${3:-$N}" '$1 == 1 { k++ } END { exit !(k == n && NR == n) }'
}
got() { received alice 6000 | awk -v p="$1" -v t="$2-" '$2 == p && index($3, t) == 1' | wc -l; }
check "same node: $N of $N numbered datagrams, each once, across 3 rekeys ($(got 7000 c))" once 7000 c
check "between nodes: $N of $N numbered datagrams, each once, across 3 rekeys ($(got 5000 b))" once 5000 b
[ "$(kid 1 in 6000 | sort -u | tr '\n' ,)" = "3 1," ] && [ "$(kid 1 out 7000)" = "3 1" ]
check "same node: IN and OUT on key 3, the old key retired" [ $? -eq 0 ]
check "between nodes: node 2's OUT on key 3 too" [ "$(kid 2 out 5000)" = "3 1" ]
x2 -j monitor --timeout 1 >"$TMPD/ev2"; x1 -j monitor --timeout 1 >"$TMPD/ev1"
check "each REKEY audited as rekeyed by the sender's CMM (node 2: $(grep -c '"rekeyed"' "$TMPD/ev2"), node 1: $(grep -c '"rekeyed"' "$TMPD/ev1"))" \
	[ "$(jq -r 'select(.kind=="rekeyed") | .kind' "$TMPD/ev2" | wc -l) $(jq -r 'select(.kind=="rekeyed") | .kind' "$TMPD/ev1" | wc -l)" = "3 3" ]
age=$(x1 -j channel list | jq '.[] | select(.dir=="in" and .remote_ep==5000) | .key_age_ms')
check "channel list shows the key's age ($age ms)" [ "${age:-99999}" -lt 10000 ]
check "... and in the table: key 3 and its age" \
	[ "$(x1 channel list | awk '$1=="in" && $3 ~ /:5000$/ {print $5, ($6 ~ /^[0-9.]+s$/)}')" = "3 1" ]

kr=$(st 1 drop_key_retired)
check "the 5 frames under key 0 sent again ($(fab_inject f1 "$TMPD/old.pcap" 1))" true
sleep 0.3
check "... refused as drop_key_retired ($(( $(st 1 drop_key_retired) - kr )))" [ $(( $(st 1 drop_key_retired) - kr )) -eq 5 ]
check "... and not delivered again" [ "$(got 5000 pre)" -eq 5 ]

# node keys: directional key 1 on both nodes (node 1's tx is node 2's rx), then retire 0
for f in a2b b2a; do head -c 32 /dev/urandom >"$TMPD/$f"; chmod 600 "$TMPD/$f"; done
check "node 1 installs node key 1 for node 2" \
	quiet x1 node key-install 2 --addr 10.99.0.2 --id 1 --rx-file "$TMPD/b2a" --tx-file "$TMPD/a2b"
check "node 2 installs node key 1 for node 1" \
	quiet x2 node key-install 1 --addr 10.99.0.1 --id 1 --rx-file "$TMPD/a2b" --tx-file "$TMPD/b2a"
check "node list: keys 0 and 1, 1 the newest, no key bytes" \
	[ "$(x1 -j node list | jq -c '[.peers[0].keys[] | [.id, .newest]]')" = '[[0,false],[1,true]]' ]
fab_capture f2 "$TMPD/ctl1.pcap"
quiet x2 channel authorize bob:5300 alice:6300 --out; quiet x1 channel authorize alice:6300 bob:5300 --in
check "CONNECT between nodes under node key 1" quiet x1 channel connect alice:6300 bob:5300
fab_capture_stop
check "... the CONNECT on the fabric names node key 1" [ "$(fab_frames "$TMPD/ctl1.pcap" 2 | awk '{print $2}' | sort -u)" = 1 ]
recv_start alice 6300
send_udp bob 5300 10.101.0.1 6300 20 k1; sleep 0.3
check "... and the channel delivers" [ "$(received alice 6300 | grep -c ' 5300 k1-')" -eq 20 ]
# the first CONNECT (node key 0) again: while key 0 is valid only its nonce is stale
rp=$(st 2 drop_replay) ba=$(st 2 drop_ctrl_bad_auth)
fab_inject f2 "$TMPD/ctl0.pcap" 2 >/dev/null; sleep 0.3
check "a captured CONNECT under node key 0, sent again while 0 is valid: drop_replay" \
	[ "$(( $(st 2 drop_replay) - rp )) $(( $(st 2 drop_ctrl_bad_auth) - ba ))" = "1 0" ]
quiet x1 node key-retire 2 --keep 1 && quiet x2 node key-retire 1 --keep 1
check "key 0 retired on both nodes" [ $? -eq 0 ]
check "node list: key 1 alone" [ "$(x2 -j node list | jq -c '[.peers[0].keys[] | .id]')" = '[1]' ]
ba=$(st 2 drop_ctrl_bad_auth)
fab_inject f2 "$TMPD/ctl0.pcap" 2 >/dev/null; sleep 0.3
check "... the same CONNECT under the retired key 0: drop_ctrl_bad_auth" [ $(( $(st 2 drop_ctrl_bad_auth) - ba )) -eq 1 ]
check "REKEY between nodes under node key 1 after the retirement" quiet x1 channel rekey bob:5000 alice:6000
check "... node 2's OUT on key 4" [ "$(kid 2 out 5000)" = "4 1" ]
# every answer lost while bob keeps sending: the REKEY reached node 2, which switched;
# the receiver keeps both keys, fails, and the next rekey sends the same key again
inkey() { x1 -j channel list | jq -r '.[] | select(.dir=="in" and .remote_ep==5000) | "\(.key_id) \(.key_slots)"'; }
ip netns exec "$FAB" nft -f - <<'NFT'
table bridge deaf {
	chain answers {
		type filter hook forward priority 0; policy accept;
		udp sport 7420 @th,72,8 3 counter drop
		udp sport 7420 @th,72,8 4 counter drop
	}
}
NFT
L=4000	# longer than the failed rekey (6.2 s of retries) and its retry
send_udp bob 5000 10.101.0.1 6000 $L lost & sl=$!
sleep 0.3
x1 channel rekey bob:5000 alice:6000 >/dev/null 2>"$TMPD/deaf.err"; rc=$?
kill -0 $sl 2>/dev/null; still=$?
check "every answer lost: rekey fails, one line (exit $rc: $(cat "$TMPD/deaf.err"))" [ "$rc $(wc -l <"$TMPD/deaf.err")" = "1 1" ]
check "... node 2 switched to key 5, node 1 holds keys 4 and 5" [ "$(kid 2 out 5000) / $(inkey)" = "5 1 / 5 2" ]
ip netns exec "$FAB" nft delete table bridge deaf
check "... the answers back: rekey again succeeds" quiet x1 channel rekey bob:5000 alice:6000
check "... with the same key 5 (a retry), key 4 retired" [ "$(kid 2 out 5000) / $(inkey)" = "5 1 / 5 1" ]
wait $sl; sleep 0.5
check "... the stream was still running when the rekey gave up" [ $still -eq 0 ]
check "$L of $L datagrams ($(got 5000 lost)), each once, across the failed rekey and its retry" once 5000 lost $L

# bad input: one line on stderr, exit 2 (usage) or 1 (refused), nothing changed
bad() {	# bad RC CMD...: CMD exits RC with exactly one line on stderr
	local want=$1 rc; shift
	"$@" >/dev/null 2>"$TMPD/err"; rc=$?
	[ "$rc" = "$want" ] && [ "$(wc -l <"$TMPD/err")" -eq 1 ] || { diag "rc $rc: $(cat "$TMPD/err")"; false; }
}
check "node key-install --id 300: usage error" bad 2 x1 node key-install 2 --addr 10.99.0.2 --id 300 --rx-file "$TMPD/a2b" --tx-file "$TMPD/b2a"
check "node del 0: usage error" bad 2 x1 node del 0
check "node key-install for this node itself: usage error" bad 2 x1 node key-install 1 --addr 10.99.0.1 --id 2 --rx-file "$TMPD/a2b" --tx-file "$TMPD/b2a"
chmod 644 "$TMPD/a2b"
check "node key-install from a key file others can read: refused" bad 1 x1 node key-install 2 --addr 10.99.0.2 --id 2 --rx-file "$TMPD/a2b" --tx-file "$TMPD/b2a"
check "node key-retire keeping a key id it does not hold: refused" bad 1 x1 node key-retire 2 --keep 0
check "channel rekey where the receiver is not: refused" bad 1 x2 channel rekey bob:5000 alice:6000
check "channel rekey --grace-ms 100000: usage error" bad 2 x1 channel rekey bob:5000 alice:6000 --grace-ms 100000
check "... nothing changed: node 1 still holds key 1 alone for node 2" \
	[ "$(x1 -j node list | jq -c '[.peers[0].keys[] | .id]')" = '[1]' ]
check "node del 2 on node 1" quiet x1 node del 2
send_udp bob 5300 10.101.0.1 6300 5 afterdel; sleep 0.3
check "... DATA from node 2 is then refused (drop_bad_origin_node) and not delivered" \
	[ "$(received alice 6300 | grep -c afterdel) $(st 1 drop_bad_origin_node)" = "0 5" ]
quiet x1 down; rc1=$?; quiet x2 down; rc2=$?
check "down on both nodes ($rc1 $rc2)" [ $((rc1 + rc2)) -eq 0 ]
finish
