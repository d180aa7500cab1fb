/*
 * media_upstream.h -- the media plane's part of SDES members in a group-key
 * conference (DESIGN.md D8, docs/SDES.md; library cc_media,
 * src/media/upstream.c). A companion of media.h.
 *
 * An SDES participant sends under its OWN upstream key (the a=crypto line
 * of its offer); the focus answers every SDES dialog with the SAME line
 * carrying the conference's downstream group key, so the fan-out stays
 * "encrypt once": each packet from an SDES member is authenticated and
 * decrypted once under the member's key and re-protected ONCE under the
 * group key the focus sends with (media_group_switch), keeping SSRC,
 * sequence number and ROC; the switch then forwards those bytes unchanged
 * to every other member, KMS and SDES alike. Packets from KMS members are
 * already under the group key and go through media_switch_rx() as before.
 *
 * Keys of one member (struct media_upstream): up to
 * MEDIA_UPSTREAM_KEYS_MAX live at once, each its own libsrtp session (as
 * the group's epochs are, so no key change resets a replay window). With
 * an MKI in the member's a=crypto, the packet's MKI selects the key
 * [RFC 3711 §3.3, RFC 4568 §4.3] and a rekey is graceful: the new key is
 * installed next to the old one, which keeps working for a grace period.
 * Without an MKI a packet cannot say which key it used and trial
 * decryption is forbidden [RFC 4568 §4.3], so the key change is a
 * REPLACEMENT: the old key is gone at once and packets still in flight
 * under it are dropped. The ROC of a source never resets on a key change
 * [RFC 3711 §3.3.1]; an SSRC starts at ROC 0 [RFC 4568 §6.4].
 *
 * Keystream safety under the group key: the re-protection keeps each
 * source's SSRC and index, and libsrtp refuses to protect one (SSRC,
 * index) twice under one group key, so a replayed or rewound upstream
 * packet can never make the focus reuse group keystream. SSRCs must be
 * unique in the conference (D6: media_owner_h binds them to members).
 */
#ifndef CONCLAVE_MEDIA_UPSTREAM_H
#define CONCLAVE_MEDIA_UPSTREAM_H

#include <conclave/media.h>

/** Keys one member may have live at once (new ones + old in grace). */
#define MEDIA_UPSTREAM_KEYS_MAX 8
/** Longest MKI [RFC 4568 §6.1, libsrtp SRTP_MAX_MKI_LEN]. */
#define MEDIA_UPSTREAM_MKI_MAX 128
/** SSRCs one member may send (late binding, RFC 4568 §6.4.1). */
#define MEDIA_UPSTREAM_SSRC_MAX 16

/** One upstream key as the member's a=crypto gave it (sdes_crypto keys).
 *  The media layer copies it; the caller keeps ownership and wipes. */
struct media_upkey {
	const uint8_t *master; /* key || salt: 30 (HMAC) or 28 (GCM) bytes */
	size_t master_len;
	const uint8_t *mki; /* MKI value, big-endian; NULL if mki_len 0 */
	size_t mki_len;     /* 0 (no MKI) .. MEDIA_UPSTREAM_MKI_MAX */
	uint64_t lifetime;  /* SRTP packets allowed; 0 = 2^48 */
};

struct media_upstream;

/** A member's upstream contexts for profile p (the group's profile: the
 *  answer repeats the offer's suite, RFC 4568 §7.1.2). */
CC_MUST_USE enum cc_err media_upstream_new(struct media_upstream **up,
					   enum media_profile p);
/** Free (NULL is fine); every key and session is wiped. */
void media_upstream_free(struct media_upstream *up);

/**
 * The member's key set after an offer/answer: keys[0..n) are its
 * a=crypto line's keys (n >= 1). Validated first, then committed:
 *   - with MKIs of the live length: keys whose MKI is live with the same
 *     key are kept, new MKIs are installed, and live keys not in the set
 *     are retired at now_ms + grace_ms (0: at once) -- see
 *     media_upstream_expire(). The same MKI with a different key is
 *     CC_ERR_INVAL (keys never change under one MKI, RFC 3711 §8.1).
 *   - without MKI (n must be 1), or with another MKI length (fixed per
 *     context, RFC 3711 §3.2.1): REPLACEMENT, every live key goes now.
 * *graceful (may be NULL) tells which. Errors: CC_ERR_INVAL (sizes,
 * several keys without MKI, duplicate MKI), CC_ERR_FULL (more than
 * MEDIA_UPSTREAM_KEYS_MAX would be live), CC_ERR_CRYPTO; nothing changes
 * on failure.
 */
CC_MUST_USE enum cc_err media_upstream_set(struct media_upstream *up,
					   const struct media_upkey *keys,
					   size_t n, uint64_t now_ms,
					   uint64_t grace_ms, bool *graceful);

/** Retire the keys whose grace period has ended (call from a timer);
 *  returns how many were retired. */
size_t media_upstream_expire(struct media_upstream *up, uint64_t now_ms);
/** The earliest pending retirement (for the timer), or 0 if none. */
uint64_t media_upstream_next_expiry(const struct media_upstream *up);
/** Retire one key now (mki_len 0: the key without MKI).
 *  CC_ERR_NOT_FOUND if it is not live. */
CC_MUST_USE enum cc_err media_upstream_retire(struct media_upstream *up,
					      const uint8_t *mki,
					      size_t mki_len);
/** Live keys. */
size_t media_upstream_keys(const struct media_upstream *up);

/**
 * The switch path for a packet that arrived on SDES member `from`'s leg:
 *   1. RTP shape, the member's MKI selects its key (no MKI: its one key);
 *   2. the D6 checks of media_switch_rx() (leg in the group, SSRC bound
 *      to `from`), and the group has a sending epoch (media_group_switch);
 *   3. the key's lifetime [RFC 4568 §6.1: no packet past it];
 *   4. libsrtp under the member's key: replay check, tag, decrypt;
 *   5. re-protect ONCE under the group's sending epoch key and MKI with
 *      the same SSRC, SEQ and ROC, into out (cap >= len + MEDIA_MKI_LEN
 *      suffices: the member's MKI and tag go, the group's come).
 * On CC_OK send out[0..*out_len) to *fan (every member but `from`), as
 * media_sendq_fanout() does with media_switch_rx()'s bytes; info (may be
 * NULL) has the RTP header, the group MKI used and the source's ROC
 * (roc_changed: feed CONF_EV_MEDIA_ROC). Errors as media_switch_rx(),
 * plus CC_ERR_EXPIRED (key lifetime used up), CC_ERR_NOT_FOUND (no such
 * member key, or the group has no sending epoch), CC_ERR_INVAL (profiles
 * differ), CC_ERR_SPACE (cap), CC_ERR_FULL (too many SSRCs). Every drop
 * is counted in the group's and the member's stats.
 */
CC_MUST_USE enum cc_err
media_switch_rx_sdes(struct media_group *g, media_mid from,
		     struct media_upstream *up, const uint8_t *pkt, size_t len,
		     uint8_t *out, size_t cap, size_t *out_len,
		     struct media_fanout *fan, struct media_rx_info *info);

/** The member's counters (rx, ok, drops by cause; tx = re-protected). */
void media_upstream_stats(const struct media_upstream *up,
			  struct media_stats *st);

/* ---- test and interop helpers: the SDES member's side ------------------- */

struct media_upsend;

/**
 * What an SDES participant does: send under its own a=crypto key (with
 * its MKI, if any), from SSRC ssrc at ROC roc and sequence seq. For tests,
 * the benchmark and interop tools; confd never sends under a member key.
 */
CC_MUST_USE enum cc_err media_upsend_new(struct media_upsend **sp,
					 enum media_profile p,
					 const struct media_upkey *k,
					 uint32_t ssrc, uint8_t pt,
					 uint32_t roc, uint16_t seq);
void media_upsend_free(struct media_upsend *s);
/** Build an RTP packet (next seq) around payload and protect it into out
 *  (cap >= 12 + n + 16 + mki_len). */
CC_MUST_USE enum cc_err media_upsend(struct media_upsend *s,
				     const uint8_t *payload, size_t n,
				     uint32_t ts, uint8_t *out, size_t cap,
				     size_t *out_len);

#endif
