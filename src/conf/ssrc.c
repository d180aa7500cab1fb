/*
 * ssrc.c -- the SSRC registry (DESIGN.md D6): SSRC -> owning member and
 * its last reported ROC. Linear probing with backward-shift deletion, so a
 * lookup stays O(1) however much churn there was (no tombstones).
 */
#include "conf_int.h"

#include <stdlib.h>
#include <string.h>

/* SSRCs are attacker-chosen (offered in SDP): mix them so that crafted
 * values do not pile up in one run. */
static size_t ssrc_hash(uint32_t v, size_t cap)
{
	uint64_t h = (uint64_t)v * 0x9e3779b97f4a7c15ull;

	h ^= h >> 29;
	return (size_t)h & (cap - 1);
}

void ssrc_tab_free(struct ssrc_tab *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

static void put_raw(struct ssrc_ent *e, size_t cap, const struct ssrc_ent *v)
{
	size_t i = ssrc_hash(v->ssrc, cap);

	while (e[i].used)
		i = (i + 1) & (cap - 1);
	e[i] = *v;
}

enum cc_err ssrc_tab_reserve(struct ssrc_tab *t, size_t extra)
{
	size_t ncap = t->cap ? t->cap : 16;
	struct ssrc_ent *ne;

	while ((t->n + extra) * 2 > ncap)
		ncap *= 2;
	if (ncap == t->cap)
		return CC_OK;
	ne = calloc(ncap, sizeof(*ne));
	if (!ne)
		return CC_ERR_NOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		if (t->e[i].used)
			put_raw(ne, ncap, &t->e[i]);
	}
	free(t->e);
	t->e = ne;
	t->cap = ncap;
	return CC_OK;
}

void ssrc_tab_put(struct ssrc_tab *t, uint32_t ssrc, uint32_t slot)
{
	struct ssrc_ent v = { .ssrc = ssrc, .roc = 0, .slot = slot, .used = 1 };

	t->ver++;

	put_raw(t->e, t->cap, &v);
	t->n++;
}

struct ssrc_ent *ssrc_tab_get(const struct ssrc_tab *t, uint32_t ssrc)
{
	size_t i;

	if (!t->cap)
		return NULL;
	for (i = ssrc_hash(ssrc, t->cap); t->e[i].used;
	     i = (i + 1) & (t->cap - 1)) {
		if (t->e[i].ssrc == ssrc)
			return &t->e[i];
	}
	return NULL;
}

/* Knuth 6.4 algorithm R: shift later entries of the run back over the
 * hole unless their home slot lies cyclically in (hole, j]. */
void ssrc_tab_del(struct ssrc_tab *t, uint32_t ssrc)
{
	struct ssrc_ent *ent = ssrc_tab_get(t, ssrc);
	size_t mask = t->cap - 1, i, j, home;

	if (!ent)
		return;
	i = (size_t)(ent - t->e);
	t->e[i].used = 0;
	t->n--;
	t->ver++;
	for (j = (i + 1) & mask; t->e[j].used; j = (j + 1) & mask) {
		home = ssrc_hash(t->e[j].ssrc, t->cap);
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->e[i] = t->e[j];
		t->e[j].used = 0;
		i = j;
	}
}
