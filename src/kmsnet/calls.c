/*
 * calls.c -- the KMS client's two round trips over HTTP(S), blocking
 * (issue 3 §5: request_ticket / resolve_ticket): the message logic of
 * src/kms/client*.c with kmsc_http_call_opts in between.
 */
#include <conclave/kmsc.h>

#include <stdlib.h>
#include <string.h>

enum cc_err kmsc_request_ticket(const struct kmsc_cred *cred,
				const struct kmsc_request_opts *o,
				const struct kmsc_env *env,
				const struct kmsc_http_opts *ho,
				struct kmsc_ticket *t, struct kmsc_status *st)
{
	struct kmsc_request *rq = calloc(1, sizeof(*rq));
	uint8_t resp[KMSC_MAX_MSG];
	size_t len = 0;
	enum cc_err err;

	if (!rq)
		return CC_ERR_NOMEM;
	err = kmsc_request_build(rq, cred, o, env);
	if (err) {
		if (st) {
			memset(st, 0, sizeof(*st));
			st->kind = KMSC_FAIL_LOCAL;
			st->err = err;
			st->mikey_err = -1;
		}
		goto out;
	}
	err = kmsc_http_call_opts(cred->kms_url, rq->msg, rq->len, resp,
				  sizeof(resp), &len, ho, st);
	if (!err)
		err = kmsc_request_open(rq, cred, resp, len, env, t, st);
out:
	free(rq);
	return err;
}

enum cc_err kmsc_resolve_ticket(struct kmsc_csb *c,
				const struct kmsc_responder *r,
				const uint8_t *xfer_init, size_t len,
				const struct kmsc_env *env,
				const struct kmsc_http_opts *ho,
				struct kmsc_status *st)
{
	uint8_t req[KMSC_MAX_MSG], resp[KMSC_MAX_MSG];
	size_t rlen = 0, n = 0;
	enum cc_err err;

	if (!r || !r->cred)
		return CC_ERR_INVAL;
	err = kmsc_resolve_init(c, r, xfer_init, len, env, req, sizeof(req),
				&rlen, st);
	if (!err)
		err = kmsc_http_call_opts(r->cred->kms_url, req, rlen, resp,
					  sizeof(resp), &n, ho, st);
	if (!err)
		return kmsc_resolve_open(c, r, resp, n, env, st);
	if (c->state == KMSC_CSB_RESOLVING) { /* the KMS never answered */
		kmsc_csb_free(c);
		c->role = KMSC_RESPONDER;
		c->state = KMSC_CSB_FAILED;
	}
	return err;
}
