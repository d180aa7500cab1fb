/*
 * bench_kms_pair.c -- `conclave bench kms`: the parties and one REQUEST
 * + RESOLVE pair, the store they are in, and the same pairs run
 * in-process through kms_handle() with no HTTP (the limit).
 */
#include "bench_kms.h"

#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the parties and one pair ------------------------------------------- */

void bench_kms_party_wire(struct bk_party *pt)
{
	pt->to[0] = pt->bob.identity;
	pt->ro.use = KMSC_CALL;
	pt->ro.responders = pt->to;
	pt->ro.nresponders = 1;
	pt->ssrc = 0x11223344;
	pt->xo.responder = pt->bob.identity;
	pt->xo.ssrc = &pt->ssrc;
	pt->xo.nmedia = 1;
	pt->rb.cred = &pt->bob;
}

void bench_kms_pair_clear(struct bk_pair *p)
{
	kmsc_csb_free(&p->ci);
	kmsc_csb_free(&p->cr);
	kmsc_ticket_wipe(&p->t);
}

/* Account for a failed step: st tells a MIKEY Error from our own. */
void bench_kms_count_fail(struct bk_stats *s, const struct kmsc_status *st)
{
	if (st->kind == KMSC_FAIL_MIKEY && st->mikey_err >= 0)
		s->err_mikey[st->mikey_err < BK_MAX_ERRNO ? st->mikey_err :
							    BK_MAX_ERRNO]++;
	else
		s->err_local++;
}

/* Alice: a fresh REQUEST_INIT_PSK into p->rq.msg. */
enum cc_err bench_kms_pair_start(const struct bk_party *pt, struct bk_pair *p,
				 const struct kmsc_env *env)
{
	return kmsc_request_build(&p->rq, &pt->alice, &pt->ro, env);
}

/* Alice opens the REQUEST_RESP and builds the TRANSFER_INIT; Bob takes it
 * and builds the RESOLVE_INIT_PSK into p->ri. */
enum cc_err bench_kms_pair_ticket(const struct bk_party *pt, struct bk_pair *p,
				  const uint8_t *resp, size_t len,
				  const struct kmsc_env *env)
{
	enum cc_err err;

	memset(&p->st, 0, sizeof(p->st));
	err = kmsc_request_open(&p->rq, &pt->alice, resp, len, env, &p->t,
				&p->st);
	if (err)
		return err;
	err = kmsc_transfer_init(&p->ci, &p->t, &pt->alice, &pt->xo, env, p->xi,
				 sizeof(p->xi), &p->xi_len);
	if (!err)
		err = kmsc_resolve_init(&p->cr, &pt->rb, p->xi, p->xi_len, env,
					p->ri, sizeof(p->ri), &p->ri_len,
					&p->st);
	if (err && p->st.kind == KMSC_FAIL_NONE)
		p->st.kind = KMSC_FAIL_LOCAL;
	return err;
}

/* Bob opens the RESOLVE_RESP and verifies Alice's TRANSFER_INIT. */
enum cc_err bench_kms_pair_finish(const struct bk_party *pt, struct bk_pair *p,
				  const uint8_t *resp, size_t len,
				  const struct kmsc_env *env)
{
	memset(&p->st, 0, sizeof(p->st));
	return kmsc_resolve_open(&p->cr, &pt->rb, resp, len, env, &p->st);
}

/* ---- the store ------------------------------------------------------------ */

void bench_kms_make_cred(struct kmsc_cred *c, const char *user, const char *url)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->identity, sizeof(c->identity), "sip:%s@" BK_REALM, user);
	snprintf(c->psk_id, sizeof(c->psk_id), "%s-psk", user);
	snprintf(c->kms_url, sizeof(c->kms_url), "%s", url);
	snprintf(c->kms_identity, sizeof(c->kms_identity), BK_KMS_ID);
	c->psk_len = BK_PSK_LEN;
}

static enum cc_err add_user(struct kms_db *db, const struct kmsc_cred *c,
			    const char *name)
{
	enum cc_err err;

	err = kms_db_user_add(db, name, c->psk_id, c->psk, c->psk_len, false);
	return err ? err : kms_db_identity_add(db, name, c->identity);
}

/* A store at path with every party's users, then filler users up to
 * nusers in all (so the lookups run on tables of a realistic size). */
enum cc_err bench_kms_make_store(const char *path,
				 const uint8_t master[KMS_MASTER_KEY_LEN],
				 const struct bk_party *pt, size_t np,
				 unsigned nusers)
{
	char spec[PATH_MAX + 8], name[32];
	struct kmsc_cred filler;
	struct kms_db *db;
	enum cc_err err;
	size_t i;

	if (!strncmp(path, "postgresql:", 11))
		snprintf(spec, sizeof(spec), "%s", path);
	else
		snprintf(spec, sizeof(spec), "sqlite:%s", path);
	err = kms_db_open(&db, spec, master, true);
	if (err)
		return err;
	for (i = 0; !err && i < np; i++) {
		snprintf(name, sizeof(name), "alice%zu", i);
		err = add_user(db, &pt[i].alice, name);
		snprintf(name, sizeof(name), "bob%zu", i);
		err = err ? err : add_user(db, &pt[i].bob, name);
	}
	for (i = 2 * np; !err && i < nusers; i++) {
		snprintf(name, sizeof(name), "user%zu", i);
		bench_kms_make_cred(&filler, name, "");
		err = kmsc_rand_system(filler.psk, BK_PSK_LEN, NULL);
		err = err ? err : add_user(db, &filler, name);
	}
	kmsc_cred_wipe(&filler);
	kms_db_close(db);
	return err;
}

/* ---- the in-process limit ------------------------------------------------ */

static enum cc_err kms_call(struct kms *k, const uint8_t *msg, size_t len,
			    int64_t now, uint8_t *out, size_t cap,
			    size_t *outlen)
{
	struct kms_result res;
	struct cc_wr wr;
	enum cc_err err;

	cc_wr_init(&wr, out, cap);
	err = kms_handle(k, msg, len, now, &wr, &res);
	*outlen = wr.pos;
	return err;
}

/* One pair through kms_handle; client and KMS time added to s. */
static int inproc_pair(struct kms *k, const struct bk_party *pt,
		       struct bk_pair *p, const struct kmsc_env *env,
		       struct bk_stats *s)
{
	static uint8_t resp[KMSC_MAX_MSG];
	uint64_t t0 = bench_kms_mono_ns(), t1, t2, t3, t4, t5;
	enum cc_err err;
	size_t n;

	err = bench_kms_pair_start(pt, p, env);
	t1 = bench_kms_mono_ns();
	err = err ? err :
		    kms_call(k, p->rq.msg, p->rq.len, env->now, resp,
			     sizeof(resp), &n);
	t2 = bench_kms_mono_ns();
	if (err) {
		s->err_local++;
		return -1;
	}
	err = bench_kms_pair_ticket(pt, p, resp, n, env);
	t3 = bench_kms_mono_ns();
	if (!err)
		err = kms_call(k, p->ri, p->ri_len, env->now, resp,
			       sizeof(resp), &n);
	t4 = bench_kms_mono_ns();
	if (!err)
		err = bench_kms_pair_finish(pt, p, resp, n, env);
	bench_kms_pair_clear(p);
	t5 = bench_kms_mono_ns();
	s->client_ns += (double)((t1 - t0) + (t3 - t2) + (t5 - t4));
	s->kms_ns += (double)((t2 - t1) + (t4 - t3));
	bench_kms_hist_add(&s->req, t2 - t1);
	bench_kms_hist_add(&s->res, t4 - t3);
	bench_kms_hist_add(&s->pair, t5 - t0);
	if (err) {
		bench_kms_count_fail(s, &p->st);
		return 0;
	}
	s->pairs++;
	return 0;
}

/* The same pairs on one thread with no HTTP, on an equivalent store (the
 * daemon's defaults: skew 300 s, 1 Mi replay entries). */
int bench_kms_inproc_run(const struct bk_env *e, const struct bk_party *pt,
			 size_t np, double seconds, struct bk_stats *s)
{
	struct kms_config cfg = { .identity = BK_KMS_ID,
				  .skew = 300,
				  .max_lifetime = 86400,
				  .default_lifetime = 3600,
				  .replay_capacity = BK_REPLAY_CAP };
	struct kmsc_env env = { .rand = kmsc_rand_system };
	char path[PATH_MAX + 16], spec[PATH_MAX + 32];
	struct kms_db *db = NULL;
	struct kms *k = NULL;
	struct bk_pair *p = calloc(1, sizeof(*p));
	uint64_t t0, end, i = 0;
	bool warm = true;
	int rc = -1;

	bench_kms_path_in(e, "inproc.db", path, sizeof(path));
	if (!strncmp(path, "postgresql:", 11))
		snprintf(spec, sizeof(spec), "%s", path);
	else
		snprintf(spec, sizeof(spec), "sqlite:%s", path);
	if (!p || !bench_kms_hist_init(&s->pair) ||
	    !bench_kms_hist_init(&s->req) || !bench_kms_hist_init(&s->res) ||
	    kms_db_open(&db, spec, e->master, false) ||
	    kms_alloc(&k, &cfg, kms_db_store(db), kmsc_rand_system, NULL))
		goto out;
	t0 = bench_kms_mono_ns();
	end = t0 + (uint64_t)(0.3e9);
	s->cpu_s = bench_kms_proc_cpu_s();
	while (!bench_kms_signal) {
		if ((i & 63) == 0) {
			env.now = time(NULL);
			if (bench_kms_mono_ns() >= end) {
				if (!warm)
					break;
				warm = false;
				bench_kms_hist_reset(&s->pair);
				bench_kms_hist_reset(&s->req);
				bench_kms_hist_reset(&s->res);
				s->pairs = s->err_local = 0;
				memset(s->err_mikey, 0, sizeof(s->err_mikey));
				s->client_ns = s->kms_ns = 0;
				s->cpu_s = bench_kms_proc_cpu_s();
				t0 = bench_kms_mono_ns();
				end = t0 + (uint64_t)(seconds * 1e9);
			}
		}
		if (inproc_pair(k, &pt[i % np], p, &env, s))
			goto out;
		i++;
	}
	s->wall_s = (double)(bench_kms_mono_ns() - t0) / 1e9;
	s->cpu_s = bench_kms_proc_cpu_s() - s->cpu_s;
	rc = bench_kms_signal ? -1 : 0;
out:
	if (rc && !bench_kms_signal)
		fprintf(stderr, "bench kms: in-process run failed\n");
	if (p) {
		bench_kms_pair_clear(p);
		OPENSSL_cleanse(p, sizeof(*p));
		free(p);
	}
	kms_free(k);
	kms_db_close(db);
	return rc;
}
