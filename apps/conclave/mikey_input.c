/*
 * mikey_input.c -- where `conclave mikey decode` gets its bytes: the
 * command line, a file or stdin, as base64 (RFC 4567 a=key-mgmt), hex or
 * the binary message itself.
 */
#include "mikey_cli.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	TEXT_MAX = 1 << 20
};

static enum cc_err slurp(FILE *f, char *buf, size_t cap, size_t *len,
			 const char **why)
{
	size_t n = 0, got;

	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			*why = "input too large";
			return CC_ERR_SPACE;
		}
	}
	if (ferror(f)) {
		*why = "read error";
		return CC_ERR_INVAL;
	}
	*len = n;
	return CC_OK;
}

static enum cc_err read_file(const char *path, char *buf, size_t cap,
			     size_t *len, const char **why)
{
	FILE *f = fopen(path, "rb");
	enum cc_err err;

	if (!f) {
		*why = "cannot open the input file";
		return CC_ERR_NOT_FOUND;
	}
	err = slurp(f, buf, cap, len, why);
	fclose(f);
	return err;
}

static bool all_of(const char *s, size_t n, const char *set)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!s[i] || !strchr(set, s[i]))
			return false;
	return true;
}

static const char hex_set[] = "0123456789abcdefABCDEF \t\r\n:";
static const char b64_set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
			      "wxyz"
			      "0123456789+/= \t\r\n";

/* The base64 of an `a=key-mgmt:mikey <b64>` line anywhere in the text
 * (RFC 4567 §3.1: prtcl-id SP keymgmt-data); NULL if there is none. */
static char *key_mgmt(char *s, size_t *n)
{
	char *p = strstr(s, "key-mgmt:"), *e;

	if (!p)
		return NULL;
	p += strlen("key-mgmt:");
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "mikey", 5) || (p[5] != ' ' && p[5] != '\t'))
		return NULL;
	p += 5;
	while (*p == ' ' || *p == '\t')
		p++;
	e = p + strcspn(p, "\r\n");
	*n = (size_t)(e - p);
	return p;
}

static enum cc_err from_hex(char *s, size_t n, uint8_t *out, size_t cap,
			    size_t *len, const char **why)
{
	enum cc_err err;

	s[n] = 0;
	/* cc_hex_decode skips ' ', '\t', '\n', ':' but not CR */
	for (char *c = s; *c; c++)
		if (*c == '\r')
			*c = ' ';
	err = cc_hex_decode(s, out, cap, len);
	if (err)
		*why = err == CC_ERR_SPACE ? "message too long" :
					     "odd number of hex digits";
	return err;
}

static enum cc_err from_b64(const char *s, size_t n, uint8_t *out, size_t cap,
			    size_t *len, const char **why)
{
	enum cc_err err = cc_b64_decode(s, n, out, cap, len);

	if (err)
		*why = err == CC_ERR_SPACE ? "message too long" :
					     "invalid base64";
	return err;
}

/* Text forms are judged on the trimmed input; binary is taken whole (a
 * MAC may well end in a byte that looks like whitespace). */
static enum cc_err from_text(char *s, size_t n, uint8_t *out, size_t cap,
			     size_t *len, const char **why)
{
	size_t tn = n;
	char *t = memchr(s, 0, n) ? NULL : key_mgmt(s, &tn);
	bool km = t != NULL;

	if (!km)
		t = s;
	while (tn && isspace((unsigned char)*t))
		t++, tn--;
	while (tn && isspace((unsigned char)t[tn - 1]))
		tn--;
	if (!tn) {
		*why = km ? "empty key-mgmt data" : "empty input";
		return CC_ERR_TRUNCATED;
	}
	if (!km && all_of(t, tn, hex_set))
		return from_hex(t, tn, out, cap, len, why);
	if (km || all_of(t, tn, b64_set))
		return from_b64(t, tn, out, cap, len, why);
	if (n > cap) {
		*why = "message too long";
		return CC_ERR_SPACE;
	}
	memcpy(out, s, n);
	*len = n;
	return CC_OK;
}

static enum cc_err from_arg(const char *spec, char *buf, size_t cap,
			    size_t *len, const char **why)
{
	size_t n = strlen(spec);

	if (n >= cap) {
		*why = "input too large";
		return CC_ERR_SPACE;
	}
	memcpy(buf, spec, n);
	*len = n;
	return CC_OK;
}

enum cc_err mikey_read_input(const char *spec, bool is_file, uint8_t *out,
			     size_t cap, size_t *len, const char **why)
{
	char *buf = malloc(TEXT_MAX + 1);
	size_t n = 0;
	enum cc_err err;

	*why = "";
	if (!buf) {
		*why = "out of memory";
		return CC_ERR_NOMEM;
	}
	if (is_file)
		err = read_file(spec, buf, TEXT_MAX, &n, why);
	else if (spec && spec[0] == '@')
		err = read_file(spec + 1, buf, TEXT_MAX, &n, why);
	else if (!spec || !strcmp(spec, "-"))
		err = slurp(stdin, buf, TEXT_MAX, &n, why);
	else
		err = from_arg(spec, buf, TEXT_MAX, &n, why);
	if (!err) {
		buf[n] = 0;
		err = from_text(buf, n, out, cap, len, why);
	}
	free(buf);
	return err;
}
