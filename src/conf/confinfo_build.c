/*
 * confinfo_build.c -- application/conference-info+xml writer (RFC 4575
 * §4, §5): full and partial documents into a caller's bounded buffer.
 *
 * Every attribute value and every text node goes through xw_esc():
 * identities are attacker-influenced (anyone the KMS knows can pick a URI
 * such as sip:"><x/>@evil), so nothing reaches the output unescaped. The
 * model only holds strings that XML can carry (confinfo_user_put checks
 * UTF-8 and XML 1.0 Char), so escaping is always possible.
 */
#include "confinfo_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A writer that counts what it could not write, so a too small buffer
 * reports the size needed. */
struct xw {
	char *p;
	size_t cap;
	size_t n;
};

static void xw_mem(struct xw *w, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++, w->n++)
		if (w->n < w->cap)
			w->p[w->n] = s[i];
}

static void xw_str(struct xw *w, const char *s)
{
	xw_mem(w, s, strlen(s));
}

static void xw_u32(struct xw *w, uint32_t v)
{
	char b[16];
	int n = snprintf(b, sizeof(b), "%" PRIu32, v);

	xw_mem(w, b, (size_t)n);
}

/* XML 1.0 §2.4, §3.3.3: markup characters become references; in an
 * attribute also quotes and the white space a parser would normalise
 * away; CR everywhere (§2.11 would turn it into LF). */
static void xw_esc(struct xw *w, const char *s, bool attr)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			xw_str(w, "&amp;");
			break;
		case '<':
			xw_str(w, "&lt;");
			break;
		case '>':
			xw_str(w, "&gt;");
			break;
		case '"':
			xw_str(w, attr ? "&quot;" : "\"");
			break;
		case '\'':
			xw_str(w, attr ? "&apos;" : "'");
			break;
		case '\t':
			xw_str(w, attr ? "&#9;" : "\t");
			break;
		case '\n':
			xw_str(w, attr ? "&#10;" : "\n");
			break;
		case '\r':
			xw_str(w, "&#13;");
			break;
		default:
			xw_mem(w, s, 1);
		}
	}
}

static void xw_attr(struct xw *w, const char *name, const char *value)
{
	xw_str(w, " ");
	xw_str(w, name);
	xw_str(w, "=\"");
	xw_esc(w, value, true);
	xw_str(w, "\"");
}

/* <name>text</name> on its own line at indent */
static void xw_leaf(struct xw *w, int indent, const char *name,
		    const char *text)
{
	xw_mem(w, "          ", (size_t)indent);
	xw_str(w, "<");
	xw_str(w, name);
	xw_str(w, ">");
	xw_esc(w, text, false);
	xw_str(w, "</");
	xw_str(w, name);
	xw_str(w, ">\n");
}

static void xw_leaf_u32(struct xw *w, int indent, const char *name, uint32_t v)
{
	char b[16];

	snprintf(b, sizeof(b), "%" PRIu32, v);
	xw_leaf(w, indent, name, b);
}

static enum cc_err xw_finish(struct xw *w, size_t *len)
{
	*len = w->n;
	if (w->n >= w->cap) {
		if (w->cap)
			w->p[0] = 0;
		return CC_ERR_SPACE;
	}
	w->p[w->n] = 0;
	return CC_OK;
}

/* ---- elements ----------------------------------------------------------- */

static void write_head(struct xw *w, const struct confinfo *ci, bool partial)
{
	xw_str(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		  "<conference-info xmlns=\"" CONFINFO_NS "\"\n"
		  " xmlns:cc=\"" CONFINFO_CC_NS "\"\n");
	xw_attr(w, "entity", ci->entity);
	xw_attr(w, "state", partial ? "partial" : "full");
	xw_str(w, " version=\"");
	xw_u32(w, ci->version);
	xw_str(w, "\">\n");
}

/* RFC 4575 §5.5; conference-state-type ends with xs:any ##other */
static void write_conf_state(struct xw *w, const struct confinfo *ci)
{
	xw_str(w, " <conference-state>\n");
	xw_leaf_u32(w, 2, "user-count", ci->cs.users);
	xw_leaf(w, 2, "active", ci->cs.active ? "true" : "false");
	if (ci->cs.epoch)
		xw_leaf_u32(w, 2, "cc:key-epoch", ci->cs.epoch);
	xw_str(w, " </conference-state>\n");
}

static void write_media(struct xw *w, const struct confinfo_media *m)
{
	xw_str(w, "    <media id=\"");
	xw_u32(w, m->id);
	xw_str(w, "\">\n");
	if (m->type != CONFINFO_MEDIA_NONE)
		xw_leaf(w, 5, "type", confinfo_media_type_name(m->type));
	if (m->has_ssrc)
		xw_leaf_u32(w, 5, "src-id", m->ssrc);
	xw_str(w, "    </media>\n");
}

/* RFC 4575 §5.7, in the schema's sequence order: display-text, referred,
 * status, joining-method, joining-info, disconnection-method,
 * disconnection-info, media*, call-info, then ##other (ours). The
 * endpoint's entity is the user's: the identity the KMS authenticated,
 * not a Contact the member chose. */
static void write_endpoint(struct xw *w, const struct confinfo_user *u)
{
	xw_str(w, "   <endpoint");
	xw_attr(w, "entity", u->entity);
	xw_str(w, ">\n");
	if (u->joining == CONFINFO_JOIN_REFER)
		xw_str(w, "    <referred/>\n");
	if (u->status != CONFINFO_ST_NONE)
		xw_leaf(w, 4, "status", confinfo_status_name(u->status));
	if (u->joining != CONFINFO_JOIN_NONE)
		xw_leaf(w, 4, "joining-method",
			confinfo_joining_name(u->joining));
	if (u->disconnection != CONFINFO_DISC_NONE)
		xw_leaf(w, 4, "disconnection-method",
			confinfo_disconnection_name(u->disconnection));
	for (size_t i = 0; i < u->n_media; i++)
		write_media(w, &u->media[i]);
	if (u->trust != CONFINFO_TRUST_NONE)
		xw_leaf(w, 4, "cc:trust", confinfo_trust_name(u->trust));
	if (u->epoch)
		xw_leaf_u32(w, 4, "cc:key-epoch", u->epoch);
	xw_str(w, "   </endpoint>\n");
}

static void write_user(struct xw *w, const struct confinfo_user *u)
{
	xw_str(w, "  <user");
	xw_attr(w, "entity", u->entity);
	xw_str(w, " state=\"full\">\n");
	if (u->display[0])
		xw_leaf(w, 3, "display-text", u->display);
	write_endpoint(w, u);
	xw_str(w, "  </user>\n");
}

static void write_deleted(struct xw *w, const char *entity)
{
	xw_str(w, "  <user");
	xw_attr(w, "entity", entity);
	xw_str(w, " state=\"deleted\"/>\n");
}

/* ---- documents ---------------------------------------------------------- */

enum cc_err confinfo_build_full(const struct confinfo *ci, char *buf,
				size_t cap, size_t *len)
{
	struct xw w = { buf, buf ? cap : 0, 0 };

	if (!ci || !len || ci->version == 0 || !ci->entity[0])
		return CC_ERR_INVAL;
	write_head(&w, ci, false);
	write_conf_state(&w, ci);
	xw_str(&w, " <users>\n");
	for (size_t i = 0; i < ci->n_users; i++)
		write_user(&w, &ci->users[i].u);
	xw_str(&w, " </users>\n</conference-info>\n");
	return xw_finish(&w, len);
}

enum cc_err confinfo_build_partial(const struct confinfo *ci, char *buf,
				   size_t cap, size_t *len)
{
	struct xw w = { buf, buf ? cap : 0, 0 };
	bool users = ci && ci->del_last.n > 0;

	if (!ci || !len || ci->version == 0 || !ci->entity[0])
		return CC_ERR_INVAL;
	write_head(&w, ci, true);
	if (ci->cs_changed)
		write_conf_state(&w, ci);
	for (size_t i = 0; i < ci->n_users && !users; i++)
		users = ci->users[i].changed == ci->version;
	if (users) {
		xw_str(&w, " <users state=\"partial\">\n");
		for (size_t i = 0; i < ci->del_last.n; i++)
			write_deleted(&w, ci->del_last.e[i]);
		for (size_t i = 0; i < ci->n_users; i++)
			if (ci->users[i].changed == ci->version)
				write_user(&w, &ci->users[i].u);
		xw_str(&w, " </users>\n");
	}
	xw_str(&w, "</conference-info>\n");
	return xw_finish(&w, len);
}
