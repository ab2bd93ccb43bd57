# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# cluster.sh: a real etcd for the cluster tests, never the system's: started inside a
# network namespace the test made (inside its throwaway host netns), with its own data
# directory under $TMPD, stopped by the test or reaped with the namespace. Needs lib.sh.
#
#   ns_add "${PFX}etcd"; etcd_start "${PFX}etcd" 127.0.0.1      # on the netns's loopback
#   ETCD_URL is then http://ADDR:2379; etcd_stop; etcd_restart (same data, same address)

ETCD_BIN=${ETCD_BIN:-etcd}
ETCDCTL_BIN=${ETCDCTL_BIN:-etcdctl}

# etcdctl NS ARGS...: the v3 client against the running etcd, from its netns.
etcd_ctl() { nsenter --net="/run/netns/$ETCD_NS" env ETCDCTL_API=3 "$ETCDCTL_BIN" \
	--endpoints="$ETCD_URL" --dial-timeout=2s --command-timeout=3s "$@"; }

# etcd_ready: the v3 gateway answers a range request.
etcd_ready() {
	nsenter --net="/run/netns/$ETCD_NS" curl -s -m 1 -o /dev/null -w '%{http_code}' \
		-X POST -d '{"key":"AA=="}' "$ETCD_URL/v3/kv/range" 2>/dev/null | grep -q 200
}

# etcd_free_port NS ADDR: a TCP port nothing listens on in NS, for etcd's peer URL.
etcd_free_port() {
	nsenter --net="/run/netns/$1" python3 -c '
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$2"
}

# etcd_start NS ADDR [NAME]: etcd in netns NS (made by the test) on ADDR:2379, its data
# in $TMPD/etcd-NAME. Waits until it answers (10 s), else returns 1 with its log.
etcd_start() {
	ETCD_NS=$1 ETCD_ADDR=$2 ETCD_NAME=${3:-xc${RUN_ID}}
	ETCD_URL="http://$ETCD_ADDR:2379"
	ETCD_DATA="$TMPD/etcd-$ETCD_NAME"
	ETCD_PEER_PORT=$(etcd_free_port "$ETCD_NS" "$ETCD_ADDR") || return 1
	export ETCD_URL
	_etcd_run
}

_etcd_run() {
	local peer="http://$ETCD_ADDR:$ETCD_PEER_PORT"
	mkdir -p "$ETCD_DATA" && chmod 700 "$ETCD_DATA"
	# unset: a system etcd's settings in the environment must not leak in
	nsenter --net="/run/netns/$ETCD_NS" env -u ETCD_DATA_DIR -u ETCD_NAME \
		"$ETCD_BIN" --name "$ETCD_NAME" --data-dir "$ETCD_DATA" \
		--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
		--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
		--initial-cluster "$ETCD_NAME=$peer" --initial-cluster-state new \
		--logger zap --log-outputs stderr --log-level error \
		>"$TMPD/etcd-$ETCD_NAME.log" 2>&1 </dev/null &
	ETCD_PID=$!
	if ! eventually 10 etcd_ready; then
		diag "etcd did not answer at $ETCD_URL:"; sed 's/^/# /' "$TMPD/etcd-$ETCD_NAME.log"
		return 1
	fi
}

# etcd_stop: kills etcd (SIGKILL: as a crash would) and waits for it.
etcd_stop() {
	[ -n "$ETCD_PID" ] || return 0
	kill -KILL "$ETCD_PID" 2>/dev/null
	wait "$ETCD_PID" 2>/dev/null
	ETCD_PID=
}

# etcd_restart: the same etcd again, with its data.
etcd_restart() { etcd_stop; _etcd_run; }
