#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# cluster.t: three simulated nodes joined through a real etcd (in a namespace of its
# own on the fabric), each with its own pin root, state directory and `xchan agent` in
# cluster mode. A channel between nodes opened through the store (apply --etcd) and
# checked at the socket; etcd killed and restarted under numbered traffic (none lost);
# node-key and channel-key rotation under traffic; a node killed (its lease expires,
# the others show it down and refuse its DATA); a stolen node id refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nodes.sh"
. "$(dirname "$0")/cluster.sh"
. "$(dirname "$0")/cluster_nodes.sh"
trap 'cluster_down; cleanup' EXIT
T0=$(date +%s.%N)

cluster_fabric; check "etcd runs in its own namespace on the fabric" [ $? -eq 0 ]
ok_all=0
for i in 1 2 3; do cnode_up $i || ok_all=1; done
for i in 1 2 3; do for j in 1 2 3; do [ $i = $j ] || cnode_route $i $j; done; done
part_in "$(cn 1)" alice 10.101.0.1 && part_in "$(cn 2)" bob 10.102.0.1 &&
	part_in "$(cn 3)" carol 10.103.0.1 || ok_all=1
check "three nodes joined the store (cluster join), uplinks attached" [ $ok_all -eq 0 ]
check "the store holds each node's identity, no secret" \
	[ "$(etcd_ctl get --prefix /xchan/v1/ids/ --keys-only | grep -c ids/)" -eq 3 ]

for i in 1 2 3; do cagent_start $i; done
all_peers() { has_peers 1 2 && has_peers 2 2 && has_peers 3 2; }
eventually 15 all_peers
check "every agent installed a pair key for both peers" [ $? -eq 0 ]
check "the store never holds a private key" \
	[ -z "$(etcd_ctl get --prefix /xchan/v1/ --print-value-only | grep -iE 'secret|private|sk\"')" ]

cat >"$TMPD/cluster.conf" <<EOF
partition 1 --node 1 --name alice --netns ${PFX}alice
partition 2 --node 2 --name bob --netns ${PFX}bob
partition 3 --node 3 --name carol --netns ${PFX}carol
channel bob:5000 alice:6000
channel carol:5000 alice:6000
EOF
out=$(xn 1 apply --etcd "$ETCD_URL" "$TMPD/cluster.conf")
check "apply --etcd writes the spec: 3 partitions, 2 channels of 2 sides ($(echo "$out" | tail -1))" \
	[ "$(echo "$out" | tail -1)" = "7 key(s) written, 0 unchanged" ]
check "apply --etcd again changes nothing" \
	[ "$(xn 1 apply --etcd "$ETCD_URL" "$TMPD/cluster.conf" | tail -1)" = "0 key(s) written, 7 unchanged" ]
echo "partition 4 --name dave --netns x" >"$TMPD/bad.conf"
out=$(xn 1 apply --etcd "$ETCD_URL" "$TMPD/bad.conf" 2>&1); rc=$?
check "apply --etcd refuses a partition without its node (exit $rc: $out)" \
	[ $rc -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ]

both_in() { [ "$(xn 1 -j channel list | jq '[.[] | select(.dir=="in" and .state=="established")] | length')" = 2 ]; }
eventually 20 both_in
check "node 1's agent connected both channels through the store" [ $? -eq 0 ]
check "... bob's OUT side established on node 2" established 2 2 5000
check "the specified partitions were made on their nodes" \
	[ "$(xn 2 -j partition list | jq -r '.[] | select(.id==2) | .name')" = bob ]
check "node 2 knows alice as node 1's (parts/ from node 1's agent)" \
	[ "$(xn 2 -j partition list | jq -r '.[] | select(.id==1) | "\(.node) \(.ip)"')" = "1 10.101.0.1" ]
# an agent with nothing to do uses no CPU (without --policy its main loop once polled
# with a timeout of 0, a CPU each): its user and system ticks over 2 idle seconds
ticks() { awk '{ print $14 + $15 }' "/proc/$(cat "$TMPD/agent1.pid")/stat"; }
t0=$(ticks); sleep 2; t1=$(ticks)
check "node 1's agent, idle for 2 s, used $((t1 - t0)) of $((2 * $(getconf CLK_TCK))) CPU ticks (under a quarter)" \
	[ $((t1 - t0)) -lt $(( $(getconf CLK_TCK) / 2 )) ]
T_UP=$(echo "$(date +%s.%N) - $T0" | bc)
diag "three nodes up, joined and a channel connected through the store in ${T_UP}s"

recv_start alice 6000
send_udp bob 5000 10.101.0.1 6000 20 hello
got() { [ "$(received alice 6000 | grep -c " $1 $2-")" -eq "$3" ]; }
eventually 3 got 5000 hello 20
check "a datagram from bob (node 2) reaches alice's socket (node 1): 20 of 20" [ $? -eq 0 ]
# NH tags (DESIGN 3.4): each record's signed caps say its node verifies them, so each
# agent tags DATA to its peers with them (an inner packet of 128 bytes or more)
check "every node's record says it verifies NH tags (seen from node 3)" \
	[ "$(xn 3 -j cluster status --state-dir "$TMPD/st3" | jq -c '[.nodes[].verifies_nh]')" = "[true,true,true]" ]
nh_all() {
	for i in 1 2 3; do
		[ "$(xn "$i" -j node list | jq -r '[.peers[].data_mac] | join(" ")')" = "nh nh" ] || return 1
	done
}
eventually 5 nh_all
check "... so every agent sends both peers NH tags (node list)" [ $? -eq 0 ]
NHT=nh$(printf 'n%.0s' $(seq 110))
# dtypes PCAP: the DATA captured, as TYPE:COUNT per type (1 SipHash-2-4, 8 NH tags)
dtypes() { fab_frames "$1" 1,8 | awk '{print $1}' | sort | uniq -c | awk '{printf "%s%s:%s", (NR > 1 ? " " : ""), $2, $1}'; }
# sent_as NAME TEXT: bob sends alice 10 datagrams TEXT-i while the fabric towards node
# 1 is captured into NAME.pcap; prints 0 if all 10 arrived (else 1), then dtypes
sent_as() {
	local rc
	fab_capture f1 "$TMPD/$1.pcap"
	send_udp bob 5000 10.101.0.1 6000 10 "$2"
	eventually 3 got 5000 "$2" 10; rc=$?
	fab_capture_stop
	echo "$rc $(dtypes "$TMPD/$1.pcap")"
}
read -r rc types < <(sent_as nh "$NHT")
check "bob's 10 datagrams of 130 bytes reach alice" [ "$rc" = 0 ]
check "... as DATA with NH tags on the fabric, type 8 ($types)" [ "$types" = "8:10" ]

# etcd killed and restarted under traffic: the datapath never asks the store
seq_send bob 5000 10.101.0.1 6000 1500 3 etcd
sleep 1
etcd_stop
eventually 10 grep -q "store unreachable" "$TMPD/agent2.log"; s1=$?
sleep 1
etcd_restart
wait $SEQ_PID
sleep 0.5
read -r miss dup < <(seq_check alice 6000 etcd 1500)
check "etcd stopped and restarted under traffic: 1500 numbered, missing $miss, duplicated $dup" \
	[ "$miss" = 0 ] && [ "$dup" = 0 ]
check "the agents noticed etcd go" [ $s1 -eq 0 ]
eventually 15 grep -q "store reachable again" "$TMPD/agent2.log"
check "... and come back" [ $? -eq 0 ]
eventually 10 has_peers 1 2
check "after the outage node 1 still has both peers" [ $? -eq 0 ]

# the store compacted under the watches, then a channel's receiving side deleted from it
rev=$(etcd_ctl get /xchan/v1/ids/1 -w json | jq .header.revision)
etcd_ctl compact "$rev" >/dev/null
etcd_ctl del /xchan/v1/chans/2:5000/1:6000/in >/dev/null
bob_in() { [ "$(xn 1 -j channel list | jq -r '.[] | select(.dir=="in" and .remote_part==2) | .state')" = "$1" ]; }
eventually 10 bob_in ""
check "compacted store, chans/2:5000/1:6000/in deleted: node 1 closed the channel" [ $? -eq 0 ]
check "... and node 2's OUT side lost its key" [ "$(chan_state 2 2 5000)" != established ]
: > "$TMPD/recv.alice.6000"
send_udp bob 5000 10.101.0.1 6000 10 closed
sleep 0.5
check "... so nothing from bob reaches alice" [ "$(received alice 6000 | grep -c closed)" -eq 0 ]
etcd_ctl put /xchan/v1/chans/2:5000/1:6000/in '{}' >/dev/null
eventually 10 bob_in established
check "put back: node 1 connects again" [ $? -eq 0 ]
send_udp bob 5000 10.101.0.1 6000 10 again
eventually 3 got 5000 again 10
check "... and bob's datagrams arrive again: 10 of 10" [ $? -eq 0 ]

# node 1 loses its receiving side without telling node 2 (as when it took node 2 down
# for a while): node 2's CMM still holds the old key, so node 1's CONNECT meets
# nack_key_exists; node 1 must close it there and connect anew. The IN entry goes
# without its counter slot being freed (as a process killed between the two leaves
# it): the entry made again names a slot of its own all the same.
in_id="01 00 00 00 02 00 00 00 70 17 88 13 01 00 00 00"	# IN (1:6000 <- 2:5000), LE
for m in xchan_replay xchan_channels; do
	# shellcheck disable=SC2086
	bpftool map delete pinned "$PIN-c1/$m" key hex $in_id 2>/dev/null
done
eventually 20 bob_in established
check "node 1 lost its IN side, node 2 kept its key: node 1 closed it there and connected again" [ $? -eq 0 ]
check "... and said so in its log" eventually 3 grep -q "held a stale key, closed it there" "$TMPD/agent1.log"
: > "$TMPD/recv.alice.6000"
send_udp bob 5000 10.101.0.1 6000 10 relost
eventually 3 got 5000 relost 10
check "... and bob's datagrams arrive: 10 of 10" [ $? -eq 0 ]
slot=$(chan_slots "$PIN-c1" | awk '$1 == "in" && $2 == "1:6000" && $3 == "2:5000" { print $4 }')
pk=$("$XCHAN" --pin-root "$PIN-c1" -j stats --channels | jq '[.channels[] | select(.src_part==2 and .dst_ep==6000) | .packets] | add')
check "... counted by the new IN entry (its window; $pk), which names a taken slot ($slot)" \
	test -n "$slot" -a "$pk" -ge 10 -a -n "$(slots_taken "$PIN-c1" | grep -x "$slot")"

. "$(dirname "$0")/cluster_rotate.sh"

# a node killed: its agent gone for good, so its lease expires
cagent_stop 3 KILL
gone3() { [ -z "$(etcd_ctl get /xchan/v1/nodes/3 --print-value-only)" ] && has_peers 1 1; }
eventually 15 gone3
check "node 3's lease expired: node 1 removed its pair key" [ $? -eq 0 ]
check "... and carol's partition row" \
	[ -z "$(xn 1 -j partition list | jq -r '.[] | select(.id==3) | .id')" ]
st=$(xn 1 -j cluster status --state-dir "$TMPD/st1" 2>/dev/null)
check "cluster status on node 1 shows node 3 down, 1 and 2 live" \
	[ "$(echo "$st" | jq -r '[.nodes[] | "\(.id):\(.live)"] | join(" ")')" = "1:true 2:true 3:false" ]
before=$(reason 1 drop_bad_origin_node)
: > "$TMPD/recv.alice.6000"
send_udp carol 5000 10.101.0.1 6000 10 dead
sleep 0.5
after=$(reason 1 drop_bad_origin_node)
check "node 3's DATA is refused on node 1 (drop_bad_origin_node +$((after - before)))" \
	[ $((after - before)) -ge 10 ]
check "... and nothing of it reaches alice" [ "$(received alice 6000 | grep -c dead)" -eq 0 ]

# SIGTERM leaves the lease: the record stays, a restart within the TTL reuses it
grants=$(grep -c "lease .* granted" "$TMPD/agent1.log")
cagent_stop 1
check "a stopped agent's record stays in the store (its lease is not revoked)" \
	[ -n "$(etcd_ctl get /xchan/v1/nodes/1 --print-value-only)" ]
cagent_start 1 --metrics 127.0.0.1:9742 --data-mac siphash
sleep 1
check "restarted within the TTL, the agent reuses its lease" \
	[ "$(grep -c "lease .* granted" "$TMPD/agent1.log")" = "$grants" ]
# restarted with --data-mac siphash: its record no longer says it verifies NH tags, so
# its peers tag DATA to it with SipHash-2-4, and so does it
sip_1() {
	[ "$(xn 2 -j node list | jq -r '.peers[] | select(.id==1) | .data_mac')" = siphash ] &&
	[ "$(xn 1 -j node list | jq -r '[.peers[].data_mac] | unique | join(" ")')" = siphash ]
}
eventually 10 sip_1
check "node 1 restarted with --data-mac siphash: node 2 and node 1 tag DATA between them with SipHash-2-4" [ $? -eq 0 ]
check "... node 1's record says nothing of NH tags" \
	[ "$(xn 2 -j cluster status --state-dir "$TMPD/st2" | jq '.nodes[] | select(.id==1) | .verifies_nh')" = false ]
read -r rc types < <(sent_as sip "sip$NHT")
check "... bob's 10 datagrams of 133 bytes reach alice as DATA of type 1 ($types)" [ "$rc" = 0 -a "$types" = "1:10" ]
# an item that cannot be made: retried with backoff, counted, logged once
etcd_ctl put /xchan/v1/spec/parts/9 "{\"id\":9,\"node\":1,\"netns\":\"${PFX}nosuch\"}" >/dev/null
sleep 4
metric() { nsenter --net="/run/netns/$(cn 1)" curl -s 127.0.0.1:9742/metrics | awk -v m="$1" '$1 == m { print $2 }'; }
n=$(grep -c "spec/parts/9 failed" "$TMPD/agent1.log") errs=$(metric xchan_agent_reconcile_errors_total)
check "a spec that cannot be made is retried ($errs reconcile errors counted) and logged once ($n)" \
	[ "$n" = 1 ] && [ "${errs:-0}" -ge 2 ]
etcd_ctl del /xchan/v1/spec/parts/9 >/dev/null

# a node that joins with a taken id and another identity
mkdir -p "$TMPD/thief" && chmod 700 "$TMPD/thief"
out=$(nsenter --net="/run/netns/$(cn 1)" "$XCHAN" --pin-root "$PIN-thief" cluster join \
	--etcd "$ETCD_URL" --node 2 --addr 10.99.0.9 --state-dir "$TMPD/thief" 2>&1); rc=$?
reap_add pin "$PIN-thief"
check "a join with node 2's id and another identity is refused (exit $rc)" [ $rc -eq 1 ]
check "... with one line naming the id's owner" \
	[ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "node id 2 is registered to another identity"
check "... and node 2's record is untouched" \
	[ "$(xn 1 -j node list | jq -r '.peers[] | select(.id==2) | .addr')" = 10.99.0.2 ]

# an attacker who can write etcd, with a new identity (a throwaway state dir): records
# signed with it (python's Ed25519) for node 2's id, a new node 9, partitions claimed
mkdir -p "$TMPD/attacker" && chmod 700 "$TMPD/attacker"
cat >"$TMPD/forge.py" <<'PY'
import os, sys, time
from cryptography.hazmat.primitives import serialization as S
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
raw = lambda k: k.public_bytes(S.Encoding.Raw, S.PublicFormat.Raw).hex()
kf = os.path.join(sys.argv[2], "identity")
if sys.argv[1] == "keygen":
    k = ed25519.Ed25519PrivateKey.generate()
    fd = os.open(kf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, k.private_bytes(S.Encoding.Raw, S.PrivateFormat.Raw, S.NoEncryption()))
    print(raw(k.public_key())); sys.exit()
k = ed25519.Ed25519PrivateKey.from_private_bytes(open(kf, "rb").read())
if sys.argv[1] == "node":	# node DIR ID ADDR LEASE(hex)
    i, addr, lease, t = int(sys.argv[3]), sys.argv[4], str(int(sys.argv[5], 16)), int(time.time())
    kx = raw(x25519.X25519PrivateKey.generate().public_key())
    canon = f"xchan-node-v1|{i}|{addr}|{kx}|1|{t}|{lease}"
    rec = '{"id":%d,"addr":"%s","kx_pub":"%s","epoch":1,"key_time":%d,"lease":"%s"' % (i, addr, kx, t, lease)
else:				# part DIR ID NAME NODE ADDR
    i, name, node, addr = int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
    canon = f"xchan-part-v1|{i}|{name}|{node}|{addr}|0"
    rec = '{"id":%d,"name":"%s","node":%d,"addr":"%s","isolated":false' % (i, name, node, addr)
print(rec + ',"sig":"%s"}' % k.sign(canon.encode()).hex())
PY
forge() { python3 "$TMPD/forge.py" "$1" "$TMPD/attacker" "${@:2}"; }
apk=$(forge keygen) && lease=$(etcd_ctl lease grant 600 | awk '{ print $2 }')
check "the attacker has an identity and a lease" [ ${#apk} -eq 64 -a -n "$lease" ]
K=/xchan/v1
id2=$(etcd_ctl get $K/ids/2 --print-value-only) id3=$(etcd_ctl get $K/ids/3 --print-value-only)
check "node 1 pinned node 2's identity in its state dir (0600)" \
	[ "$(head -1 "$TMPD/st1/known/2")" = "$id2" -a "$(stat -c %a "$TMPD/st1/known/2")" = 600 ]
# node 3 is down: the attacker takes its id, a record signed with its own identity
etcd_ctl put $K/ids/3 "$apk" >/dev/null
etcd_ctl put --lease="$lease" $K/nodes/3 "$(forge node 3 10.99.0.66 "$lease")" >/dev/null
eventually 10 grep -q "ids/3 refused: node 3 is pinned here to identity ${id3:0:8}" "$TMPD/agent1.log"
check "a forged ids/3 + nodes/3 (node 3 is down) is refused on node 1, logged" [ $? -eq 0 ]
sleep 1
check "... node 1 installed no pair key for the attacker's node 3" \
	[ "$(xn 1 -j node list | jq -c '[.peers[].id]')" = "[2]" ]
never66() { ! grep -q "at 10.99.0.66" "$TMPD/agent1.log" "$TMPD/agent2.log"; }
check "... nor did node 2" never66
: > "$TMPD/recv.alice.6000"
send_udp bob 5000 10.101.0.1 6000 5 forged
eventually 3 got 5000 forged 5
check "... bob's datagrams still reach alice" [ $? -eq 0 ]
check "... logged once ($(grep -c 'ids/3 refused' "$TMPD/agent1.log"))" \
	[ "$(grep -c 'ids/3 refused' "$TMPD/agent1.log")" = 1 ]
etcd_ctl put $K/ids/3 "$id3" >/dev/null
# node 2's own id overwritten: its peers keep the pinned identity, node 2 says so
etcd_ctl put $K/ids/2 "$apk" >/dev/null
eventually 10 grep -q "ids/2 is not this node's identity" "$TMPD/agent2.log"
check "a forged ids/2: node 2's agent logs that it is not its identity" [ $? -eq 0 ]
eventually 10 grep -q "ids/2 refused: node 2 is pinned here" "$TMPD/agent1.log"
check "... node 1 refuses it" [ $? -eq 0 ]
: > "$TMPD/recv.alice.6000"
send_udp bob 5000 10.101.0.1 6000 5 forged2
eventually 3 got 5000 forged2 5
check "... and bob's datagrams still reach alice (node 2's record verifies under the pin)" [ $? -eq 0 ]
etcd_ctl put $K/ids/2 "$id2" >/dev/null

# node 9, new (first sight: accepted), claims carol's partition 3 (bound to node 3,
# which is down), alice's (bound to node 1, live) and one on node 2's address
etcd_ctl put $K/ids/9 "$apk" >/dev/null
etcd_ctl put --lease="$lease" $K/nodes/9 "$(forge node 9 10.99.0.9 "$lease")" >/dev/null
for p in "3 carol 10.103.0.1" "60 evil 10.99.0.2" "1 alice 10.101.0.1" "61 squat 10.103.0.1"; do
	set -- $p
	etcd_ctl put --lease="$lease" $K/parts/$1 "$(forge part "$1" "$2" 9 "$3")" >/dev/null
done
eventually 10 grep -q "parts/3 refused: partition 3 is bound to node 3 here; node 9's claim refused" \
	"$TMPD/agent2.log"
check "node 9's claim of partition 3 (bound to node 3) is refused on node 2" [ $? -eq 0 ]
eventually 10 grep -q "parts/60 refused: node 9 claims an address of a node" "$TMPD/agent1.log"
check "node 9's partition on node 2's address is refused on node 1" [ $? -eq 0 ]
# a new partition id on carol's address, while carol is away with node 3: the address
# stays node 3's (else node 9's partition would hold it, and a channel to it would
# deliver datagrams from carol's address)
eventually 10 grep -q "parts/61 refused: address 10.103.0.1 is bound to node 3 here; node 9's claim refused" \
	"$TMPD/agent2.log"
check "node 9's partition 61 on carol's address (node 3 down) is refused on node 2" [ $? -eq 0 ]
check "... the address is pinned to node 3 in node 2's state directory" \
	[ "$(head -1 "$TMPD/st2/addrs/10.103.0.1" 2>/dev/null)" = 3 ]
sleep 1
check "... node 2 has no partition 3, 60 or 61, and alice is still node 1's" \
	[ "$(xn 2 -j partition list | jq -c '[.[] | select(.id==1 or .id==3 or .id==60 or .id==61) | [.id, .node]]')" = "[[1,1]]" ]
moved() { grep -q "partition 1 changed on node 9" "$TMPD/agent2.log"; }
notmoved() { ! moved; }
check "... alice never moved to node 9 on node 2" notmoved
: > "$TMPD/recv.alice.6000"
send_udp bob 5000 10.101.0.1 6000 5 claimed
eventually 3 got 5000 claimed 5
check "... bob's datagrams still reach alice" [ $? -eq 0 ]
# ids/9 deleted while nodes/9 lives: node 9 is no longer a member, so it is down here
has9() { xn 1 -j node list | jq -e '.peers[] | select(.id==9)' >/dev/null; }
eventually 10 has9; had9=$?
etcd_ctl del $K/ids/9 >/dev/null
no9() { ! has9; }
eventually 10 no9
check "node 9 (installed, then its ids/ key deleted) is removed from node 1 (had it: $had9)" \
	[ $? -eq 0 -a $had9 -eq 0 ]

# xchan cluster forget: the pin goes, the agent takes the store's next word
out=$(xn 1 cluster forget --part 3 --state-dir "$TMPD/st1"); rc=$?
check "cluster forget --part 3, with carol's address (exit $rc: $out)" \
	[ $rc -eq 0 -a ! -e "$TMPD/st1/bound/3" ] && grep -q "partition 3 forgotten, with its address" <<<"$out"
etcd_ctl put $K/ids/9 "$apk" >/dev/null
eventually 10 grep -q "parts/3 refused: partition 3 is specified for node 3; node 9's claim refused" \
	"$TMPD/agent1.log"
check "... then the spec (spec/parts/3 names node 3) refuses node 9's claim" [ $? -eq 0 ]
n=$(grep -c "node 2's identity pinned" "$TMPD/agent1.log")
out=$(xn 1 cluster forget --node 2 --state-dir "$TMPD/st1")
check "cluster forget --node 2 forgets bob's address with it ($out)" \
	grep -q "node 2 forgotten, with its partitions' addresses" <<<"$out"
repinned() { [ "$(grep -c "node 2's identity pinned" "$TMPD/agent1.log")" -gt "$n" ]; }
eventually 10 repinned
check "cluster forget --node 2: node 1 pins node 2's identity again" \
	[ $? -eq 0 -a "$(head -1 "$TMPD/st1/known/2")" = "$id2" ]
out=$(xn 1 cluster forget --node 2 --part 3 --state-dir "$TMPD/st1" 2>&1); rc=$?
check "cluster forget refuses --node with --part (exit $rc)" [ $rc -eq 2 -a "$(echo "$out" | wc -l)" -eq 1 ]
etcd_ctl lease revoke "$lease" >/dev/null
etcd_ctl del $K/ids/9 >/dev/null
# (node 9's records gone with its lease: nothing claims carol's address meanwhile)
out=$(xn 2 cluster forget --addr 10.103.0.01x --state-dir "$TMPD/st2" 2>&1); rc=$?
check "cluster forget refuses a malformed --addr (exit $rc: $out)" [ $rc -eq 2 -a "$(echo "$out" | wc -l)" -eq 1 ]
out=$(xn 2 cluster forget --addr 10.103.0.1 --state-dir "$TMPD/st2"); rc=$?
check "cluster forget --addr 10.103.0.1 (exit $rc: $out)" [ $rc -eq 0 -a ! -e "$TMPD/st2/addrs/10.103.0.1" ]
out=$(xn 2 cluster forget --addr 10.101.0.0/24 --state-dir "$TMPD/st2"); rc=$?
check "cluster forget --addr 10.101.0.0/24: alice's address (exit $rc: $out)" \
	[ $rc -eq 0 ] && grep -q "^1 address(es) in 10.101.0.0/24 forgotten" <<<"$out"
repinned_a() { [ "$(head -1 "$TMPD/st2/addrs/10.101.0.1" 2>/dev/null)" = 1 ]; }
eventually 10 repinned_a
check "... and node 2's agent pins it to node 1 again, from alice's record" [ $? -eq 0 ]
repinned_b() { [ "$(head -1 "$TMPD/st1/addrs/10.102.0.1" 2>/dev/null)" = 2 ]; }
check "... as node 1's agent did bob's, after forget --node 2" repinned_b
# one spelling per number: parts/007 is not partition 7
etcd_ctl put $K/parts/007 x >/dev/null
eventually 10 grep -q "ignoring parts/007: not a canonical key" "$TMPD/agent1.log"
check "a non-canonical key (parts/007) is ignored, logged" [ $? -eq 0 ]
etcd_ctl del $K/parts/007 >/dev/null

check "no agent logged a key" [ -z "$(cat "$TMPD"/agent*.log | grep -iE '[0-9a-f]{64}')" ]
# with XCHAN=build/asan/xchan (make asan) the agents' sanitizer reports land in their logs
check "no agent log holds a sanitizer report" \
	[ -z "$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error' "$TMPD"/agent*.log)" ]
# node-key rotation waits while the store is out of reach (a key no peer can see), and
# goes on once it is back and this node's record has come back through the watch
kx_epoch() { awk '{print $2}' "$TMPD/st1/kx.key"; }
cagent_stop 1
cagent_start 1 --node-key-interval 2 --key-overlap 1
eventually 10 all_peers
ea=$(kx_epoch)
kill -STOP "$ETCD_PID"
sleep 7
eb=$(kx_epoch)
kill -CONT "$ETCD_PID"
check "store hung 7 s under a 2 s node-key interval: epoch $ea -> $eb (at most one, before the outage was noticed)" \
	[ "$eb" -le $((ea + 1)) ]
check "... and the agent said why it waits" grep -q "node key rotation due, waiting" "$TMPD/agent1.log"
seen_current() {	# (no number while node 2's status misses node 1's record)
	local s; s=$(epoch_seen 2 1)
	[[ "$s" =~ ^[0-9]+$ ]] && [ "$s" -ge $((eb + 1)) ] && [ "$s" = "$(kx_epoch)" ]
}
eventually 15 seen_current
check "store back: node 1 rotates again and node 2 reads its current epoch ($(kx_epoch))" [ $? -eq 0 ]

# a peer that lags: node 1's agent stopped (on a lease that outlives the stop) while
# node 2 rotates its node key and keeps only the new pair key, which node 1 does not
# have. Node 2 has not seen node 1 use it (no control message of node 1's verified
# under it), so DATA to node 1 goes with SipHash-2-4 tags, which need no node key, and
# arrives. Once node 1's agent runs again, installs the key and retires its old one,
# it renews a channel from node 2 (a REKEY under the new key), and DATA to it goes
# with NH tags again
cagent_stop 1; cagent_stop 2
no_rec1() { [ -z "$(etcd_ctl get /xchan/v1/nodes/1 --print-value-only)" ]; }
eventually 10 no_rec1	# its lease expired: the next one is granted with the TTL below
LEASE_TTL=30 cagent_start 1 --key-overlap 1
cagent_start 2 --key-overlap 1
keys_of() { xn "$1" -j node list | jq -r ".peers[] | select(.id==$2) | [.keys[].id] | join(\" \")"; }
pair_12() { [ -n "$(keys_of 1 2)" ] && [ -n "$(keys_of 2 1)" ]; }	# (node 3 is gone)
in_bob() { [ "$(xn 1 -j channel list | jq -r '.[] | select(.dir=="in" and .remote_part==2) | .state')" = established ]; }
eventually 20 pair_12 && eventually 20 in_bob && eventually 10 established 2 2 5000
check "node 1's agent on a 30 s lease, both with a 1 s key overlap: channels established" [ $? -eq 0 ]
kill -STOP "$(cat "$TMPD/agent1.pid")"
cagent_stop 2; cagent_start 2 --node-key-interval 2 --key-overlap 1
lagging() {	# node 2 holds one pair key for node 1, and node 1 does not hold it
	local k2; k2=$(keys_of 2 1)
	[ -n "$k2" ] && [ "$k2" = "${k2// /}" ] && ! grep -qw -- "$k2" <<<" $(keys_of 1 2) "
}
eventually 15 lagging
check "node 1's agent stopped: node 2 rotated and keeps only pair key $(keys_of 2 1), node 1 holds $(keys_of 1 2)" [ $? -eq 0 ]
cagent_stop 2; cagent_start 2 --key-overlap 1	# no more rotations
eventually 10 lagging
read -r rc types < <(sent_as lag "lag$NHT")
check "... bob's 10 datagrams of 133 bytes reach alice, with SipHash-2-4 tags ($types)" [ "$rc" = 0 -a "$types" = "1:10" ]
kb=$(in_kid)
kill -CONT "$(cat "$TMPD/agent1.pid")"
nh_again() {
	fab_capture f1 "$TMPD/again.pcap"
	send_udp bob 5000 10.101.0.1 6000 5 "again$NHT"
	echo 5 >>"$TMPD/again.sent"
	sleep 0.3
	fab_capture_stop
	[ "$(dtypes "$TMPD/again.pcap")" = "8:5" ]
}
eventually 2 nh_again	# (20 tries: each takes a second)
check "node 1's agent running again: it installs the key, renews a channel from node 2 under it, and DATA to it goes with NH tags ($(dtypes "$TMPD/again.pcap"))" [ $? -eq 0 ]
check "... node 2 saw it in a REKEY of alice's channel from bob (its key id $kb -> $(in_kid))" [ "$(in_kid)" != "$kb" ]
sleep 0.3
sent=$(awk '{n += $1} END {print n + 0}' "$TMPD/again.sent")
check "... and every datagram sent meanwhile arrived ($(received alice 6000 | grep -c " 5000 again$NHT-") of $sent)" \
	[ "$(received alice 6000 | grep -c " 5000 again$NHT-")" -eq "$sent" ]

# a record of node 1's from before its last rotation, put back on its lease after node
# 2's agent restarted: the key epoch node 2 keeps beside node 1's pinned identity
# refuses it (kept in memory only, a restart forgot it, and the older record would
# have installed a retired pair key as the newest)
cagent_stop 1; cagent_stop 2
LEASE_TTL=30 cagent_start 1 --node-key-interval 2 --key-overlap 1	# its 30 s lease, reused
cagent_start 2 --key-overlap 1
old1=$(etcd_ctl get /xchan/v1/nodes/1 --print-value-only)
ep_old=$(jq -r .epoch <<<"$old1")
# (not through jq: it reads numbers as doubles, and a lease id has 64 bits)
lease1=$(printf '%x' "$(etcd_ctl get /xchan/v1/nodes/1 -w json | grep -o '"lease":[0-9]*' | cut -d: -f2)")
newer_seen() { local s; s=$(epoch_seen 2 1); [[ "$s" =~ ^[0-9]+$ ]] && [ "$s" -gt "$ep_old" ]; }
eventually 15 newer_seen
check "node 1 rotates: node 2 reads epoch $(epoch_seen 2 1) after $ep_old" [ $? -eq 0 ]
check "... and keeps it beside node 1's pinned identity ($(sed -n 2p "$TMPD/st2/known/1"))" \
	[ "$(sed -n 2p "$TMPD/st2/known/1")" -gt "$ep_old" ]
kill -STOP "$(cat "$TMPD/agent1.pid")"	# it would put its record back at once
cagent_stop 2; cagent_start 2 --key-overlap 1
out=$(etcd_ctl put --lease="$lease1" /xchan/v1/nodes/1 "$old1" 2>&1) || diag "put: $out"
eventually 10 grep -q "ignoring nodes/1: key epoch $ep_old is older than one seen before" "$TMPD/agent2.log"
check "node 2's agent restarted, node 1's record of epoch $ep_old put back on its lease: refused" [ $? -eq 0 ]
kill -CONT "$(cat "$TMPD/agent1.pid")"
cagent_stop 1; cagent_stop 2
cagent_start 1; cagent_start 2

diag "cluster.t took $(echo "$(date +%s.%N) - $T0" | bc)s"
recv_stop alice 6000
if [ $T_FAIL -ne 0 ]; then
	for i in 1 2 3; do diag "agent $i's log (end):"; tail -25 "$TMPD/agent$i.log" | sed 's/^/#   /'; done
fi
finish
