/*
 * keyed.h -- inside struct mikey_keyed (src/mikey only): the key set and
 * the state prepared from it by crypto.c (HMAC) and kemac_cipher.c (AES).
 */
#ifndef CONCLAVE_MIKEY_KEYED_H
#define CONCLAVE_MIKEY_KEYED_H

#include <conclave/mikey_crypto.h>

#include <openssl/evp.h>

struct mikey_hmac;

struct mikey_keyed {
	struct mikey_msg_keys k;
	struct mikey_hmac *mac; /* NULL for MIKEY_MAC_NULL */
	EVP_CIPHER_CTX *cm;     /* AES-CM key schedule; NULL otherwise */
};

enum cc_err mikey_keyed_mac_init(struct mikey_keyed *kd);
void mikey_keyed_mac_free(struct mikey_keyed *kd);
enum cc_err mikey_keyed_cipher_init(struct mikey_keyed *kd);
void mikey_keyed_cipher_free(struct mikey_keyed *kd);

#endif
