#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# receive.t: the receive side with real traffic, routed and bridged: alice (open) and
# ivy (isolated) receive, bob has channels to both, mallory attacks, ext is outside
# (a netns that is no partition). Sockets in the receivers are the ground truth; each
# bypass is tried with mallory's send side attached and then detached, so that the
# receive side alone must refuse it.
. "$(dirname "$0")/lib.sh"
PROBE="$(cd "$(dirname "$0")" && pwd)/rx_probe.py"

probe() { local n=$1; shift; ip netns exec "${PFX}$n" python3 "$PROBE" "$@"; }
probe_user() { local n=$1; shift; ip netns exec "${PFX}$n" setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 "$PROBE" "$@"; }
LISTENERS=()
DSP=5100
listen6() {
	local out="$TMPD/l6.$1.$2"
	: >"$out"; rm -f "$out.ready" "$out.stop"
	# listens until wait_listeners stops it: a loaded machine may take many seconds
	# for the round's senders to start, and lines are flushed as they arrive
	probe "$1" listen6 "$2" 120 "$out" & L6PIDS+=($!)
	eventually 20 test -e "$out.ready"
}
L6PIDS=()
# a timed listener (SECS), started and bound before the caller sends
timed() { local out=$1; shift; : >"$out"; rm -f "$out.ready"; probe "$@" "$out" & LISTENERS+=($!); eventually 20 test -e "$out.ready"; }
# no address of the netns is still tentative (IPv6 duplicate address detection)
dad_done() { local n; for n in "$@"; do [ -z "$(ip -n "${PFX}$n" -6 addr show tentative)" ] || return 1; done; }
icmp6_listen() { timed "$TMPD/icmp6.$1" "$1" listen_icmp6 4; }
wait_listeners() {
	# a stop file, not kill: $! is the shell around `ip netns exec python3`
	for f in "$TMPD"/l6.*; do case $f in *.ready|*.stop) ;; *) : >"$f.stop" ;; esac; done
	for p in "${L6PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for p in "${LISTENERS[@]}"; do wait "$p" 2>/dev/null; done
	L6PIDS=(); LISTENERS=()
}
got() { cat "$TMPD/recv.$1.$2" 2>/dev/null | grep -c -- "$3"; }
got6() { cat "$TMPD/l6.$1.$2" 2>/dev/null | grep -c -- "$3"; }
reason() { x -j stats | jq "[.reasons[] | select(.reason==\"$1\") | .packets] | add // 0"; }
ll() { ip -n "${PFX}$1" -6 addr show dev eth0 scope link | awk '/inet6/ {sub("/.*","",$2); print $2}'; }
mac() { ip -n "${PFX}$1" -j link show eth0 | jq -r '.[0].address'; }
sniff() { timed "$TMPD/sniff.$1" "$1" sniff 4; }
sniffed() { grep -c -- "$2" "$TMPD/sniff.$1" 2>/dev/null; }
gwdev() { if [ "$1" = bridge ]; then echo "${PFX}br"; else echo "${PFX}$2"; fi; }

setup() {	# setup MODE [--forward pass]
	local mode=$1; shift
	for p in "a 10.77.0.1" "b 10.77.0.2" "m 10.77.0.3" "i 10.77.0.4" "e 10.77.0.9"; do
		make_part $p "$mode" || return 1
	done
	sysctl -qw net.ipv4.ip_forward=1	# this run's host netns only
	if [ "$mode" = bridge ]; then
		# br_netfilter off (in this netns): a hairpin port mapping then goes up through
		# the bridge device and back, so that neither the link nor the masqueraded
		# source names mallory, only conntrack does
		sysctl -qw net.bridge.bridge-nf-call-iptables=0
		ip addr add 10.77.0.254/24 dev "${PFX}br"
		for n in a b m i e; do ip -n "${PFX}$n" route add default via 10.77.0.254; done
	else
		ip addr add 10.77.0.254/32 dev lo
		for n in a b m i e; do ip -n "${PFX}$n" route add default dev eth0; done
	fi
	ula6 "$mode"
	eventually 20 dad_done a b m i e	# link-local addresses usable
	x "$@" partition add 1 --name alice --netns "${PFX}a" >/dev/null &&
	x partition add 2 --name bob --netns "${PFX}b" >/dev/null &&
	x partition add 3 --name mallory --netns "${PFX}m" >/dev/null &&
	x partition add 4 --name ivy --netns "${PFX}i" --isolated >/dev/null &&
	x channel open bob:5000 alice:6000 >/dev/null &&
	x channel open bob:5000 ivy:6000 >/dev/null &&
	x channel open bob:5000 ivy:68 >/dev/null &&
	x channel open bob:5000 ivy:9999 >/dev/null
}

# ula6 MODE: a ULA fd77::N for each (N: the IPv4 address's last byte), so that plain
# IPv6 unicast between partitions has somewhere to go: on the bridge one /64, routed
# a /128 each behind the host (fe80::1 on every host-side veth, IPv6 forwarding in
# this run's host netns only). Mallory knows alice's and ivy's MACs, as a neighbour
# on a bridge would: its unicast needs no neighbour discovery, which the receive
# side refuses between partitions.
ula6() {
	local n
	for n in a:1 b:2 m:3 i:4 e:9; do
		if [ "$1" = bridge ]; then
			ip -n "${PFX}${n%:*}" addr add "fd77::${n#*:}/64" dev eth0 nodad
		else
			ip -n "${PFX}${n%:*}" addr add "fd77::${n#*:}/128" dev eth0 nodad
			ip addr add fe80::1/64 dev "${PFX}${n%:*}" nodad
			ip -n "${PFX}${n%:*}" -6 route add fd77::/64 via fe80::1 dev eth0
			ip -6 route add "fd77::${n#*:}/128" dev "${PFX}${n%:*}"
		fi
	done
	sysctl -qw net.ipv6.conf.all.forwarding=1	# this run's host netns only
	[ "$1" = bridge ] || return 0
	for n in a:1 i:4; do
		ip -n "${PFX}m" neigh replace "fd77::${n#*:}" lladdr "$(mac ${n%:*})" dev eth0
		ip -n "${PFX}m" neigh replace "$(ll ${n%:*})" lladdr "$(mac ${n%:*})" dev eth0
	done
}

teardown() {
	x down >/dev/null
	for n in "${NSES[@]}"; do ip netns pids "$n" | xargs -r kill 2>/dev/null; ip netns del "$n"; done
	for d in "${HOSTDEVS[@]}"; do ip link del "$d" 2>/dev/null; done
	ip link del "${PFX}br" 2>/dev/null
	ip addr del 10.77.0.254/32 dev lo 2>/dev/null
	nft delete table ip xrx 2>/dev/null
	NSES=(); HOSTDEVS=()
}

channel_delivers() {	# MODE: the allowed path still delivers everything
	recv_start a 6000; recv_start i 6000
	send_udp b 5000 10.77.0.1 6000 50 ok
	send_udp b 5000 10.77.0.4 6000 50 ok
	eventually 10 [ "$(got a 6000 ok-)" -ge 50 -a "$(got i 6000 ok-)" -ge 50 ]
	check "$1: channel to alice delivered all 50 ($(got a 6000 ok-))" [ "$(got a 6000 ok-)" -eq 50 ]
	check "$1: channel to isolated ivy delivered all 50 ($(got i 6000 ok-))" [ "$(got i 6000 ok-)" -eq 50 ]
	recv_stop a 6000; recv_stop i 6000
}

controls_in() {
	local n
	for n in a i; do
		[ "$(got $n 68 ctl-)" -gt 0 ] && [ "$(got $n 9999 ctl-)" -gt 0 ] &&
			[ "$(got $n 6000 ctl-)" -gt 0 ] && [ "$(got6 $n 6000 ctl6)" -gt 0 ] || return 1
	done
	[ "$(got6 a 6000 ctlula)" -gt 0 ]
}

# Every bypass of the issue, from mallory: ground truth in alice's and ivy's sockets.
bypasses() {	# LABEL
	local l=$1 lla lli
	lla=$(ll a); lli=$(ll i)
	for n in a i; do recv_start $n 6000; recv_start $n 68; recv_start $n 9999; listen6 $n 6000; done
	send_udp m 5000 10.77.0.1 6000 5 plain
	send_udp m 5000 10.77.0.4 6000 5 plain
	probe_user m mcast6 6000
	probe m ll_bcast "$lla" 6000; probe m ll_bcast "$lli" 6000
	probe m bcast4 10.77.0.1 68; probe m bcast4 10.77.0.4 68
	probe m bcast 255.255.255.255 68 67
	probe m bcast 255.255.255.255 9999 5000; probe m bcast 10.77.0.255 9999 5000
	probe m bcast 224.0.0.1 9999 5000
	# a source port of its own per round: conntrack keeps a tuple's first NAT decision
	DSP=$((DSP + 1))
	send_udp m $DSP 10.77.0.254 8080 5 dnat; send_udp m $DSP 10.77.0.254 8081 5 dnat
	send_udp m 5000 10.77.5.5 6000 5 second
	# plain IPv6 unicast from a socket: to ULAs (routed: through the host), and on
	# the bridge to the link-locals too
	if [ "$MODE" = bridge ]; then probe m uni6 6000 uni6 fd77::1 fd77::4 "$lla" "$lli"
	else probe m uni6 6000 uni6 fd77::1 fd77::4; fi
	# positive controls, an allowed delivery to every listener of the round: a
	# listener that never bound (or had stopped) cannot make a refusal look like a pass
	send_udp e 5000 10.77.0.1 68 1 ctl; send_udp e 5000 10.77.0.1 9999 1 ctl
	send_udp b 5000 10.77.0.1 6000 1 ctl
	for p in 6000 68 9999; do send_udp b 5000 10.77.0.4 $p 1 ctl; done
	python3 "$PROBE" udp6 "$lla" 6000 "$(gwdev "$MODE" a)" ctl6
	probe i udp6 ::1 6000 lo ctl6	# nothing from outside may reach isolated ivy
	probe e uni6 6000 ctlula fd77::1	# the way mallory's went, from outside
	# the positive controls went last: once they are in, what was refused had its chance
	eventually 10 controls_in
	sleep 0.3
	for n in a i; do
		c="$(got $n 68 ctl-) $(got $n 9999 ctl-) $(got $n 6000 ctl-) $(got6 $n 6000 ctl6)"
		check "$l: control: $n's listeners (68, 9999, 6000, IPv6 6000) got their allowed datagrams ($c)" \
			[ -z "$(tr ' ' '\n' <<<"$c" | grep -x 0)" ]
		check "$l: nothing of mallory's plain UDP reached $n" [ "$(got $n 6000 plain)" -eq 0 ]
		check "$l: IPv6 all-nodes from an unprivileged socket did not reach $n" [ "$(got6 $n 6000 mcast6)" -eq 0 ]
		check "$l: IPv6 to $n's link-local by broadcast MAC did not arrive" [ "$(got6 $n 6000 llbcast)" -eq 0 ]
		check "$l: plain IPv6 unicast from mallory did not reach $n" [ "$(got6 $n 6000 uni6)" -eq 0 ]
		check "$l: IPv4 to $n's address by broadcast MAC on port 68 did not arrive" [ "$(got $n 68 bcast4)" -eq 0 ]
		check "$l: a rogue DHCP offer did not reach $n" [ "$(got $n 68 bcast-)" -eq 0 ]
		check "$l: broadcast and multicast to another port did not reach $n" [ "$(got $n 9999 bcast-)" -eq 0 ]
		check "$l: the host's port mappings delivered nothing of mallory's to $n" [ "$(got $n 6000 dnat)" -eq 0 ]
	done
	check "$l: a host route to alice's second address delivered nothing of mallory's" [ "$(got a 6000 second)" -eq 0 ]
	check "$l: control: the outside's IPv6 to alice's ULA arrived ($(got6 a 6000 ctlula))" [ "$(got6 a 6000 ctlula)" -gt 0 ]
	wait_listeners
	for n in a i; do recv_stop $n 6000; recv_stop $n 68; recv_stop $n 9999; done
}

outside_still_arrives() {	# LABEL: ext is no partition: alice gets it, ivy does not
	recv_start a 6000; recv_start i 6000
	send_udp e 5000 10.77.0.1 6000 5 direct; send_udp e 5000 10.77.0.4 6000 5 direct
	send_udp e 5000 10.77.0.254 8080 5 dnatext; send_udp e 5000 10.77.0.254 8081 5 dnatext
	send_udp e 5000 10.77.5.5 6000 5 secondext
	sleep 0.4
	check "$1: from outside, alice still receives ($(got a 6000 direct))" [ "$(got a 6000 direct)" -eq 5 ]
	check "$1: ... through the port mapping ($(got a 6000 dnatext))" [ "$(got a 6000 dnatext)" -eq 5 ]
	check "$1: ... at its second address ($(got a 6000 secondext))" [ "$(got a 6000 secondext)" -eq 5 ]
	check "$1: isolated ivy receives nothing from outside" [ "$(got i 6000 ext)$(got i 6000 direct)" = 00 ]
	recv_stop a 6000; recv_stop i 6000
}

# ND/RA: mallory's router advertisements and solicitations reach no one; the
# gateway's solicitation reaches isolated ivy, its echo request does not.
nd() {	# MODE
	local lla lli dev
	lla=$(ll a); lli=$(ll i)
	icmp6_listen a; icmp6_listen i
	sleep 0.3
	probe m icmp6 ff02::1 134; probe m icmp6 "$lla" 135; probe m icmp6 "$lli" 135
	dev="${PFX}i"; [ "$1" = bridge ] && dev="${PFX}br"
	ip neigh flush dev "$dev" 2>/dev/null
	# an echo request from the host: the kernel solicits ivy's address first
	python3 "$PROBE" icmp6 "$lli" 128 "$dev"
	python3 "$PROBE" icmp6 "$lla" 128 "$(gwdev "$1" a)"	# alice's listener: a control
	python3 "$PROBE" icmp6 "$lli" 137 "$dev"		# a redirect, even the host's
	[ "$1" = bridge ] && probe e icmp6 "$lli" 135 && probe e icmp6 "$lli" 134
	wait_listeners
	check "$1: control: the host's echo request reached alice" grep -q 'type 128' "$TMPD/icmp6.a"
	check "$1: no redirect reached isolated ivy" [ "$(grep -c 'type 137' "$TMPD/icmp6.i")" -eq 0 ]
	check "$1: no ND from a neighbour that is not the host reached isolated ivy" \
		[ "$(grep -c "$(ll e)" "$TMPD/icmp6.i")" -eq 0 ]
	check "$1: mallory's router advertisement reached no one" \
		[ "$(grep -c 'type 134' "$TMPD/icmp6.a" "$TMPD/icmp6.i" | awk -F: '{s+=$2} END {print s}')" -eq 0 ]
	check "$1: mallory's neighbour solicitations reached no one" \
		[ "$(grep -h 'type 135' "$TMPD/icmp6.a" "$TMPD/icmp6.i" | grep -c "$(ll m)")" -eq 0 ]
	check "$1: the gateway's solicitation reached isolated ivy" grep -q 'type 135' "$TMPD/icmp6.i"
	check "$1: the gateway's echo request did not" [ "$(grep -c 'type 128' "$TMPD/icmp6.i")" -eq 0 ]
}

# ARP carries nothing between partitions: isolated ivy and mallory on the bridge try
# a trailer and data in tha, mallory also with its send side detached; each side's
# sniffer must see the other's plain request (the control) and nothing else.
arp_carrier() {
	local mi mm z=00:00:00:00:00:00 b=ff:ff:ff:ff:ff:ff
	mi=$(mac i); mm=$(mac m)
	sniff m; sniff i
	sleep 0.3
	probe i arp $b 1 10.77.0.3 $z ""
	probe i arp $b 1 10.77.0.3 $z "ARPBULK-from-ivy"
	probe i arp $b 1 10.77.0.3 53:45:43:52:45:54 ""
	probe i arp "$mm" 2 10.77.0.3 53:45:43:52:45:54 ""
	probe m arp $b 1 10.77.0.4 $z ""
	probe m arp $b 1 10.77.0.4 $z "ARPBULK-from-mallory"
	ip link set "${PFX}m" xdp off
	probe m arp $b 1 10.77.0.4 $z "ARPBULK-detached"
	probe m arp $b 1 10.77.0.4 53:45:43:52:45:54 ""
	probe m arp "$mi" 2 10.77.0.4 53:45:43:52:45:54 ""
	wait_listeners
	check "bridge: control: mallory saw isolated ivy's plain ARP request" \
		[ "$(sniffed m "sha ${mi//:/} tha 000000000000 tpa 10.77.0.3 trailer b''")" -ge 1 ]
	check "bridge: control: isolated ivy saw mallory's plain ARP request" \
		[ "$(sniffed i "sha ${mm//:/} tha 000000000000 tpa 10.77.0.4 trailer b''")" -ge 1 ]
	check "bridge: no ARP trailer between ivy and mallory, send side attached or not" \
		[ "$(cat "$TMPD/sniff.m" "$TMPD/sniff.i" | grep -c ARPBULK)" -eq 0 ]
	check "bridge: no data in an ARP tha between ivy and mallory" \
		[ "$(cat "$TMPD/sniff.m" "$TMPD/sniff.i" | grep -c 'tha 534543524554')" -eq 0 ]
	quiet x partition del mallory; quiet x partition add 3 --name mallory --netns "${PFX}m"
}

port_maps() {	# MASQ: DNAT host:8080 -> alice:6000, 8081 -> ivy:6000, second address
	nft -f - <<NFT
table ip xrx {
	chain pre { type nat hook prerouting priority dstnat; udp dport 8080 dnat to 10.77.0.1:6000; udp dport 8081 dnat to 10.77.0.4:6000; }
	chain post { type nat hook postrouting priority srcnat; $1${1:+;} }
}
NFT
	ip -n "${PFX}a" addr add 10.77.5.5/32 dev eth0 2>/dev/null
	ip route replace 10.77.5.5/32 via 10.77.0.1 2>/dev/null || ip route replace 10.77.5.5/32 dev "${PFX}a"
}

for mode in routed bridge; do
	MODE=$mode
	check "$mode: setup" setup $mode
	check "$mode: partition list shows the receive side attached" \
		[ "$(x -j partition list | jq -r '[.[].rx] | unique | join(",")')" = tcx ]
	check "$mode: status and doctor show it too" \
		[ "$(x -j status | jq -r '[.attachments[].rx] | unique | join(",")')$(x -j doctor | jq -r '[.[].rx] | unique | join(",")')" = tcxtcx ]
	channel_delivers $mode
	for masq in "" "ip daddr 10.77.0.0/24 masquerade"; do
		nft delete table ip xrx 2>/dev/null
		port_maps "$masq"
		l="$mode${masq:+, masquerade}"
		bypasses "$l"
		outside_still_arrives "$l"
		ip link set "${PFX}m" xdp off
		bypasses "$l, mallory's send side detached"
		quiet x partition del mallory; quiet x partition add 3 --name mallory --netns "${PFX}m"
	done
	if [ "$mode" = bridge ]; then
		n=$(reason drop_rx_nat)
		check "bridge: masqueraded port mapping recognised by conntrack (drop_rx_nat $n)" [ "$n" -gt 0 ]
	fi
	nd $mode
	[ $mode = bridge ] && arp_carrier
	# mallory changes its own address, then its MAC, with and without its send side
	for detached in no yes; do
		[ $detached = yes ] && ip link set "${PFX}m" xdp off
		recv_start a 6000
		ip -n "${PFX}m" addr add 10.77.0.50/24 dev eth0
		ip netns exec "${PFX}m" python3 -c 'import socket;s=socket.socket(2,2);s.bind(("10.77.0.50",5000));[s.sendto(b"newip",("10.77.0.1",6000)) for _ in range(5)]'
		ip -n "${PFX}m" addr del 10.77.0.50/24 dev eth0
		mac=$(ip -n "${PFX}m" -j link show eth0 | jq -r '.[0].address')
		ip -n "${PFX}m" link set eth0 address 02:de:ad:be:ef:03
		send_udp m 5000 10.77.0.1 6000 5 newmac
		ip -n "${PFX}m" link set eth0 address "$mac"
		sleep 0.3
		check "$mode: mallory with a new address or MAC (send side detached: $detached) delivers nothing" \
			[ "$(got a 6000 new)" -eq 0 ]
		recv_stop a 6000
	done
	refused=$(x -j stats | jq '[.reasons[] | select(.reason|startswith("drop_rx_")) | .packets] | add')
	check "$mode: the receive side counted its refusals ($refused)" [ "$refused" -gt 0 ]
	# on a bridge the others' own IPv6 (DAD, router solicitations) is refused too
	ev=$(x -j monitor --timeout 1 | jq -r 'select(.kind=="receive_refused" and .src_kind=="partition") | .src_id' | sort -u | tr '\n' ' ')
	check "$mode: ... and audited them, charged to mallory ($ev)" grep -qw 3 <<<"$ev"
	channel_delivers "$mode, after all that"
	check "$mode: down" quiet x down
	check "$mode: no receive-side link is left" [ -z "$(bpftool -j link show | jq -r '.[] | select(.type=="tcx") | .id')" ]
	teardown
done

# --forward pass: channel traffic goes through the stack; the receive side checks it.
for mode in routed bridge; do
	check "$mode --forward pass: setup" setup $mode --forward pass
	channel_delivers "$mode --forward pass"
	n=$(reason pass_rx_channel)
	check "$mode --forward pass: the receive side verified them ($n)" [ "$n" -ge 100 ]
	recv_start a 6000
	send_udp b 5001 10.77.0.1 6000 5 wrongport
	ip link set "${PFX}m" xdp off
	send_udp m 5000 10.77.0.1 6000 5 plain
	sleep 0.3
	check "$mode --forward pass: no channel, nothing delivered" [ "$(got a 6000 wrongport)$(got a 6000 plain)" = 00 ]
	recv_stop a 6000
	if [ $mode = bridge ]; then
		# a stranger claims bob's address to isolated ivy; bob's cache entry for
		# alice names the stranger (a poisoned cache, a compromised sender)
		me=$(mac e); mb=$(mac b)
		ip -n "${PFX}i" neigh replace 10.77.0.2 lladdr "$mb" dev eth0 nud stale
		probe e arp_claim "$(mac i)" 10.77.0.2 10.77.0.4
		check "bridge --forward pass: a stranger's ARP did not poison isolated ivy" \
			grep -q "$mb" <<<"$(ip -n "${PFX}i" neigh show 10.77.0.2)"
		ip -n "${PFX}b" neigh replace 10.77.0.1 lladdr "$me" dev eth0 nud permanent
		sniff e; recv_start a 6000
		sleep 0.3
		send_udp b 5000 10.77.0.1 6000 5 tostranger
		send_udp b 5000 10.77.0.9 7000 1 ctlsniff
		wait_listeners
		check "bridge --forward pass: control: the stranger's sniffer saw bob's own datagram to it" \
			[ "$(sniffed e ctlsniff)" -ge 1 ]
		check "bridge --forward pass: channel messages addressed to a stranger's MAC went nowhere" \
			[ "$(sniffed e tostranger)$(got a 6000 tostranger)" = 00 ]
		n=$(reason drop_channel_dest_mac)
		check "bridge --forward pass: ... counted as drop_channel_dest_mac ($n)" [ "$n" -ge 5 ]
		ip -n "${PFX}b" neigh del 10.77.0.1 dev eth0
		recv_stop a 6000
		channel_delivers "bridge --forward pass, after the stranger"
	fi
	teardown
done

# The uplink: fragments, options and IPv6 from outside; only the open partition gets them.
check "uplink: setup" setup routed
ip link add "${PFX}up" type veth peer name eth0 netns "${PFX}e"; HOSTDEVS+=("${PFX}up")
ip -n "${PFX}e" addr flush dev eth0 2>/dev/null
ip -n "${PFX}e" link del eth0 2>/dev/null
ip link add "${PFX}up" type veth peer name up0 netns "${PFX}e" 2>/dev/null
ip link set "${PFX}up" up; ip -n "${PFX}e" link set up0 up
ip addr add 10.99.0.1/24 dev "${PFX}up"; ip -n "${PFX}e" addr add 10.99.0.2/24 dev up0
ip -n "${PFX}e" route replace 10.77.0.0/24 via 10.99.0.1
check "uplink: attach" quiet x attach "${PFX}up" --uplink
recv_start a 6000; recv_start i 6000
probe e big 10.77.0.1 6000 3000; probe e big 10.77.0.4 6000 3000
probe e opts 10.77.0.1 6000; probe e opts 10.77.0.4 6000
sleep 0.5
check "uplink: a fragmented datagram reaches alice ($(got a 6000 big-))" [ "$(got a 6000 big-)" -eq 1 ]
check "uplink: IPv4 with options reaches alice ($(got a 6000 opts-))" [ "$(got a 6000 opts-)" -eq 5 ]
check "uplink: neither reaches isolated ivy" [ "$(got i 6000 big-)$(got i 6000 opts-)" = 00 ]
n=$(reason drop_isolated)
check "uplink: refused on the uplink by destination, before parsing ($n)" [ "$n" -ge 7 ]
recv_stop a 6000; recv_stop i 6000
teardown
finish
