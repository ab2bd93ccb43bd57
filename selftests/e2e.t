#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# e2e.t: real partitions (netns + veth), the real agent, real UDP sockets: what a
# receiving socket got is the ground truth, in routed and bridged topologies.
. "$(dirname "$0")/lib.sh"

count_from() { received "$1" "$2" | grep -c " $3 $4-" ; }
# delivered NAME PORT SPORT TAG N: that socket got N of TAG from SPORT (for eventually,
# which must count anew at every try)
delivered() { [ "$(count_from "$1" "$2" "$3" "$4")" -eq "$5" ]; }

topology() {  # topology MODE: three partitions a, b, c; b:5000 -> a:6000 open
	make_part a 10.77.0.1 "$1" && make_part b 10.77.0.2 "$1" && make_part c 10.77.0.3 "$1" || return 1
	x partition add 1 --name alice --netns "${PFX}a" >/dev/null &&
	x partition add 2 --name bob --netns "${PFX}b" >/dev/null &&
	x partition add 3 --name carol --netns "${PFX}c" >/dev/null &&
	x channel open bob:5000 alice:6000 >/dev/null
}

for mode in routed bridge; do
	check "$mode: topology and channel set up" topology $mode
	# the channel's counters have a slot of xchan_counts from authorization on, named
	# by its IN entry alone (a channel is counted at its receiver): the OUT entry
	# names none, and the bitmap has that one slot taken
	S=$(chan_slots)
	slot=$(awk '$1 == "in" && $2 == "1:6000" && $3 == "2:5000" { print $4 }' <<<"$S")
	check "$mode: the IN entry names a taken slot, the OUT entry none ($(echo $S))" \
		test -n "$slot" -a "$(awk '$1 == "out" { print $4 }' <<<"$S")" = "$NO_SLOT" -a "$(slots_taken)" = "$slot"
	recv_start b 5000
	send_udp a 6000 10.77.0.2 5000 5 reverse
	sleep 0.2
	recv_stop b 5000
	recv_start a 6000
	recv_start a 6001
	send_udp b 5000 10.77.0.1 6000 50 ok
	send_udp b 5001 10.77.0.1 6000 5 wrongsport
	send_udp b 5000 10.77.0.1 6001 5 wrongdport
	send_udp c 5000 10.77.0.1 6000 5 nochannel
	sleep 0.5
	n=$(count_from a 6000 5000 ok)
	check "$mode: authorized channel delivered all 50 messages (got $n)" [ "$n" -eq 50 ]
	check "$mode: wrong source port delivers nothing" [ "$(count_from a 6000 5001 wrongsport)" -eq 0 ]
	check "$mode: wrong destination port delivers nothing" [ -z "$(received a 6001)" ]
	check "$mode: reverse direction delivers nothing" [ -z "$(received b 5000)" ]
	check "$mode: partition without a channel delivers nothing" [ "$(received a 6000 | grep -c nochannel)" -eq 0 ]
	# the channel's counters: every frame that passed, the same-node fast path's and
	# the full path's, is in the slot its IN entry names; `stats --channels` shows that
	# slot, once (no OUT row beside it), and it holds at least what the socket got
	C=$(x -j stats --channels | jq -c '[.channels[] | select(.src_part==2 and .src_ep==5000 and .dst_ep==6000)]')
	pk=$(slot_count "$slot" packets); by=$(slot_count "$slot" bytes)
	check "$mode: stats shows the channel once, as its slot $slot has it ($pk packets, $by bytes): $C" \
		test "$(jq 'length' <<<"$C")" -eq 1 -a "$(jq '.[0].packets' <<<"$C")" = "$pk" -a "$(jq '.[0].bytes' <<<"$C")" = "$by"
	check "$mode: ... at least the $n the socket got, each at least a header's bytes" \
		test "$pk" -ge "$n" -a "$pk" -lt $((n + 20)) -a "$by" -ge $((pk * 42))

	# A listing remembers partitions and names in 16 places by id: dora, id 17, takes
	# alice's (id 1) place in turn. Channels both ways between them, so that in any
	# order one of them finds the other's partition there: each must still show its
	# own counters and names.
	if [ $mode = routed ]; then
		make_part d 10.77.0.4 $mode && quiet x partition add 17 --name dora --netns "${PFX}d" &&
			quiet x channel open dora:7000 alice:6002 && quiet x channel open alice:6003 dora:7001
		check "$mode: a partition whose id shares alice's place in a listing's caches" [ $? -eq 0 ]
		# three channels: each IN entry a slot of its own, and those the bitmap's taken
		S=$(chan_slots)
		ins=$(awk '$1 == "in" { print $4 }' <<<"$S" | sort -n | tr '\n' ' ')
		check "$mode: ... each IN entry names a slot of its own, taken, the OUT entries none ($ins)" \
			test "$(wc -w <<<"$ins")" -eq 3 -a "$(awk '$1 == "in" { print $4 }' <<<"$S" | sort -u | wc -l)" -eq 3 \
				-a "$ins" = "$(slots_taken | tr '\n' ' ')" -a -z "$(awk '$1 == "out" && $4 != '"$NO_SLOT"'' <<<"$S")"
		recv_start a 6002; recv_start d 7001
		send_udp d 7000 10.77.0.1 6002 20 dora
		send_udp a 6003 10.77.0.4 7001 30 alice
		eventually 3 eval 'delivered a 6002 7000 dora 20 && delivered d 7001 6003 alice 30'
		check "$mode: ... both its channels deliver, 20 and 30" [ $? -eq 0 ]
		recv_stop a 6002; recv_stop d 7001
		L=$(x -j channel list)
		pb=$(jq '.[] | select(.dir=="in" and .local_ep==6000 and .remote_part==2) | .packets' <<<"$L")
		pd=$(jq '.[] | select(.dir=="in" and .local_ep==6002 and .remote_part==17) | .packets' <<<"$L")
		pa=$(jq '.[] | select(.dir=="in" and .local_ep==7001 and .remote_part==1) | .packets' <<<"$L")
		check "$mode: channel list counts each channel ($pb from bob, $pd from dora, $pa from alice)" \
			test "$pb" -ge 50 -a "$pb" -lt 70 -a "$pd" -eq 20 -a "$pa" -eq 30
		T=$(x channel list)
		check "$mode: ... and names them" \
			eval "grep -q '^in  *alice:6002  *dora:7000 ' <<<'$T' && grep -q '^in  *dora:7001  *alice:6003 ' <<<'$T' &&
			      grep -q '^in  *alice:6000  *bob:5000 ' <<<'$T'"
		quiet x channel close dora:7000 alice:6002 && quiet x channel close alice:6003 dora:7001 &&
			quiet x partition del dora
		check "$mode: ... closed and removed again" [ $? -eq 0 ]
	fi

	# c takes b's address as its own source: the CMM on c's veth sees a stranger's IP.
	ip -n "${PFX}c" addr add 10.77.0.2/32 dev eth0 2>/dev/null
	ip netns exec "${PFX}c" python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.0.2", 5000))
for i in range(5):
    s.sendto(b"spoofip-%d" % i, ("10.77.0.1", 6000)); time.sleep(0.002)
PY
	ip -n "${PFX}c" addr del 10.77.0.2/32 dev eth0 2>/dev/null
	# b sends from its own port 5000 but with a made-up MAC
	ip -n "${PFX}b" link set eth0 address 02:de:ad:be:ef:01
	send_udp b 5000 10.77.0.1 6000 5 spoofmac
	sleep 0.3
	check "$mode: another partition's source IP delivers nothing" [ "$(received a 6000 | grep -c spoofip)" -eq 0 ]
	check "$mode: a forged source MAC delivers nothing" [ "$(received a 6000 | grep -c spoofmac)" -eq 0 ]
	sip=$(x -j stats | jq '.reasons[] | select(.reason=="drop_spoof_src_ip") | .packets')
	smac=$(x -j stats | jq '.reasons[] | select(.reason=="drop_spoof_src_mac") | .packets')
	[ "$sip" -ge 5 ] && [ "$smac" -ge 1 ]
	check "$mode: the spoofing was counted (ip $sip, mac $smac)" [ $? -eq 0 ]
	mac=$(x -j partition list | jq -r '.[] | select(.name=="bob") | .mac')
	ip -n "${PFX}b" link set eth0 address "$mac"

	# Containers forging control messages: every type, to the peer, the host and the port.
	keys_before=$(bpftool -j map dump pinned "$PIN/xchan_channels" | jq -c '[.[] | [.key, .value]] | sort')
	for dst in 10.77.0.1 10.77.0.2; do
		ip netns exec "${PFX}c" python3 - "$dst" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for t in range(1, 7):
    # CONNECT for the existing channel (a:6000 <- b:5000) and for a new one c -> a
    for sp, dp, se, de in ((1, 2, 6000, 5000), (1, 3, 6000, 5000), (3, 1, 5000, 6000)):
        h = struct.pack("!BBHIIHHQ16s", 1, t, 0, sp, dp, se, de, 0, b"K" * 16)
        s.sendto(h, (sys.argv[1], 7420))
PY
	done
	sleep 0.2
	keys_after=$(bpftool -j map dump pinned "$PIN/xchan_channels" | jq -c '[.[] | [.key, .value]] | sort')
	check "$mode: forged control messages change no key" [ "$keys_before" = "$keys_after" ]
	untrusted=$(x -j stats | jq '.reasons[] | select(.reason=="drop_ctrl_untrusted") | .packets')
	check "$mode: forged control messages were dropped and counted ($untrusted)" [ "$untrusted" -ge 36 ]
	ev=$(x -j monitor --timeout 1 | jq -r 'select(.kind=="control_from_partition") | .kind' | wc -l)
	check "$mode: ... and audited ($ev events)" [ "$ev" -ge 1 ]
	send_udp b 5000 10.77.0.1 6000 10 after
	sleep 0.3
	check "$mode: the existing channel still delivers" [ "$(count_from a 6000 5000 after)" -eq 10 ]

	# close: the CMM's per-CPU flow cache has passed this channel's frames on what the
	# full path found; close moves the change sequence after removing the keys, so
	# that no copy made before counts: nothing more is delivered, and the slot is free
	seq0=$(change_seq)
	check "$mode: channel close" quiet x channel close bob:5000 alice:6000
	seq1=$(change_seq)
	send_udp b 5000 10.77.0.1 6000 10 closed
	sleep 0.3
	check "$mode: a closed channel delivers nothing" [ "$(received a 6000 | grep -c closed)" -eq 0 ]
	check "$mode: ... close moved the change sequence ($seq0 -> $seq1, by twos)" \
		test "$seq1" -gt "$seq0" -a $((seq1 % 2)) -eq 0
	check "$mode: ... and left no entry, no slot taken" \
		test -z "$(chan_slots)" -a -z "$(slots_taken)"

	# open takes the slot bitmap's lock (user/lib/flow.c) until its IN entry names the
	# slot: held elsewhere, open waits
	rm -f "$TMPD/held" "$TMPD/released"
	flock -x "$PIN/xchan_slotalloc" sh -c "touch '$TMPD/held'; sleep 1; touch '$TMPD/released'" &
	lockpid=$!
	eventually 5 [ -e "$TMPD/held" ]
	check "$mode: channel open again" quiet x channel open bob:5000 alice:6000
	check "$mode: ... which waited for the slot bitmap's lock held by another process" [ -e "$TMPD/released" ]
	wait $lockpid
	# the slot it takes (maybe the closed channel's, which counted 60 and more)
	# starts from zero: it counts what passed since, as the socket got it
	slot=$(chan_slots | awk '$1 == "in" && $2 == "1:6000" && $3 == "2:5000" { print $4 }')
	recv_stop a 6000; recv_start a 6000
	send_udp b 5000 10.77.0.1 6000 10 reopened
	eventually 3 delivered a 6000 5000 reopened 10
	check "$mode: the channel opened again delivers 10 of 10" [ $? -eq 0 ]
	pk=$(slot_count "$slot" packets)
	check "$mode: ... counted from zero in its slot $slot ($pk)" [ "$pk" -eq 10 ]

	if [ $mode = routed ]; then
		# an instance holding a pin of a layout before the counter slots (per-CPU rows
		# by channel id, flow entries): here a leftover xchan_flows, as that version
		# made it. Its program would count and pass by tables this agent does not
		# keep, so every command but down refuses the instance, with one line that
		# says what to do, and changes nothing: the datapath runs on as it was.
		check "old pin: an xchan_flows pin of the layout before the slots" \
			quiet old_pin "$PIN" xchan_flows
		inst() {	# what a refused command must leave as it was
			ls "$PIN"
			for m in xchan_partition xchan_channels xchan_slotalloc; do
				bpftool -j map dump pinned "$PIN/$m" | jq -c '[.[] | .formatted]'
			done
			for d in "${PFX}a" "${PFX}b" "${PFX}c"; do ip -d link show "$d" | grep -o 'prog/xdp id [0-9]*'; done
		}
		I=$(inst)
		for cmd in "channel close bob:5000 alice:6000" "channel open carol:5000 alice:6000" \
			   "partition del alice" "partition add 4 --name dan --netns ${PFX}c" \
			   "channel list" "stats --channels" "status"; do
			# shellcheck disable=SC2086
			x $cmd >/dev/null 2>"$TMPD/err"; rc=$?
			check "old pin: '$cmd' refused, exit $rc: $(cat "$TMPD/err")" \
				test $rc -eq 1 -a "$(wc -l <"$TMPD/err")" -eq 1 -a \
				"$(grep -c "instance at $PIN was made by another xchan version.*run 'xchan down' and start again" "$TMPD/err")" -eq 1
		done
		check "old pin: ... and nothing changed" [ "$I" = "$(inst)" ]
		send_udp b 5000 10.77.0.1 6000 10 oldpin
		eventually 3 delivered a 6000 5000 oldpin 10
		check "old pin: the channel still delivers 10 of 10" [ $? -eq 0 ]
		# down takes it down whole below: the old pin too, every program detached
	fi

	check "$mode: down" quiet x down
	attached=0
	for d in "${PFX}a" "${PFX}b" "${PFX}c"; do
		ip -d link show "$d" | grep -q 'prog/xdp' && attached=1
	done
	check "$mode: after down no program is attached" [ $attached -eq 0 ]
	check "$mode: after down no pin remains" [ ! -e "$PIN" ]
	# next round starts from nothing
	for n in "${NSES[@]}"; do ip netns pids "$n" | xargs -r kill 2>/dev/null; ip netns del "$n"; done
	for d in "${HOSTDEVS[@]}"; do ip link del "$d" 2>/dev/null; done
	ip link del "${PFX}br" 2>/dev/null
	NSES=(); HOSTDEVS=()
done
finish
