# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Makefile: BPF objects -> bpftool gen object -> skeletons -> build/xchan; tests,
# demo and bench drive what this builds. `make V=1` prints full commands.

CLANG	?= clang
BPFTOOL	?= bpftool
CC	?= gcc
OUT	?= build
PREFIX	?= /usr/local

ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/;s/ppc64le/powerpc/;s/mips.*/mips/;s/riscv64/riscv/')
# Where the system keeps asm/ and friends, asked of clang itself (libbpf-bootstrap).
CLANG_BPF_SYS_INCLUDES = $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

# -mcpu=v3: 32-bit subregisters and jumps (kernel 5.1+). NH tags (include/nh.h) add
# 32-bit halves, which the default instruction set zero-extends with two shifts each:
# 523 against 307 ns over 1400 bytes; SipHash and the rest measured the same.
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf
CFLAGS	?= -g -O2
CFLAGS	+= -Wall -Wextra -Wno-unused-parameter -Werror -Iinclude -Iuser/lib -I$(OUT) -D_GNU_SOURCE $(EXTRA_CFLAGS)
# libcurl, json-c and libsodium: the cluster store's client and the node keys.
LDLIBS	:= -lxdp -lbpf -lelf -lz -ljson-c -lsodium

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_APPS  := xchan floor bench macs
BPF_HDRS  := $(wildcard bpf/*.h include/*.h)
USER_HDRS := $(wildcard user/lib/*.h user/cli/*.h user/agent/*.h include/xchan_req.h)
# The agent's library (never prints): what the CLI, the tests and a daemon link.
LIB_SRCS  := $(wildcard user/lib/*.c)
LIB_OBJS  := $(patsubst user/%.c,$(OUT)/user/%.o,$(LIB_SRCS))
AGENT_LIB := $(OUT)/libxchan-agent.a
CLI_SRCS  := $(wildcard user/cli/*.c)
CLI_OBJS  := $(patsubst user/%.c,$(OUT)/user/%.o,$(CLI_SRCS))
# The daemon (`xchan agent`): linked into the xchan command.
AGENTD_OBJS := $(patsubst user/%.c,$(OUT)/user/%.o,$(wildcard user/agent/*.c))
# The test packet builder: for the tests and the bench, not the agent.
PKT_OBJ   := $(OUT)/selftests/pkt.o
SKELS     := $(patsubst %,$(OUT)/%.skel.h,$(BPF_APPS))
# For processes in partitions (static: copied into containers) and for podman's CNI.
CLIENT_BINS := $(OUT)/libxchan.a $(OUT)/xchan-client $(OUT)/xchan-cni
TEST_BINS := $(OUT)/test_request $(OUT)/test_verdicts $(OUT)/ctr_tool $(OUT)/xchan-bench $(OUT)/xchan-bench-testrun \
	     $(OUT)/xchan-bench-req $(OUT)/xchan-bench-swap \
	     $(OUT)/fuzz_cmm $(OUT)/siphash_vectors $(OUT)/node_churn $(OUT)/test_etcd $(OUT)/test_nodekey

.PHONY: all clean deps check demo bench scale install verify-clang19 bpffs fuzz asan
.DELETE_ON_ERROR:
.SECONDARY:

all: $(OUT)/xchan $(CLIENT_BINS) $(TEST_BINS)

$(OUT) $(OUT)/user $(OUT)/user/lib $(OUT)/user/cli $(OUT)/user/agent $(OUT)/selftests:
	$(Q)mkdir -p $@

$(OUT)/%.tmp.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(CLANG_BPF_SYS_INCLUDES) -c $< -o $@

# The CMM with SipHash-1-3 tags (include/siphash.h), which the bench swaps in on both
# nodes once channels are established, to measure it on the live path.
$(OUT)/xchan_sip13.tmp.bpf.o: bpf/xchan.bpf.c $(BPF_HDRS) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DXCHAN_SIP_C=1 -DXCHAN_SIP_D=3 $(CLANG_BPF_SYS_INCLUDES) -c $< -o $@

$(OUT)/%.bpf.o: $(OUT)/%.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(OUT)/user/%.o: user/%.c $(USER_HDRS) include/xchan.h $(SKELS) | $(OUT)/user $(OUT)/user/lib $(OUT)/user/cli $(OUT)/user/agent
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(AGENT_LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/xchan: $(CLI_OBJS) $(AGENTD_OBJS) $(AGENT_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/selftests/%.o: selftests/%.c $(wildcard selftests/*.h) $(USER_HDRS) include/xchan.h $(SKELS) | $(OUT)/selftests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iselftests -c $< -o $@

# The verdict tests: main, one file per area (verdicts_*.c), the runner, the fixture.
VERDICT_OBJS := $(patsubst selftests/%.c,$(OUT)/selftests/%.o,$(wildcard selftests/verdicts_*.c))
FIXTURE_OBJS := $(OUT)/selftests/fixture.o $(PKT_OBJ)

$(OUT)/test_verdicts: $(OUT)/selftests/test_verdicts.o $(VERDICT_OBJS) $(FIXTURE_OBJS) $(AGENT_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -lpthread -o $@

$(OUT)/bench/%.o: bench/%.c bench/testrun.h $(USER_HDRS) $(wildcard selftests/*.h) include/xchan.h $(SKELS) | $(OUT)
	$(Q)mkdir -p $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iselftests -c $< -o $@

$(OUT)/xchan-bench: $(OUT)/bench/bench.o $(PKT_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -lpthread -o $@

# a variant of the CMM on a running instance's maps (here: SipHash-1-3 tags)
$(OUT)/xchan-bench-swap: $(OUT)/bench/swap.o $(OUT)/xchan_sip13.bpf.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LDLIBS) -o $@

# ns/packet through BPF_PROG_TEST_RUN, on the verdict tests' fixture.
$(OUT)/xchan-bench-testrun: $(OUT)/bench/testrun.o $(OUT)/bench/stages.o $(FIXTURE_OBJS) $(AGENT_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# channel open through the agent's request sockets, with no process start per open
$(OUT)/xchan-bench-req: bench/reqlat.c client/libxchan.h include/xchan_req.h $(OUT)/libxchan.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CLIENT_CFLAGS) $< $(OUT)/libxchan.a -o $@

$(OUT)/siphash_vectors: $(OUT)/selftests/siphash_vectors.o $(AGENT_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Channel churn between two simulated nodes, through the library (nodes_fail.t).
$(OUT)/node_churn: $(OUT)/selftests/node_churn.o $(AGENT_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Runs inside test containers, whose rootfs has nothing else: static.
$(OUT)/ctr_tool: selftests/ctr_tool.c include/xchan.h | $(OUT)
	$(call msg,CC-STATIC,$@)
	$(Q)$(CC) -static -O2 -Wall -Werror -Iinclude $< -o $@

# libxchan and xchan-client need nothing but libc: the request protocol's header.
CLIENT_CFLAGS := -O2 -Wall -Wextra -Werror -Iinclude -Iclient -D_GNU_SOURCE
$(OUT)/client/libxchan.o: client/libxchan.c client/libxchan.h include/xchan_req.h | $(OUT)
	$(Q)mkdir -p $(OUT)/client
	$(call msg,CC,$@)
	$(Q)$(CC) $(CLIENT_CFLAGS) -c $< -o $@

$(OUT)/libxchan.a: $(OUT)/client/libxchan.o
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/xchan-client: client/xchan-client.c $(OUT)/libxchan.a
	$(call msg,CC-STATIC,$@)
	$(Q)$(CC) -static $(CLIENT_CFLAGS) $^ -o $@

CNI_OBJS := $(patsubst cni/%.c,$(OUT)/cni/%.o,$(wildcard cni/*.c))
$(OUT)/cni/%.o: cni/%.c cni/cni.h $(USER_HDRS) include/xchan.h $(SKELS) | $(OUT)
	$(Q)mkdir -p $(OUT)/cni
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/xchan-cni: $(CNI_OBJS) $(AGENT_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -ljson-c -o $@

# The etcd client against a real etcd (etcd.t) and a fake one that answers what no
# etcd sends; node keys and store records.
$(OUT)/test_etcd: $(OUT)/selftests/test_etcd.o $(OUT)/selftests/test_etcd_nodes.o \
		  $(OUT)/selftests/test_etcd_malformed.o $(AGENT_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -lpthread -o $@

$(OUT)/test_nodekey: $(OUT)/selftests/test_nodekey.o $(AGENT_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# The request parser against malformed input, and the policy parser.
$(OUT)/test_request: $(OUT)/selftests/test_request.o $(AGENT_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# The fuzzer: clang's libFuzzer with ASan and UBSan, on the CMM through test_run.
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	       -Iinclude -Iuser/lib -Iselftests -I$(OUT) -D_GNU_SOURCE
FUZZ_SRCS := selftests/fuzz_cmm.c selftests/fixture.c selftests/pkt.c $(LIB_SRCS)
$(OUT)/fuzz_cmm: $(FUZZ_SRCS) $(wildcard selftests/*.h) $(USER_HDRS) include/xchan.h $(SKELS)
	$(call msg,FUZZ,$@)
	$(Q)clang $(FUZZ_CFLAGS) $(FUZZ_SRCS) $(LDLIBS) -o $@

FUZZ_TIME ?= 600
fuzz: deps bpffs $(OUT)/fuzz_cmm
	$(Q)mkdir -p $(OUT)/fuzz-corpus
	$(Q)$(OUT)/fuzz_cmm -max_total_time=$(FUZZ_TIME) -print_final_stats=1 $(OUT)/fuzz-corpus selftests/fuzz/corpus

# Installs what building and testing need, when run as root on Debian.
DEB_PKGS := clang llvm libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev \
	    pkg-config iproute2 ethtool jq perl gcc make python3 libc6-dev \
	    podman runc busybox-static nftables netsniff-ng gnuplot-nox bc tcpdump openssl \
	    libclang-rt-14-dev valgrind faketime libmicrohttpd-dev libjson-c-dev curl \
	    containernetworking-plugins etcd-server etcd-client libsodium-dev libcurl4-openssl-dev gdb
# etcd-server's package starts a system etcd on a host with systemd; the tests start
# their own, so its start is suppressed by a policy-rc.d of ours (only when there is
# none already, and removed after).
deps:
	$(Q)if [ "$$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then \
		missing=$$(for p in $(DEB_PKGS) $(EXTRA_PKGS); do \
			dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
		if [ -n "$$missing" ]; then \
			echo "  DEPS     installing:" $$missing; \
			prc=; if [ ! -e /usr/sbin/policy-rc.d ]; then prc=/usr/sbin/policy-rc.d; \
				printf '#!/bin/sh\nexit 101\n' > $$prc && chmod 0755 $$prc; fi; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
			rc=$$?; [ -z "$$prc" ] || rm -f $$prc; [ $$rc = 0 ] || exit 1; \
		fi; \
	fi

bpffs:
	$(Q)mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# Every test, TAP through prove: verdict tables, then the real agent on real netns.
# The builds use every CPU (a clean clone builds three times: gcc/clang, clang-19,
# ASan); the suites run one at a time, each timed (--timer), as their timings assume.
NPROC := $(shell nproc 2>/dev/null || echo 1)
check: deps bpffs
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) all
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) verify-clang19
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) asan
	$(Q)prove -v --timer -e '' $(OUT)/test_verdicts $(OUT)/test_request $(OUT)/test_nodekey selftests/*.t

# The agent under ASan and UBSan (leaks included), driven by the CLI tests.
asan:
	$(Q)$(MAKE) --no-print-directory OUT=$(OUT)/asan \
		EXTRA_CFLAGS="-O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
		$(OUT)/asan/xchan

# The verifier must accept the objects of another compiler too.
verify-clang19:
	$(Q)$(MAKE) --no-print-directory EXTRA_PKGS=clang-19 deps
	$(Q)$(MAKE) --no-print-directory CLANG=clang-19 OUT=$(OUT)/clang19 $(OUT)/clang19/test_verdicts
	$(Q)$(OUT)/clang19/test_verdicts

demo: deps bpffs all
	$(Q)$(OUT)/xchan demo

bench: deps bpffs all
	$(Q)bash bench/run.sh

# Join and reconcile time of 3, 10 and 50 simulated nodes through a real etcd; writes
# docs/CLUSTER-SCALE.md. Not part of check: it takes minutes.
SCALE_NODES ?= 3 10 50
scale: deps bpffs all
	$(Q)bash selftests/cluster_scale.sh $(SCALE_NODES)

# Where podman's CNI backend looks for plugins on Debian; where a local admin's units go.
CNI_BIN_DIR ?= /usr/lib/cni
SYSTEMD_UNIT_DIR ?= /etc/systemd/system
install: $(OUT)/xchan $(OUT)/ctr_tool $(CLIENT_BINS)
	install -D -m 0755 $(OUT)/xchan $(DESTDIR)$(PREFIX)/sbin/xchan
	install -D -m 0755 scripts/demo.sh $(DESTDIR)$(PREFIX)/share/xchan/scripts/demo.sh
	install -D -m 0644 selftests/lib.sh $(DESTDIR)$(PREFIX)/share/xchan/selftests/lib.sh
	install -D -m 0644 selftests/containers.sh $(DESTDIR)$(PREFIX)/share/xchan/selftests/containers.sh
	install -D -m 0755 selftests/rx_probe.py $(DESTDIR)$(PREFIX)/share/xchan/selftests/rx_probe.py
	install -D -m 0755 $(OUT)/ctr_tool $(DESTDIR)$(PREFIX)/share/xchan/ctr_tool
	install -D -m 0755 $(OUT)/xchan-client $(DESTDIR)$(PREFIX)/bin/xchan-client
	install -D -m 0644 client/libxchan.h $(DESTDIR)$(PREFIX)/include/libxchan.h
	install -D -m 0644 include/xchan_req.h $(DESTDIR)$(PREFIX)/include/xchan_req.h
	install -D -m 0644 $(OUT)/libxchan.a $(DESTDIR)$(PREFIX)/lib/libxchan.a
	install -D -m 0755 $(OUT)/xchan-cni $(DESTDIR)$(CNI_BIN_DIR)/xchan-cni
	install -D -m 0644 cni/xchan.conflist.example $(DESTDIR)$(PREFIX)/share/xchan/cni/xchan.conflist.example
	install -D -m 0644 cni/policy.example $(DESTDIR)$(PREFIX)/share/xchan/policy.example
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/xchan/README.md
	install -d -m 0755 $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	sed -e 's|@SBIN@|$(PREFIX)/sbin|g' -e 's|@DOC@|$(PREFIX)/share/doc/xchan|g' \
		scripts/xchan-agent.service > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/xchan-agent.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/xchan-agent.service

clean:
	rm -rf $(OUT)
