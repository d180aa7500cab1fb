/*
 * b64.c -- base64 for SDP key-management attributes (RFC 4567 §3.1 uses
 * RFC 4648 base64 with padding).
 */
#include <conclave/base.h>

#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
			       "vwxyz0123456789+/";

enum cc_err cc_b64_encode(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	if (cap < 4 * ((n + 2) / 3) + 1)
		return CC_ERR_SPACE;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | p[i + 1] << 8 | p[i + 2];

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		out[o++] = alphabet[p[i] >> 2];
		out[o++] = alphabet[(p[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		out[o++] = alphabet[p[i] >> 2];
		out[o++] = alphabet[(p[i] & 3) << 4 | p[i + 1] >> 4];
		out[o++] = alphabet[(p[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	out[o] = '\0';
	return CC_OK;
}

static int b64val(char c)
{
	const char *q = c ? strchr(alphabet, c) : NULL;

	return q ? (int)(q - alphabet) : -1;
}

enum cc_err cc_b64_decode(const char *s, size_t slen, uint8_t *out, size_t cap,
			  size_t *outlen)
{
	uint32_t acc = 0;
	size_t i, got = 0, n = 0, pad = 0;

	for (i = 0; i < slen; i++) {
		char c = s[i];
		int v;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			v = 0;
		} else {
			if (pad)
				return CC_ERR_MALFORMED; /* data after '=' */
			v = b64val(c);
			if (v < 0)
				return CC_ERR_MALFORMED;
		}
		acc = acc << 6 | (uint32_t)v;
		if (++got % 4)
			continue;
		if (pad > 2)
			return CC_ERR_MALFORMED;
		if (n + 3 - pad > cap)
			return CC_ERR_SPACE;
		out[n++] = (uint8_t)(acc >> 16);
		if (pad < 2)
			out[n++] = (uint8_t)(acc >> 8);
		if (pad < 1)
			out[n++] = (uint8_t)acc;
		acc = 0;
	}
	if (got % 4)
		return CC_ERR_MALFORMED;
	*outlen = n;
	return CC_OK;
}
