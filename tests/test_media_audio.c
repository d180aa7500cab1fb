/*
 * test_media_audio.c -- G.711 mu-law error bounds, tone generation and
 * Goertzel detection (the right tones, and not the others, in a mix), the
 * WAV header parsed back, and the RTP header parser's bounds.
 */
#include <conclave/media.h>

#include "check.h"

#include <math.h>
#include <unistd.h>

static void test_ulaw(void)
{
	long x, err, worst = 0;
	int u;
	int16_t d;

	/* every 16-bit sample: error within half a quantisation step,
	 * (|x| + 132) / 32 [G.711 segments], plus clipping above 32635 */
	for (x = -32768; x <= 32767; x++) {
		d = media_ulaw_decode(media_ulaw_encode((int16_t)x));
		err = labs(x - d);
		if (labs(x) <= 32635)
			CHECK(err <= (labs(x) + 132) / 32 + 1);
		else
			CHECK(labs(d) == 32124);
		if (labs(x) <= 32635 && err > worst)
			worst = err;
		if (x > 0 && d < 0)
			CHECK(0); /* the sign survives */
	}
	CHECK(worst <= 1024);
	/* decode then encode is the identity (except mu-law's two zeros) */
	for (u = 0; u < 256; u++) {
		d = media_ulaw_decode((uint8_t)u);
		if (u != 0x7f)
			CHECK(media_ulaw_encode(d) == u);
	}
	/* G.711 fixed points: 0xff = +0, 0x80 = +8031 (max), 0x00 = -8031
	 * (in 14-bit units, i.e. x4 in 16-bit PCM: 32124) */
	CHECK(media_ulaw_decode(0xff) == 0);
	CHECK(media_ulaw_decode(0x80) == 32124);
	CHECK(media_ulaw_decode(0x00) == -32124);
	CHECK(media_ulaw_encode(0) == 0xff);
}

static void test_tone_detect(void)
{
	enum {
		N = 800
	}; /* 100 ms: 10 Hz bins */
	double freqs[8];
	struct media_tone t[3];
	struct media_tone_hit hits[8];
	int16_t mix[N], part[N];
	uint8_t ulaw[MEDIA_FRAME];
	int16_t pcm[MEDIA_FRAME];
	const unsigned on[3] = { 0, 3, 6 };
	size_t i, j, k, found;

	for (i = 0; i < 8; i++)
		freqs[i] = media_tone_freq((unsigned)i);
	CHECK(freqs[0] >= 300 && freqs[7] <= 3400);
	CHECK(media_tone_freq(19) <= 3400);
	memset(mix, 0, sizeof(mix));
	for (k = 0; k < 3; k++) {
		media_tone_init(&t[k], freqs[on[k]], 6000);
		/* frame by frame through G.711, as it travels */
		for (i = 0; i < N; i += MEDIA_FRAME) {
			media_tone_pcmu_frame(&t[k], ulaw);
			media_ulaw_decode_buf(ulaw, MEDIA_FRAME, pcm);
			memcpy(part + i, pcm, sizeof(pcm));
		}
		for (i = 0; i < N; i++)
			mix[i] = (int16_t)(mix[i] + part[i]);
	}
	found = media_tone_detect(mix, N, freqs, 8, 0.05, hits);
	CHECK(found == 3);
	for (i = 0; i < 8; i++) {
		bool want = i == on[0] || i == on[1] || i == on[2];

		CHECK(hits[i].present == want);
		if (want) {
			CHECK(fabs(hits[i].amplitude - 6000) < 300);
			CHECK(hits[i].share > 0.25 && hits[i].share < 0.4);
		} else {
			CHECK(hits[i].share < 0.001);
		}
	}
	/* one tone alone, a single 20 ms frame: still the right one */
	media_tone_init(&t[0], freqs[5], 10000);
	media_tone_pcm(&t[0], pcm, MEDIA_FRAME);
	found = media_tone_detect(pcm, MEDIA_FRAME, freqs, 8, 0.05, hits);
	CHECK(found == 1 && hits[5].present);
	/* silence: nothing */
	memset(mix, 0, sizeof(mix));
	CHECK(media_tone_detect(mix, N, freqs, 8, 0.05, hits) == 0);
	/* the raw Goertzel power peaks at the tone */
	media_tone_init(&t[0], 1000, 8000);
	media_tone_pcm(&t[0], part, N);
	CHECK(media_goertzel(part, N, 1000, MEDIA_RATE) >
	      1000 * media_goertzel(part, N, 1200, MEDIA_RATE));
	for (j = 0; j < N; j++)
		CHECK(abs(part[j]) <= 8000);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void test_wav(void)
{
	char path[] = "/tmp/test_media_wavXXXXXX";
	struct media_wav *w;
	struct media_tone t;
	int16_t pcm[1000];
	uint8_t file[44 + 2 * 2000];
	size_t n, i;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	media_tone_init(&t, 440, 12000);
	media_tone_pcm(&t, pcm, 1000);
	CHECK_OK(media_wav_open(&w, path));
	CHECK_OK(media_wav_write(w, pcm, 1000));
	CHECK_OK(media_wav_write(w, pcm, 1000));
	CHECK_OK(media_wav_close(w));
	f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return;
	n = fread(file, 1, sizeof(file) + 1, f);
	fclose(f);
	unlink(path);
	CHECK(n == sizeof(file));
	/* RIFF header, parsed back field by field */
	CHECK(memcmp(file, "RIFF", 4) == 0);
	CHECK(rd32(file + 4) == 36 + 4000);
	CHECK(memcmp(file + 8, "WAVEfmt ", 8) == 0);
	CHECK(rd32(file + 16) == 16);
	CHECK(rd16(file + 20) == 1);    /* PCM */
	CHECK(rd16(file + 22) == 1);    /* mono */
	CHECK(rd32(file + 24) == 8000); /* rate */
	CHECK(rd32(file + 28) == 16000);
	CHECK(rd16(file + 32) == 2);
	CHECK(rd16(file + 34) == 16);
	CHECK(memcmp(file + 36, "data", 4) == 0);
	CHECK(rd32(file + 40) == 4000);
	for (i = 0; i < 1000; i++) {
		CHECK((int16_t)rd16(file + 44 + 2 * i) == pcm[i]);
		CHECK((int16_t)rd16(file + 44 + 2000 + 2 * i) == pcm[i]);
	}
	CHECK_ERR(media_wav_open(&w, "/nonexistent-dir/x.wav"), CC_ERR_STORE);
}

static void test_rtp_parse(void)
{
	uint8_t p[64] = { 0x80, 0x80, 0x12, 0x34, 0,    0,
			  0,    160,  0xde, 0xad, 0xbe, 0xef };
	struct media_rtp r;
	uint32_t mki;
	size_t len;

	CHECK_OK(media_rtp_parse(p, 12, &r));
	CHECK(r.marker && r.pt == 0 && r.seq == 0x1234 && r.ts == 160 &&
	      r.ssrc == 0xdeadbeef && r.hdr_len == 12);
	for (len = 0; len < 12; len++)
		CHECK_ERR(media_rtp_parse(p, len, &r), CC_ERR_TRUNCATED);
	p[0] = 0x92; /* 2 CSRCs + extension of 1 word */
	CHECK_ERR(media_rtp_parse(p, 20, &r), CC_ERR_TRUNCATED);
	p[22] = 0;
	p[23] = 1;
	CHECK_ERR(media_rtp_parse(p, 27, &r), CC_ERR_TRUNCATED);
	CHECK_OK(media_rtp_parse(p, 28, &r));
	CHECK(r.hdr_len == 28);
	p[0] = 0x00;
	CHECK_ERR(media_rtp_parse(p, 28, &r), CC_ERR_MALFORMED);
	/* MKI placement per profile */
	memset(p, 0, sizeof(p));
	p[40] = 0x80;
	p[43] = 7;
	CHECK_OK(media_srtp_mki(MEDIA_AES_CM_128_HMAC_SHA1_80, p, 54, &mki));
	CHECK(mki == 0x80000007u);
	CHECK_OK(media_srtp_mki(MEDIA_AEAD_AES_128_GCM, p, 44, &mki));
	CHECK(mki == 0x80000007u);
	CHECK_ERR(media_srtp_mki(MEDIA_AEAD_AES_128_GCM, p, 31, &mki),
		  CC_ERR_TRUNCATED);
}

int main(void)
{
	test_ulaw();
	test_tone_detect();
	test_wav();
	test_rtp_parse();
	if (check_failures) {
		fprintf(stderr, "%d check(s) failed\n", check_failures);
		return 1;
	}
	printf("test_media_audio: all checks passed\n");
	return 0;
}
