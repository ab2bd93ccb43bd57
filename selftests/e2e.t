#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# e2e.t: real partitions (netns + veth), the real agent, real UDP sockets: what a
# receiving socket got is the ground truth, in routed and bridged topologies.
. "$(dirname "$0")/lib.sh"

count_from() { received "$1" "$2" | grep -c " $3 $4-" ; }

topology() {  # topology MODE: three partitions a, b, c; b:5000 -> a:6000 open
	make_part a 10.77.0.1 "$1" && make_part b 10.77.0.2 "$1" && make_part c 10.77.0.3 "$1" || return 1
	x partition add 1 --name alice --netns "${PFX}a" >/dev/null &&
	x partition add 2 --name bob --netns "${PFX}b" >/dev/null &&
	x partition add 3 --name carol --netns "${PFX}c" >/dev/null &&
	x channel open bob:5000 alice:6000 >/dev/null
}

for mode in routed bridge; do
	check "$mode: topology and channel set up" topology $mode
	# the same-node fast path: one flow entry, for bob:5000 -> alice's address:6000
	flows=$(bpftool -j map dump pinned "$PIN/xchan_flows" | jq -c '[.[] | .formatted.key // .key]')
	check "$mode: the channel has its one flow entry ($flows)" \
		[ "$(jq 'length' <<<"$flows")" -eq 1 ]
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
	# the channel's counters: what the fast path passed is in its entry's slot
	# (xchan_flowstats), not in the row; `stats --channels` shows the sum
	pk=$(x -j stats --channels | jq '[.channels[] | select(.src_part==2 and .src_ep==5000 and .dst_ep==6000) | .packets] | add')
	slot=$(bpftool -j map dump pinned "$PIN/xchan_flows" | jq '.[0].formatted.value.slot')
	slots=$(bpftool -j map lookup pinned "$PIN/xchan_flowstats" key $((slot & 255)) $((slot >> 8 & 255)) $((slot >> 16 & 255)) 0 |
		jq '[.formatted.values[].value.packets] | add')
	row=$(bpftool -j map dump pinned "$PIN/xchan_chancount" |
		jq '[.[] | select(.formatted.key.local_ep==6000) | .formatted.values[].value.packets] | add')
	check "$mode: stats counts the channel's 50 (got $pk: slot $slot has $slots, the row $row)" \
		test "$pk" -ge 50 -a "$slots" -ge 50 -a "$row" -lt 50

	# A listing remembers partitions and names in 16 places by id: dora, id 17, takes
	# alice's (id 1) place in turn. Channels both ways between them, so that in any
	# order one of them finds the other's partition there: each must still show its
	# own counters and names.
	if [ $mode = routed ]; then
		make_part d 10.77.0.4 $mode && quiet x partition add 17 --name dora --netns "${PFX}d" &&
			quiet x channel open dora:7000 alice:6002 && quiet x channel open alice:6003 dora:7001
		check "$mode: a partition whose id shares alice's place in a listing's caches" [ $? -eq 0 ]
		recv_start a 6002; recv_start d 7001
		send_udp d 7000 10.77.0.1 6002 20 dora
		send_udp a 6003 10.77.0.4 7001 30 alice
		eventually 3 [ "$(count_from a 6002 7000 dora)" -eq 20 -a "$(count_from d 7001 6003 alice)" -eq 30 ]
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
	keys_before=$(bpftool -j map dump pinned "$PIN/xchan_keys" | jq -c '[.[].key] | sort')
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
	keys_after=$(bpftool -j map dump pinned "$PIN/xchan_keys" | jq -c '[.[].key] | sort')
	check "$mode: forged control messages change no key" [ "$keys_before" = "$keys_after" ]
	untrusted=$(x -j stats | jq '.reasons[] | select(.reason=="drop_ctrl_untrusted") | .packets')
	check "$mode: forged control messages were dropped and counted ($untrusted)" [ "$untrusted" -ge 36 ]
	ev=$(x -j monitor --timeout 1 | jq -r 'select(.kind=="control_from_partition") | .kind' | wc -l)
	check "$mode: ... and audited ($ev events)" [ "$ev" -ge 1 ]
	send_udp b 5000 10.77.0.1 6000 10 after
	sleep 0.3
	check "$mode: the existing channel still delivers" [ "$(count_from a 6000 5000 after)" -eq 10 ]

	# close takes the flow table's lock (user/lib/flow.c): held elsewhere, close waits
	rm -f "$TMPD/held" "$TMPD/released"
	flock -x "$PIN/xchan_flows" sh -c "touch '$TMPD/held'; sleep 1; touch '$TMPD/released'" &
	lockpid=$!
	eventually 5 [ -e "$TMPD/held" ]
	check "$mode: channel close" quiet x channel close bob:5000 alice:6000
	check "$mode: ... which waited for the flow table's lock held by another process" [ -e "$TMPD/released" ]
	wait $lockpid
	send_udp b 5000 10.77.0.1 6000 10 closed
	sleep 0.3
	check "$mode: a closed channel delivers nothing" [ "$(received a 6000 | grep -c closed)" -eq 0 ]
	check "$mode: ... and has no flow entry left" \
		[ "$(bpftool -j map dump pinned "$PIN/xchan_flows" | jq 'length')" -eq 0 ]

	if [ $mode = routed ]; then
		# an instance made before the flow slots: its row pinned as xchan_chanstats,
		# no xchan_flowstats nor the slot bitmap. This agent opens it by the old
		# name and writes it no flow entry (its program would read another layout);
		# the channel takes the full path and counts in the row
		mv "$PIN/xchan_chancount" "$PIN/xchan_chanstats" &&
			rm "$PIN/xchan_flowstats" "$PIN/xchan_flowalloc" "$PIN/xchan_flows" &&
			bpftool map create "$PIN/xchan_flows" type hash key 12 value 88 entries 64 \
				name xchan_flows flags 1
		check "old instance: pins of the layout before the slots (88-byte flow entries)" [ $? -eq 0 ]
		check "old instance: channel open" quiet x channel open bob:5000 alice:6000
		check "old instance: ... and no flow entry written" \
			[ "$(bpftool -j map dump pinned "$PIN/xchan_flows" | jq 'length')" -eq 0 ]
		recv_stop a 6000; recv_start a 6000
		send_udp b 5000 10.77.0.1 6000 10 oldinst
		eventually 3 [ "$(count_from a 6000 5000 oldinst)" -eq 10 ]
		check "old instance: the full path delivers 10 of 10" [ $? -eq 0 ]
		pk=$(x -j stats --channels | jq '[.channels[] | select(.src_part==2 and .src_ep==5000) | .packets] | add')
		check "old instance: counted in the row ($pk)" [ "$pk" -ge 10 ]
		# entries of that layout, as its agent wrote them: bob:5000 and bob:5001 -> alice
		# (dst_part 1 at offset 80): close deletes the first by its key, partition
		# del reads the second's receiver in that layout
		v88="$(printf '11 %.0s' $(seq 80)) 01 00 00 00 00 00 00 00"
		bpftool map update pinned "$PIN/xchan_flows" key 2 0 0 0 10 77 0 1 0x13 0x88 0x17 0x70 value $v88 &&
			bpftool map update pinned "$PIN/xchan_flows" key 2 0 0 0 10 77 0 1 0x13 0x89 0x17 0x70 value $v88
		check "old instance: two 88-byte entries written" [ $? -eq 0 ]
		check "old instance: channel close" quiet x channel close bob:5000 alice:6000
		check "old instance: ... which deleted its entry, not the other" \
			[ "$(bpftool -j map dump pinned "$PIN/xchan_flows" | jq 'length')" -eq 1 ]
		check "old instance: partition del alice" quiet x partition del alice
		check "old instance: ... which purged the entry naming alice as receiver" \
			[ "$(bpftool -j map dump pinned "$PIN/xchan_flows" | jq 'length')" -eq 0 ]
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
