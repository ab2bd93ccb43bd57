#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# agent.t: podman containers on a chained CNI conflist (bridge + xchan-cni) become
# partitions; processes in them ask `xchan agent` for channels through their own
# netns's request socket; the policy refuses with a reason; metrics show the traffic.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/containers.sh"
trap 'agent_stop; ctr_cleanup; cleanup' EXIT

BUILD=$(dirname "$XCHAN")
if ! podman_works; then
	echo "1..0 # SKIP podman cannot start a container here"
	exit 0
fi
cp "$BUILD/xchan-client" "$ROOTFS/bin/xchan-client" && chmod 0755 "$ROOTFS/bin/xchan-client"

# podman's CNI backend, configured under $TMPD only: our conflist, our plugin dir,
# host-local's leases in $TMPD; the bridge lives in this run's host netns.
NET="${PFX}xnet"
mkdir -p "$TMPD/cni/net.d" "$TMPD/cni/bin" "$TMPD/cni/ipam"
ln -s "$BUILD/xchan-cni" "$TMPD/cni/bin/xchan-cni"
cat >"$TMPD/containers.conf" <<CONF
[network]
network_backend = "cni"
cni_plugin_dirs = ["$TMPD/cni/bin", "/usr/lib/cni"]
network_config_dir = "$TMPD/cni/net.d"
CONF
# the installed example, pointed at this run's bridge, leases, instance and ids
jq --arg n "$NET" --arg b "${PFX}xb" --arg d "$TMPD/cni/ipam" --arg p "$PIN" \
	'.name = $n | .plugins[0].bridge = $b | .plugins[0].ipam.dataDir = $d |
	 .plugins[1].pinRoot = $p | .plugins[1].idBase = 100' \
	"$(dirname "$0")/../cni/xchan.conflist.example" >"$TMPD/cni/net.d/$NET.conflist"
export CONTAINERS_CONF="$TMPD/containers.conf"

A="${PFX}alice" B="${PFX}bob" C="${PFX}carol"
cat >"$TMPD/policy" <<POL
# alice takes bob's messages from 5000 on her 6000; bob may reach alice:6000 only
allow $A receive $B:5000 local 6000
allow $B send    $A:6000 local 5000
allow $C send    $A:*
POL

AGENT_PID=
agent_start() {
	"$XCHAN" --pin-root "$PIN" agent --policy "$TMPD/policy" --metrics 127.0.0.1:9420 --poll-ms 200 "$@" 2>>"$TMPD/agent.log" &
	AGENT_PID=$!
	for _ in $(seq 50); do grep -q "agent started" "$TMPD/agent.log" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
agent_stop() {
	[ -n "$AGENT_PID" ] || return 0
	kill -TERM "$AGENT_PID" 2>/dev/null; wait "$AGENT_PID"; local rc=$?
	AGENT_PID=
	return $rc
}
# cl CONTAINER ARGS...: xchan-client in that container
cl() { local c=$1; shift; ctr_exec "$c" /bin/xchan-client "$@"; }
# waits until the agent serves CONTAINER's socket
served() { for _ in $(seq 50); do cl "$1" list >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
partj() { x -j partition list 2>/dev/null | jq -r "$@"; }

check "agent starts (instance created, policy read)" agent_start
for c in alice bob carol; do ctr_run "$c" --network "$NET"; done
check "three containers on the chained conflist started" [ "$(podman ps -q --filter name="$PFX" | wc -l)" -eq 3 ]
check "each became a partition named after its container (CNI ADD)" \
	[ "$(partj "[.[] | select(.name==\"$A\" or .name==\"$B\" or .name==\"$C\")] | length")" -eq 3 ]
check "ids were allocated from idBase" [ "$(partj '[.[] | select(.id >= 100)] | length')" -eq 3 ]
check "the CMM is attached to each container's veth" [ "$(partj '[.[] | select(.xdp=="native")] | length')" -eq 3 ]
check "the agent serves alice's request socket" served alice
check "... and bob's and carol's" eval 'served bob && served carol'
AIP=$(partj ".[] | select(.name==\"$A\") | .ip")

# alice offers and waits; bob asks; both come back established
cl alice offer 6000 "$B:5000" >"$TMPD/offer" 2>&1 &
offer_pid=$!
sleep 0.5
cl bob ask 5000 "$A:6000" >"$TMPD/ask" 2>&1; rc=$?
wait $offer_pid; orc=$?
check "bob's ask establishes the channel ($rc: $(cat "$TMPD/ask"))" [ $rc -eq 0 ]
check "alice's waiting offer returns established ($orc: $(cat "$TMPD/offer"))" \
	eval "[ $orc -eq 0 ] && grep -q established '$TMPD/offer'"
rm -f "$TMPD/rx.ready"
ctr_exec alice /bin/ctr_tool recv 6000 3 >"$TMPD/rx" 2>"$TMPD/rx.ready" &
rx_pid=$!
eventually 30 grep -q ready "$TMPD/rx.ready"
ctr_exec bob /bin/ctr_tool send 5000 "$AIP" 6000 10 hello
wait $rx_pid
n=$(grep -c " 5000 hello-" "$TMPD/rx")
check "bob's messages reached alice's socket ($n of 10)" [ "$n" -eq 10 ]
# a send no channel covers: refused in the packet path, counted for bob by reason
rm -f "$TMPD/rx.ready"
ctr_exec alice /bin/ctr_tool recv 6001 1 >"$TMPD/rx1" 2>"$TMPD/rx.ready" &
rx_pid=$!
eventually 30 grep -q ready "$TMPD/rx.ready"
ctr_exec bob /bin/ctr_tool send 5000 "$AIP" 6001 5 nochan
wait $rx_pid
check "bob's sends to alice:6001 (no channel) reached nothing ($(grep -c nochan "$TMPD/rx1") of 5)" \
	[ "$(grep -c nochan "$TMPD/rx1")" -eq 0 ]
# and 600 to the control port (2 ms apart): each one audited until bob's budget (64, then
# 100/s) runs out, which it does unless sending them took over 5 s
ctr_exec bob /bin/ctr_tool send 5000 "$AIP" 7420 600 ctl

# refusals: a reason to the process, an audit line in the log
cl bob ask 5000 "$A:6001" 2>"$TMPD/err"; rc=$?
check "the policy refuses bob -> alice:6001 ($rc: $(cat "$TMPD/err"))" \
	eval "[ $rc -eq 1 ] && grep -q 'not allowed by the policy' '$TMPD/err'"
check "... and the agent audits it" eventually 3 grep -q "audit: partition .* ask refused: .*6001: not allowed by the policy" "$TMPD/agent.log"
cl bob ask 5000 "${PFX}nobody:1" 2>"$TMPD/err"
check "an unknown peer is refused ($(cat "$TMPD/err"))" grep -q "no partition" "$TMPD/err"
cl carol raw 0101000000000000 2>"$TMPD/err"; rc=$?
check "a short request is refused as malformed ($rc: $(cat "$TMPD/err"))" \
	eval "[ $rc -eq 1 ] && grep -q 'malformed' '$TMPD/err'"

# carol's socket is carol's: she sees only her own channels and cannot speak for alice
cl carol list >"$TMPD/carol" 2>&1
check "carol's list has none of alice's channels ($(cat "$TMPD/carol"))" grep -q "^0 channels" "$TMPD/carol"
cl alice list >"$TMPD/alice"
check "alice's list has hers" grep -q "^in 6000 <- $B:5000 established packets=10" "$TMPD/alice"
cl carol offer 6000 "$B:5000" 2>"$TMPD/err"
check "carol cannot offer alice's side: hers is refused ($(cat "$TMPD/err"))" grep -q "not allowed" "$TMPD/err"
"$BUILD/xchan-client" list >/dev/null 2>"$TMPD/err"; rc=$?
check "from outside any partition there is no socket ($rc: $(cat "$TMPD/err"))" \
	eval "[ $rc -eq 1 ] && grep -q 'cannot reach the agent' '$TMPD/err'"

# metrics, scraped as Prometheus would
curl -sf http://127.0.0.1:9420/metrics >"$TMPD/metrics"; rc=$?
check "metrics endpoint answers ($rc)" [ $rc -eq 0 ]
check "per-channel packets show bob's 10" \
	grep -q "^xchan_channel_packets_total{receiver=\"$A\",port=\"6000\",sender=\"$B\",sender_port=\"5000\"} 10$" "$TMPD/metrics"
check "verdicts by reason show the delivered frames" \
	eval "[ \$(awk '/^xchan_verdict_packets_total{reason=\"pass_channel\"}/ {print \$2}' '$TMPD/metrics') -ge 10 ]"
check "requests by result show the refusals" \
	eval "[ \$(awk '/^xchan_agent_requests_total{result=\"refused\"}/ {print \$2}' '$TMPD/metrics') -ge 3 ]"
check "the channel's key age is there" grep -q "^xchan_channel_key_age_seconds{receiver=\"$A\"" "$TMPD/metrics"
metric() { awk -v k="$1" '$1 == k {print $2}' "$TMPD/metrics"; }
v=$(metric "xchan_partition_verdict_packets_total{partition=\"$B\",reason=\"drop_no_out_channel\"}")
check "bob's refused sends by partition and reason (${v:-none})" [ "${v:-0}" -eq 5 ]
v=$(metric "xchan_partition_verdict_bytes_total{partition=\"$B\",reason=\"drop_no_out_channel\"}")
check "... and their bytes (${v:-none})" [ "${v:-0}" -ge $((5 * 42)) ]
check "... none counted for alice" eval "! grep -q '^xchan_partition_verdict_packets_total{partition=\"$A\",reason=\"drop_no_out_channel\"}' '$TMPD/metrics'"
check "no pass_channel among the verdicts by partition (the fast path's)" \
	eval "! grep -q '^xchan_partition_verdict_packets_total{.*reason=\"pass_channel\"}' '$TMPD/metrics'"
v=$(metric "xchan_partition_channel_packets_total{partition=\"$A\",direction=\"received\"}")
w=$(metric "xchan_partition_channel_packets_total{partition=\"$B\",direction=\"sent\"}")
check "channel messages by partition: alice received 10, bob sent 10 (${v:-none}, ${w:-none})" \
	eval "[ '${v:-0}' -eq 10 ] && [ '${w:-0}' -eq 10 ]"
v=$(metric "xchan_partition_verdict_packets_total{partition=\"$B\",reason=\"drop_ctrl_untrusted\"}")
check "bob's 600 to the control port by partition and reason (${v:-none})" [ "${v:-0}" -eq 600 ]
v=$(metric "xchan_events_emitted_total{source=\"$B\",kind=\"partition\"}")
w=$(metric "xchan_events_suppressed_total{source=\"$B\",kind=\"partition\"}")
check "events by source: bob's emitted and suppressed add up to his 600 audits at least (${v:-none} + ${w:-none})" \
	eval "[ '${v:-0}' -ge 64 ] && [ '${w:-0}' -ge 1 ] && [ \$(( ${v:-0} + ${w:-0} )) -ge 600 ] &&
	      grep -q '^xchan_events_lost_total{source=\"$B\",kind=\"partition\"} 0$' '$TMPD/metrics'"
w=$(metric "xchan_events_suppressed_total{source=\"$A\",kind=\"partition\"}")
check "... alice's suppressed nothing (${w:-no row})" [ "${w:-0}" -eq 0 ]
check "the text format's HELP/TYPE for each new family" \
	eval "[ \$(grep -cE '^# TYPE xchan_(partition_verdict|partition_channel|events)_[a-z]+_total counter$' '$TMPD/metrics') -eq 7 ]"
x -j stats --by-partition >"$TMPD/stats" 2>&1
check "stats --by-partition -j: bob's 5 refused sends, alice's 10 received, bob's 10 sent" \
	quiet jq -e --arg a "$A" --arg b "$B" '([.partitions[] | select(.name == $b and .reason == "drop_no_out_channel") | .packets] == [5]) and
	([.partitions[] | select(.reason == "pass_channel")] == []) and
	([.partition_channels[] | select(.name == $a) | .received_packets] == [10]) and
	([.partition_channels[] | select(.name == $b) | .sent_packets] == [10])' "$TMPD/stats"
check "... and as text" eval "x stats --by-partition | grep -qE '^$B +drop_no_out_channel +5 '"
check "no key material in the metrics" eval "! grep -qi key_hex '$TMPD/metrics'"

# stopping the agent stops no traffic; a new agent finds everything again
check "SIGTERM stops the agent cleanly" agent_stop
rm -f "$TMPD/rx.ready"
ctr_exec alice /bin/ctr_tool recv 6000 2 >"$TMPD/rx" 2>"$TMPD/rx.ready" &
rx_pid=$!
eventually 30 grep -q ready "$TMPD/rx.ready"
ctr_exec bob /bin/ctr_tool send 5000 "$AIP" 6000 5 noagent
wait $rx_pid
check "with no agent the channel still delivers ($(grep -c noagent "$TMPD/rx") of 5)" [ "$(grep -c noagent "$TMPD/rx")" -eq 5 ]
check "a restarted agent serves again" eval 'agent_start && served alice'
cl alice list >"$TMPD/alice"
check "... and alice's channel is still established" grep -q "^in 6000 <- $B:5000 established" "$TMPD/alice"
check "bob closes his side: the channel goes" eval 'cl bob close out 5000 "$A:6000" | grep -q closed'
cl alice list >"$TMPD/alice"
check "alice's list is empty again" grep -q "^0 channels" "$TMPD/alice"

# CHECK as the runtime runs it: the plugin's entry of the conflist with the bridge's
# result as prevResult; success prints nothing, an error is a CNI error object
# cni NETNS IP COMMAND [CNI_ARGS]
cni() {
	jq --arg ns "$1" --arg ip "$2/24" '.plugins[1] + {cniVersion, name, prevResult: {cniVersion: "1.0.0",
		interfaces: [{name: "eth0", sandbox: $ns}], ips: [{address: $ip, interface: 0}]}}' \
		"$TMPD/cni/net.d/$NET.conflist" |
		CNI_COMMAND=$3 CNI_CONTAINERID=direct CNI_NETNS="$1" CNI_IFNAME=eth0 CNI_ARGS="$4" "$BUILD/xchan-cni"
}

# removal: CNI DEL takes the partition away; DEL again changes nothing
CNS=$(partj ".[] | select(.name==\"$C\") | .netns") CIP=$(partj ".[] | select(.name==\"$C\") | .ip")
out=$(cni "$CNS" "$CIP" CHECK); rc=$?
check "CHECK of carol's container (a partition, the CMM attached): success, nothing printed ($rc: $out)" \
	eval "[ $rc -eq 0 ] && [ -z '$out' ]"
ctr_rm carol
check "carol's removal removed her partition (CNI DEL)" [ -z "$(partj ".[] | select(.name==\"$C\") | .id")" ]
out=$(cni "$CNS" "$CIP" CHECK); rc=$?
check "CHECK after her partition went: a CNI error ($rc: $out)" \
	eval "[ $rc -ne 0 ] && echo '$out' | jq -e '.code == 100 and (.msg | test(\"is not a partition\"))' >/dev/null"
cnidel() {
	CNI_COMMAND=DEL CNI_CONTAINERID=gone CNI_NETNS="$CNS" CNI_IFNAME=eth0 CNI_ARGS="K8S_POD_NAME=$C" \
		"$BUILD/xchan-cni" <"$TMPD/cni/net.d/$NET.conflist.one"
}
jq '.plugins[1] + {cniVersion, name}' "$TMPD/cni/net.d/$NET.conflist" >"$TMPD/cni/net.d/$NET.conflist.one"
check "DEL again is a success (idempotent)" cnidel
check "VERSION lists the versions it speaks" eval "echo '{}' | CNI_COMMAND=VERSION '$BUILD/xchan-cni' | jq -e '.supportedVersions | index(\"1.0.0\")' >/dev/null"
CNI_COMMAND=ADD CNI_CONTAINERID=x CNI_NETNS=/run/netns/none CNI_IFNAME=eth0 "$BUILD/xchan-cni" \
	<"$TMPD/cni/net.d/$NET.conflist.one" >"$TMPD/out"; rc=$?
check "ADD without prevResult: a CNI error, nothing registered ($rc)" \
	eval "[ $rc -ne 0 ] && jq -e '.code == 7' '$TMPD/out' >/dev/null && [ \$(partj length) -eq 2 ]"
# a runtime name no partition name can hold is not cut or cleaned into one: a
# container named like another's first 31 characters would inherit its rules
make_part zed 10.88.0.77 || nok "netns for the unnamed container"
ZNS=/run/netns/${PFX}zed
for n in "$A-and-more-to-pass-thirty-one-characters" "$A!"; do
	out=$(cni "$ZNS" 10.88.0.77 ADD "K8S_POD_NAME=$n"); rc=$?
	check "ADD of a container named '$n': registered without a name, not as '$A' ($rc)" \
		[ $rc -eq 0 -a "$(partj ".[] | select(.netns==\"$ZNS\") | .name // \"\"")" = "" ]
	cni "$ZNS" 10.88.0.77 DEL "K8S_POD_NAME=$n" >/dev/null
done
# Kubernetes has the same pod name in many namespaces: the name says which; podman
# gives the container's name as both
for args in "K8S_POD_NAMESPACE=prod;K8S_POD_NAME=$A prod.$A" "K8S_POD_NAMESPACE=${PFX}z;K8S_POD_NAME=${PFX}z ${PFX}z"; do
	set -- $args
	out=$(cni "$ZNS" 10.88.0.77 ADD "$1"); rc=$?
	check "ADD with $1: registered as '$2' ($rc)" \
		[ $rc -eq 0 -a "$(partj ".[] | select(.netns==\"$ZNS\") | .name // \"\"")" = "$2" ]
	cni "$ZNS" 10.88.0.77 DEL "$1" >/dev/null
done
check "the agent closed carol's socket" eventually 5 grep -q "request socket closed (partition removed)" "$TMPD/agent.log"
check "SIGTERM stops it again" agent_stop

# CNI args: id, name and isolation from CNI_ARGS; CHECK fails once the partition is
# deleted behind the runtime's back; the isolated partition's send outside is refused
make_part cniargs 10.0.9.5 bridge
ANS="/run/netns/${PFX}cniargs"
out=$(cni "$ANS" 10.0.9.5 ADD "IgnoreUnknown=1;XCHAN_ID=zero"); rc=$?
check "ADD with XCHAN_ID=zero: a configuration error, nothing registered ($rc)" \
	eval "[ $rc -ne 0 ] && echo '$out' | jq -e '.code == 7' >/dev/null && [ -z \"\$(partj '.[] | select(.netns == \"$ANS\") | .id')\" ]"
out=$(cni "$ANS" 10.0.9.5 ADD "IgnoreUnknown=1;XCHAN_ID=4242;XCHAN_ISOLATED=true;XCHAN_NAME=${PFX}args"); rc=$?
check "ADD with XCHAN_ID=4242, XCHAN_ISOLATED=true, XCHAN_NAME: registered so ($rc)" \
	eval "[ $rc -eq 0 ] && [ \"\$(partj '.[] | select(.id == 4242) | [.name, .isolated, .netns] | join(\" \")')\" = '${PFX}args true $ANS' ]"
ip -n "${PFX}cniargs" neigh add 10.0.9.99 lladdr 02:00:00:00:09:99 dev eth0
ip netns exec "${PFX}cniargs" "$BUILD/ctr_tool" send 5000 10.0.9.99 53 3 iso >/dev/null 2>&1
check "... isolated: its sends outside are drop_isolated, counted for it" \
	eval "x -j stats --by-partition | jq -e '[.partitions[] | select(.part == 4242 and .reason == \"drop_isolated\") | .packets] == [3]' >/dev/null"
out=$(cni "$ANS" 10.0.9.5 CHECK); rc=$?
check "CHECK: success ($rc: $out)" eval "[ $rc -eq 0 ] && [ -z '$out' ]"
x partition del 4242 >/dev/null
out=$(cni "$ANS" 10.0.9.5 CHECK); rc=$?
check "CHECK after partition del (the container still there): a CNI error ($rc: $out)" \
	eval "[ $rc -ne 0 ] && echo '$out' | jq -e '.code == 100' >/dev/null"
check "DEL then: success, nothing to remove" eval "cni '$ANS' 10.0.9.5 DEL >/dev/null"

# identity, not look-alikes: a netns holding a veth with the partition's indexes, but
# not the netns our host veth peers into (pid reuse, a stale path), gets no socket
make_part forge 10.0.9.1 bridge && ns_add "${PFX}other"
x partition add 300 --name "${PFX}forge" --netns "${PFX}forge" >/dev/null
HIDX=$(ip -j link show "${PFX}forge" | jq '.[0].ifindex'); PIDX=$(ip -n "${PFX}forge" -j link show eth0 | jq '.[0].ifindex')
ip link del "${PFX}forge"
ip -n "${PFX}forge" link add eth0 index "$PIDX" type veth peer name fake index "$HIDX" netns "${PFX}other"
agent_start
check "a forged veth of the same indexes gets no request socket" \
	eval "eventually 5 grep -q 'partition 300: no request socket: .*is not the netns its host veth' '$TMPD/agent.log' &&
	      ! ip netns exec ${PFX}forge '$BUILD/xchan-client' list >/dev/null 2>&1"
agent_stop; x partition del 300 >/dev/null

# a removed partition is not served: its open connection's next request is refused
# at once (not at the next poll, a minute away here) and its socket closes
make_part gone 10.0.9.2 bridge
x partition add 301 --name "${PFX}gone" --netns "${PFX}gone" >/dev/null
echo "allow * send $A:7000" >>"$TMPD/policy"
agent_start --poll-ms 60000
ip netns exec "${PFX}gone" python3 - "$TMPD/go" "$A" >"$TMPD/goneans" 2>&1 <<'PY' &
import os, socket, struct, sys, time
for _ in range(50):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect("\0xchan"); break
    except OSError:
        time.sleep(0.1)
open(sys.argv[1] + ".conn", "w").close()
while not os.path.exists(sys.argv[1]): time.sleep(0.05)
s.send(struct.pack("<BBBBHH32s", 1, 2, 0, 0, 7000, 7000, sys.argv[2].encode()))
r = s.recv(4096)
print(r[2], r[16:].split(b"\0")[0].decode())
PY
gone_pid=$!
for _ in $(seq 50); do [ -e "$TMPD/go.conn" ] && break; sleep 0.1; done
x partition del 301 >/dev/null; touch "$TMPD/go"; wait $gone_pid
check "a request on a removed partition's open connection is refused ($(cat "$TMPD/goneans"))" \
	grep -q "^2 this partition is gone" "$TMPD/goneans"
check "... nothing was made under its id" eval "! x channel list | grep -q 7000"
check "... and its socket closed at once (not at the next poll, a minute away)" eventually 3 grep -q "partition 301: request socket closed (partition removed)" "$TMPD/agent.log"
agent_stop

# a squatter (no agent running, a non-root process binds @xchan) is not taken for the agent
ip netns exec "${PFX}gone" setpriv --reuid 65534 --regid 65534 --clear-groups /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind("\0xchan"); s.listen(4)
print("bound", flush=True); time.sleep(30)' >"$TMPD/squat" &
squat_pid=$!
for _ in $(seq 50); do grep -q bound "$TMPD/squat" 2>/dev/null && break; sleep 0.1; done	# (a loaded machine)
ip netns exec "${PFX}gone" "$BUILD/xchan-client" list >/dev/null 2>"$TMPD/err"; rc=$?
check "the client refuses a socket not owned by root ($rc: $(cat "$TMPD/err"))" \
	eval "[ $rc -ne 0 ] && grep -q 'is not the agent.s: its owner is a process in here, not root' '$TMPD/err'"
kill $squat_pid; wait $squat_pid 2>/dev/null

# one partition cannot fill the node's channel table with waiting sides
agent_start --max-pending 3 && served bob
ctr_exec bob sh -c "for p in 1 2 3 4; do xchan-client --timeout 0 ask 700\$p $A:7000; done" >"$TMPD/pend" 2>&1
check "the 4th waiting side of bob is refused ($(tail -1 "$TMPD/pend"))" \
	eval "[ \$(grep -c 'authorized, waiting' '$TMPD/pend') -eq 3 ] && tail -1 '$TMPD/pend' | grep -q 'too many pending requests'"
ctr_exec bob sh -c "for p in 1 2 3; do xchan-client close out 700\$p $A:7000; done" >/dev/null 2>&1
check "... and a withdrawn side makes room again" eval "cl bob --timeout 0 ask 7004 $A:7000 | grep -q 'authorized, waiting' &&
	cl bob close out 7004 $A:7000 >/dev/null"
agent_stop

# a flood of refused requests: every one counted, only a budget of them logged, then a summary
make_part flood 10.0.9.3 bridge
x partition add 302 --name "${PFX}flood" --netns "${PFX}flood" >/dev/null
# (the asks beyond the budget of 200 are answered busy, not refused: counted all the same)
answered() { curl -sf http://127.0.0.1:9420/metrics |
	awk '/^xchan_agent_requests_total{result="(refused|busy)"}/ {n += $2} END {print n + 0}'; }
agent_start; r0=$(answered)
ip netns exec "${PFX}flood" python3 - <<'PY'
import socket, struct, time
for _ in range(50):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect("\0xchan"); break
    except OSError:
        time.sleep(0.1)
q = struct.pack("<BBBBHH32s", 1, 2, 0, 0, 1, 1, b"nosuch")
for _ in range(2000):
    s.send(q); s.recv(4096)
PY
sleep 0.5
n=$(grep -c "partition 302 pid" "$TMPD/agent.log")
check "2000 refused requests, at most a budget of audit lines ($n)" [ "$n" -le 30 ]
check "... then a summary of the rest" eventually 3 grep -q "partition 302: [0-9]* audit lines suppressed" "$TMPD/agent.log"
check "... and the counters have all 2000, refused or busy ($r0 -> $(answered))" [ "$(( $(answered) - r0 ))" -eq 2000 ]
agent_stop; x partition del 302 >/dev/null
ctr_rm alice; ctr_rm bob
check "no partition left after the containers went" [ "$(partj length)" -eq 0 ]

# A string the agent logs (here the policy's path; from the store, names and errors)
# cannot start a journal line of its own: a newline and a priority in it stay inside.
NLPOL="$TMPD/pol
<0>emerg: forged"
cp "$TMPD/policy" "$NLPOL"
: >"$TMPD/agent.log"
"$XCHAN" --pin-root "$PIN" agent --policy "$NLPOL" --poll-ms 200 2>>"$TMPD/agent.log" &
AGENT_PID=$!
eventually 5 grep -q "agent started" "$TMPD/agent.log"
agent_stop
check "a newline in a logged string makes no line of its own" \
	eval '! grep -q "^<0>" "$TMPD/agent.log" && grep -q "pol?<0>emerg: forged" "$TMPD/agent.log"'
finish
