// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_request.c: the agent's request parser against malformed input (a table, then
 * random bytes), and the policy file parser and matcher; TAP for prove. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "xchan_req.h"
#include "xc.h"
#include "tap.h"

int tap_n, tap_failed;
bool tap_row_ok;

static struct xchan_req good(uint8_t op)
{
	struct xchan_req q = { .version = XCHAN_REQ_VERSION, .op = op, .port = 6000,
			       .peer_port = 5000, .peer = "bob" };

	if (op == XQ_CLOSE || op == XQ_STATE)
		q.dir = XQ_DIR_IN;
	if (op == XQ_LIST)
		q = (struct xchan_req){ .version = XCHAN_REQ_VERSION, .op = op };
	return q;
}

struct row {
	const char *name;
	void (*mutate)(struct xchan_req *q, size_t *len);
	uint8_t op;
	const char *want;	/* NULL: accepted; else a part of the reason */
};

static void none(struct xchan_req *q, size_t *len) {}
static void short_(struct xchan_req *q, size_t *len) { *len = 39; }
static void empty(struct xchan_req *q, size_t *len) { *len = 0; }
static void longer(struct xchan_req *q, size_t *len) { *len = 41; }
static void version(struct xchan_req *q, size_t *len) { q->version = 2; }
static void op0(struct xchan_req *q, size_t *len) { q->op = 0; }
static void op99(struct xchan_req *q, size_t *len) { q->op = 99; }
static void pad(struct xchan_req *q, size_t *len) { q->pad = 1; }
static void dir_on_ask(struct xchan_req *q, size_t *len) { q->dir = XQ_DIR_OUT; }
static void dir_bad(struct xchan_req *q, size_t *len) { q->dir = 3; }
static void port0(struct xchan_req *q, size_t *len) { q->port = 0; }
static void pport0(struct xchan_req *q, size_t *len) { q->peer_port = 0; }
static void peer_empty(struct xchan_req *q, size_t *len) { memset(q->peer, 0, sizeof(q->peer)); }
static void peer_full(struct xchan_req *q, size_t *len) { memset(q->peer, 'a', sizeof(q->peer)); }
static void peer_31(struct xchan_req *q, size_t *len) { memset(q->peer, 'a', 31); }
static void peer_hidden(struct xchan_req *q, size_t *len) { q->peer[10] = 'x'; }
static void peer_colon(struct xchan_req *q, size_t *len) { strcpy(q->peer, "bob:1"); }
static void peer_ctrl(struct xchan_req *q, size_t *len) { strcpy(q->peer, "bo\nb"); }
static void peer_high(struct xchan_req *q, size_t *len) { q->peer[1] = (char)0xc3; }
static void peer_slash(struct xchan_req *q, size_t *len) { strcpy(q->peer, "../x"); }
static void list_port(struct xchan_req *q, size_t *len) { q->port = 1; }
static void list_peer(struct xchan_req *q, size_t *len) { q->peer[0] = 'a'; }

static const struct row rows[] = {
	{ "offer accepted", none, XQ_OFFER, NULL },
	{ "ask accepted", none, XQ_ASK, NULL },
	{ "close accepted", none, XQ_CLOSE, NULL },
	{ "state accepted", none, XQ_STATE, NULL },
	{ "list accepted", none, XQ_LIST, NULL },
	{ "31-character peer accepted", peer_31, XQ_ASK, NULL },
	{ "one byte short", short_, XQ_ASK, "not 39" },
	{ "empty message", empty, XQ_ASK, "not 0" },
	{ "one byte long", longer, XQ_ASK, "not 41" },
	{ "another version", version, XQ_ASK, "version 2" },
	{ "operation 0", op0, XQ_ASK, "unknown operation" },
	{ "operation 99", op99, XQ_ASK, "unknown operation" },
	{ "padding set", pad, XQ_ASK, "padding" },
	{ "a direction on ask", dir_on_ask, XQ_ASK, "direction" },
	{ "direction 3 on close", dir_bad, XQ_CLOSE, "direction" },
	{ "port 0", port0, XQ_OFFER, "ports" },
	{ "peer port 0", pport0, XQ_OFFER, "ports" },
	{ "no peer", peer_empty, XQ_ASK, "peer" },
	{ "peer without NUL", peer_full, XQ_ASK, "peer" },
	{ "bytes hidden after the NUL", peer_hidden, XQ_ASK, "peer" },
	{ "peer with ':'", peer_colon, XQ_ASK, "peer" },
	{ "peer with a newline (log injection)", peer_ctrl, XQ_ASK, "peer" },
	{ "peer with a high byte", peer_high, XQ_ASK, "peer" },
	{ "peer with '/'", peer_slash, XQ_ASK, "peer" },
	{ "list with a port", list_port, XQ_LIST, "list takes" },
	{ "list with a peer", list_peer, XQ_LIST, "list takes" },
};

static void table(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct xchan_req q = good(rows[i].op), out;
		unsigned char buf[64] = {};
		size_t len = sizeof(q);
		struct xc_err e = {};
		int err;

		tap_begin();
		rows[i].mutate(&q, &len);
		memcpy(buf, &q, sizeof(q));
		err = xc_req_check(buf, len, &out, &e);
		if (!rows[i].want) {
			ASSERT_EQ(err, 0, e.msg);
		} else if (ASSERT_EQ(err, -EINVAL, "refused") && !strstr(e.msg, rows[i].want)) {
			printf("#   reason '%s' lacks '%s'\n", e.msg, rows[i].want);
			tap_row_ok = false;
		}
		tap_end(rows[i].name);
	}
}

/* Random bytes: whatever passes must hold only what the agent relies on. */
static void random_input(void)
{
	unsigned int accepted = 0;

	srand(13);
	tap_begin();
	for (int i = 0; i < 200000; i++) {
		unsigned char buf[48];
		size_t len = i % 3 ? sizeof(struct xchan_req) : (size_t)(rand() % sizeof(buf));
		struct xchan_req out;
		struct xc_err e = {};

		for (size_t k = 0; k < sizeof(buf); k++)
			buf[k] = rand();
		if (i % 2) {	/* mostly valid heads, so that the deeper checks are reached */
			buf[0] = XCHAN_REQ_VERSION;
			buf[1] = 1 + rand() % (XQ__MAX - 1);
			buf[2] = rand() % 3;
			buf[3] = 0;
			for (int k = 8 + rand() % 8; k < 40; k++)
				buf[k] = 0;
		}
		if (xc_req_check(buf, len, &out, &e))
			continue;
		accepted++;
		if (!ASSERT_TRUE(memchr(out.peer, 0, sizeof(out.peer)), "accepted peer is terminated") ||
		    !ASSERT_TRUE(strspn(out.peer, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
				 strlen(out.peer), "accepted peer has only name characters"))
			break;
	}
	printf("# %u of 200000 random requests accepted\n", accepted);
	tap_end("random requests: anything accepted is well-formed");
}

static int load_text(const char *text, struct xc_policy **p, struct xc_err *e)
{
	char path[] = "/tmp/xchan-policy.XXXXXX";
	int fd = mkstemp(path), err;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -EIO;
	close(fd);
	err = xc_policy_load(path, p, e);
	unlink(path);
	return err;
}

static const struct {
	const char *text, *want;
} bad_policies[] = {
	{ "deny bob send alice\n", "unknown rule" },
	{ "allow bob talk alice\n", "neither send nor receive" },
	{ "allow bob send\n", "expected" },
	{ "allow bob send alice:0\n", "PEER:PORTS" },
	{ "allow bob send alice:70000\n", "PEER:PORTS" },
	{ "allow bob send alice:9-3\n", "PEER:PORTS" },
	{ "allow bob send alice:1-2-3\n", "PEER:PORTS" },
	{ "allow bob send alice local\n", "expected" },
	{ "allow bob send alice remote 5\n", "local PORTS" },
	{ "allow bob send alice local x\n", "local PORTS" },
	{ "allow aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa send alice\n", "partition name" },
	{ "# ok\nallow bob send alice\nallow bob send alice a b c\n", ":3: too many words" },
};

static void policy_parse(void)
{
	for (size_t i = 0; i < sizeof(bad_policies) / sizeof(bad_policies[0]); i++) {
		struct xc_policy *p = NULL;
		struct xc_err e = {};
		char name[96];

		tap_begin();
		if (ASSERT_EQ(load_text(bad_policies[i].text, &p, &e), -EINVAL, "refused") &&
		    !strstr(e.msg, bad_policies[i].want)) {
			printf("#   reason '%s' lacks '%s'\n", e.msg, bad_policies[i].want);
			tap_row_ok = false;
		}
		xc_policy_free(p);
		snprintf(name, sizeof(name), "policy refused: %.*s", (int)strcspn(bad_policies[i].text, "\n"),
			 bad_policies[i].text);
		tap_end(name);
	}
}

static void policy_match(void)
{
	static const char text[] =
		"# receivers say whom they take from; senders whom they reach\n"
		"allow alice receive bob:5000-5999 local 6000\n"
		"allow bob   send    alice:6000    # trailing comment\n"
		"allow 7 send * local 100-200\n";
	struct xc_pol_query q = { .me = 1, .peer = 2, .me_name = "alice", .peer_name = "bob",
				  .dir = XCHAN_DIR_IN, .port = 6000, .peer_port = 5000 };
	struct xc_policy *p = NULL;
	struct xc_err e = {};

	tap_begin();
	if (ASSERT_EQ(load_text(text, &p, &e), 0, e.msg)) {
		ASSERT_EQ(xc_policy_rules(p), 3, "rules");
		ASSERT_EQ(xc_policy_allows(p, &q), 2, "alice receives from bob:5000 on 6000: line 2");
		q.port = 6001;
		ASSERT_EQ(xc_policy_allows(p, &q), 0, "not on 6001");
		q = (struct xc_pol_query){ 2, 1, "bob", "alice", XCHAN_DIR_OUT, 4242, 6000 };
		ASSERT_EQ(xc_policy_allows(p, &q), 3, "bob sends to alice:6000 from any port");
		q.peer_port = 6001;
		ASSERT_EQ(xc_policy_allows(p, &q), 0, "not to alice:6001");
		q = (struct xc_pol_query){ 7, 9, "", "x", XCHAN_DIR_OUT, 150, 1 };
		ASSERT_EQ(xc_policy_allows(p, &q), 4, "id 7 to anyone from 100-200");
		q.dir = XCHAN_DIR_IN;
		ASSERT_EQ(xc_policy_allows(p, &q), 0, "but not receiving");
	}
	xc_policy_free(p);
	tap_end("policy: rules match by name, id, wildcard, direction and port ranges");
}

int main(void)
{
	table();
	random_input();
	policy_parse();
	policy_match();
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
