# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# rx_probe.py: what receive.t sends from inside a partition (as its root, or as an
# unprivileged user) and what it listens with: sockets are the ground truth.
import os, select, socket, struct, sys, time, fcntl

def mac_of(ifname):    # by ioctl: under nsenter, /sys is another netns's
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r = fcntl.ioctl(s.fileno(), 0x8927, struct.pack("256s", ifname.encode()))  # SIOCGIFHWADDR
    return r[18:24]

def ip4_of(ifname):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", ifname.encode()))  # SIOCGIFADDR
    return r[20:24]

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ip4_udp(src, dst, sport, dport, payload, ttl=64):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, ttl, 17, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + udp

def ip6_udp(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = src + dst + struct.pack("!I3xB", len(udp), 17)
    udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xffff) + udp[8:]
    return struct.pack("!IHBB16s16s", 0x60000000, len(udp), 17, 64, src, dst) + udp

def ll_of(ifname):
    with open("/proc/net/if_inet6") as f:
        for line in f:
            p = line.split()
            if p[5] == ifname and p[0].startswith("fe80"):
                return bytes.fromhex(p[0])
    raise SystemExit("no link-local address on " + ifname)

def raw_send(ifname, dst_mac, ethertype, body, count):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    frame = dst_mac + mac_of(ifname) + struct.pack("!H", ethertype) + body
    for _ in range(count):
        s.send(frame)
        time.sleep(0.002)

BCAST = b"\xff" * 6

def main(a):
    cmd, dev, n = a[0], "eth0", 5
    if cmd == "mcast6":          # PORT: UDP to all-nodes, from a plain socket
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        for i in range(n):
            s.sendto(b"mcast6-%d" % i, ("ff02::1%" + dev, int(a[1])))
    elif cmd == "ll_bcast":      # LL PORT: IPv6 unicast to a link-local, broadcast MAC
        dst = socket.inet_pton(socket.AF_INET6, a[1])
        raw_send(dev, BCAST, 0x86dd, ip6_udp(ll_of(dev), dst, 5000, int(a[2]), b"llbcast"), n)
    elif cmd == "bcast4":        # DSTIP PORT: IPv4 unicast to DSTIP, broadcast MAC
        body = ip4_udp(ip4_of(dev), socket.inet_aton(a[1]), 5000, int(a[2]), b"bcast4")
        raw_send(dev, BCAST, 0x0800, body, n)
    elif cmd == "bcast":         # DSTIP PORT SPORT: a broadcast socket's datagrams
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(a[3])))
        for i in range(n):
            s.sendto(b"bcast-%d" % i, (a[1], int(a[2])))
            time.sleep(0.002)
    elif cmd == "discover":      # a DHCP client without an address
        body = ip4_udp(b"\0" * 4, b"\xff" * 4, 68, 67, b"discover")
        raw_send(dev, BCAST, 0x0800, body, n)
    elif cmd == "icmp6":         # DSTLL TYPE [DEV]: ND/RA as a router would send it (hop limit 255)
        dev = a[3] if len(a) > 3 else dev
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
        t = int(a[2])
        body = struct.pack("!BBHI", t, 0, 0, 0) + (b"\0" * 16 if t in (135, 136) else b"")
        for _ in range(n):
            s.sendto(body, (a[1], 0, 0, socket.if_nametoindex(dev)))
    elif cmd == "listen6":       # PORT SECS OUT: an IPv6 UDP socket, beside an IPv4 one
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::", int(a[1])))
        listen(s, float(a[2]), a[3], lambda d, f: "%s %s" % (f[0], d.decode(errors="replace")))
    elif cmd == "listen46":      # PORTS SECS OUT: a UDP socket each for IPv4 and IPv6 on
        socks = []               # each port (comma-separated)
        for port in a[1].split(","):
            s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s4.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            s4.bind(("0.0.0.0", int(port)))
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s6.bind(("::", int(port)))
            socks += [s4, s6]
        listen(socks, float(a[2]), a[3],
               lambda d, f: "%d %s %d %s" % (6 if ":" in f[0] else 4, f[0], f[1],
                                             d.decode(errors="replace")))
    elif cmd == "listen_icmp6":  # SECS OUT: every ICMPv6 type that arrives
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        listen(s, float(a[1]), a[2], lambda d, f: "%s type %d" % (f[0], d[0]))
    elif cmd == "big":           # DST PORT SIZE: one datagram, fragmented by the sender
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"big-" + b"x" * (int(a[3]) - 4), (a[1], int(a[2])))
    elif cmd == "opts":          # DST PORT: IPv4 with a record-route option
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes([7, 7, 4, 0, 0, 0, 0, 1]))
        for i in range(n):
            s.sendto(b"opts-%d" % i, (a[1], int(a[2])))
    elif cmd == "arp":           # DSTMAC OPER TPA THA TRAILER: ARP from this partition's own
        # addresses (what its send side lets through), with THA and bytes after the body
        body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, int(a[2]), mac_of(dev),
                           ip4_of(dev), bytes.fromhex(a[4].replace(":", "")),
                           socket.inet_aton(a[3])) + a[5].encode()
        raw_send(dev, bytes.fromhex(a[1].replace(":", "")), 0x0806, body, n)
    elif cmd == "arp_claim":     # DSTMAC SPA TPA: an ARP reply claiming SPA for this MAC
        dmac = bytes.fromhex(a[1].replace(":", ""))
        body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac_of(dev),
                           socket.inet_aton(a[2]), dmac, socket.inet_aton(a[3]))
        raw_send(dev, dmac, 0x0806, body, n)
    elif cmd == "udp6":          # DST PORT DEV TAG: one IPv6 datagram (a positive control)
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        for _ in range(3):       # the first may wait for neighbour discovery
            s.sendto(a[4].encode(), (a[1], int(a[2]), 0, socket.if_nametoindex(a[3])))
            time.sleep(0.2)
    elif cmd == "uni6":          # PORT TAG DST...: plain IPv6 UDP from a socket to each DST
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        for _ in range(3):       # the first may wait for neighbour discovery
            for d in a[3:]:
                scope = socket.if_nametoindex(dev) if d.startswith("fe80") else 0
                try:
                    s.sendto(a[2].encode(), (d, int(a[1]), 0, scope))
                except OSError:
                    pass
            time.sleep(0.1)
    elif cmd == "controls":      # DEV PORT TAG BCAST IP4S LL6S: from the host, each kind of
        # frame a partition may not send, to where the partitions' listeners are (and a
        # broadcast to port 67); the addresses comma-separated, each payload TAG-kind
        dev, port, tag, ip4s, ll6s = a[1], int(a[2]), a[3], a[5].split(","), a[6].split(",")
        idx = socket.if_nametoindex(dev)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, ip4_of(dev))
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        for _ in range(3):       # the first unicast may wait for neighbour discovery
            s.sendto(("%s-b" % tag).encode(), (a[4], port))
            s.sendto(("%s-d" % tag).encode(), ("255.255.255.255", 67))  # as a DHCP server's
            raw_send(dev, BCAST, 0x0800, ip4_udp(b"\0" * 4, b"\xff" * 4, 68, 67,
                                                 ("%s-D" % tag).encode()), 1)  # a DHCP request's
            s.sendto(("%s-m" % tag).encode(), ("224.0.0.1", port))
            s6.sendto(("%s-m6" % tag).encode(), ("ff02::1", port, 0, idx))
            for d in ip4s:
                s.sendto(("%s-u4" % tag).encode(), (d, port))
                raw_send(dev, BCAST, 0x0800, ip4_udp(ip4_of(dev), socket.inet_aton(d), 5000,
                                                     port, ("%s-B4" % tag).encode()), 1)
            for d in ll6s:
                s6.sendto(("%s-u6" % tag).encode(), (d, port, 0, idx))
                dst = socket.inet_pton(socket.AF_INET6, d)
                raw_send(dev, BCAST, 0x86dd, ip6_udp(ll_of(dev), dst, 5000, port,
                                                     ("%s-B6" % tag).encode()), 1)
            time.sleep(0.1)
    elif cmd == "flood":         # RATE SECS SRCMAC SRCIP DSTMAC DSTIP PORT [STOP]: IPv4 UDP
        # frames from any source (another's: spoofed), RATE a second (in bursts of 100),
        # until SECS or the file STOP; prints how many
        mac = lambda m: bytes.fromhex(m.replace(":", ""))
        body = ip4_udp(socket.inet_aton(a[4]), socket.inet_aton(a[6]), 5000, int(a[7]), b"flood")
        frame = mac(a[5]) + mac(a[3]) + struct.pack("!H", 0x0800) + body
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((dev, 0))
        stop = a[8] if len(a) > 8 else None
        sent, t0 = 0, time.time()
        while time.time() < t0 + float(a[2]) and not (stop and os.path.exists(stop)):
            for _ in range(min(100, int(a[1]))):
                try:
                    s.send(frame)
                    sent += 1
                except OSError:  # a full queue: the flood goes on
                    pass
            ahead = min(t0 + sent / float(a[1]), t0 + float(a[2])) - time.time()
            if ahead > 0:
                time.sleep(ahead)
        print(sent)
    elif cmd == "sniff":         # SECS OUT: every ARP frame, and IPv4 UDP payloads, on eth0
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
        s.bind((dev, 0))
        def fmt(d, f):
            et = struct.unpack("!H", d[12:14])[0]
            if f[2] == socket.PACKET_OUTGOING:
                return None
            if et == 0x0806:
                return "arp len %d sha %s tha %s tpa %s trailer %r" % (
                    len(d), d[22:28].hex(), d[32:38].hex(), socket.inet_ntoa(d[38:42]),
                    d[42:].rstrip(b"\0"))
            if et == 0x0800 and len(d) >= 42 and d[23] == 17:
                return "udp %s %r" % (socket.inet_ntoa(d[30:34]), d[42:])
            return "other %04x" % et
        listen(s, float(a[1]), a[2], fmt)
    else:
        raise SystemExit("unknown command " + cmd)

def listen(socks, secs, out, fmt):
    socks = socks if isinstance(socks, list) else [socks]
    open(out + ".ready", "w").close()   # bound: the test may send now
    end = time.time() + secs
    with open(out, "a") as f:
        while time.time() < end and not os.path.exists(out + ".stop"):
            for s in select.select(socks, [], [], 0.1)[0]:
                d, frm = s.recvfrom(65535)
                line = fmt(d, frm)
                if line is not None:
                    f.write(line + "\n")
                    f.flush()

main(sys.argv[1:])
