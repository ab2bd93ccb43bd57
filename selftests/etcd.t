#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# etcd.t: the store client against a real etcd of its own (cluster.sh: a namespace, a
# data dir under $TMPD): kv, paging, create-if-absent, lease expiry, watch events, a
# watch from a compacted revision ("relist"), etcd killed (watch lost, clean errors in
# time), hung (timeouts) and restarted (works again, data kept). Then `cluster join`
# (twice: idempotent), a stolen id refused, `cluster status` live and down.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster.sh"
PIN2="$PIN-n2"
reap_add pin "$PIN2"
trap 'etcd_stop; "$XCHAN" --pin-root "$PIN2" down >/dev/null 2>&1; cleanup' EXIT
TE="$(dirname "$XCHAN")/test_etcd"
ENS="${PFX}etcd"

# test_etcd's "PASS what" / "FAIL what: why" lines as TAP
tap() {
	local st rest
	while read -r st rest; do
		case $st in
		PASS) ok "$rest" ;;
		FAIL) nok "$rest" ;;
		\#) echo "# $rest" ;;
		EXIT) check "test_etcd ${rest#* } ran to its end (exit ${rest%% *})" [ "${rest%% *}" = 0 ] ;;
		*) echo "# $st $rest" ;;
		esac
	done
}
in_ns() { nsenter --net="/run/netns/$ENS" "$@"; }
te() { in_ns "$TE" "$ETCD_URL" "$@"; }
# run MODE ARGS: test_etcd's checks, then whether it ended well (a crash is a failure)
run() { tap < <(te "$@"; echo "EXIT $? $1"); }

# answers no etcd sends, from test_etcd's own fake gateway: errors, never a crash
ns_add "$ENS" && ip -n "$ENS" link set lo up
tap < <(in_ns "$TE" malformed; echo "EXIT $? malformed")
etcd_start "$ENS" 127.0.0.1 || { echo "Bail out! no etcd"; exit 1; }
T0=$(date +%s.%N)

run ops

r0=$(te compact-prep) && r1=$(te compact-prep)
etcd_ctl compact "$r1" >/dev/null
run compacted "$r0" "$r1"

# etcd killed under a running watch
rm -f "$TMPD/watching"
{ te watch-lost "$TMPD/watching"; echo "EXIT $? watch-lost"; } >"$TMPD/lost.out" &
wl=$!
eventually 5 test -e "$TMPD/watching"
etcd_stop
wait $wl
tap <"$TMPD/lost.out"
run down 6

# hung (stopped, not dead): the request timeouts end every call
etcd_restart || { echo "Bail out! etcd did not restart"; exit 1; }
kill -STOP "$ETCD_PID"
run down 8
kill -CONT "$ETCD_PID"
run again

# keys this client cannot take, put raw through the gateway: skipped, the rest goes on
raw_put() {	# KEY (printf escapes) VALUE_BYTES
	python3 -c 'import base64,json,sys; k=sys.argv[1].encode().decode("unicode_escape").encode("latin1")
print(json.dumps({"key": base64.b64encode(k).decode(), "value": base64.b64encode(b"v" * int(sys.argv[2])).decode()}))' \
		"$1" "$2" >"$TMPD/raw.json"
	in_ns curl -sf --data-binary @"$TMPD/raw.json" "$ETCD_URL/v3/kv/put" >/dev/null
}
rm -f "$TMPD/bad" "$TMPD/bad.done"
{ te bad "$TMPD/bad" 16; echo "EXIT $? bad"; } >"$TMPD/bad.out" &
bw=$!
eventually 5 test -e "$TMPD/bad"
etcd_ctl put /xchan-test/v1/b/first 1 >/dev/null
nbad=0
for k in '/xchan-test/v1/b/ids\x00x' '/xchan-test/v1/b/nl\nx' "/xchan-test/v1/b/$(printf 'k%.0s' {1..600})"; do
	raw_put "$k" 3 && nbad=$((nbad + 1))
done
for i in $(seq 10 22); do raw_put "/xchan-test/v1/b/big$i" $((1024 * 1024)) && nbad=$((nbad + 1)); done
check "16 bad keys put raw (NUL, newline, 600 bytes, 13 values of 1 MiB)" [ $nbad -eq 16 ]
touch "$TMPD/bad.done"
wait $bw
tap <"$TMPD/bad.out"

# ---- cluster join / status ----
SD="$TMPD/state1" THIEF="$TMPD/thief"
xe() { in_ns "$XCHAN" --pin-root "$PIN" "$@"; }
mode() { stat -c %a "$1"; }

out=$(xe -j cluster join --etcd "$ETCD_URL" --node 1 --addr 10.99.0.1 --state-dir "$SD" 2>&1)
check "cluster join: exit 0" [ $? -eq 0 ]
fpr=$(echo "$out" | jq -r .fingerprint)
check "... a new identity, registered now, epoch 1" \
	[ "$(echo "$out" | jq -r '"\(.new_identity) \(.registered_now) \(.epoch)"')" = "true true 1" ]
check "... state dir 0700, identity.key, kx.key and cluster.json 0600" \
	[ "$(mode "$SD") $(mode "$SD/identity.key") $(mode "$SD/kx.key") $(mode "$SD/cluster.json")" = "700 600 600 600" ]
check "... ids/1 holds its public key (64 hex digits)" \
	[ "$(etcd_ctl get /xchan/v1/ids/1 --print-value-only | grep -cE '^[0-9a-f]{64}$')" -eq 1 ]
check "... and node self is set in the maps" \
	[ "$(xe -j node list | jq -r '"\(.self) \(.self_addr)"')" = "1 10.99.0.1" ]
ids_before=$(etcd_ctl get /xchan/v1/ids/1 --print-value-only)

out=$(xe -j cluster join --etcd "$ETCD_URL" --state-dir "$SD" 2>&1)
check "join again (no --node: from cluster.json): exit 0" [ $? -eq 0 ]
check "... the same identity, nothing registered anew" \
	[ "$(echo "$out" | jq -r '"\(.fingerprint) \(.new_identity) \(.registered_now) \(.node)"')" = "$fpr false false 1" ]

err=$(xe cluster join --etcd "$ETCD_URL" --node 1 --addr 10.99.0.9 --state-dir "$THIEF" 2>&1 >/dev/null)
rc=$?
check "a join with node 1's id and another identity: exit 1" [ $rc -eq 1 ]
one_line() { [ "$(echo "$1" | wc -l)" -eq 1 ] && echo "$1" | grep -q "$2"; }
check "... one line naming the owner's fingerprint" \
	one_line "$err" "^xchan: node id 1 is registered to another identity (fingerprint $fpr)"
untouched() { [ ! -e "$THIEF" ] && [ "$(etcd_ctl get /xchan/v1/ids/1 --print-value-only)" = "$ids_before" ]; }
check "... nothing left of the attempt (no state dir), ids/1 unchanged" untouched

st=$(xe -j cluster status --state-dir "$SD")
check "cluster status before any agent: node 1 registered, down, this node" \
	[ "$(echo "$st" | jq -c '[.self, (.nodes[] | [.id, .registered, .live, .self])]')" = '[1,[1,true,false,true]]' ]
te publish "$SD" 3
st=$(xe -j cluster status --state-dir "$SD")
check "announced (nodes/1 on a 3 s lease): live, verified, epoch 1, at 10.99.0.1, lease TTL" \
	[ "$(echo "$st" | jq -c '.nodes[0] | [.live, .verified, .epoch, .addr, (.lease_ttl_s <= 3)]')" = '[true,true,1,"10.99.0.1",true]' ]
xe cluster status --state-dir "$SD" | sed 's/^/# /'
rec=$(etcd_ctl get /xchan/v1/nodes/1 --print-value-only)
etcd_ctl put /xchan/v1/nodes/1 "${rec/10.99.0.1/10.99.0.66}" >/dev/null
check "a record changed in the store does not verify" \
	[ "$(xe -j cluster status --state-dir "$SD" | jq -c '.nodes[0] | [.live, .verified]')" = '[true,false]' ]
etcd_ctl put /xchan/v1/nodes/1 "$rec" >/dev/null
check "nor the signed record put back on no lease (replayed)" \
	[ "$(xe -j cluster status --state-dir "$SD" | jq -c '.nodes[0] | [.live, .verified]')" = '[true,false]' ]
te publish "$SD" 2
node_down() { [ "$(xe -j cluster status --state-dir "$SD" | jq -r '.nodes[0].live')" = false ]; }
eventually 8 node_down
check "its lease expired: down" [ $? -eq 0 ]

# a second node: pair keys derived from the store on both, what status says of them
SD2="$TMPD/state2"
in_ns "$XCHAN" --pin-root "$PIN2" cluster join --etcd "$ETCD_URL" --node 2 --addr 10.99.0.2 \
	--state-dir "$SD2" >/dev/null
te publish "$SD" 60 && te publish "$SD2" 60
run pair "$SD" "$PIN" "$SD2" "$PIN2"
peer2() { xe -j cluster status --state-dir "$SD" | jq -c ".nodes[] | select(.id==2) | $1"; }
check "status on node 1: node 2 live, epoch 1, a pair key installed, id 0x11, the current one" \
	[ "$(peer2 '[.live, .epoch, .pair_key.installed, .pair_key.id, .pair_key.current]')" = '[true,1,true,17,true]' ]
te rotate "$SD2" && te publish "$SD2" 60
check "node 2 rotated its key (epoch 2): node 1's pair key id 0x11 is no longer current" \
	[ "$(peer2 '[.epoch, .pair_key.id, .pair_key.current]')" = '[2,17,false]' ]
xe cluster status --state-dir "$SD" | sed 's/^/# /'

dump=$(etcd_ctl get --prefix / --print-value-only)
# identity.key is libsodium's seed || public key: the seed is the secret
no_secret() {
	local sk kx
	sk=$(od -An -tx1 "$1/identity.key" | tr -d ' \n')
	kx=$(awk '{print $4}' "$1/kx.key")
	[ ${#sk} -eq 128 ] && [ ${#kx} -eq 64 ] && ! echo "$dump" | grep -qiE "${sk:0:64}|$kx"
}
check "the store holds no secret key of either node" eval 'no_secret "$SD" && no_secret "$SD2"'

err=$(xe cluster status --state-dir "$TMPD/none" 2>&1 >/dev/null); rc=$?
check "status with no cluster.json and no --etcd: exit 1, one line" \
	eval '[ $rc -eq 1 ] && one_line "$err" "no cluster.json"'
err=$(xe cluster join --etcd 127.0.0.1:2379 --node 2 --addr 10.99.0.2 --state-dir "$TMPD/s2" 2>&1); rc=$?
check "join with a malformed URL: exit 2, nothing made" eval '[ $rc -eq 2 ] && [ ! -e "$TMPD/s2" ]'
etcd_stop
t0=$(date +%s.%N)
err=$(xe cluster join --etcd "$ETCD_URL" --node 2 --addr 10.99.0.2 --state-dir "$TMPD/s2" 2>&1); rc=$?
check "join with etcd down: exit 1, one line, nothing made" \
	eval '[ $rc -eq 1 ] && one_line "$err" "$ETCD_URL" && [ ! -e "$TMPD/s2" ]'
err=$(xe cluster status --state-dir "$SD" 2>&1); rc=$?
check "status with etcd down: exit 1, one line naming etcd, both within 3 s" \
	eval '[ $rc -eq 1 ] && one_line "$err" "$ETCD_URL" && [ "$(echo "$(date +%s.%N) - $t0 < 3" | bc)" = 1 ]'
diag "etcd.t took $(echo "$(date +%s.%N) - $T0" | bc)s"
finish
