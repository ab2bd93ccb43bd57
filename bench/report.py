#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# report.py: turns bench/run.sh's JSON lines into results.json, a PNG plot
# (gnuplot) and docs/BENCHMARKS.md: min / median / max, ratios against the
# kernel-forwarding row and the relay row, and the targets of the issue.
import json, os, platform, statistics, subprocess, sys

res_path, outdir = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(res_path) if l.strip()]
# XCHAN_BENCH_DOCS: where the page goes instead (the smoke run keeps docs/ untouched)
docs = os.environ.get("XCHAN_BENCH_DOCS") or \
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "BENCHMARKS.md")

def series(bench, scen, get):
    return [get(r) for r in rows if r.get("bench") == bench and r.get("scenario") == scen]

def mmm(v):
    return (min(v), statistics.median(v), max(v)) if v else (0, 0, 0)

live = {}
for scen, label in [("nocmm_kernel", "1. no CMM, kernel forwarding"),
                    ("nocmm_xdp", "1b. no CMM, bare XDP redirect (no checks)"),
                    ("cmm_allowed", "2. CMM, allowed (established channel), receive side attached"),
                    ("cmm_allowed_norx", "2r. CMM, allowed, receive side detached (as before issue 10)"),
                    ("cmm_allowed_paced", "2p. CMM, allowed, paced generator"),
                    ("nft_netdev", "4a. nftables netdev ingress allow-list"),
                    ("nft_inet", "4b. nftables inet forward allow-list"),
                    ("relay", "5. userspace relay checking a token"),
                    ("cmm_between_nodes", "6. CMM between two nodes (tag, encap, verify, window, decap)")]:
    live[scen] = (label, mmm(series("live", scen, lambda r: r["sink"]["pps"])))
flood = mmm(series("live", "cmm_flood", lambda r: r["drop_pps"]))
flood_leak = max(series("live", "cmm_flood", lambda r: r["sink"]["packets"]) or [0])
rx_flood = mmm(series("live", "rx_flood", lambda r: r["drop_pps"]))
rx_leak = max(series("live", "rx_flood", lambda r: r["sink"]["packets"]) or [0])
norx = live["cmm_allowed_norx"][1][1] or 1
trafgen = {s: mmm(series("trafgen", s, lambda r: r["sink"]["pps"])) for s in ("nocmm_kernel", "cmm_allowed")}
sock = {s: mmm(series("sockets", s, lambda r: r["recv"]["pps"])) for s in ("nocmm_kernel", "cmm_allowed", "relay")}
tr = {r["class"]: r for r in rows if r.get("bench") == "test_run"}
scale = sorted((r for r in rows if r.get("bench") == "scale"), key=lambda r: r["channels"])
agent = {r["op"]: r for r in rows if r.get("bench") == "agent"}

base = live["nocmm_kernel"][1][1] or 1
relay = live["relay"][1][1] or 1
allowed = live["cmm_allowed"][1][1]
nft = max(live["nft_netdev"][1][1], live["nft_inet"][1][1]) or 1
floor = tr.get("floor (parse + 1 lookup)", {}).get("median", 1) or 1
s1k = next((r for r in scale if r["channels"] == 1000), None)
s1m = next((r for r in scale if r["channels"] == 1000000), None)

def mpps(x):
    return "%.2f" % (x / 1e6)

def verdict(ok):
    return "met" if ok else "**missed**"

targets = [
    ("CMM allowed >= 0.9x no-CMM kernel forwarding", allowed / base, 0.9, allowed / base >= 0.9),
    ("unauthorized flood dropped >= 1.0x no-CMM forwarding rate", flood[1] / base, 1.0, flood[1] / base >= 1.0),
    ("allowed path with the receive side costs <= 5% (row 2 / row 2r)", allowed / norx, 0.95, allowed / norx >= 0.95),
    ("CMM allowed >= 2x nftables (faster of the two)", allowed / nft, 2.0, allowed / nft >= 2.0),
    ("CMM allowed >= 15x userspace relay", allowed / relay, 15.0, allowed / relay >= 15.0),
    ("test_run allowed <= 1.3x the one-lookup floor", tr.get("cmm allowed", {}).get("median", 0) / floor, 1.3,
     tr.get("cmm allowed", {}).get("median", 0) / floor <= 1.3),
]
if "nic verify 64B payload" in tr and "cmm allowed" in tr:
    v = tr["nic verify 64B payload"]["median"] / tr["cmm allowed"]["median"]
    targets.append(("between nodes, 64-byte verify <= 2x the same-node allowed path", v, 2.0, v <= 2.0))
if "nic send 64B payload" in tr and "same-node allowed, one run per call" in tr:
    v = tr["nic send 64B payload"]["median"] / tr["same-node allowed, one run per call"]["median"]
    targets.append(("between nodes, 64-byte send <= 2x same-node (both one run per call)", v, 2.0, v <= 2.0))
if s1k and s1m:
    targets.append(("1,000,000 channels <= 1.5x the cost of 1,000", s1m["median"] / s1k["median"], 1.5,
                    s1m["median"] / s1k["median"] <= 1.5))
    targets.append(("<= 256 bytes of map memory per channel (at 1M)", s1m["bytes_per_channel"], 256,
                    s1m["bytes_per_channel"] <= 256))
if "apply" in agent:
    targets.append(("apply of 100,000 channels >= 20,000 channels/s", agent["apply"]["per_sec"], 20000,
                    agent["apply"]["per_sec"] >= 20000))
if "channel_open" in agent:
    targets.append(("channel open <= 5 ms median", agent["channel_open"]["median_us"] / 1000.0, 5,
                    agent["channel_open"]["median_us"] <= 5000))

summary = {
    "live_pps": {k: {"label": v[0], "min": v[1][0], "median": v[1][1], "max": v[1][2]} for k, v in live.items()},
    "flood_drop_pps": dict(zip(("min", "median", "max"), flood)), "flood_leaked": flood_leak,
    "rx_flood_drop_pps": dict(zip(("min", "median", "max"), rx_flood)), "rx_flood_leaked": rx_leak,
    "trafgen_pps": {k: dict(zip(("min", "median", "max"), v)) for k, v in trafgen.items()},
    "sockets_msgs_per_s": {k: dict(zip(("min", "median", "max"), v)) for k, v in sock.items()},
    "test_run_ns": tr, "scale": scale, "agent": agent,
    "targets": [{"target": t, "value": v, "bound": b, "met": ok} for t, v, b, ok in targets],
}
json.dump(summary, open(os.path.join(outdir, "results.json"), "w"), indent=1)

# plot: median live rates with min/max error bars
dat = os.path.join(outdir, "live.dat")
with open(dat, "w") as f:
    for i, (k, (label, (lo, med, hi))) in enumerate(live.items()):
        f.write('%d "%s" %f %f %f\n' % (i, label.split(". ", 1)[1][:28], med / 1e6, lo / 1e6, hi / 1e6))
    f.write('%d "%s" %f %f %f\n' % (len(live), "CMM dropping a flood", flood[1] / 1e6, flood[0] / 1e6, flood[2] / 1e6))
png = os.path.join(outdir, "bench.png")
gp = """set terminal pngcairo size 1000,520 font ",10"
set output "%s"
set title "xchan: 64-byte frames per second at the receiver (median, min-max), one run"
set ylabel "Mpps"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -25 scale 0
set yrange [0:*]
set grid ytics
plot "%s" using 1:3:xtic(2) with boxes notitle, "" using 1:3:4:5 with yerrorbars lc rgb "black" pt 0 notitle
""" % (png, dat)
subprocess.run(["gnuplot"], input=gp.encode(), check=False)

u = platform.uname()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
L = []
L.append("# Benchmarks\n")
L.append("Measured by `sudo make bench` (`bench/run.sh`, then `bench/report.py`), all rows in one run, "
         "on %s, kernel %s, %d CPUs (%s). Every row sends the same 64-byte UDP frame from partition b "
         "to partition a over veths in namespaces that the bench creates; the receiver counts at a's "
         "eth0 with an XDP count-and-drop program. Generator: the project's own live-frames generator "
         "(`xchan-bench gen`: BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, XDP_TX out of b's eth0), one "
         "thread, unpaced, sharing the 2 cores with everything else. %d repetitions of %s s each; "
         "min / median / max in Mpps. Raw results: `build/bench/results.jsonl`, summary "
         "`build/bench/results.json`, plot `build/bench/bench.png`.\n"
         % (platform.node() or "this machine", u.release, os.cpu_count(), cpu,
            len(series("live", "cmm_allowed", lambda r: 1)), os.environ.get("DUR", "2")))
L.append("| row | min | median | max | x row 1 | x row 5 |")
L.append("|---|---|---|---|---|---|")
for k, (label, (lo, med, hi)) in live.items():
    L.append("| %s | %s | %s | %s | %.2f | %.1f |" % (label, mpps(lo), mpps(med), mpps(hi), med / base, med / relay))
L.append("| 3. CMM dropping an unauthorized flood (drops/s) | %s | %s | %s | %.2f | %.1f |"
         % (mpps(flood[0]), mpps(flood[1]), mpps(flood[2]), flood[1] / base, flood[1] / relay))
L.append("| 3r. receive side refusing a flood the host routes in, send side detached (drops/s) | %s | %s | %s | %.2f | %.1f |"
         % (mpps(rx_flood[0]), mpps(rx_flood[1]), mpps(rx_flood[2]), rx_flood[1] / base, rx_flood[1] / relay))
paced = series("live", "cmm_allowed_paced", lambda r: r["gen"]["pps"])
L.append("\nFrames of the flood that reached the receiver: %d. Row 2p paces the generator inside "
         "its XDP program, aiming at %.1f Mpps, below the CMM's capacity; the pacer falls short of "
         "its aim (it sent %s Mpps on average over its whole run, start included), and the "
         "receiver's rate in its window matches what was sent: at that load nothing is lost.\n"
         % (flood_leak, int(os.environ.get("PACED_PPS", "2000000")) / 1e6, mpps(statistics.median(paced)) if paced else "?"))
L.append("**Independent generator** (trafgen from netsniff-ng, same frame, PF_PACKET): "
         "no CMM %s Mpps, CMM allowed %s Mpps (median at the receiver). trafgen itself is the "
         "bottleneck here, so both rows show its rate rather than the path's.\n"
         % (mpps(trafgen["nocmm_kernel"][1]), mpps(trafgen["cmm_allowed"][1])))
L.append("**Real UDP sockets** (sendmmsg in b, recvmmsg in a; messages/s received by the application): "
         "no CMM %s M/s, CMM allowed %s M/s, through the relay %s M/s. The socket layer, not the "
         "CMM, bounds these.\n" % (mpps(sock["nocmm_kernel"][1]), mpps(sock["cmm_allowed"][1]), mpps(sock["relay"][1])))
L.append("## Cost per packet (BPF_PROG_TEST_RUN)\n")
L.append("| class | min | median | max | x floor |")
L.append("|---|---|---|---|---|")
for c, r in tr.items():
    L.append("| %s | %.1f | %.1f | %.1f | %.2f |" % (c, r["min"], r["median"], r["max"], r["median"] / floor))
L.append("\n%s-byte frame, %d rounds of %d runs, classes interleaved. The floor parses "
         "eth/IPv4/UDP and does one hash lookup with a 16-byte key. The `nic send` classes "
         "encapsulate, which moves the frame's start, and BPF_PROG_TEST_RUN repeats on the moved "
         "frame: they are timed one run per call (the kernel's timing of each run, median), and "
         "carry a per-call overhead that the same-node allowed path, timed the same way, shows. "
         "The `nic verify` classes check tag and window of a frame already accepted once, then "
         "drop it as a replay: the whole verification, without the decapsulation.\n"
         % (next(iter(tr.values()), {}).get("frame", 0), next(iter(tr.values()), {}).get("rounds", 0),
            next(iter(tr.values()), {}).get("repeat", 0)))
L.append("## Scale\n")
L.append("| established channels | ns/packet min | median | max | map memory | bytes per channel |")
L.append("|---|---|---|---|---|---|")
for r in scale:
    L.append("| %d | %.1f | %.1f | %.1f | %.1f MiB | %.0f |" % (r["channels"], r["min"], r["median"], r["max"],
                                                         r["map_bytes"] / 2**20, r["bytes_per_channel"]))
L.append("\nMemory is the kernel's memlock figure (as bpftool shows it) of `xchan_channels`, "
         "`xchan_keys` and `xchan_chanstats`, tables sized to the channel count.\n")
L.append("## The agent\n")
if "channel_open" in agent:
    a = agent["channel_open"]
    L.append("- `xchan channel open`, one process per call: min %.1f ms, median %.1f ms, max %.1f ms over %d calls; "
             "starting `/bin/true` the same way takes %.1f ms (median) on this machine."
             % (a["min_us"] / 1000, a["median_us"] / 1000, a["max_us"] / 1000, a["n"],
                a.get("process_floor_median_us", 0) / 1000))
if "apply" in agent:
    a = agent["apply"]
    L.append("- `xchan apply` of %d channels: %.1f s, %.0f channels/s." % (a["channels"], a["secs"], a["per_sec"]))
L.append("\n## Targets\n")
L.append("| target | measured | verdict |")
L.append("|---|---|---|")
for t, v, b, ok in targets:
    L.append("| %s | %.2f | %s |" % (t, v, verdict(ok)))
L.append("")
notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
if os.path.exists(notes):
    L.append(open(notes).read())
open(docs, "w").write("\n".join(L) + "\n")
print("\n".join(L))
