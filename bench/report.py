#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# report.py: turns bench/run.sh's JSON lines into results.json, two SVG plots
# (gnuplot: Mpps per row; cost and memory against channel count) and
# docs/BENCHMARKS.md: min / median / max, CPU use, ratios within the run, the
# targets of issue 15, and bench/NOTES.md (why each missed target is missed).
import json, os, platform, shutil, statistics, subprocess, sys

res_path, outdir = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(res_path) if l.strip()]
here = os.path.dirname(os.path.abspath(__file__))
# XCHAN_BENCH_DOCS: where the page goes instead (the smoke run keeps docs/ untouched)
docs = os.environ.get("XCHAN_BENCH_DOCS") or os.path.join(here, "..", "docs", "BENCHMARKS.md")
plotdir = os.path.dirname(os.path.abspath(docs))

def med(v):
    return statistics.median(v) if v else 0

def mmm(v):
    return (min(v), statistics.median(v), max(v)) if v else (0, 0, 0)

def live_rows(scen):
    return [r for r in rows if r.get("bench") == "live" and r.get("scenario") == scen]

LIVE = [
    ("nocmm_kernel", "1. no CMM, kernel forwarding"),
    ("nocmm_xdp", "1b. no CMM, bare XDP redirect (no checks)"),
    ("cmm_allowed", "2. CMM, allowed (established channel: this CPU's copy in the flow cache)"),
    ("cmm_allowed_norx", "2r. CMM, allowed, receive side detached"),
    ("cmm_allowed_paced", "2p. CMM, allowed, paced generator"),
    ("nocmm_xdp_2c", "1b2. bare XDP redirect, 2 generator threads on 2 CPUs"),
    ("cmm_allowed_2c", "2c. CMM, allowed, 2 generator threads on 2 CPUs"),
    ("cmm_full", "2x. CMM, allowed, full path (the flow cache left out)"),
    ("cmm_full_2c", "2x2. CMM, allowed, full path, 2 CPUs"),
    ("nft_netdev", "4a. nftables netdev ingress allow-list"),
    ("nft_inet", "4b. nftables inet forward allow-list"),
    ("relay", "5. userspace relay checking a token"),
    ("nodes_xchan_bridge_64", "6. between nodes, xchan, bridge fabric, 64 B"),
    ("nodes_kernel_bridge_64", "6k. between nodes, kernel forwarding, bridge fabric, 64 B"),
    ("nodes_xchan_xdp_64", "7. between nodes, xchan, XDP fabric, 64 B"),
    ("nodes_kernel_xdp_64", "7k. between nodes, kernel forwarding, XDP fabric, 64 B"),
    ("nodes_xchan_bridge_1400", "8. between nodes, xchan, bridge fabric, 1400 B"),
    ("nodes_kernel_bridge_1400", "8k. between nodes, kernel forwarding, bridge fabric, 1400 B"),
    ("nodes_xchan_xdp_1400", "9. between nodes, xchan, XDP fabric, 1400 B"),
    ("nodes_kernel_xdp_1400", "9k. between nodes, kernel forwarding, XDP fabric, 1400 B"),
    ("nodes_xchan_xdp_sip13_64", "7s. between nodes, XDP fabric, 64 B, SipHash-1-3 (prototype)"),
    ("nodes_xchan_xdp_sip13_1400", "9s. between nodes, XDP fabric, 1400 B, SipHash-1-3 (prototype)"),
    ("nodes_xchan_xdp_nh_64", "7n. between nodes, xchan with NH tags (--data-mac nh), XDP fabric, 64 B"),
    ("nodes_xchan_xdp_nh_1400", "9n. between nodes, xchan with NH tags (--data-mac nh), XDP fabric, 1400 B"),
    ("nodes_xchan_xdp_64_2c", "7c. between nodes, XDP fabric, 2 CPUs, one channel"),
    ("nodes_xchan_xdp_64_2c2ch", "7d. between nodes, XDP fabric, 2 CPUs, two channels"),
]

def live_stat(scen):
    rs = live_rows(scen)
    pps = [r["sink"]["pps"] for r in rs]
    busy = [r["sink"].get("cpu", {}).get("busy", 0) for r in rs]
    soft = [r["sink"].get("cpu", {}).get("softirq", 0) for r in rs]
    gcpu = [r["gen"].get("cpu_secs", 0) / r["gen"]["secs"] for r in rs if r.get("gen", {}).get("secs")]
    byt = [r["sink"]["bytes"] / r["sink"]["secs"] for r in rs if r["sink"].get("secs")]
    return {"pps": mmm(pps), "busy": med(busy), "softirq": med(soft), "gen_cpu": med(gcpu),
            "bps": med(byt) * 8, "n": len(rs)}

live = {k: dict(live_stat(k), label=l) for k, l in LIVE if live_rows(k)}
P = lambda k: live.get(k, {}).get("pps", (0, 0, 0))[1]
def ratio(a, b):
    return P(a) / P(b) if P(b) else 0

flood = mmm([r["drop_pps"] for r in live_rows("cmm_flood")])
flood_leak = max([r["sink"]["packets"] for r in live_rows("cmm_flood")] or [0])
rx_flood = mmm([r["drop_pps"] for r in live_rows("rx_flood")])
rx_leak = max([r["sink"]["packets"] for r in live_rows("rx_flood")] or [0])
trafgen = {s: mmm([r["sink"]["pps"] for r in rows if r.get("bench") == "trafgen" and r["scenario"] == s])
           for s in ("nocmm_kernel", "cmm_allowed")}
sock = {s: mmm([r["recv"]["pps"] for r in rows if r.get("bench") == "sockets" and r["scenario"] == s])
        for s in ("nocmm_kernel", "cmm_allowed", "relay")}
tr = {r["class"]: r for r in rows if r.get("bench") == "test_run"}
scale = sorted((r for r in rows if r.get("bench") == "scale"), key=lambda r: r["channels"])
agent = {r["op"]: r for r in rows if r.get("bench") == "agent"}
machine = [r for r in rows if r.get("bench") == "machine"]
T = lambda c: tr.get(c, {}).get("median", 0)
floor = T("floor (parse + 1 lookup)") or 1
s1k = next((r for r in scale if r["channels"] == 1000), None)
s1m = next((r for r in scale if r["channels"] == 1000000), None)

def mpps(x):
    return "%.2f" % (x / 1e6)

targets = []
def target(name, value, op, bound, fmt="%.2f"):
    ok = value >= bound if op == ">=" else value <= bound
    targets.append({"target": name, "value": value, "bound": bound, "op": op, "met": ok, "fmt": fmt})

# three digits: this ratio has sat within 0.01 of its bound, where two would read as met
target("same node, allowed >= 0.9x the bare XDP redirect (row 2 / 1b)", ratio("cmm_allowed", "nocmm_xdp"), ">=", 0.9, "%.3f")
target("same node, test_run allowed <= 1.6x the one-lookup floor", T("cmm allowed") / floor, "<=", 1.6)
target("between nodes, XDP fabric, 64 B >= 1.0x kernel forwarding (row 7 / 7k)",
       ratio("nodes_xchan_xdp_64", "nodes_kernel_xdp_64"), ">=", 1.0)
target("between nodes, XDP fabric, 1400 B, SipHash-2-4 tags (key-file default) >= 0.9x kernel forwarding (row 9 / 9k)",
       ratio("nodes_xchan_xdp_1400", "nodes_kernel_xdp_1400"), ">=", 0.9)
target("between nodes, XDP fabric, 1400 B, NH tags (cluster default, --data-mac nh) >= 0.9x kernel forwarding (row 9n / 9k)",
       ratio("nodes_xchan_xdp_nh_1400", "nodes_kernel_xdp_1400"), ">=", 0.9)
target("two CPUs, same node allowed >= 1.7x one (row 2c / 2)", ratio("cmm_allowed_2c", "cmm_allowed"), ">=", 1.7)
target("two CPUs, between nodes, one channel >= 1.7x one CPU (row 7c / 7)",
       ratio("nodes_xchan_xdp_64_2c", "nodes_xchan_xdp_64"), ">=", 1.7)
target("replay window lock: one channel on 2 CPUs >= 0.9x two channels (row 7c / 7d)",
       ratio("nodes_xchan_xdp_64_2c", "nodes_xchan_xdp_64_2c2ch"), ">=", 0.9)
if s1m:
    target("1M channels: map memory <= 300 bytes per channel (every per-channel map)", s1m["bytes_per_channel"], "<=", 300, "%.0f")
if s1k and s1m and s1k.get("random_median"):
    target("1M channels, random channel per packet <= 1.2x the same at 1k", s1m["random_median"] / s1k["random_median"], "<=", 1.2)
if "request_open" in agent:
    target("channel open through the agent's request socket <= 1 ms (median, ms)", agent["request_open"]["open_median_us"] / 1000, "<=", 1.0)
if "channel_open" in agent:
    a = agent["channel_open"]
    target("one-shot CLI open bounded by process start: median minus /bin/true's (ms)",
           (a["median_us"] - a.get("process_floor_median_us", 0)) / 1000, "<=", 5.0)
# the earlier issues' targets, kept in view
target("(earlier) CMM allowed >= 0.9x no-CMM kernel forwarding (row 2 / 1)", ratio("cmm_allowed", "nocmm_kernel"), ">=", 0.9)
target("(earlier) unauthorized flood dropped >= 1.0x kernel forwarding rate", flood[1] / (P("nocmm_kernel") or 1), ">=", 1.0)
target("(earlier) receive side costs <= 5% (row 2 / 2r)", ratio("cmm_allowed", "cmm_allowed_norx"), ">=", 0.95)
target("(earlier) CMM allowed >= 2x nftables (faster of 4a, 4b)", P("cmm_allowed") / (max(P("nft_netdev"), P("nft_inet")) or 1), ">=", 2.0)
if "apply" in agent:
    target("(earlier) apply >= 20,000 channels/s", agent["apply"]["per_sec"], ">=", 20000, "%.0f")

summary = {"live": {k: dict(v, pps=dict(zip(("min", "median", "max"), v["pps"]))) for k, v in live.items()},
           "flood_drop_pps": flood, "flood_leaked": flood_leak, "rx_flood_drop_pps": rx_flood,
           "rx_flood_leaked": rx_leak, "test_run_ns": tr, "scale": scale, "agent": agent,
           "machine": machine, "targets": targets}
json.dump(summary, open(os.path.join(outdir, "results.json"), "w"), indent=1)

def gnuplot(script):
    if script and shutil.which("gnuplot"):
        subprocess.run(["gnuplot"], input=script.encode(), check=False)

# plot 1: median Mpps per live row, min-max bars
dat = os.path.join(outdir, "live.dat")
with open(dat, "w") as f:
    for i, (k, v) in enumerate(live.items()):
        lo, m, hi = v["pps"]
        f.write('%d "%s" %f %f %f\n' % (i, v["label"].split(". ", 1)[0], m / 1e6, lo / 1e6, hi / 1e6))
rows_svg = os.path.join(plotdir, "bench-rows.svg")
gnuplot("""set terminal svg size 1000,480 font "sans,11"
set output "%s"
set title "Frames per second at the receiver, per row of the table (median, min-max), one run"
set ylabel "Mpps"
set style fill solid 0.6
set boxwidth 0.6
set xtics scale 0
set yrange [0:*]
set grid ytics
plot "%s" using 1:3:xtic(2) with boxes notitle, "" using 1:3:4:5 with yerrorbars lc rgb "black" pt 0 notitle
""" % (rows_svg, dat))
# plot 2: ns per packet (repeated frame, random channel) and bytes per channel against channels
sdat = os.path.join(outdir, "scale.dat")
with open(sdat, "w") as f:
    for r in scale:
        # below 1000 channels the tables' fixed size dominates the bytes per channel
        big = r["channels"] >= 1000
        f.write("%d %f %f %f\n" % (r["channels"], r["median"], r.get("random_median") or float("nan"),
                                   r["bytes_per_channel"] if big else float("nan")))
scale_svg = os.path.join(plotdir, "bench-scale.svg")
# one channel count (the smoke run) makes no line
gnuplot("" if len(scale) < 2 else """set terminal svg size 1000,420 font "sans,11"
set output "%s"
set title "Cost of the allowed path (test_run) and map memory against established channels"
set logscale x
set xlabel "channels"
set ylabel "ns per packet"
set y2label "bytes of map memory per channel"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set grid
set key top left
plot "%s" using 1:2 with linespoints title "ns, one repeated frame", \
     "" using 1:3 with linespoints title "ns, random channel per packet", \
     "" using 1:4 axes x1y2 with linespoints dt 2 title "bytes per channel (all per-channel maps)"
""" % (scale_svg, sdat))

L = []
u = platform.uname()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mach = "; ".join("%s: %.2f CPUs busy with other work, load %s" % (m["when"], m["busy_cpus"], m["loadavg"]) for m in machine)
start = next((m for m in machine if m["when"] == "start"), None)
# the machine as the start sample found it (the end sample falls on the bench's own teardown)
quiet = start is not None and start["busy_cpus"] < 0.3
state = ("The machine was quiet at the start" if quiet else
         "**The machine was shared and loaded** (other engineers building and testing)")
L.append("# Benchmarks\n")
L.append("Measured by `sudo make bench` (`bench/run.sh`, then `bench/report.py`), every row in one run, "
         "on kernel %s, %d CPUs (%s). %s (%s): read ratios between rows of this run, not absolute figures. Frames come from "
         "the project's live-frames generator (`xchan-bench gen`: BPF_PROG_RUN with "
         "BPF_F_TEST_XDP_LIVE_FRAMES, XDP_TX out of the sender's eth0), unpaced; the receiver counts "
         "IPv4 UDP at its eth0 with an XDP count-and-drop program. Every veth has two queues. %d "
         "repetitions of %s s per row; the rows that the targets compare (1b, 2, 2x and their two-CPU "
         "rows; every between-nodes row) are interleaved repetition by repetition, the programs "
         "swapped on the same interfaces, so that the machine's other load falls on them alike. Raw results: `build/bench/results.jsonl`; plots "
         "`docs/bench-rows.svg`, `docs/bench-scale.svg`.\n"
         % (u.release, os.cpu_count(), cpu, state, mach or "not recorded", live.get("cmm_allowed", {}).get("n", 0),
            os.environ.get("DUR", "2")))
L.append("![Mpps per row](bench-rows.svg)\n")
L.append("## Live rows\n")
L.append("CPU: the machine's busy CPUs over the receiver's window (of %d; other work included), of which "
         "softirq; the generator's own CPU (BPF_PROG_RUN is system time); ns of busy CPU per delivered "
         "frame.\n" % (os.cpu_count() or 0))
L.append("| row | min | median | max | x row 1 | x row 1b | CPUs busy | softirq | generator | CPU ns/frame |")
L.append("|---|---|---|---|---|---|---|---|---|---|")
for k, v in live.items():
    lo, m, hi = v["pps"]
    L.append("| %s | %s | %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f |" % (
        v["label"], mpps(lo), mpps(m), mpps(hi), m / (P("nocmm_kernel") or 1), m / (P("nocmm_xdp") or 1),
        v["busy"], v["softirq"], v["gen_cpu"], v["busy"] / m * 1e9 if m else 0))
L.append("| 3. CMM dropping an unauthorized flood (drops/s) | %s | %s | %s | %.2f | %.2f | | | | |"
         % (mpps(flood[0]), mpps(flood[1]), mpps(flood[2]), flood[1] / (P("nocmm_kernel") or 1), flood[1] / (P("nocmm_xdp") or 1)))
L.append("| 3r. receive side refusing a routed flood, send side detached (drops/s) | %s | %s | %s | %.2f | %.2f | | | | |"
         % (mpps(rx_flood[0]), mpps(rx_flood[1]), mpps(rx_flood[2]), rx_flood[1] / (P("nocmm_kernel") or 1), rx_flood[1] / (P("nocmm_xdp") or 1)))
L.append("\nFrames of the floods that reached the receiver: %d and %d.\n" % (flood_leak, rx_leak))
L.append("**Between nodes.** Bob on node 2 sends to alice on node 1. The fabric is a namespace joining "
         "the nodes' uplinks, either as a Linux bridge or as a two-port XDP redirect (`xchan-bench fwd "
         "--mac keep` on each port): the bridge costs more than xchan itself. Kernel forwarding: the same "
         "nodes with no XDP program on the path, routing the partitions' subnets (no protection at all; "
         "alice's receive side detached for all these rows, as it refuses routed traffic from another "
         "partition and never sees xchan's redirected frames). At 1400 B: "
         "xchan %.2f Gbit/s, kernel forwarding %.2f Gbit/s (XDP fabric, inner bytes at the receiver).\n"
         % (live.get("nodes_xchan_xdp_1400", {}).get("bps", 0) / 1e9, live.get("nodes_kernel_xdp_1400", {}).get("bps", 0) / 1e9))
L.append("| ratio in this run | value |")
L.append("|---|---|")
for name, a, b in [("xchan / kernel forwarding, XDP fabric, 64 B", "nodes_xchan_xdp_64", "nodes_kernel_xdp_64"),
                   ("xchan / kernel forwarding, XDP fabric, 1400 B", "nodes_xchan_xdp_1400", "nodes_kernel_xdp_1400"),
                   ("xchan with SipHash-1-3 / kernel forwarding, XDP fabric, 64 B", "nodes_xchan_xdp_sip13_64", "nodes_kernel_xdp_64"),
                   ("xchan with SipHash-1-3 / kernel forwarding, XDP fabric, 1400 B", "nodes_xchan_xdp_sip13_1400", "nodes_kernel_xdp_1400"),
                   ("xchan with NH tags / kernel forwarding, XDP fabric, 64 B", "nodes_xchan_xdp_nh_64", "nodes_kernel_xdp_64"),
                   ("xchan with NH tags / kernel forwarding, XDP fabric, 1400 B", "nodes_xchan_xdp_nh_1400", "nodes_kernel_xdp_1400"),
                   ("xchan / kernel forwarding, bridge fabric, 64 B", "nodes_xchan_bridge_64", "nodes_kernel_bridge_64"),
                   ("xchan / kernel forwarding, bridge fabric, 1400 B", "nodes_xchan_bridge_1400", "nodes_kernel_bridge_1400"),
                   ("xchan, XDP fabric / bridge fabric, 64 B", "nodes_xchan_xdp_64", "nodes_xchan_bridge_64"),
                   ("same node: 2 CPUs / 1, CMM allowed", "cmm_allowed_2c", "cmm_allowed"),
                   ("same node: 2 CPUs / 1, bare XDP redirect", "nocmm_xdp_2c", "nocmm_xdp"),
                   ("same node: full path (flow cache left out) / bare XDP redirect", "cmm_full", "nocmm_xdp"),
                   ("same node: flow cache / full path", "cmm_allowed", "cmm_full"),
                   ("between nodes: 2 CPUs / 1, one channel", "nodes_xchan_xdp_64_2c", "nodes_xchan_xdp_64"),
                   ("between nodes: 2 CPUs / 1, two channels", "nodes_xchan_xdp_64_2c2ch", "nodes_xchan_xdp_64"),
                   ("between nodes, 2 CPUs: one channel / two channels (the window's lock)", "nodes_xchan_xdp_64_2c", "nodes_xchan_xdp_64_2c2ch")]:
    L.append("| %s | %.2f |" % (name, ratio(a, b)))
L.append("")
L.append("**Independent generator** (trafgen, PF_PACKET): no CMM %s Mpps, CMM allowed %s Mpps; trafgen "
         "is the bottleneck. **UDP sockets** (sendmmsg/recvmmsg, messages/s at the application): no CMM "
         "%s M/s, CMM allowed %s M/s, through the relay %s M/s.\n"
         % (mpps(trafgen["nocmm_kernel"][1]), mpps(trafgen["cmm_allowed"][1]), mpps(sock["nocmm_kernel"][1]),
            mpps(sock["cmm_allowed"][1]), mpps(sock["relay"][1])))
L.append("## Cost per packet (BPF_PROG_TEST_RUN, ns)\n")
L.append("| class | min | median | max | x floor | stage adds |")
L.append("|---|---|---|---|---|---|")
prev = None
for c, r in tr.items():
    add = ""
    if c.startswith("stage"):
        add = "%.0f" % (r["median"] - (prev if prev is not None else floor))
        prev = r["median"]
    L.append("| %s | %.1f | %.1f | %.1f | %.2f | %s |" % (c, r["min"], r["median"], r["max"], r["median"] / floor, add))
f0 = next(iter(tr.values()), {})
L.append("\n%s-byte frame unless said, %d rounds of %d runs, classes interleaved round by round. The floor "
         "parses eth/IPv4/UDP and does one hash lookup with a 16-byte key. Stages: copies of the CMM over "
         "the same maps, cut after each stage (a rodata knob, `bench_stop`, that the verifier removes from "
         "real instances), with the flow cache left out (`bench_no_flow`): the full path; the first stage's "
         "increment is against the floor. `cmm allowed` and the first `flow cache` row are the path instances "
         "run (bpf/flow.h: this CPU's copy of what the full path found for the frame's key, one frame "
         "repeated), the next without the channel's counters (`bench_flow_nocount`); a frame whose copy "
         "is not in the cache costs the full path (stage 6). `nic send` classes are timed one run per call (the frame's start moves) and carry "
         "a per-call overhead that `same-node allowed, one run per call` shows. `nic verify` checks tag and "
         "window of a replayed frame, then drops it. `mac` rows: the MAC alone over a 40-byte header and "
         "the inner packet, the 2-4 tag checked against the agent's SipHash-2-4; the NH rows (`bpf/macs.bpf.c`, "
         "built with `-mcpu=v3`) checked first against the bench's own writing of `include/nh.h` at every inner "
         "length modulo 32 and the largest.\n"
         % (f0.get("frame", 0), f0.get("rounds", 0), f0.get("repeat", 0)))
L.append("## Scale\n")
L.append("![cost and memory against channels](bench-scale.svg)\n")
L.append("| channels | ns, repeated frame (min/med/max) | ns, random channel | bytes/channel | channels | counters | replay | slot bitmap |")
L.append("|---|---|---|---|---|---|---|---|")
for r in scale:
    n = r["channels"]
    L.append("| %d | %.0f / %.0f / %.0f | %s | %.0f | %.0f | %.0f | %.0f | %.1f |" % (
        n, r["min"], r["median"], r["max"], "%.0f" % r["random_median"] if r.get("random_median") else "-",
        r["bytes_per_channel"], r.get("channels_bytes", 0) / n, r.get("counts_bytes", 0) / n,
        r.get("replay_bytes", 0) / n, r.get("slots_bytes", 0) / n))
L.append("\nTables sized as `--max-channels N` sizes them (N + 64 here); memory is the kernel's memlock "
         "figure (what bpftool shows) of every per-channel map, per established channel: `xchan_channels` "
         "(one preallocated 40-byte entry per side: authorization and both key slots), `xchan_counts` (one "
         "32-byte slot a channel, shared by the CPUs), `xchan_replay` (windows for channels from other nodes "
         "only, not preallocated: its buckets) and the slot bitmap. The random column is a copy of the CMM "
         "that rewrites each frame's ports to a random established channel (`bench_spread`), so that at 1M "
         "the working set misses the caches; both columns go through the flow cache, as instances do "
         "(at 1M a random frame's copy is almost never there: the full path).\n")
L.append("## The agent\n")
if "channel_open" in agent:
    a = agent["channel_open"]
    L.append("- `xchan channel open`, one process per call: min %.1f ms, median %.1f ms, max %.1f ms over %d "
             "calls; starting `/bin/true` the same way: %.1f ms (median)." % (
                 a["min_us"] / 1000, a["median_us"] / 1000, a["max_us"] / 1000, a["n"],
                 a.get("process_floor_median_us", 0) / 1000))
if "request_open" in agent:
    a = agent["request_open"]
    L.append("- Through the agent's request sockets (`xchan-bench-req`: the receiver's offer, then the "
             "sender's ask until established): median %.2f ms (min %.2f, max %.2f); the ask alone median "
             "%.2f ms, over %d channels." % (a["open_median_us"] / 1000, a["open_min_us"] / 1000,
                                             a["open_max_us"] / 1000, a["median_us"] / 1000, a["n"]))
if "apply" in agent:
    a = agent["apply"]
    L.append("- `xchan apply` of %d channels: %.1f s, %.0f channels/s." % (a["channels"], a["secs"], a["per_sec"])
             + (" Creating the instance sized for them and adding the two partitions, timed apart before it: %.2f s." % a["create_secs"]
                if "create_secs" in a else ""))
L.append("\n## Targets\n")
L.append("| target | measured | verdict |")
L.append("|---|---|---|")
for t in targets:
    L.append("| %s | %s | %s |" % (t["target"], t["fmt"] % t["value"], "met" if t["met"] else "**missed**"))
L.append("")
notes = os.path.join(here, "NOTES.md")
if os.path.exists(notes):
    L.append(open(notes).read())
open(docs, "w").write("\n".join(L) + "\n")
print("\n".join(L))
