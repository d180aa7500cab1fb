/*
 * mix_tick.c -- the mixer's 20 ms tick (mix.h): take a frame per member,
 * select the speakers by energy with hysteresis, mix in int32 and clamp,
 * encode and protect: the common mix ONCE per codec class for every
 * listener of that class, and one N-1 mix per speaker in its own codec.
 */
#include "mix_int.h"

#include <string.h>

#ifdef CONCLAVE_HAVE_OPUS
#include <opus.h>
#endif

/* ---- levels ---------------------------------------------------------------- */

static uint64_t mean_square(const int16_t *x)
{
	uint64_t e = 0;
	size_t i;

	for (i = 0; i < MEDIA_FRAME; i++)
		e += (uint64_t)((int32_t)x[i] * x[i]);
	return e / MEDIA_FRAME;
}

/* Fast attack, slow release: a new voice counts at once, a pause of a
 * few hundred ms keeps its place (the release is 3/4 per tick). */
static uint64_t level_next(uint64_t level, uint64_t e)
{
	return e > level ? e : (3 * level + e) / 4;
}

/* Take this tick's frame of every active member and update its level.
 * Members with nothing queued, a level under the gate and no speaker
 * place leave the active set. */
static void take_frames(struct media_mix *mx)
{
	struct mix_member *m;
	size_t i = 0;

	while (i < mx->n_act) {
		m = mx->act[i];
		m->cur = NULL;
		if (m->q_n) {
			m->cur = m->q[m->q_head];
			m->q_head = (m->q_head + 1) % MEDIA_MIX_QUEUE;
			m->q_n--;
		}
		m->level =
			level_next(m->level, m->cur ? mean_square(m->cur) : 0);
		if (!m->cur && !m->q_n && m->place < 0 && m->level < mx->gate) {
			mix_deactivate(mx, i);
			continue; /* act[i] is now another member */
		}
		i++;
	}
}

/* ---- speaker selection ------------------------------------------------------ */

/* The loudest active member above the gate without a place, or NULL. */
static struct mix_member *best_candidate(const struct media_mix *mx)
{
	struct mix_member *best = NULL, *m;
	size_t i;

	for (i = 0; i < mx->n_act; i++) {
		m = mx->act[i];
		if (m->place < 0 && m->level >= mx->gate &&
		    (!best || m->level > best->level))
			best = m;
	}
	return best;
}

/* A free place, else the place of the weakest speaker (as -1 - place). */
static int free_or_weakest(const struct media_mix *mx)
{
	int p, weak = 0;

	for (p = 0; p < (int)mx->max_speakers; p++) {
		if (!mx->spk[p])
			return p;
		if (mx->spk[p]->level < mx->spk[weak]->level)
			weak = p;
	}
	return -1 - weak;
}

static void place_set(struct media_mix *mx, int p, struct mix_member *m)
{
	if (mx->spk[p])
		mx->spk[p]->place = -1;
	mx->spk[p] = m;
	if (m) {
		m->place = p;
		mx->st.speaker_changes++;
	}
}

/* Speakers under the gate leave; then the loudest others take free
 * places, or replace the weakest speaker when hyst_pct % louder. */
static void select_speakers(struct media_mix *mx)
{
	struct mix_member *c;
	size_t k;
	int p;

	for (p = 0; p < (int)mx->max_speakers; p++)
		if (mx->spk[p] && mx->spk[p]->level < mx->gate)
			place_set(mx, p, NULL);
	for (k = 0; k < mx->max_speakers; k++) {
		c = best_candidate(mx);
		if (!c)
			return;
		p = free_or_weakest(mx);
		if (p < 0) {
			p = -1 - p;
			if (c->level * 100 <= mx->spk[p]->level * mx->hyst_pct)
				return;
		}
		place_set(mx, p, c);
	}
}

/* Speakers first in dest[] (by place), so the rest is the listeners'
 * fan-out. Returns how many speakers there are. */
static size_t speakers_first(struct media_mix *mx, struct media_mix_out *out)
{
	size_t p, ns = 0;

	for (p = 0; p < mx->max_speakers; p++) {
		if (!mx->spk[p])
			continue;
		mix_swap(mx, ns, mx->spk[p]->at);
		out->speakers[ns++] = mx->spk[p]->mid;
	}
	out->n_speakers = ns;
	return ns;
}

/* ---- mixing ----------------------------------------------------------------- */

/* sum = the speakers' frames, in int32 (8 x 32768 cannot overflow). */
static void mix_sum(struct media_mix *mx)
{
	const int16_t *x;
	size_t p, i;

	memset(mx->sum, 0, sizeof(mx->sum));
	for (p = 0; p < mx->max_speakers; p++) {
		if (!mx->spk[p] || !(x = mx->spk[p]->cur))
			continue;
		for (i = 0; i < MEDIA_FRAME; i++)
			mx->sum[i] += x[i];
		mx->st.mixed++;
	}
}

static int16_t clamp16(int32_t v, uint64_t *clipped)
{
	if (v > INT16_MAX) {
		(*clipped)++;
		return INT16_MAX;
	}
	if (v < INT16_MIN) {
		(*clipped)++;
		return INT16_MIN;
	}
	return (int16_t)v;
}

/* mx->pcm = the mix without `own` (NULL: everyone), clamped. */
static void mix_pcm(struct media_mix *mx, const int16_t *own)
{
	size_t i;

	for (i = 0; i < MEDIA_FRAME; i++)
		mx->pcm[i] = clamp16(mx->sum[i] - (own ? own[i] : 0),
				     &mx->st.clipped);
}

static uint8_t codec_pt(const struct media_mix *mx, enum media_mix_codec c)
{
	return c == MEDIA_MIX_PCMA ? MEDIA_PT_PCMA :
	       c == MEDIA_MIX_OPUS ? mx->opus_pt :
				     MEDIA_PT_PCMU;
}

/* Encode mx->pcm in codec c into out (room for MEDIA_FRAME bytes); *n is
 * the payload's length. *enc is the stream's Opus encoder, made on first
 * use. */
static enum cc_err encode(struct media_mix *mx, enum media_mix_codec c,
			  struct OpusEncoder **enc, uint8_t *out, size_t *n)
{
	size_t i;

	if (c == MEDIA_MIX_OPUS) {
#ifdef CONCLAVE_HAVE_OPUS
		opus_int32 r;

		if (!*enc && !(*enc = mix_opus_encoder()))
			return CC_ERR_NOMEM;
		r = opus_encode(*enc, mx->pcm, MEDIA_FRAME, out, MEDIA_FRAME);
		if (r <= 0)
			return CC_ERR_UNSUPPORTED;
		*n = (size_t)r;
		return CC_OK;
#else
		(void)enc;
		return CC_ERR_UNSUPPORTED;
#endif
	}
	for (i = 0; i < MEDIA_FRAME; i++)
		out[i] = c == MEDIA_MIX_PCMA ? media_alaw_encode(mx->pcm[i]) :
					       media_ulaw_encode(mx->pcm[i]);
	*n = MEDIA_FRAME;
	return CC_OK;
}

/* ---- output ----------------------------------------------------------------- */

static void rtp_header(uint8_t *h, const struct mix_stream *s, uint8_t pt,
		       uint32_t ts)
{
	h[0] = 0x80; /* V=2 */
	h[1] = (uint8_t)((s->marker ? 0x80 : 0) | pt);
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
}

/* Encode mx->pcm in codec c and protect stream k into
 * mx->pkt[k], once, under the sending epoch; the packet goes into
 * out->pkt[out->n]. Opus's RTP clock is 48 kHz [RFC 7587 §4.1]: its
 * timestamp is 6 x the 8 kHz one (mod 2^32, so still +960 per tick). */
static enum cc_err emit(struct media_mix *mx, srtp_t tx, size_t k,
			enum media_mix_codec c, struct OpusEncoder **enc,
			struct media_mix_out *out)
{
	struct mix_stream *s = &mx->out[k];
	struct media_mix_pkt *op = &out->pkt[out->n];
	uint8_t *buf = (uint8_t *)mx->pkt[k];
	size_t pl = 0;
	int len;
	srtp_err_status_t st;
	enum cc_err err;

	rtp_header(buf, s, codec_pt(mx, c),
		   c == MEDIA_MIX_OPUS ? 6u * mx->ts : mx->ts);
	err = encode(mx, c, enc, buf + MEDIA_RTP_HDR_LEN, &pl);
	if (err)
		return err;
	len = (int)(MEDIA_RTP_HDR_LEN + pl);
	st = srtp_protect_mki(tx, buf, &len, 1, 0);
	if (st != srtp_err_status_ok)
		return media_srtp_err(st);
	mx->core.st.tx++;
	mx->core.ep[mx->send_slot].st.tx++;
	s->marker = false;
	s->used = true;
	if (++s->seq == 0) {
		s->roc++;
		s->roc_changed = true;
	}
	op->data = buf;
	op->len = (size_t)len;
	op->ssrc = s->ssrc;
	op->roc = s->roc;
	op->roc_changed = s->roc_changed;
	op->codec = c;
	s->roc_changed = false;
	out->n++;
	return CC_OK;
}

static enum media_mix_codec codec_at(const struct media_mix *mx, size_t i)
{
	return mx->mem[i]->codec;
}

/* The listeners (dest[ns..n)) grouped by codec class, PCMU, PCMA, Opus
 * (a three-way partition; already grouped costs no swaps); start[c] and
 * cnt[c] give each class's run. */
static void group_listeners(struct media_mix *mx, size_t ns,
			    size_t start[MEDIA_MIX_CODECS],
			    size_t cnt[MEDIA_MIX_CODECS])
{
	size_t lo = ns, mid = ns, hi = mx->n;

	while (mid < hi) {
		switch (codec_at(mx, mid)) {
		case MEDIA_MIX_PCMU:
			mix_swap(mx, lo++, mid++);
			break;
		case MEDIA_MIX_PCMA:
			mid++;
			break;
		default:
			while (hi - 1 > mid &&
			       codec_at(mx, hi - 1) == MEDIA_MIX_OPUS)
				hi--;
			mix_swap(mx, mid, --hi);
			break;
		}
	}
	start[MEDIA_MIX_PCMU] = ns;
	cnt[MEDIA_MIX_PCMU] = lo - ns;
	start[MEDIA_MIX_PCMA] = lo;
	cnt[MEDIA_MIX_PCMA] = hi - lo;
	start[MEDIA_MIX_OPUS] = hi;
	cnt[MEDIA_MIX_OPUS] = mx->n - hi;
}

/* The common mix, once per codec class, to every member of the class
 * that is not a speaker (classes without listeners: nothing). */
static enum cc_err emit_common(struct media_mix *mx, srtp_t tx, size_t ns,
			       struct media_mix_out *out)
{
	size_t start[MEDIA_MIX_CODECS], cnt[MEDIA_MIX_CODECS];
	struct media_mix_pkt *op;
	size_t c;
	enum cc_err err;

	if (mx->n <= ns)
		return CC_OK;
	group_listeners(mx, ns, start, cnt);
	mix_pcm(mx, NULL);
	for (c = 0; c < MEDIA_MIX_CODECS; c++) {
		if (!cnt[c])
			continue;
		op = &out->pkt[out->n];
		err = emit(mx, tx, MIX_CLASS_STREAM(c), (enum media_mix_codec)c,
			   &mx->enc_common, out);
		if (err)
			return err;
		op->speaker = 0;
		op->to.dest = mx->dest + start[c];
		op->to.n = cnt[c];
		op->to.skip = op->to.n;
		mx->st.out_common++;
		mx->st.out_class[c]++;
	}
	return CC_OK;
}

/* Each speaker's N-1 mix in its codec on its place's SSRC, to that
 * speaker alone. */
static enum cc_err emit_n1(struct media_mix *mx, srtp_t tx,
			   struct media_mix_out *out)
{
	struct mix_member *m;
	struct media_mix_pkt *op;
	size_t p;
	enum cc_err err;

	for (p = 0; p < mx->max_speakers; p++) {
		if (!(m = mx->spk[p]))
			continue;
		op = &out->pkt[out->n];
		mix_pcm(mx, m->cur);
		err = emit(mx, tx, 1 + p, m->codec, &m->enc, out);
		if (err)
			return err;
		op->speaker = m->mid;
		op->to.dest = &mx->dest[m->at];
		op->to.n = 1;
		op->to.skip = 1;
		mx->st.out_n1++;
	}
	return CC_OK;
}

/* A stream not sent this tick starts its next talkspurt with M=1
 * [RFC 3551 §4.1]. */
static void streams_idle(struct media_mix *mx)
{
	size_t k;

	for (k = 0; k < MIX_STREAMS; k++) {
		if (!mx->out[k].used)
			mx->out[k].marker = true;
		mx->out[k].used = false;
	}
}

enum cc_err media_mix_tick(struct media_mix *mx, struct media_mix_out *out)
{
	srtp_t tx = NULL;
	size_t ns;
	enum cc_err err;

	if (!mx || !out)
		return CC_ERR_INVAL;
	out->n = 0;
	mx->st.ticks++;
	take_frames(mx);
	select_speakers(mx);
	ns = speakers_first(mx, out);
	out->mki = media_mix_sending_mki(mx);
	err = mix_tx_session(mx, &tx);
	if (err) {
		if (err == CC_ERR_NOT_FOUND)
			mx->st.ticks_nokey++;
		goto out;
	}
	mix_sum(mx);
	err = emit_common(mx, tx, ns, out);
	if (!err)
		err = emit_n1(mx, tx, out);
out:
	streams_idle(mx);
	mx->ts += MEDIA_FRAME;
	return err;
}
