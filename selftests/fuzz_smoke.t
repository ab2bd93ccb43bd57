#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# fuzz_smoke.t: the CMM fuzzer (libFuzzer, ASan, UBSan, contract oracle) for a few
# seconds from the committed seeds; `make fuzz` runs it for long.
BUILD="$(cd "$(dirname "$0")/.." && pwd)/build"
CORPUS=$(mktemp -d)
trap 'rm -rf "$CORPUS"' EXIT
SEEDS="$(cd "$(dirname "$0")" && pwd)/fuzz/corpus"
cd "$CORPUS" || exit 1
"$BUILD/fuzz_cmm" -max_total_time="${FUZZ_SMOKE_SECS:-15}" -print_final_stats=1 \
	"$CORPUS" "$SEEDS" >"$CORPUS/log" 2>&1
rc=$?
echo "# $(grep -E '^fuzz_cmm:' "$CORPUS/log")"
echo "# $(grep -E 'DONE' "$CORPUS/log")"
if [ $rc -eq 0 ] && ! grep -q ORACLE "$CORPUS/log"; then
	echo "ok 1 - fuzzing the CMM against the contract oracle found nothing"
else
	grep -E 'ORACLE|runtime error|ERROR' "$CORPUS/log" | head -5 | sed 's/^/# /'
	echo "not ok 1 - fuzzing the CMM against the contract oracle"
fi
inputs=$(grep -oE '^fuzz_cmm: [0-9]+' "$CORPUS/log" | awk '{print $2}')
if [ "${inputs:-0}" -gt 1000 ]; then echo "ok 2 - ran $inputs inputs"; else echo "not ok 2 - ran ${inputs:-0} inputs"; fi
redir=$(grep -oE '[0-9]+ redirected' "$CORPUS/log" | awk '{print $1}')
if [ "${redir:-0}" -gt 0 ]; then echo "ok 3 - the seeds reach the allowed path ($redir redirects)"; else echo "not ok 3 - no input reached the allowed path"; fi
echo "1..3"
