/*
 * mix.c -- the conference mixer (mix.h): set-up, epochs, members, and the
 * input path (authenticate + decrypt under the group key, then decode one
 * 20 ms frame into the member's queue). The tick is in mix_tick.c.
 *
 * Input order is cheap-first, as for the switch: RTP shape, MKI, leg
 * membership, SSRC binding (D6), libsrtp (replay, tag, decrypt, record),
 * then the codec checks. Nothing is decoded from an unauthenticated packet.
 */
#include "mix_int.h"

#include <stdlib.h>
#include <string.h>

#ifdef CONCLAVE_HAVE_OPUS
#include <opus.h>
#endif

/* ---- configuration ------------------------------------------------------ */

void media_mix_cfg_default(struct media_mix_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->profile = MEDIA_AES_CM_128_HMAC_SHA1_80;
	cfg->max_speakers = MEDIA_MIX_SPEAKERS_DEFAULT;
	cfg->hysteresis_pct = 200;
	cfg->min_rms = 100;
}

bool media_mix_has_opus(void)
{
#ifdef CONCLAVE_HAVE_OPUS
	return true;
#else
	return false;
#endif
}

/* The output SSRCs in use must be distinct (each is its own keystream
 * under the group key [RFC 3711 §9.1]). */
static bool ssrcs_distinct(const struct media_mix_cfg *cfg, size_t n)
{
	uint32_t v[MIX_STREAMS];
	size_t i, j, k = 0;

	v[k++] = cfg->ssrc_common;
	for (i = 0; i < n; i++)
		v[k++] = cfg->ssrc_n1[i];
	if (cfg->ssrc_pcma)
		v[k++] = cfg->ssrc_pcma;
	if (cfg->ssrc_opus)
		v[k++] = cfg->ssrc_opus;
	for (i = 0; i < k; i++)
		for (j = i + 1; j < k; j++)
			if (v[i] == v[j])
				return false;
	return true;
}

static enum cc_err cfg_check(const struct media_mix_cfg *cfg, size_t *ns)
{
	*ns = cfg->max_speakers ? cfg->max_speakers :
				  MEDIA_MIX_SPEAKERS_DEFAULT;
	if (*ns > MEDIA_MIX_SPEAKERS_MAX)
		return CC_ERR_INVAL;
	if (cfg->opus_pt && (cfg->opus_pt < 96 || cfg->opus_pt > 127))
		return CC_ERR_INVAL; /* dynamic range [RFC 3551 §6] */
	if (cfg->hysteresis_pct && cfg->hysteresis_pct < 100)
		return CC_ERR_INVAL;
	if (!ssrcs_distinct(cfg, *ns) || (cfg->ssrc_opus && !cfg->opus_pt))
		return CC_ERR_INVAL;
	if (cfg->opus_pt && !media_mix_has_opus())
		return CC_ERR_UNSUPPORTED;
	return CC_OK;
}

static void mix_setup(struct media_mix *mx, const struct media_mix_cfg *cfg,
		      size_t ns)
{
	unsigned rms = cfg->min_rms ? cfg->min_rms : 100;
	size_t i;

	mx->max_speakers = ns;
	mx->opus_pt = cfg->opus_pt;
	mx->hyst_pct = cfg->hysteresis_pct ? cfg->hysteresis_pct : 200;
	mx->gate = (uint64_t)rms * rms;
	mx->send_slot = -1;
	mx->ts = cfg->ts;
	for (i = 0; i <= ns; i++)
		mx->out[i].ssrc = i ? cfg->ssrc_n1[i - 1] : cfg->ssrc_common;
	mx->out[MIX_CLASS_STREAM(MEDIA_MIX_PCMA)].ssrc = cfg->ssrc_pcma;
	mx->out[MIX_CLASS_STREAM(MEDIA_MIX_OPUS)].ssrc = cfg->ssrc_opus;
	for (i = 0; i < MIX_STREAMS; i++) {
		mx->out[i].roc = cfg->roc;
		mx->out[i].seq = cfg->seq;
		mx->out[i].marker = true;
	}
	for (i = 0; i < 256; i++) {
		mx->ulaw[i] = media_ulaw_decode((uint8_t)i);
		mx->alaw[i] = media_alaw_decode((uint8_t)i);
	}
}

enum cc_err media_mix_new(struct media_mix **mxp,
			  const struct media_mix_cfg *cfg, media_owner_h *oh,
			  void *oh_arg)
{
	struct media_mix *mx;
	size_t ns;
	enum cc_err err;

	if (!mxp || !cfg || !oh)
		return CC_ERR_INVAL;
	err = cfg_check(cfg, &ns);
	if (err)
		return err;
	mx = calloc(1, sizeof(*mx));
	if (!mx)
		return CC_ERR_NOMEM;
	err = media_rxcore_init(&mx->core, cfg->profile);
	if (err) {
		free(mx);
		return err;
	}
	mx->owner_h = oh;
	mx->owner_arg = oh_arg;
	mix_setup(mx, cfg, ns);
	*mxp = mx;
	return CC_OK;
}

bool mix_stream_live(const struct media_mix *mx, size_t k)
{
	return k <= mx->max_speakers ||
	       (k > MEDIA_MIX_SPEAKERS_MAX && k < MIX_STREAMS &&
		mx->out[k].ssrc != 0);
}

struct OpusEncoder *mix_opus_encoder(void)
{
#ifdef CONCLAVE_HAVE_OPUS
	OpusEncoder *enc;
	int err = OPUS_OK;

	enc = opus_encoder_create(MEDIA_RATE, 1, OPUS_APPLICATION_VOIP, &err);
	if (!enc || err != OPUS_OK)
		return NULL;
	/* narrowband (8 kHz input), 16 kbit/s: enough for speech */
	(void)opus_encoder_ctl(enc, OPUS_SET_BITRATE(16000));
	(void)opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(5));
	return enc;
#else
	return NULL;
#endif
}

void mix_opus_encoder_free(struct OpusEncoder *enc)
{
#ifdef CONCLAVE_HAVE_OPUS
	if (enc)
		opus_encoder_destroy(enc);
#else
	(void)enc;
#endif
}

static void member_free(struct mix_member *m)
{
#ifdef CONCLAVE_HAVE_OPUS
	if (m->opus)
		opus_decoder_destroy(m->opus);
#endif
	mix_opus_encoder_free(m->enc);
	free(m);
}

void media_mix_free(struct media_mix *mx)
{
	size_t i;

	if (!mx)
		return;
	for (i = 0; i < mx->n; i++)
		member_free(mx->mem[i]);
	mix_opus_encoder_free(mx->enc_common);
	media_rxcore_fini(&mx->core); /* wipes every epoch's key */
	free(mx->dest);
	free(mx->mem);
	free(mx->act);
	media_map_free(&mx->map);
	free(mx);
}

/* ---- epochs --------------------------------------------------------------- */

enum cc_err media_mix_install(struct media_mix *mx, const struct media_key *k)
{
	if (!mx)
		return CC_ERR_INVAL;
	return media_rxcore_install(&mx->core, k);
}

enum cc_err media_mix_switch(struct media_mix *mx, uint32_t mki)
{
	int slot, i;
	struct media_epoch *ep;

	if (!mx)
		return CC_ERR_INVAL;
	slot = media_rxcore_slot(&mx->core, mki);
	if (slot < 0)
		return CC_ERR_NOT_FOUND;
	/* Other epochs' send sessions go: one switched back to would hold a
	 * stale index; a new one is seeded with each stream's ROC. */
	for (i = 0; i < MEDIA_EPOCHS_MAX; i++) {
		ep = &mx->core.ep[i];
		if (i != slot && ep->tx) {
			(void)srtp_dealloc(ep->tx);
			ep->tx = NULL;
		}
	}
	mx->send_slot = slot;
	return CC_OK;
}

enum cc_err media_mix_retire(struct media_mix *mx, uint32_t mki)
{
	int slot;
	enum cc_err err;

	if (!mx)
		return CC_ERR_INVAL;
	slot = media_rxcore_slot(&mx->core, mki);
	err = media_rxcore_retire(&mx->core, mki);
	if (!err && slot == mx->send_slot)
		mx->send_slot = -1;
	return err;
}

uint32_t media_mix_sending_mki(const struct media_mix *mx)
{
	return mx->send_slot < 0 ? 0 : mx->core.ep[mx->send_slot].mki;
}

/* One session holding a stream per output SSRC, each started at the
 * stream's ROC (srtp_set_stream_roc: the ROC carries over epochs). */
static enum cc_err tx_create(struct media_mix *mx, struct media_epoch *ep)
{
	srtp_policy_t pol;
	srtp_master_key_t mk, *mkp[1];
	srtp_err_status_t s;
	size_t i;

	s = srtp_create(&ep->tx, NULL);
	for (i = 0; s == srtp_err_status_ok && i < MIX_STREAMS; i++) {
		if (!mix_stream_live(mx, i))
			continue;
		media_policy(&pol, &mk, mkp, mx->core.profile, ep,
			     ssrc_specific, mx->out[i].ssrc);
		s = srtp_add_stream(ep->tx, &pol);
		if (s == srtp_err_status_ok && mx->out[i].roc)
			s = srtp_set_stream_roc(ep->tx, mx->out[i].ssrc,
						mx->out[i].roc);
	}
	if (s != srtp_err_status_ok) {
		if (ep->tx)
			(void)srtp_dealloc(ep->tx);
		ep->tx = NULL;
		return media_srtp_err(s);
	}
	return CC_OK;
}

enum cc_err mix_tx_session(struct media_mix *mx, srtp_t *tx)
{
	struct media_epoch *ep;
	enum cc_err err;

	if (mx->send_slot < 0)
		return CC_ERR_NOT_FOUND;
	ep = &mx->core.ep[mx->send_slot];
	if (!ep->tx) {
		err = tx_create(mx, ep);
		if (err)
			return err;
	}
	*tx = ep->tx;
	return CC_OK;
}

/* ---- members -------------------------------------------------------------- */

static enum cc_err grow_members(struct media_mix *mx)
{
	struct media_dest *d;
	struct mix_member **m;
	size_t cap;

	if (mx->n < mx->cap)
		return CC_OK;
	cap = mx->cap ? 2 * mx->cap : 16;
	d = realloc(mx->dest, cap * sizeof(*d));
	if (!d)
		return CC_ERR_NOMEM;
	mx->dest = d;
	m = realloc(mx->mem, cap * sizeof(*m));
	if (!m)
		return CC_ERR_NOMEM;
	mx->mem = m;
	mx->cap = cap;
	return CC_OK;
}

/* The mixer can send codec class c. */
static enum cc_err codec_ok(const struct media_mix *mx, enum media_mix_codec c)
{
	switch (c) {
	case MEDIA_MIX_PCMU:
		return CC_OK;
	case MEDIA_MIX_PCMA:
	case MEDIA_MIX_OPUS:
		return mx->out[MIX_CLASS_STREAM(c)].ssrc ? CC_OK :
							   CC_ERR_UNSUPPORTED;
	default:
		return CC_ERR_INVAL;
	}
}

enum cc_err media_mix_member_add(struct media_mix *mx, media_mid mid, void *leg)
{
	return media_mix_member_add_codec(mx, mid, leg, MEDIA_MIX_PCMU);
}

enum cc_err media_mix_member_codec(struct media_mix *mx, media_mid mid,
				   enum media_mix_codec codec)
{
	struct mix_member *m;
	uint32_t at;
	enum cc_err err;

	if (!mx || !media_map_get(&mx->map, mid, &at))
		return CC_ERR_NOT_FOUND;
	err = codec_ok(mx, codec);
	if (err)
		return err;
	m = mx->mem[at];
	if (m->codec != codec) {
		mix_opus_encoder_free(m->enc);
		m->enc = NULL;
	}
	m->codec = codec;
	return CC_OK;
}

enum cc_err media_mix_member_add_codec(struct media_mix *mx, media_mid mid,
				       void *leg, enum media_mix_codec codec)
{
	struct mix_member *m;
	uint32_t at;
	enum cc_err err;

	if (!mx || !mid || media_map_get(&mx->map, mid, &at))
		return CC_ERR_INVAL;
	err = codec_ok(mx, codec);
	if (err)
		return err;
	err = grow_members(mx);
	if (err)
		return err;
	m = calloc(1, sizeof(*m));
	if (!m)
		return CC_ERR_NOMEM;
	err = media_map_put(&mx->map, mid, (uint32_t)mx->n);
	if (err) {
		free(m);
		return err;
	}
	m->mid = mid;
	m->at = mx->n;
	m->place = -1;
	m->codec = codec;
	mx->dest[mx->n].mid = mid;
	mx->dest[mx->n].leg = leg;
	mx->mem[mx->n++] = m;
	return CC_OK;
}

void mix_swap(struct media_mix *mx, size_t a, size_t b)
{
	struct media_dest d;
	struct mix_member *m;

	if (a == b)
		return;
	d = mx->dest[a];
	mx->dest[a] = mx->dest[b];
	mx->dest[b] = d;
	m = mx->mem[a];
	mx->mem[a] = mx->mem[b];
	mx->mem[b] = m;
	mx->mem[a]->at = a;
	mx->mem[b]->at = b;
	/* both keys are present: the puts only overwrite values (no
	 * allocation, cannot fail) */
	if (media_map_put(&mx->map, mx->dest[a].mid, (uint32_t)a) ||
	    media_map_put(&mx->map, mx->dest[b].mid, (uint32_t)b))
		return;
}

enum cc_err mix_activate(struct media_mix *mx, struct mix_member *m)
{
	struct mix_member **a;
	size_t cap;

	if (m->active)
		return CC_OK;
	if (mx->n_act == mx->cap_act) {
		cap = mx->cap_act ? 2 * mx->cap_act : 16;
		a = realloc(mx->act, cap * sizeof(*a));
		if (!a)
			return CC_ERR_NOMEM;
		mx->act = a;
		mx->cap_act = cap;
	}
	m->active = true;
	m->act_at = mx->n_act;
	mx->act[mx->n_act++] = m;
	return CC_OK;
}

void mix_deactivate(struct media_mix *mx, size_t i)
{
	struct mix_member *m = mx->act[i];

	m->active = false;
	m->level = 0;
	mx->act[i] = mx->act[--mx->n_act];
	mx->act[i]->act_at = i;
}

enum cc_err media_mix_member_remove(struct media_mix *mx, media_mid mid)
{
	struct mix_member *m;
	uint32_t at;

	if (!mx || !media_map_get(&mx->map, mid, &at))
		return CC_ERR_NOT_FOUND;
	m = mx->mem[at];
	if (m->active)
		mix_deactivate(mx, m->act_at);
	if (m->place >= 0)
		mx->spk[m->place] = NULL;
	mix_swap(mx, at, mx->n - 1);
	(void)media_map_del(&mx->map, mid);
	mx->n--;
	member_free(m);
	return CC_OK;
}

size_t media_mix_members(const struct media_mix *mx)
{
	return mx->n;
}

/* ---- input ---------------------------------------------------------------- */

/* D6: the SSRC must belong to the member whose leg it arrived on. */
static enum cc_err check_binding(struct media_mix *mx, media_mid from,
				 uint32_t ssrc, uint32_t *roc,
				 struct mix_member **m)
{
	media_mid owner = 0;
	uint32_t at;

	if (!media_map_get(&mx->map, from, &at)) {
		mx->core.st.drop_not_member++;
		return CC_ERR_NOT_AUTHORISED;
	}
	*roc = 0;
	if (!mx->owner_h(ssrc, &owner, roc, mx->owner_arg) || owner != from) {
		mx->core.st.drop_foreign_ssrc++;
		return CC_ERR_NOT_AUTHORISED;
	}
	*m = mx->mem[at];
	return CC_OK;
}

/* The payload of the decrypted RTP packet in scratch, padding removed
 * [RFC 3550 §5.1: P bit, the last octet counts the padding]. */
static enum cc_err payload_of(const uint8_t *rtp, size_t len, size_t hdr,
			      struct cc_slice *pl)
{
	size_t pad = 0;

	if (len < hdr)
		return CC_ERR_MALFORMED;
	if (rtp[0] & 0x20) {
		pad = len > hdr ? rtp[len - 1] : 0;
		if (pad == 0 || pad > len - hdr)
			return CC_ERR_MALFORMED;
	}
	pl->p = rtp + hdr;
	pl->len = len - hdr - pad;
	return CC_OK;
}

#ifdef CONCLAVE_HAVE_OPUS
static enum cc_err decode_opus(struct mix_member *m, const struct cc_slice *pl,
			       int16_t *pcm)
{
	int err = OPUS_OK;

	/* 20 ms only: the tick takes one 20 ms frame per member */
	if (!pl->len || opus_packet_get_nb_samples(pl->p, (opus_int32)pl->len,
						   MEDIA_RATE) != MEDIA_FRAME)
		return CC_ERR_UNSUPPORTED;
	if (!m->opus) {
		m->opus = opus_decoder_create(MEDIA_RATE, 1, &err);
		if (!m->opus || err != OPUS_OK)
			return CC_ERR_NOMEM;
	}
	if (opus_decode(m->opus, pl->p, (opus_int32)pl->len, pcm, MEDIA_FRAME,
			0) != MEDIA_FRAME)
		return CC_ERR_UNSUPPORTED;
	return CC_OK;
}
#endif

static void decode_g711(const int16_t *table, const struct cc_slice *pl,
			int16_t *pcm)
{
	size_t i;

	for (i = 0; i < MEDIA_FRAME; i++)
		pcm[i] = table[pl->p[i]];
}

/* Decode one 20 ms frame of payload type pt into mx->tmp. */
static enum cc_err decode(struct media_mix *mx, struct mix_member *m,
			  uint8_t pt, const struct cc_slice *pl)
{
	if (pt == MEDIA_PT_PCMU || pt == MEDIA_PT_PCMA) {
		if (pl->len != MEDIA_FRAME)
			return CC_ERR_UNSUPPORTED;
		decode_g711(pt == MEDIA_PT_PCMU ? mx->ulaw : mx->alaw, pl,
			    mx->tmp);
		return CC_OK;
	}
#ifdef CONCLAVE_HAVE_OPUS
	if (mx->opus_pt && pt == mx->opus_pt)
		return decode_opus(m, pl, mx->tmp);
#else
	(void)m;
#endif
	return CC_ERR_UNSUPPORTED;
}

/* Late: not after the last frame accepted from this SSRC (RTP sequence
 * arithmetic, RFC 3550 App. A.1). A new SSRC starts afresh. */
static bool is_late(struct mix_member *m, const struct media_rtp *rtp)
{
	if (!m->have_seq || m->last_ssrc != rtp->ssrc) {
		m->have_seq = false;
#ifdef CONCLAVE_HAVE_OPUS
		if (m->opus)
			(void)opus_decoder_ctl(m->opus, OPUS_RESET_STATE);
#endif
		return false;
	}
	return (int16_t)(uint16_t)(rtp->seq - m->last_seq) <= 0;
}

/* Queue mx->tmp as the member's newest frame. */
static enum cc_err enqueue(struct media_mix *mx, struct mix_member *m,
			   const struct media_rtp *rtp)
{
	enum cc_err err = mix_activate(mx, m);

	if (err)
		return err;
	if (m->q_n == MEDIA_MIX_QUEUE) {
		m->q_head = (m->q_head + 1) % MEDIA_MIX_QUEUE;
		m->q_n--;
		mx->st.drop_overrun++;
	}
	memcpy(m->q[(m->q_head + m->q_n) % MEDIA_MIX_QUEUE], mx->tmp,
	       sizeof(mx->tmp));
	m->q_n++;
	m->have_seq = true;
	m->last_seq = rtp->seq;
	m->last_ssrc = rtp->ssrc;
	mx->st.frames++;
	return CC_OK;
}

/* After authentication: the audio checks, decode, queue. */
static enum cc_err accept_frame(struct media_mix *mx, struct mix_member *m,
				size_t plain, const struct media_rtp *rtp)
{
	struct cc_slice pl;
	enum cc_err err;

	if (is_late(m, rtp)) {
		mx->st.drop_late++;
		return CC_ERR_STALE;
	}
	err = payload_of((const uint8_t *)mx->core.scratch, plain, rtp->hdr_len,
			 &pl);
	if (!err)
		err = decode(mx, m, rtp->pt, &pl);
	if (err) {
		mx->st.drop_codec++;
		return err == CC_ERR_NOMEM ? err : CC_ERR_UNSUPPORTED;
	}
	return enqueue(mx, m, rtp);
}

enum cc_err media_mix_rx(struct media_mix *mx, media_mid from,
			 const uint8_t *pkt, size_t len,
			 struct media_rx_info *info)
{
	struct media_rtp rtp;
	struct media_rx_info local;
	struct mix_member *m = NULL;
	uint32_t roc;
	size_t plain;
	int slot = -1;
	enum cc_err err;

	if (!mx || !pkt)
		return CC_ERR_INVAL;
	if (!info)
		info = &local;
	err = media_rxcore_classify(&mx->core, pkt, len, &rtp, &slot);
	if (err)
		return err;
	err = check_binding(mx, from, rtp.ssrc, &roc, &m);
	if (err)
		return err;
	err = media_rxcore_unprotect(&mx->core, slot, pkt, len, &rtp, roc,
				     &plain, info);
	if (err) {
		media_rxcore_count(&mx->core, slot, err);
		return err;
	}
	return accept_frame(mx, m, plain, &rtp);
}

/* ---- counters ------------------------------------------------------------- */

enum cc_err media_mix_stream_state(const struct media_mix *mx, uint32_t ssrc,
				   uint32_t *roc, uint16_t *seq)
{
	size_t i;

	for (i = 0; i < MIX_STREAMS; i++) {
		if (mix_stream_live(mx, i) && mx->out[i].ssrc == ssrc) {
			*roc = mx->out[i].roc;
			*seq = mx->out[i].seq;
			return CC_OK;
		}
	}
	return CC_ERR_NOT_FOUND;
}

void media_mix_stats(const struct media_mix *mx, struct media_mix_stats *st)
{
	*st = mx->st;
	st->srtp = mx->core.st;
}

enum cc_err media_mix_epoch_stats(const struct media_mix *mx, uint32_t mki,
				  struct media_epoch_stats *st)
{
	int slot = media_rxcore_slot(&mx->core, mki);

	if (slot < 0)
		return CC_ERR_NOT_FOUND;
	*st = mx->core.ep[slot].st;
	return CC_OK;
}
