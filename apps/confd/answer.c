/*
 * answer.c -- the focus's 200 OK to a join: the TRANSFER_RESP with the
 * group keys, the SSRC the member must use and other senders' ROCs (D6),
 * in our SDP answer.
 */
#include "sipint.h"

#include <conclave/mix.h>

/* ---- the answer ------------------------------------------------------------ */

static void wipe_keys(struct kmsc_key *k, size_t n)
{
	cc_wipe(k, n * sizeof(*k));
}

struct roc_walk {
	const struct conf_act_accept *a;
	struct kmsc_stream *s;
	size_t n, cap, left_out;
};

/* Another member's stream that has wrapped: name it with its ROC (D6). */
static void roc_visit(uint32_t ssrc, uint32_t roc, conf_mid owner, void *arg)
{
	struct roc_walk *w = arg;
	size_t i;

	(void)owner;
	if (!roc)
		return; /* a receiver starts at ROC 0 anyway */
	for (i = 0; i < w->a->n_ssrcs; i++)
		if (w->a->ssrcs[i] == ssrc)
			return; /* the joiner's own */
	if (w->n == w->cap) {
		w->left_out++;
		return;
	}
	w->s[w->n++] = (struct kmsc_stream){ .ssrc = ssrc, .roc = roc };
}

/* D6: the SSRCs the joiner must send with (per m-line, CS 2k-1) when
 * every offered one is accounted for in the core's answer. */
static bool peer_ssrcs(const struct mikey_msg *m,
		       const struct conf_act_accept *a, uint32_t *out,
		       size_t nmedia)
{
	size_t i, j = 0;

	for (i = 0; i < m->hdr.ncs; i++) {
		const struct mikey_cs *cs = &m->hdr.cs[i];

		if (!(cs->cs_id & 1))
			continue;
		if (!cs->has_ssrc || j >= a->n_ssrcs ||
		    (size_t)(cs->cs_id / 2) >= nmedia)
			return false;
		out[cs->cs_id / 2] = a->ssrcs[j++];
	}
	return j == a->n_ssrcs;
}

void epoch_kmsc_key(const struct conf_epoch_keys *e, struct kmsc_key *k)
{
	memset(k, 0, sizeof(*k));
	k->type = MIKEY_KEY_TEK_SALT;
	memcpy(k->key, e->tek, e->tek_len);
	k->key_len = e->tek_len;
	memcpy(k->salt, e->salt, e->salt_len);
	k->salt_len = e->salt_len;
	k->spi[0] = (uint8_t)(e->mki >> 24);
	k->spi[1] = (uint8_t)(e->mki >> 16);
	k->spi[2] = (uint8_t)(e->mki >> 8);
	k->spi[3] = (uint8_t)e->mki;
	k->spi_len = 4;
}

size_t accept_keys(const struct conf_act_accept *a, struct kmsc_key *keys)
{
	size_t i;

	memset(keys, 0, 2 * sizeof(*keys));
	for (i = 0; i < a->n_epochs && i < 2; i++)
		epoch_kmsc_key(a->epochs[i], &keys[i]);
	return i;
}

enum cc_err build_resp(struct leg *l, struct kmsc_csb *csb,
		       const struct sipglue_km *km,
		       const struct conf_act_accept *a, uint8_t *out,
		       size_t cap, size_t *n)
{
	struct kmsc_key keys[2];
	struct kmsc_answer_opts o = { .supply = keys };
	struct kmsc_env env = env_now();
	uint32_t ssrc[KMSC_MAX_MEDIA], peer[KMSC_MAX_MEDIA];
	struct kmsc_stream streams[KMSC_MAX_CS - 2 * KMSC_MAX_MEDIA];
	struct roc_walk w = { .a = a, .s = streams };
	struct mikey_msg m;
	enum cc_err err;
	size_t i;

	err = mikey_decode(km->mikey, km->mikey_len, &m, NULL);
	if (err)
		return err;
	o.nmedia = m.hdr.ncs / 2 ? m.hdr.ncs / 2 : 1;
	if (o.nmedia > KMSC_MAX_MEDIA)
		return CC_ERR_UNSUPPORTED;
	for (i = 0; i < o.nmedia; i++)
		ssrc[i] = l->cc->focus_ssrc + (uint32_t)i;
	o.ssrc = ssrc;
	memset(peer, 0, sizeof(peer));
	if (peer_ssrcs(&m, a, peer, o.nmedia))
		o.peer_ssrc = peer;
	w.cap = sizeof(streams) / sizeof(streams[0]);
	if ((size_t)(MIKEY_MAX_CS - m.hdr.ncs) < w.cap)
		w.cap = MIKEY_MAX_CS - m.hdr.ncs;
	if (a->n_epochs)
		conf_ssrc_foreach(l->cc->core, roc_visit, &w);
	o.streams = streams;
	o.nstreams = w.n;
	if (w.left_out)
		confd_log(CONFD_LOG_WARN,
			  "conference %s: %s: %zu wrapped streams' ROCs do "
			  "not fit the CS map",
			  conf_name(l), who(l), w.left_out);
	o.nsupply = accept_keys(a, keys);
	err = kmsc_transfer_resp(csb, &o, &env, out, cap, n);
	wipe_keys(keys, 2);
	return err;
}

static bool offered(const struct sipglue_media *m, uint8_t pt)
{
	size_t i;

	for (i = 0; i < m->npts; i++)
		if (m->pts[i] == pt)
			return true;
	return false;
}

int leg_codec_choose(struct leg *l)
{
	struct sipglue_media *m = &l->km.media[0];

	l->codec = MEDIA_MIX_PCMU;
	if (confd_g.cf->policy.media != CONF_MEDIA_MIX || !l->km.nmedia)
		return 0;
	if (!m->npts)
		return 0; /* nothing numeric parsed: mirror as before */
	m->rtpmap[0] = '\0';
	if (offered(m, MEDIA_PT_PCMU)) {
		(void)snprintf(m->fmt, sizeof(m->fmt), "%u", MEDIA_PT_PCMU);
	} else if (offered(m, MEDIA_PT_PCMA)) {
		l->codec = MEDIA_MIX_PCMA;
		(void)snprintf(m->fmt, sizeof(m->fmt), "%u", MEDIA_PT_PCMA);
	} else if (m->opus_pt == CONFD_OPUS_PT && offered(m, m->opus_pt) &&
		   media_mix_has_opus()) {
		l->codec = MEDIA_MIX_OPUS;
		(void)snprintf(m->fmt, sizeof(m->fmt), "%u", CONFD_OPUS_PT);
		(void)snprintf(m->rtpmap, sizeof(m->rtpmap), "%u opus/48000/2",
			       CONFD_OPUS_PT);
	} else {
		return -1;
	}
	m->npts = 1;
	m->pts[0] = l->codec == MEDIA_MIX_PCMU ? MEDIA_PT_PCMU :
		    l->codec == MEDIA_MIX_PCMA ? MEDIA_PT_PCMA :
						 CONFD_OPUS_PT;
	return 0;
}

/* Our SDP: each offered m-line mirrored (in mixing mode the first one
 * with only the chosen codec, leg_codec_choose), RTP/SAVP on the conference's
 * RTP port, sendrecv (the first audio line; others rejected, port 0). */
int build_sdp(struct leg *l, const uint8_t *mikey, size_t mlen,
	      struct mbuf **mbp)
{
	static char sdp[SIPGLUE_MAX_SDP];
	struct sipglue_media media[SIPGLUE_MAX_MEDIA];
	struct sipglue_sdp_opts o = { .addr = confd_media_addr(l->cc->media,
							       l->laddr),
				      .sess_id = l->cc->n,
				      .sess_ver = ++l->sess_ver,
				      .mikey = mikey,
				      .mikey_len = mlen,
				      .media = media,
				      .nmedia = l->km.nmedia,
				      .dir = "sendrecv" };
	struct mbuf *mb;
	size_t i, n = 0;
	int err;

	for (i = 0; i < l->km.nmedia; i++) {
		media[i] = l->km.media[i];
		media[i].port = i ? 0 : confd_media_port(l->cc->media);
	}
	if (sipglue_sdp_build(&o, sdp, sizeof(sdp), &n))
		return ENOSPC;
	mb = mbuf_alloc(n);
	if (!mb)
		return ENOMEM;
	err = mbuf_write_mem(mb, (const uint8_t *)sdp, n);
	mb->pos = 0;
	if (err) {
		mem_deref(mb);
		return err;
	}
	*mbp = mb;
	return 0;
}

static int send_200(struct leg *l, const uint8_t *resp, size_t rlen)
{
	struct mbuf *mb = NULL;
	int err;

	err = build_sdp(l, resp, rlen, &mb);
	if (!err)
		err = sipsess_answer(l->sess, 200, "OK", mb,
				     "X-Conclave-Conference: <%s>\r\n",
				     l->cc->focus);
	mem_deref(mb);
	return err;
}

void answer_accept(struct leg *l, const struct conf_act_accept *a)
{
	static uint8_t resp[KMSC_MAX_MSG];
	size_t n = 0;
	enum cc_err err;
	int serr;

	if (l->trust_sdes) {
		sdes_answer_accept(l, a);
		return;
	}
	l->member = true;
	err = build_resp(l, &l->csb, &l->km, a, resp, sizeof(resp), &n);
	if (err) {
		confd_log(CONFD_LOG_WARN,
			  "conference %s: TRANSFER_RESP for %s failed: %s",
			  conf_name(l), who(l), cc_strerror(err));
		leg_reject(l, 500, "Key Management Failed", false);
		return;
	}
	if (a->ssrc_changed)
		confd_log(CONFD_LOG_INFO,
			  "conference %s: %s: offered SSRC taken, assigned "
			  "0x%08" PRIx32 " in the CS map",
			  conf_name(l), who(l), a->n_ssrcs ? a->ssrcs[0] : 0);
	serr = send_200(l, resp, n);
	cc_wipe(resp, sizeof(resp));
	if (serr) {
		confd_log(CONFD_LOG_WARN, "conference %s: 200 OK to %s: %s",
			  conf_name(l), who(l), strerror(serr));
		return;
	}
	confd_log(CONFD_LOG_INFO,
		  "conference %s: %s accepted, %zu group key epoch(s), "
		  "newest MKI 0x%08" PRIx32,
		  conf_name(l), who(l), a->n_epochs,
		  a->n_epochs ? a->epochs[a->n_epochs - 1]->mki : 0);
}
