// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conf.c: xchan-cni's input and output: the network configuration on stdin, the
 * CNI_* environment, prevResult, and the JSON the runtime expects back. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cni.h"

#define CONF_MAX	(1 << 20)

int cni_fail(struct cni_call *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	c->code = code;
	return code;
}

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

/* A partition name from what the runtime calls the container: the characters a name
 * may hold, at most 31, never a bare number. */
static void name_from(char *out, const char *s)
{
	size_t n = 0;
	bool digits = true;

	for (; *s && n < XCHAN_NAME_LEN - 1; s++)
		if (isalnum((unsigned char)*s) || strchr("._-", *s)) {
			out[n++] = *s;
			digits &= isdigit((unsigned char)*s) != 0;
		}
	out[n] = '\0';
	if (digits)
		out[0] = '\0';
}

/* One KEY=VALUE of CNI_ARGS or args.cni. */
static int arg(struct cni_call *c, const char *k, const char *v, bool *have_name)
{
	if (!strcmp(k, "XCHAN_ID") || !strcmp(k, "xchan_id")) {
		if (xc_parse_u32(v, &c->id) || !c->id)
			return cni_fail(c, CNI_E_CONFIG, "XCHAN_ID '%s' is not a number from 1 to 4294967295", v);
	} else if (!strcmp(k, "XCHAN_NAME") || !strcmp(k, "xchan_name")) {
		name_from(c->name, v);
		if (!c->name[0] || strcmp(c->name, v))
			return cni_fail(c, CNI_E_CONFIG, "XCHAN_NAME '%s' must be 1-31 of A-Za-z0-9._- and not a number", v);
		*have_name = true;
	} else if (!strcmp(k, "XCHAN_ISOLATED") || !strcmp(k, "xchan_isolated")) {
		c->isolated = !strcmp(v, "true") || !strcmp(v, "1");
	} else if (!strcmp(k, "K8S_POD_NAME")) {
		snprintf(c->pod, sizeof(c->pod), "%s", v);
	} else if (!strcmp(k, "K8S_POD_NAMESPACE")) {
		snprintf(c->pod_ns, sizeof(c->pod_ns), "%s", v);
	}
	return 0;
}

/* Without XCHAN_NAME, the runtime's: the pod's name, or namespace.pod where a
 * namespace is given that is not the name itself (podman gives the container's name
 * as both; Kubernetes has the same pod name in many namespaces). As it is, or none:
 * one cut to 31 characters or cleaned of other characters could be another
 * container's, and inherit its rules. */
static void name_runtime(struct cni_call *c)
{
	char want[2 * XCHAN_NAME_LEN + 2];

	if (!c->pod[0])
		return;
	if (c->pod_ns[0] && strcmp(c->pod_ns, c->pod))
		snprintf(want, sizeof(want), "%.*s.%.*s", XCHAN_NAME_LEN, c->pod_ns, XCHAN_NAME_LEN,
			 c->pod);
	else
		snprintf(want, sizeof(want), "%.*s", XCHAN_NAME_LEN, c->pod);
	name_from(c->name, want);
	if (strcmp(c->name, want) || strlen(c->pod) >= XCHAN_NAME_LEN ||
	    strlen(c->pod_ns) >= XCHAN_NAME_LEN)
		c->name[0] = '\0';
}

static int args_env(struct cni_call *c, bool *have_name)
{
	const char *env = getenv("CNI_ARGS");
	char *copy, *save = NULL;
	int err = 0;

	if (!env)
		return 0;
	copy = strdup(env);
	if (!copy)
		return cni_fail(c, CNI_E_IO, "out of memory");
	for (char *kv = strtok_r(copy, ";", &save); kv && !err; kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');

		if (eq) {
			*eq = '\0';
			err = arg(c, kv, eq + 1, have_name);
		}
	}
	free(copy);
	return err;
}

/* args.cni in the configuration (the runtime's way of passing structured args);
 * read after CNI_ARGS, so that they win. */
static int args_conf(struct cni_call *c, bool *have_name)
{
	struct json_object *args, *cni;
	int err = 0;

	if (!json_object_object_get_ex(c->conf, "args", &args) ||
	    !json_object_object_get_ex(args, "cni", &cni) || !json_object_is_type(cni, json_type_object))
		return 0;
	json_object_object_foreach(cni, k, v) {
		if (!err)
			err = arg(c, k, json_object_get_string(v), have_name);
	}
	return err;
}

static int read_stdin(struct cni_call *c)
{
	char *buf = malloc(CONF_MAX + 1);
	size_t n = 0, r;

	if (!buf)
		return cni_fail(c, CNI_E_IO, "out of memory");
	while (n <= CONF_MAX && (r = fread(buf + n, 1, CONF_MAX + 1 - n, stdin)) > 0)
		n += r;
	if (n > CONF_MAX) {
		free(buf);
		return cni_fail(c, CNI_E_DECODE, "network configuration larger than %d bytes", CONF_MAX);
	}
	buf[n] = '\0';
	c->conf = json_tokener_parse(buf);
	free(buf);
	if (!c->conf || !json_object_is_type(c->conf, json_type_object))
		return cni_fail(c, CNI_E_DECODE, "the network configuration on stdin is not a JSON object");
	return 0;
}

static int conf_fields(struct cni_call *c)
{
	struct json_object *v;

	c->version = str_of(c->conf, "cniVersion");
	if (!c->version)
		return cni_fail(c, CNI_E_CONFIG, "the configuration has no cniVersion");
	if (strcmp(c->version, "0.3.0") && strcmp(c->version, "0.3.1") &&
	    strcmp(c->version, "0.4.0") && strcmp(c->version, "1.0.0"))
		return cni_fail(c, CNI_E_VERSION, "cniVersion %s is not supported (0.3.0-1.0.0)",
				c->version);
	c->pin_root = str_of(c->conf, "pinRoot");
	if (!c->pin_root)
		c->pin_root = CMM_DEFAULT_ROOT;
	if (c->pin_root[0] != '/' || strlen(c->pin_root) >= 300)
		return cni_fail(c, CNI_E_CONFIG, "pinRoot must be an absolute path");
	c->id_base = 1000;
	if (json_object_object_get_ex(c->conf, "idBase", &v)) {
		int64_t b = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) || b < 1 || b > 0xffff0000LL)
			return cni_fail(c, CNI_E_CONFIG, "idBase must be a number from 1 to 4294901760");
		c->id_base = b;
	}
	if (json_object_object_get_ex(c->conf, "isolated", &v))
		c->isolated = json_object_get_boolean(v);
	if (json_object_object_get_ex(c->conf, "prevResult", &v) &&
	    json_object_is_type(v, json_type_object))
		c->prev = v;
	return 0;
}

int cni_read(struct cni_call *c)
{
	bool have_name = false;
	int err;

	c->command = getenv("CNI_COMMAND");
	c->netns = getenv("CNI_NETNS");
	c->ifname = getenv("CNI_IFNAME");
	c->container = getenv("CNI_CONTAINERID");
	c->version = "1.0.0";	/* for an error before the configuration is read */
	if (!c->command)
		return cni_fail(c, CNI_E_ENV, "CNI_COMMAND is not set");
	if (!strcmp(c->command, "VERSION"))
		return 0;
	if (!c->container || !*c->container || !c->ifname || !*c->ifname)
		return cni_fail(c, CNI_E_ENV, "CNI_CONTAINERID and CNI_IFNAME are required");
	err = read_stdin(c);
	if (!err)
		err = conf_fields(c);
	if (!err)
		err = args_env(c, &have_name);
	if (!err)
		err = args_conf(c, &have_name);
	if (!err && !have_name)
		name_runtime(c);
	return err;
}

/* prevResult's interfaces[] index of the container's interface (sandbox = our netns). */
static int prev_iface(struct cni_call *c)
{
	struct json_object *ifs;
	size_t n;

	if (!json_object_object_get_ex(c->prev, "interfaces", &ifs) ||
	    !json_object_is_type(ifs, json_type_array))
		return -1;
	n = json_object_array_length(ifs);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(ifs, i);
		const char *name = str_of(o, "name"), *sb = str_of(o, "sandbox");

		if (name && sb && !strcmp(name, c->ifname) && (!c->netns || !strcmp(sb, c->netns)))
			return i;
	}
	return -1;
}

int cni_prev_ip(struct cni_call *c, char *ip)
{
	struct json_object *ips, *v;
	int want = prev_iface(c);
	size_t n;

	if (!c->prev)
		return cni_fail(c, CNI_E_CONFIG, "no prevResult: xchan-cni is chained after a plugin that makes the interface (e.g. bridge)");
	if (want < 0)
		return cni_fail(c, CNI_E_CONFIG, "prevResult has no interface %s in %s", c->ifname,
				c->netns ? c->netns : "the container");
	if (!json_object_object_get_ex(c->prev, "ips", &ips) || !json_object_is_type(ips, json_type_array))
		return cni_fail(c, CNI_E_CONFIG, "prevResult has no ips");
	n = json_object_array_length(ips);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(ips, i);
		const char *a = str_of(o, "address");
		size_t len = a ? strcspn(a, "/") : 0;

		if (!json_object_object_get_ex(o, "interface", &v) || json_object_get_int(v) != want ||
		    !a || strchr(a, ':') || len == 0 || len > 15)
			continue;
		memcpy(ip, a, len);
		ip[len] = '\0';
		return 0;
	}
	return cni_fail(c, CNI_E_CONFIG, "prevResult has no IPv4 address on %s", c->ifname);
}

void cni_print_error(const struct cni_call *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "cniVersion", json_object_new_string(c->version));
	json_object_object_add(o, "code", json_object_new_int(c->code));
	json_object_object_add(o, "msg", json_object_new_string(c->msg));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

void cni_print_version(void)
{
	puts("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\"]}");
}

void cni_print_prev(const struct cni_call *c)
{
	json_object_object_add(c->prev, "cniVersion", json_object_new_string(c->version));
	puts(json_object_to_json_string_ext(c->prev, JSON_C_TO_STRING_PLAIN));
}
