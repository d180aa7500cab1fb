/*
 * test_media_mix.c -- the conference mixer (mix.h) with real audio.
 *
 * Members send distinct tones as a participant does (media_member under
 * the group key), the mixer mixes, and every member decrypts what the
 * mixer sent it (media_member) and Goertzel-detects the tones: listeners
 * hear the speakers, a speaker does not hear itself in its N-1 stream.
 * Also: clipping (two full-scale inputs saturate, never wrap), the speaker
 * limit and its hysteresis, A-law and Opus input, one encryption for all
 * listeners (byte-identical datagrams on real sockets), epoch switch and
 * retire, authentication failures, late and overrun frames, bad codecs;
 * output codec classes: PCMU, PCMA and Opus listeners each decode the mix
 * of their class (one packet, one encryption per class, byte-identical
 * within a class, each class on its own SSRC), speakers get their N-1
 * stream in their own codec.
 */
#include <conclave/mix.h>

#include "check.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <unistd.h>

#ifdef CONCLAVE_HAVE_OPUS
#include <opus.h>
#endif

enum {
	MAXM = 8,       /* members in a test conference */
	REC_TICKS = 20, /* ticks recorded for tone detection (400 ms) */
	OPUS_PT = 111,  /* the dynamic PT given to Opus */
	SSRC_COMMON = 0xf0c00000u,
	SSRC_PCMA = 0xf0c00100u, /* the A-law class's common mix */
	SSRC_OPUS = 0xf0c00101u, /* the Opus class's */
	SSRC_BASE = 0x1000       /* member i sends with SSRC_BASE + i */
};

static const uint8_t tek1[16] = { 1, 2,  3,  4,  5,  6,  7,  8,
				  9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t salt1[14] = { 21, 22, 23, 24, 25, 26, 27,
				   28, 29, 30, 31, 32, 33, 34 };
static const uint8_t tek2[16] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
				  0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac,
				  0xad, 0xae, 0xaf, 0xb0 };
static const uint8_t salt2[14] = { 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
				   0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce };

#define MKI1 0x80000001u
#define MKI2 0x80000002u

static struct media_key key_of(int epoch)
{
	struct media_key k = { .profile = MEDIA_AES_CM_128_HMAC_SHA1_80,
			       .tek_len = 16,
			       .salt_len = 14 };

	k.mki = epoch == 1 ? MKI1 : MKI2;
	k.tek = epoch == 1 ? tek1 : tek2;
	k.salt = epoch == 1 ? salt1 : salt2;
	return k;
}

/* ---- a test conference ----------------------------------------------------- */

enum codec {
	C_SILENT,
	C_PCMU,
	C_PCMA,
	C_OPUS,
	C_NONE
};

struct tmember {
	media_mid mid;
	struct media_member *mm;
	struct media_tone tone;
	enum codec codec;
	uint32_t ts;
#ifdef CONCLAVE_HAVE_OPUS
	OpusEncoder *enc;
#endif
	/* what it heard: the last REC_TICKS frames and their SSRCs */
	int16_t rec[REC_TICKS * MEDIA_FRAME];
	uint32_t rec_ssrc[REC_TICKS];
	size_t got; /* packets received in total */
	uint32_t last_ssrc;
	uint32_t last_mki;
	uint8_t last_payload[MEDIA_FRAME];
	uint8_t last_pt;
	enum media_mix_codec out;        /* what the mixer sends it */
	uint8_t last_pkt[MEDIA_PKT_MAX]; /* the last SRTP packet, as sent */
	size_t last_len;
#ifdef CONCLAVE_HAVE_OPUS
	OpusDecoder *dec;
#endif
};

struct tconf {
	struct media_mix *mx;
	struct media_mix_cfg cfg;
	struct tmember m[MAXM];
	size_t n;
	unsigned tick;
	struct media_mix_out out;
};

static bool owner_h(uint32_t ssrc, media_mid *owner, uint32_t *roc, void *arg)
{
	struct tconf *c = arg;

	if (ssrc < SSRC_BASE || ssrc >= SSRC_BASE + c->n)
		return false;
	*owner = c->m[ssrc - SSRC_BASE].mid;
	*roc = 0;
	return true;
}

static void tconf_cfg(struct media_mix_cfg *cfg)
{
	size_t i;

	media_mix_cfg_default(cfg);
	cfg->ssrc_common = SSRC_COMMON;
	for (i = 0; i < MEDIA_MIX_SPEAKERS_MAX; i++)
		cfg->ssrc_n1[i] = SSRC_COMMON + 1 + (uint32_t)i;
	cfg->seq = 0xfff0; /* wraps early: ROC carries over */
	cfg->ts = 12345;
	cfg->opus_pt = media_mix_has_opus() ? OPUS_PT : 0;
	cfg->ssrc_pcma = SSRC_PCMA;
	cfg->ssrc_opus = media_mix_has_opus() ? SSRC_OPUS : 0;
}

static void member_init(struct tmember *t, size_t i, enum codec codec,
			double amp)
{
	struct media_key k = key_of(1);

	t->mid = 100 + i;
	t->codec = codec;
	media_tone_init(&t->tone, media_tone_freq((unsigned)i), amp);
	CHECK_OK(media_member_new(&t->mm, MEDIA_AES_CM_128_HMAC_SHA1_80));
	CHECK_OK(media_member_install(t->mm, &k));
	CHECK_OK(media_member_switch(t->mm, MKI1));
	CHECK_OK(media_member_sender(t->mm, SSRC_BASE + (uint32_t)i,
				     codec == C_PCMA ? MEDIA_PT_PCMA :
				     codec == C_OPUS ? OPUS_PT :
						       MEDIA_PT_PCMU,
				     0, 1));
#ifdef CONCLAVE_HAVE_OPUS
	if (codec == C_OPUS) {
		int err;

		t->enc = opus_encoder_create(MEDIA_RATE, 1,
					     OPUS_APPLICATION_VOIP, &err);
		CHECK(t->enc && err == OPUS_OK);
	}
#endif
}

/* A conference of n members with these codecs, tone amplitudes and
 * output codecs (NULL: PCMU). */
static void tconf_new_out(struct tconf *c, const struct media_mix_cfg *cfg,
			  size_t n, const enum codec *codec, const double *amp,
			  const enum media_mix_codec *outc)
{
	struct media_key k = key_of(1);
	size_t i;

	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->n = n;
	CHECK_OK(media_mix_new(&c->mx, cfg, owner_h, c));
	CHECK_OK(media_mix_install(c->mx, &k));
	CHECK_OK(media_mix_switch(c->mx, MKI1));
	for (i = 0; i < n; i++) {
		member_init(&c->m[i], i, codec[i], amp[i]);
		c->m[i].out = outc ? outc[i] : MEDIA_MIX_PCMU;
		if (outc)
			CHECK_OK(media_mix_member_add_codec(c->mx, c->m[i].mid,
							    &c->m[i], outc[i]));
		else
			CHECK_OK(media_mix_member_add(c->mx, c->m[i].mid,
						      &c->m[i]));
	}
}

static void tconf_new(struct tconf *c, const struct media_mix_cfg *cfg,
		      size_t n, const enum codec *codec, const double *amp)
{
	tconf_new_out(c, cfg, n, codec, amp, NULL);
}

static void tconf_free(struct tconf *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		media_member_free(c->m[i].mm);
#ifdef CONCLAVE_HAVE_OPUS
		if (c->m[i].enc)
			opus_encoder_destroy(c->m[i].enc);
		if (c->m[i].dec)
			opus_decoder_destroy(c->m[i].dec);
#endif
	}
	media_mix_free(c->mx);
}

/* Member t's next 20 ms as its codec's payload; 0 if it sends nothing. */
static size_t payload(struct tmember *t, uint8_t *pl, size_t cap)
{
	int16_t pcm[MEDIA_FRAME];

	if (t->codec == C_NONE)
		return 0;
	media_tone_pcm(&t->tone, pcm, MEDIA_FRAME);
	if (t->codec == C_SILENT)
		memset(pcm, 0, sizeof(pcm));
	if (t->codec == C_PCMA) {
		media_alaw_encode_buf(pcm, MEDIA_FRAME, pl);
		return MEDIA_FRAME;
	}
#ifdef CONCLAVE_HAVE_OPUS
	if (t->codec == C_OPUS) {
		int n = opus_encode(t->enc, pcm, MEDIA_FRAME, pl,
				    (opus_int32)cap);
		CHECK(n > 0);
		return n > 0 ? (size_t)n : 0;
	}
#endif
	(void)cap;
	media_ulaw_encode_buf(pcm, MEDIA_FRAME, pl);
	return MEDIA_FRAME;
}

/* Member i's next packet, protected as a participant sends it. */
static size_t make_pkt(struct tmember *t, uint8_t *pkt, size_t cap)
{
	uint8_t pl[400];
	size_t n = payload(t, pl, sizeof(pl)), len = 0;

	if (!n)
		return 0;
	t->ts += t->codec == C_OPUS ? 960 : MEDIA_FRAME; /* Opus: 48 kHz */
	CHECK_OK(media_member_send(t->mm, pl, n, t->ts, false, pkt, cap, &len));
	return len;
}

/* Member t receives one packet from the mixer. */
static void deliver(struct tconf *c, struct tmember *t, const uint8_t *pkt,
		    size_t len)
{
	struct media_rx_payload rx;
	size_t slot = c->tick % REC_TICKS;

	int16_t *pcm = t->rec + slot * MEDIA_FRAME;
	size_t i;

	CHECK(len <= sizeof(t->last_pkt));
	memcpy(t->last_pkt, pkt, len < sizeof(t->last_pkt) ? len : 0);
	t->last_len = len;
	CHECK_OK(media_member_unprotect(t->mm, pkt, len, &rx));
	t->last_pt = rx.info.rtp.pt;
	CHECK(rx.info.rtp.pt == (t->out == MEDIA_MIX_PCMA ? MEDIA_PT_PCMA :
				 t->out == MEDIA_MIX_OPUS ? OPUS_PT :
							    MEDIA_PT_PCMU));
	if (t->out == MEDIA_MIX_OPUS) {
#ifdef CONCLAVE_HAVE_OPUS
		int err = OPUS_OK;

		if (!t->dec)
			t->dec = opus_decoder_create(MEDIA_RATE, 1, &err);
		CHECK(t->dec && err == OPUS_OK);
		CHECK(t->dec && opus_decode(t->dec, rx.payload,
					    (opus_int32)rx.payload_len, pcm,
					    MEDIA_FRAME, 0) == MEDIA_FRAME);
#endif
	} else {
		CHECK(rx.payload_len == MEDIA_FRAME);
		if (rx.payload_len != MEDIA_FRAME)
			return;
		for (i = 0; i < MEDIA_FRAME; i++)
			pcm[i] = t->out == MEDIA_MIX_PCMA ?
					 media_alaw_decode(rx.payload[i]) :
					 media_ulaw_decode(rx.payload[i]);
		memcpy(t->last_payload, rx.payload, MEDIA_FRAME);
	}
	t->rec_ssrc[slot] = rx.info.rtp.ssrc;
	t->last_ssrc = rx.info.rtp.ssrc;
	t->last_mki = rx.info.mki;
	t->got++;
}

/* Every packet of the tick to every leg of its fan-out. */
static void fan_out(struct tconf *c)
{
	const struct media_mix_pkt *p;
	size_t k, i;

	for (k = 0; k < c->out.n; k++) {
		p = &c->out.pkt[k];
		for (i = 0; i < p->to.n; i++)
			if (i != p->to.skip)
				deliver(c, p->to.dest[i].leg, p->data, p->len);
	}
}

/* One 20 ms tick: everyone sends, the mixer mixes, everyone receives. */
static void tconf_tick(struct tconf *c)
{
	uint8_t pkt[MEDIA_PKT_MAX];
	size_t i, len;

	for (i = 0; i < c->n; i++) {
		len = make_pkt(&c->m[i], pkt, sizeof(pkt));
		if (len)
			CHECK_OK(media_mix_rx(c->mx, c->m[i].mid, pkt, len,
					      NULL));
	}
	CHECK_OK(media_mix_tick(c->mx, &c->out));
	fan_out(c);
	c->tick++;
}

/* Does member t hear member j's tone (over the last REC_TICKS)? */
static double share_of(const struct tmember *t, const struct tmember *j)
{
	struct media_tone_hit hit;

	(void)media_tone_detect(t->rec, REC_TICKS * MEDIA_FRAME, &j->tone.freq,
				1, 0.05, &hit);
	return hit.share;
}

static bool is_speaker(const struct tconf *c, media_mid mid)
{
	size_t i;

	for (i = 0; i < c->out.n_speakers; i++)
		if (c->out.speakers[i] == mid)
			return true;
	return false;
}

/* ---- tests ----------------------------------------------------------------------- */

/* 3 talkers and 3 silent listeners: listeners hear all three on the
 * common SSRC; each talker hears the two others, not itself, on its own
 * N-1 SSRC; the common packet is made (and encrypted) once per tick. */
static void test_mix_n1(void)
{
	const enum codec codec[6] = { C_PCMU,   C_PCMU,   C_PCMU,
				      C_SILENT, C_SILENT, C_SILENT };
	const double amp[6] = { 5000, 5000, 5000, 0, 0, 0 };
	struct media_mix_cfg cfg;
	struct media_mix_stats st;
	struct tconf c;
	size_t i, j, k;
	unsigned t;

	tconf_cfg(&cfg);
	tconf_new(&c, &cfg, 6, codec, amp);
	for (t = 0; t < 40; t++) {
		tconf_tick(&c);
		CHECK(c.out.n == 4);
		CHECK(c.out.n_speakers == 3);
		CHECK(c.out.pkt[0].speaker == 0);
		CHECK(c.out.pkt[0].ssrc == SSRC_COMMON);
		CHECK(c.out.pkt[0].to.n == 3);
		for (k = 1; k < c.out.n; k++) {
			CHECK(c.out.pkt[k].to.n == 1);
			CHECK(c.out.pkt[k].ssrc != SSRC_COMMON);
			CHECK(c.out.pkt[k].to.dest[0].mid ==
			      c.out.pkt[k].speaker);
			for (j = 1; j < k; j++)
				CHECK(c.out.pkt[k].ssrc != c.out.pkt[j].ssrc);
		}
	}
	for (i = 0; i < 3; i++)
		CHECK(is_speaker(&c, c.m[i].mid));
	for (i = 3; i < 6; i++) { /* listeners: all three tones */
		for (j = 0; j < 3; j++)
			CHECK(share_of(&c.m[i], &c.m[j]) > 0.2);
		for (t = 0; t < REC_TICKS; t++)
			CHECK(c.m[i].rec_ssrc[t] == SSRC_COMMON);
		CHECK(c.m[i].got == 40);
	}
	for (i = 0; i < 3; i++) { /* speakers: the others, never themselves */
		for (j = 0; j < 3; j++) {
			if (j == i)
				CHECK(share_of(&c.m[i], &c.m[j]) < 0.01);
			else
				CHECK(share_of(&c.m[i], &c.m[j]) > 0.3);
		}
		CHECK(c.m[i].last_ssrc != SSRC_COMMON);
		CHECK(c.m[i].got == 40);
	}
	media_mix_stats(c.mx, &st);
	CHECK(st.ticks == 40 && st.out_common == 40 && st.out_n1 == 120);
	CHECK(st.srtp.tx == 160); /* one protect per stream per tick */
	CHECK(st.srtp.ok == 240 && st.frames == 240);
	CHECK(st.mixed == 120 && st.clipped == 0);
	CHECK(st.speaker_changes == 3);
	tconf_free(&c);
}

static const struct sockaddr *leg_addr(const void *leg, socklen_t *len,
				       void *arg)
{
	(void)arg;
	*len = sizeof(struct sockaddr_in);
	return leg;
}

/* The common packet is one buffer: on real sockets every listener gets
 * the same bytes (one encryption), a speaker its own N-1 stream. */
static void test_one_encryption_sockets(void)
{
	const enum codec codec[5] = { C_PCMU, C_SILENT, C_SILENT, C_SILENT,
				      C_SILENT };
	const double amp[5] = { 8000, 0, 0, 0, 0 };
	struct sockaddr_in addr[5];
	struct media_mix_cfg cfg;
	struct media_sendq *q = NULL;
	struct tconf c;
	uint8_t pkt[5][MEDIA_PKT_MAX], spkt[MEDIA_PKT_MAX];
	ssize_t got[5];
	socklen_t al;
	int fd[5], tx;
	size_t i, k, len;

	tconf_cfg(&cfg);
	tconf_new(&c, &cfg, 5, codec, amp);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(tx >= 0);
	CHECK_OK(media_sendq_new(&q, tx, 0));
	for (i = 0; i < 5; i++) {
		fd[i] = socket(AF_INET, SOCK_DGRAM, 0);
		memset(&addr[i], 0, sizeof(addr[i]));
		addr[i].sin_family = AF_INET;
		addr[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		CHECK(bind(fd[i], (struct sockaddr *)&addr[i],
			   sizeof(addr[i])) == 0);
		al = sizeof(addr[i]);
		CHECK(getsockname(fd[i], (struct sockaddr *)&addr[i], &al) ==
		      0);
	}
	/* the legs are socket addresses now */
	for (i = 0; i < 5; i++) {
		CHECK_OK(media_mix_member_remove(c.mx, c.m[i].mid));
		CHECK_OK(media_mix_member_add(c.mx, c.m[i].mid, &addr[i]));
	}
	CHECK(media_mix_members(c.mx) == 5);
	for (i = 0; i < 5; i++) {
		len = make_pkt(&c.m[i], spkt, sizeof(spkt));
		CHECK_OK(media_mix_rx(c.mx, c.m[i].mid, spkt, len, NULL));
	}
	CHECK_OK(media_mix_tick(c.mx, &c.out));
	CHECK(c.out.n == 2 && c.out.n_speakers == 1);
	for (k = 0; k < c.out.n; k++)
		(void)media_sendq_fanout(q, c.out.pkt[k].data, c.out.pkt[k].len,
					 &c.out.pkt[k].to, leg_addr, NULL);
	for (i = 0; i < 5; i++)
		got[i] = recv(fd[i], pkt[i], sizeof(pkt[i]), MSG_DONTWAIT);
	CHECK(got[0] == (ssize_t)c.out.pkt[1].len);
	CHECK(got[0] > 0 && !memcmp(pkt[0], c.out.pkt[1].data, (size_t)got[0]));
	for (i = 1; i < 5; i++) {
		CHECK(got[i] == (ssize_t)c.out.pkt[0].len);
		CHECK(got[i] == got[1] &&
		      !memcmp(pkt[i], pkt[1], (size_t)got[1]));
	}
	/* nothing else arrived */
	for (i = 0; i < 5; i++)
		CHECK(recv(fd[i], spkt, sizeof(spkt), MSG_DONTWAIT) < 0);
	for (i = 0; i < 5; i++)
		close(fd[i]);
	close(tx);
	media_sendq_free(q);
	tconf_free(&c);
}

/* Two full-scale inputs: the sum saturates at int16, never wraps: the
 * output is exactly mu-law(clamp(a + b)). */
static void test_clipping(void)
{
	const enum codec codec[3] = { C_PCMU, C_PCMU, C_SILENT };
	const double amp[3] = { 32767, 32767, 0 };
	struct media_mix_cfg cfg;
	struct media_mix_stats st;
	struct media_tone ref;
	struct tconf c;
	int16_t x[MEDIA_FRAME];
	int32_t s;
	uint8_t want;
	size_t i, bad = 0, flips = 0;
	unsigned t;

	tconf_cfg(&cfg);
	tconf_new(&c, &cfg, 3, codec, amp);
	/* both talkers play the same tone in phase */
	c.m[1].tone.freq = c.m[0].tone.freq;
	media_tone_init(&ref, c.m[0].tone.freq, 32767);
	for (t = 0; t < 10; t++) {
		tconf_tick(&c);
		media_tone_pcm(&ref, x, MEDIA_FRAME);
		for (i = 0; i < MEDIA_FRAME; i++) {
			s = 2 * media_ulaw_decode(media_ulaw_encode(x[i]));
			s = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
			want = media_ulaw_encode((int16_t)s);
			bad += c.m[2].last_payload[i] != want;
			flips +=
				(x[i] > 1000 &&
				 media_ulaw_decode(c.m[2].last_payload[i]) <
					 0) ||
				(x[i] < -1000 &&
				 media_ulaw_decode(c.m[2].last_payload[i]) > 0);
		}
	}
	CHECK(bad == 0);
	CHECK(flips == 0);
	media_mix_stats(c.mx, &st);
	CHECK(st.clipped > 0);
	tconf_free(&c);
}

/* 5 talkers, 3 places: only the 3 loudest are in the mix. */
static void test_speaker_limit(void)
{
	const enum codec codec[6] = { C_PCMU, C_PCMU, C_PCMU,
				      C_PCMU, C_PCMU, C_SILENT };
	const double amp[6] = { 1500, 7000, 2500, 5000, 3500, 0 };
	struct media_mix_cfg cfg;
	struct tconf c;
	unsigned t;

	tconf_cfg(&cfg);
	tconf_new(&c, &cfg, 6, codec, amp);
	for (t = 0; t < 30; t++) {
		tconf_tick(&c);
		CHECK(c.out.n_speakers == 3);
	}
	CHECK(is_speaker(&c, c.m[1].mid) && is_speaker(&c, c.m[3].mid) &&
	      is_speaker(&c, c.m[4].mid));
	CHECK(share_of(&c.m[5], &c.m[1]) > 0.2);
	CHECK(share_of(&c.m[5], &c.m[3]) > 0.1);
	CHECK(share_of(&c.m[5], &c.m[4]) > 0.05);
	CHECK(share_of(&c.m[5], &c.m[0]) < 0.01);
	CHECK(share_of(&c.m[5], &c.m[2]) < 0.01);
	/* the quiet ones get the common mix, like any listener */
	CHECK(c.m[0].last_ssrc == SSRC_COMMON);
	CHECK(c.m[2].last_ssrc == SSRC_COMMON);
	tconf_free(&c);
}

/* One place: a slightly louder voice (+1.6 dB) does not take it, a much
 * louder one (+7 dB) does; a speaker that stops leaves after the release. */
static void test_hysteresis(void)
{
	const enum codec codec[4] = { C_PCMU, C_NONE, C_NONE, C_SILENT };
	const double amp[4] = { 4000, 4800, 9000, 0 };
	struct media_mix_cfg cfg;
	struct tconf c;
	unsigned t;

	tconf_cfg(&cfg);
	cfg.max_speakers = 1;
	tconf_new(&c, &cfg, 4, codec, amp);
	for (t = 0; t < 10; t++)
		tconf_tick(&c);
	CHECK(c.out.n_speakers == 1 && c.out.speakers[0] == c.m[0].mid);
	c.m[1].codec = C_PCMU;
	for (t = 0; t < 10; t++) {
		tconf_tick(&c);
		CHECK(c.out.n_speakers == 1 && c.out.speakers[0] == c.m[0].mid);
	}
	c.m[2].codec = C_PCMU;
	tconf_tick(&c);
	CHECK(c.out.n_speakers == 1 && c.out.speakers[0] == c.m[2].mid);
	c.m[2].codec = C_NONE;
	for (t = 0; t < 60; t++)
		tconf_tick(&c);
	/* C's level decayed: the next loudest (B) took the place */
	CHECK(c.out.n_speakers == 1 && c.out.speakers[0] == c.m[1].mid);
	c.m[0].codec = c.m[1].codec = C_SILENT;
	for (t = 0; t < 60; t++)
		tconf_tick(&c);
	CHECK(c.out.n_speakers == 0); /* below the gate: nobody */
	CHECK(c.out.n == 1 && c.out.pkt[0].to.n == 4);
	tconf_free(&c);
}

/* mu-law, A-law and Opus talkers in one mix. */
static void test_codecs(void)
{
	enum codec codec[4] = { C_PCMU, C_PCMA, C_OPUS, C_SILENT };
	const double amp[4] = { 5000, 5000, 5000, 0 };
	struct media_mix_cfg cfg;
	struct tconf c;
	unsigned t;

	if (!media_mix_has_opus())
		codec[2] = C_PCMA;
	tconf_cfg(&cfg);
	tconf_new(&c, &cfg, 4, codec, amp);
	for (t = 0; t < 40; t++)
		tconf_tick(&c);
	CHECK(c.out.n_speakers == 3);
	CHECK(share_of(&c.m[3], &c.m[0]) > 0.15);
	CHECK(share_of(&c.m[3], &c.m[1]) > 0.15);
	CHECK(share_of(&c.m[3], &c.m[2]) > 0.15);
	/* the Opus talker hears the G.711 ones, not itself */
	CHECK(share_of(&c.m[2], &c.m[0]) > 0.3);
	CHECK(share_of(&c.m[2], &c.m[1]) > 0.3);
	CHECK(share_of(&c.m[2], &c.m[2]) < 0.01);
	tconf_free(&c);
}

/* Payload types and frame sizes the mixer does not take. */
static void test_bad_codec(void)
{
	const enum codec codec[2] = { C_PCMU, C_SILENT };
	const double amp[2] = { 5000, 0 };
	struct media_mix_cfg cfg;
	struct media_mix_stats st;
	struct tconf c;
	uint8_t pl[MEDIA_FRAME] = { 0 }, pkt[MEDIA_PKT_MAX];
	size_t len;

	tconf_cfg(&cfg);
	tconf_new(&c, &cfg, 2, codec, amp);
	/* 10 ms of PCMU */
	CHECK_OK(media_member_send(c.m[0].mm, pl, 80, 160, false, pkt,
				   sizeof(pkt), &len));
	CHECK_ERR(media_mix_rx(c.mx, c.m[0].mid, pkt, len, NULL),
		  CC_ERR_UNSUPPORTED);
	/* G.722 (PT 9) */
	CHECK_OK(media_member_sender(c.m[0].mm, SSRC_BASE, 9, 0, 100));
	CHECK_OK(media_member_send(c.m[0].mm, pl, sizeof(pl), 320, false, pkt,
				   sizeof(pkt), &len));
	CHECK_ERR(media_mix_rx(c.mx, c.m[0].mid, pkt, len, NULL),
		  CC_ERR_UNSUPPORTED);
	media_mix_stats(c.mx, &st);
	CHECK(st.drop_codec == 2 && st.frames == 0);
	tconf_free(&c);
}

/* A packet failing authentication is dropped, counted and not mixed; so
 * is one whose SSRC belongs to another member's leg (D6). */
static void test_auth_fail(void)
{
	const enum codec codec[3] = { C_PCMU, C_SILENT, C_SILENT };
	const double amp[3] = { 8000, 0, 0 };
	struct media_mix_cfg cfg;
	struct media_mix_stats st;
	struct tconf c;
	uint8_t pkt[MEDIA_PKT_MAX];
	size_t len, i;

	tconf_cfg(&cfg);
	tconf_new(&c, &cfg, 3, codec, amp);
	len = make_pkt(&c.m[0], pkt, sizeof(pkt));
	pkt[20] ^= 0x01; /* a payload bit */
	CHECK_ERR(media_mix_rx(c.mx, c.m[0].mid, pkt, len, NULL),
		  CC_ERR_BAD_MAC);
	pkt[20] ^= 0x01;
	/* the good bytes, but on another member's leg */
	CHECK_ERR(media_mix_rx(c.mx, c.m[1].mid, pkt, len, NULL),
		  CC_ERR_NOT_AUTHORISED);
	CHECK_ERR(media_mix_rx(c.mx, 999, pkt, len, NULL),
		  CC_ERR_NOT_AUTHORISED);
	CHECK_OK(media_mix_tick(c.mx, &c.out));
	fan_out(&c);
	CHECK(c.out.n_speakers == 0);
	for (i = 0; i < MEDIA_FRAME; i++)
		CHECK(c.m[1].last_payload[i] == 0xff); /* mu-law silence */
	media_mix_stats(c.mx, &st);
	CHECK(st.srtp.drop_auth == 1 && st.srtp.drop_foreign_ssrc == 1 &&
	      st.srtp.drop_not_member == 1);
	CHECK(st.frames == 0 && st.mixed == 0);
	/* the same packet, intact and on its own leg, is still good */
	CHECK_OK(media_mix_rx(c.mx, c.m[0].mid, pkt, len, NULL));
	tconf_free(&c);
}

/* Late frames (not after the last accepted) and overruns (a third frame
 * before a tick) are dropped and counted. */
static void test_late_overrun(void)
{
	const enum codec codec[2] = { C_PCMU, C_SILENT };
	const double amp[2] = { 5000, 0 };
	struct media_mix_cfg cfg;
	struct media_mix_stats st;
	struct tconf c;
	uint8_t p[4][MEDIA_PKT_MAX];
	size_t len[4], i;

	tconf_cfg(&cfg);
	tconf_new(&c, &cfg, 2, codec, amp);
	for (i = 0; i < 4; i++)
		len[i] = make_pkt(&c.m[0], p[i], sizeof(p[i]));
	CHECK_OK(media_mix_rx(c.mx, c.m[0].mid, p[0], len[0], NULL));
	CHECK_OK(media_mix_rx(c.mx, c.m[0].mid, p[1], len[1], NULL));
	CHECK_OK(media_mix_rx(c.mx, c.m[0].mid, p[3], len[3], NULL));
	CHECK_ERR(media_mix_rx(c.mx, c.m[0].mid, p[2], len[2], NULL),
		  CC_ERR_STALE);
	CHECK_ERR(media_mix_rx(c.mx, c.m[0].mid, p[1], len[1], NULL),
		  CC_ERR_REPLAY);
	media_mix_stats(c.mx, &st);
	CHECK(st.drop_overrun == 1 && st.drop_late == 1 && st.frames == 3);
	CHECK(st.srtp.drop_replay == 1);
	CHECK_OK(media_mix_tick(c.mx, &c.out));
	CHECK(c.out.n_speakers == 1);
	tconf_free(&c);
}

static uint32_t pkt_mki(const struct media_mix_pkt *p)
{
	uint32_t mki = 0;

	CHECK_OK(media_srtp_mki(MEDIA_AES_CM_128_HMAC_SHA1_80, p->data, p->len,
				&mki));
	return mki;
}

static uint16_t pkt_seq(const struct media_mix_pkt *p)
{
	return (uint16_t)(p->data[2] << 8 | p->data[3]);
}

/* A new epoch: output switches MKI when told, sequence and ROC carry on,
 * input under the old key stays good until it is retired. */
static void test_epoch_switch(void)
{
	const enum codec codec[3] = { C_PCMU, C_PCMU, C_SILENT };
	const double amp[3] = { 5000, 6000, 0 };
	struct media_key k2 = key_of(2);
	struct media_mix_cfg cfg;
	struct media_mix_stats st;
	struct media_epoch_stats es;
	struct tconf c;
	uint8_t pkt[MEDIA_PKT_MAX];
	uint32_t roc;
	uint16_t seq, seq_before;
	size_t i, len;
	unsigned t, wrapped;

	tconf_cfg(&cfg);
	tconf_new(&c, &cfg, 3, codec, amp);
	for (t = 0, wrapped = 0; t < 20; t++) { /* seq 0xfff0 + 20 wraps */
		tconf_tick(&c);
		wrapped += c.out.pkt[0].roc_changed;
	}
	CHECK(c.out.mki == MKI1 && pkt_mki(&c.out.pkt[0]) == MKI1);
	CHECK_OK(media_mix_stream_state(c.mx, SSRC_COMMON, &roc, &seq));
	CHECK(roc == 1 && seq == 4);
	CHECK(c.out.pkt[0].roc == 1 && !c.out.pkt[0].roc_changed);
	CHECK(wrapped == 1); /* reported once, by the packet with seq 0 */
	seq_before = pkt_seq(&c.out.pkt[0]);
	CHECK_OK(media_mix_install(c.mx, &k2));
	for (i = 0; i < c.n; i++)
		CHECK_OK(media_member_install(c.m[i].mm, &k2));
	tconf_tick(&c); /* installed, not switched: still epoch 1 */
	CHECK(pkt_mki(&c.out.pkt[0]) == MKI1);
	CHECK_OK(media_mix_switch(c.mx, MKI2));
	CHECK(media_mix_sending_mki(c.mx) == MKI2);
	tconf_tick(&c); /* members still send under epoch 1 */
	CHECK(c.out.mki == MKI2);
	for (i = 0; i < c.out.n; i++)
		CHECK(pkt_mki(&c.out.pkt[i]) == MKI2);
	CHECK(pkt_seq(&c.out.pkt[0]) == (uint16_t)(seq_before + 2));
	CHECK(c.m[2].last_mki == MKI2 && c.m[0].last_mki == MKI2);
	for (i = 0; i < c.n; i++)
		CHECK_OK(media_member_switch(c.m[i].mm, MKI2));
	for (t = 0; t < 20; t++)
		tconf_tick(&c);
	CHECK(share_of(&c.m[2], &c.m[0]) > 0.1);
	CHECK(share_of(&c.m[2], &c.m[1]) > 0.1);
	CHECK_OK(media_mix_epoch_stats(c.mx, MKI2, &es));
	CHECK(es.ok == 60 && es.tx == 21 * 3);
	/* retire epoch 1: its packets are unknown now */
	CHECK_OK(media_member_switch(c.m[0].mm, MKI1));
	len = make_pkt(&c.m[0], pkt, sizeof(pkt));
	CHECK_OK(media_mix_retire(c.mx, MKI1));
	CHECK_ERR(media_mix_rx(c.mx, c.m[0].mid, pkt, len, NULL),
		  CC_ERR_NOT_FOUND);
	/* retire the sending epoch: nothing goes out until a switch */
	CHECK_OK(media_mix_retire(c.mx, MKI2));
	CHECK(media_mix_sending_mki(c.mx) == 0);
	CHECK_ERR(media_mix_tick(c.mx, &c.out), CC_ERR_NOT_FOUND);
	CHECK(c.out.n == 0);
	media_mix_stats(c.mx, &st);
	CHECK(st.ticks_nokey == 1 && st.srtp.drop_unknown_mki == 1);
	tconf_free(&c);
}

/* Output streams that start late in their index (a mixer restarted under
 * a live key resumes at the ROC and SEQ the conference recorded): a
 * listener told the ROC (CS map) decrypts them. */
static void test_roc_start(void)
{
	const enum codec codec[2] = { C_PCMU, C_SILENT };
	const double amp[2] = { 5000, 0 };
	struct media_mix_cfg cfg;
	struct tconf c;
	uint32_t roc;
	uint16_t seq;

	tconf_cfg(&cfg);
	cfg.roc = 7;
	cfg.seq = 40000;
	tconf_new(&c, &cfg, 2, codec, amp);
	CHECK_OK(media_member_set_roc(c.m[1].mm, SSRC_COMMON, 7));
	CHECK_OK(media_member_set_roc(c.m[0].mm, SSRC_COMMON + 1, 7));
	tconf_tick(&c);
	tconf_tick(&c);
	CHECK(c.m[1].got == 2 && c.m[1].last_ssrc == SSRC_COMMON);
	CHECK(c.m[0].got == 2 && c.m[0].last_ssrc == SSRC_COMMON + 1);
	CHECK(c.out.pkt[0].roc == 7 && !c.out.pkt[0].roc_changed);
	CHECK_OK(media_mix_stream_state(c.mx, SSRC_COMMON, &roc, &seq));
	CHECK(roc == 7 && seq == 40002);
	CHECK_ERR(media_mix_stream_state(c.mx, 42, &roc, &seq),
		  CC_ERR_NOT_FOUND);
	tconf_free(&c);
}

/* A speaker leaving mid-call: its place frees, the others go on. */
static void test_member_remove(void)
{
	const enum codec codec[4] = { C_PCMU, C_PCMU, C_SILENT, C_SILENT };
	const double amp[4] = { 5000, 5000, 0, 0 };
	struct media_mix_cfg cfg;
	struct tconf c;
	unsigned t;

	tconf_cfg(&cfg);
	tconf_new(&c, &cfg, 4, codec, amp);
	for (t = 0; t < 5; t++)
		tconf_tick(&c);
	CHECK(c.out.n_speakers == 2);
	CHECK_OK(media_mix_member_remove(c.mx, c.m[0].mid));
	CHECK_ERR(media_mix_member_remove(c.mx, c.m[0].mid), CC_ERR_NOT_FOUND);
	CHECK(media_mix_members(c.mx) == 3);
	c.m[0].codec = C_NONE;
	for (t = 0; t < 5; t++)
		tconf_tick(&c);
	CHECK(c.out.n_speakers == 1 && c.out.speakers[0] == c.m[1].mid);
	CHECK(c.out.n == 2 && c.out.pkt[0].to.n == 2);
	CHECK_ERR(media_mix_member_add(c.mx, c.m[1].mid, NULL), CC_ERR_INVAL);
	tconf_free(&c);
}

static void test_cfg(void)
{
	struct media_mix_cfg cfg;
	struct media_mix *mx = NULL;

	tconf_cfg(&cfg);
	cfg.ssrc_n1[2] = cfg.ssrc_n1[0];
	CHECK_ERR(media_mix_new(&mx, &cfg, owner_h, NULL), CC_ERR_INVAL);
	tconf_cfg(&cfg);
	cfg.ssrc_n1[1] = SSRC_COMMON;
	CHECK_ERR(media_mix_new(&mx, &cfg, owner_h, NULL), CC_ERR_INVAL);
	tconf_cfg(&cfg);
	cfg.max_speakers = MEDIA_MIX_SPEAKERS_MAX + 1;
	CHECK_ERR(media_mix_new(&mx, &cfg, owner_h, NULL), CC_ERR_INVAL);
	tconf_cfg(&cfg);
	cfg.opus_pt = 50;
	CHECK_ERR(media_mix_new(&mx, &cfg, owner_h, NULL), CC_ERR_INVAL);
	tconf_cfg(&cfg);
	cfg.hysteresis_pct = 50;
	CHECK_ERR(media_mix_new(&mx, &cfg, owner_h, NULL), CC_ERR_INVAL);
	tconf_cfg(&cfg);
	cfg.profile = (enum media_profile)7;
	CHECK_ERR(media_mix_new(&mx, &cfg, owner_h, NULL), CC_ERR_INVAL);
	CHECK(mx == NULL);
	/* an N-1 SSRC beyond max_speakers may repeat: it is not used */
	tconf_cfg(&cfg);
	cfg.max_speakers = 2;
	cfg.ssrc_n1[5] = SSRC_COMMON;
	CHECK_OK(media_mix_new(&mx, &cfg, owner_h, NULL));
	CHECK(media_mix_sending_mki(mx) == 0);
	CHECK_ERR(media_mix_switch(mx, MKI1), CC_ERR_NOT_FOUND);
	media_mix_free(mx);
}

/* A-law round trip: error within half a step of its segment (the step
 * is 16 below 256, then |x|/16 at most). */
static void test_alaw(void)
{
	long x, d;
	int a;

	for (x = -32768; x <= 32767; x++) {
		d = media_alaw_decode(media_alaw_encode((int16_t)x));
		CHECK(labs(x - d) <= (labs(x) < 256 ? 16 : labs(x) / 32 + 16));
		if (x > 0)
			CHECK(d > 0);
		if (x < 0)
			CHECK(d < 0);
	}
	for (a = 0; a < 256; a++)
		CHECK(media_alaw_encode(media_alaw_decode((uint8_t)a)) == a);
	CHECK(media_alaw_encode(0) == 0xd5);
	CHECK(media_alaw_decode(0xd5) == 8);
	CHECK(media_alaw_decode(0xaa) == 32256);
	CHECK(media_alaw_decode(0x2a) == -32256);
}

/* Output codec classes: three talkers (PCMU, A-law and Opus in and out)
 * and five silent listeners (PCMU; A-law x 2; Opus x 2). Each tick makes
 * one common packet per class (PCMU, PCMA, Opus: one encryption each, on
 * the class's SSRC, byte-identical for the listeners of a class) and one
 * N-1 packet per talker in its codec; everyone decodes what it gets and
 * hears the talkers, a talker never itself. */
static void test_codec_classes(void)
{
	const enum codec codec[8] = { C_PCMU,   C_PCMA,   C_OPUS,   C_SILENT,
				      C_SILENT, C_SILENT, C_SILENT, C_SILENT };
	const enum media_mix_codec outc[8] = { MEDIA_MIX_PCMU, MEDIA_MIX_PCMA,
					       MEDIA_MIX_OPUS, MEDIA_MIX_PCMU,
					       MEDIA_MIX_PCMA, MEDIA_MIX_PCMA,
					       MEDIA_MIX_OPUS, MEDIA_MIX_OPUS };
	const double amp[8] = { 5000, 5000, 5000, 0, 0, 0, 0, 0 };
	const uint32_t class_ssrc[3] = { SSRC_COMMON, SSRC_PCMA, SSRC_OPUS };
	const size_t class_n[3] = { 1, 2, 2 };
	struct media_mix_cfg cfg;
	struct media_mix_stats st;
	struct tconf c;
	size_t i, j, k;
	unsigned t;

	if (!media_mix_has_opus())
		return; /* the Opus class needs libopus */
	tconf_cfg(&cfg);
	tconf_new_out(&c, &cfg, 8, codec, amp, outc);
	for (t = 0; t < 40; t++) {
		tconf_tick(&c);
		CHECK(c.out.n == 6 && c.out.n_speakers == 3);
		for (k = 0; k < 3 && k < c.out.n; k++) {
			CHECK(c.out.pkt[k].speaker == 0);
			CHECK(c.out.pkt[k].codec == (enum media_mix_codec)k);
			CHECK(c.out.pkt[k].ssrc == class_ssrc[k]);
			CHECK(c.out.pkt[k].to.n == class_n[k]);
			for (i = 0; i < c.out.pkt[k].to.n; i++)
				CHECK(((struct tmember *)c.out.pkt[k]
					       .to.dest[i]
					       .leg)
					      ->out == (enum media_mix_codec)k);
		}
		for (k = 3; k < c.out.n; k++) {
			struct tmember *sp = c.out.pkt[k].to.dest[0].leg;

			CHECK(c.out.pkt[k].to.n == 1);
			CHECK(c.out.pkt[k].codec == sp->out);
		}
		/* one encryption per class: the same bytes within it */
		CHECK(c.m[4].last_len == c.m[5].last_len &&
		      !memcmp(c.m[4].last_pkt, c.m[5].last_pkt,
			      c.m[4].last_len));
		CHECK(c.m[6].last_len == c.m[7].last_len &&
		      !memcmp(c.m[6].last_pkt, c.m[7].last_pkt,
			      c.m[6].last_len));
		CHECK(c.m[3].last_len != c.m[6].last_len ||
		      memcmp(c.m[3].last_pkt, c.m[6].last_pkt,
			     c.m[3].last_len));
	}
	for (i = 3; i < 8; i++) { /* listeners: all three talkers */
		for (j = 0; j < 3; j++)
			CHECK(share_of(&c.m[i], &c.m[j]) > 0.15);
		CHECK(c.m[i].last_ssrc == class_ssrc[outc[i]]);
		CHECK(c.m[i].got == 40);
	}
	CHECK(c.m[3].last_pt == MEDIA_PT_PCMU);
	CHECK(c.m[4].last_pt == MEDIA_PT_PCMA);
	CHECK(c.m[6].last_pt == OPUS_PT);
	for (i = 0; i < 3; i++) { /* talkers: the others, in their codec */
		for (j = 0; j < 3; j++) {
			if (j == i)
				CHECK(share_of(&c.m[i], &c.m[j]) < 0.02);
			else
				CHECK(share_of(&c.m[i], &c.m[j]) > 0.2);
		}
		CHECK(c.m[i].got == 40);
	}
	CHECK(c.m[1].last_pt == MEDIA_PT_PCMA && c.m[2].last_pt == OPUS_PT);
	media_mix_stats(c.mx, &st);
	CHECK(st.out_common == 120 && st.out_n1 == 120);
	for (k = 0; k < 3; k++)
		CHECK(st.out_class[k] == 40);
	CHECK(st.srtp.tx == 240); /* 3 classes + 3 N-1 per tick */
	/* a class's member can change codec; one with no class is refused */
	CHECK_OK(media_mix_member_codec(c.mx, c.m[5].mid, MEDIA_MIX_PCMU));
	c.m[5].out = MEDIA_MIX_PCMU;
	tconf_tick(&c);
	CHECK(c.out.pkt[0].to.n == 2 && c.out.pkt[1].to.n == 1);
	CHECK(c.m[5].last_ssrc == SSRC_COMMON);
	CHECK(media_mix_member_codec(c.mx, 9999, MEDIA_MIX_PCMA) ==
	      CC_ERR_NOT_FOUND);
	tconf_free(&c);
	cfg.ssrc_pcma = 0;
	cfg.ssrc_opus = 0;
	CHECK_OK(media_mix_new(&c.mx, &cfg, owner_h, &c));
	CHECK(media_mix_member_add_codec(c.mx, 7, NULL, MEDIA_MIX_PCMA) ==
	      CC_ERR_UNSUPPORTED);
	CHECK(media_mix_member_add_codec(c.mx, 7, NULL, MEDIA_MIX_OPUS) ==
	      CC_ERR_UNSUPPORTED);
	media_mix_free(c.mx);
	cfg.ssrc_opus = SSRC_OPUS;
	cfg.opus_pt = 0;
	CHECK(media_mix_new(&c.mx, &cfg, owner_h, &c) == CC_ERR_INVAL);
	cfg.opus_pt = OPUS_PT;
	cfg.ssrc_pcma = SSRC_COMMON; /* not distinct */
	CHECK(media_mix_new(&c.mx, &cfg, owner_h, &c) == CC_ERR_INVAL);
}

int main(void)
{
	test_alaw();
	test_cfg();
	test_mix_n1();
	test_one_encryption_sockets();
	test_clipping();
	test_speaker_limit();
	test_hysteresis();
	test_codecs();
	test_bad_codec();
	test_auth_fail();
	test_late_overrun();
	test_epoch_switch();
	test_member_remove();
	test_roc_start();
	test_codec_classes();
	CHECK_DONE();
}
