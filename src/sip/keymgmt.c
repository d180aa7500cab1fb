/*
 * keymgmt.c -- RFC 4567 a=key-mgmt in SDP: parse, bidding-down check,
 * build; and a minimal SDP body around it.
 *
 * The SDP is untrusted text read line by line within [sdp, sdp + len);
 * no NUL terminator is needed and a NUL byte inside is malformed.
 */
#include <conclave/mikey_wire.h>
#include <conclave/sipglue.h>

#include "sip_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool sipglue_next_line(const char **cur, const char *end,
		       struct sipglue_line *l)
{
	const char *s = *cur, *e;

	if (s >= end)
		return false;
	e = memchr(s, '\n', (size_t)(end - s));
	*cur = e ? e + 1 : end;
	if (!e)
		e = end;
	if (e > s && e[-1] == '\r')
		e--;
	l->p = s;
	l->n = (size_t)(e - s);
	return true;
}

bool sipglue_has_prefix(const struct sipglue_line *l, const char *pfx)
{
	size_t n = strlen(pfx);

	return l->n >= n && cc_ct_equal(l->p, pfx, n);
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Copy the next space-separated token of [*p, end) into out. */
static enum cc_err token(const char **p, const char *end, char *out, size_t cap)
{
	const char *s = *p, *e;

	while (s < end && *s == ' ')
		s++;
	for (e = s; e < end && *e != ' '; e++)
		;
	if (e == s)
		return CC_ERR_MALFORMED;
	if ((size_t)(e - s) >= cap)
		return CC_ERR_SPACE;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	*p = e;
	return CC_OK;
}

/* A numeric payload type 0..127, else -1. */
static int pt_of(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	if (!n || n > 3)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= 127 ? v : -1;
}

/* The numeric formats: the first one, then the rest of the line. */
static void fmt_list(const char *first, const char **p, const char *end,
		     struct sipglue_media *m)
{
	const char *s;
	int v;

	m->npts = 0;
	v = pt_of(first, strlen(first));
	if (v >= 0)
		m->pts[m->npts++] = (uint8_t)v;
	while (*p < end && m->npts < sizeof(m->pts)) {
		while (*p < end && **p == ' ')
			(*p)++;
		for (s = *p; *p < end && **p != ' '; (*p)++)
			;
		v = pt_of(s, (size_t)(*p - s));
		if (v >= 0)
			m->pts[m->npts++] = (uint8_t)v;
	}
}

/* a=rtpmap:<pt> opus/48000[/2] on the current m-line (RFC 7587 §7). */
static void parse_rtpmap(const struct sipglue_line *l, struct sipglue_media *m)
{
	const char *p = l->p + strlen("a=rtpmap:"), *end = l->p + l->n, *s;
	int v;

	for (s = p; p < end && *p != ' '; p++)
		;
	v = pt_of(s, (size_t)(p - s));
	while (p < end && *p == ' ')
		p++;
	if (v >= 96 && end - p >= 10 && !strncasecmp(p, "opus/48000", 10) &&
	    (end - p == 10 || p[10] == '/') && !m->opus_pt)
		m->opus_pt = (uint8_t)v;
}

/* m=<media> <port>[/<n>] <proto> <fmt> ... (RFC 4566 §5.14) */
enum cc_err sipglue_parse_media(const struct sipglue_line *l,
				struct sipglue_media *m)
{
	const char *p = l->p + 2, *end = l->p + l->n;
	char port[16];
	unsigned long v = 0;
	size_t i;
	enum cc_err err;

	err = token(&p, end, m->type, sizeof(m->type));
	if (!err)
		err = token(&p, end, port, sizeof(port));
	if (!err)
		err = token(&p, end, m->proto, sizeof(m->proto));
	if (!err)
		err = token(&p, end, m->fmt, sizeof(m->fmt));
	if (err)
		return err == CC_ERR_SPACE ? CC_ERR_MALFORMED : err;
	fmt_list(m->fmt, &p, end, m);
	for (i = 0; port[i] && port[i] != '/'; i++) {
		if (port[i] < '0' || port[i] > '9')
			return CC_ERR_MALFORMED;
		v = v * 10 + (unsigned long)(port[i] - '0');
		if (v > 65535)
			return CC_ERR_MALFORMED;
	}
	if (!i)
		return CC_ERR_MALFORMED;
	m->port = (uint16_t)v;
	return CC_OK;
}

/* a=key-mgmt:[SP]<prtcl-id> SP <keymgmt-data> (RFC 4567 §3.1) */
static enum cc_err parse_km(const struct sipglue_line *l, struct sipglue_km *km)
{
	const char *p = l->p + strlen("a=key-mgmt:"), *end = l->p + l->n;
	const char *id;
	size_t idn;
	enum cc_err err;

	if (p < end && *p == ' ')
		p++;
	for (id = p; p < end && is_alnum(*p); p++)
		;
	idn = (size_t)(p - id);
	if (!idn || p >= end || *p != ' ')
		return CC_ERR_MALFORMED;
	if (idn >= SIPGLUE_KMPID_MAX || km->nids >= SIPGLUE_MAX_KMPIDS)
		return CC_ERR_UNSUPPORTED;
	memcpy(km->ids[km->nids], id, idn);
	km->ids[km->nids][idn] = '\0';
	km->nids++;
	if (strcmp(km->ids[km->nids - 1], SIPGLUE_KMPID_MIKEY))
		return CC_OK; /* another protocol: only its id matters */
	if (km->mikey_len)
		return CC_ERR_UNSUPPORTED;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	err = cc_b64_decode(p + 1, (size_t)(end - p - 1), km->mikey,
			    sizeof(km->mikey), &km->mikey_len);
	if (!err && !km->mikey_len)
		err = CC_ERR_MALFORMED;
	return err;
}

static enum cc_err parse_line(const struct sipglue_line *l, bool media,
			      struct sipglue_km *km)
{
	if (sipglue_has_prefix(l, "m=")) {
		if (km->nmedia >= SIPGLUE_MAX_MEDIA)
			return CC_ERR_UNSUPPORTED;
		return sipglue_parse_media(l, &km->media[km->nmedia++]);
	}
	if (media && sipglue_has_prefix(l, "a=rtpmap:")) {
		parse_rtpmap(l, &km->media[km->nmedia - 1]);
		return CC_OK;
	}
	if (!sipglue_has_prefix(l, "a=key-mgmt:"))
		return CC_OK;
	if (media)
		return CC_ERR_UNSUPPORTED;
	return parse_km(l, km);
}

enum cc_err sipglue_km_parse(const char *sdp, size_t len, struct sipglue_km *km)
{
	const char *cur = sdp, *end;
	struct sipglue_line l;
	bool first = true;
	enum cc_err err = CC_OK;

	if (!km)
		return CC_ERR_INVAL;
	memset(km, 0, sizeof(*km));
	if (!sdp || !len)
		return CC_ERR_MALFORMED;
	if (len > SIPGLUE_MAX_SDP)
		return CC_ERR_SPACE;
	if (memchr(sdp, '\0', len))
		return CC_ERR_MALFORMED;
	end = sdp + len;
	while (!err && sipglue_next_line(&cur, end, &l)) {
		if (first && (l.n != 3 || !cc_ct_equal(l.p, "v=0", 3)))
			err = CC_ERR_MALFORMED;
		else if (!first)
			err = parse_line(&l, km->nmedia > 0, km);
		first = false;
	}
	if (!err && !km->mikey_len)
		err = CC_ERR_MISSING;
	if (err)
		memset(km, 0, sizeof(*km));
	return err;
}

enum cc_err sipglue_km_idlist(const struct sipglue_km *km, char *out,
			      size_t cap)
{
	size_t i, n = 0, l;

	if (!km || !out || !cap)
		return CC_ERR_INVAL;
	out[0] = '\0';
	for (i = 0; i < km->nids; i++) {
		l = strlen(km->ids[i]);
		if (n + l + (i ? 1 : 0) >= cap)
			return CC_ERR_SPACE;
		if (i)
			out[n++] = ';';
		memcpy(out + n, km->ids[i], l + 1);
		n += l;
	}
	return CC_OK;
}

enum cc_err sipglue_km_check_ids(const struct sipglue_km *km, bool strict)
{
	char list[SIPGLUE_IDLIST_MAX];
	const struct mikey_pl *pl = NULL;
	struct mikey_msg m;
	enum cc_err err;
	size_t i;

	if (!km || !km->mikey_len)
		return CC_ERR_INVAL;
	err = sipglue_km_idlist(km, list, sizeof(list));
	if (!err)
		err = mikey_decode(km->mikey, km->mikey_len, &m, NULL);
	if (err)
		return err;
	for (i = 0; i < m.ch.n; i++)
		if (m.ch.pl[i].type == MIKEY_PT_GENEXT &&
		    m.ch.pl[i].u.ext.type == MIKEY_GENEXT_SDP_IDS) {
			pl = &m.ch.pl[i];
			break;
		}
	if (!pl)
		return strict || km->nids != 1 ? CC_ERR_POLICY : CC_OK;
	/* RFC 4567 §7: the authenticated list must equal the SDP's */
	if (pl->u.ext.data.len != strlen(list) ||
	    !cc_ct_equal(pl->u.ext.data.p, list, pl->u.ext.data.len))
		return CC_ERR_POLICY;
	return CC_OK;
}

enum cc_err sipglue_km_attr(const uint8_t *mikey, size_t len, char *out,
			    size_t cap, size_t *outlen)
{
	static const char pfx[] = "a=key-mgmt:" SIPGLUE_KMPID_MIKEY " ";
	size_t n = sizeof(pfx) - 1, b64;
	enum cc_err err;

	if (!mikey || !len || !out || !outlen)
		return CC_ERR_INVAL;
	b64 = 4 * ((len + 2) / 3);
	if (cap < n + b64 + 3)
		return CC_ERR_SPACE;
	memcpy(out, pfx, n);
	err = cc_b64_encode(mikey, len, out + n, cap - n);
	if (err)
		return err;
	n += b64;
	memcpy(out + n, "\r\n", 3);
	*outlen = n + 2;
	return CC_OK;
}

/* Append printf output at *n; CC_ERR_SPACE if it does not fit. */
static enum cc_err put(char *out, size_t cap, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum cc_err put(char *out, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*n >= cap)
		return CC_ERR_SPACE;
	va_start(ap, fmt);
	r = vsnprintf(out + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= cap - *n)
		return CC_ERR_SPACE;
	*n += (size_t)r;
	return CC_OK;
}

static enum cc_err put_media(const struct sipglue_sdp_opts *o, char *out,
			     size_t cap, size_t *n)
{
	enum cc_err err = CC_OK;
	size_t i;

	for (i = 0; !err && i < o->nmedia; i++) {
		const struct sipglue_media *m = &o->media[i];

		err = put(out, cap, n, "m=%s %u %s %s\r\n", m->type,
			  (unsigned)m->port, m->proto, m->fmt);
		if (!err && m->rtpmap[0])
			err = put(out, cap, n, "a=rtpmap:%s\r\n", m->rtpmap);
		if (!err && o->dir)
			err = put(out, cap, n, "a=%s\r\n", o->dir);
	}
	return err;
}

enum cc_err sipglue_sdp_build(const struct sipglue_sdp_opts *o, char *out,
			      size_t cap, size_t *outlen)
{
	const char *af;
	size_t n = 0, k = 0;
	enum cc_err err;

	if (!o || !o->addr || !out || !outlen || (o->nmedia && !o->media))
		return CC_ERR_INVAL;
	af = strchr(o->addr, ':') ? "IP6" : "IP4";
	err = put(out, cap, &n,
		  "v=0\r\no=- %" PRIu64 " %" PRIu64 " IN %s %s\r\n"
		  "s=-\r\nc=IN %s %s\r\nt=0 0\r\n",
		  o->sess_id, o->sess_ver, af, o->addr, af, o->addr);
	if (!err && o->mikey)
		err = sipglue_km_attr(o->mikey, o->mikey_len, out + n, cap - n,
				      &k);
	n += k;
	if (!err)
		err = put_media(o, out, cap, &n);
	if (err)
		return err;
	*outlen = n;
	return CC_OK;
}

enum cc_err sipglue_warning_306(const char *agent, char *out, size_t cap)
{
	size_t n = 0;

	if (!agent || !out)
		return CC_ERR_INVAL;
	return put(out, cap, &n, "306 %s \"Attribute not understood\"", agent);
}
