/*
 * idset.c -- the allowed set: exact identities (patterns are the KMS's
 * business), open addressing with linear probing over owned strings.
 */
#include "conf_int.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a: identities are not attacker-chosen at scale (they come from
 * the owner's ticket), so a simple hash suffices. */
static size_t id_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s) {
		h ^= (uint8_t)*s++;
		h *= 0x100000001b3ull;
	}
	return (size_t)(h ^ (h >> 32));
}

void idset_free(struct idset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->s[i]);
	free(set->s);
	memset(set, 0, sizeof(*set));
}

static size_t probe(char *const *s, size_t cap, const char *id)
{
	size_t i = id_hash(id) & (cap - 1);

	while (s[i] && strcmp(s[i], id) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

static enum cc_err grow(struct idset *set)
{
	size_t ncap = set->cap ? set->cap * 2 : 16;
	char **ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return CC_ERR_NOMEM;
	for (size_t i = 0; i < set->cap; i++) {
		if (set->s[i])
			ns[probe(ns, ncap, set->s[i])] = set->s[i];
	}
	free(set->s);
	set->s = ns;
	set->cap = ncap;
	return CC_OK;
}

enum cc_err idset_add(struct idset *set, const char *id)
{
	size_t i, len;

	if ((set->n + 1) * 2 > set->cap && grow(set))
		return CC_ERR_NOMEM;
	i = probe(set->s, set->cap, id);
	if (set->s[i])
		return CC_OK;
	len = strlen(id);
	set->s[i] = malloc(len + 1);
	if (!set->s[i])
		return CC_ERR_NOMEM;
	memcpy(set->s[i], id, len + 1);
	set->n++;
	set->bytes += len + 1;
	return CC_OK;
}

bool idset_has(const struct idset *set, const char *id)
{
	if (!set->cap)
		return false;
	return set->s[probe(set->s, set->cap, id)] != NULL;
}
