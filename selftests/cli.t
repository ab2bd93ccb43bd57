#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# cli.t: the xchan command against real namespaces: every command, every error with
# its exit code, the maps unchanged after each failure, JSON parsed, apply idempotent.
. "$(dirname "$0")/lib.sh"

LOG="$TMPD/out.log"
# xr CODE DESC ARGS...: run xchan, expect exit CODE, keep output for the key check.
xr() {
	local want=$1 desc=$2; shift 2
	"$XCHAN" --pin-root "$PIN" "$@" >>"$LOG" 2>"$TMPD/err"
	local rc=$?
	cat "$TMPD/err" >>"$LOG"
	if [ $rc -eq "$want" ]; then ok "$desc (exit $rc)"; else nok "$desc (exit $rc, want $want): $(cat "$TMPD/err")"; fi
	if [ "$want" -ne 0 ]; then
		local lines; lines=$(wc -l <"$TMPD/err")
		[ "$lines" -eq 1 ] || nok "$desc: error is one line (got $lines)"
	fi
}
# the tables and the counter slots taken (xchan_channels names each IN entry's):
# a failed command leaves no slot taken by an entry it did not make
snap() {
	{
		for m in xchan_partition xchan_addrs xchan_partmeta xchan_channels xchan_devmap; do
			bpftool -j map dump pinned "$PIN/$m" 2>/dev/null | jq -cS 'sort_by(.key|tostring) | map(del(.values))' 2>/dev/null
		done
		slots_taken 2>/dev/null
	} | md5sum
}
unchanged() { [ "$(snap)" = "$1" ]; }

check "--help exits 0" quiet "$XCHAN" --help
xr 2 "unknown command" frobnicate
xr 2 "unknown option" --bogus status
xr 0 "status without an instance" status
# waits in milliseconds that would wrap (epoll_wait's int, the lease's ttl * 1000);
# with a --policy, so that only the bound can make it a usage error
for o in "--poll-ms 2147483648" "--poll-ms 3600001" "--lease-ttl 4294968" "--lease-ttl 86401"; do
	xr 2 "agent: $o" agent $o --policy "$TMPD/nopolicy"
done
check "... saying the bound" grep -q -- "--lease-ttl must be a number from 1 to 86400" "$TMPD/err"
check "... with nothing made" [ ! -e "$PIN" ]
check "status -j without an instance parses" [ "$(x -j status | jq -r .loaded)" = false ]

make_part a 10.78.0.1 && make_part b 10.78.0.2 && make_part c 10.78.0.3
ns_add "${PFX}empty"
xr 1 "partition add: netns that does not exist" partition add 1 --netns "${PFX}nope"
xr 1 "partition add: netns without a veth" partition add 1 --netns "${PFX}empty"
ns_add "${PFX}noip"
ip link add "${PFX}n" type veth peer name eth0 netns "${PFX}noip"; HOSTDEVS+=("${PFX}n")
ip -n "${PFX}noip" link set eth0 up
xr 1 "partition add: interface without an IPv4 address" partition add 1 --netns "${PFX}noip"
grep -q "no IPv4 address" "$TMPD/err" && ok "... says so" || nok "... says so"
check "a refused first add leaves no pin root" [ ! -e "$PIN" ]
xr 2 "partition add: id 0" partition add 0 --netns "${PFX}a"
xr 2 "partition add: id not a number" partition add abc --netns "${PFX}a"
xr 2 "partition add: two sources" partition add 1 --netns "${PFX}a" --pid 1
xr 2 "partition add: numeric name" partition add 1 --name 42 --netns "${PFX}a"
xr 2 "partition add: name with a character a log line or label would break on" partition add 1 --name 'ev"il}' --netns "${PFX}a"
xr 1 "partition add: missing interface" partition add 1 --dev "${PFX}nosuch"
xr 2 "partition add: a podman name that podman would read as an option (-l: the latest)" partition add 1 --podman -l
xr 0 "partition add alice" partition add 1 --name alice --netns "${PFX}a"
check "pin root is 0700" [ "$(stat -c %a "$PIN")" = 700 ]
check "pins are 0600" [ -z "$(find "$PIN" -type f ! -perm 600)" ]
S=$(snap)
xr 1 "partition add: duplicate id" partition add 1 --name other --netns "${PFX}b"
unchanged "$S" && ok "maps unchanged" || nok "maps unchanged"
xr 1 "partition add: name taken" partition add 2 --name alice --netns "${PFX}b"
unchanged "$S" && ok "maps unchanged" || nok "maps unchanged"
xr 1 "partition add: interface registered already" partition add 2 --netns "${PFX}a"
unchanged "$S" && ok "maps unchanged" || nok "maps unchanged"
ip -n "${PFX}c" addr add 10.78.0.1/32 dev eth0; ip -n "${PFX}c" addr del 10.78.0.3/24 dev eth0
xr 1 "partition add: address taken" partition add 3 --netns "${PFX}c"
unchanged "$S" && ok "maps unchanged" || nok "maps unchanged"
ip -n "${PFX}c" addr del 10.78.0.1/32 dev eth0; ip -n "${PFX}c" addr add 10.78.0.3/24 dev eth0
xr 0 "partition add bob by --dev" partition add 2 --name bob --dev "${PFX}b"
xr 0 "partition add carol isolated, generic mode" partition add 3 --name carol --netns "${PFX}c" --isolated --mode generic
J=$(x -j partition list)
check "partition list -j: three partitions" [ "$(jq length <<<"$J")" = 3 ]
check "partition list -j: alice's address" [ "$(jq -r '.[0].ip' <<<"$J")" = 10.78.0.1 ]
check "partition list -j: carol isolated, generic" [ "$(jq -r '.[2] | "\(.isolated) \(.xdp)"' <<<"$J")" = "true generic" ]
check "partition list -j: bob native" [ "$(jq -r '.[1].xdp' <<<"$J")" = native ]
check "partition list: table" quiet x partition list

S=$(snap)
for bad in alice alice:0 alice:70000 :5 alice:x; do
	xr 2 "channel open: malformed endpoint '$bad'" channel open "$bad" bob:1
done
xr 1 "channel open: unknown partition" channel open zed:1 bob:1
xr 2 "channel open: same partition" channel open alice:1 alice:2
xr 1 "channel connect: not authorized" channel connect alice:6000 bob:5000
unchanged "$S" && ok "maps unchanged after channel errors" || nok "maps unchanged after channel errors"
xr 0 "channel open bob:5000 -> alice:6000" channel open bob:5000 alice:6000
S=$(snap)
xr 1 "channel open: exists" channel open bob:5000 alice:6000
unchanged "$S" && ok "maps unchanged" || nok "maps unchanged"
xr 0 "channel authorize --out (sender side)" channel authorize carol:7000 alice:6001 --out
xr 0 "channel authorize --in (receiver side)" channel authorize alice:6001 carol:7000 --in
# an IN entry takes its counter slot before its insert: refused, it gives it back
S=$(snap)
xr 1 "channel authorize: exists" channel authorize alice:6001 carol:7000 --in
unchanged "$S" && ok "maps unchanged, no slot taken" || nok "maps unchanged, no slot taken"
xr 0 "channel connect on the receiving side" channel connect alice:6001 carol:7000
xr 1 "channel connect: connected already" channel connect alice:6001 carol:7000
xr 0 "channel authorize --in without the sender's OUT" channel authorize alice:6002 bob:5002 --in
S=$(snap)
xr 1 "channel connect refused by the sender's CMM (no OUT entry)" channel connect alice:6002 bob:5002
unchanged "$S" && ok "maps unchanged after a refused CONNECT" || nok "maps unchanged after a refused CONNECT"
grep -q nack_no_out_entry "$TMPD/err" && ok "refusal names its reason" || nok "refusal names its reason"
J=$(x -j channel list)
check "channel list -j: 5 entries" [ "$(jq length <<<"$J")" = 5 ]
check "channel list -j: bob->alice established both sides" \
	[ "$(jq '[.[] | select(.local_ep==5000 or .local_ep==6000) | select(.state=="established")] | length' <<<"$J")" = 2 ]
check "channel list -j: receiver's key is local, sender's remote" \
	[ "$(jq -r '[.[] | select(.local_ep==6000) | .key] + [.[] | select(.local_ep==5000) | .key] | join(",")' <<<"$J")" = "local,remote" ]
check "stats -j parses with every reason" [ "$(x -j stats --channels | jq '.reasons | length')" -gt 20 ]
check "stats --by-partition -j: both lists, and the text form" \
	eval "x -j stats --by-partition --channels | jq -e '(.partitions | type) == \"array\" and (.partition_channels | type) == \"array\" and (.channels | length) >= 1' >/dev/null &&
	      x stats --by-partition | grep -q '^PARTITION .*RECEIVED'"
check "status -j: loaded, 3 attachments" [ "$(x -j status | jq '.attachments | length')" = 3 ]
x -j monitor --count 20 --timeout 2 >"$TMPD/mon"
check "monitor -j: JSON lines with the CONNECTs' events" grep -q established <(jq -r .kind "$TMPD/mon")
check "monitor -j: the refused CONNECT is audited with its ids" \
	[ "$(jq -r 'select(.kind=="connect_refused") | "\(.reason) \(.local_part):\(.local_ep) \(.remote_part):\(.remote_ep)"' "$TMPD/mon")" = "nack_no_out_entry 2:5002 1:6002" ]

# Full table: a separate instance with room for one channel (--max-channels counts channels).
PIN2="$PIN-small"
"$XCHAN" --pin-root "$PIN2" --max-channels 1 partition add 11 --netns "${PFX}empty" 2>/dev/null
make_part d 10.79.0.1 && make_part e 10.79.0.2
x2() { "$XCHAN" --pin-root "$PIN2" "$@"; }
quiet x2 --max-channels 1 partition add 11 --name d --netns "${PFX}d"
quiet x2 partition add 12 --name e --netns "${PFX}e"
check "small instance: one channel fits" quiet x2 channel open d:1 e:1
S2=$(PIN=$PIN2 snap)
x2 channel open d:2 e:2 2>"$TMPD/err"; rc=$?
check "small instance: next open fails with exit 1 ($rc)" [ $rc -eq 1 ]
check "... saying the table is full" grep -q "full" "$TMPD/err"
check "... leaving nothing partial" [ "$S2" = "$(PIN=$PIN2 snap)" ]
check "small instance: down" quiet x2 down

# Pin roots in a bad state.
BAD="/sys/fs/bpf/xchan-bad$RUN_ID"
trap 'rm -rf "$BAD" 2>/dev/null; "$XCHAN" --pin-root "$PIN2" down >/dev/null 2>&1; cleanup' EXIT
mkdir -m 0700 "$BAD"; chown 65534 "$BAD"
"$XCHAN" --pin-root "$BAD" partition add 9 --netns "${PFX}d" 2>"$TMPD/err"; rc=$?
[ $rc -eq 1 ] && grep -q "owned by uid 65534" "$TMPD/err"
check "pin root owned by someone else is refused ($rc)" [ $? -eq 0 ]
chown 0 "$BAD"; chmod 0777 "$BAD"
"$XCHAN" --pin-root "$BAD" partition add 9 --netns "${PFX}d" 2>"$TMPD/err"; rc=$?
[ $rc -eq 1 ] && grep -q "mode 777" "$TMPD/err"
check "pin root writable by others is refused ($rc)" [ $? -eq 0 ]
rmdir "$BAD"; ln -s /tmp "$BAD"
"$XCHAN" --pin-root "$BAD" partition add 9 --netns "${PFX}d" 2>"$TMPD/err"; rc=$?
[ $rc -eq 1 ] && grep -q "not a directory" "$TMPD/err"
check "pin root that is a symlink is refused ($rc)" [ $? -eq 0 ]
rm -f "$BAD"
# A symlink to a file: refused, and the file is left as it was (a chmod through the
# link would take the setuid bit off a /usr/bin/sudo).
: >"$TMPD/target"; chmod 4755 "$TMPD/target"; ln -s "$TMPD/target" "$BAD"
"$XCHAN" --pin-root "$BAD" partition add 9 --netns "${PFX}d" 2>"$TMPD/err"; rc=$?
[ $rc -eq 1 ] && grep -q "not a directory" "$TMPD/err" && [ "$(stat -c %a "$TMPD/target")" = 4755 ]
check "pin root that is a symlink to a file is refused, the file unchanged ($rc)" [ $? -eq 0 ]
rm -f "$BAD"

# The same, put there between the check of the path and its use: gdb stops xchan at
# its mkdir of the root, and a symlink or a directory of uid 65534 appears there, as
# a local user racing it in a 1777 /sys/fs/bpf could make them.
# race_root CMD: partition add on $BAD with CMD run at that mkdir; gdb.out has the end
race_root() {
	cat >"$TMPD/gdb" <<G
set pagination off
set debuginfod enabled off
set breakpoint pending on
break mkdir
run
shell $1
delete
continue
G
	timeout 120 gdb -q -batch -x "$TMPD/gdb" --args "$XCHAN" --pin-root "$BAD" partition add 9 \
		--netns "${PFX}d" >"$TMPD/gdb.out" 2>&1
}
if timeout 30 gdb -q -batch -ex run --args /bin/true >/dev/null 2>&1; then
	race_root "ln -s '$TMPD/target' '$BAD'"
	[ -L "$BAD" ] && grep -q "exited with code 01" "$TMPD/gdb.out" &&
		grep -q "pin root $BAD exists and is not a directory" "$TMPD/gdb.out"
	check "a symlink raced in at the pin root is refused" [ $? -eq 0 ]
	check "... and its target's mode is unchanged ($(stat -c %a "$TMPD/target"))" \
		[ "$(stat -c %a "$TMPD/target")" = 4755 ]
	rm -f "$BAD"
	race_root "mkdir -m 0700 '$BAD' && chown 65534 '$BAD'"
	[ "$(stat -c %u "$BAD")" = 65534 ] && grep -q "exited with code 01" "$TMPD/gdb.out" &&
		grep -q "pin root $BAD is owned by uid 65534" "$TMPD/gdb.out"
	check "a directory of uid 65534 raced in at the pin root is refused" [ $? -eq 0 ]
	check "... with nothing pinned in it ($(ls -A "$BAD" | wc -l) entries)" [ -z "$(ls -A "$BAD")" ]
	rm -rf "$BAD"
else
	ok "# SKIP gdb cannot trace a program here: no raced pin roots"
fi
# A parent where others may rename entries: what was checked could be swapped after.
PAR="/sys/fs/bpf/xchan-par$RUN_ID"
mkdir -m 0777 "$PAR"; reap_add dir "$PAR"
"$XCHAN" --pin-root "$PAR/x" partition add 9 --netns "${PFX}d" 2>"$TMPD/err"; rc=$?
[ $rc -eq 1 ] && grep -q "lets others replace the pin root" "$TMPD/err" && [ ! -e "$PAR/x" ]
check "pin root in a parent others may write without the sticky bit is refused ($rc)" [ $? -eq 0 ]
chmod 1777 "$PAR"; chown 65534 "$PAR"
"$XCHAN" --pin-root "$PAR/x" partition add 9 --netns "${PFX}d" 2>"$TMPD/err"; rc=$?
[ $rc -eq 1 ] && grep -q "owner 65534) lets others" "$TMPD/err" && [ ! -e "$PAR/x" ]
check "pin root in a parent of uid 65534 is refused ($rc)" [ $? -eq 0 ]
rm -rf "$PAR"

# A root that down removed is made again by the next command, 0700 and ours.
quiet x2 partition add 11 --name d --netns "${PFX}d" && quiet x2 down && [ ! -e "$PIN2" ] &&
	quiet x2 partition add 11 --name d --netns "${PFX}d"
check "pin root made again after a down ($(stat -c '%a %u' "$PIN2" 2>&1))" \
	[ "$(stat -c '%a %u' "$PIN2" 2>&1)" = "700 0" ]
quiet x2 down

# apply: idempotent, prunes only when asked, refuses bad files whole.
cat >"$TMPD/conf" <<CONF
# two partitions known already, one channel known, one new
partition 1 --name alice --netns ${PFX}a
partition 2 --name bob --dev ${PFX}b
channel bob:5000 alice:6000
channel alice:6100 bob:5100   # a new one
CONF
x apply "$TMPD/conf" >"$TMPD/ap1"; rc=$?
check "apply: exit 0 ($rc)" [ $rc -eq 0 ]
check "apply: reports one change" grep -q '^1 change(s), 3 unchanged' "$TMPD/ap1"
S=$(snap)
x -j apply "$TMPD/conf" >"$TMPD/ap2"
[ "$(jq '.changed | length' "$TMPD/ap2")" = 0 ] && [ "$S" = "$(snap)" ]
check "apply twice: changes nothing" [ $? -eq 0 ]
check "apply without --prune left the other channels" [ "$(x -j channel list | jq length)" = 7 ]
printf 'partition 1 --name alice --netns %s\nchannel bob:5000 alice:6000\nchanel x y\n' "${PFX}a" >"$TMPD/bad"
xr 2 "apply: syntax error" apply "$TMPD/bad"
unchanged "$S" && ok "maps unchanged after a bad file" || nok "maps unchanged after a bad file"
printf 'channel bob:5300 alice:6300\nchannel bob:5000 nobody:1\n' >"$TMPD/bad2"
xr 1 "apply: unknown partition halfway" apply "$TMPD/bad2"
unchanged "$S" && ok "the first channel was undone" || nok "the first channel was undone"
printf 'channel bob:5000 alice:6000\n' >"$TMPD/one"
quiet x apply --prune "$TMPD/one"
check "apply --prune keeps only the named channel" [ "$(x -j channel list | jq -c '[.[] | .local_ep] | sort')" = "[5000,6000]" ]
check "apply --prune closed the others' keys too: two entries, both established" \
	[ "$(bpftool -j map dump pinned "$PIN/xchan_channels" | jq '[.[] | select(.formatted.value.ctl % 4 == 2)] | length')" = 2 ]

# No key ever appears in anything the agent printed.
keys=$(bpftool -j map dump pinned "$PIN/xchan_channels" | jq -r '.[] | select(.formatted.value.ctl % 4 == 2) | .value[0:16] | map(ltrimstr("0x")) | join("")')
leak=0
for k in $keys; do grep -qi "$k" "$LOG" && leak=1; grep -qi "${k:0:8}" "$LOG" && leak=1; done
[ -n "$keys" ] && [ $leak -eq 0 ]
check "no key bytes in any output ($(wc -l <"$LOG") lines)" [ $? -eq 0 ]

# Pair key files: only a regular file of ours that others cannot read, named itself.
head -c 32 /dev/urandom >"$TMPD/pk"; chmod 0600 "$TMPD/pk"
ln -s "$TMPD/pk" "$TMPD/pk.link"
mkfifo -m 0600 "$TMPD/pk.fifo"
cp "$TMPD/pk" "$TMPD/pk.other"; chown 65534 "$TMPD/pk.other"
S=$(snap)
xr 1 "node add: key file through a symlink" node add 7 --addr 10.78.1.7 --key-file "$TMPD/pk.link"
check "... says so" grep -q "key file $TMPD/pk.link is a symlink" "$TMPD/err"
xr 1 "node add: key file of another uid" node add 7 --addr 10.78.1.7 --key-file "$TMPD/pk.other"
check "... says so" grep -q "owned by uid 65534" "$TMPD/err"
# a FIFO would block the read until someone writes: refused at once instead
timeout 10 "$XCHAN" --pin-root "$PIN" node add 7 --addr 10.78.1.7 --key-file "$TMPD/pk.fifo" 2>"$TMPD/err"; rc=$?
check "node add: key file that is a FIFO is refused, not waited on ($rc)" \
	eval '[ $rc -eq 1 ] && grep -q "pk.fifo is not a regular file" "$TMPD/err"'
timeout 10 "$XCHAN" --pin-root "$PIN" node key-install 7 --addr 10.78.1.7 --id 1 --rx-file "$TMPD/pk.fifo" \
	--tx-file "$TMPD/pk" 2>"$TMPD/err"; rc=$?
check "node key-install: --rx-file a FIFO is refused ($rc)" \
	eval '[ $rc -eq 1 ] && grep -q "not a regular file" "$TMPD/err"'
xr 1 "node key-install: --tx-file of another uid" node key-install 7 --addr 10.78.1.7 --id 1 \
	--rx-file "$TMPD/pk" --tx-file "$TMPD/pk.other"
xr 1 "node key-install: --tx-file through a symlink" node key-install 7 --addr 10.78.1.7 --id 1 \
	--rx-file "$TMPD/pk" --tx-file "$TMPD/pk.link"
unchanged "$S" && ok "maps unchanged after refused key files" || nok "maps unchanged after refused key files"
xr 0 "node add: a 0600 key file of ours" node add 7 --addr 10.78.1.7 --key-file "$TMPD/pk"
xr 0 "node del" node del 7

xr 1 "agent: --poll-ms 3600000 --lease-ttl 86400 pass their bounds, the missing policy not" \
	agent --poll-ms 3600000 --lease-ttl 86400 --policy "$TMPD/nopolicy"
check "... which is what it says" grep -q "nopolicy" "$TMPD/err"

xr 0 "partition del by name" partition del carol
check "carol's veth has no program" bash -c "! ip -d link show ${PFX}c | grep -q prog/xdp"
check "carol's entries are gone" [ "$(x -j partition list | jq length)" = 2 ]
xr 1 "partition del: unknown" partition del carol
xr 0 "down" down
check "down: no pin root" [ ! -e "$PIN" ]
check "down: no program attached" bash -c "! ip -d link show | grep -A3 '${PFX}' | grep -q prog/xdp"
xr 0 "down again is harmless" down
finish
