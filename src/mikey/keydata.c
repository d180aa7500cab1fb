/*
 * keydata.c -- Key data sub-payloads, the plaintext of a KEMAC
 * (RFC 3830 §6.13-6.14, RFC 6043 §6.2.1).
 */
#include <conclave/mikey.h>

#include <string.h>

static enum cc_err kfail(struct mikey_diag *d, enum cc_err err,
			 const char *field, size_t off)
{
	return mikey_diag_fail(d, err, "Key data", field, off);
}

#define KRD(call, field)                                                      \
	do {                                                                  \
		if (call)                                                     \
			return kfail(diag, CC_ERR_TRUNCATED, field, rd->pos); \
	} while (0)

static bool has_salt(uint8_t type)
{
	return type == MIKEY_KEY_TGK_SALT || type == MIKEY_KEY_TEK_SALT ||
	       type == MIKEY_KEY_GTGK_SALT;
}

static enum cc_err dec_len8(struct cc_rd *rd, struct cc_slice *s,
			    const char *field, struct mikey_diag *diag)
{
	uint8_t n;

	KRD(cc_rd_u8(rd, &n), field);
	KRD(cc_rd_slice(rd, n, s), field);
	return CC_OK;
}

static enum cc_err dec_kv(struct cc_rd *rd, struct mikey_key *k,
			  struct mikey_diag *diag)
{
	enum cc_err err;

	switch (k->kv) {
	case MIKEY_KV_NULL:
		return CC_OK;
	case MIKEY_KV_SPI:
		err = dec_len8(rd, &k->spi, "SPI", diag);
		if (!err && k->spi.len > MIKEY_MAX_SPI)
			return kfail(diag, CC_ERR_UNSUPPORTED, "SPI length",
				     rd->pos - k->spi.len - 1);
		return err;
	case MIKEY_KV_INTERVAL:
		err = dec_len8(rd, &k->vf, "valid from", diag);
		return err ? err : dec_len8(rd, &k->vt, "valid to", diag);
	default:
		return kfail(diag, CC_ERR_UNSUPPORTED, "KV", rd->pos);
	}
}

static enum cc_err dec_one(struct cc_rd *rd, struct mikey_key *k, uint8_t *next,
			   struct mikey_diag *diag)
{
	uint8_t b;
	uint16_t n;

	memset(k, 0, sizeof(*k));
	KRD(cc_rd_u8(rd, next), "next payload");
	if (*next != MIKEY_PT_LAST && *next != MIKEY_PT_KEYDATA)
		return kfail(diag, CC_ERR_MALFORMED, "next payload",
			     rd->pos - 1);
	KRD(cc_rd_u8(rd, &b), "type/KV");
	k->type = b >> 4;
	k->kv = b & 15;
	if (k->type > MIKEY_KEY_MPK)
		return kfail(diag, CC_ERR_UNSUPPORTED, "type", rd->pos - 1);
	KRD(cc_rd_u16(rd, &n), "key data len");
	if (n == 0 || n > MIKEY_MAX_KEY)
		return kfail(diag, n ? CC_ERR_UNSUPPORTED : CC_ERR_MALFORMED,
			     "key data len", rd->pos - 2);
	KRD(cc_rd_slice(rd, n, &k->key), "key data");
	if (has_salt(k->type)) {
		KRD(cc_rd_u16(rd, &n), "salt len");
		if (n == 0 || n > MIKEY_MAX_KEY)
			return kfail(diag,
				     n ? CC_ERR_UNSUPPORTED : CC_ERR_MALFORMED,
				     "salt len", rd->pos - 2);
		KRD(cc_rd_slice(rd, n, &k->salt), "salt data");
	}
	return dec_kv(rd, k, diag);
}

/*
 * KW-PAD (spec/ambiguities.md A28): at most 7 trailing zero bytes -- or,
 * when the sender had to pad a chain shorter than 16 bytes up to RFC 3394's
 * 16-byte minimum, everything after the chain up to those 16 bytes.
 */
static enum cc_err check_pad(const struct cc_rd *rd, bool allow_pad,
			     struct mikey_diag *diag)
{
	size_t i, left = cc_rd_left(rd);
	size_t most = rd->len == 16 ? 15 : 7;

	if (!left)
		return CC_OK;
	if (!allow_pad || left > most)
		return kfail(diag, CC_ERR_TRAILING, "bytes after last key",
			     rd->pos);
	for (i = rd->pos; i < rd->len; i++)
		if (rd->p[i])
			return kfail(diag, CC_ERR_MALFORMED, "KW padding", i);
	return CC_OK;
}

enum cc_err mikey_keys_decode(const uint8_t *buf, size_t len, bool allow_pad,
			      struct mikey_keys *keys, struct mikey_diag *diag)
{
	struct cc_rd rdv, *rd = &rdv;
	uint8_t next = MIKEY_PT_KEYDATA;
	enum cc_err err;

	cc_rd_init(rd, buf, len);
	keys->n = 0;
	/* RFC 3830 §6.2: an update may carry an empty KEMAC. */
	if (len == 0)
		return CC_OK;
	while (next == MIKEY_PT_KEYDATA) {
		if (keys->n == MIKEY_MAX_KEYS)
			return kfail(diag, CC_ERR_UNSUPPORTED, "key count",
				     rd->pos);
		err = dec_one(rd, &keys->k[keys->n], &next, diag);
		if (err)
			return err;
		keys->n++;
	}
	return check_pad(rd, allow_pad, diag);
}

static void enc_len8(struct cc_wr *wr, struct cc_slice s)
{
	cc_wr_u8(wr, (uint8_t)s.len);
	cc_wr_bytes(wr, s.p, s.len);
}

enum cc_err mikey_keys_encode(const struct mikey_keys *keys, struct cc_wr *wr)
{
	size_t i;

	for (i = 0; i < keys->n; i++) {
		const struct mikey_key *k = &keys->k[i];

		if (k->type > 15 || k->kv > 15 || k->key.len > 0xffff ||
		    k->spi.len > 255)
			return CC_ERR_INVAL;
		cc_wr_u8(wr, i + 1 < keys->n ? MIKEY_PT_KEYDATA : 0);
		cc_wr_u8(wr, (uint8_t)(k->type << 4 | k->kv));
		cc_wr_u16(wr, (uint16_t)k->key.len);
		cc_wr_bytes(wr, k->key.p, k->key.len);
		if (has_salt(k->type)) {
			cc_wr_u16(wr, (uint16_t)k->salt.len);
			cc_wr_bytes(wr, k->salt.p, k->salt.len);
		}
		if (k->kv == MIKEY_KV_SPI) {
			enc_len8(wr, k->spi);
		} else if (k->kv == MIKEY_KV_INTERVAL) {
			enc_len8(wr, k->vf);
			enc_len8(wr, k->vt);
		}
	}
	return cc_wr_status(wr);
}
