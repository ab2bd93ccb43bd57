# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# cluster_rotate.sh: part of cluster.t. Every agent restarted with node keys rotating
# every 3 s (overlap 2 s) and channel keys every 2 s, under numbered traffic from bob
# (node 2) to alice (node 1): none lost, none twice. What the fabric carried under the
# first keys is sent again afterwards: DATA under a retired channel key and REKEY under
# a retired node key are refused and deliver nothing.

status_of() {	# status_of I: node I's cluster status as JSON
	xn "$1" -j cluster status --state-dir "$TMPD/st$1" 2>/dev/null
}
epoch_seen() {	# epoch_seen I J: node J's key epoch as node I reads it in the store
	status_of "$1" | jq ".nodes[] | select(.id==$2) | .epoch"
}
in_kid() {	# in_kid: key id of alice's IN entry from bob, on node 1
	xn 1 -j channel list | jq -r '.[] | select(.dir=="in" and .remote_part==2) | .key_id'
}
cap_start() {	# cap_start DEV PCAP FILTER
	ip netns exec "$FAB" tcpdump --immediate-mode -i "$1" -U -w "$2" "$3" >/dev/null 2>&1 &
	echo $!
}

for i in 1 2 3; do cagent_stop $i; done
e2=$(epoch_seen 1 2) k0=$(in_kid)
for i in 1 2 3; do cagent_start $i --node-key-interval 3 --key-overlap 2 --chan-key-interval 2; done
: > "$TMPD/recv.alice.6000"
c1=$(cap_start f1 "$TMPD/data.pcap" "udp port 7420 and dst host 10.99.0.1")
c2=$(cap_start f2 "$TMPD/ctl.pcap" "udp port 7420 and dst host 10.99.0.2")
sleep 0.3
# 130-byte messages: NH tags while one node key is valid, SipHash-2-4 during overlaps
ROT=rot$(printf 'r%.0s' $(seq 120))
seq_send bob 5000 10.101.0.1 6000 2500 3 "$ROT"
sleep 2.2	# the first REKEY (2 s), before the first node-key rotation (3 s)
kill "$c1" "$c2"; wait "$c1" "$c2" 2>/dev/null
wait $SEQ_PID
sleep 0.5
read -r miss dup < <(seq_check alice 6000 "$ROT" 2500)
check "agents restarted with node keys every 3 s, channel keys every 2 s: 2500 numbered, missing $miss, duplicated $dup" \
	[ "$miss" = 0 ] && [ "$dup" = 0 ]
e2b=$(epoch_seen 1 2) k1=$(in_kid)
check "node 2's key epoch went from $e2 to $e2b (seen from node 1)" [ "$e2b" -ge $((e2 + 1)) ]
check "alice's channel key from bob went from id $k0 to $k1" [ "$k1" -ge $((k0 + 2)) ]
pk_current() { [ "$(status_of 1 | jq -c '.nodes[] | select(.id==2) | .pair_key | [.installed, .current]')" = "[true,true]" ]; }
eventually 5 pk_current
check "node 1's pair key with node 2 is installed and current" [ $? -eq 0 ]
check "no rekey failed" [ -z "$(grep -h 'rekey failed' "$TMPD"/agent*.log)" ]

# after the overlap: what the first keys made is refused
for i in 1 2 3; do cagent_stop $i; done
sleep 0.5
diag "DATA in the first 2.2 s, by type: $(dtypes "$TMPD/data.pcap")"
nd=$(fab_frames "$TMPD/data.pcap" 1,8 | wc -l)
kr=$(reason 1 drop_key_retired) ba=$(reason 2 drop_ctrl_bad_auth)
: > "$TMPD/recv.alice.6000"
fab_inject f1 "$TMPD/data.pcap" 1,8 >/dev/null
# node 2's node keys for node 1 now: what it still accepts
valid=$(xn 2 -j node list | jq -r '.peers[] | select(.id==1) | .keys[].id' | tr '\n' ' ')
nr=$(fab_frames "$TMPD/ctl.pcap" 7 | awk -v v=" $valid" 'index(v, " " $2 " ") == 0' | wc -l)
fab_inject f2 "$TMPD/ctl.pcap" 7 >/dev/null
sleep 0.5
check "DATA under the first channel keys, sent again: $nd refused as drop_key_retired (+$(( $(reason 1 drop_key_retired) - kr )))" \
	[ "$nd" -gt 100 ] && [ $(( $(reason 1 drop_key_retired) - kr )) -eq "$nd" ]
check "... and none of them reaches alice" [ "$(received alice 6000 | grep -c rot)" -eq 0 ]
check "$nr REKEY under retired node keys (node 2 keeps ids $valid), sent again: drop_ctrl_bad_auth +$(( $(reason 2 drop_ctrl_bad_auth) - ba ))" \
	[ "$nr" -ge 1 ] && [ $(( $(reason 2 drop_ctrl_bad_auth) - ba )) -eq "$nr" ]
# restarted after their leases expired: the peers dropped each node meanwhile
for i in 1 2 3; do cagent_start $i; done
# both ends: node 1's IN sides, and bob's OUT side on node 2 (whose DATA is refused
# as drop_no_out_channel until its key comes back from node 1)
eventually 20 all_peers && eventually 20 both_in && eventually 10 established 2 2 5000
check "agents restarted after their leases expired: keys and channels made again" [ $? -eq 0 ]
# a node that did not see its peer go keeps its side; the peer's CONNECT then meets
# nack_key_exists, closes it there and connects again (the recovery cluster.t checks
# above), so the first batch may fall in between: a batch of 10 must then all arrive
for try in 1 2 3 4 5 6; do
	send_udp bob 5000 10.101.0.1 6000 10 "back$try"
	eventually 2 got 5000 "back$try" 10 && break
done
rc=$?
check "... and bob's datagrams arrive: 10 of 10 (batch $try; $(received alice 6000 | grep -c ' 5000 back'))" [ $rc -eq 0 ]
if [ $rc -ne 0 ]; then	# where they went: each node's drops, its peers and channels
	for i in 1 2; do
		diag "node $i: $(xn "$i" -j stats | jq -c '[.reasons[] | select(.packets > 0) | "\(.reason)=\(.packets)"]')"
		diag "node $i: $(xn "$i" -j node list | jq -c '[.peers[] | {id, data_mac, next_hop, keys: [.keys[].id]}]')"
		diag "node $i: $(xn "$i" -j channel list | jq -c '[.[] | "\(.dir) \(.local_part):\(.local_ep) \(.remote_part):\(.remote_ep) \(.state) \(.key_id)"]')"
	done
fi
