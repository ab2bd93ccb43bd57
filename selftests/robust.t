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
check "... as many keyed entries as entries" [ "$(bpftool -j map dump pinned "$PIN/xchan_channels" | jq '[.[] | select(.formatted.value.valid != 0 and .formatted.value.ctl % 4 == 2)] | length')" -eq 6002 ]
quiet x apply --prune <(echo "channel b:5000 a:6000")

# 2b. partition del frees the counter slots of all its channels, however many: 1100
#     from e, more than the 1024 slots one round of the removal collects
make_part e 10.80.0.5 && quiet x partition add 5 --name e --netns "${PFX}e" &&
	awk 'BEGIN { for (i = 0; i < 1100; i++) printf "channel e:%d a:%d\n", 10000 + i, 7100 }' >"$TMPD/e" &&
	quiet x apply "$TMPD/e"
check "1100 channels from e" [ $? -eq 0 ]
t0=$(slots_taken | wc -l)
quiet x partition del e
t1=$(slots_taken | wc -l)
# more than one round of the purge (1024 slots a round): a round that kept deleting
# past what it could record leaked the rest's slots
check "partition del e freed the slots of its 1100 channels ($t0 -> $t1 taken)" [ $((t0 - t1)) -eq 1100 ]

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
# (a slot map unlinked by hand): refused with one line, and `down` still takes it
# down whole: the program detached, every pin gone
REFUSED="instance at $PAR was made by another xchan version.*run 'xchan down' and start again"
make_part d 10.80.0.4 && quiet "$XCHAN" --pin-root "$PAR" partition add 9 --name d --netns "${PFX}d"
check "a partition on the racing instance" [ $? -eq 0 ]
for gone in xchan_slotalloc xchan_counts; do
	rm "$PAR/$gone"
	"$XCHAN" --pin-root "$PAR" node list >/dev/null 2>"$TMPD/perr"; rc=$?
	check "no $gone pin: refused, exit $rc, one line: $(cat "$TMPD/perr")" \
		test $rc -eq 1 -a "$(wc -l <"$TMPD/perr")" -eq 1 -a "$(grep -c "$REFUSED" "$TMPD/perr")" -eq 1
	"$XCHAN" --pin-root "$PAR" down >/dev/null 2>"$TMPD/perr"; rc=$?
	check "... down takes it down anyway (exit $rc): d detached, no pin left" \
		test $rc -eq 0 -a ! -e "$PAR" -a "$(ip -d link show "${PFX}d" | grep -c 'prog/xdp')" -eq 0
	quiet "$XCHAN" --pin-root "$PAR" partition add 9 --name d --netns "${PFX}d"
done
# an instance holding a pin of a layout before the counter slots (xchan_chancount,
# named xchan_chanstats before it; the flow entries, their slots, the bitmap under
# both its names), as that version or a downgrade to it left it beside this one's:
# its program would count and pass by tables this agent does not keep. Every
# command but down refuses it with one line, leaving the maps and the attachment
# as they were; down removes it whole, that pin too, and detaches d.
inst() {
	ls "$PAR"
	for m in xchan_partition xchan_partmeta xchan_channels xchan_slotalloc; do
		bpftool -j map dump pinned "$PAR/$m" | jq -c '[.[] | .formatted]'
	done
	ip -d link show "${PFX}d" | grep -o 'prog/xdp id [0-9]*'
}
for old in xchan_chancount xchan_chanstats xchan_flows xchan_flowstats xchan_flowalloc xchan_flowslots; do
	[ -e "$PAR/xchan_cmm" ] || quiet "$XCHAN" --pin-root "$PAR" partition add 9 --name d --netns "${PFX}d"
	quiet old_pin "$PAR" $old
	I=$(inst)
	"$XCHAN" --pin-root "$PAR" partition del d >/dev/null 2>"$TMPD/perr"; rc=$?
	check "a leftover $old pin: partition del refused, exit $rc, one line: $(cat "$TMPD/perr")" \
		test $rc -eq 1 -a "$(wc -l <"$TMPD/perr")" -eq 1 -a "$(grep -c "$REFUSED" "$TMPD/perr")" -eq 1
	"$XCHAN" --pin-root "$PAR" channel open d:1 d:2 >/dev/null 2>"$TMPD/perr"; rc=$?
	"$XCHAN" --pin-root "$PAR" -j channel list >/dev/null 2>>"$TMPD/perr"; rc=$rc,$?
	check "... channel open and list too (exit $rc), nothing changed" \
		test $rc = 1,1 -a "$(grep -c "$REFUSED" "$TMPD/perr")" -eq 2 -a "$I" = "$(inst)"
	"$XCHAN" --pin-root "$PAR" down >/dev/null 2>"$TMPD/perr"; rc=$?
	check "... down takes it down (exit $rc): d detached, no pin left" \
		test $rc -eq 0 -a ! -e "$PAR" -a "$(ip -d link show "${PFX}d" | grep -c 'prog/xdp')" -eq 0
done
# a map every version has missing: down still detaches d and removes every pin
quiet "$XCHAN" --pin-root "$PAR" partition add 9 --name d --netns "${PFX}d" && rm "$PAR/xchan_channels"
"$XCHAN" --pin-root "$PAR" down >/dev/null 2>"$TMPD/perr"; rc=$?
check "no xchan_channels: down exits $rc, d detached, no pin left" \
	test $rc -eq 0 -a ! -e "$PAR" -a "$(ip -d link show "${PFX}d" | grep -c 'prog/xdp')" -eq 0
# without the partitions' table nobody knows where it attached: the pins go, with a warning
quiet "$XCHAN" --pin-root "$PAR" partition add 9 --name d --netns "${PFX}d" && rm "$PAR/xchan_partmeta"
"$XCHAN" --pin-root "$PAR" down >/dev/null 2>"$TMPD/perr"; rc=$?
check "no xchan_partmeta: down exits $rc, warns ($(cat "$TMPD/perr")), no pin left" \
	test $rc -eq 0 -a "$(grep -c 'no readable xchan_partmeta' "$TMPD/perr")" -eq 1 -a ! -e "$PAR"
ip link set dev "${PFX}d" xdp off 2>/dev/null
# the 14 channels after the killed apply, its prune and the racing opens: each IN
# entry names a slot of its own, whose bit is taken (else the next open could be
# given it and count into it too), the OUT entries none. A bit may be left taken
# with no entry by the apply killed between the two: found again when none is free.
S=$(chan_slots)
ins=$(awk '$1 == "in" { print $4 }' <<<"$S" | sort)	# as comm wants it
taken=$(slots_taken | sort)
lost=$(comm -13 <(echo "$ins") <(echo "$taken") | wc -l)
check "a counter slot per IN entry: 14, distinct, all taken ($lost taken by none)" \
	test "$(wc -l <<<"$ins")" -eq 14 -a "$(uniq <<<"$ins" | wc -l)" -eq 14 \
		-a -z "$(comm -23 <(echo "$ins") <(echo "$taken"))" \
		-a -z "$(awk '$1 == "out" && $4 != '"$NO_SLOT"'' <<<"$S")" -a "$(awk '$1 == "out"' <<<"$S" | wc -l)" -eq 14

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
