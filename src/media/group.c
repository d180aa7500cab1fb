/*
 * group.c -- the switch: one media_group per conference (DESIGN.md D6, D7).
 *
 * Each packet from a member is authenticated ONCE under the group key its
 * MKI names, in a scratch copy, and the original bytes are forwarded to
 * every other member: never decrypted and re-encrypted per leg. The order
 * of checks is cheap-first: RTP shape, MKI, leg membership, SSRC binding
 * (D6), then libsrtp (replay check, tag check, decrypt, replay record).
 */
#include "media_int.h"

#include <stdlib.h>

struct media_group {
	struct media_rxcore core;
	media_owner_h *owner_h;
	void *owner_arg;
	uint32_t send_mki;
	struct media_dest *dest; /* the fan-out, dense */
	size_t n_dest, cap_dest;
	struct media_map dest_map; /* mid -> index in dest[] */
	/* SDES members' re-protection (upstream.c), or NULL */
	struct media_reprotect *rp;
};

enum cc_err media_group_new(struct media_group **gp, enum media_profile p,
			    media_owner_h *oh, void *oh_arg)
{
	struct media_group *g;
	enum cc_err err;

	if (!gp || !oh)
		return CC_ERR_INVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return CC_ERR_NOMEM;
	err = media_rxcore_init(&g->core, p);
	if (err) {
		free(g);
		return err;
	}
	g->owner_h = oh;
	g->owner_arg = oh_arg;
	*gp = g;
	return CC_OK;
}

void media_group_free(struct media_group *g)
{
	if (!g)
		return;
	media_reprotect_free(g->rp);
	media_rxcore_fini(&g->core);
	free(g->dest);
	media_map_free(&g->dest_map);
	free(g);
}

enum cc_err media_group_install(struct media_group *g,
				const struct media_key *k)
{
	return media_rxcore_install(&g->core, k);
}

enum cc_err media_group_retire(struct media_group *g, uint32_t mki)
{
	enum cc_err err = media_rxcore_retire(&g->core, mki);

	if (!err && g->send_mki == mki)
		g->send_mki = 0;
	if (!err)
		media_reprotect_retire(g->rp, mki);
	return err;
}

enum cc_err media_group_switch(struct media_group *g, uint32_t mki)
{
	if (media_rxcore_slot(&g->core, mki) < 0)
		return CC_ERR_NOT_FOUND;
	g->send_mki = mki;
	return CC_OK;
}

enum cc_err media_group_add_member(struct media_group *g, media_mid mid,
				   void *leg)
{
	struct media_dest *n;
	uint32_t at;
	size_t cap;
	enum cc_err err;

	if (media_map_get(&g->dest_map, mid, &at))
		return CC_ERR_INVAL;
	if (g->n_dest == g->cap_dest) {
		cap = g->cap_dest ? 2 * g->cap_dest : 16;
		n = realloc(g->dest, cap * sizeof(*n));
		if (!n)
			return CC_ERR_NOMEM;
		g->dest = n;
		g->cap_dest = cap;
	}
	err = media_map_put(&g->dest_map, mid, (uint32_t)g->n_dest);
	if (err)
		return err;
	g->dest[g->n_dest].mid = mid;
	g->dest[g->n_dest].leg = leg;
	g->n_dest++;
	return CC_OK;
}

enum cc_err media_group_drop_member(struct media_group *g, media_mid mid)
{
	uint32_t at;
	size_t last;

	if (!media_map_get(&g->dest_map, mid, &at))
		return CC_ERR_NOT_FOUND;
	(void)media_map_del(&g->dest_map, mid);
	last = g->n_dest - 1;
	if (at != last) {
		/* Keep dest[] dense: move the last member into the hole. */
		g->dest[at] = g->dest[last];
		if (media_map_put(&g->dest_map, g->dest[at].mid, at))
			return CC_ERR_NOMEM; /* cannot happen: key present */
	}
	g->n_dest--;
	return CC_OK;
}

size_t media_group_members(const struct media_group *g)
{
	return g->n_dest;
}

/* D6: the SSRC must belong to the member whose leg it arrived on. */
static enum cc_err check_binding(struct media_group *g, media_mid from,
				 uint32_t ssrc, uint32_t *roc, uint32_t *at)
{
	media_mid owner = 0;

	if (!media_map_get(&g->dest_map, from, at)) {
		g->core.st.drop_not_member++;
		return CC_ERR_NOT_AUTHORISED;
	}
	*roc = 0;
	if (!g->owner_h(ssrc, &owner, roc, g->owner_arg) || owner != from) {
		g->core.st.drop_foreign_ssrc++;
		return CC_ERR_NOT_AUTHORISED;
	}
	return CC_OK;
}

enum cc_err media_switch_rx(struct media_group *g, media_mid from,
			    const uint8_t *pkt, size_t len,
			    struct media_fanout *fan,
			    struct media_rx_info *info)
{
	struct media_rtp rtp;
	struct media_rx_info local;
	uint32_t roc, at;
	size_t plain;
	int slot = -1;
	enum cc_err err;

	if (!g || !pkt || !fan)
		return CC_ERR_INVAL;
	if (!info)
		info = &local;
	err = media_rxcore_classify(&g->core, pkt, len, &rtp, &slot);
	if (err)
		return err;
	err = check_binding(g, from, rtp.ssrc, &roc, &at);
	if (err)
		return err;
	err = media_rxcore_unprotect(&g->core, slot, pkt, len, &rtp, roc,
				     &plain, info);
	if (err) {
		media_rxcore_count(&g->core, slot, err);
		return err;
	}
	fan->dest = g->dest;
	fan->n = g->n_dest;
	fan->skip = at;
	g->core.st.fwd_copies += g->n_dest - 1;
	return CC_OK;
}

void media_group_stats(const struct media_group *g, struct media_stats *st)
{
	*st = g->core.st;
}

enum cc_err media_group_epoch_stats(const struct media_group *g, uint32_t mki,
				    struct media_epoch_stats *st)
{
	int slot = media_rxcore_slot(&g->core, mki);

	if (slot < 0)
		return CC_ERR_NOT_FOUND;
	*st = g->core.ep[slot].st;
	return CC_OK;
}

/* ---- for upstream.c: SDES members' packets (DESIGN.md D8) ------------- */

struct media_group_int media_group_int(struct media_group *g)
{
	struct media_group_int gi = { &g->core, &g->rp, g->send_mki };

	return gi;
}

enum cc_err media_group_binding(struct media_group *g, media_mid from,
				uint32_t ssrc, uint32_t *at)
{
	uint32_t roc;

	return check_binding(g, from, ssrc, &roc, at);
}

void media_group_fanout(struct media_group *g, uint32_t at,
			struct media_fanout *fan)
{
	fan->dest = g->dest;
	fan->n = g->n_dest;
	fan->skip = at;
	g->core.st.ok++;
	g->core.st.fwd_copies += g->n_dest - 1;
}
