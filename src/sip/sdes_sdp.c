/*
 * sdes_sdp.c -- RFC 4568 `a=crypto` in an SDP body: find every line with
 * its m-line, and pick the answer's line [RFC 4568 §5.1.2, §7.1.2]; the
 * TLS rule and the Warning text of a refusal (DESIGN.md D8, docs/SDES.md).
 * One line is parsed by sdes.c.
 */
#include <conclave/sdes.h>

#include "sip_int.h"

#include <stdio.h>
#include <string.h>

static bool key_equal(const struct sdes_key *a, const struct sdes_key *b)
{
	return a->master_len == b->master_len &&
	       cc_ct_equal(a->master, b->master, a->master_len);
}

/* ---- find and pick ------------------------------------------------------- */

enum cc_err sdes_sdp_find(const char *sdp, size_t len, struct sdes_sdp *out,
			  enum sdes_reason *why)
{
	const char *cur = sdp, *end = NULL;
	struct sipglue_line l;
	enum sdes_reason r = SDES_R_OK;
	bool first = true;

	if (!out)
		return sdes_result(SDES_R_INVAL, NULL, why);
	memset(out, 0, sizeof(*out));
	if (!sdp || !len || len > SIPGLUE_MAX_SDP || memchr(sdp, '\0', len))
		r = SDES_R_NOT_SDP;
	else
		end = sdp + len;
	while (r == SDES_R_OK && sipglue_next_line(&cur, end, &l)) {
		if (first && (l.n != 3 || !cc_ct_equal(l.p, "v=0", 3)))
			r = SDES_R_NOT_SDP;
		else if (sipglue_has_prefix(&l, "m=")) {
			if (out->nmedia == SIPGLUE_MAX_MEDIA)
				r = SDES_R_TOO_MANY_LINES;
			else if (sipglue_parse_media(
					 &l, &out->media[out->nmedia++]))
				r = SDES_R_NOT_SDP;
		} else if (sipglue_has_prefix(&l, "a=crypto:")) {
			if (!out->nmedia)
				r = SDES_R_SESSION_LEVEL;
			else if (out->nlines == SDES_SDP_LINES_MAX)
				r = SDES_R_TOO_MANY_LINES;
			else
				out->line[out->nlines++] =
					(struct sdes_line){ out->nmedia - 1,
							    l.p, l.n };
		}
		first = false;
	}
	if (r != SDES_R_OK)
		memset(out, 0, sizeof(*out));
	return sdes_result(r, NULL, why);
}

/* Two parsable lines of the m-line with one tag [RFC 4568 §4.1]. */
static bool tags_repeat(const struct sdes_sdp *s, size_t media,
			struct sdes_crypto *tmp)
{
	uint32_t tags[SDES_SDP_LINES_MAX];
	size_t n = 0, i, j;

	for (i = 0; i < s->nlines; i++) {
		if (s->line[i].media != media ||
		    sdes_parse(s->line[i].p, s->line[i].n, tmp, NULL) != CC_OK)
			continue;
		for (j = 0; j < n; j++)
			if (tags[j] == tmp->tag)
				return true;
		tags[n++] = tmp->tag;
	}
	return false;
}

/* Does a key of c appear in a line of another m-line [RFC 4568 §6.1]? */
static bool keys_reused(const struct sdes_sdp *s, size_t media,
			const struct sdes_crypto *c, struct sdes_crypto *tmp)
{
	size_t i, a, b;

	for (i = 0; i < s->nlines; i++) {
		if (s->line[i].media == media ||
		    sdes_parse(s->line[i].p, s->line[i].n, tmp, NULL) != CC_OK)
			continue;
		for (a = 0; a < c->nkeys; a++)
			for (b = 0; b < tmp->nkeys; b++)
				if (key_equal(&c->key[a], &tmp->key[b]))
					return true;
	}
	return false;
}

/* The first acceptable line of the m-line into out, or the first line's
 * reason. */
static enum sdes_reason choose(const struct sdes_sdp *s, size_t media,
			       unsigned suites, struct sdes_crypto *out,
			       struct sdes_crypto *tmp)
{
	enum sdes_reason r, first = SDES_R_NO_CRYPTO;
	size_t i;

	if (tags_repeat(s, media, tmp))
		return SDES_R_TAG_DUP;
	for (i = 0; i < s->nlines; i++) {
		if (s->line[i].media != media)
			continue;
		if (sdes_parse(s->line[i].p, s->line[i].n, out, &r) == CC_OK &&
		    sdes_acceptable(out, suites, &r) == CC_OK)
			return keys_reused(s, media, out, tmp) ?
				       SDES_R_KEY_REUSED :
				       SDES_R_OK;
		if (first == SDES_R_NO_CRYPTO)
			first = r;
	}
	return first;
}

enum cc_err sdes_pick(const struct sdes_sdp *s, size_t media, unsigned suites,
		      struct sdes_crypto *out, enum sdes_reason *why)
{
	struct sdes_crypto tmp;
	enum sdes_reason r;

	if (!s || !out)
		return sdes_result(SDES_R_INVAL, out, why);
	if (media >= s->nmedia)
		return sdes_result(SDES_R_NO_MEDIA, out, why);
	r = choose(s, media, suites, out, &tmp);
	sdes_crypto_wipe(&tmp);
	return sdes_result(r, out, why);
}

/* ---- transport and warning ------------------------------------------- */

enum cc_err sdes_check_transport(bool tls, bool allow_insecure,
				 enum sdes_reason *why)
{
	return sdes_result(tls || allow_insecure ? SDES_R_OK : SDES_R_NOT_TLS,
			   NULL, why);
}

enum cc_err sdes_warning(const char *agent, enum sdes_reason r, char *out,
			 size_t cap)
{
	int n;

	if (!agent || !out || !cap)
		return CC_ERR_INVAL;
	n = snprintf(out, cap, "399 %s \"%s\"", agent, sdes_reason_str(r));
	return n < 0 || (size_t)n >= cap ? CC_ERR_SPACE : CC_OK;
}
