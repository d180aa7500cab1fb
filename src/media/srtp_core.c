/*
 * srtp_core.c -- libsrtp glue and the receive core shared by the switch and
 * the participant: RTP header parsing, MKI lookup, one libsrtp session per
 * epoch, and per-SSRC ROC tracking across epochs [RFC 3711 §3.3.1, §8.1].
 *
 * Why one session per epoch, each with a single master key + MKI, rather
 * than one session listing every key (policy.keys[]): libsrtp can only
 * change a session's key set with srtp_update(), which rebuilds every
 * stream keeping its index but clearing its replay window, so a packet
 * replayed right after a rekey was accepted (seen with 2.5.0). Separate
 * sessions are never rebuilt; retiring an epoch is srtp_dealloc().
 */
#include "media_int.h"

#include <stdlib.h>
#include <string.h>

enum cc_err media_init(void)
{
	static bool done;

	if (done)
		return CC_OK;
	if (srtp_init() != srtp_err_status_ok)
		return CC_ERR_CRYPTO;
	done = true;
	return CC_OK;
}

void media_profile_sizes(enum media_profile p, size_t *tek_len,
			 size_t *salt_len, size_t *tag_len)
{
	*tek_len = 16;
	if (p == MEDIA_AEAD_AES_128_GCM) {
		*salt_len = 12; /* RFC 7714 §12 */
		*tag_len = 16;
	} else {
		*salt_len = 14; /* RFC 3711 §8.2 */
		*tag_len = 10;
	}
}

enum cc_err media_srtp_err(srtp_err_status_t s)
{
	switch (s) {
	case srtp_err_status_ok:
		return CC_OK;
	case srtp_err_status_auth_fail:
	case srtp_err_status_cipher_fail: /* GCM tag mismatch */
		return CC_ERR_BAD_MAC;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
	case srtp_err_status_pkt_idx_old:
		return CC_ERR_REPLAY;
	case srtp_err_status_bad_mki:
		return CC_ERR_NOT_FOUND;
	case srtp_err_status_parse_err:
	case srtp_err_status_bad_param:
		return CC_ERR_MALFORMED;
	case srtp_err_status_alloc_fail:
		return CC_ERR_NOMEM;
	case srtp_err_status_key_expired:
		return CC_ERR_EXPIRED;
	default:
		return CC_ERR_CRYPTO;
	}
}

/* ---- RTP header [RFC 3550 §5.1, §5.3.1] ------------------------------- */

enum cc_err media_rtp_parse(const uint8_t *p, size_t len, struct media_rtp *out)
{
	struct cc_rd rd;
	uint8_t b0, b1;
	uint16_t xlen;
	struct cc_slice skip;
	enum cc_err err;

	cc_rd_init(&rd, p, len);
	if ((err = cc_rd_u8(&rd, &b0)) || (err = cc_rd_u8(&rd, &b1)) ||
	    (err = cc_rd_u16(&rd, &out->seq)) ||
	    (err = cc_rd_u32(&rd, &out->ts)) ||
	    (err = cc_rd_u32(&rd, &out->ssrc)))
		return err;
	if ((b0 >> 6) != 2)
		return CC_ERR_MALFORMED;
	/* the CSRC list */
	err = cc_rd_slice(&rd, 4u * (b0 & 0x0f), &skip);
	if (err)
		return err;
	if (b0 & 0x10) { /* X: profile(16) length(16) then length words */
		if ((err = cc_rd_slice(&rd, 2, &skip)) ||
		    (err = cc_rd_u16(&rd, &xlen)) ||
		    (err = cc_rd_slice(&rd, 4u * xlen, &skip)))
			return err;
	}
	out->marker = (b1 & 0x80) != 0;
	out->pt = b1 & 0x7f;
	out->hdr_len = rd.pos;
	return CC_OK;
}

enum cc_err media_srtp_mki(enum media_profile p, const uint8_t *pkt, size_t len,
			   uint32_t *mki)
{
	size_t tek, salt, tag, at;

	media_profile_sizes(p, &tek, &salt, &tag);
	if (len < MEDIA_RTP_HDR_LEN + MEDIA_MKI_LEN + tag)
		return CC_ERR_TRUNCATED;
	/* HMAC: payload | MKI | tag [RFC 3711 §3.1]. AEAD: libsrtp 2.5 writes
	 * payload | tag | MKI (the tag is part of the GCM ciphertext). */
	at = p == MEDIA_AEAD_AES_128_GCM ? len - MEDIA_MKI_LEN :
					   len - tag - MEDIA_MKI_LEN;
	*mki = (uint32_t)pkt[at] << 24 | (uint32_t)pkt[at + 1] << 16 |
	       (uint32_t)pkt[at + 2] << 8 | pkt[at + 3];
	return CC_OK;
}

/* ---- keys and policies ------------------------------------------------ */

enum cc_err media_key_master(const struct media_key *k, enum media_profile p,
			     uint8_t master[MEDIA_MASTER_MAX])
{
	size_t tek, salt, tag;

	media_profile_sizes(p, &tek, &salt, &tag);
	if (!k || k->profile != p || k->tek_len != tek || k->salt_len != salt ||
	    !k->tek || !k->salt)
		return CC_ERR_INVAL;
	memcpy(master, k->tek, tek);
	memcpy(master + tek, k->salt, salt);
	return CC_OK;
}

static void policy_crypto(srtp_policy_t *pol, enum media_profile p)
{
	if (p == MEDIA_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtcp);
	} else {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtcp);
	}
}

void media_policy(srtp_policy_t *pol, srtp_master_key_t *mk,
		  srtp_master_key_t **mkp, enum media_profile p,
		  struct media_epoch *ep, srtp_ssrc_type_t type, uint32_t ssrc)
{
	memset(pol, 0, sizeof(*pol));
	policy_crypto(pol, p);
	pol->ssrc.type = type;
	pol->ssrc.value = ssrc; /* host order here, unlike remove_stream */
	mk->key = ep->master;
	mk->mki_id = ep->mki_wire;
	mk->mki_size = MEDIA_MKI_LEN;
	mkp[0] = mk;
	pol->keys = mkp;
	pol->num_master_keys = 1;
	pol->window_size = MEDIA_REPLAY_WINDOW;
	pol->allow_repeat_tx = 0;
}

void media_policy_nomki(srtp_policy_t *pol, enum media_profile p,
			uint8_t *master, srtp_ssrc_type_t type)
{
	memset(pol, 0, sizeof(*pol));
	policy_crypto(pol, p);
	pol->ssrc.type = type;
	pol->key = master;
	pol->window_size = MEDIA_REPLAY_WINDOW;
}

/* ---- the receive core ------------------------------------------------- */

enum cc_err media_rxcore_init(struct media_rxcore *c, enum media_profile p)
{
	size_t tek, salt;
	enum cc_err err;

	if (p != MEDIA_AES_CM_128_HMAC_SHA1_80 && p != MEDIA_AEAD_AES_128_GCM)
		return CC_ERR_INVAL;
	err = media_init();
	if (err)
		return err;
	memset(c, 0, sizeof(*c));
	c->profile = p;
	media_profile_sizes(p, &tek, &salt, &c->tag_len);
	return CC_OK;
}

static void epoch_clear(struct media_epoch *ep)
{
	if (ep->rx)
		(void)srtp_dealloc(ep->rx);
	if (ep->tx)
		(void)srtp_dealloc(ep->tx);
	cc_wipe(ep, sizeof(*ep));
}

void media_rxcore_fini(struct media_rxcore *c)
{
	size_t i;

	for (i = 0; i < MEDIA_EPOCHS_MAX; i++)
		if (c->ep[i].live)
			epoch_clear(&c->ep[i]);
	free(c->src);
	media_map_free(&c->src_map);
	cc_wipe(c->scratch, sizeof(c->scratch));
}

int media_rxcore_slot(const struct media_rxcore *c, uint32_t mki)
{
	int i;

	for (i = 0; i < MEDIA_EPOCHS_MAX; i++)
		if (c->ep[i].live && c->ep[i].mki == mki)
			return i;
	return -1;
}

enum cc_err media_rxcore_install(struct media_rxcore *c,
				 const struct media_key *k)
{
	struct media_epoch *ep = NULL;
	enum cc_err err;
	size_t i;

	if (!k || media_rxcore_slot(c, k->mki) >= 0)
		return CC_ERR_INVAL;
	for (i = 0; i < MEDIA_EPOCHS_MAX && !ep; i++)
		if (!c->ep[i].live)
			ep = &c->ep[i];
	if (!ep)
		return CC_ERR_FULL;
	err = media_key_master(k, c->profile, ep->master);
	if (err)
		goto out;
	/* An empty session: streams are added per SSRC at its first packet
	 * so each starts at the SSRC's ROC (no wildcard template, whose
	 * first packet always assumes ROC 0). */
	if (srtp_create(&ep->rx, NULL) != srtp_err_status_ok) {
		err = CC_ERR_CRYPTO;
		goto out;
	}
	ep->mki = k->mki;
	ep->mki_wire[0] = (uint8_t)(k->mki >> 24);
	ep->mki_wire[1] = (uint8_t)(k->mki >> 16);
	ep->mki_wire[2] = (uint8_t)(k->mki >> 8);
	ep->mki_wire[3] = (uint8_t)k->mki;
	ep->st.mki = k->mki;
	ep->live = true;
	/* A fresh slot: no source has a stream in it yet. */
	for (i = 0; i < c->n_src; i++)
		c->src[i].streams &= (uint8_t) ~(1u << (ep - c->ep));
out:
	if (err)
		cc_wipe(ep, sizeof(*ep));
	return err;
}

enum cc_err media_rxcore_retire(struct media_rxcore *c, uint32_t mki)
{
	int slot = media_rxcore_slot(c, mki);
	size_t i;

	if (slot < 0)
		return CC_ERR_NOT_FOUND;
	epoch_clear(&c->ep[slot]);
	for (i = 0; i < c->n_src; i++)
		c->src[i].streams &= (uint8_t) ~(1u << slot);
	return CC_OK;
}

static struct media_src *src_get(struct media_rxcore *c, uint32_t ssrc)
{
	uint32_t at;

	if (!media_map_get(&c->src_map, ssrc, &at))
		return NULL;
	return &c->src[at];
}

static enum cc_err src_add(struct media_rxcore *c, const struct media_src *s)
{
	struct media_src *n;
	size_t cap;
	enum cc_err err;

	if (c->n_src == c->cap_src) {
		cap = c->cap_src ? 2 * c->cap_src : 16;
		n = realloc(c->src, cap * sizeof(*n));
		if (!n)
			return CC_ERR_NOMEM;
		c->src = n;
		c->cap_src = cap;
	}
	err = media_map_put(&c->src_map, s->ssrc, (uint32_t)c->n_src);
	if (err)
		return err;
	c->src[c->n_src++] = *s;
	return CC_OK;
}

enum cc_err media_rxcore_seed(struct media_rxcore *c, uint32_t ssrc,
			      uint32_t roc)
{
	struct media_src *s = src_get(c, ssrc), n = { 0 };

	if (s) {
		/* Known from packets already: our own tracking is newer. */
		if (!s->seq_known)
			s->roc = roc;
		return CC_OK;
	}
	n.ssrc = ssrc;
	n.roc = roc;
	return src_add(c, &n);
}

enum cc_err media_rxcore_classify(struct media_rxcore *c, const uint8_t *pkt,
				  size_t len, struct media_rtp *rtp, int *slot)
{
	uint32_t mki;

	c->st.rx++;
	if (len > MEDIA_PKT_MAX || media_rtp_parse(pkt, len, rtp) ||
	    len < rtp->hdr_len + MEDIA_MKI_LEN + c->tag_len ||
	    media_srtp_mki(c->profile, pkt, len, &mki)) {
		c->st.drop_malformed++;
		return CC_ERR_MALFORMED;
	}
	*slot = media_rxcore_slot(c, mki);
	if (*slot < 0) {
		c->st.drop_unknown_mki++;
		return CC_ERR_NOT_FOUND;
	}
	c->ep[*slot].st.rx++;
	return CC_OK;
}

void media_rxcore_count(struct media_rxcore *c, int slot, enum cc_err err)
{
	if (slot >= 0 && err != CC_ERR_NOT_AUTHORISED)
		c->ep[slot].st.failed++;
	switch (err) {
	case CC_ERR_BAD_MAC:
		c->st.drop_auth++;
		break;
	case CC_ERR_REPLAY:
		c->st.drop_replay++;
		break;
	case CC_ERR_MALFORMED:
		c->st.drop_malformed++;
		break;
	case CC_ERR_NOT_FOUND:
		c->st.drop_unknown_mki++;
		break;
	default:
		c->st.drop_other++;
		break;
	}
}

/* The ROC v of a packet with seq, given the highest index (roc, s_l)
 * [RFC 3711 §3.3.1, App. A]. */
static uint32_t roc_estimate(uint32_t roc, uint16_t s_l, uint16_t seq)
{
	if (s_l < 32768)
		return (int32_t)seq - (int32_t)s_l > 32768 ? roc - 1 : roc;
	return (int32_t)s_l - 32768 > (int32_t)seq ? roc + 1 : roc;
}

/* Add a stream for ssrc to epoch slot's rx session, starting at ROC v
 * (libsrtp takes v as the first packet's ROC: srtp_set_stream_roc). */
static enum cc_err stream_add(struct media_rxcore *c, int slot, uint32_t ssrc,
			      uint32_t v)
{
	struct media_epoch *ep = &c->ep[slot];
	srtp_policy_t pol;
	srtp_master_key_t mk, *mkp[1];
	srtp_err_status_t s;

	media_policy(&pol, &mk, mkp, c->profile, ep, ssrc_specific, ssrc);
	s = srtp_add_stream(ep->rx, &pol);
	if (s == srtp_err_status_ok && v != 0)
		s = srtp_set_stream_roc(ep->rx, ssrc, v);
	return s == srtp_err_status_ok ? CC_OK : media_srtp_err(s);
}

static void stream_drop(struct media_rxcore *c, int slot, uint32_t ssrc)
{
	/* srtp_remove_stream() wants the SSRC in network byte order. */
	uint8_t be[4] = { (uint8_t)(ssrc >> 24), (uint8_t)(ssrc >> 16),
			  (uint8_t)(ssrc >> 8), (uint8_t)ssrc };
	uint32_t net;

	memcpy(&net, be, sizeof(net));
	(void)srtp_remove_stream(c->ep[slot].rx, net);
}

/* One unprotect attempt at ROC v on a fresh stream or the existing one. */
static enum cc_err try_unprotect(struct media_rxcore *c, int slot,
				 const uint8_t *pkt, size_t len, uint32_t ssrc,
				 bool fresh, uint32_t v, size_t *plain_len)
{
	int n = (int)len;
	enum cc_err err;
	srtp_err_status_t s;

	if (fresh) {
		err = stream_add(c, slot, ssrc, v);
		if (err)
			return err;
	}
	memcpy(c->scratch, pkt, len);
	s = srtp_unprotect_mki(c->ep[slot].rx, c->scratch, &n, 1);
	if (s != srtp_err_status_ok) {
		/* A packet that fails leaves no stream (and no ROC) behind. */
		if (fresh)
			stream_drop(c, slot, ssrc);
		return media_srtp_err(s);
	}
	*plain_len = (size_t)n;
	return CC_OK;
}

static void src_update(struct media_src *s, uint32_t v, uint16_t seq,
		       struct media_rx_info *info)
{
	uint32_t old = s->roc;

	if (!s->seq_known) {
		s->roc = v;
		s->s_l = seq;
		s->seq_known = true;
	} else if (v == s->roc + 1) {
		s->roc = v;
		s->s_l = seq;
	} else if (v == s->roc && seq > s->s_l) {
		s->s_l = seq;
	}
	info->roc = s->roc;
	info->roc_changed = s->roc != old;
}

enum cc_err media_rxcore_unprotect(struct media_rxcore *c, int slot,
				   const uint8_t *pkt, size_t len,
				   const struct media_rtp *rtp,
				   uint32_t roc_hint, size_t *plain_len,
				   struct media_rx_info *info)
{
	struct media_src *s = src_get(c, rtp->ssrc), tmp = { 0 };
	bool fresh, known;
	uint32_t v;
	enum cc_err err;

	if (!s) {
		tmp.ssrc = rtp->ssrc;
		tmp.roc = roc_hint;
		s = &tmp;
	}
	known = s->seq_known;
	v = known ? roc_estimate(s->roc, s->s_l, rtp->seq) : s->roc;
	fresh = !(s->streams & (1u << slot));
	err = try_unprotect(c, slot, pkt, len, rtp->ssrc, fresh, v, plain_len);
	/* A late joiner's ROC from the CS map may be one behind (the sender
	 * wrapped after the focus reported it) or ahead: for the first packet
	 * only, with no s_l yet, try the neighbours [RFC 3711 §3.3.1]. */
	if (err == CC_ERR_BAD_MAC && fresh && !known) {
		err = try_unprotect(c, slot, pkt, len, rtp->ssrc, true, v + 1,
				    plain_len);
		if (!err)
			v = v + 1;
		else if (v > 0 && err == CC_ERR_BAD_MAC &&
			 !(err = try_unprotect(c, slot, pkt, len, rtp->ssrc,
					       true, v - 1, plain_len)))
			v = v - 1;
	}
	if (err)
		return err;
	if (s == &tmp) {
		err = src_add(c, &tmp);
		if (err) {
			stream_drop(c, slot, rtp->ssrc);
			return err;
		}
		s = src_get(c, rtp->ssrc);
	}
	s->streams |= (uint8_t)(1u << slot);
	info->rtp = *rtp;
	info->mki = c->ep[slot].mki;
	src_update(s, v, rtp->seq, info);
	c->ep[slot].st.ok++;
	c->st.ok++;
	return CC_OK;
}
