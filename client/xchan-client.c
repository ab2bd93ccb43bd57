// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xchan-client.c: the `xchan-client` command, built static so that it can be copied
 * into any container: libxchan's requests from the shell. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "libxchan.h"

enum { EXIT_OK, EXIT_FAIL, EXIT_USAGE };

static const char usage[] =
	"usage: xchan-client [--socket NAME] [--timeout MS] COMMAND\n"
	"  offer PORT PEER:PORT       receive on my PORT from PEER:PORT (\"accept\")\n"
	"  ask PORT PEER:PORT         send from my PORT to PEER:PORT (\"open\")\n"
	"  close in|out PORT PEER:PORT\n"
	"  list\n"
	"  raw HEX                    send these bytes as one request (tests)\n"
	"--timeout: how long offer/ask wait for the other side (default 5000, 0: not at all)\n"
	"exit status: 0 done (or waiting, with --timeout 0), 1 refused, failed or timed out, 2 usage\n";

static int port_of(const char *s, uint16_t *p)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || !v || v > 65535 || *s == '-' || *s == '+')
		return -1;
	*p = v;
	return 0;
}

/* "PEER:PORT" into peer (a buffer of XCHAN_REQ_PEER_LEN) and *port. */
static int ep_of(const char *s, char *peer, uint16_t *port)
{
	const char *colon = strrchr(s, ':');

	if (!colon || colon == s || colon - s >= XCHAN_REQ_PEER_LEN || port_of(colon + 1, port))
		return -1;
	memcpy(peer, s, colon - s);
	peer[colon - s] = '\0';
	return 0;
}

static int hex_of(const char *s, unsigned char *buf, size_t max, size_t *n)
{
	size_t len = strlen(s);

	if (len % 2 || len / 2 > max)
		return -1;
	for (*n = 0; *n < len / 2; (*n)++) {
		unsigned int b;

		if (sscanf(s + 2 * *n, "%2x", &b) != 1)
			return -1;
		buf[*n] = b;
	}
	return 0;
}

static int do_list(struct xchan_client *c, char *msg, size_t len)
{
	struct xchan_resp_chan ch[XCHAN_RESP_MAX_CHANS];
	size_t n;
	int err = xchan_list(c, ch, XCHAN_RESP_MAX_CHANS, &n, msg, len);

	for (size_t i = 0; !err && i < n; i++)
		printf("%s %u %s %s:%u %s packets=%llu bytes=%llu drops=%llu\n",
		       ch[i].dir == XQ_DIR_IN ? "in" : "out", ch[i].port,
		       ch[i].dir == XQ_DIR_IN ? "<-" : "->", ch[i].peer, ch[i].peer_port,
		       ch[i].established ? "established" : "waiting",
		       (unsigned long long)ch[i].packets, (unsigned long long)ch[i].bytes,
		       (unsigned long long)ch[i].drops);
	return err;
}

/* argv: the command and its words. */
static int run(struct xchan_client *c, int argc, char **argv, int timeout, char *msg, size_t len)
{
	char peer[XCHAN_REQ_PEER_LEN];
	unsigned char raw[512];
	uint16_t port, pport;
	size_t n;
	int k = !strcmp(argv[0], "close");

	if (!strcmp(argv[0], "list") && argc == 1)
		return do_list(c, msg, len);
	if (!strcmp(argv[0], "raw") && argc == 2 && !hex_of(argv[1], raw, sizeof(raw), &n))
		return xchan_raw(c, raw, n, msg, len) > XS_PENDING ? -EACCES : 0;
	if (argc != 3 + k || port_of(argv[1 + k], &port) || ep_of(argv[2 + k], peer, &pport) ||
	    (k && strcmp(argv[1], "in") && strcmp(argv[1], "out")))
		return -EINVAL;
	if (!strcmp(argv[0], "offer"))
		return xchan_offer(c, port, peer, pport, timeout, msg, len);
	if (!strcmp(argv[0], "ask"))
		return xchan_ask(c, port, peer, pport, timeout, msg, len);
	if (k)
		return xchan_close(c, strcmp(argv[1], "in") ? XQ_DIR_OUT : XQ_DIR_IN, port, peer,
				   pport, msg, len);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct xchan_client *c = NULL;
	const char *sock = NULL;
	char msg[XCHAN_RESP_MSG_LEN] = "";
	int i = 1, timeout = 5000, err;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--socket"))
			sock = argv[i + 1];
		else if (!strcmp(argv[i], "--timeout") && atoi(argv[i + 1]) >= 0)
			timeout = atoi(argv[i + 1]);
		else
			break;
	}
	if (i >= argc || argv[i][0] == '-') {
		fputs(usage, i < argc && !strcmp(argv[i], "-h") ? stdout : stderr);
		return i < argc && !strcmp(argv[i], "-h") ? EXIT_OK : EXIT_USAGE;
	}
	err = xchan_connect(&c, sock, msg, sizeof(msg));
	if (!err)
		err = run(c, argc - i, argv + i, timeout, msg, sizeof(msg));
	xchan_disconnect(c);
	if (err == -EINVAL && !msg[0]) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (err < 0) {
		fprintf(stderr, "xchan-client: %s\n", msg[0] ? msg : strerror(-err));
		return EXIT_FAIL;
	}
	if (msg[0])
		puts(msg);
	return EXIT_OK;
}
