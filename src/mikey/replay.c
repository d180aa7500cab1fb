/*
 * replay.c -- timestamps and the replay cache (RFC 3830 §5.3-5.4,
 * RFC 4330 §3 era rule). The clock is always passed in.
 */
#include <conclave/mikey.h>

#include <stdlib.h>
#include <string.h>

/* Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch). */
#define NTP_UNIX_OFFSET 2208988800LL

uint64_t mikey_ntp_from_unix(int64_t unix_sec, uint32_t frac)
{
	uint32_t s = (uint32_t)(unix_sec + NTP_UNIX_OFFSET);

	return (uint64_t)s << 32 | frac;
}

/* RFC 4330 §3: MSB set = 1968-2036 from 1900; clear = 2036-2104 from
 * 2036-02-07 06:28:16 UTC (RFC 6043 §6.3 makes this mandatory). */
static int64_t ntp_secs_unix(uint32_t s)
{
	int64_t base = (s & 0x80000000u) ? 0 : (int64_t)1 << 32;

	return base + s - NTP_UNIX_OFFSET;
}

int64_t mikey_ts_unix(const struct mikey_ts *ts)
{
	switch (ts->type) {
	case MIKEY_TS_NTP_UTC:
	case MIKEY_TS_NTP:
		return ntp_secs_unix((uint32_t)(ts->value >> 32));
	case MIKEY_TS_NTP_UTC_32:
		return ntp_secs_unix((uint32_t)ts->value);
	default:
		return 0;
	}
}

enum cc_err mikey_ts_check(const struct mikey_ts *ts, int64_t now,
			   uint32_t skew)
{
	int64_t t;

	if (ts->type == MIKEY_TS_COUNTER)
		return CC_OK;
	t = mikey_ts_unix(ts);
	if (t < now - (int64_t)skew)
		return CC_ERR_STALE;
	if (t > now + (int64_t)skew)
		return CC_ERR_FUTURE;
	return CC_OK;
}

/* ---- the cache ------------------------------------------------------ */

enum {
	KEY_LEN = 24
};

struct entry {
	uint8_t key[KEY_LEN];
	int64_t expiry;
	bool used;
};

struct mikey_replay {
	struct entry *tab;
	size_t mask;     /* table size - 1 (power of two) */
	size_t used;     /* occupied slots, live or expired */
	size_t capacity; /* max occupied: keeps the load at <= 1/2 */
	uint32_t skew;
};

enum cc_err mikey_replay_alloc(struct mikey_replay **rp, size_t capacity,
			       uint32_t skew)
{
	struct mikey_replay *r;
	size_t size = 16;

	if (!rp || !capacity || capacity > ((size_t)1 << 28))
		return CC_ERR_INVAL;
	while (size < 2 * capacity)
		size <<= 1;
	r = calloc(1, sizeof(*r));
	if (!r)
		return CC_ERR_NOMEM;
	r->tab = calloc(size, sizeof(*r->tab));
	if (!r->tab) {
		free(r);
		return CC_ERR_NOMEM;
	}
	r->mask = size - 1;
	r->capacity = capacity;
	r->skew = skew;
	*rp = r;
	return CC_OK;
}

void mikey_replay_free(struct mikey_replay *r)
{
	if (!r)
		return;
	free(r->tab);
	free(r);
}

void mikey_replay_set_skew(struct mikey_replay *r, uint32_t skew)
{
	r->skew = skew;
}

size_t mikey_replay_count(const struct mikey_replay *r)
{
	return r->used;
}

/* The key: data type, CSB ID and the first 19 bytes of the V MAC. The MAC
 * cannot be produced without the key, so two accepted messages share it
 * only if they are the same message. */
static bool make_key(const struct mikey_msg *msg, uint8_t key[KEY_LEN])
{
	const struct mikey_pl *v;

	if (!msg->ch.n || msg->ch.pl[msg->ch.n - 1].type != MIKEY_PT_V)
		return false;
	v = &msg->ch.pl[msg->ch.n - 1];
	if (v->u.v.mac.len < KEY_LEN - 5)
		return false;
	key[0] = msg->hdr.data_type;
	key[1] = (uint8_t)(msg->hdr.csb_id >> 24);
	key[2] = (uint8_t)(msg->hdr.csb_id >> 16);
	key[3] = (uint8_t)(msg->hdr.csb_id >> 8);
	key[4] = (uint8_t)msg->hdr.csb_id;
	memcpy(key + 5, v->u.v.mac.p, KEY_LEN - 5);
	return true;
}

static size_t slot_of(const struct mikey_replay *r, const uint8_t *key)
{
	uint64_t h;

	memcpy(&h, key + 5, sizeof(h)); /* MAC bytes: already uniform */
	return (size_t)(h ^ (h >> 29)) & r->mask;
}

/* Drop expired entries by rebuilding the table. */
static void purge(struct mikey_replay *r, int64_t now)
{
	size_t size = r->mask + 1, i;
	struct entry *old = r->tab, *fresh = calloc(size, sizeof(*fresh));

	if (!fresh)
		return;
	r->tab = fresh;
	r->used = 0;
	for (i = 0; i < size; i++) {
		size_t j;

		if (!old[i].used || old[i].expiry < now)
			continue;
		for (j = slot_of(r, old[i].key); r->tab[j].used;
		     j = (j + 1) & r->mask)
			;
		r->tab[j] = old[i];
		r->used++;
	}
	free(old);
}

static bool lookup(const struct mikey_replay *r, const uint8_t *key,
		   int64_t now, size_t *end)
{
	size_t i;

	for (i = slot_of(r, key); r->tab[i].used; i = (i + 1) & r->mask)
		if (r->tab[i].expiry >= now &&
		    cc_ct_equal(r->tab[i].key, key, KEY_LEN))
			return true;
	*end = i;
	return false;
}

enum cc_err mikey_replay_seen(const struct mikey_replay *r,
			      const struct mikey_msg *msg, int64_t now)
{
	uint8_t key[KEY_LEN];
	size_t end;

	if (!make_key(msg, key))
		return CC_ERR_INVAL;
	return lookup(r, key, now, &end) ? CC_ERR_REPLAY : CC_OK;
}

enum cc_err mikey_replay_add(struct mikey_replay *r,
			     const struct mikey_msg *msg, int64_t now)
{
	const struct mikey_pl *t = mikey_chain_find(&msg->ch, MIKEY_PT_T, 0);
	uint8_t key[KEY_LEN];
	int64_t expiry;
	size_t i;

	if (!t || !make_key(msg, key))
		return CC_ERR_INVAL;
	expiry = (t->u.t.type == MIKEY_TS_COUNTER ? now :
						    mikey_ts_unix(&t->u.t)) +
		 r->skew;
	if (lookup(r, key, now, &i))
		return CC_ERR_REPLAY;
	if (r->used >= r->capacity) {
		purge(r, now);
		if (r->used >= r->capacity)
			return CC_ERR_FULL;
		for (i = slot_of(r, key); r->tab[i].used; i = (i + 1) & r->mask)
			;
	}
	memcpy(r->tab[i].key, key, KEY_LEN);
	r->tab[i].expiry = expiry;
	r->tab[i].used = true;
	r->used++;
	return CC_OK;
}
