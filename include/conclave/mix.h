/*
 * mix.h -- the conference mixer: the media plane's alternative to the
 * switch (DESIGN.md "mix = decrypt, mix, encrypt once with the group key";
 * seed 002 §5.1.2, the editor's note on a mixer output "ciphered with a
 * key common for all users").
 *
 * Input. Every member's SRTP packet is authenticated and decrypted under
 * the group key its MKI names (the same per-epoch libsrtp sessions, replay
 * windows and ROC tracking as the switch, media.h), its SSRC must be bound
 * to the leg it came on (D6), then it is decoded at once into 20 ms of
 * 8 kHz PCM: G.711 mu-law (PT 0), A-law (PT 8) or Opus (a dynamic PT, 48
 * kHz RTP clock, decoded by libopus straight to 8 kHz) [RFC 3551 §4.5.14,
 * RFC 7587]. Frames must be 20 ms (ptime 20).
 *
 * Why 8 kHz. The output is G.711 or narrowband Opus (8 kHz); mixing at 48
 * kHz would cost six times the samples and a resampler for every G.711
 * input, for bandwidth the output cannot carry. libopus decodes any Opus
 * stream at 8 kHz itself (its own band-limiting decimation) and encodes
 * 8 kHz input directly.
 *
 * Timing. No jitter buffer: each member has a queue of two decoded frames
 * and every tick (20 ms, driven by the caller) takes at most one frame
 * per member. A packet whose sequence number is not after the last one
 * accepted from its SSRC is late (reordered) and dropped, so a decoder
 * always sees its stream in order; a third frame queued before a tick
 * drops the oldest (overrun), bounding the delay to two frames. Both are
 * counted. A member with nothing queued is silent in that tick.
 *
 * Speakers. Each tick, every member with audio gets a level: a fast-attack
 * (new frame's mean square if louder), slow-release (3/4 per tick) energy.
 * Members above the silence gate compete for at most max_speakers places;
 * a member not selected replaces the weakest selected one only when its
 * level is hysteresis_pct % of that one's (default 200 %: 3 dB), so two
 * similar voices do not flap.
 *
 * Output. The selected speakers' frames are summed in int32 and clamped to
 * int16 (no wrap-around). Every member has an output codec, set when it is
 * added (enum media_mix_codec): G.711 mu-law (PT 0), A-law (PT 8) or Opus
 * (cfg opus_pt, 8 kHz narrowband mono, 20 ms; RTP clock 48 kHz [RFC 7587
 * §4.1], so its timestamps advance 960 per tick). The members who are not
 * selected speakers form one class per codec; the common mix of all the
 * speakers is encoded ONCE per class that has listeners and SRTP-protected
 * ONCE under the current group epoch (its MKI), on that class's own focus
 * SSRC (ssrc_common, ssrc_pcma, ssrc_opus); the same bytes go to every
 * listener of the class. A class needs its own SSRC: two different
 * payloads on one SSRC at one index would reuse the group key's keystream
 * [RFC 3711 §9.1]. Each selected speaker gets the mix without its own
 * voice ("N-1") in its own codec on its place's focus SSRC, protected once
 * per speaker (a place's stream changes PT when its speaker does). All
 * output SSRCs are focus SSRCs reserved in the conference's registry
 * (conf.h focus_ssrcs), so no SSRC under the group key is used twice.
 *
 * Keys. Epochs are installed, switched and retired as for media_group;
 * the output uses the MKI of the last switch. Key material is wiped when an
 * epoch is retired and when the mixer is freed.
 *
 * The mixer does no I/O and reads no clock: media_mix_tick() is called
 * every 20 ms by the caller, whose sender (media_sendq_fanout) sends each
 * output packet to the fan-out that comes with it. Not thread-safe.
 */
#ifndef CONCLAVE_MIX_H
#define CONCLAVE_MIX_H

#include <conclave/media.h>

/** Most speakers a mix may hold (max_speakers). */
#define MEDIA_MIX_SPEAKERS_MAX 8
/** Speakers mixed by default. */
#define MEDIA_MIX_SPEAKERS_DEFAULT 3
/** Decoded frames queued per member (see "Timing" above). */
#define MEDIA_MIX_QUEUE 2
/** G.711 A-law payload type [RFC 3551 §6]. */
#define MEDIA_PT_PCMA 8

/** A member's output codec: the class whose common packet it gets. */
enum media_mix_codec {
	MEDIA_MIX_PCMU = 0, /* G.711 mu-law, PT 0 (the default) */
	MEDIA_MIX_PCMA = 1, /* G.711 A-law, PT 8 (needs ssrc_pcma) */
	MEDIA_MIX_OPUS = 2, /* Opus, PT opus_pt (needs opus_pt, ssrc_opus) */
};
/** Codec classes (enum media_mix_codec). */
#define MEDIA_MIX_CODECS 3
/** Packets one tick may make: a common one per class, an N-1 per place. */
#define MEDIA_MIX_PKTS_MAX (MEDIA_MIX_CODECS + MEDIA_MIX_SPEAKERS_MAX)

struct media_mix;

/** A mixer's configuration. Zero fields take the documented defaults. */
struct media_mix_cfg {
	enum media_profile profile;
	size_t max_speakers;     /* 1..MEDIA_MIX_SPEAKERS_MAX; 0: 3 */
	uint8_t opus_pt;         /* Opus's dynamic PT (96..127); 0: no Opus */
	unsigned hysteresis_pct; /* >= 100; 0: 200 (3 dB) */
	unsigned min_rms;        /* silence gate, PCM units; 0: 100 */
	/* the focus's own SSRCs (distinct, none a member's): the common mix,
	 * and one N-1 stream per speaker place (the first max_speakers) */
	uint32_t ssrc_common;
	uint32_t ssrc_n1[MEDIA_MIX_SPEAKERS_MAX];
	/* the common mix of the A-law and Opus classes (0: no such class:
	 * members with that codec are refused) */
	uint32_t ssrc_pcma;
	uint32_t ssrc_opus;
	/* where every output stream starts: ROC, SEQ (RFC 3550: random),
	 * RTP timestamp (random) */
	uint32_t roc;
	uint16_t seq;
	uint32_t ts;
};

/** Counters of a mixer (input SRTP counters are in `srtp`). */
struct media_mix_stats {
	struct media_stats srtp; /* rx, ok, drop_* (media.h), tx = protects */
	uint64_t frames;         /* decoded frames queued */
	uint64_t drop_late;      /* not after the last frame accepted */
	uint64_t drop_overrun;   /* queue full: the oldest frame dropped */
	uint64_t drop_codec;     /* PT not accepted, not 20 ms, undecodable */
	uint64_t ticks;
	uint64_t ticks_nokey;     /* ticks with no sending epoch: nothing out */
	uint64_t mixed;           /* frames that went into a mix */
	uint64_t clipped;         /* output samples clamped to int16 */
	uint64_t speaker_changes; /* a member became a speaker */
	uint64_t out_common;      /* common packets made (one protect each) */
	uint64_t out_class[MEDIA_MIX_CODECS]; /* of which, per codec class */
	uint64_t out_n1;                      /* N-1 packets made */
};

/** One packet a tick made, and who gets it: send `data` to every leg of
 *  `to` (media_sendq_fanout). `speaker` is 0 (CONF_MID_NONE) for the
 *  common mix, else the speaker whose N-1 stream this is. */
struct media_mix_pkt {
	const uint8_t *data; /* SRTP bytes, in the mixer */
	size_t len;
	uint32_t ssrc;
	uint32_t roc;      /* the stream's ROC (for the CS map) */
	bool roc_changed;  /* feed CONF_EV_MEDIA_ROC for ssrc */
	media_mid speaker; /* 0: the common mix */
	enum media_mix_codec codec;
	struct media_fanout to;
};

/** What one tick produced. Valid until the next tick, membership change or
 *  epoch change. */
struct media_mix_out {
	struct media_mix_pkt pkt[MEDIA_MIX_PKTS_MAX];
	size_t n; /* packets: the common ones first (PCMU, PCMA, Opus: those
		   * with listeners), then the N-1 ones */
	media_mid speakers[MEDIA_MIX_SPEAKERS_MAX];
	size_t n_speakers; /* selected this tick */
	uint32_t mki;      /* the epoch the packets are under */
};

/** Fill cfg with the defaults (profile HMAC-SHA1-80, 3 speakers, no Opus,
 *  hysteresis 200 %, gate RMS 100); SSRCs are left 0 for the caller. */
void media_mix_cfg_default(struct media_mix_cfg *cfg);

/**
 * A mixer for one conference. oh tells who owns an SSRC and its ROC, as
 * for media_group_new() (confd answers from the conference's registry).
 * CC_ERR_INVAL: bad profile, max_speakers, opus_pt, hysteresis, or output
 * SSRCs not distinct (or ssrc_opus without opus_pt); CC_ERR_UNSUPPORTED:
 * Opus asked for, built without.
 */
CC_MUST_USE enum cc_err media_mix_new(struct media_mix **mxp,
				      const struct media_mix_cfg *cfg,
				      media_owner_h *oh, void *oh_arg);
/** Free the mixer (NULL is fine): sessions, keys, decoders. */
void media_mix_free(struct media_mix *mx);

/** Install an epoch for input and output (as media_group_install()). */
CC_MUST_USE enum cc_err media_mix_install(struct media_mix *mx,
					  const struct media_key *k);
/** Output under this installed MKI from the next tick on; every output
 *  stream carries its ROC over (never reset [RFC 3711 §3.3.1]).
 *  CC_ERR_NOT_FOUND if not installed. */
CC_MUST_USE enum cc_err media_mix_switch(struct media_mix *mx, uint32_t mki);
/** Delete an epoch; if it was the sending one, ticks send nothing until
 *  the next switch. CC_ERR_NOT_FOUND if not installed. */
CC_MUST_USE enum cc_err media_mix_retire(struct media_mix *mx, uint32_t mki);
/** The MKI the output is sent under (0: none). */
uint32_t media_mix_sending_mki(const struct media_mix *mx);

/** A member (its leg: the caller's handle, media_dest.leg) hears the mix
 *  and may speak. CC_ERR_INVAL if already in. */
CC_MUST_USE enum cc_err media_mix_member_add(struct media_mix *mx,
					     media_mid mid, void *leg);
/** The same, with the member's output codec. CC_ERR_UNSUPPORTED if the
 *  mixer has no such class (no SSRC for it, no opus_pt, no libopus). */
CC_MUST_USE enum cc_err media_mix_member_add_codec(struct media_mix *mx,
						   media_mid mid, void *leg,
						   enum media_mix_codec codec);
/** Change a member's output codec (from the next tick on).
 *  CC_ERR_NOT_FOUND if absent, CC_ERR_UNSUPPORTED as above. */
CC_MUST_USE enum cc_err media_mix_member_codec(struct media_mix *mx,
					       media_mid mid,
					       enum media_mix_codec codec);
/** Take a member out at once (queued audio and decoder dropped).
 *  CC_ERR_NOT_FOUND if absent. */
CC_MUST_USE enum cc_err media_mix_member_remove(struct media_mix *mx,
						media_mid mid);
/** Members in the mixer. */
size_t media_mix_members(const struct media_mix *mx);

/**
 * One SRTP packet that arrived on member `from`'s leg: authenticate and
 * decrypt under the epoch its MKI names, then decode into the member's
 * queue for the next tick. pkt is not modified. Results: those of
 * media_switch_rx() (MALFORMED, NOT_FOUND, NOT_AUTHORISED, BAD_MAC,
 * REPLAY, CRYPTO), and
 *   CC_ERR_UNSUPPORTED  PT not accepted, not a 20 ms frame, or undecodable;
 *   CC_ERR_STALE        late: not after the last frame accepted.
 * Every drop is counted. info (may be NULL) as for the switch: feed
 * roc_changed to the conference.
 */
CC_MUST_USE enum cc_err media_mix_rx(struct media_mix *mx, media_mid from,
				     const uint8_t *pkt, size_t len,
				     struct media_rx_info *info);

/**
 * The 20 ms tick: take one queued frame per member, select the speakers,
 * mix, encode, protect, and return the packets with their fan-outs in
 * *out (the common mix to every member not speaking, each N-1 mix to its
 * speaker). CC_ERR_NOT_FOUND if no epoch is switched to (frames are
 * consumed, nothing is sent); CC_ERR_CRYPTO if libsrtp failed.
 */
CC_MUST_USE enum cc_err media_mix_tick(struct media_mix *mx,
				       struct media_mix_out *out);

/** An output stream's next index (ssrc: a common or an N-1 SSRC).
 *  CC_ERR_NOT_FOUND for another SSRC. */
CC_MUST_USE enum cc_err media_mix_stream_state(const struct media_mix *mx,
					       uint32_t ssrc, uint32_t *roc,
					       uint16_t *seq);

void media_mix_stats(const struct media_mix *mx, struct media_mix_stats *st);
CC_MUST_USE enum cc_err media_mix_epoch_stats(const struct media_mix *mx,
					      uint32_t mki,
					      struct media_epoch_stats *st);

/** True if this build decodes Opus (libopus). */
bool media_mix_has_opus(void);

#endif
