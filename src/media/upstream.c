/*
 * upstream.c -- SDES members in a group-key conference (DESIGN.md D8,
 * include/conclave/media_upstream.h, docs/SDES.md).
 *
 * A member's packet is authenticated and decrypted once under the
 * member's own key (picked by its MKI, or its one key), then protected
 * once under the group's sending epoch, with the same SSRC, SEQ and ROC,
 * and the switch forwards those bytes to everyone: the downstream stays
 * encrypted once per packet, not once per listener.
 *
 * As in srtp_core.c, each key is its own libsrtp session with one master
 * key, and a stream per source SSRC is added at the SSRC's first packet
 * under that key, seeded with the SSRC's ROC, which this file tracks
 * across keys [RFC 3711 §3.3.1, App. A]. The group side keeps one send
 * session per group epoch (struct media_reprotect, hung on the group and
 * freed when the epoch retires), with a stream per re-protected SSRC;
 * libsrtp's send-side replay check (allow_repeat_tx = 0) refuses to use
 * one (SSRC, index) twice under a group key.
 */
#include "media_int.h"

#include <conclave/media_upstream.h>

#include <stdlib.h>
#include <string.h>

/* The SRTP lifetime bound of every suite we run [RFC 3711 §9.2]. */
#define UP_LIFETIME_MAX ((uint64_t)1 << 48)

struct up_key {
	bool live;
	uint8_t master[MEDIA_MASTER_MAX]; /* secret */
	uint8_t mki[MEDIA_UPSTREAM_MKI_MAX];
	size_t mki_len;
	uint64_t lifetime;  /* packets allowed */
	uint64_t used;      /* packets accepted */
	uint64_t retire_at; /* ms; 0: not retiring */
	srtp_t rx;
};

/* A source seen under some key: its highest index (ROC, s_l). */
struct up_src {
	uint32_t ssrc;
	uint32_t roc;
	uint16_t s_l;
	uint16_t streams; /* bit k: key slot k's session has a stream */
};

struct media_upstream {
	enum media_profile profile;
	size_t master_len, tag_len;
	size_t mki_len; /* of every live key (fixed per context) */
	struct up_key key[MEDIA_UPSTREAM_KEYS_MAX];
	struct up_src src[MEDIA_UPSTREAM_SSRC_MAX];
	size_t n_src;
	struct media_stats st;
	uint32_t scratch[MEDIA_SCRATCH_WORDS];
};

/* The group's send sessions for re-protection, one per epoch slot. */
struct media_reprotect {
	srtp_t tx[MEDIA_EPOCHS_MAX];
	uint32_t mki[MEDIA_EPOCHS_MAX];
};

/* ---- keys ------------------------------------------------------------- */

static void key_clear(struct up_key *k)
{
	if (k->rx)
		(void)srtp_dealloc(k->rx);
	cc_wipe(k, sizeof(*k));
}

/* A policy for key k and one SSRC: single key, with its MKI if any. */
static void key_policy(srtp_policy_t *pol, srtp_master_key_t *mk,
		       srtp_master_key_t **mkp, enum media_profile p,
		       struct up_key *k, uint32_t ssrc)
{
	media_policy_nomki(pol, p, k->master, ssrc_specific);
	pol->ssrc.value = ssrc;
	if (!k->mki_len)
		return;
	mk->key = k->master;
	mk->mki_id = k->mki;
	mk->mki_size = (unsigned)k->mki_len;
	mkp[0] = mk;
	pol->key = NULL;
	pol->keys = mkp;
	pol->num_master_keys = 1;
}

enum cc_err media_upstream_new(struct media_upstream **up, enum media_profile p)
{
	struct media_upstream *u;
	size_t tek, salt;
	enum cc_err err;

	if (!up ||
	    (p != MEDIA_AES_CM_128_HMAC_SHA1_80 && p != MEDIA_AEAD_AES_128_GCM))
		return CC_ERR_INVAL;
	err = media_init();
	if (err)
		return err;
	u = calloc(1, sizeof(*u));
	if (!u)
		return CC_ERR_NOMEM;
	u->profile = p;
	media_profile_sizes(p, &tek, &salt, &u->tag_len);
	u->master_len = tek + salt;
	*up = u;
	return CC_OK;
}

void media_upstream_free(struct media_upstream *up)
{
	size_t i;

	if (!up)
		return;
	for (i = 0; i < MEDIA_UPSTREAM_KEYS_MAX; i++)
		if (up->key[i].live)
			key_clear(&up->key[i]);
	cc_wipe(up, sizeof(*up));
	free(up);
}

static int key_find(const struct media_upstream *up, const uint8_t *mki,
		    size_t mki_len)
{
	int i;

	for (i = 0; i < MEDIA_UPSTREAM_KEYS_MAX; i++)
		if (up->key[i].live && up->key[i].mki_len == mki_len &&
		    (!mki_len || cc_ct_equal(up->key[i].mki, mki, mki_len)))
			return i;
	return -1;
}

static size_t live_keys(const struct media_upstream *up)
{
	size_t i, n = 0;

	for (i = 0; i < MEDIA_UPSTREAM_KEYS_MAX; i++)
		n += up->key[i].live;
	return n;
}

size_t media_upstream_keys(const struct media_upstream *up)
{
	return up ? live_keys(up) : 0;
}

static void slot_clear(struct media_upstream *up, int slot)
{
	size_t i;

	key_clear(&up->key[slot]);
	for (i = 0; i < up->n_src; i++)
		up->src[i].streams &= (uint16_t) ~(1u << slot);
}

/* Sizes and the rules of one key set (RFC 4568 §6.1 via sdes.c, again
 * here since the caller may build keys by hand). */
static enum cc_err keys_check(const struct media_upstream *up,
			      const struct media_upkey *k, size_t n)
{
	size_t i, j;

	if (!k || !n || n > MEDIA_UPSTREAM_KEYS_MAX)
		return CC_ERR_INVAL;
	for (i = 0; i < n; i++) {
		if (!k[i].master || k[i].master_len != up->master_len ||
		    k[i].mki_len > MEDIA_UPSTREAM_MKI_MAX ||
		    (k[i].mki_len && !k[i].mki) ||
		    k[i].mki_len != k[0].mki_len ||
		    k[i].lifetime > UP_LIFETIME_MAX)
			return CC_ERR_INVAL;
		for (j = 0; j < i; j++)
			if (k[i].mki_len &&
			    cc_ct_equal(k[i].mki, k[j].mki, k[i].mki_len))
				return CC_ERR_INVAL;
	}
	return n > 1 && !k[0].mki_len ? CC_ERR_INVAL : CC_OK;
}

/* Fill a free slot from k with a fresh (empty) session rx. */
static void key_fill(struct media_upstream *up, int slot,
		     const struct media_upkey *k, srtp_t rx)
{
	struct up_key *uk = &up->key[slot];
	size_t i;

	memset(uk, 0, sizeof(*uk));
	memcpy(uk->master, k->master, k->master_len);
	if (k->mki_len)
		memcpy(uk->mki, k->mki, k->mki_len);
	uk->mki_len = k->mki_len;
	uk->lifetime = k->lifetime ? k->lifetime : UP_LIFETIME_MAX;
	uk->rx = rx;
	uk->live = true;
	for (i = 0; i < up->n_src; i++)
		up->src[i].streams &= (uint16_t) ~(1u << slot);
}

/* Which of k[] are new, and check that kept ones are the same keys.
 * Returns the count of new keys in *fresh (new[i] set for each). */
static enum cc_err plan_keep(const struct media_upstream *up,
			     const struct media_upkey *k, size_t n, bool *isnew,
			     size_t *fresh)
{
	size_t i;
	int s;

	*fresh = 0;
	for (i = 0; i < n; i++) {
		s = key_find(up, k[i].mki, k[i].mki_len);
		isnew[i] = s < 0;
		if (s < 0)
			(*fresh)++;
		else if (!cc_ct_equal(up->key[s].master, k[i].master,
				      up->master_len))
			return CC_ERR_INVAL; /* new key under a live MKI */
	}
	return live_keys(up) + *fresh > MEDIA_UPSTREAM_KEYS_MAX ? CC_ERR_FULL :
								  CC_OK;
}

/* Is slot s's key in k[]? */
static bool in_set(const struct up_key *uk, const struct media_upkey *k,
		   size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (uk->mki_len == k[i].mki_len &&
		    cc_ct_equal(uk->mki, k[i].mki, uk->mki_len))
			return true;
	return false;
}

/* Commit: old keys not in the set retire (now or at `at`), kept ones stop
 * retiring, new ones take free slots. */
static void commit(struct media_upstream *up, const struct media_upkey *k,
		   size_t n, const bool *isnew, srtp_t *rx, bool replace,
		   uint64_t at)
{
	size_t i, r = 0;
	int s;

	for (s = 0; s < MEDIA_UPSTREAM_KEYS_MAX; s++) {
		struct up_key *uk = &up->key[s];

		if (!uk->live)
			continue;
		if (!replace && in_set(uk, k, n))
			uk->retire_at = 0;
		else if (replace || !at)
			slot_clear(up, s);
		else if (!uk->retire_at || uk->retire_at > at)
			uk->retire_at = at;
	}
	for (i = 0; i < n; i++) {
		if (!isnew[i])
			continue;
		for (s = 0; up->key[s].live; s++)
			;
		key_fill(up, s, &k[i], rx[r++]);
	}
	up->mki_len = k[0].mki_len;
}

/* Is k (without MKI) the live key without MKI? */
static bool same_plain_key(const struct media_upstream *up,
			   const struct media_upkey *k)
{
	int s = key_find(up, NULL, 0);

	return s >= 0 &&
	       cc_ct_equal(up->key[s].master, k->master, up->master_len);
}

enum cc_err media_upstream_set(struct media_upstream *up,
			       const struct media_upkey *keys, size_t n,
			       uint64_t now_ms, uint64_t grace_ms,
			       bool *graceful)
{
	bool isnew[MEDIA_UPSTREAM_KEYS_MAX], replace;
	srtp_t rx[MEDIA_UPSTREAM_KEYS_MAX] = { 0 };
	size_t fresh = n, i;
	enum cc_err err;

	if (!up)
		return CC_ERR_INVAL;
	err = keys_check(up, keys, n);
	if (err)
		return err;
	/* Without an MKI (a new key), or with a new MKI length, nothing
	 * tells old and new packets apart: replace [RFC 4568 §4.3, RFC 3711
	 * §3.2.1]. The same line again (a re-INVITE that keeps its key)
	 * changes nothing, so replay windows survive it. */
	replace = !live_keys(up) || keys[0].mki_len != up->mki_len ||
		  (!keys[0].mki_len && !same_plain_key(up, &keys[0]));
	for (i = 0; i < n; i++)
		isnew[i] = true;
	if (!replace)
		err = plan_keep(up, keys, n, isnew, &fresh);
	for (i = 0; !err && i < fresh; i++)
		if (srtp_create(&rx[i], NULL) != srtp_err_status_ok)
			err = CC_ERR_CRYPTO;
	if (err) {
		for (i = 0; i < fresh; i++)
			if (rx[i])
				(void)srtp_dealloc(rx[i]);
		return err;
	}
	commit(up, keys, n, isnew, rx, replace,
	       grace_ms ? now_ms + grace_ms : 0);
	if (graceful)
		*graceful = !replace;
	return CC_OK;
}

size_t media_upstream_expire(struct media_upstream *up, uint64_t now_ms)
{
	size_t n = 0;
	int s;

	for (s = 0; up && s < MEDIA_UPSTREAM_KEYS_MAX; s++) {
		if (up->key[s].live && up->key[s].retire_at &&
		    up->key[s].retire_at <= now_ms) {
			slot_clear(up, s);
			n++;
		}
	}
	return n;
}

uint64_t media_upstream_next_expiry(const struct media_upstream *up)
{
	uint64_t at = 0;
	size_t s;

	for (s = 0; up && s < MEDIA_UPSTREAM_KEYS_MAX; s++) {
		const struct up_key *k = &up->key[s];

		if (k->live && k->retire_at && (!at || k->retire_at < at))
			at = k->retire_at;
	}
	return at;
}

enum cc_err media_upstream_retire(struct media_upstream *up, const uint8_t *mki,
				  size_t mki_len)
{
	int s;

	if (!up || (mki_len && !mki))
		return CC_ERR_INVAL;
	s = key_find(up, mki, mki_len);
	if (s < 0)
		return CC_ERR_NOT_FOUND;
	slot_clear(up, s);
	return CC_OK;
}

void media_upstream_stats(const struct media_upstream *up,
			  struct media_stats *st)
{
	*st = up->st;
}

/* ---- receive under the member's key ----------------------------------- */

/* Parse and pick the member key: by the packet's MKI [RFC 3711 §3.1:
 * before the HMAC tag; after the GCM tag as libsrtp writes it, see
 * media_srtp_mki], or the one key when the member has no MKI. */
static enum cc_err up_classify(struct media_upstream *up, const uint8_t *pkt,
			       size_t len, struct media_rtp *rtp, int *slot)
{
	size_t at;
	int s;

	if (len > MEDIA_PKT_MAX || media_rtp_parse(pkt, len, rtp) ||
	    len < rtp->hdr_len + up->mki_len + up->tag_len)
		return CC_ERR_MALFORMED;
	if (!up->mki_len) {
		for (s = 0; s < MEDIA_UPSTREAM_KEYS_MAX; s++)
			if (up->key[s].live) {
				*slot = s;
				return CC_OK;
			}
		return CC_ERR_NOT_FOUND;
	}
	at = len - up->mki_len -
	     (up->profile == MEDIA_AEAD_AES_128_GCM ? 0 : up->tag_len);
	*slot = key_find(up, pkt + at, up->mki_len);
	return *slot < 0 ? CC_ERR_NOT_FOUND : CC_OK;
}

static struct up_src *src_find(struct media_upstream *up, uint32_t ssrc)
{
	size_t i;

	for (i = 0; i < up->n_src; i++)
		if (up->src[i].ssrc == ssrc)
			return &up->src[i];
	return NULL;
}

/* The ROC v of seq given the highest index (roc, s_l) [RFC 3711 App. A]. */
static uint32_t roc_estimate(uint32_t roc, uint16_t s_l, uint16_t seq)
{
	if (s_l < 32768)
		return (int32_t)seq - (int32_t)s_l > 32768 && roc ? roc - 1 :
								    roc;
	return (int32_t)s_l - 32768 > (int32_t)seq ? roc + 1 : roc;
}

static void stream_drop(srtp_t session, uint32_t ssrc)
{
	/* srtp_remove_stream() wants the SSRC in network byte order. */
	uint8_t be[4] = { (uint8_t)(ssrc >> 24), (uint8_t)(ssrc >> 16),
			  (uint8_t)(ssrc >> 8), (uint8_t)ssrc };
	uint32_t net;

	memcpy(&net, be, sizeof(net));
	(void)srtp_remove_stream(session, net);
}

static enum cc_err stream_add(struct media_upstream *up, struct up_key *k,
			      uint32_t ssrc, uint32_t v)
{
	srtp_policy_t pol;
	srtp_master_key_t mk, *mkp[1];
	srtp_err_status_t s;

	key_policy(&pol, &mk, mkp, up->profile, k, ssrc);
	s = srtp_add_stream(k->rx, &pol);
	if (s == srtp_err_status_ok && v)
		s = srtp_set_stream_roc(k->rx, ssrc, v);
	if (s != srtp_err_status_ok)
		stream_drop(k->rx, ssrc);
	return media_srtp_err(s);
}

/* Record an authenticated packet of index (v, seq) [RFC 3711 App. A]. */
static void src_update(struct up_src *s, uint32_t v, uint16_t seq,
		       struct media_rx_info *info)
{
	uint32_t old = s->roc;

	if (v == s->roc + 1) {
		s->roc = v;
		s->s_l = seq;
	} else if (v == s->roc && seq > s->s_l) {
		s->s_l = seq;
	}
	info->roc = s->roc;
	info->roc_changed = s->roc != old;
}

/* Authenticate + decrypt into up->scratch and track the source (info:
 * its highest ROC); *v = this packet's ROC. */
static enum cc_err up_unprotect(struct media_upstream *up, int slot,
				const uint8_t *pkt, size_t len,
				const struct media_rtp *rtp, size_t *plain,
				uint32_t *v, struct media_rx_info *info)
{
	struct up_key *k = &up->key[slot];
	struct up_src *s = src_find(up, rtp->ssrc);
	bool fresh = !s || !(s->streams & (1u << slot));
	int n = (int)len;
	srtp_err_status_t st;
	enum cc_err err;

	if (!s && up->n_src == MEDIA_UPSTREAM_SSRC_MAX)
		return CC_ERR_FULL;
	/* an SSRC starts at ROC 0 [RFC 4568 §6.4]; a known one continues
	 * under a new key [RFC 3711 §3.3.1] */
	*v = s ? roc_estimate(s->roc, s->s_l, rtp->seq) : 0;
	if (fresh && (err = stream_add(up, k, rtp->ssrc, *v)))
		return err;
	memcpy(up->scratch, pkt, len);
	st = srtp_unprotect_mki(k->rx, up->scratch, &n, k->mki_len ? 1 : 0);
	if (st != srtp_err_status_ok) {
		/* late binding: only an authentic packet leaves a stream */
		if (fresh)
			stream_drop(k->rx, rtp->ssrc);
		return media_srtp_err(st);
	}
	if (!s) {
		s = &up->src[up->n_src++];
		*s = (struct up_src){ rtp->ssrc, *v, rtp->seq, 0 };
	}
	s->streams |= (uint16_t)(1u << slot);
	src_update(s, *v, rtp->seq, info);
	k->used++;
	*plain = (size_t)n;
	return CC_OK;
}

/* ---- re-protect under the group key ---------------------------------- */

void media_reprotect_free(struct media_reprotect *rp)
{
	size_t i;

	if (!rp)
		return;
	for (i = 0; i < MEDIA_EPOCHS_MAX; i++)
		if (rp->tx[i])
			(void)srtp_dealloc(rp->tx[i]);
	free(rp);
}

void media_reprotect_retire(struct media_reprotect *rp, uint32_t mki)
{
	size_t i;

	for (i = 0; rp && i < MEDIA_EPOCHS_MAX; i++) {
		if (rp->tx[i] && rp->mki[i] == mki) {
			(void)srtp_dealloc(rp->tx[i]);
			rp->tx[i] = NULL;
		}
	}
}

/* The send session of group epoch slot gs, made on first use. */
static enum cc_err rp_session(struct media_group_int *gi, int gs, srtp_t *tx)
{
	struct media_reprotect *rp = *gi->rp;
	uint32_t mki = gi->core->ep[gs].mki;

	if (!rp) {
		rp = calloc(1, sizeof(*rp));
		if (!rp)
			return CC_ERR_NOMEM;
		*gi->rp = rp;
	}
	if (rp->tx[gs] && rp->mki[gs] != mki) { /* slot reused: stale */
		(void)srtp_dealloc(rp->tx[gs]);
		rp->tx[gs] = NULL;
	}
	if (!rp->tx[gs]) {
		if (srtp_create(&rp->tx[gs], NULL) != srtp_err_status_ok) {
			rp->tx[gs] = NULL;
			return CC_ERR_CRYPTO;
		}
		rp->mki[gs] = mki;
	}
	*tx = rp->tx[gs];
	return CC_OK;
}

/* Protect the plaintext in buf (plain bytes) in place under group epoch
 * gs; a new SSRC's stream starts at the packet's ROC v. */
static enum cc_err reprotect(struct media_group_int *gi, int gs, uint32_t ssrc,
			     uint32_t v, uint32_t *buf, size_t plain,
			     size_t *out_n)
{
	struct media_epoch *ep = &gi->core->ep[gs];
	srtp_policy_t pol;
	srtp_master_key_t mk, *mkp[1];
	srtp_err_status_t s = srtp_err_status_ok;
	uint32_t have;
	srtp_t tx;
	int n = (int)plain;
	enum cc_err err;

	err = rp_session(gi, gs, &tx);
	if (err)
		return err;
	if (srtp_get_stream_roc(tx, ssrc, &have) != srtp_err_status_ok) {
		media_policy(&pol, &mk, mkp, gi->core->profile, ep,
			     ssrc_specific, ssrc);
		s = srtp_add_stream(tx, &pol);
		if (s == srtp_err_status_ok && v)
			s = srtp_set_stream_roc(tx, ssrc, v);
		if (s != srtp_err_status_ok) {
			stream_drop(tx, ssrc);
			return media_srtp_err(s);
		}
	}
	s = srtp_protect_mki(tx, buf, &n, 1, 0);
	if (s != srtp_err_status_ok)
		return media_srtp_err(s);
	ep->st.tx++;
	*out_n = (size_t)n;
	return CC_OK;
}

/* ---- the switch path ------------------------------------------------- */

static void count(struct media_stats *st, enum cc_err err)
{
	switch (err) {
	case CC_ERR_BAD_MAC:
		st->drop_auth++;
		break;
	case CC_ERR_REPLAY:
		st->drop_replay++;
		break;
	case CC_ERR_MALFORMED:
		st->drop_malformed++;
		break;
	case CC_ERR_NOT_FOUND:
		st->drop_unknown_mki++;
		break;
	case CC_ERR_NOT_AUTHORISED:
		st->drop_foreign_ssrc++;
		break;
	default:
		st->drop_other++;
		break;
	}
}

/* Everything before the member key is used: the member's key, the D6
 * binding, a group sending epoch, room in out, the key's lifetime. */
static enum cc_err admit(struct media_group *g, struct media_group_int *gi,
			 media_mid from, struct media_upstream *up,
			 const uint8_t *pkt, size_t len, size_t cap,
			 struct media_rtp *rtp, int *slot, int *gs,
			 uint32_t *at)
{
	enum cc_err err;

	err = up_classify(up, pkt, len, rtp, slot);
	if (err) {
		count(&gi->core->st, err);
		return err;
	}
	err = media_group_binding(g, from, rtp->ssrc, at); /* counted */
	if (err)
		return err;
	*gs = gi->send_mki ? media_rxcore_slot(gi->core, gi->send_mki) : -1;
	if (*gs < 0)
		err = CC_ERR_NOT_FOUND;
	else if (cap < len - up->mki_len + MEDIA_MKI_LEN)
		err = CC_ERR_SPACE;
	else if (up->key[*slot].used >= up->key[*slot].lifetime)
		err = CC_ERR_EXPIRED; /* RFC 4568 §6.1: obey the lifetime */
	if (err)
		count(&gi->core->st, err);
	return err;
}

enum cc_err media_switch_rx_sdes(struct media_group *g, media_mid from,
				 struct media_upstream *up, const uint8_t *pkt,
				 size_t len, uint8_t *out, size_t cap,
				 size_t *out_len, struct media_fanout *fan,
				 struct media_rx_info *info)
{
	struct media_group_int gi;
	struct media_rx_info local;
	struct media_rtp rtp;
	size_t plain = 0, n = 0;
	uint32_t at = 0, v = 0;
	int slot = -1, gs = -1;
	enum cc_err err;

	if (!g || !up || !pkt || !out || !out_len || !fan)
		return CC_ERR_INVAL;
	gi = media_group_int(g);
	if (gi.core->profile != up->profile)
		return CC_ERR_INVAL;
	if (!info)
		info = &local;
	gi.core->st.rx++;
	up->st.rx++;
	err = admit(g, &gi, from, up, pkt, len, cap, &rtp, &slot, &gs, &at);
	if (!err) {
		err = up_unprotect(up, slot, pkt, len, &rtp, &plain, &v, info);
		if (err)
			count(&gi.core->st, err);
	}
	if (!err) {
		err = reprotect(&gi, gs, rtp.ssrc, v, up->scratch, plain, &n);
		if (err)
			count(&gi.core->st, err);
	}
	if (err) {
		count(&up->st, err);
		return err;
	}
	memcpy(out, up->scratch, n);
	*out_len = n;
	info->rtp = rtp;
	info->mki = gi.send_mki;
	media_group_fanout(g, at, fan);
	up->st.ok++;
	up->st.tx++;
	return CC_OK;
}

/* ---- the SDES member's sender (tests, tools) ------------------------- */

struct media_upsend {
	struct up_key key;
	srtp_t tx;
	uint32_t ssrc;
	uint8_t pt;
	uint32_t roc;
	uint16_t seq;
	uint32_t buf[MEDIA_SCRATCH_WORDS];
};

void media_upsend_free(struct media_upsend *s)
{
	if (!s)
		return;
	if (s->tx)
		(void)srtp_dealloc(s->tx);
	cc_wipe(s, sizeof(*s));
	free(s);
}

enum cc_err media_upsend_new(struct media_upsend **sp, enum media_profile p,
			     const struct media_upkey *k, uint32_t ssrc,
			     uint8_t pt, uint32_t roc, uint16_t seq)
{
	struct media_upsend *s;
	srtp_policy_t pol;
	srtp_master_key_t mk, *mkp[1];
	size_t tek, salt, tag;
	srtp_err_status_t st;
	enum cc_err err;

	media_profile_sizes(p, &tek, &salt, &tag);
	if (!sp || !k || !k->master || k->master_len != tek + salt ||
	    k->mki_len > MEDIA_UPSTREAM_MKI_MAX || (k->mki_len && !k->mki) ||
	    pt > 127)
		return CC_ERR_INVAL;
	err = media_init();
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return CC_ERR_NOMEM;
	memcpy(s->key.master, k->master, k->master_len);
	if (k->mki_len)
		memcpy(s->key.mki, k->mki, k->mki_len);
	s->key.mki_len = k->mki_len;
	key_policy(&pol, &mk, mkp, p, &s->key, ssrc);
	st = srtp_create(&s->tx, &pol);
	if (st == srtp_err_status_ok && roc)
		st = srtp_set_stream_roc(s->tx, ssrc, roc);
	if (st != srtp_err_status_ok) {
		media_upsend_free(s);
		return media_srtp_err(st);
	}
	s->ssrc = ssrc;
	s->pt = pt;
	s->roc = roc;
	s->seq = seq;
	*sp = s;
	return CC_OK;
}

enum cc_err media_upsend(struct media_upsend *s, const uint8_t *payload,
			 size_t n, uint32_t ts, uint8_t *out, size_t cap,
			 size_t *out_len)
{
	uint8_t *h;
	int len = (int)(MEDIA_RTP_HDR_LEN + n);
	srtp_err_status_t st;

	if (!s || (!payload && n) || !out || !out_len ||
	    MEDIA_RTP_HDR_LEN + n + 16 + s->key.mki_len > MEDIA_PKT_MAX)
		return CC_ERR_INVAL;
	if (cap < MEDIA_RTP_HDR_LEN + n + 16 + s->key.mki_len)
		return CC_ERR_SPACE;
	h = (uint8_t *)s->buf;
	h[0] = 0x80;
	h[1] = s->pt;
	h[2] = (uint8_t)(s->seq >> 8);
	h[3] = (uint8_t)s->seq;
	h[4] = (uint8_t)(ts >> 24);
	h[5] = (uint8_t)(ts >> 16);
	h[6] = (uint8_t)(ts >> 8);
	h[7] = (uint8_t)ts;
	h[8] = (uint8_t)(s->ssrc >> 24);
	h[9] = (uint8_t)(s->ssrc >> 16);
	h[10] = (uint8_t)(s->ssrc >> 8);
	h[11] = (uint8_t)s->ssrc;
	if (n)
		memcpy(h + MEDIA_RTP_HDR_LEN, payload, n);
	st = srtp_protect_mki(s->tx, s->buf, &len, s->key.mki_len ? 1 : 0, 0);
	if (st != srtp_err_status_ok)
		return media_srtp_err(st);
	memcpy(out, s->buf, (size_t)len);
	*out_len = (size_t)len;
	if (++s->seq == 0)
		s->roc++;
	return CC_OK;
}
