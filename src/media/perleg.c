/*
 * perleg.c -- the benchmark's baseline: fan-out as per-leg servers do it.
 * Decrypt once under the group key, then re-encrypt the plaintext for every
 * listener under that listener's own key (its own libsrtp context). This is
 * the cost the group switch avoids (issue: "group fan-out at >= 10x the
 * per-leg re-encryption rate").
 */
#include "media_int.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

struct media_perleg {
	struct media_rxcore core;
	srtp_t *legs;
	size_t n_legs;
	uint32_t plain[MEDIA_SCRATCH_WORDS];
	uint32_t out[MEDIA_SCRATCH_WORDS];
};

static enum cc_err legs_create(struct media_perleg *p)
{
	uint8_t master[MEDIA_MASTER_MAX];
	srtp_policy_t pol;
	size_t i;
	enum cc_err err = CC_OK;

	for (i = 0; i < p->n_legs; i++) {
		if (RAND_bytes(master, sizeof(master)) != 1) {
			err = CC_ERR_CRYPTO;
			goto out;
		}
		media_policy_nomki(&pol, p->core.profile, master,
				   ssrc_any_outbound);
		if (srtp_create(&p->legs[i], &pol) != srtp_err_status_ok) {
			p->legs[i] = NULL;
			err = CC_ERR_CRYPTO;
			goto out;
		}
	}
out:
	cc_wipe(master, sizeof(master));
	return err;
}

enum cc_err media_perleg_new(struct media_perleg **pp,
			     const struct media_key *group_key, size_t n_legs)
{
	struct media_perleg *p;
	enum cc_err err;

	if (!pp || !group_key || !n_legs)
		return CC_ERR_INVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return CC_ERR_NOMEM;
	err = media_rxcore_init(&p->core, group_key->profile);
	if (err) {
		free(p);
		return err;
	}
	p->legs = calloc(n_legs, sizeof(*p->legs));
	if (!p->legs) {
		err = CC_ERR_NOMEM;
		goto out;
	}
	p->n_legs = n_legs;
	err = media_rxcore_install(&p->core, group_key);
	if (!err)
		err = legs_create(p);
out:
	if (err) {
		media_perleg_free(p);
		return err;
	}
	*pp = p;
	return CC_OK;
}

void media_perleg_free(struct media_perleg *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; p->legs && i < p->n_legs; i++)
		if (p->legs[i])
			(void)srtp_dealloc(p->legs[i]);
	free(p->legs);
	media_rxcore_fini(&p->core);
	cc_wipe(p->plain, sizeof(p->plain));
	cc_wipe(p->out, sizeof(p->out));
	free(p);
}

enum cc_err media_perleg_rx(struct media_perleg *p, const uint8_t *pkt,
			    size_t len, media_leg_h *lh, void *arg,
			    size_t *copies)
{
	struct media_rtp rtp;
	struct media_rx_info info;
	size_t plain, i;
	int slot = -1, n;
	enum cc_err err;

	if (!p || !pkt || !copies)
		return CC_ERR_INVAL;
	*copies = 0;
	err = media_rxcore_classify(&p->core, pkt, len, &rtp, &slot);
	if (err)
		return err;
	err = media_rxcore_unprotect(&p->core, slot, pkt, len, &rtp, 0, &plain,
				     &info);
	if (err) {
		media_rxcore_count(&p->core, slot, err);
		return err;
	}
	memcpy(p->plain, p->core.scratch, plain);
	for (i = 0; i < p->n_legs; i++) {
		memcpy(p->out, p->plain, plain);
		n = (int)plain;
		if (srtp_protect(p->legs[i], p->out, &n) != srtp_err_status_ok)
			return CC_ERR_CRYPTO;
		if (lh)
			lh(i, (const uint8_t *)p->out, (size_t)n, arg);
		(*copies)++;
	}
	return CC_OK;
}
