/*
 * kemac_cipher.c -- KEMAC key-data encryption: the AES-CM IV of RFC 3830
 * §4.2.3, AES-CM-128/256 (RFC 3830 §4.2.3, RFC 6043 §6.2) and AES-KW-128
 * (RFC 3394 with IV = salt_key) with the KW-PAD zero padding of
 * spec/ambiguities.md A28.
 *
 * The key wrap is written out on AES-ECB so that an integrity failure
 * (CC_ERR_BAD_MAC) is told apart from a library failure (CC_ERR_CRYPTO)
 * and the recovered IV is compared in constant time.
 */
#include "keyed.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum {
	KW_BLOCK = 8,  /* RFC 3394 §2: 64-bit blocks */
	KW_MIN = 16,   /* n >= 2 blocks of plaintext */
	KW_ROUNDS = 6, /* j = 0..5, RFC 3394 §2.2.1 */
	AES_BLOCK = 16,
	IV_LEN = 16,
	SALT_LEN = 14, /* 112-bit AES-CM salt_key */
};

/* ---- algorithm cache ---------------------------------------------------- */

static pthread_once_t cipher_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes128_ctr;
static EVP_CIPHER *aes256_ctr;
static EVP_CIPHER *aes128_ecb;

static void cipher_fetch(void)
{
	aes128_ctr = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
	aes256_ctr = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
	aes128_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
}

static const EVP_CIPHER *cipher_get(enum mikey_encr alg)
{
	if (pthread_once(&cipher_once, cipher_fetch) != 0)
		return NULL;
	switch (alg) {
	case MIKEY_ENCR_AES_CM_128:
		return aes128_ctr;
	case MIKEY_ENCR_AES_CM_256:
		return aes256_ctr;
	case MIKEY_ENCR_AES_KW_128:
		return aes128_ecb;
	default:
		return NULL;
	}
}

/* ---- AES-CM (RFC 3830 §4.2.3; RFC 3711 §4.1.1) --------------------------- */

/* IV = (S XOR (0x0000 || CSB ID || T)) || 0x0000 */
void mikey_kemac_iv(const uint8_t salt[14], uint32_t csb_id, uint64_t t64,
		    uint8_t iv[16])
{
	int i;

	memcpy(iv, salt, SALT_LEN);
	iv[14] = 0;
	iv[15] = 0;
	for (i = 0; i < 4; i++)
		iv[2 + i] ^= (uint8_t)(csb_id >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		iv[6 + i] ^= (uint8_t)(t64 >> (56 - 8 * i));
}

/* Counter mode is its own inverse: out = in XOR AES-CTR keystream. */
static enum cc_err aes_cm(const struct mikey_msg_keys *keys, uint32_t csb_id,
			  uint64_t t64, const uint8_t *in, size_t len,
			  uint8_t *out)
{
	const EVP_CIPHER *c = cipher_get(keys->encr_alg);
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t iv[IV_LEN];
	enum cc_err err = CC_ERR_CRYPTO;
	int n1 = 0, n2 = 0;

	mikey_kemac_iv(keys->salt, csb_id, t64, iv);
	if (!c || len > INT32_MAX || !(ctx = EVP_CIPHER_CTX_new()))
		goto out;
	if (!EVP_EncryptInit_ex(ctx, c, NULL, keys->encr, iv) ||
	    !EVP_EncryptUpdate(ctx, out, &n1, in, (int)len) ||
	    !EVP_EncryptFinal_ex(ctx, out + n1, &n2) ||
	    (size_t)n1 + (size_t)n2 != len)
		goto out;
	err = CC_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	cc_wipe(iv, sizeof(iv));
	return err;
}

/* ---- AES-KW (RFC 3394 §2.2) ------------------------------------------------ */

/* One AES block through an ECB context (padding off). */
static bool aes_block(EVP_CIPHER_CTX *ctx, uint8_t b[AES_BLOCK])
{
	int n = 0;

	return EVP_CipherUpdate(ctx, b, &n, b, AES_BLOCK) && n == AES_BLOCK;
}

static EVP_CIPHER_CTX *kw_ctx(const struct mikey_msg_keys *keys, int enc)
{
	const EVP_CIPHER *c = cipher_get(MIKEY_ENCR_AES_KW_128);
	EVP_CIPHER_CTX *ctx;

	if (!c || !(ctx = EVP_CIPHER_CTX_new()))
		return NULL;
	if (!EVP_CipherInit_ex(ctx, c, NULL, keys->encr, NULL, enc) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0)) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* A ^= t, t as a 64-bit big-endian integer (RFC 3394 §2.2.1 step 2). */
static void kw_xor_t(uint8_t a[KW_BLOCK], uint64_t t)
{
	int i;

	for (i = 0; i < KW_BLOCK; i++)
		a[i] ^= (uint8_t)(t >> (56 - 8 * i));
}

/*
 * Wrap in place: c[0..7] is A (set to the IV by the caller), c[8..] the
 * n plaintext blocks R[1..n]. RFC 3394 §2.2.1 (index based).
 */
static enum cc_err kw_wrap(const struct mikey_msg_keys *keys, uint8_t *c,
			   size_t n)
{
	EVP_CIPHER_CTX *ctx = kw_ctx(keys, 1);
	uint8_t b[AES_BLOCK];
	enum cc_err err = CC_ERR_CRYPTO;
	size_t i, j;

	if (!ctx)
		goto out;
	memcpy(b, c, KW_BLOCK);
	for (j = 0; j < KW_ROUNDS; j++) {
		for (i = 1; i <= n; i++) {
			memcpy(b + KW_BLOCK, c + KW_BLOCK * i, KW_BLOCK);
			if (!aes_block(ctx, b))
				goto out;
			kw_xor_t(b, (uint64_t)(n * j + i));
			memcpy(c + KW_BLOCK * i, b + KW_BLOCK, KW_BLOCK);
		}
	}
	memcpy(c, b, KW_BLOCK);
	err = CC_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	cc_wipe(b, sizeof(b));
	return err;
}

/*
 * Unwrap n blocks: a holds C[0] on entry and the recovered A on return,
 * r holds C[1..n] on entry and P[1..n] on return. RFC 3394 §2.2.2.
 */
static enum cc_err kw_unwrap(const struct mikey_msg_keys *keys,
			     uint8_t a[KW_BLOCK], uint8_t *r, size_t n)
{
	EVP_CIPHER_CTX *ctx = kw_ctx(keys, 0);
	uint8_t b[AES_BLOCK];
	enum cc_err err = CC_ERR_CRYPTO;
	size_t i, j;

	if (!ctx)
		goto out;
	memcpy(b, a, KW_BLOCK);
	for (j = KW_ROUNDS; j-- > 0;) {
		for (i = n; i >= 1; i--) {
			kw_xor_t(b, (uint64_t)(n * j + i));
			memcpy(b + KW_BLOCK, r + KW_BLOCK * (i - 1), KW_BLOCK);
			if (!aes_block(ctx, b))
				goto out;
			memcpy(r + KW_BLOCK * (i - 1), b + KW_BLOCK, KW_BLOCK);
		}
	}
	memcpy(a, b, KW_BLOCK);
	err = CC_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	cc_wipe(b, sizeof(b));
	return err;
}

/* KW-PAD length (A28): a multiple of 8, at least 16. */
static size_t kw_padded(size_t len)
{
	size_t p = (len + KW_BLOCK - 1) / KW_BLOCK * KW_BLOCK;

	return p < KW_MIN ? KW_MIN : p;
}

static enum cc_err kw_encrypt(const struct mikey_msg_keys *keys,
			      const uint8_t *in, size_t in_len, uint8_t *out,
			      size_t out_cap, size_t *out_len)
{
	size_t padded = kw_padded(in_len);
	enum cc_err err;

	if (out_cap < padded + KW_BLOCK)
		return CC_ERR_SPACE;
	memmove(out + KW_BLOCK, in, in_len);
	memset(out + KW_BLOCK + in_len, 0, padded - in_len);
	memcpy(out, keys->salt, KW_BLOCK); /* A[0] = salt_key (A28) */
	err = kw_wrap(keys, out, padded / KW_BLOCK);
	if (err) {
		cc_wipe(out, padded + KW_BLOCK);
		return err;
	}
	*out_len = padded + KW_BLOCK;
	return CC_OK;
}

static enum cc_err kw_decrypt(const struct mikey_msg_keys *keys,
			      const uint8_t *in, size_t in_len, uint8_t *out,
			      size_t out_cap, size_t *out_len)
{
	uint8_t a[KW_BLOCK];
	size_t plen;
	enum cc_err err;

	if (in_len % KW_BLOCK || in_len < KW_MIN + KW_BLOCK)
		return CC_ERR_MALFORMED; /* A28: length error */
	plen = in_len - KW_BLOCK;
	if (out_cap < plen)
		return CC_ERR_SPACE;
	memcpy(a, in, KW_BLOCK);
	memmove(out, in + KW_BLOCK, plen);
	err = kw_unwrap(keys, a, out, plen / KW_BLOCK);
	/* RFC 3394 §2.2.3: the recovered A must equal the IV. */
	if (!err && !cc_ct_equal(a, keys->salt, KW_BLOCK))
		err = CC_ERR_BAD_MAC;
	if (err)
		cc_wipe(out, plen);
	else
		*out_len = plen;
	cc_wipe(a, sizeof(a));
	return err;
}

/* ---- KEMAC entry points ------------------------------------------------- */

static enum cc_err kemac_check(const struct mikey_msg_keys *keys,
			       const uint8_t *in, size_t in_len,
			       const uint8_t *out, const size_t *out_len)
{
	if (!keys || !out || !out_len || (!in && in_len))
		return CC_ERR_INVAL;
	switch (keys->encr_alg) {
	case MIKEY_ENCR_NULL:
	case MIKEY_ENCR_AES_CM_128:
	case MIKEY_ENCR_AES_KW_128:
	case MIKEY_ENCR_AES_CM_256:
		return CC_OK;
	default:
		return CC_ERR_UNSUPPORTED;
	}
}

/* NULL and AES-CM keep the length. */
static enum cc_err kemac_same_len(const struct mikey_msg_keys *keys,
				  uint32_t csb_id, uint64_t t64,
				  const uint8_t *in, size_t in_len,
				  uint8_t *out, size_t out_cap, size_t *out_len)
{
	enum cc_err err = CC_OK;

	if (out_cap < in_len)
		return CC_ERR_SPACE;
	if (keys->encr_alg == MIKEY_ENCR_NULL)
		memmove(out, in, in_len);
	else
		err = aes_cm(keys, csb_id, t64, in, in_len, out);
	if (err) {
		cc_wipe(out, in_len);
		return err;
	}
	*out_len = in_len;
	return CC_OK;
}

enum cc_err mikey_kemac_encrypt(const struct mikey_msg_keys *keys,
				uint32_t csb_id, uint64_t t64,
				const uint8_t *in, size_t in_len, uint8_t *out,
				size_t out_cap, size_t *out_len)
{
	enum cc_err err = kemac_check(keys, in, in_len, out, out_len);

	if (err)
		return err;
	/* RFC 3830 §6.2: an update may carry a KEMAC with no keys; KW-PAD
	 * (A28) wraps at least one key, so only the counter modes allow it */
	if (!in_len && keys->encr_alg == MIKEY_ENCR_AES_KW_128)
		return CC_ERR_INVAL;
	if (!in_len) {
		*out_len = 0;
		return CC_OK;
	}
	if (keys->encr_alg == MIKEY_ENCR_AES_KW_128)
		return kw_encrypt(keys, in, in_len, out, out_cap, out_len);
	return kemac_same_len(keys, csb_id, t64, in, in_len, out, out_cap,
			      out_len);
}

enum cc_err mikey_kemac_decrypt(const struct mikey_msg_keys *keys,
				uint32_t csb_id, uint64_t t64,
				const uint8_t *in, size_t in_len, uint8_t *out,
				size_t out_cap, size_t *out_len)
{
	enum cc_err err = kemac_check(keys, in, in_len, out, out_len);

	if (err)
		return err;
	if (keys->encr_alg == MIKEY_ENCR_AES_KW_128)
		return kw_decrypt(keys, in, in_len, out, out_cap, out_len);
	if (!in_len) {
		*out_len = 0; /* RFC 3830 §6.2: an empty KEMAC */
		return CC_OK;
	}
	return kemac_same_len(keys, csb_id, t64, in, in_len, out, out_cap,
			      out_len);
}

/* ---- prepared key sets (keyed.h) ------------------------------------------ */

/* AES-CM: key the counter-mode context once; each message sets its IV. */
enum cc_err mikey_keyed_cipher_init(struct mikey_keyed *kd)
{
	const EVP_CIPHER *c;

	if (kd->k.encr_alg != MIKEY_ENCR_AES_CM_128 &&
	    kd->k.encr_alg != MIKEY_ENCR_AES_CM_256)
		return CC_OK;
	c = cipher_get(kd->k.encr_alg);
	kd->cm = EVP_CIPHER_CTX_new();
	if (!c || !kd->cm)
		return CC_ERR_CRYPTO;
	if (!EVP_EncryptInit_ex(kd->cm, c, NULL, kd->k.encr, NULL))
		return CC_ERR_CRYPTO;
	return CC_OK;
}

void mikey_keyed_cipher_free(struct mikey_keyed *kd)
{
	EVP_CIPHER_CTX_free(kd->cm); /* cleanses the key schedule */
	kd->cm = NULL;
}

static enum cc_err keyed_cm(struct mikey_keyed *kd, uint32_t csb_id,
			    uint64_t t64, const uint8_t *in, size_t len,
			    uint8_t *out)
{
	uint8_t iv[IV_LEN];
	enum cc_err err = CC_ERR_CRYPTO;
	int n1 = 0, n2 = 0;

	mikey_kemac_iv(kd->k.salt, csb_id, t64, iv);
	if (len > INT32_MAX)
		goto out;
	if (!EVP_EncryptInit_ex(kd->cm, NULL, NULL, NULL, iv) ||
	    !EVP_EncryptUpdate(kd->cm, out, &n1, in, (int)len) ||
	    !EVP_EncryptFinal_ex(kd->cm, out + n1, &n2) ||
	    (size_t)n1 + (size_t)n2 != len)
		goto out;
	err = CC_OK;
out:
	if (err)
		cc_wipe(out, len);
	cc_wipe(iv, sizeof(iv));
	return err;
}

enum cc_err mikey_keyed_kemac_crypt(struct mikey_keyed *kd, bool encrypt,
				    uint32_t csb_id, uint64_t t64,
				    const uint8_t *in, size_t in_len,
				    uint8_t *out, size_t out_cap,
				    size_t *out_len)
{
	if (!kd)
		return CC_ERR_INVAL;
	if (!kd->cm || !in_len) /* NULL, AES-KW, empty: the plain path */
		return encrypt ? mikey_kemac_encrypt(&kd->k, csb_id, t64, in,
						     in_len, out, out_cap,
						     out_len) :
				 mikey_kemac_decrypt(&kd->k, csb_id, t64, in,
						     in_len, out, out_cap,
						     out_len);
	if (!in || !out || !out_len)
		return CC_ERR_INVAL;
	if (out_cap < in_len)
		return CC_ERR_SPACE;
	*out_len = in_len;
	return keyed_cm(kd, csb_id, t64, in, in_len, out);
}
