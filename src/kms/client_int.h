/*
 * client_int.h -- helpers shared by src/kms/client*.c (the KMS client's
 * message logic). Not installed; nothing outside src/kms includes it.
 */
#ifndef CONCLAVE_KMS_CLIENT_INT_H
#define CONCLAVE_KMS_CLIENT_INT_H

#include <conclave/kmsc.h>

/* The profile (spec/3gpp-kms-conferencing.md §4.2): MIKEY-1 PRF,
 * AES-CM-128 KEMACs, HMAC-SHA-1-160 MACs, mode 1 with key forking. */
#define KC_PRF MIKEY_PRF_MIKEY1
#define KC_ENCR MIKEY_ENCR_AES_CM_128
#define KC_MAC MIKEY_MAC_HMAC_SHA1_160
enum {
	KC_FLAGS_BASE = MIKEY_TPF_D | MIKEY_TPF_E | MIKEY_TPF_F | MIKEY_TPF_H |
			MIKEY_TPF_I | MIKEY_TPF_N | MIKEY_TPF_O,
};

/* The readable part of a Ticket Policy (TP Data, RFC 6043 §6.10). */
struct kc_policy {
	char initiator[KMSC_MAX_ID];
	char kms[KMSC_MAX_ID];
	char responders[KMSC_MAX_RESPONDERS][KMSC_MAX_ID];
	size_t nresponders;
	int64_t valid_from, valid_to;
};

enum cc_err kc_fail(struct kmsc_status *st, enum cc_err err,
		    const struct mikey_diag *d, const char *what);
void kc_status_ok(struct kmsc_status *st);
uint32_t kc_skew(const struct kmsc_env *env);
uint64_t kc_now_ntp(const struct kmsc_env *env);
CC_MUST_USE enum cc_err kc_rand(const struct kmsc_env *env, uint8_t *p,
				size_t n);
CC_MUST_USE enum cc_err kc_copy_id(char dst[KMSC_MAX_ID], struct cc_slice s);
bool kc_id_eq(const char *s, struct cc_slice id);

/* A MIKEY Error message -> the typed status; CC_OK if msg is not one. */
CC_MUST_USE enum cc_err kc_error_msg(const struct mikey_msg *m,
				     struct kmsc_status *st);

/* Open m's KEMAC with k and add its session keys to the CSB (an MPK
 * there is malformed). */
CC_MUST_USE enum cc_err kc_kemac_collect(struct kmsc_csb *c,
					 const struct mikey_msg *m,
					 const struct mikey_msg_keys *k,
					 struct mikey_diag *diag);

CC_MUST_USE enum cc_err kc_key_copy(struct kmsc_key *dst,
				    const struct mikey_key *src);
void kc_key_view(struct mikey_key *dst, const struct kmsc_key *src);
bool kc_is_tgk(uint8_t type);

/* Ticket type/subtype/version and flags (CC_ERR_TICKET_TYPE/POLICY). */
CC_MUST_USE enum cc_err kc_check_ticket(const struct mikey_pl_ticket *t,
					struct mikey_diag *diag);
CC_MUST_USE enum cc_err kc_policy_parse(const struct mikey_pl_ticket *t,
					struct kc_policy *p,
					struct mikey_diag *diag);
CC_MUST_USE enum cc_err kc_validity(const struct kc_policy *p, int64_t now,
				    uint32_t skew);
/* Rebuild the TICKET payload fields over a stored raw copy. */
CC_MUST_USE enum cc_err kc_ticket_from_raw(const uint8_t *raw, size_t len,
					   struct mikey_pl_ticket *t);

/* Message keys of the profile for a message whose V says mac. */
enum mikey_encr kc_encr_for(enum mikey_mac mac);

/* TEKs for every CS of the final map (RFC 6043 §5.1.3). */
CC_MUST_USE enum cc_err kc_derive_teks(struct kmsc_csb *c,
				       const struct mikey_msg *resp,
				       const struct mikey_msg *init,
				       struct mikey_diag *diag);
/* Prepare c->update from keys. */
CC_MUST_USE enum cc_err kc_prepare_update(struct kmsc_csb *c,
					  const struct mikey_msg_keys *k);

#endif
