/*
 * audio.c -- G.711 mu-law [ITU-T G.711 Table 2a, the segment formula] and
 * A-law [Table 1a], a phase-continuous tone generator, and a Goertzel tone
 * detector.
 */
#include <conclave/media.h>

#include <math.h>

#define ULAW_BIAS 0x84  /* 132: makes every segment start at a power of 2 */
#define ULAW_CLIP 32635 /* largest magnitude before the bias overflows */

uint8_t media_ulaw_encode(int16_t pcm)
{
	int v = pcm, sign = 0, exp = 7, mant;

	if (v < 0) {
		v = -v; /* -32768 becomes 32768, clipped below */
		sign = 0x80;
	}
	if (v > ULAW_CLIP)
		v = ULAW_CLIP;
	v += ULAW_BIAS;
	/* segment = position of the highest set bit among bits 14..7 */
	while (exp > 0 && !(v & (0x4000 >> (7 - exp))))
		exp--;
	mant = (v >> (exp + 3)) & 0x0f;
	return (uint8_t) ~(sign | exp << 4 | mant);
}

int16_t media_ulaw_decode(uint8_t ulaw)
{
	int u = ~ulaw & 0xff;
	int t = (((u & 0x0f) << 3) + ULAW_BIAS) << ((u & 0x70) >> 4);

	return (int16_t)((u & 0x80) ? ULAW_BIAS - t : t - ULAW_BIAS);
}

void media_ulaw_encode_buf(const int16_t *pcm, size_t n, uint8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = media_ulaw_encode(pcm[i]);
}

void media_ulaw_decode_buf(const uint8_t *in, size_t n, int16_t *pcm)
{
	size_t i;

	for (i = 0; i < n; i++)
		pcm[i] = media_ulaw_decode(in[i]);
}

/* ---- A-law [ITU-T G.711 Table 1a] -------------------------------------- */

/* Segment ends of the 13-bit magnitude: segment s holds up to 0x1f << s. */
static const int16_t alaw_seg_end[8] = { 0x1f,  0x3f,  0x7f,  0xff,
					 0x1ff, 0x3ff, 0x7ff, 0xfff };

uint8_t media_alaw_encode(int16_t pcm)
{
	int v = pcm >> 3, mask, seg;
	uint8_t a;

	if (v >= 0) {
		mask = 0xd5; /* sign bit set, even bits inverted */
	} else {
		mask = 0x55;
		v = -v - 1;
	}
	for (seg = 0; seg < 8 && v > alaw_seg_end[seg]; seg++)
		;
	if (seg >= 8)
		return (uint8_t)(0x7f ^ mask);
	a = (uint8_t)(seg << 4);
	a |= (uint8_t)((seg < 2 ? v >> 1 : v >> seg) & 0x0f);
	return (uint8_t)(a ^ mask);
}

int16_t media_alaw_decode(uint8_t alaw)
{
	int a = alaw ^ 0x55, t = (a & 0x0f) << 4, seg = (a & 0x70) >> 4;

	if (seg == 0)
		t += 8;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? t : -t);
}

void media_alaw_encode_buf(const int16_t *pcm, size_t n, uint8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = media_alaw_encode(pcm[i]);
}

/* ---- tones ------------------------------------------------------------ */

double media_tone_freq(unsigned i)
{
	/* 450, 600, ... 3300 Hz: 150 Hz apart, far from each other's
	 * Goertzel main lobe at n >= 400 (Hann: 4 bins = 80 Hz) */
	return 450.0 + 150.0 * (double)(i % 20);
}

void media_tone_init(struct media_tone *t, double freq_hz, double amp)
{
	t->freq = freq_hz;
	t->phase = 0;
	t->amp = amp > 32767 ? 32767 : amp;
}

void media_tone_pcm(struct media_tone *t, int16_t *out, size_t n)
{
	const double step = 2 * M_PI * t->freq / MEDIA_RATE;
	size_t i;

	for (i = 0; i < n; i++) {
		out[i] = (int16_t)lrint(t->amp * sin(t->phase));
		t->phase += step;
		if (t->phase >= 2 * M_PI)
			t->phase -= 2 * M_PI;
	}
}

void media_tone_pcmu_frame(struct media_tone *t, uint8_t out[MEDIA_FRAME])
{
	int16_t pcm[MEDIA_FRAME];

	media_tone_pcm(t, pcm, MEDIA_FRAME);
	media_ulaw_encode_buf(pcm, MEDIA_FRAME, out);
}

/* ---- Goertzel --------------------------------------------------------- */

static double hann(size_t i, size_t n)
{
	return n < 2 ? 1.0 :
		       0.5 - 0.5 * cos(2 * M_PI * (double)i / (double)(n - 1));
}

/* |X(f)|^2 of the Hann-windowed x; *wsum = sum of the window (its
 * coherent gain: a sine of amplitude a gives |X| = a * wsum / 2). */
static double goertzel(const int16_t *x, size_t n, double freq, double rate,
		       double *wsum)
{
	const double coeff = 2 * cos(2 * M_PI * freq / rate);
	double s0, s1 = 0, s2 = 0, w, sum = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		w = hann(i, n);
		sum += w;
		s0 = w * x[i] + coeff * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	*wsum = sum;
	return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

double media_goertzel(const int16_t *x, size_t n, double freq_hz,
		      double rate_hz)
{
	double wsum;

	return goertzel(x, n, freq_hz, rate_hz, &wsum);
}

size_t media_tone_detect(const int16_t *x, size_t n, const double *freqs,
			 size_t nf, double min_share,
			 struct media_tone_hit *hits)
{
	double ms = 0, p, wsum, a;
	size_t i, found = 0;

	for (i = 0; i < n; i++)
		ms += (double)x[i] * x[i];
	ms = n ? ms / (double)n : 0;
	for (i = 0; i < nf; i++) {
		p = goertzel(x, n, freqs[i], MEDIA_RATE, &wsum);
		a = wsum > 0 ? 2 * sqrt(p > 0 ? p : 0) / wsum : 0;
		hits[i].freq = freqs[i];
		hits[i].amplitude = a;
		/* a sine of peak a has mean square a^2 / 2 */
		hits[i].share = ms > 0 ? a * a / 2 / ms : 0;
		if (hits[i].share > 1)
			hits[i].share = 1;
		hits[i].present = ms > 0 && hits[i].share >= min_share;
		found += hits[i].present;
	}
	return found;
}
