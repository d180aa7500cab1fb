/*
 * crypto.c -- the MIKEY PRFs (RFC 3830 §4.1.2, RFC 6043 §6.1), every key
 * derivation of RFC 3830 §4.1 and RFC 6043 §5.1 / App. A.2, and the KEMAC
 * / V MACs (RFC 3830 §4.2.4, RFC 6043 §6.2).
 *
 * HMAC (RFC 2104) is built on EVP_MD_CTX: the digests are fetched once per
 * process, and the digest states after the ipad and opad blocks are
 * computed once per key and copied for every message. OpenSSL 3's one-shot
 * HMAC() fetches the digest on every call, which is several times slower.
 * The PRF keys each 256-bit inkey chunk once and reuses it for all 2m
 * HMACs of every label it is asked for.
 */
#include "keyed.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum {
	HMAC_BLOCK = 64,  /* SHA-1 and SHA-256 block size (RFC 2104 §2) */
	HMAC_MAX = 32,    /* longest digest we use */
	PRF_CHUNK = 32,   /* inkey split into 256-bit s_i, RFC 3830 §4.1.2 */
	LABEL_PARTS = 4,  /* head, RAND, length byte, RAND */
	LABEL_HEAD = 14,  /* const, 8 bits, 32 bits, type, one length */
	MSG_KEY_JOBS = 3, /* encr_key, auth_key, salt_key */
};

/* ---- algorithm cache ---------------------------------------------------- */

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha1;
static EVP_MD *md_sha256;

static void md_fetch(void)
{
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

static const EVP_MD *md_get(bool sha256)
{
	if (pthread_once(&md_once, md_fetch) != 0)
		return NULL;
	return sha256 ? md_sha256 : md_sha1;
}

/* ---- HMAC on precomputed inner / outer states (RFC 2104 §2) ------------ */

struct hmac {
	const EVP_MD *md;
	size_t len;      /* digest length */
	EVP_MD_CTX *in;  /* state after H(K XOR ipad) */
	EVP_MD_CTX *out; /* state after H(K XOR opad) */
	EVP_MD_CTX *work;
};

static void hmac_free(struct hmac *h)
{
	/* EVP_MD_CTX_free cleanses the provider's digest state. */
	EVP_MD_CTX_free(h->in);
	EVP_MD_CTX_free(h->out);
	EVP_MD_CTX_free(h->work);
	memset(h, 0, sizeof(*h));
}

static enum cc_err hmac_new(struct hmac *h, bool sha256)
{
	memset(h, 0, sizeof(*h));
	h->md = md_get(sha256);
	if (!h->md)
		return CC_ERR_CRYPTO;
	h->len = (size_t)EVP_MD_get_size(h->md);
	h->in = EVP_MD_CTX_new();
	h->out = EVP_MD_CTX_new();
	h->work = EVP_MD_CTX_new();
	if (!h->in || !h->out || !h->work || h->len > HMAC_MAX) {
		hmac_free(h);
		return CC_ERR_NOMEM;
	}
	return CC_OK;
}

/* Start ctx with one block of K XOR pad. */
static bool hmac_pad(struct hmac *h, EVP_MD_CTX *ctx, const uint8_t *key,
		     size_t len, uint8_t pad)
{
	uint8_t blk[HMAC_BLOCK];
	bool ok;
	size_t i;

	memset(blk, pad, sizeof(blk));
	for (i = 0; i < len; i++)
		blk[i] ^= key[i];
	ok = EVP_DigestInit_ex(ctx, h->md, NULL) &&
	     EVP_DigestUpdate(ctx, blk, sizeof(blk));
	cc_wipe(blk, sizeof(blk));
	return ok;
}

/* Key h: precompute the inner and outer states once. */
static enum cc_err hmac_setkey(struct hmac *h, const uint8_t *key, size_t len)
{
	uint8_t kh[HMAC_MAX];
	enum cc_err err = CC_ERR_CRYPTO;

	/* Keys longer than the block are hashed first (RFC 2104 §2). */
	if (len > HMAC_BLOCK) {
		if (!EVP_Digest(key, len, kh, NULL, h->md, NULL))
			goto out;
		key = kh;
		len = h->len;
	}
	if (!hmac_pad(h, h->in, key, len, 0x36) ||
	    !hmac_pad(h, h->out, key, len, 0x5c))
		goto out;
	err = CC_OK;
out:
	cc_wipe(kh, sizeof(kh));
	return err;
}

/* mac = HMAC(K, parts[0] || ... || parts[n-1]); h->len bytes. */
static enum cc_err hmac_run(struct hmac *h, const struct cc_slice *parts,
			    size_t n, uint8_t *mac)
{
	uint8_t inner[HMAC_MAX];
	enum cc_err err = CC_ERR_CRYPTO;
	size_t i;

	if (!EVP_MD_CTX_copy_ex(h->work, h->in))
		goto out;
	for (i = 0; i < n; i++) {
		if (parts[i].len &&
		    !EVP_DigestUpdate(h->work, parts[i].p, parts[i].len))
			goto out;
	}
	if (!EVP_DigestFinal_ex(h->work, inner, NULL) ||
	    !EVP_MD_CTX_copy_ex(h->work, h->out) ||
	    !EVP_DigestUpdate(h->work, inner, h->len) ||
	    !EVP_DigestFinal_ex(h->work, mac, NULL))
		goto out;
	err = CC_OK;
out:
	cc_wipe(inner, sizeof(inner));
	return err;
}

/* ---- the PRF (RFC 3830 §4.1.2; RFC 6043 §6.1) ---------------------------- */

/* One output wanted from the PRF: a label (as parts) and where to put it. */
struct prf_job {
	uint8_t head[LABEL_HEAD];
	struct cc_slice label[LABEL_PARTS];
	size_t nlabel;
	uint8_t *out;
	size_t out_len;
};

/*
 * out ^= first out_len bytes of P(s, label, m), s being the key of h:
 *   A_0 = label, A_i = HMAC(s, A_(i-1)),
 *   P = HMAC(s, A_1 || label) || HMAC(s, A_2 || label) || ...
 */
static enum cc_err prf_p(struct hmac *h, const struct prf_job *job)
{
	struct cc_slice parts[1 + LABEL_PARTS];
	uint8_t a[HMAC_MAX], blk[HMAC_MAX];
	enum cc_err err;
	size_t off, n, i;

	memcpy(parts + 1, job->label, job->nlabel * sizeof(parts[0]));
	parts[0] = (struct cc_slice){ a, h->len };
	err = hmac_run(h, job->label, job->nlabel, a); /* A_1 */
	for (off = 0; !err && off < job->out_len; off += n) {
		err = hmac_run(h, parts, 1 + job->nlabel, blk);
		if (err)
			break;
		n = job->out_len - off < h->len ? job->out_len - off : h->len;
		for (i = 0; i < n; i++)
			job->out[off + i] ^= blk[i];
		if (off + n < job->out_len)
			err = hmac_run(h, parts, 1, a); /* A_(i+1) */
	}
	cc_wipe(a, sizeof(a));
	cc_wipe(blk, sizeof(blk));
	return err;
}

static bool prf_known(enum mikey_prf prf)
{
	return prf == MIKEY_PRF_MIKEY1 || prf == MIKEY_PRF_HMAC_SHA256;
}

static bool overlaps(const uint8_t *a, size_t alen, const uint8_t *b,
		     size_t blen)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;

	return x < y + blen && y < x + alen;
}

/*
 * Run the PRF for every job with one inkey: outkey = XOR over the 256-bit
 * chunks s_1..s_n of P(s_i, label, m). Each chunk is keyed once for all
 * jobs. The inkey must be read whole before outputs are written.
 */
static enum cc_err prf_chunks(enum mikey_prf prf, const uint8_t *inkey,
			      size_t inkey_len, struct prf_job *jobs,
			      size_t njobs)
{
	struct hmac h;
	enum cc_err err;
	size_t off, j;

	for (j = 0; j < njobs; j++)
		memset(jobs[j].out, 0, jobs[j].out_len);
	err = hmac_new(&h, prf == MIKEY_PRF_HMAC_SHA256);
	for (off = 0; !err && off < inkey_len; off += PRF_CHUNK) {
		size_t n = inkey_len - off;

		err = hmac_setkey(&h, inkey + off,
				  n < PRF_CHUNK ? n : PRF_CHUNK);
		for (j = 0; !err && j < njobs; j++)
			err = prf_p(&h, &jobs[j]);
	}
	hmac_free(&h);
	for (j = 0; err && j < njobs; j++)
		cc_wipe(jobs[j].out, jobs[j].out_len);
	return err;
}

/* Validate, and copy an inkey that an output overlaps (in-place forking). */
static enum cc_err prf_jobs(enum mikey_prf prf, const uint8_t *inkey,
			    size_t inkey_len, struct prf_job *jobs,
			    size_t njobs)
{
	uint8_t copy[MIKEY_MAX_KEY];
	enum cc_err err;
	size_t j;

	if (!prf_known(prf))
		return CC_ERR_UNSUPPORTED;
	if (!inkey || !inkey_len)
		return CC_ERR_INVAL;
	for (j = 0; j < njobs; j++) {
		if (!overlaps(jobs[j].out, jobs[j].out_len, inkey, inkey_len))
			continue;
		if (inkey_len > sizeof(copy))
			return CC_ERR_INVAL;
		memcpy(copy, inkey, inkey_len);
		inkey = copy;
		break;
	}
	err = prf_chunks(prf, inkey, inkey_len, jobs, njobs);
	if (inkey == copy)
		cc_wipe(copy, inkey_len);
	return err;
}

enum cc_err mikey_prf(enum mikey_prf prf, const uint8_t *inkey,
		      size_t inkey_len, const uint8_t *label, size_t label_len,
		      uint8_t *out, size_t out_len)
{
	struct prf_job job = { .out = out, .out_len = out_len, .nlabel = 1 };

	if (!out || !out_len || (!label && label_len))
		return CC_ERR_INVAL;
	job.label[0] = (struct cc_slice){ label, label_len };
	return prf_jobs(prf, inkey, inkey_len, &job, 1);
}

/* ---- algorithm sizes (RFC 3830 §4.2.3-4.2.4, RFC 6043 §6.2) -------------- */

size_t mikey_encr_key_len(enum mikey_encr alg)
{
	switch (alg) {
	case MIKEY_ENCR_AES_CM_128:
	case MIKEY_ENCR_AES_KW_128:
		return 16;
	case MIKEY_ENCR_AES_CM_256:
		return 32;
	default:
		return 0;
	}
}

/* 112-bit salt for AES-CM, 64-bit key-wrap IV for AES-KW (§4.1.4). */
size_t mikey_encr_salt_len(enum mikey_encr alg)
{
	switch (alg) {
	case MIKEY_ENCR_AES_CM_128:
	case MIKEY_ENCR_AES_CM_256:
		return 14;
	case MIKEY_ENCR_AES_KW_128:
		return 8;
	default:
		return 0;
	}
}

size_t mikey_mac_key_len(enum mikey_mac alg)
{
	switch (alg) {
	case MIKEY_MAC_HMAC_SHA1_160:
		return 20;
	case MIKEY_MAC_HMAC_SHA256_256:
		return 32;
	default:
		return 0;
	}
}

size_t mikey_mac_len(enum mikey_mac alg)
{
	return mikey_mac_key_len(alg);
}

static bool encr_known(enum mikey_encr alg)
{
	return alg == MIKEY_ENCR_NULL || mikey_encr_key_len(alg) != 0;
}

static bool mac_known(enum mikey_mac alg)
{
	return alg == MIKEY_MAC_NULL || mikey_mac_key_len(alg) != 0;
}

/* ---- labels (RFC 6043 §5.1, spec/mikey-ticket.md §5.7) ------------------ */

static size_t put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

/* head = constant || b || w || type: the 10 bytes every label starts with */
static void job_head(struct prf_job *job, uint32_t constant, uint8_t b,
		     uint32_t w, uint8_t type)
{
	put_u32(job->head, constant);
	job->head[4] = b;
	put_u32(job->head + 5, w);
	job->head[9] = type;
	job->label[0] = (struct cc_slice){ job->head, 10 };
	job->nlabel = 1;
}

/* Append len8(r) || r; the length byte goes into head. */
static void job_rand(struct prf_job *job, struct cc_slice r)
{
	struct cc_slice *last = &job->label[job->nlabel - 1];

	if (last->p == job->head) {
		job->head[last->len++] = (uint8_t)r.len;
	} else {
		job->head[12] = (uint8_t)r.len;
		job->label[job->nlabel++] =
			(struct cc_slice){ job->head + 12, 1 };
	}
	if (r.len)
		job->label[job->nlabel++] = r;
}

/* A RAND is at most 255 bytes (8-bit length); p may be NULL only if empty. */
static bool rand_ok(struct cc_slice r)
{
	return r.len <= 0xff && (r.p || !r.len);
}

/* ---- message keys (RFC 6043 §5.1.2, App. A.2.1) --------------------------- */

static void keys_jobs(struct prf_job *jobs, size_t *njobs,
		      struct mikey_msg_keys *k)
{
	size_t n = 0;

	if (k->encr_alg != MIKEY_ENCR_NULL) {
		jobs[n].out = k->encr;
		jobs[n++].out_len = mikey_encr_key_len(k->encr_alg);
	}
	if (k->mac_alg != MIKEY_MAC_NULL) {
		jobs[n].out = k->auth;
		jobs[n++].out_len = mikey_mac_key_len(k->mac_alg);
	}
	if (k->encr_alg != MIKEY_ENCR_NULL) {
		jobs[n].out = k->salt;
		jobs[n++].out_len = mikey_encr_salt_len(k->encr_alg);
	}
	*njobs = n;
}

/* Which RFC 3830 §4.1.4 constant a job of keys_jobs() gets. */
static uint32_t keys_constant(const struct mikey_msg_keys *k,
			      const struct prf_job *job)
{
	if (job->out == k->encr)
		return MIKEY_C_ENCR;
	if (job->out == k->auth)
		return MIKEY_C_AUTH;
	return MIKEY_C_SALT;
}

/*
 * label = constant || 0xFF || w || type || len(r1) || r1 [|| len(r2) || r2]
 * for each of encr/auth/salt; r2 is left out when two_rands is false.
 */
static enum cc_err derive_keys(enum mikey_prf prf, const uint8_t *inkey,
			       size_t inkey_len, uint32_t w, uint8_t type,
			       struct cc_slice r1, struct cc_slice r2,
			       bool two_rands, enum mikey_encr encr,
			       enum mikey_mac mac, struct mikey_msg_keys *out)
{
	struct prf_job jobs[MSG_KEY_JOBS];
	enum cc_err err;
	size_t n, j;

	if (!out)
		return CC_ERR_INVAL;
	if (!encr_known(encr) || !mac_known(mac))
		return CC_ERR_UNSUPPORTED;
	if (!rand_ok(r1) || !rand_ok(r2))
		return CC_ERR_INVAL;
	mikey_msg_keys_wipe(out);
	out->encr_alg = encr;
	out->mac_alg = mac;
	memset(jobs, 0, sizeof(jobs));
	keys_jobs(jobs, &n, out);
	for (j = 0; j < n; j++) {
		job_head(&jobs[j], keys_constant(out, &jobs[j]), 0xff, w, type);
		job_rand(&jobs[j], r1);
		if (two_rands)
			job_rand(&jobs[j], r2);
	}
	err = prf_jobs(prf, inkey, inkey_len, jobs, n);
	if (err)
		mikey_msg_keys_wipe(out);
	return err;
}

enum cc_err mikey_derive_msg_keys(enum mikey_prf prf, const uint8_t *inkey,
				  size_t inkey_len, uint32_t csb_id,
				  uint8_t dir, struct cc_slice randri,
				  struct cc_slice randrr, enum mikey_encr encr,
				  enum mikey_mac mac,
				  struct mikey_msg_keys *out)
{
	if (dir != MIKEY_LBL_INIT && dir != MIKEY_LBL_RESP)
		return CC_ERR_INVAL;
	return derive_keys(prf, inkey, inkey_len, csb_id, dir, randri, randrr,
			   true, encr, mac, out);
}

enum cc_err mikey_derive_ticket_keys(enum mikey_prf prf, const uint8_t *tpk,
				     size_t tpk_len, struct cc_slice rand,
				     enum mikey_encr encr, enum mikey_mac mac,
				     struct mikey_msg_keys *out)
{
	struct cc_slice none = { NULL, 0 };

	return derive_keys(prf, tpk, tpk_len, MIKEY_CSB_ID_TICKET,
			   MIKEY_LBL_TPK, rand, none, false, encr, mac, out);
}

void mikey_msg_keys_wipe(struct mikey_msg_keys *k)
{
	if (k)
		cc_wipe(k, sizeof(*k));
}

/* ---- MPKi / MPKr, TEKs, forking, Vr key ----------------------------------- */

/* RFC 6043 App. A.2.2: constant || 0xFF || 0xFFFFFFFF || 0x06 || len || RAND */
enum cc_err mikey_derive_mpk(enum mikey_prf prf, const uint8_t *mpk,
			     size_t mpk_len, struct cc_slice rand,
			     bool responder, uint8_t *out)
{
	struct prf_job job = { .out = out, .out_len = mpk_len };

	if (!out || !rand_ok(rand))
		return CC_ERR_INVAL;
	job_head(&job, responder ? MIKEY_C_MPKR : MIKEY_C_MPKI, 0xff,
		 MIKEY_CSB_ID_TICKET, MIKEY_LBL_MPK);
	job_rand(&job, rand);
	return prf_jobs(prf, mpk, mpk_len, &job, 1);
}

/* RFC 6043 §5.1.3: constant || cs_id || 0xFFFFFFFF || 0x03 || RANDs */
enum cc_err mikey_derive_tek(enum mikey_prf prf, const uint8_t *tgk,
			     size_t tgk_len, uint32_t constant, uint8_t cs_id,
			     struct cc_slice randri, struct cc_slice randrr,
			     uint8_t *out, size_t out_len)
{
	struct prf_job job = { .out = out, .out_len = out_len };

	if (!out || !out_len || !rand_ok(randri) || !rand_ok(randrr))
		return CC_ERR_INVAL;
	job_head(&job, constant, cs_id, MIKEY_CSB_ID_TICKET, MIKEY_LBL_TEK);
	job_rand(&job, randri);
	job_rand(&job, randrr);
	return prf_jobs(prf, tgk, tgk_len, &job, 1);
}

/*
 * RFC 6043 §5.1.1: constant || 0xFF || 0xFFFFFFFF || 0x00 || len16(id) ||
 * id || len8(randrkms) || randrkms. Note the 16-bit ID length.
 */
enum cc_err mikey_fork(enum mikey_prf prf, uint32_t constant,
		       const uint8_t *key, size_t key_len, struct cc_slice id,
		       struct cc_slice randrkms, uint8_t *out)
{
	struct prf_job job = { .out = out, .out_len = key_len };

	if (!out || id.len > 0xffff || (!id.p && id.len) || !rand_ok(randrkms))
		return CC_ERR_INVAL;
	if (constant != MIKEY_C_FORK_MPKR && constant != MIKEY_C_FORK_TGK)
		return CC_ERR_INVAL;
	job_head(&job, constant, 0xff, MIKEY_CSB_ID_TICKET, MIKEY_LBL_FORK);
	job.head[10] = (uint8_t)(id.len >> 8);
	job.head[11] = (uint8_t)id.len;
	job.label[0].len = 12;
	if (id.len)
		job.label[job.nlabel++] = id;
	job_rand(&job, randrkms);
	return prf_jobs(prf, key, key_len, &job, 1);
}

/* RFC 6043 §6.10: 0x2D22AC75 || 0xFF || 0xFFFFFFFF || 0x04, from MPKr */
enum cc_err mikey_derive_vr_key(enum mikey_prf prf, const uint8_t *mpkr,
				size_t mpkr_len, enum mikey_mac mac,
				uint8_t *out)
{
	struct prf_job job = { .out = out, .out_len = mikey_mac_key_len(mac) };

	if (!out)
		return CC_ERR_INVAL;
	if (!job.out_len)
		return CC_ERR_UNSUPPORTED;
	job_head(&job, MIKEY_C_AUTH, 0xff, MIKEY_CSB_ID_TICKET, MIKEY_LBL_VR);
	return prf_jobs(prf, mpkr, mpkr_len, &job, 1);
}

/* ---- MACs (RFC 3830 §4.2.4, §5.2; RFC 6043 §6.2) ------------------------- */

enum cc_err mikey_mac_compute(enum mikey_mac alg, const uint8_t *key,
			      size_t key_len, const struct cc_slice *parts,
			      size_t nparts, uint8_t *mac)
{
	struct hmac h;
	enum cc_err err;
	size_t i;

	if (!mac_known(alg))
		return CC_ERR_UNSUPPORTED;
	if (alg == MIKEY_MAC_NULL)
		return CC_OK; /* no MAC field (RFC 3830 §4.2.4) */
	if (!mac || !key || !key_len || (!parts && nparts))
		return CC_ERR_INVAL;
	for (i = 0; i < nparts; i++) {
		if (!parts[i].p && parts[i].len)
			return CC_ERR_INVAL;
	}
	err = hmac_new(&h, alg == MIKEY_MAC_HMAC_SHA256_256);
	if (!err)
		err = hmac_setkey(&h, key, key_len);
	if (!err)
		err = hmac_run(&h, parts, nparts, mac);
	hmac_free(&h);
	return err;
}

enum cc_err mikey_mac_verify(enum mikey_mac alg, const uint8_t *key,
			     size_t key_len, const struct cc_slice *parts,
			     size_t nparts, const uint8_t *mac, size_t mac_len)
{
	uint8_t want[MIKEY_MAX_MAC];
	enum cc_err err;

	if (!mac_known(alg))
		return CC_ERR_UNSUPPORTED;
	if (mac_len != mikey_mac_len(alg) || (!mac && mac_len))
		return CC_ERR_BAD_MAC;
	err = mikey_mac_compute(alg, key, key_len, parts, nparts, want);
	if (!err && !cc_ct_equal(want, mac, mac_len))
		err = CC_ERR_BAD_MAC;
	cc_wipe(want, sizeof(want));
	return err;
}

/* ---- prepared key sets (keyed.h) ------------------------------------------ */

struct mikey_hmac {
	struct hmac h;
};

enum cc_err mikey_keyed_mac_init(struct mikey_keyed *kd)
{
	enum mikey_mac alg = kd->k.mac_alg;
	enum cc_err err;

	if (!mac_known(alg))
		return CC_ERR_UNSUPPORTED;
	if (alg == MIKEY_MAC_NULL)
		return CC_OK;
	kd->mac = calloc(1, sizeof(*kd->mac));
	if (!kd->mac)
		return CC_ERR_NOMEM;
	err = hmac_new(&kd->mac->h, alg == MIKEY_MAC_HMAC_SHA256_256);
	if (!err)
		err = hmac_setkey(&kd->mac->h, kd->k.auth,
				  mikey_mac_key_len(alg));
	return err;
}

void mikey_keyed_mac_free(struct mikey_keyed *kd)
{
	if (!kd->mac)
		return;
	hmac_free(&kd->mac->h);
	free(kd->mac);
	kd->mac = NULL;
}

enum cc_err mikey_keyed_mac(struct mikey_keyed *kd,
			    const struct cc_slice *parts, size_t nparts,
			    uint8_t *mac)
{
	size_t i;

	if (!kd || !mac || (!parts && nparts))
		return CC_ERR_INVAL;
	if (!kd->mac)
		return CC_OK; /* NULL MAC: no MAC field */
	for (i = 0; i < nparts; i++)
		if (!parts[i].p && parts[i].len)
			return CC_ERR_INVAL;
	return hmac_run(&kd->mac->h, parts, nparts, mac);
}

enum cc_err mikey_keyed_mac_verify(struct mikey_keyed *kd,
				   const struct cc_slice *parts, size_t nparts,
				   const uint8_t *mac, size_t mac_len)
{
	uint8_t want[MIKEY_MAX_MAC];
	enum cc_err err;

	if (!kd || mac_len != mikey_mac_len(kd->k.mac_alg) || (!mac && mac_len))
		return CC_ERR_BAD_MAC;
	err = mikey_keyed_mac(kd, parts, nparts, want);
	if (!err && !cc_ct_equal(want, mac, mac_len))
		err = CC_ERR_BAD_MAC;
	cc_wipe(want, sizeof(want));
	return err;
}
