// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* policy.c: the request policy file: which partitions may authorize which side of a
 * channel with which peers and ports; parsed whole or refused, matched per request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xc.h"

#define POLICY_MAX_RULES	4096	/* a bound on what a file can make the agent hold */
#define POLICY_MAX_LINE		256

struct range {
	uint16_t lo, hi;
};

struct rule {
	char who[XCHAN_NAME_LEN], peer[XCHAN_NAME_LEN];	/* a name, a decimal id or "*" */
	uint8_t dir;			/* XCHAN_DIR_OUT: send; XCHAN_DIR_IN: receive */
	struct range peer_ports, local_ports;
	unsigned int line;
};

struct xc_policy {
	struct rule *r;
	size_t n;
};

/* "*", "N" or "N-M", ports 1-65535. */
static int parse_range(const char *s, struct range *r)
{
	uint32_t lo, hi;
	char buf[16];
	char *dash;

	if (!strcmp(s, "*")) {
		*r = (struct range){ 1, 65535 };
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (xc_parse_u32(buf, &lo) || (dash ? xc_parse_u32(dash + 1, &hi) : (hi = lo, 0)))
		return -EINVAL;
	if (!lo || lo > hi || hi > 65535)
		return -EINVAL;
	*r = (struct range){ lo, hi };
	return 0;
}

static int parse_part(const char *s, char *out)
{
	if (!*s || strlen(s) >= XCHAN_NAME_LEN || strchr(s, ':'))
		return -EINVAL;
	strcpy(out, s);
	return 0;
}

/* allow WHO send|receive PEER[:PORTS] [local PORTS] */
static int parse_rule(char *line, struct rule *r, struct xc_err *e, const char *path,
		      unsigned int ln)
{
	char *w[6], *save = NULL, *colon;
	int n = 0;

	for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		if (n < 6)
			w[n++] = t;
		else
			return xc_bad(e, "policy %s:%u: too many words", path, ln);
	if (n != 4 && n != 6)
		return xc_bad(e, "policy %s:%u: expected 'allow WHO send|receive PEER[:PORTS] [local PORTS]'",
			      path, ln);
	if (strcmp(w[0], "allow"))
		return xc_bad(e, "policy %s:%u: unknown rule '%s' (only 'allow'; what no rule allows is refused)",
			      path, ln, w[0]);
	if (!strcmp(w[2], "send"))
		r->dir = XCHAN_DIR_OUT;
	else if (!strcmp(w[2], "receive"))
		r->dir = XCHAN_DIR_IN;
	else
		return xc_bad(e, "policy %s:%u: '%s' is neither send nor receive", path, ln, w[2]);
	if (parse_part(w[1], r->who))
		return xc_bad(e, "policy %s:%u: '%s' is not a partition name, id or *", path, ln, w[1]);
	colon = strchr(w[3], ':');
	if (colon)
		*colon = '\0';
	if (parse_part(w[3], r->peer) || parse_range(colon ? colon + 1 : "*", &r->peer_ports))
		return xc_bad(e, "policy %s:%u: '%s' is not PEER or PEER:PORTS (PORTS N, N-M or *)",
			      path, ln, w[3]);
	r->local_ports = (struct range){ 1, 65535 };
	if (n == 6 && (strcmp(w[4], "local") || parse_range(w[5], &r->local_ports)))
		return xc_bad(e, "policy %s:%u: expected 'local PORTS' (N, N-M or *) after the peer",
			      path, ln);
	r->line = ln;
	return 0;
}

static int add_line(struct xc_policy *p, char *line, const char *path, unsigned int ln,
		    struct xc_err *e)
{
	struct rule *grown;

	line[strcspn(line, "#\r\n")] = '\0';
	if (line[strspn(line, " \t")] == '\0')
		return 0;
	if (p->n == POLICY_MAX_RULES)
		return xc_bad(e, "policy %s:%u: more than %d rules", path, ln, POLICY_MAX_RULES);
	grown = realloc(p->r, (p->n + 1) * sizeof(*p->r));
	if (!grown)
		return xc_fail(e, -ENOMEM, "out of memory");
	p->r = grown;
	memset(&p->r[p->n], 0, sizeof(p->r[p->n]));
	if (parse_rule(line, &p->r[p->n], e, path, ln))
		return -EINVAL;
	p->n++;
	return 0;
}

int xc_policy_load(const char *path, struct xc_policy **out, struct xc_err *e)
{
	struct xc_policy *p = calloc(1, sizeof(*p));
	char line[POLICY_MAX_LINE + 2];
	unsigned int ln = 0;
	int err = 0;
	FILE *f;

	if (!p)
		return xc_fail(e, -ENOMEM, "out of memory");
	f = fopen(path, "re");
	if (!f) {
		free(p);
		return xc_fail(e, -errno, "policy %s: %s", path, strerror(errno));
	}
	while (!err && fgets(line, sizeof(line), f)) {
		ln++;
		if (!strchr(line, '\n') && !feof(f))
			err = xc_bad(e, "policy %s:%u: line longer than %d characters", path, ln,
				     POLICY_MAX_LINE);
		else
			err = add_line(p, line, path, ln, e);
	}
	fclose(f);
	if (err) {
		xc_policy_free(p);
		return err;
	}
	*out = p;
	return 0;
}

void xc_policy_free(struct xc_policy *p)
{
	if (p)
		free(p->r);
	free(p);
}

size_t xc_policy_rules(const struct xc_policy *p)
{
	return p ? p->n : 0;
}

static bool part_match(const char *pat, uint32_t id, const char *name)
{
	char num[12];

	snprintf(num, sizeof(num), "%u", id);
	return !strcmp(pat, "*") || !strcmp(pat, num) || (name[0] && !strcmp(pat, name));
}

static bool in_range(const struct range *r, uint16_t v)
{
	return v >= r->lo && v <= r->hi;
}

unsigned int xc_policy_allows(const struct xc_policy *p, const struct xc_pol_query *q)
{
	for (size_t i = 0; p && i < p->n; i++) {
		const struct rule *r = &p->r[i];

		if (r->dir == q->dir && part_match(r->who, q->me, q->me_name) &&
		    part_match(r->peer, q->peer, q->peer_name) &&
		    in_range(&r->peer_ports, q->peer_port) && in_range(&r->local_ports, q->port))
			return r->line;
	}
	return 0;
}
