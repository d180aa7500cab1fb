/*
 * confinfo_parse.c -- a small, strict, bounded reader of
 * application/conference-info+xml (RFC 4575) for participants.
 *
 * Not a general XML parser: it checks well-formedness (XML 1.0: UTF-8,
 * Char, tags that nest and match, unique attributes, the five predefined
 * entities and character references, namespaces that are declared) and
 * maps the subset of RFC 4575 in struct confinfo_user; every other
 * element, in any namespace, is skipped with its subtree. It refuses a
 * DOCTYPE (so no entity expansion), more than CONFINFO_DEPTH_MAX levels
 * and more than CONFINFO_DOC_MAX bytes. One forward pass over the input,
 * every scan bounded by the input's end, no recursion: garbage cannot make
 * it crash, loop or grow without bound.
 */
#include "confinfo_lex.h"

#include <stdlib.h>
#include <string.h>

/* What an open element means; leaf kinds (>= N__LEAF) collect text. */
enum node {
	N_IGNORE = 0, /* not ours: subtree skipped */
	N_ROOT,
	N_CSTATE,
	N_USERS,
	N_USER,
	N_ENDPOINT,
	N_MEDIA,
	N__LEAF,
	N_CS_COUNT = N__LEAF,
	N_CS_ACTIVE,
	N_CS_EPOCH,
	N_DISPLAY,
	N_STATUS,
	N_JOINING,
	N_DISC,
	N_TRUST,
	N_EPOCH,
	N_M_TYPE,
	N_M_SRCID,
};

static const char *st_name(unsigned v)
{
	return confinfo_status_name((enum confinfo_status)v);
}

static const char *join_name(unsigned v)
{
	return v == CONFINFO_JOIN_REFER ?
		       "" :
		       confinfo_joining_name((enum confinfo_joining)v);
}

static const char *disc_name(unsigned v)
{
	return confinfo_disconnection_name((enum confinfo_disconnection)v);
}

static const char *trust_name(unsigned v)
{
	return confinfo_trust_name((enum confinfo_trust)v);
}

static const char *mt_name(unsigned v)
{
	return confinfo_media_type_name((enum confinfo_media_type)v);
}

/* ---- the RFC 4575 subset ---------------------------------------------------- */

struct rule {
	uint8_t parent, ns;
	const char *local;
	uint8_t node;
};

static const struct rule rules[] = {
	{ N_ROOT, NS_CI, "conference-state", N_CSTATE },
	{ N_ROOT, NS_CI, "users", N_USERS },
	{ N_CSTATE, NS_CI, "user-count", N_CS_COUNT },
	{ N_CSTATE, NS_CI, "active", N_CS_ACTIVE },
	{ N_CSTATE, NS_CC, "key-epoch", N_CS_EPOCH },
	{ N_USERS, NS_CI, "user", N_USER },
	{ N_USER, NS_CI, "display-text", N_DISPLAY },
	{ N_USER, NS_CI, "endpoint", N_ENDPOINT },
	{ N_ENDPOINT, NS_CI, "status", N_STATUS },
	{ N_ENDPOINT, NS_CI, "joining-method", N_JOINING },
	{ N_ENDPOINT, NS_CI, "disconnection-method", N_DISC },
	{ N_ENDPOINT, NS_CI, "media", N_MEDIA },
	{ N_ENDPOINT, NS_CC, "trust", N_TRUST },
	{ N_ENDPOINT, NS_CC, "key-epoch", N_EPOCH },
	{ N_MEDIA, NS_CI, "type", N_M_TYPE },
	{ N_MEDIA, NS_CI, "src-id", N_M_SRCID },
};

static uint8_t classify(uint8_t parent, uint8_t ns, const uint8_t *local,
			size_t llen)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].parent == parent && rules[i].ns == ns &&
		    cx_bytes_eq(local, llen, rules[i].local))
			return rules[i].node;
	return N_IGNORE;
}

/* optional state="..." (RFC 4575 §4.4; default full) */
static enum cc_err read_state(struct px *x, enum confinfo_state *st)
{
	const struct attr *a = cx_find_attr(x, "state");
	char v[TEXT_CAP];
	enum cc_err err;

	*st = CONFINFO_FULL;
	if (!a)
		return CC_OK;
	err = cx_attr_value(x, a, v, sizeof(v));
	if (err)
		return err;
	if (!cx_state(cx_trim(v), st))
		return cx_fail(x, CC_ERR_MALFORMED, "bad state attribute");
	return CC_OK;
}

static enum cc_err read_entity(struct px *x, char *out)
{
	const struct attr *a = cx_find_attr(x, "entity");
	char v[TEXT_CAP];
	enum cc_err err;

	if (!a)
		return cx_fail(x, CC_ERR_MISSING, "entity attribute missing");
	err = cx_attr_value(x, a, v, sizeof(v));
	if (err)
		return err;
	if (!v[0])
		return cx_fail(x, CC_ERR_MALFORMED, "empty entity");
	strcpy(out, v);
	return CC_OK;
}

static enum cc_err open_root(struct px *x)
{
	struct confinfo *d = x->doc;
	const struct attr *a = cx_find_attr(x, "version");
	char v[TEXT_CAP];
	enum cc_err err;

	err = read_entity(x, d->entity);
	if (!err)
		err = read_state(x, &d->doc_state);
	if (err)
		return err;
	if (!a) /* RFC 4575 §4.3: MUST be included */
		return cx_fail(x, CC_ERR_MISSING, "version attribute missing");
	err = cx_attr_value(x, a, v, sizeof(v));
	if (err)
		return err;
	if (!cx_u32(cx_trim(v), &d->version))
		return cx_fail(x, CC_ERR_MALFORMED, "bad version");
	return CC_OK;
}

static enum cc_err open_user(struct px *x, uint8_t *node)
{
	struct confinfo *d = x->doc;
	char entity[CONFINFO_URI_MAX + 1];
	enum confinfo_state st;
	enum cc_err err;

	err = read_entity(x, entity);
	if (!err)
		err = read_state(x, &st);
	if (err)
		return err;
	if (d->n_users + d->del_last.n >= CONFINFO_USERS_MAX)
		return cx_fail(x, CC_ERR_FULL, "too many users");
	x->user = NULL;
	x->user_has_ep = false;
	if (st == CONFINFO_DELETED) { /* §4.4: its children are ignored */
		*node = N_IGNORE;
		err = ci_names_add(&d->del_last, entity);
		return err ? cx_fail(x, err, "out of memory") : CC_OK;
	}
	err = ci_users_reserve(d, d->n_users + 1);
	if (err)
		return cx_fail(x, err, "out of memory");
	x->user = &d->users[d->n_users++];
	memset(x->user, 0, sizeof(*x->user));
	strcpy(x->user->u.entity, entity);
	/* a user in a full document is full whatever it says (§4.4) */
	x->user->state = d->doc_state == CONFINFO_PARTIAL ? (uint8_t)st :
							    CONFINFO_FULL;
	return CC_OK;
}

static enum cc_err open_endpoint(struct px *x, uint8_t *node)
{
	enum confinfo_state st;
	enum cc_err err;

	if (!x->user || x->user_has_ep) {
		*node = N_IGNORE; /* the model keeps the first endpoint */
		return CC_OK;
	}
	err = read_state(x, &st);
	if (err)
		return err;
	x->user_has_ep = true;
	x->user->present |= P_ENDPOINT;
	x->user->ep_state = (uint8_t)st;
	if (st == CONFINFO_DELETED)
		*node = N_IGNORE;
	return CC_OK;
}

static enum cc_err open_media(struct px *x, uint8_t *node)
{
	struct confinfo_user *u = &x->user->u;
	const struct attr *a = cx_find_attr(x, "id");
	char v[TEXT_CAP];
	uint32_t id;
	enum cc_err err;

	x->media = NULL;
	if (!a)
		return cx_fail(x, CC_ERR_MISSING, "media id missing");
	err = cx_attr_value(x, a, v, sizeof(v));
	if (err)
		return err;
	if (!cx_u32(cx_trim(v), &id)) {
		*node = N_IGNORE; /* an id we cannot key on: skipped */
		return CC_OK;
	}
	for (size_t i = 0; i < u->n_media; i++)
		if (u->media[i].id == id)
			return cx_fail(x, CC_ERR_MALFORMED,
				       "duplicate media id");
	if (u->n_media == CONFINFO_MEDIA_MAX)
		return cx_fail(x, CC_ERR_FULL, "too many media");
	x->media = &u->media[u->n_media++];
	x->media->id = id;
	x->user->present |= P_MEDIA;
	return CC_OK;
}

/* What the element means here, and read its attributes. */
static enum cc_err open_node(struct px *x, uint8_t parent, uint8_t ns,
			     const uint8_t *local, size_t llen, uint8_t *node)
{
	if (!x->depth) {
		if (ns != NS_CI || !cx_bytes_eq(local, llen, "conference-info"))
			return cx_fail(x, CC_ERR_MALFORMED,
				       "root is not conference-info");
		*node = N_ROOT;
		return open_root(x);
	}
	*node = classify(parent, ns, local, llen);
	switch (*node) {
	case N_CSTATE:
		x->doc->cs = (struct confinfo_conf_state){ .present = true };
		return CC_OK;
	case N_USERS:
		x->doc->users_present = true;
		return read_state(x, &x->doc->users_state);
	case N_USER:
		return open_user(x, node);
	case N_ENDPOINT:
		return open_endpoint(x, node);
	case N_MEDIA:
		return open_media(x, node);
	default:
		return CC_OK;
	}
}

static enum cc_err leaf_endpoint(struct px *x, uint8_t node, const char *t)
{
	struct confinfo_user *u = &x->user->u;

	switch (node) {
	case N_STATUS:
		u->status = cx_lookup(st_name, CONFINFO_ST_OTHER, t,
				      CONFINFO_ST_OTHER);
		x->user->present |= P_STATUS;
		return CC_OK;
	case N_JOINING:
		u->joining = cx_lookup(join_name, CONFINFO_JOIN_OTHER, t,
				       CONFINFO_JOIN_OTHER);
		x->user->present |= P_JOINING;
		return CC_OK;
	case N_DISC:
		u->disconnection = cx_lookup(disc_name, CONFINFO_DISC_OTHER, t,
					     CONFINFO_DISC_OTHER);
		x->user->present |= P_DISC;
		return CC_OK;
	case N_TRUST:
		u->trust = cx_lookup(trust_name, CONFINFO_TRUST_OTHER, t,
				     CONFINFO_TRUST_OTHER);
		x->user->present |= P_TRUST;
		return CC_OK;
	case N_EPOCH:
		if (!cx_u32(t, &u->epoch))
			return cx_fail(x, CC_ERR_MALFORMED, "bad cc:key-epoch");
		x->user->present |= P_EPOCH;
		return CC_OK;
	case N_M_TYPE:
		if (x->media)
			x->media->type = cx_lookup(mt_name,
						   CONFINFO_MEDIA_OTHER, t,
						   CONFINFO_MEDIA_OTHER);
		return CC_OK;
	default: /* N_M_SRCID: xs:string; a non-decimal one is not an SSRC */
		if (x->media)
			x->media->has_ssrc = cx_u32(t, &x->media->ssrc);
		return CC_OK;
	}
}

/* The text of a leaf element, at its end tag. */
static enum cc_err close_leaf(struct px *x, uint8_t node)
{
	struct confinfo_conf_state *cs = &x->doc->cs;
	char *t;

	if (x->text_over)
		return cx_fail(x, CC_ERR_MALFORMED, "element text too long");
	if (node == N_DISPLAY) { /* kept exactly: text, not a token */
		if (strlen(x->text) > CONFINFO_TEXT_MAX)
			return cx_fail(x, CC_ERR_MALFORMED,
				       "display-text too long");
		strcpy(x->user->u.display, x->text);
		x->user->present |= P_DISPLAY;
		return CC_OK;
	}
	t = cx_trim(x->text);
	switch (node) {
	case N_CS_COUNT:
		return cx_u32(t, &cs->users) ?
			       CC_OK :
			       cx_fail(x, CC_ERR_MALFORMED, "bad user-count");
	case N_CS_ACTIVE:
		return cx_bool(t, &cs->active) ?
			       CC_OK :
			       cx_fail(x, CC_ERR_MALFORMED, "bad active");
	case N_CS_EPOCH:
		return cx_u32(t, &cs->epoch) ?
			       CC_OK :
			       cx_fail(x, CC_ERR_MALFORMED, "bad cc:key-epoch");
	default:
		return leaf_endpoint(x, node, t);
	}
}

static enum cc_err close_node(struct px *x, uint8_t node)
{
	struct ci_user *cu = x->user;

	if (node >= N__LEAF)
		return close_leaf(x, node);
	if (node == N_ENDPOINT && cu && (cu->present & P_REFERRED) &&
	    cu->u.joining == CONFINFO_JOIN_DIALED_IN)
		cu->u.joining = CONFINFO_JOIN_REFER; /* §5.7.2 */
	if (node == N_MEDIA)
		x->media = NULL;
	if (node == N_USER)
		x->user = NULL;
	return CC_OK;
}

/* ---- tags ------------------------------------------------------------------- */

static enum cc_err start_tag(struct px *x)
{
	const uint8_t *name, *local, *colon;
	size_t nlen, plen;
	uint8_t ns, node, parent = x->depth ? x->st[x->depth - 1].node : 0;
	unsigned mark = x->n_nsb;
	bool empty;
	enum cc_err err;

	x->pos++; /* '<' */
	err = cx_read_name(x, &name, &nlen);
	if (!err)
		err = cx_read_attrs(x, &empty);
	if (!err)
		err = cx_bind_namespaces(x);
	if (err)
		return err;
	colon = memchr(name, ':', nlen);
	plen = colon ? (size_t)(colon - name) : 0;
	local = colon ? colon + 1 : name;
	err = cx_ns_lookup(x, colon ? name : NULL, plen, &ns);
	if (err)
		return err;
	if (x->depth && parent == N_IGNORE)
		node = N_IGNORE;
	else if (x->depth && parent >= N__LEAF)
		node = N_IGNORE; /* markup inside a leaf: skipped */
	else if ((err = open_node(x, parent, ns, local,
				  nlen - (size_t)(local - name), &node)))
		return err;
	if (x->depth == CONFINFO_DEPTH_MAX)
		return cx_fail(x, CC_ERR_FULL, "nested too deeply");
	if (parent == N_ENDPOINT && x->user && ns == NS_CI &&
	    cx_bytes_eq(local, nlen - (size_t)(local - name), "referred"))
		x->user->present |= P_REFERRED;
	x->st[x->depth++] = (struct frame){ name, nlen, mark, node };
	if (node >= N__LEAF) {
		x->text_len = 0;
		x->text[0] = 0;
		x->text_over = false;
	}
	if (!empty)
		return CC_OK;
	x->depth--;
	x->n_nsb = mark;
	return close_node(x, node);
}

static enum cc_err end_tag(struct px *x)
{
	const uint8_t *name;
	size_t nlen;
	struct frame *f;
	enum cc_err err;

	x->pos += 2; /* "</" */
	err = cx_read_name(x, &name, &nlen);
	if (err)
		return err;
	cx_skip_ws(x);
	if (x->pos >= x->len)
		return cx_fail(x, CC_ERR_TRUNCATED, "input ends in an end tag");
	if (x->p[x->pos] != '>')
		return cx_fail(x, CC_ERR_MALFORMED, "bad end tag");
	x->pos++;
	f = &x->st[x->depth - 1];
	if (f->name_len != nlen ||
	    strncmp((const char *)f->name, (const char *)name, nlen) != 0)
		return cx_fail(x, CC_ERR_MALFORMED, "mismatched end tag");
	x->depth--;
	x->n_nsb = f->nsb_mark;
	return close_node(x, f->node);
}

/* Character data up to the next '<' (or a CDATA section's content). */
static enum cc_err text(struct px *x, size_t s, size_t e)
{
	bool leaf = x->st[x->depth - 1].node >= N__LEAF;

	return cx_decode(x, s, e, false, leaf ? x->text : NULL, sizeof(x->text),
			 &x->text_len, &x->text_over);
}

static enum cc_err content_step(struct px *x)
{
	size_t s = x->pos;

	if (cx_at(x, "</"))
		return end_tag(x);
	if (cx_at(x, "<!--"))
		return cx_skip_comment(x);
	if (cx_at(x, "<?"))
		return cx_skip_past(x, "?>", "unterminated <?...?>");
	if (cx_at(x, "<![CDATA[")) {
		enum cc_err err;

		x->pos += 9;
		s = x->pos;
		err = cx_skip_past(x, "]]>", "unterminated CDATA");
		if (err)
			return err;
		/* raw: no references inside CDATA */
		for (size_t i = s; i < x->pos - 3; i++) {
			bool leaf = x->st[x->depth - 1].node >= N__LEAF;
			uint8_t c = x->p[i];

			if (leaf && c != '\r')
				cx_put_raw(x->text, sizeof(x->text),
					   &x->text_len, &x->text_over, c);
		}
		x->text[x->text_len] = 0;
		return CC_OK;
	}
	if (cx_at(x, "<!"))
		return cx_fail(x, CC_ERR_MALFORMED, "unexpected <!");
	if (x->p[x->pos] == '<')
		return start_tag(x);
	while (x->pos < x->len && x->p[x->pos] != '<') {
		if (x->p[x->pos] == '>' && x->pos - s >= 2 &&
		    x->p[x->pos - 1] == ']' && x->p[x->pos - 2] == ']')
			return cx_fail(x, CC_ERR_MALFORMED, "\"]]>\" in text");
		x->pos++;
	}
	return text(x, s, x->pos);
}

/* ---- documents --------------------------------------------------------------- */

static enum cc_err finish(struct px *x)
{
	struct confinfo *d = x->doc;
	struct ci_names *g = &d->del_last;

	if (d->n_users)
		qsort(d->users, d->n_users, sizeof(d->users[0]), ci_user_cmp);
	if (g->n)
		qsort(g->e, g->n, sizeof(g->e[0]), ci_name_cmp);
	/* RFC 4575 §4.5: the key is unique among siblings */
	for (size_t i = 1; i < d->n_users; i++)
		if (!strcmp(d->users[i - 1].u.entity, d->users[i].u.entity))
			return cx_fail(x, CC_ERR_MALFORMED,
				       "duplicate user entity");
	for (size_t i = 1; i < g->n; i++)
		if (!strcmp(g->e[i - 1], g->e[i]))
			return cx_fail(x, CC_ERR_MALFORMED,
				       "duplicate user entity");
	for (size_t i = 0; i < d->n_users && g->n; i++)
		if (bsearch(d->users[i].u.entity, g->e, g->n, sizeof(g->e[0]),
			    ci_name_cmp))
			return cx_fail(x, CC_ERR_MALFORMED,
				       "duplicate user entity");
	return CC_OK;
}

static enum cc_err parse(struct px *x)
{
	size_t bad;
	enum cc_err err;

	if (x->len > CONFINFO_DOC_MAX)
		return cx_fail(x, CC_ERR_FULL, "document too large");
	if (x->len >= 3 && x->p[0] == 0xef && x->p[1] == 0xbb &&
	    x->p[2] == 0xbf)
		x->pos = 3; /* a UTF-8 byte order mark */
	if (!ci_xml_chars_ok(x->p + x->pos, x->len - x->pos, &bad)) {
		x->pos += bad;
		return cx_fail(x, CC_ERR_MALFORMED, "not UTF-8 XML characters");
	}
	err = cx_skip_misc(x);
	if (err)
		return err;
	if (x->pos >= x->len)
		return cx_fail(x, CC_ERR_TRUNCATED, "no root element");
	if (x->p[x->pos] != '<' || cx_at(x, "</") || cx_at(x, "<!"))
		return cx_fail(x, CC_ERR_MALFORMED, "no root element");
	err = start_tag(x);
	while (!err && x->depth) {
		if (x->pos >= x->len)
			return cx_fail(x, CC_ERR_TRUNCATED,
				       "input ends in the "
				       "document");
		err = content_step(x);
	}
	if (!err)
		err = cx_skip_misc(x);
	if (!err && x->pos != x->len)
		err = cx_fail(x, CC_ERR_TRAILING,
			      "content after the root element");
	return err ? err : finish(x);
}

enum cc_err confinfo_parse(struct confinfo *doc, const char *xml, size_t len,
			   struct confinfo_diag *diag)
{
	struct px *x;
	enum cc_err err;

	if (diag)
		*diag = (struct confinfo_diag){ NULL, 0 };
	if (!doc || (!xml && len))
		return CC_ERR_INVAL;
	ci_reset(doc);
	x = calloc(1, sizeof(*x));
	if (!x)
		return CC_ERR_NOMEM;
	x->p = (const uint8_t *)(xml ? xml : "");
	x->len = len;
	x->diag = diag;
	x->doc = doc;
	err = parse(x);
	free(x);
	if (err)
		ci_reset(doc);
	return err;
}
