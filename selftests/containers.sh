# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# containers.sh: podman containers for tests and the demo, from a rootfs made of
# Debian's busybox-static and the project's static ctr_tool (no image registry).
# Needs lib.sh first (PFX, TMPD, cleanup).

CTR_TOOL=${CTR_TOOL:-$(dirname "$XCHAN")/ctr_tool}
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)
CTRS=()

ctr_rootfs() {
	# its own directory, traversable by the mapped-away root of user-namespaced containers
	ROOTFS=$(mktemp -d /tmp/xchan-rootfs.XXXXXX) && chmod 0755 "$ROOTFS" || return 1
	reap_add dir "$ROOTFS"	# gone even if the suite is killed from outside
	mkdir -p "$ROOTFS"/{bin,etc,tmp,proc,sys,dev,run}
	cp /bin/busybox "$ROOTFS/bin/busybox" || return 1
	for c in sh ip sleep cat ls ps; do ln -sf busybox "$ROOTFS/bin/$c"; done
	cp "$CTR_TOOL" "$ROOTFS/bin/ctr_tool" || return 1
	echo "root:x:0:0:root:/:/bin/sh" > "$ROOTFS/etc/passwd"
	chmod -R a+rX "$ROOTFS"
}

# ctr_run NAME [podman run options...]: a container that sleeps until removed.
ctr_run() {
	local name="${PFX}$1"; shift
	CTRS+=("$name")
	reap_add ctr "$name"
	"${PODMAN[@]}" run -d --name "$name" --ulimit nofile=20000:20000 --ulimit nproc=4000:4000 \
		"$@" --rootfs "$ROOTFS" /bin/sleep 3600 >/dev/null
}
ctr_exec() { local name="${PFX}$1"; shift; "${PODMAN[@]}" exec "$name" "$@"; }
ctr_ip() { podman inspect --format '{{.NetworkSettings.IPAddress}}' "${PFX}$1"; }
ctr_rm() { "${PODMAN[@]}" rm -f -t 0 "${PFX}$1" >/dev/null 2>&1; }
ctr_cleanup() {
	for c in "${CTRS[@]}"; do "${PODMAN[@]}" rm -f -t 0 "$c" >/dev/null 2>&1; done
	[ -n "$ROOTFS" ] && rm -rf "$ROOTFS"
}
# podman works here: runc present and a container really starts
podman_works() {
	command -v podman >/dev/null && command -v runc >/dev/null || return 1
	ctr_rootfs || return 1
	ctr_run probe$$ && ctr_rm probe$$
}
# ctr_pid NAME: the container's init pid on the host
ctr_pid() { podman inspect --format '{{.State.Pid}}' "${PFX}$1"; }
# ctr_netns_attach NAME: the container's netns also as the named netns ${PFX}NAME, so
# that `ip netns exec` runs host tools in it (with its /sys); it goes with the run's
# netns (the container keeps its own)
ctr_netns_attach() {
	local pid
	pid=$(ctr_pid "$1") && [ "${pid:-0}" != 0 ] && ip netns attach "${PFX}$1" "$pid" || return 1
	NSES+=("${PFX}$1")
	reap_add netns "${PFX}$1"
}
# ctr_netns_detach NAME: the name gone (the netns lives on with its container), so
# that a container removed later really takes its netns and veth with it
ctr_netns_detach() { ip netns del "${PFX}$1" 2>/dev/null; }
