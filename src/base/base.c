/*
 * base.c -- cursors, errors, constant-time compare, wipe.
 */
#include <conclave/base.h>

#include <openssl/crypto.h>
#include <string.h>

static const char *const err_text[CC_ERR__COUNT] = {
	[CC_OK] = "success",
	[CC_ERR_TRUNCATED] = "truncated",
	[CC_ERR_TRAILING] = "trailing bytes",
	[CC_ERR_MALFORMED] = "malformed",
	[CC_ERR_UNSUPPORTED] = "unsupported",
	[CC_ERR_ORDER] = "unexpected payload",
	[CC_ERR_MISSING] = "missing payload",
	[CC_ERR_SPACE] = "output buffer too small",
	[CC_ERR_INVAL] = "invalid argument",
	[CC_ERR_BAD_MAC] = "bad MAC",
	[CC_ERR_REPLAY] = "replay",
	[CC_ERR_STALE] = "stale timestamp",
	[CC_ERR_FUTURE] = "timestamp in the future",
	[CC_ERR_EXPIRED] = "expired",
	[CC_ERR_NOT_YET_VALID] = "not yet valid",
	[CC_ERR_NOT_AUTHORISED] = "not authorised",
	[CC_ERR_UNKNOWN_USER] = "unknown user",
	[CC_ERR_TICKET_TYPE] = "unsupported ticket type",
	[CC_ERR_POLICY] = "ticket policy not acceptable",
	[CC_ERR_CRYPTO] = "crypto library failure",
	[CC_ERR_NOMEM] = "out of memory",
	[CC_ERR_FULL] = "table full",
	[CC_ERR_NOT_FOUND] = "not found",
	[CC_ERR_STORE] = "storage failure",
};

const char *cc_strerror(enum cc_err err)
{
	if ((unsigned)err >= CC_ERR__COUNT || !err_text[err])
		return "unknown error";
	return err_text[err];
}

void cc_rd_init(struct cc_rd *rd, const uint8_t *p, size_t len)
{
	rd->p = p;
	rd->len = p ? len : 0;
	rd->pos = 0;
}

size_t cc_rd_left(const struct cc_rd *rd)
{
	return rd->len - rd->pos;
}

static enum cc_err rd_need(const struct cc_rd *rd, size_t n)
{
	return cc_rd_left(rd) < n ? CC_ERR_TRUNCATED : CC_OK;
}

enum cc_err cc_rd_u8(struct cc_rd *rd, uint8_t *v)
{
	if (rd_need(rd, 1))
		return CC_ERR_TRUNCATED;
	*v = rd->p[rd->pos++];
	return CC_OK;
}

enum cc_err cc_rd_u16(struct cc_rd *rd, uint16_t *v)
{
	if (rd_need(rd, 2))
		return CC_ERR_TRUNCATED;
	*v = (uint16_t)((rd->p[rd->pos] << 8) | rd->p[rd->pos + 1]);
	rd->pos += 2;
	return CC_OK;
}

enum cc_err cc_rd_u32(struct cc_rd *rd, uint32_t *v)
{
	const uint8_t *b;

	if (rd_need(rd, 4))
		return CC_ERR_TRUNCATED;
	b = rd->p + rd->pos;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
	     b[3];
	rd->pos += 4;
	return CC_OK;
}

enum cc_err cc_rd_u64(struct cc_rd *rd, uint64_t *v)
{
	uint32_t hi, lo;

	if (rd_need(rd, 8) || cc_rd_u32(rd, &hi) || cc_rd_u32(rd, &lo))
		return CC_ERR_TRUNCATED;
	*v = (uint64_t)hi << 32 | lo;
	return CC_OK;
}

enum cc_err cc_rd_slice(struct cc_rd *rd, size_t n, struct cc_slice *out)
{
	if (rd_need(rd, n))
		return CC_ERR_TRUNCATED;
	out->p = rd->p + rd->pos;
	out->len = n;
	rd->pos += n;
	return CC_OK;
}

enum cc_err cc_rd_copy(struct cc_rd *rd, void *dst, size_t n)
{
	if (rd_need(rd, n))
		return CC_ERR_TRUNCATED;
	if (n)
		memcpy(dst, rd->p + rd->pos, n);
	rd->pos += n;
	return CC_OK;
}

enum cc_err cc_rd_sub(struct cc_rd *rd, size_t n, struct cc_rd *sub)
{
	if (rd_need(rd, n))
		return CC_ERR_TRUNCATED;
	cc_rd_init(sub, rd->p + rd->pos, n);
	rd->pos += n;
	return CC_OK;
}

enum cc_err cc_rd_done(const struct cc_rd *rd)
{
	return cc_rd_left(rd) ? CC_ERR_TRAILING : CC_OK;
}

void cc_wr_init(struct cc_wr *wr, uint8_t *p, size_t cap)
{
	wr->p = p;
	wr->cap = p ? cap : 0;
	wr->pos = 0;
	wr->err = CC_OK;
}

static bool wr_room(struct cc_wr *wr, size_t n)
{
	if (wr->err)
		return false;
	if (wr->cap - wr->pos < n) {
		wr->err = CC_ERR_SPACE;
		return false;
	}
	return true;
}

void cc_wr_u8(struct cc_wr *wr, uint8_t v)
{
	if (wr_room(wr, 1))
		wr->p[wr->pos++] = v;
}

void cc_wr_u16(struct cc_wr *wr, uint16_t v)
{
	if (!wr_room(wr, 2))
		return;
	wr->p[wr->pos++] = (uint8_t)(v >> 8);
	wr->p[wr->pos++] = (uint8_t)v;
}

void cc_wr_u32(struct cc_wr *wr, uint32_t v)
{
	cc_wr_u16(wr, (uint16_t)(v >> 16));
	cc_wr_u16(wr, (uint16_t)v);
}

void cc_wr_u64(struct cc_wr *wr, uint64_t v)
{
	cc_wr_u32(wr, (uint32_t)(v >> 32));
	cc_wr_u32(wr, (uint32_t)v);
}

void cc_wr_bytes(struct cc_wr *wr, const void *src, size_t n)
{
	if (!n || !wr_room(wr, n))
		return;
	memcpy(wr->p + wr->pos, src, n);
	wr->pos += n;
}

size_t cc_wr_skip(struct cc_wr *wr, size_t n)
{
	size_t off = wr->pos;

	if (wr_room(wr, n)) {
		memset(wr->p + wr->pos, 0, n);
		wr->pos += n;
	}
	return off;
}

void cc_wr_put_u16_at(struct cc_wr *wr, size_t off, uint16_t v)
{
	if (wr->err || off + 2 > wr->pos)
		return;
	wr->p[off] = (uint8_t)(v >> 8);
	wr->p[off + 1] = (uint8_t)v;
}

void cc_wr_put_u8_at(struct cc_wr *wr, size_t off, uint8_t v)
{
	if (wr->err || off + 1 > wr->pos)
		return;
	wr->p[off] = v;
}

enum cc_err cc_wr_status(const struct cc_wr *wr)
{
	return wr->err;
}

bool cc_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void cc_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum cc_err cc_hex_decode(const char *hex, uint8_t *out, size_t cap,
			  size_t *outlen)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (*hex == ' ' || *hex == '\n' || *hex == '\t' ||
		    *hex == '\r' || *hex == ':')
			continue;
		v = hexval(*hex);
		if (v < 0)
			return CC_ERR_MALFORMED;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			return CC_ERR_SPACE;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		return CC_ERR_MALFORMED;
	*outlen = n;
	return CC_OK;
}

void cc_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}
