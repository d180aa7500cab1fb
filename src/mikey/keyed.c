/*
 * keyed.c -- prepared key sets (see mikey_crypto.h): allocate, free.
 */
#include "keyed.h"

#include <stdlib.h>

enum cc_err mikey_keyed_alloc(struct mikey_keyed **kp,
			      const struct mikey_msg_keys *k)
{
	struct mikey_keyed *kd;
	enum cc_err err;

	if (!kp || !k)
		return CC_ERR_INVAL;
	kd = calloc(1, sizeof(*kd));
	if (!kd)
		return CC_ERR_NOMEM;
	kd->k = *k;
	err = mikey_keyed_mac_init(kd);
	if (!err)
		err = mikey_keyed_cipher_init(kd);
	if (err) {
		mikey_keyed_free(kd);
		return err;
	}
	*kp = kd;
	return CC_OK;
}

void mikey_keyed_free(struct mikey_keyed *kd)
{
	if (!kd)
		return;
	mikey_keyed_mac_free(kd);
	mikey_keyed_cipher_free(kd);
	mikey_msg_keys_wipe(&kd->k);
	free(kd);
}

const struct mikey_msg_keys *mikey_keyed_keys(const struct mikey_keyed *kd)
{
	return &kd->k;
}
