/*
 * roster.c -- read-only member accessors for the conference event
 * package (confinfo.h, RFC 4575): who is in the conference, how each
 * member came in, its SSRCs and the newest epoch it holds. No key
 * material leaves through here.
 */
#include "conf_int.h"

static void member_info(const struct conf *c, uint32_t slot,
			struct conf_member_info *out)
{
	const struct member *m = &c->m[slot];

	*out = (struct conf_member_info){
		.id = conf_mid_of(c, slot),
		.identity = m->id,
		.joined = m->state == M_ACTIVE,
		.via = (enum conf_via)m->via,
		.epoch = m->held,
		.since = m->joined,
		.n_ssrcs = m->n_ssrc,
	};
	for (unsigned i = 0; i < m->n_ssrc && i < CONF_SSRC_MAX; i++)
		out->ssrcs[i] = m->ssrc[i];
}

bool conf_member_get(const struct conf *c, conf_mid id,
		     struct conf_member_info *out)
{
	uint32_t slot = (uint32_t)id;

	if (!c || !out || slot >= c->mused || c->m[slot].state == M_FREE ||
	    c->m[slot].gen != (uint32_t)(id >> 32))
		return false;
	member_info(c, slot, out);
	return true;
}

void conf_member_foreach(const struct conf *c, conf_member_h *h, void *arg)
{
	struct conf_member_info mi;

	if (!c || !h)
		return;
	for (uint32_t slot = 0; slot < c->mused; slot++) {
		if (c->m[slot].state == M_FREE)
			continue;
		member_info(c, slot, &mi);
		h(&mi, arg);
	}
}

const char *conf_focus_identity(const struct conf *c)
{
	if (!c || !c->created || !c->focus[0])
		return NULL;
	return c->focus;
}
