/*
 * mikey_emit.c -- the two output forms of `conclave mikey decode`: an
 * annotated text tree and one JSON object (RFC 8259: every string is
 * escaped, keys are derived from the text labels).
 */
#include "mikey_print.h"

#include <ctype.h>
#include <string.h>

void pr_init(struct pr *p, FILE *f, bool json, bool show_keys)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	p->json = json;
	p->show_keys = show_keys;
	p->first = true;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* "CS ID map type" -> "cs_id_map_type", "#CS" -> "ncs" */
static void json_key(FILE *f, const char *label, const char *suffix)
{
	bool sep = false, any = false;

	fputc('"', f);
	for (; *label; label++) {
		unsigned char c = (unsigned char)*label;

		if (c == '#') {
			c = 'n';
		} else if (!isalnum(c)) {
			sep = any;
			continue;
		}
		if (sep)
			fputc('_', f);
		fputc(tolower(c), f);
		sep = false;
		any = true;
	}
	fprintf(f, "%s\"", suffix);
}

/* JSON: the separator and the key of the next member (label NULL = an
 * array element). */
static void json_member(struct pr *p, const char *label)
{
	if (!p->first)
		fputc(',', p->f);
	p->first = false;
	if (label) {
		json_key(p->f, label, "");
		fputc(':', p->f);
	}
}

static void text_lead(struct pr *p, long off)
{
	if (off >= 0)
		fprintf(p->f, "%04lx  ", (unsigned long)off);
	else
		fputs("      ", p->f);
	fprintf(p->f, "%*s", 2 * p->indent, "");
}

static long abs_off(const struct pr *p, long off)
{
	return off < 0 ? off : off + p->base;
}

/* In an array, members have no key. */
static const char *key_of(const struct pr *p, const char *label)
{
	return p->depth && p->stk_arr[p->depth - 1] ? NULL : label;
}

static void push(struct pr *p, bool arr, bool ind)
{
	if (p->depth < PR_MAX_DEPTH) {
		p->stk_arr[p->depth] = arr;
		p->stk_ind[p->depth] = ind;
	}
	p->depth++;
	if (ind)
		p->indent++;
	p->first = true;
}

void pr_begin(struct pr *p)
{
	if (p->json)
		fputc('{', p->f);
	p->first = true;
}

void pr_finish(struct pr *p)
{
	if (p->json)
		fputs("}\n", p->f);
	fflush(p->f);
}

void pr_obj(struct pr *p, long off, const char *label)
{
	if (p->json) {
		json_member(p, key_of(p, label));
		fputc('{', p->f);
	} else {
		text_lead(p, abs_off(p, off));
		fprintf(p->f, "%s\n", label);
	}
	push(p, false, true);
}

void pr_arr(struct pr *p, const char *label, bool title)
{
	if (p->json) {
		json_member(p, key_of(p, label));
		fputc('[', p->f);
	} else if (title) {
		text_lead(p, PR_NO_OFF);
		fprintf(p->f, "%s\n", label);
	}
	push(p, true, title);
}

void pr_item(struct pr *p, long off, const char *title, const char *type)
{
	off = abs_off(p, off);
	if (!p->json) {
		text_lead(p, off);
		fprintf(p->f, "%s\n", title);
		push(p, false, true);
		return;
	}
	json_member(p, key_of(p, title));
	fputc('{', p->f);
	push(p, false, true);
	if (type) {
		json_member(p, "type");
		json_str(p->f, type);
	}
	if (off >= 0) {
		json_member(p, "offset");
		fprintf(p->f, "%ld", off);
	}
}

void pr_end(struct pr *p)
{
	bool arr = false, ind = true;

	if (!p->depth)
		return;
	p->depth--;
	if (p->depth < PR_MAX_DEPTH) {
		arr = p->stk_arr[p->depth];
		ind = p->stk_ind[p->depth];
	}
	if (ind && p->indent)
		p->indent--;
	if (p->json)
		fputc(arr ? ']' : '}', p->f);
	p->first = false;
}

void pr_u(struct pr *p, long off, const char *label, unsigned long long v,
	  const char *meaning)
{
	if (!p->json) {
		text_lead(p, abs_off(p, off));
		if (meaning)
			fprintf(p->f, "%s = %llu (%s)\n", label, v, meaning);
		else
			fprintf(p->f, "%s = %llu\n", label, v);
		return;
	}
	json_member(p, key_of(p, label));
	fprintf(p->f, "%llu", v);
	if (!meaning || !key_of(p, label))
		return;
	/* "<key>_name": the code point's meaning */
	fputc(',', p->f);
	json_key(p->f, label, "_name");
	fputc(':', p->f);
	json_str(p->f, meaning);
}

void pr_x(struct pr *p, long off, const char *label, unsigned long long v,
	  int width)
{
	if (p->json && width > 8) {
		/* 64-bit values exceed JSON's exact integers (2^53) */
		json_member(p, key_of(p, label));
		fprintf(p->f, "\"0x%0*llx\"", width, v);
	} else if (p->json) {
		json_member(p, key_of(p, label));
		fprintf(p->f, "%llu", v);
	} else {
		text_lead(p, abs_off(p, off));
		fprintf(p->f, "%s = 0x%0*llx\n", label, width, v);
	}
}

void pr_s(struct pr *p, long off, const char *label, const char *s)
{
	if (p->json) {
		json_member(p, key_of(p, label));
		json_str(p->f, s);
		return;
	}
	text_lead(p, abs_off(p, off));
	fprintf(p->f, "%s = %s\n", label, s);
}

static void put_hex(FILE *f, struct cc_slice s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		fprintf(f, "%02x", s.p[i]);
}

void pr_hex(struct pr *p, long off, const char *label, struct cc_slice s)
{
	if (p->json) {
		json_member(p, key_of(p, label));
		fputc('"', p->f);
		put_hex(p->f, s);
		fputc('"', p->f);
		return;
	}
	text_lead(p, abs_off(p, off));
	fprintf(p->f, "%s = ", label);
	if (!s.len)
		fputs("(empty)", p->f);
	put_hex(p->f, s);
	fputc('\n', p->f);
}

void pr_secret(struct pr *p, long off, const char *label, struct cc_slice s)
{
	char buf[48];

	if (p->show_keys) {
		pr_hex(p, off, label, s);
		return;
	}
	snprintf(buf, sizeof(buf), "<%zu bytes hidden>", s.len);
	pr_s(p, off, label, buf);
}

static bool printable(struct cc_slice s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (s.p[i] < 0x20 || s.p[i] > 0x7e)
			return false;
	return s.len > 0;
}

void pr_text_or_hex(struct pr *p, long off, const char *label,
		    struct cc_slice s)
{
	char buf[1024];

	if (!printable(s) || s.len >= sizeof(buf) - 2) {
		pr_hex(p, off, label, s);
		return;
	}
	if (p->json) {
		memcpy(buf, s.p, s.len);
		buf[s.len] = 0;
		pr_s(p, off, label, buf);
		return;
	}
	text_lead(p, abs_off(p, off));
	fprintf(p->f, "%s = \"%.*s\"\n", label, (int)s.len, (const char *)s.p);
}

void pr_status(struct pr *p, const char *label, const char *status)
{
	if (p->json) {
		json_member(p, key_of(p, label));
		json_str(p->f, status);
		return;
	}
	text_lead(p, PR_NO_OFF);
	fprintf(p->f, "%s: %s\n", label, status);
}
