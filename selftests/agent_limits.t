#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# agent_limits.t: what one partition may take from the agent. Its connections fill
# the agent's descriptor table: the next ones are refused (logged, counted) instead of
# the agent spinning on a listening socket it cannot accept from, and it serves again
# once they go. Requests that read the whole channel table have a budget per
# partition, and so have its channel sides. Partitions here are plain network
# namespaces; no podman.
. "$(dirname "$0")/lib.sh"
AGENT_PID= HOLD_PID=
trap '[ -z "$HOLD_PID" ] || kill "$HOLD_PID" 2>/dev/null; [ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null; cleanup' EXIT
CLIENT="$(dirname "$XCHAN")/xchan-client"

make_part a 10.79.0.1 && make_part b 10.79.0.2 || { echo "Bail out! topology"; exit 1; }
quiet x partition add 1 --name a --netns "${PFX}a" && quiet x partition add 2 --name b --netns "${PFX}b" ||
	{ echo "Bail out! partitions"; exit 1; }
printf 'allow a receive b:* local 6100\nallow b send a:6100\n' >"$TMPD/policy"
served() { nsenter --net="/run/netns/${PFX}$1" "$CLIENT" list >/dev/null 2>&1; }
fds() { ls "/proc/$AGENT_PID/fd" | wc -l; }
ticks() { awk '{ print $14 + $15 }' "/proc/$AGENT_PID/stat"; }

# how many descriptors the agent holds serving two partitions, started with a soft
# limit under the hard one (it raises the soft one)
prlimit --nofile=512:4096 "$XCHAN" --pin-root "$PIN" agent --policy "$TMPD/policy" --poll-ms 100 \
	2>"$TMPD/agent0.log" &
AGENT_PID=$!
eventually 10 served a && eventually 10 served b
check "the agent serves both partitions" [ $? -eq 0 ]
check "... with its soft file limit raised from 512 to the hard one ($(awk '/open files/ { print $4, $5 }' "/proc/$AGENT_PID/limits"))" \
	[ "$(awk '/open files/ { print $4 }' "/proc/$AGENT_PID/limits")" = 4096 ]
base=$(fds)
kill "$AGENT_PID"; wait "$AGENT_PID"; AGENT_PID=

# the same with room for 6 more: a's 20 connections (under --max-conns) fill it
lim=$((base + 6))
prlimit --nofile=$lim:$lim "$XCHAN" --pin-root "$PIN" agent --policy "$TMPD/policy" --poll-ms 100 \
	--max-conns 40 2>"$TMPD/agent.log" &
AGENT_PID=$!
eventually 10 served a && eventually 10 served b
check "limited to $lim descriptors ($base in use at rest), it serves both partitions" [ $? -eq 0 ]
nsenter --net="/run/netns/${PFX}a" python3 -c '
import socket, sys, time
held = []
for i in range(20):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect("\0xchan")
    except OSError:
        break
    held.append(s)
print(len(held), flush=True)
time.sleep(60)
' >"$TMPD/held" &
HOLD_PID=$!
eventually 5 [ -s "$TMPD/held" ]
refused() { grep -q "partition 1: a connection refused: the agent has no file descriptor left" "$TMPD/agent.log"; }
eventually 5 refused
check "a's connections fill the table: the rest are refused and logged ($(cat "$TMPD/held") connected)" [ $? -eq 0 ]
t0=$(ticks); sleep 2; t1=$(ticks)
check "... and the agent waits, not spins: $((t1 - t0)) of $((2 * $(getconf CLK_TCK))) CPU ticks in 2 s" \
	[ $((t1 - t0)) -lt $(( $(getconf CLK_TCK) / 2 )) ]
kill "$HOLD_PID"; wait "$HOLD_PID" 2>/dev/null; HOLD_PID=
eventually 5 served b
check "a's connections gone: the agent serves b again" [ $? -eq 0 ]
check "... and a" served a
kill "$AGENT_PID"; wait "$AGENT_PID"; AGENT_PID=

# at most 50 offers, asks and lists a second per partition (200 at once): 400 lists
# back to back on one connection, then one a second later
"$XCHAN" --pin-root "$PIN" agent --policy "$TMPD/policy" --poll-ms 100 --max-sides 3 2>"$TMPD/agent2.log" &
AGENT_PID=$!
eventually 10 served a && eventually 10 served b
check "the agent serves both partitions again" [ $? -eq 0 ]
sleep 0.5	# the lists above and any of the wait: the budget full again
nsenter --net="/run/netns/${PFX}a" python3 -c '
import socket, struct, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("\0xchan")
req = struct.pack("<BBBBHH32s", 1, 4, 0, 0, 0, 0, b"")
got = []
for i in range(400):
    s.send(req)
    got.append(s.recv(8192)[2])
print(" ".join(str(g) for g in got))
time.sleep(1.1)
s.send(req)
print(s.recv(8192)[2])
' >"$TMPD/lists"
st=$(head -1 "$TMPD/lists") later=$(sed -n 2p "$TMPD/lists")
nok0=$(tr ' ' '\n' <<<"$st" | grep -c '^0$') nbusy=$(tr ' ' '\n' <<<"$st" | grep -c '^5$')
check "400 lists at once: $nok0 answered, $nbusy busy (a budget of 200 and 50 a second)" \
	[ "$nok0" -ge 200 -a "$nok0" -le 300 -a $((nok0 + nbusy)) -eq 400 ]
check "... and a list a second later is answered (status $later)" [ "$later" = 0 ]
# --max-sides 3: a's fourth side is refused, though none of them is established
for p in 1 2 3 4; do
	nsenter --net="/run/netns/${PFX}a" "$CLIENT" --timeout 0 offer 6100 "b:500$p" >"$TMPD/offer$p" 2>&1
	echo $? >>"$TMPD/offer_rc"
done
check "--max-sides 3: three offers wait, the fourth is refused ($(tr '\n' ' ' <"$TMPD/offer_rc"): $(cat "$TMPD/offer4"))" \
	[ "$(tr '\n' ' ' <"$TMPD/offer_rc")" = "0 0 0 1 " ] && grep -q "too many channels (this partition has 3 sides)" "$TMPD/offer4"
kill "$AGENT_PID"; wait "$AGENT_PID"; AGENT_PID=
finish
