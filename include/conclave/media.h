/*
 * media.h -- the media plane: SRTP group contexts on libsrtp2 with MKI, the
 * switch (forward as-is, DESIGN.md D6/D7/D10), the participant's receive and
 * send contexts, a per-leg re-encryption baseline for the benchmark, and the
 * audio helpers (G.711 mu-law and A-law, tone generator, Goertzel detector,
 * WAV). The mixer, the switch's alternative, is in mix.h.
 *
 * No sockets but one: bytes in, bytes out, and the daemon and the
 * participant do I/O. The exception is media_sendq, the switch's batched
 * sender (sendmmsg(2) on Linux), kept here so that confd and the benchmark
 * send the fan-out with the same code.
 *
 * Keys. Every epoch of a conference has one group key (TEK + salt) and one
 * 4-byte MKI = 0x80000000 | epoch (spec/3gpp-kms-conferencing.md §4.4). A
 * packet's MKI selects the key [RFC 3711 §3.3, §8.1]; nothing is chosen by
 * trial decryption [RFC 4568 §4.3]. Each installed epoch is its own libsrtp
 * session holding that one master key with its MKI; installing or retiring an
 * epoch never rebuilds another epoch's session, so replay windows and ROCs
 * survive every key change (srtp_update() would reset the replay window).
 * A new epoch's stream for an SSRC is seeded with the ROC the media layer
 * tracks for that SSRC (srtp_set_stream_roc), so ROC never resets on rekey
 * [RFC 3711 §3.3.1].
 *
 * Objects are not thread-safe: one object per thread (or a lock around it).
 */
#ifndef CONCLAVE_MEDIA_H
#define CONCLAVE_MEDIA_H

#include <conclave/base.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* ---- constants -------------------------------------------------------- */

/** MKI length on the wire (4 bytes, big-endian) for group keys. */
#define MEDIA_MKI_LEN 4
/** Epochs one context holds at once (pending, current, old in grace). */
#define MEDIA_EPOCHS_MAX 4
/** Largest SRTP packet handled (header + payload + MKI + tag). */
#define MEDIA_PKT_MAX 1500
/** Bytes SRTP adds to an RTP packet: MKI + tag (GCM: 16, HMAC-80: 10). */
#define MEDIA_TRAILER_MAX (MEDIA_MKI_LEN + 16)
/** RTP fixed header [RFC 3550 §5.1]. */
#define MEDIA_RTP_HDR_LEN 12
/** G.711 at 8 kHz, 20 ms frames [RFC 3551 §4.5.14, §6]. */
#define MEDIA_RATE 8000
#define MEDIA_FRAME 160
#define MEDIA_PT_PCMU 0

/** SRTP protection profiles; values equal enum conf_profile's. */
enum media_profile {
	MEDIA_AES_CM_128_HMAC_SHA1_80 = 0, /* TEK 16 + salt 14, tag 10 */
	MEDIA_AEAD_AES_128_GCM = 1,        /* TEK 16 + salt 12, tag 16 */
};

/** One epoch's group key as handed out (KEMAC) or made (conf core).
 *  The media layer copies what it needs; the caller keeps ownership and
 *  wipes its copy. */
struct media_key {
	uint32_t mki; /* 0x80000000 | epoch */
	enum media_profile profile;
	const uint8_t *tek;
	size_t tek_len; /* 16 */
	const uint8_t *salt;
	size_t salt_len; /* 14 (HMAC profile) or 12 (GCM) */
};

/** A member id; the same value space as conf_mid (conf.h). */
typedef uint64_t media_mid;

/** Library set-up (srtp_init); idempotent. Constructors call it, so a
 *  program only needs it to fail early. Call before starting threads. */
CC_MUST_USE enum cc_err media_init(void);

/** Key and salt lengths and SRTP tag length of a profile. */
void media_profile_sizes(enum media_profile p, size_t *tek_len,
			 size_t *salt_len, size_t *tag_len);

/* ---- RTP header ------------------------------------------------------ */

/** What the media layer reads from an RTP header [RFC 3550 §5.1]. */
struct media_rtp {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	size_t hdr_len; /* fixed header + CSRCs + extension */
};

/** Parse an RTP header (V=2, CSRCs and extension bounds-checked). */
CC_MUST_USE enum cc_err media_rtp_parse(const uint8_t *p, size_t len,
					struct media_rtp *out);

/** Where an SRTP packet of profile p carries its MKI: the last 4 bytes
 *  before the HMAC tag [RFC 3711 §3.1], or the last 4 bytes of the packet
 *  for AEAD (libsrtp puts the MKI after the GCM tag, as RFC 7714 §8.1
 *  draws it). CC_ERR_TRUNCATED if the packet cannot hold header+trailer. */
CC_MUST_USE enum cc_err media_srtp_mki(enum media_profile p, const uint8_t *pkt,
				       size_t len, uint32_t *mki);

/* ---- statistics ------------------------------------------------------ */

/** Counters of a switch or receiver (all packets, every epoch). */
struct media_stats {
	uint64_t rx;                /* packets offered */
	uint64_t ok;                /* authenticated (switch: forwarded) */
	uint64_t fwd_copies;        /* switch: sum of fan-out sizes */
	uint64_t drop_malformed;    /* not RTP / too short / too long */
	uint64_t drop_unknown_mki;  /* MKI of no installed epoch (retired) */
	uint64_t drop_auth;         /* tag check failed */
	uint64_t drop_replay;       /* replayed or too old */
	uint64_t drop_foreign_ssrc; /* switch: SSRC not bound to the leg */
	uint64_t drop_not_member;   /* switch: leg not (or no longer) in */
	uint64_t drop_other;        /* libsrtp failed otherwise */
	uint64_t tx;                /* sender: packets protected */
};

/** Per-epoch counters (participant --report: per MKI). */
struct media_epoch_stats {
	uint32_t mki;
	uint64_t rx; /* packets carrying this MKI */
	uint64_t ok; /* decrypted / authenticated */
	uint64_t failed;
	uint64_t tx; /* sent under this MKI */
};

/* ---- the switch: one group per conference ------------------------------ */

struct media_group;

/**
 * Who owns an SSRC, and its ROC (the daemon answers from conf_ssrc_owner()
 * and conf_ssrc_roc(), D6). Return false if the SSRC is not registered.
 * Called for every packet (conf answers in O(1)); it must not call back into
 * the group.
 */
typedef bool(media_owner_h)(uint32_t ssrc, media_mid *owner, uint32_t *roc,
			    void *arg);

/** One forwarding target: a member and the caller's handle for its leg. */
struct media_dest {
	media_mid mid;
	void *leg;
};

/** The fan-out of one packet: send the ORIGINAL bytes to dest[i] for every
 *  i < n except i == skip (the sender). Valid until the group's membership
 *  next changes. */
struct media_fanout {
	const struct media_dest *dest;
	size_t n;
	size_t skip; /* == n when the sender is not in the list */
};

/** What the switch or a receiver learnt from one accepted packet. */
struct media_rx_info {
	struct media_rtp rtp;
	uint32_t mki;
	uint32_t roc;     /* the SSRC's highest ROC after this packet */
	bool roc_changed; /* feed CONF_EV_MEDIA_ROC to the conference */
};

/** A switch for one conference, all epochs of profile p. */
CC_MUST_USE enum cc_err media_group_new(struct media_group **gp,
					enum media_profile p, media_owner_h *oh,
					void *oh_arg);
/** Free the group (NULL is fine); libsrtp sessions and keys are freed. */
void media_group_free(struct media_group *g);

/** NEW_EPOCH: install an epoch for authentication. CC_ERR_INVAL (profile
 *  or sizes differ from the group's), CC_ERR_FULL (MEDIA_EPOCHS_MAX live),
 *  CC_ERR_CRYPTO (libsrtp refused). Installing a live MKI again is
 *  CC_ERR_INVAL (keys never change under one MKI). */
CC_MUST_USE enum cc_err media_group_install(struct media_group *g,
					    const struct media_key *k);
/** RETIRE_EPOCH: delete an epoch's session (keys); later packets with its
 *  MKI are dropped as unknown. CC_ERR_NOT_FOUND if not installed. */
CC_MUST_USE enum cc_err media_group_retire(struct media_group *g, uint32_t mki);
/** SWITCH_MKI: the MKI the focus itself sends with (mixer output). */
CC_MUST_USE enum cc_err media_group_switch(struct media_group *g, uint32_t mki);

/** Put a member (its leg) into the fan-out. CC_ERR_INVAL if present. */
CC_MUST_USE enum cc_err media_group_add_member(struct media_group *g,
					       media_mid mid, void *leg);
/** DROP_MEDIA: take a member out of the fan-out at once; its packets are
 *  dropped from now on. CC_ERR_NOT_FOUND if absent. */
CC_MUST_USE enum cc_err media_group_drop_member(struct media_group *g,
						media_mid mid);
/** Members in the fan-out. */
size_t media_group_members(const struct media_group *g);

/**
 * The switch path. A packet that arrived on member `from`'s leg is
 * authenticated once, under the epoch its MKI names (replay window per
 * source SSRC and epoch), in a scratch copy: pkt is never modified, and it
 * is the original bytes that the caller forwards to *fan. The SSRC must be
 * bound to `from` (media_owner_h); checked before any crypto. Results:
 *   CC_OK                 forward pkt to *fan; *info filled;
 *   CC_ERR_MALFORMED      not an SRTP packet of the group's profile;
 *   CC_ERR_NOT_FOUND      unknown MKI (e.g. retired epoch);
 *   CC_ERR_NOT_AUTHORISED SSRC foreign to the leg, or leg not a member;
 *   CC_ERR_BAD_MAC        authentication failed;
 *   CC_ERR_REPLAY         replayed or too old;
 *   CC_ERR_CRYPTO         libsrtp failed otherwise.
 * Every drop is counted in the stats. info may be NULL.
 */
CC_MUST_USE enum cc_err media_switch_rx(struct media_group *g, media_mid from,
					const uint8_t *pkt, size_t len,
					struct media_fanout *fan,
					struct media_rx_info *info);

/** Counters; per-epoch counters for a live MKI (CC_ERR_NOT_FOUND else). */
void media_group_stats(const struct media_group *g, struct media_stats *st);
CC_MUST_USE enum cc_err media_group_epoch_stats(const struct media_group *g,
						uint32_t mki,
						struct media_epoch_stats *st);

/* ---- the participant: receive by MKI, send under the current MKI ------- */

struct media_member;

/** A participant's SRTP contexts (all epochs of profile p). */
CC_MUST_USE enum cc_err media_member_new(struct media_member **mp,
					 enum media_profile p);
void media_member_free(struct media_member *m);

/** An epoch from a KEMAC (join or CSB update): usable for receiving at
 *  once and for sending after media_member_switch(). Same errors as
 *  media_group_install(). */
CC_MUST_USE enum cc_err media_member_install(struct media_member *m,
					     const struct media_key *k);
/** Delete an epoch (after its grace period). */
CC_MUST_USE enum cc_err media_member_retire(struct media_member *m,
					    uint32_t mki);
/** Send under this (installed) MKI from the next packet on. */
CC_MUST_USE enum cc_err media_member_switch(struct media_member *m,
					    uint32_t mki);
/** The MKI packets are sent with (0 if none yet). */
uint32_t media_member_sending_mki(const struct media_member *m);

/** From the CS map: SSRC `ssrc` is at rollover counter `roc`. A late joiner
 *  calls this for every SSRC before its first packet [RFC 3711 §3.3.1]. */
CC_MUST_USE enum cc_err media_member_set_roc(struct media_member *m,
					     uint32_t ssrc, uint32_t roc);

/** What media_member_unprotect() hands back; payload points into the
 *  member's scratch buffer, valid until the next call on m. */
struct media_rx_payload {
	struct media_rx_info info;
	const uint8_t *payload;
	size_t payload_len;
};

/** Receive one SRTP packet: the MKI selects the epoch; decrypt into the
 *  member's scratch. Errors as media_switch_rx() (no SSRC binding). */
CC_MUST_USE enum cc_err media_member_unprotect(struct media_member *m,
					       const uint8_t *pkt, size_t len,
					       struct media_rx_payload *out);

/** Sender set-up: our SSRC, payload type, and the ROC/SEQ to start from
 *  (the CS map's ROC for our SSRC; seq = the next sequence number). */
CC_MUST_USE enum cc_err media_member_sender(struct media_member *m,
					    uint32_t ssrc, uint8_t pt,
					    uint32_t roc, uint16_t seq);
/** Build an RTP packet (next seq, ts, marker) around payload and protect it
 *  under the sending MKI into out (cap >= 12 + n + MEDIA_TRAILER_MAX). */
CC_MUST_USE enum cc_err media_member_send(struct media_member *m,
					  const uint8_t *payload, size_t n,
					  uint32_t ts, bool marker,
					  uint8_t *out, size_t cap,
					  size_t *out_len);
/** The sender's next index: ROC and SEQ of the next packet. */
void media_member_tx_state(const struct media_member *m, uint32_t *roc,
			   uint16_t *seq);

void media_member_stats(const struct media_member *m, struct media_stats *st);
CC_MUST_USE enum cc_err media_member_epoch_stats(const struct media_member *m,
						 uint32_t mki,
						 struct media_epoch_stats *st);

/* ---- the per-leg baseline (benchmark only) ---------------------------- */

struct media_perleg;

/** Handed each re-encrypted copy (leg index, bytes valid during the call). */
typedef void(media_leg_h)(size_t leg, const uint8_t *pkt, size_t len,
			  void *arg);

/**
 * The fan-out as per-leg servers do it: one inbound context under the group
 * key, and one outbound context per listener, each with its own random key.
 * For measuring the cost that the group switch avoids; not for production.
 */
CC_MUST_USE enum cc_err media_perleg_new(struct media_perleg **pp,
					 const struct media_key *group_key,
					 size_t n_legs);
void media_perleg_free(struct media_perleg *p);
/** Decrypt once, then re-encrypt for every leg (lh may be NULL).
 *  Returns CC_OK with *copies = legs served, or the media_switch_rx()
 *  errors for the inbound packet. */
CC_MUST_USE enum cc_err media_perleg_rx(struct media_perleg *p,
					const uint8_t *pkt, size_t len,
					media_leg_h *lh, void *arg,
					size_t *copies);

/* ---- the batched sender: the fan-out in few system calls ------------- */

/** Datagrams one send call takes at most: the kernel's per-call limit for
 *  sendmmsg(2) (UIO_MAXIOV). A queue holds up to its batch size and sends
 *  when full, so any number may be queued between flushes. */
#define MEDIA_SENDQ_MAX 1024

struct media_sendq;

/** What a queue did (all flushes since it was made). */
struct media_sendq_stats {
	uint64_t queued;     /* datagrams handed to it */
	uint64_t sent;       /* accepted by the kernel */
	uint64_t dropped;    /* not sent: drop_again + drop_error */
	uint64_t drop_again; /* send buffer full (EAGAIN, ENOBUFS) */
	uint64_t drop_error; /* refused for its destination, or too long */
	uint64_t calls;      /* send system calls made */
	int last_errno;      /* of the latest drop (0: none yet) */
};

/**
 * A send queue on a UDP socket fd (non-blocking; the caller keeps owning
 * it). batch: datagrams per sendmmsg(2) call, 1..MEDIA_SENDQ_MAX (0: the
 * maximum). Where sendmmsg is missing (not Linux, or ENOSYS) it sends one
 * datagram per call. CC_ERR_INVAL (fd < 0, batch too big), CC_ERR_NOMEM.
 */
CC_MUST_USE enum cc_err media_sendq_new(struct media_sendq **qp, int fd,
					size_t batch);
/** Free the queue (NULL is fine); unsent datagrams are dropped uncounted. */
void media_sendq_free(struct media_sendq *q);

/** Queue one datagram to `to` (copied; at most a sockaddr_in6). The bytes
 *  are NOT copied: pkt must stay valid until the next flush, which may be
 *  this call (the queue sends when it holds `batch` datagrams). A refused
 *  datagram (len 0, address too long) is counted as drop_error. */
void media_sendq_add(struct media_sendq *q, const void *pkt, size_t len,
		     const struct sockaddr *to, socklen_t tolen);
/** The same, copying the bytes (len <= MEDIA_PKT_MAX) into the queue, for
 *  callers that reuse their buffer for the next datagram (per-leg
 *  re-encryption). */
void media_sendq_add_copy(struct media_sendq *q, const void *pkt, size_t len,
			  const struct sockaddr *to, socklen_t tolen);

/**
 * Send everything queued, in calls of up to `batch` datagrams, and empty
 * the queue. Never blocks and never stops at one bad destination: a
 * datagram the kernel refuses (e.g. EINVAL, EACCES, ENETUNREACH) is
 * dropped and the rest are sent; when the socket's send buffer is full
 * (EAGAIN, ENOBUFS) the rest of the queue is dropped (media is real time:
 * late is lost). Drops are counted. Returns the datagrams sent.
 */
size_t media_sendq_flush(struct media_sendq *q);

/** Where a leg's datagrams go: the caller's leg handle (media_dest.leg)
 *  to a socket address; NULL to skip that leg. */
typedef const struct sockaddr *(media_leg_addr_h)(const void *leg,
						  socklen_t *len, void *arg);

/**
 * The switch's send path: queue pkt (the original bytes media_switch_rx
 * accepted) for every leg of *fan except the sender and legs without an
 * address, then flush. Returns the copies queued; what the kernel refused
 * is in the stats. This is what confd does for every packet, and what
 * `conclave bench confd` times.
 */
size_t media_sendq_fanout(struct media_sendq *q, const uint8_t *pkt, size_t len,
			  const struct media_fanout *fan, media_leg_addr_h *ah,
			  void *arg);

void media_sendq_stats(const struct media_sendq *q,
		       struct media_sendq_stats *st);

/* ---- audio: G.711 mu-law and A-law [ITU-T G.711], tones, Goertzel, WAV -- */

/** Linear 16-bit PCM to mu-law and back (G.711 segment formula). */
uint8_t media_ulaw_encode(int16_t pcm);
int16_t media_ulaw_decode(uint8_t ulaw);
void media_ulaw_encode_buf(const int16_t *pcm, size_t n, uint8_t *out);
void media_ulaw_decode_buf(const uint8_t *in, size_t n, int16_t *pcm);

/** Linear 16-bit PCM to A-law and back [ITU-T G.711 Table 1a]. */
uint8_t media_alaw_encode(int16_t pcm);
int16_t media_alaw_decode(uint8_t alaw);
void media_alaw_encode_buf(const int16_t *pcm, size_t n, uint8_t *out);

/** A sine generator at MEDIA_RATE; phase-continuous across frames. */
struct media_tone {
	double freq;
	double phase; /* radians */
	double amp;   /* peak, in PCM units (<= 32767) */
};

/** A member-unique tone frequency (Hz) for member index i: 450 Hz + 150 Hz
 *  steps, kept inside the telephone band (300..3400 Hz); 20 distinct. */
double media_tone_freq(unsigned i);
void media_tone_init(struct media_tone *t, double freq_hz, double amp);
/** Next n samples. */
void media_tone_pcm(struct media_tone *t, int16_t *out, size_t n);
/** Next 20 ms frame as a PCMU (PT 0) RTP payload of MEDIA_FRAME bytes. */
void media_tone_pcmu_frame(struct media_tone *t, uint8_t out[MEDIA_FRAME]);

/** The Goertzel power |X(f)|^2 of x (Hann-windowed) at freq_hz. */
double media_goertzel(const int16_t *x, size_t n, double freq_hz,
		      double rate_hz);

/** One frequency's verdict. */
struct media_tone_hit {
	double freq;
	double amplitude; /* estimated peak amplitude at freq (PCM units) */
	double share;     /* that tone's share of the buffer's energy, 0..1 */
	bool present;     /* share >= min_share */
};

/**
 * Which of freqs[0..nf) are present in x (n samples at MEDIA_RATE): each
 * gets a verdict in hits[i]. A tone is present when it carries at least
 * min_share of the buffer's energy (0.05 is a good default; n >= 400
 * samples gives 20 Hz resolution). Returns how many are present.
 */
size_t media_tone_detect(const int16_t *x, size_t n, const double *freqs,
			 size_t nf, double min_share,
			 struct media_tone_hit *hits);

/** A WAV writer: RIFF/WAVE, PCM 16-bit mono at MEDIA_RATE; sizes are
 *  back-filled by media_wav_close(). */
struct media_wav;

/** Write the 44-byte header for n_samples into hdr. */
void media_wav_header(uint8_t hdr[44], uint32_t n_samples);
CC_MUST_USE enum cc_err media_wav_open(struct media_wav **wp, const char *path);
CC_MUST_USE enum cc_err media_wav_write(struct media_wav *w, const int16_t *pcm,
					size_t n);
/** Back-fill the sizes and close; CC_ERR_STORE if any write failed. */
CC_MUST_USE enum cc_err media_wav_close(struct media_wav *w);

#endif
