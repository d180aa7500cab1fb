/*
 * map.c -- an open-addressing hash map (linear probing, backward-shift
 * deletion) from 64-bit keys to 32-bit values: SSRC -> source and member
 * id -> fan-out slot, both O(1) on the packet path.
 */
#include "media_int.h"

#include <stdlib.h>

static size_t map_hash(uint64_t k, size_t cap)
{
	/* splitmix64 finaliser: member ids and SSRCs are not uniform. */
	k ^= k >> 30;
	k *= 0xbf58476d1ce4e5b9ull;
	k ^= k >> 27;
	k *= 0x94d049bb133111ebull;
	k ^= k >> 31;
	return (size_t)k & (cap - 1);
}

static bool map_find(const struct media_map *m, uint64_t key, size_t *at)
{
	size_t i;

	if (!m->cap)
		return false;
	for (i = map_hash(key, m->cap); m->used[i];
	     i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			*at = i;
			return true;
		}
	}
	*at = i;
	return false;
}

static enum cc_err map_grow(struct media_map *m)
{
	struct media_map n = { 0 };
	size_t i, at = 0;

	n.cap = m->cap ? m->cap * 2 : 16;
	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.vals = calloc(n.cap, sizeof(*n.vals));
	n.used = calloc(n.cap, 1);
	if (!n.keys || !n.vals || !n.used) {
		media_map_free(&n);
		return CC_ERR_NOMEM;
	}
	for (i = 0; i < m->cap; i++) {
		if (!m->used[i])
			continue;
		(void)map_find(&n, m->keys[i], &at);
		n.used[at] = 1;
		n.keys[at] = m->keys[i];
		n.vals[at] = m->vals[i];
		n.n++;
	}
	media_map_free(m);
	*m = n;
	return CC_OK;
}

enum cc_err media_map_put(struct media_map *m, uint64_t key, uint32_t val)
{
	size_t at = 0;
	enum cc_err err;

	if (map_find(m, key, &at)) {
		m->vals[at] = val;
		return CC_OK;
	}
	if ((m->n + 1) * 2 > m->cap) {
		err = map_grow(m);
		if (err)
			return err;
		(void)map_find(m, key, &at);
	}
	m->used[at] = 1;
	m->keys[at] = key;
	m->vals[at] = val;
	m->n++;
	return CC_OK;
}

bool media_map_get(const struct media_map *m, uint64_t key, uint32_t *val)
{
	size_t at = 0;

	if (!map_find(m, key, &at))
		return false;
	*val = m->vals[at];
	return true;
}

bool media_map_del(struct media_map *m, uint64_t key)
{
	size_t hole, i, home, mask;

	if (!map_find(m, key, &hole))
		return false;
	mask = m->cap - 1;
	m->used[hole] = 0;
	m->n--;
	/* Backward shift: move later entries of the run into the hole when
	 * their home slot does not lie cyclically in (hole, i]. */
	for (i = (hole + 1) & mask; m->used[i]; i = (i + 1) & mask) {
		home = map_hash(m->keys[i], m->cap);
		if (((i - home) & mask) < ((i - hole) & mask))
			continue;
		m->keys[hole] = m->keys[i];
		m->vals[hole] = m->vals[i];
		m->used[hole] = 1;
		m->used[i] = 0;
		hole = i;
	}
	return true;
}

void media_map_free(struct media_map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	m->keys = NULL;
	m->vals = NULL;
	m->used = NULL;
	m->cap = 0;
	m->n = 0;
}
