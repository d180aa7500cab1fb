/*
 * kms_int.h -- inside the KMS core (src/kms only).
 */
#ifndef CONCLAVE_KMS_INT_H
#define CONCLAVE_KMS_INT_H

#include <conclave/kms.h>

struct kms {
	struct kms_config cfg;
	char identity[KMS_MAX_NAME];
	struct kms_store *st;
	kms_rand_h *rand;
	void *rand_arg;
	struct mikey_replay *replay;
	bool batch; /* a transaction spans several requests */
};

/* One request in flight. */
struct kms_req {
	const uint8_t *buf;
	size_t len;
	int64_t now;
	enum kms_op op;
	struct mikey_msg msg;
	struct mikey_diag diag;
	bool hdr_ok;
	struct kms_user user; /* authenticated requester (secret psk) */
	bool self_factory;    /* its claimed identity is a factory URI */
	/* user_by_identity of the claimed identity, once per request */
	bool self_looked_up;
	enum cc_err self_err;       /* of that lookup */
	struct kms_user self_owner; /* its result (no PSK) if CC_OK */
	char initiator[KMS_MAX_NAME];
	char peer[KMS_MAX_NAME];
	struct kms_result *res;
	struct cc_wr *resp;
	size_t resp_start;
	enum cc_err audit_err;
};

enum cc_err kms_request(struct kms *k, struct kms_req *r);
enum cc_err kms_resolve(struct kms *k, struct kms_req *r);
enum cc_err kms_authenticate(struct kms *k, struct kms_req *r,
			     uint8_t self_role, const char **reason);
enum cc_err kms_commit(struct kms *k, struct kms_req *r);
/* The user owning the request's claimed identity (user_by_identity, once
 * per request: later calls return the first answer). */
enum cc_err kms_self_owner(struct kms *k, struct kms_req *r, struct cc_slice id,
			   const struct kms_user **u);
/* Policies between two users read along with one of them, if the store
 * can (known); else kms_session_denied / kms_may_create ask it. */
struct kms_policy {
	bool known;
	bool denied;     /* session_denied(from, to) */
	bool may_create; /* may_create_conference(from, to) */
};
/* user_by_identity(id, u), with the policies from other to u (inbound)
 * or from u to other when the store reads them in the same call. */
enum cc_err kms_user_with_policy(struct kms *k, struct cc_slice id,
				 int64_t other, bool inbound,
				 struct kms_user *u, struct kms_policy *pol);
enum cc_err kms_session_denied(struct kms *k, const struct kms_policy *pol,
			       int64_t from, int64_t to, bool *denied);
enum cc_err kms_may_create(struct kms *k, const struct kms_policy *pol,
			   int64_t creator, int64_t factory, bool *allowed);
enum cc_err kms_refuse(struct kms *k, struct kms_req *r, enum cc_err why,
		       const char *reason, const struct mikey_diag *d);
/* Audit a success (outcome "issued" / "resolved"); sets r->audit_err. */
void kms_audit_ok(struct kms *k, struct kms_req *r, const char *outcome);
void kms_ticket_id(struct cc_slice ticket_data, size_t mac_len, char out[33]);
enum mikey_encr kms_encr_for(uint8_t prf);
void kms_slice_str(struct cc_slice s, char *out, size_t cap);

#endif
