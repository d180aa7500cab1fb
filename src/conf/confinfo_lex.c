/*
 * confinfo_lex.c -- the lexical layer of the conference-info reader: every
 * scan is bounded by the input's end and moves forward only; character
 * data is checked against XML 1.0 (references, line ends, attribute value
 * normalisation); attributes must be unique; namespace prefixes must be
 * declared.
 */
#include "confinfo_lex.h"

#include <string.h>

enum cc_err cx_fail(struct px *x, enum cc_err err, const char *why)
{
	if (x->diag) {
		x->diag->reason = why;
		x->diag->offset = x->pos;
	}
	return err;
}

bool cx_at(const struct px *x, const char *s)
{
	size_t n = strlen(s);

	return x->len - x->pos >= n &&
	       strncmp((const char *)x->p + x->pos, s, n) == 0;
}

bool cx_is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void cx_skip_ws(struct px *x)
{
	while (x->pos < x->len && cx_is_ws(x->p[x->pos]))
		x->pos++;
}

/* XML names, loosely: no markup, quote, '=' or white space; non-ASCII
 * bytes allowed (the input is valid UTF-8). */
static bool name_char(uint8_t c, bool first)
{
	if (c >= 0x80 || c == '_' || c == ':' || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z'))
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

enum cc_err cx_read_name(struct px *x, const uint8_t **name, size_t *len)
{
	size_t s = x->pos;

	if (x->pos >= x->len)
		return cx_fail(x, CC_ERR_TRUNCATED, "input ends in a name");
	if (!name_char(x->p[x->pos], true))
		return cx_fail(x, CC_ERR_MALFORMED, "bad name");
	while (x->pos < x->len && name_char(x->p[x->pos], false))
		x->pos++;
	*name = x->p + s;
	*len = x->pos - s;
	return CC_OK;
}

/* Skip to just after the terminator; the input ends first: truncated. */
enum cc_err cx_skip_past(struct px *x, const char *end, const char *what)
{
	size_t n = strlen(end);

	while (x->len - x->pos >= n) {
		if (strncmp((const char *)x->p + x->pos, end, n) == 0) {
			x->pos += n;
			return CC_OK;
		}
		x->pos++;
	}
	x->pos = x->len;
	return cx_fail(x, CC_ERR_TRUNCATED, what);
}

/* <!-- ... --> ("--" may not occur inside, XML 1.0 §2.5) */
enum cc_err cx_skip_comment(struct px *x)
{
	x->pos += 4;
	while (x->len - x->pos >= 2) {
		if (x->p[x->pos] == '-' && x->p[x->pos + 1] == '-') {
			if (x->len - x->pos < 3)
				break;
			if (x->p[x->pos + 2] != '>')
				return cx_fail(x, CC_ERR_MALFORMED,
					       "\"--\" in a comment");
			x->pos += 3;
			return CC_OK;
		}
		x->pos++;
	}
	x->pos = x->len;
	return cx_fail(x, CC_ERR_TRUNCATED, "unterminated comment");
}

/* Comments, PIs, white space; a DOCTYPE is refused. In the prolog and
 * after the root element. */
enum cc_err cx_skip_misc(struct px *x)
{
	enum cc_err err;

	for (;;) {
		cx_skip_ws(x);
		if (cx_at(x, "<!--"))
			err = cx_skip_comment(x);
		else if (cx_at(x, "<?"))
			err = cx_skip_past(x, "?>", "unterminated <?...?>");
		else if (cx_at(x, "<!DOCTYPE") || cx_at(x, "<!doctype"))
			return cx_fail(x, CC_ERR_UNSUPPORTED,
				       "DOCTYPE refused");
		else
			return CC_OK;
		if (err)
			return err;
	}
}

/* ---- character data ------------------------------------------------------ */

static void put_utf8(char *out, size_t cap, size_t *n, bool *over, uint32_t cp)
{
	uint8_t b[4];
	size_t k;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | (cp >> 6));
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | (cp >> 12));
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | (cp >> 18));
		b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (*n + k >= cap) { /* keep room for the NUL */
		*over = true;
		return;
	}
	memcpy(out + *n, b, k);
	*n += k;
}

void cx_put_raw(char *out, size_t cap, size_t *n, bool *over, uint8_t c)
{
	if (*n + 1 >= cap) { /* keep room for the NUL */
		*over = true;
		return;
	}
	out[(*n)++] = (char)c;
}

static bool char_ok(uint32_t cp)
{
	return cp == 0x9 || cp == 0xa || cp == 0xd ||
	       (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) ||
	       (cp >= 0x10000 && cp <= 0x10ffff);
}

/* &...; at p[*i] within [.., end): the code point it stands for */
static enum cc_err ref(struct px *x, size_t *i, size_t end, uint32_t *cp)
{
	static const struct {
		const char *name;
		uint32_t cp;
	} ents[] = { { "lt;", '<' },
		     { "gt;", '>' },
		     { "amp;", '&' },
		     { "quot;", '"' },
		     { "apos;", '\'' } };
	const char *s = (const char *)x->p + *i + 1;
	size_t left = end - *i - 1, k = 0;
	uint32_t v = 0;
	bool hex;

	for (size_t e = 0; e < sizeof(ents) / sizeof(ents[0]); e++) {
		size_t n = strlen(ents[e].name);

		if (left >= n && strncmp(s, ents[e].name, n) == 0) {
			*cp = ents[e].cp;
			*i += n + 1;
			return CC_OK;
		}
	}
	if (left < 1 || s[0] != '#')
		return cx_fail(x, CC_ERR_MALFORMED, "undefined entity");
	hex = left > 1 && s[1] == 'x';
	for (k = hex ? 2 : 1; k < left && s[k] != ';'; k++) {
		int d = s[k] >= '0' && s[k] <= '9'        ? s[k] - '0' :
			hex && s[k] >= 'a' && s[k] <= 'f' ? s[k] - 'a' + 10 :
			hex && s[k] >= 'A' && s[k] <= 'F' ? s[k] - 'A' + 10 :
							    -1;

		if (d < 0 || k > 12)
			return cx_fail(x, CC_ERR_MALFORMED,
				       "bad character reference");
		v = v * (hex ? 16u : 10u) + (uint32_t)d;
		if (v > 0x10ffff)
			return cx_fail(x, CC_ERR_MALFORMED,
				       "bad character reference");
	}
	if (k >= left || k == (hex ? 2u : 1u) || !char_ok(v))
		return cx_fail(x, CC_ERR_MALFORMED, "bad character reference");
	*cp = v;
	*i += k + 2;
	return CC_OK;
}

/*
 * Decode p[s..e) (text or an attribute value) into out (NUL-terminated,
 * *over set if it did not fit). Line ends are normalised (§2.11); in an
 * attribute, white space becomes a space (§3.3.3). out may be NULL when
 * the value is only checked.
 */
enum cc_err cx_decode(struct px *x, size_t s, size_t e, bool attr, char *out,
		      size_t cap, size_t *n, bool *over)
{
	size_t i = s;
	uint32_t cp;
	enum cc_err err;

	while (i < e) {
		uint8_t c = x->p[i];

		if (c >= 0x80) { /* checked UTF-8: copied as it is */
			if (out)
				cx_put_raw(out, cap, n, over, c);
			i++;
			continue;
		}
		if (c == '&') {
			size_t save = x->pos;

			x->pos = i;
			err = ref(x, &i, e, &cp);
			if (err)
				return err;
			x->pos = save;
		} else if (c == '<' && attr) {
			x->pos = i;
			return cx_fail(x, CC_ERR_MALFORMED,
				       "'<' in an attribute");
		} else if (c == '\r') {
			i += i + 1 < e && x->p[i + 1] == '\n' ? 2 : 1;
			cp = attr ? ' ' : '\n';
		} else {
			i++;
			cp = attr && cx_is_ws(c) ? ' ' : c;
		}
		if (out)
			put_utf8(out, cap, n, over, cp);
	}
	if (out)
		out[*n] = 0;
	return CC_OK;
}

/* ---- values ---------------------------------------------------------------- */

/* strip XML white space in place */
char *cx_trim(char *s)
{
	size_t n = strlen(s);

	while (n && cx_is_ws((uint8_t)s[n - 1]))
		s[--n] = 0;
	while (cx_is_ws((uint8_t)*s))
		s++;
	return s;
}

bool cx_u32(const char *s, uint32_t *v)
{
	uint64_t acc = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		acc = acc * 10 + (uint64_t)(*s - '0');
		if (acc > UINT32_MAX)
			return false;
	}
	*v = (uint32_t)acc;
	return true;
}

bool cx_bool(const char *s, bool *v)
{
	if (!strcmp(s, "true") || !strcmp(s, "1"))
		*v = true;
	else if (!strcmp(s, "false") || !strcmp(s, "0"))
		*v = false;
	else
		return false;
	return true;
}

bool cx_state(const char *s, enum confinfo_state *st)
{
	if (!strcmp(s, "full"))
		*st = CONFINFO_FULL;
	else if (!strcmp(s, "partial"))
		*st = CONFINFO_PARTIAL;
	else if (!strcmp(s, "deleted"))
		*st = CONFINFO_DELETED;
	else
		return false;
	return true;
}

/* a token of one of the name tables, else other (tolerated) */
unsigned cx_lookup(const char *(*name)(unsigned), unsigned n, const char *s,
		   unsigned other)
{
	for (unsigned v = 1; v < n; v++)
		if (name(v)[0] && !strcmp(name(v), s))
			return v;
	return other;
}

/* ---- namespaces and attributes ------------------------------------------- */

static uint8_t ns_classify(const char *uri)
{
	if (!uri[0])
		return NS_NONE; /* xmlns="" undeclares the default */
	if (!strcmp(uri, CONFINFO_NS))
		return NS_CI;
	if (!strcmp(uri, CONFINFO_CC_NS))
		return NS_CC;
	return NS_OTHER;
}

bool cx_bytes_eq(const uint8_t *a, size_t al, const char *b)
{
	return al == strlen(b) && strncmp((const char *)a, b, al) == 0;
}

/* the namespace a prefix (NULL: the default) is bound to */
enum cc_err cx_ns_lookup(struct px *x, const uint8_t *prefix, size_t plen,
			 uint8_t *ns)
{
	for (unsigned i = x->n_nsb; i-- > 0;) {
		const struct nsb *b = &x->nsb[i];

		if ((!prefix && !b->prefix) ||
		    (prefix && b->prefix && b->plen == plen &&
		     strncmp((const char *)b->prefix, (const char *)prefix,
			     plen) == 0)) {
			*ns = b->ns;
			return CC_OK;
		}
	}
	if (!prefix) {
		*ns = NS_NONE;
		return CC_OK;
	}
	if (cx_bytes_eq(prefix, plen, "xml")) {
		*ns = NS_OTHER;
		return CC_OK;
	}
	return cx_fail(x, CC_ERR_MALFORMED, "undeclared namespace prefix");
}

/* the decoded value of attribute a into buf (CONFINFO_URI_MAX bytes) */
enum cc_err cx_attr_value(struct px *x, const struct attr *a, char *buf,
			  size_t cap)
{
	size_t n = 0, s = (size_t)(a->val - x->p);
	bool over = false;
	enum cc_err err =
		cx_decode(x, s, s + a->val_len, true, buf, cap, &n, &over);

	if (err)
		return err;
	if (over)
		return cx_fail(x, CC_ERR_MALFORMED, "attribute value too long");
	return CC_OK;
}

/* xmlns and xmlns:p on the element being opened */
enum cc_err cx_bind_namespaces(struct px *x)
{
	char uri[TEXT_CAP];
	enum cc_err err;

	for (unsigned i = 0; i < x->n_at; i++) {
		const struct attr *a = &x->at[i];
		bool def = cx_bytes_eq(a->name, a->name_len, "xmlns");

		if (!def && (a->name_len <= 6 ||
			     strncmp((const char *)a->name, "xmlns:", 6) != 0))
			continue;
		if (x->n_nsb == NSB_MAX)
			return cx_fail(x, CC_ERR_FULL,
				       "too many namespace declarations");
		err = cx_attr_value(x, a, uri, sizeof(uri));
		if (err)
			return err;
		x->nsb[x->n_nsb++] = (struct nsb){
			.prefix = def ? NULL : a->name + 6,
			.plen = def ? 0 : a->name_len - 6,
			.ns = ns_classify(uri),
		};
	}
	return CC_OK;
}

/* an unprefixed attribute of the element, or NULL */
const struct attr *cx_find_attr(const struct px *x, const char *name)
{
	for (unsigned i = 0; i < x->n_at; i++)
		if (cx_bytes_eq(x->at[i].name, x->at[i].name_len, name))
			return &x->at[i];
	return NULL;
}

/* Read attributes up to '>' or "/>"; *empty for "/>". */
enum cc_err cx_read_attrs(struct px *x, bool *empty)
{
	enum cc_err err;

	x->n_at = 0;
	for (;;) {
		size_t before = x->pos;
		struct attr a;
		uint8_t q;

		cx_skip_ws(x);
		if (x->pos >= x->len)
			return cx_fail(x, CC_ERR_TRUNCATED,
				       "input ends in a tag");
		if (x->p[x->pos] == '>' || cx_at(x, "/>")) {
			*empty = x->p[x->pos] == '/';
			x->pos += *empty ? 2 : 1;
			return CC_OK;
		}
		if (before == x->pos)
			return cx_fail(x, CC_ERR_MALFORMED,
				       "no space before an attribute");
		err = cx_read_name(x, &a.name, &a.name_len);
		if (err)
			return err;
		cx_skip_ws(x);
		if (x->pos >= x->len)
			return cx_fail(x, CC_ERR_TRUNCATED,
				       "input ends in a tag");
		if (x->p[x->pos] != '=')
			return cx_fail(x, CC_ERR_MALFORMED,
				       "attribute without '='");
		x->pos++;
		cx_skip_ws(x);
		if (x->pos >= x->len)
			return cx_fail(x, CC_ERR_TRUNCATED,
				       "input ends in a tag");
		q = x->p[x->pos];
		if (q != '"' && q != '\'')
			return cx_fail(x, CC_ERR_MALFORMED,
				       "unquoted attribute");
		a.val = x->p + ++x->pos;
		while (x->pos < x->len && x->p[x->pos] != q)
			x->pos++;
		if (x->pos >= x->len)
			return cx_fail(x, CC_ERR_TRUNCATED,
				       "unterminated attribute");
		a.val_len = (size_t)(x->p + x->pos - a.val);
		x->pos++;
		err = cx_decode(x, (size_t)(a.val - x->p),
				(size_t)(a.val - x->p) + a.val_len, true, NULL,
				0, NULL, NULL);
		if (err)
			return err;
		for (unsigned i = 0; i < x->n_at; i++)
			if (x->at[i].name_len == a.name_len &&
			    strncmp((const char *)x->at[i].name,
				    (const char *)a.name, a.name_len) == 0)
				return cx_fail(x, CC_ERR_MALFORMED,
					       "duplicate attribute");
		if (x->n_at == ATTR_MAX)
			return cx_fail(x, CC_ERR_FULL, "too many attributes");
		x->at[x->n_at++] = a;
	}
}
