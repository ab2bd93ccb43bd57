#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# apply_race.t: apply resolves a partition name once for the statements that repeat
# it; another process (the CNI plugin on container churn, the cluster agent) may
# meanwhile remove that partition and give its id to a new one. apply must then
# refuse the name, not open a keyed channel to the newcomer. The window is made
# deterministic: gdb stops apply after its first channel, and the partition changes.
. "$(dirname "$0")/lib.sh"

# gdb must be able to run and trace a program here (make check installs it)
if ! timeout 30 gdb -q -batch -ex run --args /bin/true >/dev/null 2>&1; then
	echo "1..0 # SKIP gdb cannot trace a program here"
	exit 0
fi

make_part a 10.79.0.1 && make_part b 10.79.0.2 && make_part c 10.79.0.3 || { echo "Bail out! topology"; exit 1; }
quiet x partition add 1 --name web --netns "${PFX}a" && quiet x partition add 2 --name db --netns "${PFX}b"
check "two partitions, web and db" [ $? -eq 0 ]
printf 'channel web:80 db:5432\nchannel web:81 db:5433\n' >"$TMPD/conf"
cat >"$TMPD/gdb" <<G
set pagination off
set debuginfod enabled off
set breakpoint pending on
break xc_chan_open
run
finish
shell "$XCHAN" --pin-root "$PIN" partition del db >/dev/null
shell "$XCHAN" --pin-root "$PIN" partition add 2 --name evil --netns "${PFX}c" >/dev/null
delete
continue
G
timeout 120 gdb -q -batch -x "$TMPD/gdb" --args "$XCHAN" --pin-root "$PIN" apply "$TMPD/conf" >"$TMPD/gdb.out" 2>&1
check "meanwhile db was removed and its id 2 given to evil" \
	[ "$(x -j partition list | jq -r '.[] | select(.id==2) | .name')" = evil ]
check "apply refused the second statement: 'db' is gone" grep -q "conf:2: no partition 'db'" "$TMPD/gdb.out"
check "... and opened nothing to evil (the first channel undone too)" [ "$(x -j channel list | jq length)" -eq 0 ]
quiet x down
finish
