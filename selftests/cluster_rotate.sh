# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# cluster_rotate.sh: part of cluster.t: node-key and channel-key rotation under
# continuous traffic. Needs the two-slot keys (branch keys): skipped without them.
if ! xn 1 channel rekey -h >/dev/null 2>&1; then
	ok "# SKIP key rotation: this build has no channel rekey"
	return 0
fi
