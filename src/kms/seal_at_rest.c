/*
 * seal_at_rest.c -- secrets at rest (kms_store.h): AES-256-GCM under the
 * master key, a fresh random 96-bit nonce per value (NIST SP 800-38D
 * 8.2.2; values are written rarely, so random nonces stay far below the
 * 2^32 limit), stored as nonce || ciphertext || tag.
 *
 * The AAD is "conclave-kms/1 <label>:<name>" (label "psk" + user name,
 * "tpk" + key id, "meta" + key), so a value copied into another row, or
 * another column, fails its tag check like a wrong key does.
 */
#include "store_sqlite_int.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <pthread.h>
#include <string.h>

/* Fetched once: EVP_aes_256_gcm() makes OpenSSL 3 look the cipher up by
 * name on every init, which the KMS would pay on every PSK it reads. */
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *gcm;

static void gcm_fetch(void)
{
	gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

static const EVP_CIPHER *gcm_get(void)
{
	return pthread_once(&gcm_once, gcm_fetch) ? NULL : gcm;
}

static const char aad_prefix[] = "conclave-kms/1 ";

enum cc_err kdb_random(uint8_t *p, size_t n)
{
	if (n > 0x7fffffff || RAND_bytes(p, (int)n) != 1)
		return CC_ERR_CRYPTO;
	return CC_OK;
}

static int aad_add(EVP_CIPHER_CTX *ctx, const char *label, const char *name)
{
	int outl;

	return EVP_CipherUpdate(ctx, NULL, &outl, (const uint8_t *)aad_prefix,
				(int)strlen(aad_prefix)) == 1 &&
	       EVP_CipherUpdate(ctx, NULL, &outl, (const uint8_t *)label,
				(int)strlen(label)) == 1 &&
	       EVP_CipherUpdate(ctx, NULL, &outl, (const uint8_t *)":", 1) ==
		       1 &&
	       EVP_CipherUpdate(ctx, NULL, &outl, (const uint8_t *)name,
				(int)strlen(name)) == 1;
}

static bool aad_ok(const char *label, const char *name)
{
	return strlen(label) < 64 && strlen(name) < KMS_MAX_NAME;
}

enum cc_err kdb_seal(const uint8_t key[KMS_MASTER_KEY_LEN], const char *label,
		     const char *name, const uint8_t *plain, size_t plain_len,
		     uint8_t *out, size_t *out_len)
{
	EVP_CIPHER_CTX *ctx;
	enum cc_err err = CC_ERR_CRYPTO;
	int n1, n2;

	if (plain_len > SEAL_MAX_PLAIN || !aad_ok(label, name))
		return CC_ERR_INVAL;
	if (kdb_random(out, SEAL_NONCE))
		return CC_ERR_CRYPTO;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return CC_ERR_NOMEM;
	if (!gcm_get() || EVP_EncryptInit_ex(ctx, gcm, NULL, key, out) != 1 ||
	    !aad_add(ctx, label, name) ||
	    EVP_EncryptUpdate(ctx, out + SEAL_NONCE, &n1, plain,
			      (int)plain_len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + SEAL_NONCE + n1, &n2) != 1 ||
	    (size_t)(n1 + n2) != plain_len ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG,
				out + SEAL_NONCE + plain_len) != 1)
		goto out;
	*out_len = plain_len + SEAL_OVERHEAD;
	err = CC_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	return err;
}

enum cc_err kdb_unseal(const uint8_t key[KMS_MASTER_KEY_LEN], const char *label,
		       const char *name, const uint8_t *sealed,
		       size_t sealed_len, uint8_t *plain, size_t cap,
		       size_t *plain_len)
{
	uint8_t tag[SEAL_TAG];
	EVP_CIPHER_CTX *ctx;
	enum cc_err err = CC_ERR_CRYPTO;
	size_t len;
	int n1, n2;

	if (!sealed || sealed_len < SEAL_OVERHEAD || !aad_ok(label, name))
		return CC_ERR_MALFORMED;
	len = sealed_len - SEAL_OVERHEAD;
	if (len > cap || len > SEAL_MAX_PLAIN)
		return CC_ERR_SPACE;
	memcpy(tag, sealed + SEAL_NONCE + len, SEAL_TAG);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return CC_ERR_NOMEM;
	if (!gcm_get() ||
	    EVP_DecryptInit_ex(ctx, gcm, NULL, key, sealed) != 1 ||
	    !aad_add(ctx, label, name) ||
	    EVP_DecryptUpdate(ctx, plain, &n1, sealed + SEAL_NONCE, (int)len) !=
		    1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG, tag) != 1)
		goto out;
	/* The tag is checked here (constant time inside OpenSSL). */
	if (EVP_DecryptFinal_ex(ctx, plain + n1, &n2) != 1) {
		cc_wipe(plain, len);
		err = CC_ERR_BAD_MAC;
		goto out;
	}
	*plain_len = len;
	err = CC_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	return err;
}
