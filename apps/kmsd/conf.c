/*
 * conf.c -- kmsd configuration: a table of keys (one row per setting,
 * with its type, bounds, default and whether SIGHUP re-reads it), a
 * `key value` file reader and value parsers that refuse anything odd.
 */
#include "kmsd.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum conf_type {
	T_STR,
	T_ADDR, /* "addr:port" or "[v6]:port", or "" / "off" */
	T_U32,
	T_DURATION, /* seconds, or "Ns" / "Nms" -> stored in ms */
	T_SIZE,     /* bytes, or "Nk"/"NKiB"/"Nm"/"NMiB" */
	T_BOOL,
	T_LEVEL,
};

struct conf_key {
	const char *key;
	enum conf_type type;
	size_t off;
	size_t size; /* T_STR/T_ADDR: buffer size */
	uint32_t min, max;
	bool reloadable;
	const char *def; /* default as written in the file */
	const char *help;
};

#define F(m) offsetof(struct kmsd_conf, m), sizeof(((struct kmsd_conf *)0)->m)

static const struct conf_key keys[] = {
	{ "listen", T_ADDR, F(listen), 0, 0, false, "127.0.0.1:8770",
	  "HTTP listener addr:port ([v6]:port), \"off\" for none" },
	{ "https_listen", T_ADDR, F(https_listen), 0, 0, false, "off",
	  "HTTPS listener addr:port, \"off\" for none (needs tls_cert)" },
	{ "tls_cert", T_STR, F(tls_cert), 0, 0, false, "",
	  "PEM file holding the certificate chain and its private key" },
	{ "store", T_STR, F(store), 0, 0, false,
	  "sqlite:/var/lib/conclave/kms.db",
	  "store spec, sqlite:PATH or postgresql:CONNINFO" },
	{ "master_key_file", T_STR, F(master_key_file), 0, 0, false,
	  "/etc/conclave/kms-master.key",
	  "master key file (mode 0600 or stricter, else kmsd refuses)" },
	{ "kms_identity", T_STR, F(identity), 0, 0, false,
	  "sip:kms.example.org", "IDRkms: the KMS's own identity (URI)" },
	{ "skew", T_U32, F(skew), 1, 86400, true, "300",
	  "accepted timestamp skew, seconds" },
	{ "max_ticket_lifetime", T_U32, F(max_lifetime), 1, 31536000, true,
	  "86400", "longest ticket validity granted, seconds" },
	{ "default_ticket_lifetime", T_U32, F(default_lifetime), 1, 31536000,
	  true, "3600", "ticket validity when a request names none, seconds" },
	{ "replay_capacity", T_U32, F(replay_capacity), 16, 100000000, false,
	  "1048576", "entries in the replay cache" },
	{ "allow_ticket_reuse", T_BOOL, F(allow_reuse), 0, 0, false, "no",
	  "grant the J (reuse) flag when a request asks for it" },
	{ "max_conns", T_U32, F(max_conns), 1, 1000000, false, "1024",
	  "concurrent client connections (HTTP + HTTPS); more get 503" },
	{ "max_header_bytes", T_SIZE, F(max_header_bytes), 256, 1048576, false,
	  "8KiB", "request line + headers; more gets 431" },
	{ "max_body_bytes", T_SIZE, F(max_body_bytes), 16, 16777216, false,
	  "64KiB", "request body; more gets 413" },
	{ "idle_timeout", T_DURATION, F(idle_timeout_ms), 10, 86400000, false,
	  "30s", "close a connection idle between requests after this" },
	{ "request_timeout", T_DURATION, F(request_timeout_ms), 10, 3600000,
	  false, "10s", "first byte to full request, else 408 and close" },
	{ "log_level", T_LEVEL, F(log_level), 0, 0, true, "info",
	  "error | warn | info (one line per request) | debug" },
};

#undef F

static const struct conf_key *key_find(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].key, key))
			return &keys[i];
	return NULL;
}

bool kmsd_conf_reloadable(const char *key)
{
	const struct conf_key *k = key_find(key);

	return k && k->reloadable;
}

static bool parse_u64(const char *s, uint64_t *v, const char **end)
{
	uint64_t n = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s)) {
		if (n > (UINT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (uint64_t)(*s++ - '0');
	}
	*v = n;
	*end = s;
	return true;
}

static bool parse_num(const struct conf_key *k, const char *val, uint32_t *out)
{
	const char *end;
	uint64_t v, mul = 1;

	if (!parse_u64(val, &v, &end))
		return false;
	if (k->type == T_DURATION) {
		if (!*end || !strcmp(end, "s"))
			mul = 1000;
		else if (!strcmp(end, "ms"))
			mul = 1;
		else
			return false;
	} else if (k->type == T_SIZE) {
		if (!*end)
			mul = 1;
		else if (!strcmp(end, "k") || !strcmp(end, "KiB"))
			mul = 1024;
		else if (!strcmp(end, "m") || !strcmp(end, "MiB"))
			mul = 1024 * 1024;
		else
			return false;
	} else if (*end) {
		return false;
	}
	if (v > UINT32_MAX / mul)
		return false;
	v *= mul;
	if (v < k->min || v > k->max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_bool(const char *val, bool *b)
{
	if (!strcmp(val, "yes") || !strcmp(val, "true") || !strcmp(val, "1") ||
	    !strcmp(val, "on")) {
		*b = true;
		return true;
	}
	if (!strcmp(val, "no") || !strcmp(val, "false") || !strcmp(val, "0") ||
	    !strcmp(val, "off")) {
		*b = false;
		return true;
	}
	return false;
}

/* "host:port" with a numeric IPv4 host, or "[v6]:port"; port 0 = any. */
static bool addr_ok(const char *val)
{
	const char *colon = strrchr(val, ':');
	const char *end;
	uint64_t port;

	if (!colon || colon == val)
		return false;
	if (val[0] == '[' && colon[-1] != ']')
		return false;
	if (!parse_u64(colon + 1, &port, &end) || *end || port > 65535)
		return false;
	return true;
}

static bool set_str(const struct conf_key *k, char *dst, const char *val,
		    char *err, size_t errsz)
{
	size_t n = strlen(val);

	if (n >= k->size) {
		snprintf(err, errsz, "%s: value longer than %zu bytes", k->key,
			 k->size - 1);
		return false;
	}
	memcpy(dst, val, n + 1);
	return true;
}

bool kmsd_conf_set(struct kmsd_conf *c, const char *key, const char *val,
		   char *err, size_t errsz)
{
	const struct conf_key *k = key_find(key);
	char *field;

	if (!k) {
		snprintf(err, errsz, "unknown setting '%s'", key);
		return false;
	}
	field = (char *)c + k->off;
	switch (k->type) {
	case T_STR:
		return set_str(k, field, val, err, errsz);
	case T_ADDR:
		if (!strcmp(val, "off") || !*val)
			val = "";
		else if (!addr_ok(val))
			break;
		return set_str(k, field, val, err, errsz);
	case T_U32:
	case T_DURATION:
	case T_SIZE:
		if (parse_num(k, val, (uint32_t *)(void *)field))
			return true;
		snprintf(err, errsz,
			 "%s: bad value '%s' (want a number in %u..%u%s)",
			 k->key, val, k->min, k->max,
			 k->type == T_DURATION ? " ms, or Ns / Nms" :
			 k->type == T_SIZE     ? " bytes, or Nk / NKiB" :
						 "");
		return false;
	case T_BOOL:
		if (parse_bool(val, (bool *)(void *)field))
			return true;
		break;
	case T_LEVEL:
		if (kmsd_level_parse(val, (enum kmsd_level *)(void *)field))
			return true;
		break;
	default:
		break;
	}
	snprintf(err, errsz, "%s: bad value '%s'", k->key, val);
	return false;
}

void kmsd_conf_defaults(struct kmsd_conf *c)
{
	char err[256];
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!kmsd_conf_set(c, keys[i].key, keys[i].def, err,
				   sizeof(err)))
			abort(); /* a broken default is a build bug */
	}
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* One line: "key value"; '#' starts a comment. */
static bool conf_line(struct kmsd_conf *c, char *line, bool only_reloadable,
		      bool (*skip)(const char *key, void *arg), void *arg,
		      char *err, size_t errsz)
{
	char *hash = strchr(line, '#');
	char *key, *val;

	if (hash)
		*hash = '\0';
	key = trim(line);
	if (!*key)
		return true;
	val = key + strcspn(key, " \t");
	if (*val)
		*val++ = '\0';
	val = trim(val);
	if (!key_find(key)) {
		snprintf(err, errsz, "unknown setting '%s'", key);
		return false;
	}
	if (only_reloadable && !kmsd_conf_reloadable(key))
		return true;
	if (skip && skip(key, arg))
		return true;
	return kmsd_conf_set(c, key, val, err, errsz);
}

bool kmsd_conf_load(struct kmsd_conf *c, const char *path, bool missing_ok,
		    bool only_reloadable,
		    bool (*skip)(const char *key, void *arg), void *arg,
		    char *err, size_t errsz)
{
	char line[4096], why[512];
	unsigned lineno = 0;
	bool ok = true;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT && missing_ok)
			return true;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errsz, "%s:%u: line too long", path,
				 lineno);
			ok = false;
			break;
		}
		if (!conf_line(c, line, only_reloadable, skip, arg, why,
			       sizeof(why))) {
			snprintf(err, errsz, "%s:%u: %s", path, lineno, why);
			ok = false;
			break;
		}
	}
	if (ok && ferror(f)) {
		snprintf(err, errsz, "%s: read error", path);
		ok = false;
	}
	fclose(f);
	return ok;
}

bool kmsd_conf_check(const struct kmsd_conf *c, char *err, size_t errsz)
{
	if (!c->listen[0] && !c->https_listen[0]) {
		snprintf(err, errsz, "no listener: set listen or https_listen");
		return false;
	}
	if (c->https_listen[0] && !c->tls_cert[0]) {
		snprintf(err, errsz, "https_listen needs tls_cert");
		return false;
	}
	if (!c->store[0] || !c->master_key_file[0] || !c->identity[0]) {
		snprintf(err, errsz,
			 "store, master_key_file and kms_identity must be set");
		return false;
	}
	if (c->default_lifetime > c->max_lifetime) {
		snprintf(err, errsz,
			 "default_ticket_lifetime (%u) is above "
			 "max_ticket_lifetime (%u)",
			 c->default_lifetime, c->max_lifetime);
		return false;
	}
	return true;
}

void kmsd_conf_help(FILE *f)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		fprintf(f, "  %-24s %s%s\n  %-24s   default: %s\n", keys[i].key,
			keys[i].help, keys[i].reloadable ? " [SIGHUP]" : "", "",
			keys[i].def[0] ? keys[i].def : "(none)");
}
