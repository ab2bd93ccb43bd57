#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# cli_asan.t: the CLI tests again, against the agent built with ASan and UBSan
# (`make asan`): any leak, overflow or undefined behaviour fails a command.
export XCHAN="$(cd "$(dirname "$0")/.." && pwd)/build/asan/xchan"
export ASAN_OPTIONS=detect_leaks=1:exitcode=86
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
exec bash "$(dirname "$0")/cli.t"
