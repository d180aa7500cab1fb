/*
 * confinfo_lex.h -- the lexical layer of the conference-info reader
 * (confinfo_lex.c): bounded scanning, character data and references,
 * attributes and namespaces. confinfo_parse.c maps the RFC 4575 subset.
 */
#ifndef CONCLAVE_CONFINFO_LEX_H
#define CONCLAVE_CONFINFO_LEX_H

#include "confinfo_int.h"

#define ATTR_MAX 32 /* attributes on one element */
#define NSB_MAX 64  /* namespace declarations in scope */
#define TEXT_CAP (CONFINFO_URI_MAX + 1)

enum ns_id {
	NS_NONE = 0, /* no namespace */
	NS_CI,       /* urn:ietf:params:xml:ns:conference-info */
	NS_CC,       /* ours */
	NS_OTHER,
};

struct frame {
	const uint8_t *name; /* raw qname, for the end tag */
	size_t name_len;
	unsigned nsb_mark; /* bindings in scope before this element */
	uint8_t node;
};

struct nsb {
	const uint8_t *prefix; /* NULL = default namespace */
	size_t plen;
	uint8_t ns; /* enum ns_id */
};

struct attr {
	const uint8_t *name, *val;
	size_t name_len, val_len;
};

/* the reader's state: one per confinfo_parse() call, on the heap */
struct px {
	const uint8_t *p;
	size_t len, pos;
	struct confinfo_diag *diag;
	struct confinfo *doc;
	struct frame st[CONFINFO_DEPTH_MAX];
	unsigned depth;
	struct nsb nsb[NSB_MAX];
	unsigned n_nsb;
	struct attr at[ATTR_MAX];
	unsigned n_at;
	char text[TEXT_CAP];
	size_t text_len;
	bool text_over;
	struct ci_user *user; /* the <user> being read (NULL: deleted) */
	bool user_has_ep;     /* its first <endpoint> was read */
	struct confinfo_media *media;
};

/* record where and why in the diag; returns err */
CC_MUST_USE enum cc_err cx_fail(struct px *x, enum cc_err err, const char *why);
/* the input continues with s */
bool cx_at(const struct px *x, const char *s);
bool cx_is_ws(uint8_t c);
void cx_skip_ws(struct px *x);
/* an XML name (loosely: no markup, quote, = or white space) */
CC_MUST_USE enum cc_err cx_read_name(struct px *x, const uint8_t **name,
				     size_t *len);
/* past the terminator end; truncated if the input ends first */
CC_MUST_USE enum cc_err cx_skip_past(struct px *x, const char *end,
				     const char *what);
/* <!-- ... --> */
CC_MUST_USE enum cc_err cx_skip_comment(struct px *x);
/* white space, comments, PIs (prolog, epilog); DOCTYPE refused */
CC_MUST_USE enum cc_err cx_skip_misc(struct px *x);
/* append one byte to a NUL-terminated bounded buffer (*over if full) */
void cx_put_raw(char *out, size_t cap, size_t *n, bool *over, uint8_t c);
/* p[s..e) (text or attribute value) with references resolved into
 * out (may be NULL: check only) */
CC_MUST_USE enum cc_err cx_decode(struct px *x, size_t s, size_t e, bool attr,
				  char *out, size_t cap, size_t *n, bool *over);
/* strip XML white space in place */
char *cx_trim(char *s);
/* strict decimal values, booleans and state attribute tokens */
bool cx_u32(const char *s, uint32_t *v);
bool cx_bool(const char *s, bool *v);
bool cx_state(const char *s, enum confinfo_state *st);
/* the value whose name(v) is s, else other */
unsigned cx_lookup(const char *(*name)(unsigned), unsigned n, const char *s,
		   unsigned other);
bool cx_bytes_eq(const uint8_t *a, size_t al, const char *b);
/* the namespace (enum ns_id) a prefix (NULL: default) is bound to */
CC_MUST_USE enum cc_err cx_ns_lookup(struct px *x, const uint8_t *prefix,
				     size_t plen, uint8_t *ns);
/* decoded attribute value into buf; too long is malformed */
CC_MUST_USE enum cc_err cx_attr_value(struct px *x, const struct attr *a,
				      char *buf, size_t cap);
/* the xmlns / xmlns:p attributes of the element being opened */
CC_MUST_USE enum cc_err cx_bind_namespaces(struct px *x);
/* attributes up to > or /> (*empty), checked and unique */
CC_MUST_USE enum cc_err cx_read_attrs(struct px *x, bool *empty);
/* an unprefixed attribute of the element being opened, or NULL */
const struct attr *cx_find_attr(const struct px *x, const char *name);

#endif
