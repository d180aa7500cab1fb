/*
 * member.c -- the participant's SRTP: receive by MKI (every epoch it holds,
 * old ones kept for the grace period, D7), send once under the current MKI
 * with the ROC carried across rekeys [RFC 3711 §3.3.1: never reset].
 */
#include "media_int.h"

#include <stdlib.h>
#include <string.h>

struct media_member {
	struct media_rxcore core;
	int send_slot; /* -1: not switched yet */
	bool sender;
	uint32_t ssrc;
	uint8_t pt;
	uint32_t tx_roc; /* ROC and SEQ of the next packet */
	uint16_t tx_seq;
	uint32_t tx_buf[MEDIA_SCRATCH_WORDS];
};

enum cc_err media_member_new(struct media_member **mp, enum media_profile p)
{
	struct media_member *m;
	enum cc_err err;

	if (!mp)
		return CC_ERR_INVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return CC_ERR_NOMEM;
	err = media_rxcore_init(&m->core, p);
	if (err) {
		free(m);
		return err;
	}
	m->send_slot = -1;
	*mp = m;
	return CC_OK;
}

void media_member_free(struct media_member *m)
{
	if (!m)
		return;
	media_rxcore_fini(&m->core);
	cc_wipe(m->tx_buf, sizeof(m->tx_buf));
	free(m);
}

enum cc_err media_member_install(struct media_member *m,
				 const struct media_key *k)
{
	return media_rxcore_install(&m->core, k);
}

enum cc_err media_member_retire(struct media_member *m, uint32_t mki)
{
	int slot = media_rxcore_slot(&m->core, mki);
	enum cc_err err = media_rxcore_retire(&m->core, mki);

	if (!err && slot == m->send_slot)
		m->send_slot = -1;
	return err;
}

enum cc_err media_member_switch(struct media_member *m, uint32_t mki)
{
	int slot = media_rxcore_slot(&m->core, mki), i;
	struct media_epoch *ep;

	if (slot < 0)
		return CC_ERR_NOT_FOUND;
	/* Drop other epochs' send contexts: a switch back would otherwise
	 * find a stale index there; recreated ones are seeded afresh. */
	for (i = 0; i < MEDIA_EPOCHS_MAX; i++) {
		ep = &m->core.ep[i];
		if (i != slot && ep->tx) {
			(void)srtp_dealloc(ep->tx);
			ep->tx = NULL;
		}
	}
	m->send_slot = slot;
	return CC_OK;
}

uint32_t media_member_sending_mki(const struct media_member *m)
{
	return m->send_slot < 0 ? 0 : m->core.ep[m->send_slot].mki;
}

enum cc_err media_member_set_roc(struct media_member *m, uint32_t ssrc,
				 uint32_t roc)
{
	return media_rxcore_seed(&m->core, ssrc, roc);
}

enum cc_err media_member_unprotect(struct media_member *m, const uint8_t *pkt,
				   size_t len, struct media_rx_payload *out)
{
	struct media_rtp rtp;
	size_t plain;
	int slot = -1;
	enum cc_err err;

	if (!m || !pkt || !out)
		return CC_ERR_INVAL;
	err = media_rxcore_classify(&m->core, pkt, len, &rtp, &slot);
	if (err)
		return err;
	err = media_rxcore_unprotect(&m->core, slot, pkt, len, &rtp, 0, &plain,
				     &out->info);
	if (err) {
		media_rxcore_count(&m->core, slot, err);
		return err;
	}
	out->payload = (const uint8_t *)m->core.scratch + rtp.hdr_len;
	out->payload_len = plain - rtp.hdr_len;
	return CC_OK;
}

enum cc_err media_member_sender(struct media_member *m, uint32_t ssrc,
				uint8_t pt, uint32_t roc, uint16_t seq)
{
	int i;

	if (!m || pt > 127)
		return CC_ERR_INVAL;
	for (i = 0; i < MEDIA_EPOCHS_MAX; i++) {
		if (m->core.ep[i].tx) {
			(void)srtp_dealloc(m->core.ep[i].tx);
			m->core.ep[i].tx = NULL;
		}
	}
	m->sender = true;
	m->ssrc = ssrc;
	m->pt = pt;
	m->tx_roc = roc;
	m->tx_seq = seq;
	return CC_OK;
}

/* The send session of the current epoch, created at its first packet and
 * started at our ROC (srtp_set_stream_roc: the ROC carries over). */
static enum cc_err tx_session(struct media_member *m, struct media_epoch *ep)
{
	srtp_policy_t pol;
	srtp_master_key_t mk, *mkp[1];
	srtp_err_status_t s;

	if (ep->tx)
		return CC_OK;
	media_policy(&pol, &mk, mkp, m->core.profile, ep, ssrc_specific,
		     m->ssrc);
	s = srtp_create(&ep->tx, &pol);
	if (s == srtp_err_status_ok && m->tx_roc != 0)
		s = srtp_set_stream_roc(ep->tx, m->ssrc, m->tx_roc);
	if (s != srtp_err_status_ok) {
		if (ep->tx)
			(void)srtp_dealloc(ep->tx);
		ep->tx = NULL;
		return media_srtp_err(s);
	}
	return CC_OK;
}

static void rtp_header(const struct media_member *m, uint8_t *h, uint32_t ts,
		       bool marker)
{
	h[0] = 0x80; /* V=2, no padding, no extension, no CSRC */
	h[1] = (uint8_t)((marker ? 0x80 : 0) | m->pt);
	h[2] = (uint8_t)(m->tx_seq >> 8);
	h[3] = (uint8_t)m->tx_seq;
	h[4] = (uint8_t)(ts >> 24);
	h[5] = (uint8_t)(ts >> 16);
	h[6] = (uint8_t)(ts >> 8);
	h[7] = (uint8_t)ts;
	h[8] = (uint8_t)(m->ssrc >> 24);
	h[9] = (uint8_t)(m->ssrc >> 16);
	h[10] = (uint8_t)(m->ssrc >> 8);
	h[11] = (uint8_t)m->ssrc;
}

enum cc_err media_member_send(struct media_member *m, const uint8_t *payload,
			      size_t n, uint32_t ts, bool marker, uint8_t *out,
			      size_t cap, size_t *out_len)
{
	uint8_t *buf = (uint8_t *)m->tx_buf;
	struct media_epoch *ep;
	int len = (int)(MEDIA_RTP_HDR_LEN + n);
	srtp_err_status_t s;
	enum cc_err err;

	if (!m || (!payload && n) || !out || !out_len)
		return CC_ERR_INVAL;
	if (!m->sender || m->send_slot < 0)
		return CC_ERR_INVAL;
	if (MEDIA_RTP_HDR_LEN + n + MEDIA_TRAILER_MAX > MEDIA_PKT_MAX)
		return CC_ERR_INVAL;
	if (cap < MEDIA_RTP_HDR_LEN + n + MEDIA_TRAILER_MAX)
		return CC_ERR_SPACE;
	ep = &m->core.ep[m->send_slot];
	err = tx_session(m, ep);
	if (err)
		return err;
	rtp_header(m, buf, ts, marker);
	if (n)
		memcpy(buf + MEDIA_RTP_HDR_LEN, payload, n);
	s = srtp_protect_mki(ep->tx, buf, &len, 1, 0);
	if (s != srtp_err_status_ok)
		return media_srtp_err(s);
	memcpy(out, buf, (size_t)len);
	*out_len = (size_t)len;
	if (++m->tx_seq == 0)
		m->tx_roc++;
	ep->st.tx++;
	m->core.st.tx++;
	return CC_OK;
}

void media_member_tx_state(const struct media_member *m, uint32_t *roc,
			   uint16_t *seq)
{
	*roc = m->tx_roc;
	*seq = m->tx_seq;
}

void media_member_stats(const struct media_member *m, struct media_stats *st)
{
	*st = m->core.st;
}

enum cc_err media_member_epoch_stats(const struct media_member *m, uint32_t mki,
				     struct media_epoch_stats *st)
{
	int slot = media_rxcore_slot(&m->core, mki);

	if (slot < 0)
		return CC_ERR_NOT_FOUND;
	*st = m->core.ep[slot].st;
	return CC_OK;
}
