#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# demo.sh: `xchan demo` / `make demo`. Three partitions (podman containers when
# podman works here, network namespaces otherwise), one channel, traffic over it
# and over paths nobody authorized; shows what was delivered and what was refused
# and why, the channel table as bpftool prints it, doctor's verdicts; cleans up.
# Exits non-zero if anything did not behave.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB=${XCHAN_LIB:-$HERE/../selftests}
export XCHAN=${XCHAN:-$HERE/../build/xchan}
# installed: share/xchan/{scripts,selftests,ctr_tool}; in the tree: build/ctr_tool
[ -x "$(dirname "$XCHAN")/ctr_tool" ] || export CTR_TOOL=$HERE/../ctr_tool
RUN_ID=${RUN_ID:-d$(( $$ % 100000 ))}	# host veth names stay within 15 characters; kept when lib.sh re-runs this in its host netns
. "$LIB/lib.sh"
. "$LIB/containers.sh"
trap 'ctr_cleanup; cleanup' EXIT
BAD=0
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
start=$(date +%s)

if [ -z "$XCHAN_DEMO_NETNS" ] && podman_works 2>/dev/null; then
	KIND="podman containers (runc, rootfs: busybox-static + ctr_tool)"
	ctr_run alice && ctr_run bob || exit 1
	ctr_run mallory --cap-add NET_ADMIN || exit 1	# compromised: root in its own netns
	A=$(ctr_ip alice); B=$(ctr_ip bob); M=$(ctr_ip mallory)
	src() { case $1 in alice|bob|mallory) echo "--podman ${PFX}$1";; esac; }
	run_in() { local c=$1; shift; ctr_exec "$c" /bin/ctr_tool "$@"; }
	ip_in() { local c=$1; shift; ctr_exec "$c" ip "$@"; }
else
	KIND="network namespaces (podman is not usable here)"
	A=10.90.0.1; B=10.90.0.2; M=10.90.0.3
	make_part alice $A && make_part bob $B && make_part mallory $M || exit 1
	ctr_rootfs >/dev/null 2>&1
	src() { echo "--netns ${PFX}$1"; }
	run_in() { local c=$1; shift; ip netns exec "${PFX}$c" "$CTR_TOOL" "$@"; }
	ip_in() { local c=$1; shift; ip -n "${PFX}$c" "$@"; }
fi
say "xchan demo: three partitions as $KIND"
i=1
for c in alice bob mallory; do
	# shellcheck disable=SC2046
	x partition add $i --name $c $(src $c) 2>&1 | sed 's/^/   /' || BAD=1
	i=$((i+1))
done

say "one channel, authorized on both sides, key created by the receiver"
echo "   \$ xchan channel open bob:5000 alice:6000"
x channel open bob:5000 alice:6000 | sed 's/^/   /'
x channel list | sed 's/^/   /'

say "traffic (what alice's sockets received is the ground truth)"
reasons() { x -j stats | jq -c '[.reasons[] | {(.reason): .packets}] | add'; }
printf '   %-34s %-34s %5s %9s  %s\n' "path" "what" "sent" "delivered" "verdict"
# path FROM SPORT DPORT COUNT EXPECT WHAT [SRCIP]
path() {
	local from=$1 sport=$2 dport=$3 n=$4 want=$5 what=$6 srcip=$7 before after got why
	before=$(reasons)
	run_in alice recv "$dport" 2 >"$TMPD/rx" &
	sleep 0.4
	run_in "$from" send "$sport" "$A" "$dport" "$n" msg $srcip
	wait
	after=$(reasons)
	got=$(grep -c " msg-" "$TMPD/rx")
	why=$(jq -rn --argjson a "$after" --argjson b "$before" \
		'[$a | to_entries[] | select(.value > ($b[.key] // 0)) | select(.key | startswith("drop")) | "\(.key) \(.value - ($b[.key] // 0))"] | join(", ")')
	local mark="ok"; [ "$got" -eq "$want" ] || { mark="UNEXPECTED (want $want)"; BAD=1; }
	printf '   %-34s %-34s %5d %9d  %s%s\n' "$from:$sport -> alice:$dport" "$what" "$n" "$got" "$mark" "${why:+, refused: $why}"
}
path bob 5000 6000 20 20 "authorized channel"
path bob 5001 6000 5 0 "wrong source port"
path bob 5000 6001 5 0 "wrong destination port"
path mallory 5000 6000 5 0 "no channel for mallory"
ip_in mallory addr add "$B/32" dev eth0 || BAD=1
path mallory 5000 6000 5 0 "mallory claiming bob's address" "$B"
ip_in mallory addr del "$B/32" dev eth0
{
	before=$(x -j stats | jq '.reasons[] | select(.reason=="drop_ctrl_untrusted") | .packets')
	run_in mallory forge "$A" >/dev/null
	after=$(x -j stats | jq '.reasons[] | select(.reason=="drop_ctrl_untrusted") | .packets')
	est=$(x -j channel list | jq '[.[] | select(.state=="established")] | length')
	mark="ok"; [ "$est" -eq 2 ] && [ $((after - before)) -gt 0 ] || { mark="UNEXPECTED"; BAD=1; }
	printf '   %-34s %-34s %5d %9s  %s, refused: drop_ctrl_untrusted %d\n' "mallory -> alice:7420" \
		"forged CONNECT/ACK/CLOSE, all types" 54 "-" "$mark" $((after - before))
}

say "audit events (xchan monitor, first few)"
x monitor --timeout 1 | grep -v ' drop ' | head -6 | sed 's/^/   /'

say "the channel table as bpftool shows it"
echo "   \$ bpftool map dump pinned $PIN/xchan_channels"
bpftool map dump pinned "$PIN/xchan_channels" | head -36 | sed 's/^/   /'

say "doctor: can these partitions reach xchan's maps?"
x doctor | sed 's/^/   /'

say "cleaning up"
x down | sed 's/^/   /'
ctr_cleanup
echo "   done in $(( $(date +%s) - start )) s"
if [ $BAD -ne 0 ]; then
	echo "   something did not behave (see UNEXPECTED above)"
	exit 1
fi
echo "   everything behaved"
