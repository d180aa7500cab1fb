/*
 * srtp_policy.c -- SRTP policy parameters of the SP payload
 * (RFC 3830 §6.10.1, RFC 4771, RFC 7714 §12).
 */
#include <conclave/mikey.h>

#include <string.h>

static enum cc_err pfail(struct mikey_diag *d, enum cc_err err,
			 const char *field, size_t off)
{
	return mikey_diag_fail(d, err, "SP", field, off);
}

/* Allowed value lengths: most parameters are one byte; the key derivation
 * rate (A19) is an integer of up to 4 bytes. */
static bool len_ok(uint8_t type, uint8_t len)
{
	if (type == MIKEY_SRTP_KDR || type == MIKEY_SRTP_ROC_RATE)
		return len >= 1 && len <= 4;
	return len == 1;
}

enum cc_err mikey_srtp_policy_decode(struct cc_slice params,
				     struct mikey_srtp_policy *pol,
				     struct mikey_diag *diag)
{
	struct cc_rd rd;

	memset(pol, 0, sizeof(*pol));
	cc_rd_init(&rd, params.p, params.len);
	while (cc_rd_left(&rd)) {
		uint8_t type, len, b;
		size_t at = rd.pos;
		uint32_t v = 0;

		if (cc_rd_u8(&rd, &type) || cc_rd_u8(&rd, &len))
			return pfail(diag, CC_ERR_TRUNCATED, "param TLV", at);
		if (type >= MIKEY_SRTP_PARAM__COUNT)
			return pfail(diag, CC_ERR_UNSUPPORTED, "param type",
				     at);
		if (!len_ok(type, len))
			return pfail(diag, CC_ERR_MALFORMED, "param length",
				     at + 1);
		if (pol->present & (1u << type))
			return pfail(diag, CC_ERR_MALFORMED, "duplicate param",
				     at);
		while (len--) {
			if (cc_rd_u8(&rd, &b))
				return pfail(diag, CC_ERR_TRUNCATED,
					     "param value", rd.pos);
			v = v << 8 | b;
		}
		pol->present |= 1u << type;
		pol->val[type] = v;
		pol->vlen[type] = (uint8_t)(rd.pos - at - 2);
	}
	return CC_OK;
}

enum cc_err mikey_srtp_policy_encode(const struct mikey_srtp_policy *pol,
				     struct cc_wr *wr)
{
	unsigned t;

	for (t = 0; t < MIKEY_SRTP_PARAM__COUNT; t++) {
		uint8_t n;

		if (!(pol->present & (1u << t)))
			continue;
		n = pol->vlen[t] ? pol->vlen[t] : 1;
		if (!len_ok((uint8_t)t, n))
			return CC_ERR_INVAL;
		cc_wr_u8(wr, (uint8_t)t);
		cc_wr_u8(wr, n);
		while (n--)
			cc_wr_u8(wr, (uint8_t)(pol->val[t] >> (8 * n)));
	}
	return cc_wr_status(wr);
}

void mikey_srtp_policy_set(struct mikey_srtp_policy *pol, unsigned type,
			   uint32_t val, uint8_t vlen)
{
	if (type >= MIKEY_SRTP_PARAM__COUNT)
		return;
	pol->present |= 1u << type;
	pol->val[type] = val;
	pol->vlen[type] = vlen ? vlen : 1;
}

/* The SP of worked-examples §4.3: AES_CM_128_HMAC_SHA1_80. */
void mikey_srtp_policy_aes_cm_128_sha1_80(struct mikey_srtp_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	mikey_srtp_policy_set(pol, MIKEY_SRTP_ENCR_ALG, MIKEY_SRTP_ENCR_AES_CM,
			      1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_ENCR_KEY_LEN, 16, 1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_AUTH_ALG,
			      MIKEY_SRTP_AUTH_HMAC_SHA1, 1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_AUTH_KEY_LEN, 20, 1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_SALT_LEN, 14, 1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_PRF, 0, 1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_ENCR_ON, 1, 1);
	mikey_srtp_policy_set(pol, MIKEY_SRTCP_ENCR_ON, 1, 1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_AUTH_ON, 1, 1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_AUTH_TAG_LEN, 10, 1);
}

/* AEAD_AES_128_GCM (RFC 7714 §12, §14.1): 128-bit key, 96-bit salt,
 * 16-octet AEAD tag, no separate authentication. */
void mikey_srtp_policy_aes_128_gcm(struct mikey_srtp_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	mikey_srtp_policy_set(pol, MIKEY_SRTP_ENCR_ALG, MIKEY_SRTP_ENCR_AES_GCM,
			      1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_ENCR_KEY_LEN, 16, 1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_AUTH_ALG, MIKEY_SRTP_AUTH_NULL,
			      1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_SALT_LEN, 12, 1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_ENCR_ON, 1, 1);
	mikey_srtp_policy_set(pol, MIKEY_SRTCP_ENCR_ON, 1, 1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_AUTH_ON, 0, 1);
	mikey_srtp_policy_set(pol, MIKEY_SRTP_AEAD_TAG_LEN, 16, 1);
}
