/*
 * media_int.h -- what the media module's files share: a small hash map,
 * the per-epoch libsrtp sessions and the receive core used by both the
 * switch (group.c) and the participant (member.c).
 */
#ifndef CONCLAVE_MEDIA_INT_H
#define CONCLAVE_MEDIA_INT_H

#include <conclave/media.h>

#include <srtp2/srtp.h>

/* Master key = TEK || salt, the layout libsrtp expects. */
#define MEDIA_MASTER_MAX 32
/* libsrtp's replay window per stream [RFC 3711 §3.3.2: >= 64]. */
#define MEDIA_REPLAY_WINDOW 128
/* libsrtp assumes a 32-bit aligned header; scratch is uint32_t[]. */
#define MEDIA_SCRATCH_WORDS ((MEDIA_PKT_MAX + SRTP_MAX_TRAILER_LEN + 3) / 4)

/* ---- open-addressing map: 64-bit key -> 32-bit value ------------------ */

struct media_map {
	uint64_t *keys;
	uint32_t *vals;
	uint8_t *used;
	size_t cap; /* power of two, or 0 */
	size_t n;
};

CC_MUST_USE enum cc_err media_map_put(struct media_map *m, uint64_t key,
				      uint32_t val);
CC_MUST_USE bool media_map_get(const struct media_map *m, uint64_t key,
			       uint32_t *val);
bool media_map_del(struct media_map *m, uint64_t key);
void media_map_free(struct media_map *m);

/* ---- epochs ---------------------------------------------------------- */

/* One installed epoch: its key (kept while live, to add a stream per SSRC
 * with the right ROC) and its own libsrtp sessions. */
struct media_epoch {
	bool live;
	uint32_t mki;
	uint8_t mki_wire[MEDIA_MKI_LEN];
	uint8_t master[MEDIA_MASTER_MAX]; /* secret: wiped on retire */
	srtp_t rx; /* receive: one explicit stream per source SSRC */
	srtp_t tx; /* member sender only, created at first send */
	struct media_epoch_stats st;
};

/* What the media layer tracks per source SSRC across all epochs: the
 * highest index seen (ROC, s_l) [RFC 3711 §3.3.1, App. A]. */
struct media_src {
	uint32_t ssrc;
	uint32_t roc;
	uint16_t s_l;
	bool seq_known;  /* false: ROC from the CS map, no packet yet */
	uint8_t streams; /* bit k: epoch slot k's rx session has a stream */
};

/* The receive state shared by the switch and the participant. */
struct media_rxcore {
	enum media_profile profile;
	size_t tag_len;
	struct media_epoch ep[MEDIA_EPOCHS_MAX];
	struct media_src *src;
	size_t n_src, cap_src;
	struct media_map src_map; /* ssrc -> index in src[] */
	struct media_stats st;
	uint32_t scratch[MEDIA_SCRATCH_WORDS];
};

CC_MUST_USE enum cc_err media_rxcore_init(struct media_rxcore *c,
					  enum media_profile p);
void media_rxcore_fini(struct media_rxcore *c);
CC_MUST_USE enum cc_err media_rxcore_install(struct media_rxcore *c,
					     const struct media_key *k);
CC_MUST_USE enum cc_err media_rxcore_retire(struct media_rxcore *c,
					    uint32_t mki);
/* The live slot of an MKI, or -1. */
int media_rxcore_slot(const struct media_rxcore *c, uint32_t mki);
/* A source entry (creating it with roc if absent, seq unknown). */
CC_MUST_USE enum cc_err media_rxcore_seed(struct media_rxcore *c, uint32_t ssrc,
					  uint32_t roc);

/* Parse and pick the epoch: fills rtp and *slot, counts the packet. */
CC_MUST_USE enum cc_err media_rxcore_classify(struct media_rxcore *c,
					      const uint8_t *pkt, size_t len,
					      struct media_rtp *rtp, int *slot);
/* Authenticate + decrypt pkt into c->scratch under epoch `slot`; roc_hint
 * seeds an SSRC never seen. On success *plain_len is the RTP length. */
CC_MUST_USE enum cc_err media_rxcore_unprotect(struct media_rxcore *c, int slot,
					       const uint8_t *pkt, size_t len,
					       const struct media_rtp *rtp,
					       uint32_t roc_hint,
					       size_t *plain_len,
					       struct media_rx_info *info);
/* Count a drop by its error. */
void media_rxcore_count(struct media_rxcore *c, int slot, enum cc_err err);

/* ---- libsrtp glue ---------------------------------------------------- */

/* A one-key policy for an epoch (stream type + SSRC in host order). The
 * policy points into ep (key) and mk/mkp (caller storage). */
void media_policy(srtp_policy_t *pol, srtp_master_key_t *mk,
		  srtp_master_key_t **mkp, enum media_profile p,
		  struct media_epoch *ep, srtp_ssrc_type_t type, uint32_t ssrc);
/* A policy without MKI for an arbitrary master key (the per-leg base). */
void media_policy_nomki(srtp_policy_t *pol, enum media_profile p,
			uint8_t *master, srtp_ssrc_type_t type);
/* libsrtp status -> the one error enum. */
enum cc_err media_srtp_err(srtp_err_status_t s);
/* Copy k into a master key buffer; validates sizes against profile p. */
CC_MUST_USE enum cc_err media_key_master(const struct media_key *k,
					 enum media_profile p,
					 uint8_t master[MEDIA_MASTER_MAX]);

/* ---- SDES members (upstream.c, DESIGN.md D8) --------------------------- */

/* The group's re-protection state: per group epoch, a send session that
 * re-protects SDES members' packets under the group key. */
struct media_reprotect;
void media_reprotect_free(struct media_reprotect *rp); /* NULL is fine */
/* A group epoch was retired: drop its send session (its keys) now. */
void media_reprotect_retire(struct media_reprotect *rp, uint32_t mki);

/* What upstream.c needs of a group (group.c). */
struct media_group_int {
	struct media_rxcore *core;
	struct media_reprotect **rp;
	uint32_t send_mki; /* 0: media_group_switch() not called yet */
};
struct media_group_int media_group_int(struct media_group *g);
/* The D6 check of media_switch_rx(): leg a member, SSRC bound to it;
 * counted as a drop when not. *at = the leg's index in the fan-out. */
CC_MUST_USE enum cc_err media_group_binding(struct media_group *g,
					    media_mid from, uint32_t ssrc,
					    uint32_t *at);
/* The fan-out of an accepted packet from leg index at (counted). */
void media_group_fanout(struct media_group *g, uint32_t at,
			struct media_fanout *fan);

#endif
