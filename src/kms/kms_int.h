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
enum cc_err kms_refuse(struct kms *k, struct kms_req *r, enum cc_err why,
		       const char *reason, const struct mikey_diag *d);
/* Audit a success (outcome "issued" / "resolved"); sets r->audit_err. */
void kms_audit_ok(struct kms *k, struct kms_req *r, const char *outcome);
void kms_ticket_id(struct cc_slice ticket_data, size_t mac_len, char out[33]);
enum mikey_encr kms_encr_for(uint8_t prf);
void kms_slice_str(struct cc_slice s, char *out, size_t cap);

#endif
