# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# nodes.sh: two simulated nodes for tests and the bench: a fabric namespace with a
# bridge, node namespaces with an uplink into it, their own pin root and agent, and
# partitions inside them (alice and carol on node 1, bob on node 2). Needs lib.sh.

FAB="${PFX}fab"
N1="${PFX}n1" N2="${PFX}n2"
PIN1="$PIN-n1" PIN2="$PIN-n2"
reap_add pin "$PIN1"; reap_add pin "$PIN2"
x1() { nsenter --net="/run/netns/$N1" "$XCHAN" --pin-root "$PIN1" "$@"; }
x2() { nsenter --net="/run/netns/$N2" "$XCHAN" --pin-root "$PIN2" "$@"; }

node_up() {	# node_up N ADDR FABRIC_PORT
	ns_add "$1"
	ip -n "$1" link set lo up
	ip -n "$FAB" link add "$3" $(vq) type veth peer name up0 $(vq) netns "$1"
	ip -n "$FAB" link set "$3" master br0 up
	# Frames XDP sends out of up0 (XDP_TX, redirect) reach the fabric only if the
	# fabric's end runs NAPI; GRO alone was not enough for XDP_TX into a bridge port
	# here, an XDP program that passes everything is.
	ip netns exec "$FAB" "$(dirname "$XCHAN")/xchan-bench" pass --dev "$3"
	ip -n "$1" addr add "$2/24" dev up0
	ip -n "$1" link set up0 up
	# IPv4 forwarding off, as on a fresh Debian host: what the node sends to its peers
	# is its own traffic and must not need it (part_in turns it on for proxy ARP on
	# a partition's host-side veth only, never on up0)
	ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=0
}
part_in() {	# part_in NODE NAME IP: netns ${PFX}NAME with eth0, host side h-NAME in NODE
	local ns="${PFX}$2" host="h$2"
	ns_add "$ns"
	ip -n "$1" link add "$host" $(vq) type veth peer name eth0 $(vq) netns "$ns"
	ip -n "$ns" link set lo up; ip -n "$ns" link set eth0 up
	ip -n "$ns" addr add "$3/24" dev eth0
	ip -n "$ns" route add default dev eth0	# everything on-link: the node answers ARP
	ip -n "$1" link set "$host" up
	ip -n "$1" route add "$3/32" dev "$host"
	# proxy ARP answers only on an interface that forwards: this one, not the node
	ip netns exec "$1" sysctl -qw "net.ipv4.conf.$host.forwarding=1" \
		"net.ipv4.conf.$host.proxy_arp=1" "net.ipv4.neigh.$host.proxy_delay=0"
}

nodes_down() {
	"$XCHAN" --pin-root "$PIN1" down >/dev/null 2>&1
	"$XCHAN" --pin-root "$PIN2" down >/dev/null 2>&1
}

# nodes_setup: the fabric, node 1 (alice, carol) and node 2 (bob), both agents
# configured with each other, the pair key and the uplinks. Returns non-zero on failure.
nodes_setup() {
ns_add "$FAB"
ip -n "$FAB" link add br0 type bridge && ip -n "$FAB" link set br0 up
node_up "$N1" 10.99.0.1 f1 && node_up "$N2" 10.99.0.2 f2
ip -n "$N1" route add 10.102.0.0/24 via 10.99.0.2
ip -n "$N2" route add 10.101.0.0/24 via 10.99.0.1
part_in "$N1" alice 10.101.0.1 && part_in "$N1" carol 10.101.0.3 && part_in "$N2" bob 10.102.0.1
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMPD/pair.key"; chmod 600 "$TMPD/pair.key"

{
	x1 node self 1 --addr 10.99.0.1 && x1 node add 2 --addr 10.99.0.2 --key-file "$TMPD/pair.key" &&
	x1 attach up0 --uplink && x1 partition add 1 --name alice --netns "${PFX}alice" &&
	x1 partition add 3 --name carol --netns "${PFX}carol" &&
	x1 partition add 2 --name bob --remote 2 --ip 10.102.0.1 &&
	x2 node self 2 --addr 10.99.0.2 && x2 node add 1 --addr 10.99.0.1 --key-file "$TMPD/pair.key" &&
	x2 attach up0 --uplink && x2 partition add 2 --name bob --netns "${PFX}bob" &&
	x2 partition add 1 --name alice --remote 1 --ip 10.101.0.1
} >/dev/null
}

# fab_capture DEV PCAP: capture xchan's port on the fabric's DEV (f1: towards node 1,
# f2: towards node 2) in the background; fab_capture_stop ends it.
fab_capture() {
	ip netns exec "$FAB" tcpdump --immediate-mode -i "$1" -U -w "$2" udp port 7420 >/dev/null 2>&1 &
	fab_tcpd=$!
	sleep 0.5
}
fab_capture_stop() { sleep 0.3; kill "$fab_tcpd"; wait "$fab_tcpd" 2>/dev/null; }
# fab_frames PCAP [TYPES]: each captured xchan message as "type key_id reason", or of
# those types only, comma-separated (1 DATA, 2 CONNECT, 7 REKEY, 8 DATA_NH ...)
fab_frames() {
	python3 - "$1" "${2:-0}" <<'PY'
import struct, sys
data, want = open(sys.argv[1], "rb").read(), {int(t) for t in sys.argv[2].split(",")}
off = 24
while off + 16 <= len(data):
    incl = struct.unpack_from("<I", data, off + 8)[0]
    f = data[off + 16:off + 16 + incl]; off += 16 + incl
    if len(f) >= 82 and (0 in want or f[43] in want):
        print(f[43], f[44], f[45])
PY
}
# pcap_types PCAP type|type/reason: the xchan header's type (and reason) of each frame
# captured on the fabric, each value once, then how many frames
pcap_types() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
data, off, t = open(sys.argv[1], "rb").read(), 24, []
while off + 16 <= len(data):
    incl = struct.unpack_from("<I", data, off + 8)[0]
    f = data[off + 16:off + 16 + incl]; off += 16 + incl
    t.append("%d/%d" % (f[43], f[45]) if sys.argv[2] == "type/reason" else str(f[43]))
print(" ".join(sorted(set(t))), len(t))
PY
}
# fab_inject DEV PCAP [TYPES]: send the captured frames (of those types) out of DEV again
fab_inject() {
	ip netns exec "$FAB" python3 - "$1" "$2" "${3:-0}" <<'PY'
import socket, struct, sys
data, want = open(sys.argv[2], "rb").read(), {int(t) for t in sys.argv[3].split(",")}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind((sys.argv[1], 0))
off, n = 24, 0
while off + 16 <= len(data):
    incl = struct.unpack_from("<I", data, off + 8)[0]
    f = data[off + 16:off + 16 + incl]; off += 16 + incl
    if len(f) >= 82 and (0 in want or f[43] in want):
        s.send(f); n += 1
print(n)
PY
}
