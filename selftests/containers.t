#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# containers.t: podman containers as partitions on podman's CNI bridge. Sockets in
# the containers are the ground truth; isolation is probed from inside them with
# the real bpf(2) calls; doctor's verdicts are checked against what the probes got.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/containers.sh"
trap 'ctr_cleanup; cleanup' EXIT

if ! podman_works; then
	echo "1..0 # SKIP podman cannot start a container here"
	exit 0
fi
# mallory is the compromised one: root in its netns (NET_ADMIN) and no seccomp filter,
# so only what xchan does stands in its way. eve is user-namespaced; frank has the
# host's bpffs bind-mounted (a misconfiguration doctor must flag).
UNCONF=(--security-opt seccomp=unconfined)
# alice publishes a port (podman -p: CNI's DNAT, masqueraded on the hairpin)
ctr_run alice -p 8080:6000/udp; ctr_run bob; ctr_run mallory --cap-add NET_ADMIN --cap-add NET_RAW "${UNCONF[@]}"
ctr_run eve "${UNCONF[@]}" --uidmap 0:200000:65536 --gidmap 0:200000:65536 -v /sys/fs/bpf:/sys/fs/bpf
ctr_run frank "${UNCONF[@]}" -v /sys/fs/bpf:/sys/fs/bpf
A=$(ctr_ip alice); B=$(ctr_ip bob); M=$(ctr_ip mallory)
[ -n "$A" ] && [ -n "$B" ] && [ -n "$M" ]
check "containers have addresses ($A $B $M)" [ $? -eq 0 ]

i=1
for c in alice bob mallory eve; do
	check "partition add --podman $c" quiet x partition add $i --name $c --podman "${PFX}$c" 2>/dev/null
	i=$((i+1))
done
x partition add 5 --name frank --podman "${PFX}frank" --strict 2>"$TMPD/err"; rc=$?
[ $rc -eq 1 ] && grep -q exposed "$TMPD/err"
check "--strict refuses the exposed container ($rc)" [ $? -eq 0 ]
x partition add 5 --name frank --podman "${PFX}frank" >/dev/null 2>"$TMPD/err"; rc=$?
[ $rc -eq 0 ] && grep -q "warning: partition 5 is exposed" "$TMPD/err"
check "without --strict it is a warning ($rc)" [ $? -eq 0 ]
check "channel open bob:5000 -> alice:6000" quiet x channel open bob:5000 alice:6000
check "channel open mallory:7000 -> alice:6001" quiet x channel open mallory:7000 alice:6001

rx() {	# bound before anyone sends: podman exec can take seconds on a loaded machine
	rm -f "$TMPD/rx.$1.ready"
	ctr_exec alice /bin/ctr_tool recv "$1" "$2" >"$TMPD/rx.$1" 2>"$TMPD/rx.$1.ready" &
	eventually 30 grep -q ready "$TMPD/rx.$1.ready"
}
rx 6000 4
ctr_exec bob /bin/ctr_tool send 5000 "$A" 6000 30 ok
ctr_exec bob /bin/ctr_tool send 5001 "$A" 6000 5 wrongsport
ctr_exec bob /bin/ctr_tool send 5000 "$A" 6002 5 wrongdport
ctr_exec mallory /bin/ctr_tool send 5000 "$A" 6000 5 nochannel
# mallory takes bob's address, then bob's MAC, and sends as bob
check "mallory takes bob's address" ctr_exec mallory ip addr add "$B/32" dev eth0
ctr_exec mallory /bin/ctr_tool send 5000 "$A" 6000 5 spoofip "$B"
BMAC=$(x -j partition list | jq -r '.[] | select(.name=="bob") | .mac')
MMAC=$(x -j partition list | jq -r '.[] | select(.name=="mallory") | .mac')
check "mallory takes bob's MAC too" ctr_exec mallory ip link set eth0 address "$BMAC"
ctr_exec mallory /bin/ctr_tool send 5000 "$A" 6000 5 spoofboth "$B"
ctr_exec mallory ip addr del "$B/32" dev eth0
ctr_exec mallory /bin/ctr_tool send 7000 "$A" 6001 5 spoofmac
ctr_exec mallory ip link set eth0 address "$MMAC"
ctr_exec mallory /bin/ctr_tool forge "$A" >/dev/null
ctr_exec mallory /bin/ctr_tool forge "$B" >/dev/null
wait
n=$(grep -c " 5000 ok-" "$TMPD/rx.6000")
check "authorized channel delivered all 30 messages (got $n)" [ "$n" -eq 30 ]
for tag in wrongsport nochannel spoofip spoofboth; do
	check "nothing of '$tag' delivered" [ "$(grep -c "$tag" "$TMPD/rx.6000")" -eq 0 ]
done
sp=$(x -j stats | jq -r '[.reasons[] | select(.reason|startswith("drop_spoof")) | "\(.reason)=\(.packets)"] | join(" ")')
[ "$(x -j stats | jq '.reasons[] | select(.reason=="drop_spoof_src_ip") | .packets')" -ge 5 ] && [ "$(x -j stats | jq '.reasons[] | select(.reason=="drop_spoof_src_mac") | .packets')" -ge 1 ]
check "mallory's spoofing was counted ($sp)" [ $? -eq 0 ]
check "forged control messages were dropped and audited" \
	[ "$(x -j stats | jq '.reasons[] | select(.reason=="drop_ctrl_untrusted") | .packets')" -ge 100 ]
check "forged control messages established nothing" \
	[ "$(x -j channel list | jq '[.[] | select(.state=="established")] | length')" -eq 4 ]

# podman's port mapping: mallory through the host to alice, against the receive side;
# the host's own datagram through the same mapping shows that it works
GW=$(ip -j addr show cni-podman0 2>/dev/null | jq -r '.[0].addr_info[] | select(.family=="inet") | .local' | head -1)
rx 6000 3
ctr_exec mallory /bin/ctr_tool send 5000 "$GW" 8080 5 viadnat
python3 -c 'import socket,sys;s=socket.socket(2,2);[s.sendto(b"hostdnat",(sys.argv[1],8080)) for _ in range(3)]' "$GW"
wait
check "podman -p: mallory's datagrams through alice's port mapping were refused" \
	[ "$(grep -c viadnat "$TMPD/rx.6000")" -eq 0 ]
check "... while the host's own arrive through it ($(grep -c hostdnat "$TMPD/rx.6000"))" \
	[ "$(grep -c hostdnat "$TMPD/rx.6000")" -ge 1 ]
n=$(x -j stats | jq '[.reasons[] | select(.reason=="drop_rx_nat" or .reason=="drop_rx_not_channel") | .packets] | add')
check "... counted by the receive side ($n)" [ "$n" -ge 5 ]
check "partition list shows every receive side attached" \
	[ "$(x -j partition list | jq -r '[.[].rx] | unique | join(",")')" = tcx ]

# The receive side on podman's bridge (issue 10), against what arrives in the
# containers' own sockets: eve, registered again as isolated, gets bob's channel and
# nothing else; mallory floods spoofed frames while bob's refusals are still audited;
# mallory's broadcast, multicast and IPv6 reach no one, with its send side attached,
# then detached (the receive side alone). Probes are host tools run in the containers'
# network namespaces; every round ends with allowed datagrams to every listener.
PROBE="$(cd "$(dirname "$0")" && pwd)/rx_probe.py"
probe() { local n=$1; shift; ip netns exec "${PFX}$n" python3 "$PROBE" "$@"; }
probe_user() { local n=$1; shift; ip netns exec "${PFX}$n" setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 "$PROBE" "$@"; }
reason() { x -j stats | jq "[.reasons[] | select(.reason==\"$1\") | .packets] | add // 0"; }
ll() { ip -n "${PFX}$1" -6 addr show dev eth0 scope link | awk '/inet6/ {sub("/.*","",$2); print $2}'; }
pmac() { x -j partition list | jq -r ".[] | select(.name==\"$1\") | .mac"; }
heard() { grep -c -- "$2" "$TMPD/l46.$1" 2>/dev/null; }	# NAME PATTERN: lines its listener got
listen46() {
	: >"$TMPD/l46.$1"; rm -f "$TMPD/l46.$1".{ready,stop}
	probe "$1" listen46 9999,67 120 "$TMPD/l46.$1" & L46+=($!)
}
L46=()
quiet x partition del eve
check "eve registered again, isolated" quiet x partition add 4 --name eve --podman "${PFX}eve" --isolated 2>/dev/null
check "channel open bob:5000 -> eve:9999" quiet x channel open bob:5000 eve:9999
E=$(ctr_ip eve)
for c in alice bob mallory eve; do ctr_netns_attach $c; done
for c in alice bob eve; do listen46 $c; done
eventually 30 test -e "$TMPD/l46.alice.ready" -a -e "$TMPD/l46.bob.ready" -a -e "$TMPD/l46.eve.ready"
check "listeners bound in alice, bob and eve (IPv4 and IPv6, ports 9999 and 67)" [ $? -eq 0 ]
AMAC=$(pmac alice); BMAC=$(pmac bob); EMAC=$(pmac eve)

# mallory floods for about 2 s: frames with bob's MAC and address (refused by its
# CMM) and, with its own, datagrams through alice's port mapping (refused by alice's
# receive side). Bob meanwhile sends to the control port, with mallory's address and
# through the same mapping: each of bob's refusals is an event, only mallory's are
# suppressed, and each of its refusals is an event or counted as suppressed.
mon_ready() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q eventpoll; }
rxrefused() { echo $(( $(reason drop_rx_not_channel) + $(reason drop_rx_nat) )); }
"$XCHAN" --pin-root "$PIN" -j monitor --timeout 60 >"$TMPD/mon" 2>&1 & mon=$!
eventually 20 mon_ready $mon
s0=$(reason drop_spoof_src_mac); i0=$(reason drop_spoof_src_ip); l0=$(reason event_lost); r0=$(rxrefused)
t0=$(python3 -c 'import time; print(time.monotonic_ns())')	# bpf_ktime_get_ns's clock
: >"$TMPD/flood"; : >"$TMPD/flood2"; rm -f "$TMPD/flood.stop"
GWMAC=$(ip -j link show cni-podman0 | jq -r '.[0].address')
probe mallory flood 20000 10 "$BMAC" "$B" "$AMAC" "$A" 9999 "$TMPD/flood.stop" >"$TMPD/flood" & fl=$!
probe mallory flood 5000 10 "$MMAC" "$M" "$GWMAC" "$GW" 8080 "$TMPD/flood.stop" >"$TMPD/flood2" & fl2=$!
flooding() { [ "$(reason drop_spoof_src_mac)" -ge $((s0 + 1000)) -a "$(rxrefused)" -ge $((r0 + 500)) ]; }
eventually 20 flooding
t1=$(date +%s%N)
send_udp bob 5000 "$A" 7420 5 ctlbob
probe bob flood 5 0.001 "$BMAC" "$M" "$AMAC" "$A" 9999 >/dev/null
send_udp bob 5000 "$GW" 8080 5 bobdnat
check "flood: bob's refused sends went out while mallory's floods ran" [ ! -s "$TMPD/flood" -a ! -s "$TMPD/flood2" ]
# about 2 s of flood, however long bob took
left=$(( 2000 - ($(date +%s%N) - t1) / 1000000 ))
[ $left -le 0 ] || sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
: >"$TMPD/flood.stop"
wait $fl $fl2
sleep 0.3
kill -TERM $mon; wait $mon
S=$(( $(reason drop_spoof_src_mac) - s0 )); lost=$(( $(reason event_lost) - l0 )); R=$(( $(rxrefused) - r0 ))
check "flood: mallory sent $(cat "$TMPD/flood") spoofed frames, the CMM refused $S" [ "$S" -ge 2000 ]
check "flood: ... and $(cat "$TMPD/flood2") through the port mapping, the receive side refused $R (5 of them bob's)" \
	[ "$R" -ge 500 ]
check "flood: bob's spoofed frames were counted ($(( $(reason drop_spoof_src_ip) - i0 )))" \
	[ $(( $(reason drop_spoof_src_ip) - i0 )) -eq 5 ]
ev() { jq -c "select(.kind != \"suppressed\" and .ts_ns >= $t0 and .src_kind == \"partition\" and .src_id == $1)" "$TMPD/mon"; }
nb=$(ev 2 | jq -r 'select(.kind == "control_from_partition" or .kind == "spoof" or .reason == "drop_rx_not_channel" or .reason == "drop_rx_nat") | .kind' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')
check "flood: every one of bob's refusals is an event ($nb)" \
	[ "$nb" = "control_from_partition=5 receive_refused=5 spoof=5 " ]
check "flood: none of bob's events was suppressed" [ "$(ev 2 | jq -s 'map(.suppressed) | add')" -eq 0 ]
sup=$(jq -r 'select(.kind == "suppressed") | "\(.src_kind) \(.src_id)"' "$TMPD/mon" | tr '\n' ,)
check "flood: only mallory's events were suppressed ($sup)" [ "$sup" = "partition 3," ]
D=$(jq 'select(.kind == "suppressed" and .src_id == 3) | .suppressed' "$TMPD/mon")
# each refused frame is one event (spoof, receive_refused) and, every 1024th per CPU,
# the CMM's sampled drop: every one of them emitted, suppressed or lost (and a few
# more: mallory's own kernel sends a little that is refused too); the burst and
# 100/s, no more
Em=$(ev 3 | wc -l); tries=$((Em + ${D:-0} + lost)); want=$((S + S / 1024 + R - 5))
check "flood: mallory's $S + $((R - 5)) refusals made $Em events, ${D:-0} suppressed, $lost lost (want $want)" \
	[ $((tries - want)) -le 32 -a $((want - tries)) -le "$(nproc)" -a "${D:-0}" -gt 0 -a "$Em" -le 1000 ]
check "flood: monitor told of the suppression in mallory's own events" \
	[ "$(ev 3 | jq -s 'map(.suppressed) | add')" -gt 0 ]

LLA=$(ll alice); LLB=$(ll bob); LLE=$(ll eve)
# mallory knows its neighbours' MACs: its IPv6 to them needs no neighbour discovery
ip -n "${PFX}mallory" neigh replace "$LLA" lladdr "$AMAC" dev eth0
ip -n "${PFX}mallory" neigh replace "$LLB" lladdr "$BMAC" dev eth0
ip -n "${PFX}mallory" neigh replace "$LLE" lladdr "$EMAC" dev eth0
KINDS="b d D m m6 u4 B4 u6 B6"	# broadcast (to 67, as DHCP too), multicast, unicast, by bcast MAC
controls_in() {	# ROUND: every kind from the host in alice and bob; in eve only a
	local c k	# channel message and its own loopback (it is isolated)
	for c in alice bob; do for k in $KINDS; do
		[ "$(heard $c " ctl$1-$k\$")" -gt 0 ] || return 1
	done; done
	[ "$(heard eve "^4 $B 5000 chan$1")" -gt 0 ] && [ "$(heard eve "^6 ::1 .* ctl$1")" -gt 0 ]
}
ctl_counts() {	# ROUND: what each listener got of the controls, for the record
	local c k
	for c in alice bob; do echo -n "$c"; for k in $KINDS; do echo -n " $k=$(heard $c " ctl$1-$k\$")"; done; echo -n ", "; done
	echo -n "eve $(heard eve "^4 $B 5000 chan$1") $(heard eve "^6 ::1 .* ctl$1")"
}
bround() {	# ROUND LABEL: every way mallory might reach the others but a channel
	local r=$1 l=$2 c
	probe mallory bcast 255.255.255.255 9999 5000; probe mallory bcast 10.88.255.255 9999 5000
	probe mallory bcast 224.0.0.1 9999 5000
	probe mallory discover	# a DHCP request: the one broadcast its send side lets out
	probe_user mallory mcast6 9999
	for c in "$A" "$B" "$E"; do probe mallory bcast4 "$c" 9999; done
	for c in "$LLA" "$LLB" "$LLE"; do probe mallory ll_bcast "$c" 9999; done
	probe mallory uni6 9999 uni6 "$LLA" "$LLB" "$LLE"
	send_udp mallory 5000 "$E" 9999 5 plain
	# the controls last, once they are in what was refused had its chance: the same
	# kinds from the host (eve, isolated, must refuse them too), bob's channel to eve
	python3 "$PROBE" controls cni-podman0 9999 "ctl$r" 10.88.255.255 "$A,$B,$E" "$LLA,$LLB,$LLE"
	send_udp bob 5000 "$E" 9999 1 "chan$r"
	probe eve uni6 9999 "ctl$r" ::1
	eventually 10 controls_in "$r"
	check "$l: controls: alice and bob got the host's broadcast, multicast, unicast and broadcast-MAC datagrams, IPv4 and IPv6; eve bob's channel message ($(ctl_counts $r))" [ $? -eq 0 ]
	sleep 0.3
	for c in alice bob eve; do
		check "$l: IPv4 broadcast (all-ones, subnet) and 224.0.0.1 reached no $c" [ "$(heard $c bcast-)" -eq 0 ]
		check "$l: the DHCP request (0.0.0.0:68 -> 255.255.255.255:67) reached no $c" [ "$(heard $c discover)" -eq 0 ]
		check "$l: IPv6 all-nodes from an unprivileged socket reached no $c" [ "$(heard $c mcast6)" -eq 0 ]
		check "$l: unicast to $c's IPv4 address by broadcast MAC did not arrive" [ "$(heard $c bcast4)" -eq 0 ]
		check "$l: IPv6 to $c's link-local by broadcast MAC did not arrive" [ "$(heard $c llbcast)" -eq 0 ]
		check "$l: plain IPv6 unicast to $c's link-local did not arrive" [ "$(heard $c uni6)" -eq 0 ]
	done
	check "$l: isolated eve got bob's channel message and nothing from mallory or the host" \
		[ -z "$(grep -v -e "^4 $B 5000 chan" -e '^6 ::1 ' "$TMPD/l46.eve")" ]
}
bround 1 "podman bridge"
r0=$(( $(reason drop_rx_broadcast) + $(reason drop_rx_ipv6) + $(reason drop_rx_not_channel) ))
ip link set "$(x -j partition list | jq -r '.[] | select(.name=="mallory") | .host_dev')" xdp off
bround 2 "podman bridge, mallory's send side detached"
r1=$(( $(reason drop_rx_broadcast) + $(reason drop_rx_ipv6) + $(reason drop_rx_not_channel) ))
check "... refused and counted by the receive side ($((r1 - r0)))" [ $((r1 - r0)) -ge 40 ]
check "mallory's spoofed flood delivered nothing to alice" [ "$(heard alice flood)" -eq 0 ]
for c in alice bob eve; do : >"$TMPD/l46.$c.stop"; done
for p in "${L46[@]}"; do wait "$p"; done
for c in alice bob mallory eve; do ctr_netns_detach $c; done
quiet x partition del mallory
quiet x partition add 3 --name mallory --podman "${PFX}mallory" 2>/dev/null
check "mallory registered again, its channel to alice open again" quiet x channel open mallory:7000 alice:6001

# mallory detaches XDP from its end and looks for the host side
check "mallory detaches XDP from its own end" quiet ctr_exec mallory /bin/ctr_tool xdpoff eth0
links=$(ctr_exec mallory ip -o link show | wc -l)
check "mallory sees only lo and eth0 ($links links)" [ "$links" -eq 2 ]
check "the CMM on mallory's host side is still attached" \
	[ "$(x -j partition list | jq -r '.[] | select(.name=="mallory") | .xdp')" = native ]
rx 6000 2
ctr_exec mallory /bin/ctr_tool send 5000 "$A" 6000 5 afterdetach
ctr_exec mallory /bin/ctr_tool send 7000 "$A" 6000 5 afterdetach2
wait
check "after its detach attempt mallory still can't send unauthorized" [ ! -s "$TMPD/rx.6000" ]

# who can reach the pins: probed with bpf(2) from inside
ctr_exec mallory /bin/ctr_tool bpf "$PIN/xchan_channels" >"$TMPD/p" ; rc=$?
check "rootful container, own mount ns: cannot open the keys ($rc: $(cat "$TMPD/p"))" [ $rc -eq 4 ]
ctr_exec mallory /bin/ctr_tool bpf "$PIN/xchan_cmm" >/dev/null ; rc=$?
check "... nor the program ($rc)" [ $rc -eq 4 ]
ctr_exec eve /bin/ctr_tool bpf "$PIN/xchan_channels" >"$TMPD/p"; rc=$?
[ $rc -eq 4 ] && grep -q "Permission denied" "$TMPD/p"
check "user-namespaced container, bpffs bind-mounted: open refused ($rc: $(cat "$TMPD/p"))" [ $? -eq 0 ]
ctr_exec frank /bin/ctr_tool bpf "$PIN/xchan_channels" >"$TMPD/p"; rc=$?
check "rootful container with the host bpffs: reads keys, as doctor says ($rc)" [ $rc -eq 0 ]

ns_add "${PFX}plain"
ip link add "${PFX}p" type veth peer name eth0 netns "${PFX}plain"; HOSTDEVS+=("${PFX}p")
ip -n "${PFX}plain" addr add 10.89.0.9/24 dev eth0; ip -n "${PFX}plain" link set eth0 up; ip link set "${PFX}p" up
quiet x partition add 6 --name plain --netns "${PFX}plain"
x -j doctor >"$TMPD/doc"; rc=$?
v() { jq -r ".[] | select(.name==\"$1\") | .verdict" "$TMPD/doc"; }
check "doctor exits 1 when a partition is exposed ($rc)" [ $rc -eq 1 ]
check "doctor: rootful container is at-risk" [ "$(v alice)" = at-risk ]
check "doctor: user-namespaced container is ok" [ "$(v eve)" = ok ]
check "doctor: bpffs bind-mounted into a rootful container is exposed" [ "$(v frank)" = exposed ]
check "doctor: a netns without processes is empty" [ "$(v plain)" = empty ]

# bob disappears: a clear error for bob, the others keep working
ctr_rm bob
x doctor >/dev/null 2>&1
check "partition list still works with bob gone" quiet x partition list
rx 6001 2
ctr_exec mallory /bin/ctr_tool send 7000 "$A" 6001 10 stillworks
wait
check "mallory -> alice still delivers with bob gone" [ "$(grep -c stillworks "$TMPD/rx.6001")" -eq 10 ]
check "partition del bob after it vanished" quiet x partition del bob
check "down" quiet x down
check "no pin remains" [ ! -e "$PIN" ]
attached=$(ip -d link show | grep -c prog/xdp)
check "no program attached anywhere ($attached)" [ "$attached" -eq 0 ]
finish
