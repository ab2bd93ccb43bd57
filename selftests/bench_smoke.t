#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bench_smoke.t: the whole bench harness for a few seconds with tiny counts, so
# that `make bench` cannot rot between real runs.
SMOKE=1 exec bash "$(dirname "$0")/../bench/run.sh"
