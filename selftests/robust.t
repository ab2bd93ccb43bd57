#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# robust.t: the agent killed under traffic and restarted, apply killed halfway and
# re-applied, parallel channel opens, close under traffic, and the CLI commands
# under valgrind. Sockets in the partitions are the ground truth.
. "$(dirname "$0")/lib.sh"
PAR="$PIN-par"	# a second instance, created by processes racing
trap 'cleanup; "$XCHAN" --pin-root "$PAR" down >/dev/null 2>&1; rm -rf "$PAR"' EXIT

make_part a 10.80.0.1 && make_part b 10.80.0.2 && make_part c 10.80.0.3
quiet x partition add 1 --name a --netns "${PFX}a" && quiet x partition add 2 --name b --netns "${PFX}b" &&
	quiet x partition add 3 --name c --netns "${PFX}c" && quiet x channel open b:5000 a:6000
check "set up" [ $? -eq 0 ]

# 1. The long-running agent (monitor) is killed and restarted while b sends 400
#    authorized and c 400 unauthorized messages: the datapath needs no agent.
recv_start a 6000
"$XCHAN" --pin-root "$PIN" monitor >/dev/null 2>&1 & mon=$!
send_udp b 5000 10.80.0.1 6000 400 auth & s1=$!
send_udp c 5000 10.80.0.1 6000 400 unauth & s2=$!
sleep 0.4; kill -9 $mon; wait $mon 2>/dev/null
sleep 0.3; "$XCHAN" --pin-root "$PIN" monitor --timeout 1 >/dev/null 2>&1 & mon=$!
wait $s1 $s2; wait $mon
sleep 0.3
n=$(received a 6000 | grep -c ' auth-')
check "agent killed and restarted under traffic: all 400 authorized messages arrived ($n)" [ "$n" -eq 400 ]
check "... and nothing unauthorized passed" [ "$(received a 6000 | grep -c unauth)" -eq 0 ]
check "... the program stayed attached" [ "$(x -j partition list | jq -r '[.[].xdp] | unique | join(",")')" = native ]

# 2. apply killed halfway, then applied again: the tables converge, no orphans.
{
	echo "partition 1 --name a --netns ${PFX}a"
	awk 'BEGIN { for (i = 0; i < 3000; i++) printf "channel c:%d a:%d\n", 10000 + i, 7000 }'
} >"$TMPD/many"
"$XCHAN" --pin-root "$PIN" apply "$TMPD/many" >/dev/null 2>&1 & ap=$!
sleep 0.05; kill -9 $ap 2>/dev/null; wait $ap 2>/dev/null
partial=$(x -j channel list | jq length)
x apply "$TMPD/many" >/dev/null; rc=$?
J=$(x -j channel list)
check "apply killed at $partial entries, then applied again: exit $rc" [ $rc -eq 0 ]
check "... 3001 channels, each with both entries established" \
	[ "$(jq '[.[] | select(.state=="established")] | length' <<<"$J")" -eq 6002 ]
check "... every entry keyed" [ "$(jq '[.[] | select(.key=="none")] | length' <<<"$J")" -eq 0 ]
check "... as many keys as entries" [ "$(bpftool -j map dump pinned "$PIN/xchan_keys" | jq length)" -eq 6002 ]
quiet x apply --prune <(echo "channel b:5000 a:6000")

# 3. Parallel opens: 12 distinct channels and 6 processes racing for one.
pids=()
for i in $(seq 1 12); do ( x channel open "b:$((8000 + i))" a:6001 >/dev/null 2>&1; echo $? >"$TMPD/d$i" ) & pids+=($!); done
for i in $(seq 1 6); do ( x channel open b:9000 a:6002 >/dev/null 2>&1; echo $? >"$TMPD/s$i" ) & pids+=($!); done
wait "${pids[@]}"
check "12 parallel opens of distinct channels all succeeded" [ "$(cat "$TMPD"/d* | grep -c '^0$')" -eq 12 ]
check "6 parallel opens of one channel: exactly one succeeded" [ "$(cat "$TMPD"/s* | grep -c '^0$')" -eq 1 ]
J=$(x -j channel list)
[ "$(jq '[.[] | select(.state=="established" and .key!="none")] | length' <<<"$J")" -eq 28 ] && [ "$(jq length <<<"$J")" -eq 28 ]
check "tables consistent: 14 channels, 28 entries, all established and keyed" [ $? -eq 0 ]
orph=$(jq '[.[] | {k: (if .dir=="in" then "\(.remote_part):\(.remote_ep)>\(.local_part):\(.local_ep)" else "\(.local_part):\(.local_ep)>\(.remote_part):\(.remote_ep)" end)}] | group_by(.k) | map(select(length != 2)) | length' <<<"$J")
check "no orphan: every channel has its IN and its OUT entry ($orph odd)" [ "$orph" -eq 0 ]

# 3b. Six processes create one instance at once (as xchan-cni does for containers
#     started together): one loads it, the others wait on the root's lock and use
#     it; none unlinks what another pinned, so every peer each added is there.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMPD/pk"; chmod 600 "$TMPD/pk"
pids=()
for i in $(seq 2 7); do
	( "$XCHAN" --pin-root "$PAR" node add "$i" --addr "10.81.0.$i" --key-file "$TMPD/pk" >/dev/null 2>"$TMPD/par$i.err"
	  echo $? >"$TMPD/p$i" ) & pids+=($!)
done
wait "${pids[@]}"
check "6 parallel creators of one instance all succeeded ($(cat "$TMPD"/par*.err | head -1))" \
	[ "$(cat "$TMPD"/p* | grep -c '^0$')" -eq 6 ]
check "... and the instance holds all 6 peers" \
	[ "$("$XCHAN" --pin-root "$PAR" -j node list | jq '.peers | length')" -eq 6 ]
# the same instance with a partition attached, then pins that do not belong together
# (a slot map unlinked by hand, as pins of two versions would be): refused with one
# line, and `down` still takes it down whole: the program detached, every pin gone
make_part d 10.80.0.4 && quiet "$XCHAN" --pin-root "$PAR" partition add 9 --name d --netns "${PFX}d"
check "a partition on the racing instance" [ $? -eq 0 ]
rm "$PAR/xchan_flowalloc"
"$XCHAN" --pin-root "$PAR" node list >/dev/null 2>"$TMPD/perr"; rc=$?
check "pins that do not belong together are refused: exit $rc, one line: $(cat "$TMPD/perr")" \
	test $rc -eq 1 -a "$(wc -l <"$TMPD/perr")" -eq 1 -a "$(grep -c 'different xchan versions' "$TMPD/perr")" -eq 1
"$XCHAN" --pin-root "$PAR" down >/dev/null 2>"$TMPD/perr"; rc=$?
check "... down takes it down anyway (exit $rc): d detached, no pin left" \
	test $rc -eq 0 -a ! -e "$PAR" -a "$(ip -d link show "${PFX}d" | grep -c 'prog/xdp')" -eq 0
# the slot bitmap under both its names (pinned xchan_flowslots before the flow cache
# read its sequence): refused like any other mix; under its old name only beside a
# program that has the cache (renamed by hand) too; and with every fast-path pin
# removed beside a program that reads flow entries, which would otherwise open as
# an instance older than the table and close channels leaving entries and copies
quiet "$XCHAN" --pin-root "$PAR" partition add 9 --name d --netns "${PFX}d" &&
	ln "$PAR/xchan_flowalloc" "$PAR/xchan_flowslots"
"$XCHAN" --pin-root "$PAR" partition list >/dev/null 2>"$TMPD/perr"; rc=$?
check "the bitmap under both names is refused: exit $rc, $(cat "$TMPD/perr")" \
	test $rc -eq 1 -a "$(grep -c 'different xchan versions' "$TMPD/perr")" -eq 1
rm "$PAR/xchan_flowalloc"
"$XCHAN" --pin-root "$PAR" partition list >/dev/null 2>"$TMPD/perr"; rc=$?
check "... under the old name alone beside a program with the cache: refused (exit $rc)" \
	test $rc -eq 1 -a "$(grep -c 'different xchan versions' "$TMPD/perr")" -eq 1
rm "$PAR/xchan_flowslots" "$PAR/xchan_flowstats" "$PAR/xchan_flows"
"$XCHAN" --pin-root "$PAR" partition list >/dev/null 2>"$TMPD/perr"; rc=$?
check "... no fast-path pin beside a program that reads flow entries: refused (exit $rc)" \
	test $rc -eq 1 -a "$(grep -c 'different xchan versions' "$TMPD/perr")" -eq 1
"$XCHAN" --pin-root "$PAR" down >/dev/null 2>"$TMPD/perr"; rc=$?
check "... down takes it down (exit $rc): d detached, no pin left" \
	test $rc -eq 0 -a ! -e "$PAR" -a "$(ip -d link show "${PFX}d" | grep -c 'prog/xdp')" -eq 0
# the row under both names (a downgrade, then an upgrade, at one root), then a map
# every version has missing: down still detaches d and removes every pin
for broken in both_rows no_keys; do
	quiet "$XCHAN" --pin-root "$PAR" partition add 9 --name d --netns "${PFX}d"
	case $broken in
	both_rows) ln "$PAR/xchan_chancount" "$PAR/xchan_chanstats" ;;
	no_keys) rm "$PAR/xchan_keys" ;;
	esac
	"$XCHAN" --pin-root "$PAR" down >/dev/null 2>"$TMPD/perr"; rc=$?
	check "$broken: down exits $rc, d detached, no pin left" \
		test $rc -eq 0 -a ! -e "$PAR" -a "$(ip -d link show "${PFX}d" | grep -c 'prog/xdp')" -eq 0
done
# without the partitions' table nobody knows where it attached: the pins go, with a warning
quiet "$XCHAN" --pin-root "$PAR" partition add 9 --name d --netns "${PFX}d" && rm "$PAR/xchan_partmeta"
"$XCHAN" --pin-root "$PAR" down >/dev/null 2>"$TMPD/perr"; rc=$?
check "no xchan_partmeta: down exits $rc, warns ($(cat "$TMPD/perr")), no pin left" \
	test $rc -eq 0 -a "$(grep -c 'no readable xchan_partmeta' "$TMPD/perr")" -eq 1 -a ! -e "$PAR"
ip link set dev "${PFX}d" xdp off 2>/dev/null
check "one counter entry per IN entry" [ "$(bpftool -j map dump pinned "$PIN/xchan_chancount" | jq length)" -eq 14 ]

# 4. Close under traffic: after `channel close` returns, nothing more arrives.
recv_stop a 6000; recv_start a 6000
rm -f "$TMPD/closed"
ip netns exec "${PFX}b" python3 - "$TMPD/closed" <<'PY' & snd=$!
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5000))
end = time.time() + 3
i = 0
while time.time() < end:
    tag = "after" if os.path.exists(sys.argv[1]) else "before"
    s.sendto(("%s-%d" % (tag, i)).encode(), ("10.80.0.1", 6000))
    i += 1
    time.sleep(0.0005)
PY
sleep 1
quiet x channel close b:5000 a:6000; rc=$?
touch "$TMPD/closed"
wait $snd
sleep 0.3
check "close under traffic returned 0 ($rc)" [ $rc -eq 0 ]
check "messages arrived before the close ($(received a 6000 | grep -c before))" [ "$(received a 6000 | grep -c before)" -gt 100 ]
check "no message sent after close returned arrived" [ "$(received a 6000 | grep -c after)" -eq 0 ]

# 5. The CLI under valgrind: no leak, no invalid access (libbpf/libxdp noise suppressed).
if command -v valgrind >/dev/null; then
	VG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
	    --show-leak-kinds=definite,indirect --error-exitcode=99
	    --suppressions="$(dirname "$0")/valgrind.supp")
	vg() { "${VG[@]}" "$XCHAN" --pin-root "$PIN" "$@" >/dev/null 2>"$TMPD/vg"; local rc=$?
		[ $rc -eq 99 ] && sed 's/^/# /' "$TMPD/vg" | head -60
		check "valgrind: xchan $* (exit $rc)" [ $rc -ne 99 ]; }
	vg channel open b:5100 a:6100
	vg channel list
	vg -j stats --channels
	vg status
	vg partition list
	vg doctor
	vg monitor --timeout 1
	vg apply <(echo "channel b:5200 a:6200")
	vg channel close b:5100 a:6100
	vg partition del c
	vg partition add 3 --name c --netns "${PFX}c"
	vg channel open zed:1 a:1
	vg down
fi
finish
