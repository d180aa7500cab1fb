/*
 * ua_media.c -- the participant's media: one UDP socket for RTP, SRTP
 * under the group key chosen by MKI (media_member), a 20 ms sender (tone
 * or WAV) in --codec (PCMU, PCMA or Opus at 8 kHz, narrowband mono), and
 * per-source recording and tone detection (PCMU, PCMA and Opus decoded by
 * payload type).
 *
 * Epochs (DESIGN.md D7): a key from a TRANSFER_RESP or a CSB update is
 * installed for receiving at once. We send under the oldest epoch the
 * join gave us (the one the CS map names), and move to a newer one when
 * the first packet under it arrives from another member (someone's
 * switch means the focus switched) or --switch-after ms after the
 * update's offer/answer completed, whichever comes first; at once when
 * no other member has sent anything for a second (nobody to miss it). An old epoch is
 * retired --grace ms after we stopped sending under it and nothing
 * arrived under it for as long.
 */
#include <re.h>

#include "ua.h"

#include <conclave/mikey_wire.h>
#include <conclave/mix.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifdef CONCLAVE_HAVE_OPUS
#include <opus.h>
#endif

static struct {
	struct udp_sock *us;
	struct sa dst;
	struct tmr tx;
	uint64_t next_due; /* jiffies of the next frame */
	uint32_t ts;
	struct media_tone tone;
	int16_t *wav; /* --wav samples, looped */
	size_t wav_n, wav_pos;
	uint32_t pending; /* newest epoch not yet sent under */
	int64_t pending_at;
	void *enc; /* --codec opus: the libopus encoder */
} M;

/* ---- codecs ---------------------------------------------------------------- */

uint8_t ua_codec_pt(void)
{
	return U.o.codec == UA_CODEC_PCMA ? MEDIA_PT_PCMA :
	       U.o.codec == UA_CODEC_OPUS ? UA_OPUS_PT :
					    MEDIA_PT_PCMU;
}

void ua_sdp_audio(struct sipglue_media *a)
{
	(void)re_snprintf(a->fmt, sizeof(a->fmt), "%u",
			  (unsigned)ua_codec_pt());
	a->rtpmap[0] = '\0';
	if (U.o.codec == UA_CODEC_OPUS)
		(void)re_snprintf(a->rtpmap, sizeof(a->rtpmap),
				  "%u opus/48000/2", UA_OPUS_PT);
}

/* 20 ms of PCM in --codec into out (MEDIA_FRAME bytes of room); 0 if the
 * encoder failed. Opus: 8 kHz input, narrowband, VoIP, 16 kbit/s. */
static size_t encode(const int16_t *pcm, uint8_t *out)
{
	if (U.o.codec == UA_CODEC_PCMA) {
		media_alaw_encode_buf(pcm, MEDIA_FRAME, out);
		return MEDIA_FRAME;
	}
	if (U.o.codec != UA_CODEC_OPUS) {
		media_ulaw_encode_buf(pcm, MEDIA_FRAME, out);
		return MEDIA_FRAME;
	}
#ifdef CONCLAVE_HAVE_OPUS
	{
		int err = OPUS_OK;
		opus_int32 r;

		if (!M.enc) {
			M.enc = opus_encoder_create(
				MEDIA_RATE, 1, OPUS_APPLICATION_VOIP, &err);
			if (!M.enc || err != OPUS_OK)
				return 0;
			(void)opus_encoder_ctl(M.enc, OPUS_SET_BITRATE(16000));
		}
		r = opus_encode(M.enc, pcm, MEDIA_FRAME, out, MEDIA_FRAME);
		return r > 0 ? (size_t)r : 0;
	}
#else
	return 0;
#endif
}

/* Decode payload of type pt into pcm (cap samples); how many, 0 if not a
 * codec we know or undecodable. */
static size_t decode(struct ua_src *s, uint8_t pt, const uint8_t *p, size_t n,
		     int16_t *pcm, size_t cap)
{
	if (pt == MEDIA_PT_PCMU || pt == MEDIA_PT_PCMA) {
		if (n > cap)
			return 0;
		if (pt == MEDIA_PT_PCMU) {
			media_ulaw_decode_buf(p, n, pcm);
		} else {
			size_t i;

			for (i = 0; i < n; i++)
				pcm[i] = media_alaw_decode(p[i]);
		}
		return n;
	}
#ifdef CONCLAVE_HAVE_OPUS
	if (pt == UA_OPUS_PT && n) {
		int err = OPUS_OK, r;

		if (!s->opus) {
			s->opus = opus_decoder_create(MEDIA_RATE, 1, &err);
			if (!s->opus || err != OPUS_OK)
				return 0;
		}
		r = opus_decode(s->opus, p, (opus_int32)n, pcm, (int)cap, 0);
		return r > 0 ? (size_t)r : 0;
	}
#else
	(void)s;
#endif
	return 0;
}

/* ---- epochs ---------------------------------------------------------------- */

static struct ua_epoch *epoch_find(uint32_t mki)
{
	size_t i;

	for (i = 0; i < U.nep; i++)
		if (U.ep[i].mki == mki)
			return &U.ep[i];
	return NULL;
}

static void epoch_retire(struct ua_epoch *e, const char *why)
{
	if (!e->held || !U.mm)
		return;
	if (media_member_retire(U.mm, e->mki) != CC_OK)
		return;
	e->held = false;
	e->retired = ua_now();
	ua_keyexport_retire(e->mki, U.ssrc);
	ua_say("retire mki 0x%08x (%s)", e->mki, why);
}

static void epoch_switch(uint32_t mki, const char *why)
{
	struct ua_epoch *e = epoch_find(mki);
	enum cc_err err;

	if (!e || !e->held || mki == media_member_sending_mki(U.mm))
		return;
	err = media_member_switch(U.mm, mki);
	if (err) {
		ua_say("switch mki 0x%08x failed: %s", mki, cc_strerror(err));
		return;
	}
	e->send_from = ua_now();
	if (M.pending && M.pending <= mki)
		M.pending = 0;
	ua_say("switch mki 0x%08x (%s)", mki, why);
}

/* The oldest held epoch that we are not sending under (to make room). */
static struct ua_epoch *epoch_oldest_idle(void)
{
	uint32_t cur = U.mm ? media_member_sending_mki(U.mm) : 0;
	struct ua_epoch *best = NULL;
	size_t i;

	for (i = 0; i < U.nep; i++)
		if (U.ep[i].held && U.ep[i].mki != cur &&
		    (!best || U.ep[i].mki < best->mki))
			best = &U.ep[i];
	return best;
}

static enum cc_err epoch_install(const struct kmsc_key *k, uint32_t mki)
{
	struct media_key mk = { .mki = mki,
				.profile = U.profile,
				.tek = k->key,
				.tek_len = k->key_len,
				.salt = k->salt,
				.salt_len = k->salt_len };
	struct ua_epoch *e = epoch_find(mki), *old;
	enum cc_err err;

	if (e) /* held, or retired: keys never come back */
		return CC_OK;
	if (U.nep >= UA_MAX_EPOCHS)
		return CC_ERR_FULL;
	err = media_member_install(U.mm, &mk);
	if (err == CC_ERR_FULL && (old = epoch_oldest_idle()) != NULL) {
		epoch_retire(old, "room for a new epoch");
		err = media_member_install(U.mm, &mk);
	}
	if (err)
		return err;
	e = &U.ep[U.nep++];
	*e = (struct ua_epoch){ .mki = mki,
				.installed = ua_now(),
				.send_from = -1,
				.retired = -1,
				.last_rx = -1,
				.held = true };
	ua_keyexport_install(mki, U.profile, k->key, k->key_len, k->salt,
			     k->salt_len);
	ua_say("install mki 0x%08x", mki);
	return CC_OK;
}

static bool group_key(const struct kmsc_key *k, uint32_t *mki)
{
	if (k->spi_len != MEDIA_MKI_LEN || !(k->spi[0] & 0x80) ||
	    (k->type != MIKEY_KEY_TEK_SALT && k->type != MIKEY_KEY_TEK) ||
	    k->key_len != 16 || (k->salt_len != 14 && k->salt_len != 12))
		return false;
	*mki = (uint32_t)k->spi[0] << 24 | (uint32_t)k->spi[1] << 16 |
	       (uint32_t)k->spi[2] << 8 | k->spi[3];
	return true;
}

static enum cc_err sender_setup(const struct kmsc_csb *c, uint32_t first_mki)
{
	const struct kmsc_tek *t = kmsc_csb_tek(c, U.cs_own ? U.cs_own : 1);
	uint32_t mki = first_mki, roc = 0;
	uint16_t seq = 0;
	enum cc_err err;
	size_t i;

	if (t && t->has_ssrc)
		U.ssrc = t->ssrc; /* D6: the focus may have replaced ours */
	if (t && t->spi_len == MEDIA_MKI_LEN && (t->spi[0] & 0x80))
		mki = (uint32_t)t->spi[0] << 24 | (uint32_t)t->spi[1] << 16 |
		      (uint32_t)t->spi[2] << 8 | t->spi[3];
	if (t)
		roc = t->roc;
	if (U.o.roc_start > roc)
		roc = U.o.roc_start; /* test: a stream that wrapped before */
	/* every other SSRC of the map: its ROC, for a late joiner */
	for (i = 0; i < c->ntek; i++) {
		const struct kmsc_tek *o = &c->tek[i];

		if (!o->has_ssrc || o->ssrc == U.ssrc)
			continue;
		if (media_member_set_roc(U.mm, o->ssrc, o->roc))
			ua_say("roc for ssrc %08x not taken", o->ssrc);
		else if (o->roc)
			ua_say("stream %08x roc %u (CS map)", o->ssrc, o->roc);
	}
	if (U.o.seq_start >= 0)
		seq = (uint16_t)U.o.seq_start;
	else if (!(err = kmsc_rand_system((uint8_t *)&seq, sizeof(seq), NULL)))
		seq &= 0x7fff;
	else
		return err;
	err = media_member_sender(U.mm, U.ssrc, ua_codec_pt(), roc, seq);
	if (!err) {
		err = media_member_switch(U.mm, mki);
		if (!err && epoch_find(mki))
			epoch_find(mki)->send_from = ua_now();
	}
	return err;
}

enum cc_err ua_media_keys(const struct kmsc_csb *c, bool first)
{
	uint32_t mki, oldest = 0, newest = 0;
	enum cc_err err = CC_OK;
	size_t i;

	for (i = c->nticket_keys; !err && i < c->nkeys; i++) {
		if (!group_key(&c->keys[i], &mki))
			continue;
		if (!U.mm) {
			U.profile = c->keys[i].salt_len == 12 ?
					    MEDIA_AEAD_AES_128_GCM :
					    MEDIA_AES_CM_128_HMAC_SHA1_80;
			err = media_member_new(&U.mm, U.profile);
			if (err)
				break;
		}
		err = epoch_install(&c->keys[i], mki);
		if (!oldest || mki < oldest)
			oldest = mki;
		if (mki > newest)
			newest = mki;
	}
	if (!err && !oldest)
		return CC_ERR_MISSING; /* no group key */
	if (!err && first)
		err = sender_setup(c, oldest);
	if (!err && U.mm && newest > media_member_sending_mki(U.mm) &&
	    newest > M.pending) {
		M.pending = newest;
		M.pending_at = first ? ua_now() + U.o.switch_ms : -1;
	}
	return err;
}

/* Has another member sent anything in the last second? */
static bool others_active(void)
{
	size_t i;

	for (i = 0; i < U.nsrc; i++)
		if (U.src[i].ssrc != U.ssrc && ua_now() - U.src[i].last < 1000)
			return true;
	return false;
}

void ua_media_update_done(void)
{
	if (!M.pending)
		return;
	/* Nobody else speaks: nobody can miss our switch, and a later
	 * joiner gets only the newest epochs. Switch now. */
	if (!others_active()) {
		epoch_switch(M.pending, "offer/answer done, no one else "
					"active");
		return;
	}
	if (M.pending_at < 0)
		M.pending_at = ua_now() + U.o.switch_ms;
}

void ua_media_switch(uint32_t mki)
{
	if (!U.mm || mki <= media_member_sending_mki(U.mm))
		return;
	epoch_switch(mki, "the focus signalled it");
}

void ua_media_tick(void)
{
	uint32_t cur;
	int64_t now = ua_now();
	size_t i;

	if (!U.mm)
		return;
	if (M.pending && M.pending_at >= 0 && now >= M.pending_at)
		epoch_switch(M.pending, "switch-after elapsed");
	cur = media_member_sending_mki(U.mm);
	for (i = 0; i < U.nep; i++) {
		struct ua_epoch *e = &U.ep[i];
		struct ua_epoch *c = epoch_find(cur);

		if (!e->held || e->mki >= cur || !c || c->send_from < 0)
			continue;
		if (now - c->send_from >= U.o.grace_ms &&
		    (e->last_rx < 0 || now - e->last_rx >= U.o.grace_ms))
			epoch_retire(e, "grace over");
	}
}

/* ---- sending ---------------------------------------------------------------- */

/* The next 20 ms in --codec; its length (0: nothing to send). */
static size_t frame(uint8_t out[MEDIA_FRAME])
{
	int16_t pcm[MEDIA_FRAME];
	size_t i;

	if (!M.wav) {
		if (U.o.codec == UA_CODEC_PCMU) {
			media_tone_pcmu_frame(&M.tone, out);
			return MEDIA_FRAME;
		}
		media_tone_pcm(&M.tone, pcm, MEDIA_FRAME);
		return encode(pcm, out);
	}
	for (i = 0; i < MEDIA_FRAME; i++) {
		pcm[i] = M.wav[M.wav_pos++];
		if (M.wav_pos >= M.wav_n)
			M.wav_pos = 0;
	}
	return encode(pcm, out);
}

static void send_one(void)
{
	uint8_t pay[MEDIA_FRAME], pkt[MEDIA_PKT_MAX];
	struct ua_mki_stats *s;
	struct mbuf mb;
	size_t n = 0;
	uint32_t mki = media_member_sending_mki(U.mm);

	uint32_t ts = M.ts;
	size_t pl;

	pl = frame(pay);
	/* Opus's RTP clock is 48 kHz whatever the audio rate [RFC 7587] */
	M.ts += U.o.codec == UA_CODEC_OPUS ? 6 * MEDIA_FRAME : MEDIA_FRAME;
	if (!pl || media_member_send(U.mm, pay, pl, ts, U.tx == 0, pkt,
				     sizeof(pkt), &n) != CC_OK)
		return;
	memset(&mb, 0, sizeof(mb));
	mb.buf = pkt;
	mb.size = n;
	mb.end = n;
	if (udp_send(M.us, &M.dst, &mb))
		return;
	U.tx++;
	s = ua_mki_slot(U.mki, &U.nmki, mki);
	if (s)
		s->tx++;
}

static void tx_h(void *arg)
{
	uint64_t now = tmr_jiffies();
	int k = 0;

	(void)arg;
	if (U.leaving)
		return;
	while (M.next_due <= now && k++ < 5) {
		send_one();
		M.next_due += 20;
	}
	if (M.next_due + 100 < now) /* stalled: do not burst */
		M.next_due = now + 20;
	tmr_start(&M.tx, M.next_due > now ? M.next_due - now : 1, tx_h, NULL);
}

int ua_media_start(const char *addr, uint16_t port)
{
	int err = sa_set_str(&M.dst, addr, port);

	if (err)
		return err;
	U.media_to = true;
	(void)re_snprintf(U.media_addr, sizeof(U.media_addr), "%J", &M.dst);
	M.next_due = tmr_jiffies();
	if (kmsc_rand_system((uint8_t *)&M.ts, sizeof(M.ts), NULL) != CC_OK)
		M.ts = 0;
	tmr_start(&M.tx, 0, tx_h, NULL);
	return 0;
}

/* ---- receiving ------------------------------------------------------------ */

static struct ua_src *src_find(uint32_t ssrc)
{
	struct ua_src *s;
	size_t i;

	for (i = 0; i < U.nsrc; i++)
		if (U.src[i].ssrc == ssrc)
			return &U.src[i];
	if (U.nsrc >= UA_MAX_SRC)
		return NULL;
	s = &U.src[U.nsrc++];
	memset(s, 0, sizeof(*s));
	s->ssrc = ssrc;
	s->first = ua_now();
	s->pcm.cap = UA_DETECT_MAX;
	if (U.o.record) {
		(void)re_snprintf(s->wav_path, sizeof(s->wav_path),
				  "%s/ssrc-%08x.wav", U.o.record, ssrc);
		if (media_wav_open(&s->wav, s->wav_path) != CC_OK) {
			ua_say("cannot write %s", s->wav_path);
			s->wav = NULL;
			s->wav_path[0] = '\0';
		}
	}
	ua_say("source ssrc %08x", ssrc);
	return s;
}

static void pcm_add(struct ua_pcm *p, const int16_t *x, size_t n)
{
	if (p->n >= p->cap)
		return;
	if (!p->s) {
		p->s = malloc(p->cap * sizeof(*p->s));
		if (!p->s) {
			p->cap = 0;
			return;
		}
	}
	if (n > p->cap - p->n)
		n = p->cap - p->n;
	memcpy(p->s + p->n, x, n * sizeof(*x));
	p->n += n;
}

static void heard(const struct media_rx_payload *rp)
{
	struct ua_src *s = src_find(rp->info.rtp.ssrc);
	struct ua_src_mki *sm = NULL;
	int16_t pcm[MEDIA_PKT_MAX];
	size_t i, n = rp->payload_len;
	uint64_t idx;

	if (!s)
		return;
	idx = (uint64_t)rp->info.roc << 16 | rp->info.rtp.seq;
	if (!s->packets++) {
		s->roc_first = rp->info.roc;
		s->idx_first = s->idx_max = idx;
	}
	if (idx > s->idx_max)
		s->idx_max = idx;
	s->roc_last = rp->info.roc;
	s->last = ua_now();
	for (i = 0; i < s->nmki; i++)
		if (s->mki[i].mki == rp->info.mki)
			sm = &s->mki[i];
	if (!sm && s->nmki < UA_MAX_MKI) {
		sm = &s->mki[s->nmki++];
		memset(sm, 0, sizeof(*sm));
		sm->mki = rp->info.mki;
		sm->pcm.cap = UA_DETECT_EPOCH;
	}
	if (sm)
		sm->packets++;
	n = decode(s, rp->info.rtp.pt, rp->payload, n, pcm, MEDIA_PKT_MAX);
	if (!n)
		return;
	pcm_add(&s->pcm, pcm, n);
	if (sm)
		pcm_add(&sm->pcm, pcm, n);
	if (s->wav && media_wav_write(s->wav, pcm, n) != CC_OK)
		ua_say("write %s failed", s->wav_path);
}

static void rx_h(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct media_rx_payload rp;
	struct ua_mki_stats *s = NULL;
	struct ua_epoch *e;
	uint32_t mki = 0;
	enum cc_err err;

	(void)src;
	(void)arg;
	/* after our BYE we are out: packets still in flight to us are not
	 * counted (our keys may already be retired) */
	if (!U.mm || U.done || U.leaving)
		return;
	U.rx++;
	if (media_srtp_mki(U.profile, mbuf_buf(mb), mbuf_get_left(mb), &mki) !=
	    CC_OK) {
		U.rx_malformed++;
		U.rx_failed++;
		return;
	}
	s = ua_mki_slot(U.mki, &U.nmki, mki);
	if (s)
		s->rx++;
	err = media_member_unprotect(U.mm, mbuf_buf(mb), mbuf_get_left(mb),
				     &rp);
	if (err) {
		U.rx_failed++;
		if (err == CC_ERR_NOT_FOUND)
			U.rx_unknown_mki++;
		if (s)
			s->failed++;
		return;
	}
	U.rx_ok++;
	if (s)
		s->ok++;
	e = epoch_find(mki);
	if (e)
		e->last_rx = ua_now();
	heard(&rp);
	/* another member sends under the pending epoch: the focus switched */
	if (M.pending && mki >= M.pending && rp.info.rtp.ssrc != U.ssrc)
		epoch_switch(mki, "heard under it");
}

/* ---- set-up -------------------------------------------------------------- */

/* --wav: RIFF/WAVE, PCM 16-bit mono 8 kHz (what media_wav writes). */
static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static bool tag(const uint8_t *p, const char *t)
{
	return cc_ct_equal(p, t, 4);
}

static int wav_load(const char *path)
{
	uint8_t *b = NULL;
	long len;
	size_t off = 12, n;
	bool fmt_ok = false;
	int err = EINVAL;
	FILE *f = fopen(path, "rb");

	if (!f)
		return errno;
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 44 ||
	    len > 64L * 1024 * 1024 || fseek(f, 0, SEEK_SET))
		goto out;
	b = malloc((size_t)len);
	if (!b || fread(b, 1, (size_t)len, f) != (size_t)len)
		goto out;
	if (!tag(b, "RIFF") || !tag(b + 8, "WAVE"))
		goto out;
	while (off + 8 <= (size_t)len) {
		uint32_t cl = le32(b + off + 4);

		if (cl > (size_t)len - off - 8)
			break;
		if (tag(b + off, "fmt ") && cl >= 16)
			fmt_ok = b[off + 8] == 1 && b[off + 9] == 0 &&
				 b[off + 10] == 1 && b[off + 11] == 0 &&
				 le32(b + off + 12) == MEDIA_RATE &&
				 b[off + 22] == 16;
		if (tag(b + off, "data") && fmt_ok && cl >= 2 * MEDIA_FRAME) {
			n = cl / 2;
			M.wav = malloc(n * sizeof(*M.wav));
			if (!M.wav) {
				err = ENOMEM;
				goto out;
			}
			for (M.wav_n = 0; M.wav_n < n; M.wav_n++) {
				const uint8_t *q = b + off + 8 + 2 * M.wav_n;

				M.wav[M.wav_n] =
					(int16_t)(uint16_t)(q[0] | q[1] << 8);
			}
			err = 0;
			goto out;
		}
		off += 8 + cl + (cl & 1);
	}
out:
	free(b);
	fclose(f);
	return err;
}

/* A member-unique tone from the identity: FNV-1a onto the 20 steps. */
static double tone_for(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return media_tone_freq(h % UA_NFREQ);
}

int ua_media_open(const char *ip, uint16_t want, uint16_t *port)
{
	struct sa laddr;
	int err;

	if (U.o.wav_in) {
		err = wav_load(U.o.wav_in);
		if (err) {
			fprintf(stderr,
				"conclave ua: %s: not a PCM 16-bit mono "
				"8 kHz WAV file\n",
				U.o.wav_in);
			return err;
		}
	}
	U.tone_hz = U.o.tone > 0 ? U.o.tone : tone_for(U.cred.identity);
	media_tone_init(&M.tone, U.tone_hz, 8000.0);
	err = sa_set_str(&laddr, ip, want);
	if (!err)
		err = udp_listen(&M.us, &laddr, rx_h, NULL);
	if (!err)
		err = udp_local_get(M.us, &laddr);
	if (!err)
		*port = sa_port(&laddr);
	return err;
}

double ua_media_tone(void)
{
	return M.wav ? 0.0 : U.tone_hz;
}

void ua_media_stop(void)
{
	size_t i;

	tmr_cancel(&M.tx);
	for (i = 0; i < U.nsrc; i++)
		if (U.src[i].wav) {
			if (media_wav_close(U.src[i].wav) != CC_OK)
				ua_say("write %s failed", U.src[i].wav_path);
			U.src[i].wav = NULL;
		}
}

void ua_media_free(void)
{
	size_t i, j;

	ua_media_stop();
	M.us = mem_deref(M.us);
	media_member_free(U.mm);
	U.mm = NULL;
	for (i = 0; i < U.nsrc; i++) {
		free(U.src[i].pcm.s);
#ifdef CONCLAVE_HAVE_OPUS
		if (U.src[i].opus)
			opus_decoder_destroy(U.src[i].opus);
		U.src[i].opus = NULL;
#endif
		for (j = 0; j < U.src[i].nmki; j++)
			free(U.src[i].mki[j].pcm.s);
	}
	free(M.wav);
	M.wav = NULL;
#ifdef CONCLAVE_HAVE_OPUS
	if (M.enc)
		opus_encoder_destroy(M.enc);
#endif
	M.enc = NULL;
}
