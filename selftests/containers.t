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
ctr_exec mallory /bin/ctr_tool bpf "$PIN/xchan_keys" >"$TMPD/p" ; rc=$?
check "rootful container, own mount ns: cannot open the keys ($rc: $(cat "$TMPD/p"))" [ $rc -eq 4 ]
ctr_exec mallory /bin/ctr_tool bpf "$PIN/xchan_cmm" >/dev/null ; rc=$?
check "... nor the program ($rc)" [ $rc -eq 4 ]
ctr_exec eve /bin/ctr_tool bpf "$PIN/xchan_keys" >"$TMPD/p"; rc=$?
[ $rc -eq 4 ] && grep -q "Permission denied" "$TMPD/p"
check "user-namespaced container, bpffs bind-mounted: open refused ($rc: $(cat "$TMPD/p"))" [ $? -eq 0 ]
ctr_exec frank /bin/ctr_tool bpf "$PIN/xchan_keys" >"$TMPD/p"; rc=$?
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
