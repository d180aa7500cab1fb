/*
 * sdes.c -- SDES members in a group-key conference (issue 6 §5, DESIGN.md
 * D8, RFC 4568; the library is docs/SDES.md). An INVITE to a focus URI
 * whose SDP has no a=key-mgmt but a=crypto lines:
 *
 *   1. transport: SIP over TLS only (RFC 4568 §8.3), unless the test-only
 *      `sdes_insecure yes` (logged loudly at start and per dialog);
 *   2. the offer's a=crypto is picked strictly (sdes_pick, the group's
 *      suite); any refusal is 488 with Warning 399 naming the reason;
 *   3. admission: SDES has no KMS authentication, so the member's
 *      identity is the SIP From URI as received over TLS -- a weaker trust
 *      than the KMS's. It must be listed in `sdes_allow` ("*": any) AND be
 *      in the conference's allowed set: the core's JOIN_REQUEST decides
 *      (403). Creating a conference needs the KMS ticket (403 by SDES).
 *      The leg is flagged trust_sdes and logged "trust sdes";
 *   4. answer: the conference's DOWNSTREAM group key (newest epoch of the
 *      ACCEPT) as one a=crypto line with the offer's tag and suite, the
 *      same line in every SDES dialog of an epoch; MKI 0x80000000|epoch
 *      in 4 bytes if the offer's line had an MKI, none if it had none
 *      (baresip 1.0.0: media.c then cuts the group MKI out of its
 *      copies). The member's UPSTREAM key (its offer) goes to the media
 *      plane (media_switch_rx_sdes);
 *   5. rekey: every SEND_UPDATE of the core (same policy and min interval
 *      as KMS members) is a re-INVITE with the new line; its 200 is
 *      REKEY_ACK. Without MKI the change rides on the re-INVITE alone; a
 *      peer that keeps its old receive key (baresip 1.0.0) cannot decrypt
 *      after the switch: logged loudly, or, with `sdes_nomki_rekey bye`,
 *      the leg is removed (REKEY_FAILED -> BYE) so that it may re-dial.
 *
 * Keys are never logged; every line and SDP holding one is wiped.
 */
#include "sipint.h"

#include <conclave/media_upstream.h>
#include <conclave/sdes.h>

struct sdes_leg {
	struct sdes_crypto up; /* the member's chosen line (its keys) */
	bool mki;              /* its line had an MKI: ours gets one */
	size_t media;          /* index of the m-line */
};

enum {
	SDES_GRACE_MS = 2000
};

void sdes_leg_free(struct leg *l)
{
	if (!l->sd)
		return;
	sdes_crypto_wipe(&l->sd->up);
	l->sd = mem_deref(l->sd);
}

void sdes_start_log(const struct confd_conf *cf)
{
	if (cf->sdes_insecure)
		confd_log(CONFD_LOG_WARN, "*** sdes_insecure: SDES keys "
					  "accepted WITHOUT SIP "
					  "over TLS -- TEST ONLY, every SIP "
					  "hop can read the "
					  "keys (RFC 4568 §8.3) ***");
	if (cf->sdes_allow[0])
		confd_log(CONFD_LOG_INFO,
			  "SDES (a=crypto) members allowed: %s (identity = "
			  "From over TLS, trust sdes)%s",
			  cf->sdes_allow,
			  cf->sdes_nomki_bye ? "; rekey of a leg without MKI "
					       "removes it" :
					       "");
}

/* 488/403 before any dialog, with Warning 399 naming the reason. */
static void refuse(const struct sip_msg *msg, struct leg *l, uint16_t code,
		   const char *reason, const char *text)
{
	char warn[256];
	int n;

	confd_metrics_refused(code);
	confd_log(CONFD_LOG_INFO,
		  "conference %s: call %s: SDES offer refused %u: %s",
		  l->focus_id, l->callid, code, text);
	n = re_snprintf(warn, sizeof(warn), "399 %s \"%s\"", confd_g.realm,
			text);
	if (n > 0 && (size_t)n < sizeof(warn))
		(void)sip_treplyf(NULL, NULL, confd_g.sip, msg, false, code,
				  reason,
				  "Warning: %s\r\nContent-Length: 0\r\n\r\n",
				  warn);
	else
		(void)sip_treply(NULL, confd_g.sip, msg, code, reason);
	mem_deref(l);
}

static void refuse_why(const struct sip_msg *msg, struct leg *l,
		       enum sdes_reason why)
{
	refuse(msg, l, 488, "Not Acceptable Here", sdes_reason_str(why));
}

/* `sdes_allow`: a comma list of identities, or "*". */
static bool sdes_allowed(const char *id)
{
	const char *p = confd_g.cf->sdes_allow, *e;
	size_t n = strlen(id);

	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		e = p;
		while (*e && *e != ',' && *e != ' ')
			e++;
		if ((e - p == 1 && *p == '*') ||
		    ((size_t)(e - p) == n && !strncasecmp(p, id, n)))
			return true;
		p = e;
	}
	return false;
}

/* a=ssrc:<id> of the SDP (RFC 5576), distinct, for D6. */
static size_t sdp_ssrcs(const char *b, size_t len, uint32_t *out, size_t max)
{
	struct pl rest = { .p = b, .l = len }, v;
	size_t n = 0, i;
	uint32_t s;

	while (n < max && !re_regex(rest.p, rest.l, "a=ssrc:[0-9]+", &v)) {
		s = pl_u32(&v);
		for (i = 0; i < n && out[i] != s; i++)
			;
		if (i == n)
			out[n++] = s;
		rest.l -= (size_t)(v.p + v.l - rest.p);
		rest.p = v.p + v.l;
	}
	return n;
}

static unsigned group_suites(void)
{
	return SDES_SUITE_BIT(sdes_profile_suite(
		(enum media_profile)confd_g.cf->policy.profile));
}

/* Transport, creation, the line, the identity: refuse on the first
 * failure (nothing has changed yet); else fill l and its sdes_leg. */
static bool sdes_check(const struct sip_msg *msg, struct leg *l,
		       const struct sdes_sdp *s, struct sdes_leg *sd)
{
	bool tls = msg->tp == SIP_TRANSP_TLS;
	enum sdes_reason why = SDES_R_OK;

	if (sdes_check_transport(tls, confd_g.cf->sdes_insecure, &why)) {
		refuse_why(msg, l, why);
		return false;
	}
	if (l->creating) {
		refuse(msg, l, 403, "Forbidden",
		       "creating a conference needs a KMS ticket, not SDES");
		return false;
	}
	if (sdes_pick(s, sd->media, group_suites(), &sd->up, &why)) {
		refuse_why(msg, l, why);
		return false;
	}
	(void)re_snprintf(l->peer, sizeof(l->peer), "sip:%r@%r",
			  &msg->from.uri.user, &msg->from.uri.host);
	if (!msg->from.uri.user.l || !sdes_allowed(l->peer)) {
		refuse(msg, l, 403, "Forbidden",
		       "SDES not allowed for this identity");
		return false;
	}
	if (!tls)
		confd_log(CONFD_LOG_WARN,
			  "conference %s: call %s: SDES keys over plain SIP "
			  "(sdes_insecure, TEST ONLY)",
			  l->focus_id, l->callid);
	sd->mki = sd->up.key[0].mki_len > 0;
	return true;
}

bool sdes_invite(const struct sip_msg *msg, struct leg *l)
{
	static struct sdes_sdp s;
	const char *b = (const char *)mbuf_buf(msg->mb);
	size_t len = mbuf_get_left(msg->mb), i;
	uint32_t ssrcs[CONF_SSRC_MAX];
	enum sdes_reason why = SDES_R_OK;
	struct sdes_leg *sd;
	size_t n;

	if (!len || re_regex(b, len, "a=crypto:"))
		return false;
	if (sdes_sdp_find(b, len, &s, &why)) {
		refuse_why(msg, l, why);
		return true;
	}
	sd = mem_zalloc(sizeof(*sd), NULL);
	if (!sd) {
		(void)sip_treply(NULL, confd_g.sip, msg, 500, "Server Error");
		mem_deref(l);
		return true;
	}
	l->sd = sd;
	for (i = 0; i < s.nmedia && strcmp(s.media[i].type, "audio"); i++)
		;
	sd->media = i < s.nmedia ? i : 0;
	if (!sdes_check(msg, l, &s, sd))
		return true;
	l->trust_sdes = true;
	l->km.nmedia = s.nmedia;
	memcpy(l->km.media, s.media, sizeof(s.media));
	if (leg_codec_choose(l))
		l->codec = 0; /* no G.711 offered: mirrored, mu-law sent */
	rtp_addr(msg, l);
	if (accept_leg(msg, l)) {
		(void)sip_treply(NULL, confd_g.sip, msg, 500, "Server Error");
		mem_deref(l);
		return true;
	}
	list_append(&confd_g.legs, &l->le, l);
	l->cc = NULL;
	for (struct le *le = confd_g.confs.head; le; le = le->next) {
		struct cconf *cc = le->data;

		if (cc->n == l->focus_n && !cc->ended)
			l->cc = cc;
	}
	if (!l->cc) {
		leg_reject(l, 410, "Conference Ended", false);
		return true;
	}
	n = sdp_ssrcs(b, len, ssrcs, CONF_SSRC_MAX);
	if (!n)
		confd_log(CONFD_LOG_WARN,
			  "conference %s: %s: SDES offer without a=ssrc: its "
			  "media cannot be bound to it (D6) and is dropped",
			  conf_name(l), who(l));
	confd_log(CONFD_LOG_INFO,
		  "conference %s: %s joins by SDES (trust sdes, %s, %s MKI, "
		  "tag %" PRIu32 ")",
		  conf_name(l), who(l),
		  msg->tp == SIP_TRANSP_TLS ? "TLS" : "NOT TLS",
		  sd->mki ? "with" : "no", sd->up.tag);
	join_ssrcs(l, ssrcs, n);
	return true;
}

/* ---- the answer and re-INVITE SDP ----------------------------------------- */

/* Our SDP (answer.c's build_sdp, no key-mgmt) with the group key's
 * a=crypto line at the end of the SDES m-line's block. */
static int sdp_crypto(struct leg *l, const struct conf_epoch_keys *e,
		      struct mbuf **mbp)
{
	char line[256];
	struct sdes_key k;
	struct mbuf *mb = NULL, *out = NULL;
	const char *p, *end, *next;
	size_t n = 0, i, at;
	int err = EINVAL;

	if (sdes_key_set(&k, e->tek, e->tek_len, e->salt, e->salt_len, e->mki,
			 l->sd->mki ? MEDIA_MKI_LEN : 0, 0) ||
	    sdes_build(l->sd->up.tag, l->sd->up.suite, &k, line, sizeof(line),
		       &n))
		goto out;
	err = build_sdp(l, NULL, 0, &mb);
	if (err)
		goto out;
	/* after the (media+1)-th m-line's block: before the next "m=" */
	p = (const char *)mb->buf;
	end = p + mb->end;
	at = mb->end;
	for (i = 0, next = p; next < end; next++) {
		if (*next == 'm' && next + 1 < end && next[1] == '=' &&
		    (next == p || next[-1] == '\n') &&
		    i++ == l->sd->media + 1) {
			at = (size_t)(next - p);
			break;
		}
	}
	out = mbuf_alloc(mb->end + n);
	err = out ? 0 : ENOMEM;
	if (!err)
		err = mbuf_write_mem(out, mb->buf, at);
	if (!err)
		err = mbuf_write_mem(out, (const uint8_t *)line, n);
	if (!err)
		err = mbuf_write_mem(out, mb->buf + at, mb->end - at);
	if (!err) {
		out->pos = 0;
		*mbp = out;
		out = NULL;
	}
out:
	cc_wipe(&k, sizeof(k));
	cc_wipe(line, sizeof(line));
	if (out)
		cc_wipe(out->buf, out->size);
	mem_deref(out);
	mem_deref(mb);
	return err;
}

static void wipe_mb(struct mbuf *mb)
{
	if (mb)
		cc_wipe(mb->buf, mb->size);
	mem_deref(mb);
}

/* The member's keys to the media plane (its upstream). */
static int set_upstream(struct leg *l, const struct sdes_crypto *c)
{
	struct media_upkey k[SDES_KEYS_MAX];
	size_t i;
	int err;

	for (i = 0; i < c->nkeys; i++)
		k[i] = (struct media_upkey){
			.master = c->key[i].master,
			.master_len = c->key[i].master_len,
			.mki = c->key[i].mki_len ? c->key[i].mki : NULL,
			.mki_len = c->key[i].mki_len,
			.lifetime = c->key[i].lifetime,
		};
	err = confd_media_sdes(l->cc->media, l->mid, k, c->nkeys, !l->sd->mki,
			       SDES_GRACE_MS);
	cc_wipe(k, sizeof(k));
	return err;
}

void sdes_answer_accept(struct leg *l, const struct conf_act_accept *a)
{
	const struct conf_epoch_keys *e;
	struct mbuf *mb = NULL;
	int err;

	l->member = true;
	if (!a->n_epochs) {
		confd_log(CONFD_LOG_WARN,
			  "conference %s: %s: no group key yet "
			  "(join=deferred?): "
			  "an SDES answer needs one",
			  conf_name(l), who(l));
		leg_reject(l, 503, "No Group Key Yet", false);
		return;
	}
	if (a->ssrc_changed)
		confd_log(CONFD_LOG_WARN,
			  "conference %s: %s: its a=ssrc is taken; SDES cannot "
			  "assign another: its media will be dropped (D6)",
			  conf_name(l), who(l));
	e = a->epochs[a->n_epochs - 1];
	err = set_upstream(l, &l->sd->up);
	if (!err)
		err = sdp_crypto(l, e, &mb);
	if (!err)
		err = sipsess_answer(l->sess, 200, "OK", mb,
				     "X-Conclave-Conference: <%s>\r\n",
				     l->cc->focus);
	wipe_mb(mb);
	if (err) {
		confd_log(CONFD_LOG_WARN,
			  "conference %s: SDES 200 OK to %s: %s", conf_name(l),
			  who(l), strerror(err));
		leg_reject(l, 500, "Server Error", false);
		return;
	}
	confd_log(CONFD_LOG_INFO,
		  "conference %s: %s accepted, trust sdes, group key epoch "
		  "%" PRIu32 " in a=crypto %s",
		  conf_name(l), who(l), e->epoch,
		  l->sd->mki ? "with MKI" :
			       "without MKI (MKI cut from its "
			       "copies)");
}

/* ---- rekey ------------------------------------------------------------------ */

void sdes_send_update(struct leg *l, const struct conf_epoch_keys *e)
{
	struct mbuf *mb = NULL;
	int err;

	if (!l->sd->mki && confd_g.cf->sdes_nomki_bye) {
		confd_log(CONFD_LOG_WARN,
			  "conference %s: %s (SDES, no MKI) cannot follow "
			  "epoch %" PRIu32 ": removed (sdes_nomki_rekey bye), "
			  "it may dial again",
			  conf_name(l), who(l), e->epoch);
		defer_rekey_ev(l, CONF_EV_REKEY_FAILED, e->epoch);
		return;
	}
	err = sdp_crypto(l, e, &mb);
	if (!err)
		err = sipsess_modify(l->sess, mb);
	wipe_mb(mb);
	if (err) {
		confd_log(CONFD_LOG_WARN,
			  "conference %s: SDES re-INVITE to %s: %s",
			  conf_name(l), who(l), strerror(err));
		defer_rekey_ev(l, CONF_EV_REKEY_FAILED, e->epoch);
		return;
	}
	l->upd_epoch = e->epoch;
	if (l->sd->mki)
		confd_log(CONFD_LOG_INFO,
			  "conference %s: rekey: SDES re-INVITE to %s with "
			  "epoch %" PRIu32 " (MKI 0x%08" PRIx32 ")",
			  conf_name(l), who(l), e->epoch, e->mki);
	else
		confd_log(CONFD_LOG_WARN,
			  "conference %s: rekey: SDES re-INVITE to %s with "
			  "epoch %" PRIu32 " WITHOUT MKI: the key change rides "
			  "on the re-INVITE alone; a peer that keeps its old "
			  "key (baresip 1.0.0) cannot decrypt after the switch",
			  conf_name(l), who(l), e->epoch);
}

/* Does the answer's line carry other keys than the ones we hold? */
static bool keys_changed(const struct sdes_crypto *a,
			 const struct sdes_crypto *b)
{
	size_t i;

	if (a->nkeys != b->nkeys)
		return true;
	for (i = 0; i < a->nkeys; i++)
		if (a->key[i].master_len != b->key[i].master_len ||
		    a->key[i].mki_len != b->key[i].mki_len ||
		    !cc_ct_equal(a->key[i].master, b->key[i].master,
				 a->key[i].master_len) ||
		    !cc_ct_equal(a->key[i].mki, b->key[i].mki,
				 a->key[i].mki_len))
			return true;
	return false;
}

void sdes_rekey_answer(struct leg *l, const struct sip_msg *msg)
{
	static struct sdes_sdp s;
	struct sdes_crypto c;
	uint32_t epoch = l->upd_epoch;
	enum sdes_reason why = SDES_R_OK;
	enum cc_err err;

	l->upd_epoch = 0;
	memset(&c, 0, sizeof(c));
	err = sdes_sdp_find((const char *)mbuf_buf(msg->mb),
			    mbuf_get_left(msg->mb), &s, &why);
	if (!err)
		err = sdes_pick(&s, l->sd->media, group_suites(), &c, &why);
	if (!err && (c.tag != l->sd->up.tag || c.suite != l->sd->up.suite)) {
		err = CC_ERR_POLICY; /* RFC 4568 §7.1.3: same tag and suite */
		why = SDES_R_TAG;
	}
	if (!err && keys_changed(&c, &l->sd->up)) {
		if (set_upstream(l, &c))
			err = CC_ERR_INVAL;
		else {
			sdes_crypto_wipe(&l->sd->up);
			l->sd->up = c;
		}
	}
	sdes_crypto_wipe(&c);
	if (err) {
		confd_log(CONFD_LOG_INFO,
			  "conference %s: SDES rekey epoch %" PRIu32 " refused "
			  "by %s: "
			  "%s",
			  conf_name(l), epoch, who(l),
			  why ? sdes_reason_str(why) : cc_strerror(err));
		defer_rekey_ev(l, CONF_EV_REKEY_FAILED, epoch);
		return;
	}
	confd_log(CONFD_LOG_INFO,
		  "conference %s: %s (SDES) answered epoch %" PRIu32,
		  conf_name(l), who(l), epoch);
	defer_rekey_ev(l, CONF_EV_REKEY_ACK, epoch);
}
