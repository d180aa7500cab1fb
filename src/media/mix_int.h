/*
 * mix_int.h -- what the mixer's files share (mix.c: set-up, members,
 * input; mix_tick.c: speaker selection, mixing, output).
 */
#ifndef CONCLAVE_MIX_INT_H
#define CONCLAVE_MIX_INT_H

#include "media_int.h"

#include <conclave/mix.h>

/* An output packet: RTP header + 20 ms of G.711 + SRTP trailer, 32-bit
 * aligned for libsrtp. */
#define MIX_PKT_WORDS \
	((MEDIA_RTP_HDR_LEN + MEDIA_FRAME + SRTP_MAX_TRAILER_LEN + 3) / 4)
/* Output streams: the PCMU common mix, one N-1 stream per speaker place,
 * then the PCMA and Opus common mixes (ssrc 0 if the class is absent). */
#define MIX_STREAMS (MEDIA_MIX_CODECS + MEDIA_MIX_SPEAKERS_MAX)
/* The stream index of codec class c's common mix. */
#define MIX_CLASS_STREAM(c) \
	((c) == MEDIA_MIX_PCMU ? 0 : MEDIA_MIX_SPEAKERS_MAX + (size_t)(c))

struct OpusDecoder;
struct OpusEncoder;

/* One member: its queue of decoded frames, level and speaker place. */
struct mix_member {
	media_mid mid;
	size_t at; /* index in mx->dest[] and mx->mem[] */
	int16_t q[MEDIA_MIX_QUEUE][MEDIA_FRAME];
	unsigned q_head, q_n;
	bool have_seq; /* last_seq/last_ssrc hold the last frame accepted */
	uint16_t last_seq;
	uint32_t last_ssrc;
	const int16_t *cur; /* this tick's frame (in q[]), or NULL */
	uint64_t level;     /* smoothed mean square */
	bool active;        /* in mx->act[] at act_at */
	size_t act_at;
	int place;                  /* speaker place, -1 if not a speaker */
	enum media_mix_codec codec; /* output */
	struct OpusDecoder *opus;
	struct OpusEncoder *enc; /* its N-1 stream's, if Opus */
};

/* One output stream's RTP/SRTP state. */
struct mix_stream {
	uint32_t ssrc;
	uint32_t roc; /* ROC and SEQ of the next packet */
	uint16_t seq;
	bool marker;      /* next packet starts a talkspurt */
	bool used;        /* sent in the previous tick */
	bool roc_changed; /* since the last packet reported */
};

struct media_mix {
	struct media_rxcore core;
	media_owner_h *owner_h;
	void *owner_arg;
	size_t max_speakers;
	uint8_t opus_pt;
	unsigned hyst_pct;
	uint64_t gate; /* min_rms^2 */
	int send_slot; /* epoch slot of the output, -1: none */
	/* members: dest[i] and mem[i] are the same member; a tick puts the
	 * speakers first so that the rest is the common mix's fan-out */
	struct media_dest *dest;
	struct mix_member **mem;
	size_t n, cap;
	struct media_map map; /* mid -> index */
	/* members with audio queued or a level: all a tick looks at */
	struct mix_member **act;
	size_t n_act, cap_act;
	struct mix_member *spk[MEDIA_MIX_SPEAKERS_MAX]; /* by place */
	struct mix_stream out[MIX_STREAMS];
	uint32_t ts; /* RTP timestamp of the next tick */
	int16_t ulaw[256], alaw[256];
	int16_t tmp[MEDIA_FRAME];
	int32_t sum[MEDIA_FRAME];
	int16_t pcm[MEDIA_FRAME];       /* the mix being encoded */
	struct OpusEncoder *enc_common; /* the Opus class's */
	uint32_t pkt[MIX_STREAMS][MIX_PKT_WORDS];
	struct media_mix_stats st;
};

/* Put a member into mx->act[] (no-op if there). */
CC_MUST_USE enum cc_err mix_activate(struct media_mix *mx,
				     struct mix_member *m);
/* Take act[i] out of mx->act[] (the last one moves into its place). */
void mix_deactivate(struct media_mix *mx, size_t i);
/* Swap members at indices a and b of dest[]/mem[], keeping the map. */
void mix_swap(struct media_mix *mx, size_t a, size_t b);
/* True if output stream k exists (an N-1 place in use, or a class with
 * an SSRC). */
bool mix_stream_live(const struct media_mix *mx, size_t k);
/* A 20 ms Opus encoder at 8 kHz (narrowband, VoIP), or NULL. */
struct OpusEncoder *mix_opus_encoder(void);
void mix_opus_encoder_free(struct OpusEncoder *enc);
/* The libsrtp send session of the output epoch, created on first use. */
CC_MUST_USE enum cc_err mix_tx_session(struct media_mix *mx, srtp_t *tx);

#endif
