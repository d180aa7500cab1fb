/*
 * wav.c -- RIFF/WAVE writer: PCM (format 1), 16-bit, mono, MEDIA_RATE.
 * The header is written first with zero sizes and back-filled at close.
 */
#include <conclave/media.h>

#include <stdlib.h>

struct media_wav {
	FILE *f;
	uint32_t samples;
	bool failed;
};

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void tag4(uint8_t *p, const char *s)
{
	p[0] = (uint8_t)s[0];
	p[1] = (uint8_t)s[1];
	p[2] = (uint8_t)s[2];
	p[3] = (uint8_t)s[3];
}

void media_wav_header(uint8_t hdr[44], uint32_t n_samples)
{
	uint32_t data = n_samples * 2u;

	tag4(hdr, "RIFF");
	le32(hdr + 4, 36u + data);
	tag4(hdr + 8, "WAVE");
	tag4(hdr + 12, "fmt ");
	le32(hdr + 16, 16);             /* fmt chunk size */
	le16(hdr + 20, 1);              /* PCM */
	le16(hdr + 22, 1);              /* mono */
	le32(hdr + 24, MEDIA_RATE);     /* sample rate */
	le32(hdr + 28, MEDIA_RATE * 2); /* byte rate */
	le16(hdr + 32, 2);              /* block align */
	le16(hdr + 34, 16);             /* bits per sample */
	tag4(hdr + 36, "data");
	le32(hdr + 40, data);
}

enum cc_err media_wav_open(struct media_wav **wp, const char *path)
{
	struct media_wav *w;
	uint8_t hdr[44];

	if (!wp || !path)
		return CC_ERR_INVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return CC_ERR_NOMEM;
	w->f = fopen(path, "wb");
	if (!w->f) {
		free(w);
		return CC_ERR_STORE;
	}
	media_wav_header(hdr, 0);
	if (fwrite(hdr, 1, sizeof(hdr), w->f) != sizeof(hdr))
		w->failed = true;
	*wp = w;
	return CC_OK;
}

enum cc_err media_wav_write(struct media_wav *w, const int16_t *pcm, size_t n)
{
	uint8_t buf[512];
	size_t i, k;

	if (!w || (!pcm && n))
		return CC_ERR_INVAL;
	/* a WAV data chunk holds at most 2^32 - 37 bytes */
	if ((uint64_t)w->samples + n > (UINT32_MAX - 36u) / 2u)
		return CC_ERR_SPACE;
	for (i = 0; i < n; i += k) {
		for (k = 0; k < sizeof(buf) / 2 && i + k < n; k++)
			le16(buf + 2 * k, (uint16_t)pcm[i + k]);
		if (fwrite(buf, 2, k, w->f) != k) {
			w->failed = true;
			return CC_ERR_STORE;
		}
	}
	w->samples += (uint32_t)n;
	return CC_OK;
}

enum cc_err media_wav_close(struct media_wav *w)
{
	uint8_t hdr[44];
	bool failed;

	if (!w)
		return CC_ERR_INVAL;
	media_wav_header(hdr, w->samples);
	failed = w->failed;
	if (fseek(w->f, 0, SEEK_SET) != 0 ||
	    fwrite(hdr, 1, sizeof(hdr), w->f) != sizeof(hdr))
		failed = true;
	if (fclose(w->f) != 0)
		failed = true;
	free(w);
	return failed ? CC_ERR_STORE : CC_OK;
}
