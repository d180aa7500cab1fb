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

/* ---- the cache ------------------------------------------------------
 *
 * A hash set of accepted messages (linear probing, deletion by backward
 * shift) plus a FIFO of the same entries in arrival order. An entry leaves
 * when its message's T + skew has passed. When the cache is full the
 * oldest entry is evicted and the *floor* rises to its T: from then on a
 * message stamped at or before the floor is refused as stale, because the
 * cache can no longer prove it is not a replay. That is RFC 3830 §5.4's
 * "the skew may be shrunk dynamically as the cache fills": memory stays
 * bounded and allocated up front, and an attacker who floods the cache
 * only narrows the window for honest, fresh messages.
 */

enum {
	KEY_LEN = 16
};

struct slot {
	uint8_t key[KEY_LEN]; /* all zero = empty (key[0] has bit 7 set) */
};

struct fifo {
	uint8_t key[KEY_LEN];
	int64_t ts;     /* the message's T, Unix seconds */
	int64_t expiry; /* ts + skew */
};

struct mikey_replay {
	struct slot *tab;
	size_t mask; /* table size - 1 (power of two, >= 2 * capacity) */
	struct fifo *ring;
	size_t capacity, head, count;
	int64_t floor; /* refuse T <= floor; INT64_MIN when never raised */
	uint32_t skew;
};

static void touch(void *p, size_t n)
{
	volatile uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i += 4096)
		b[i] = 0;
}

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
	r->tab = malloc(size * sizeof(*r->tab));
	r->ring = malloc(capacity * sizeof(*r->ring));
	if (!r->tab || !r->ring) {
		mikey_replay_free(r);
		return CC_ERR_NOMEM;
	}
	/* zero, and touch every page now, so that memory is flat from the
	 * first request (a compiler may turn malloc + memset into calloc,
	 * whose fresh pages are not resident until written) */
	memset(r->tab, 0, size * sizeof(*r->tab));
	memset(r->ring, 0, capacity * sizeof(*r->ring));
	touch(r->tab, size * sizeof(*r->tab));
	touch(r->ring, capacity * sizeof(*r->ring));
	r->mask = size - 1;
	r->capacity = capacity;
	r->floor = INT64_MIN;
	r->skew = skew;
	*rp = r;
	return CC_OK;
}

void mikey_replay_free(struct mikey_replay *r)
{
	if (!r)
		return;
	free(r->tab);
	free(r->ring);
	free(r);
}

void mikey_replay_set_skew(struct mikey_replay *r, uint32_t skew)
{
	r->skew = skew;
}

size_t mikey_replay_count(const struct mikey_replay *r)
{
	return r->count;
}

/* The key: data type, CSB ID and 11 bytes of the V MAC. The MAC cannot be
 * produced without the key, so two accepted messages share it only if
 * they are the same message (88 bits: no accidental collisions). */
static bool make_key(const struct mikey_msg *msg, uint8_t key[KEY_LEN])
{
	const struct mikey_pl *v;

	if (!msg->ch.n || msg->ch.pl[msg->ch.n - 1].type != MIKEY_PT_V)
		return false;
	v = &msg->ch.pl[msg->ch.n - 1];
	if (v->u.v.mac.len < KEY_LEN - 5)
		return false;
	key[0] = (uint8_t)(0x80 | msg->hdr.data_type);
	key[1] = (uint8_t)(msg->hdr.csb_id >> 24);
	key[2] = (uint8_t)(msg->hdr.csb_id >> 16);
	key[3] = (uint8_t)(msg->hdr.csb_id >> 8);
	key[4] = (uint8_t)msg->hdr.csb_id;
	memcpy(key + 5, v->u.v.mac.p, KEY_LEN - 5);
	return true;
}

static size_t home(const struct mikey_replay *r, const uint8_t *key)
{
	uint64_t h;

	memcpy(&h, key + 5, sizeof(h)); /* MAC bytes: already uniform */
	return (size_t)(h ^ (h >> 29)) & r->mask;
}

static bool empty(const struct slot *s)
{
	return !s->key[0];
}

/* The slot holding key, or the empty slot where it would go. */
static size_t probe(const struct mikey_replay *r, const uint8_t *key,
		    bool *found)
{
	size_t i;

	for (i = home(r, key); !empty(&r->tab[i]); i = (i + 1) & r->mask)
		if (cc_ct_equal(r->tab[i].key, key, KEY_LEN)) {
			*found = true;
			return i;
		}
	*found = false;
	return i;
}

/* Remove key; close the gap by shifting later entries of the cluster. */
static void tab_del(struct mikey_replay *r, const uint8_t *key)
{
	bool found;
	size_t i = probe(r, key, &found), j = i, k;

	if (!found)
		return;
	memset(&r->tab[i], 0, sizeof(r->tab[i]));
	for (;;) {
		j = (j + 1) & r->mask;
		if (empty(&r->tab[j]))
			return;
		k = home(r, r->tab[j].key);
		/* move j back to i unless its home lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		r->tab[i] = r->tab[j];
		memset(&r->tab[j], 0, sizeof(r->tab[j]));
		i = j;
	}
}

static void pop_oldest(struct mikey_replay *r)
{
	tab_del(r, r->ring[r->head].key);
	r->head = (r->head + 1) % r->capacity;
	r->count--;
}

static void expire(struct mikey_replay *r, int64_t now)
{
	while (r->count && r->ring[r->head].expiry < now)
		pop_oldest(r);
}

static int64_t msg_time(const struct mikey_msg *msg, int64_t now, bool *clock)
{
	const struct mikey_pl *t = mikey_chain_find(&msg->ch, MIKEY_PT_T, 0);

	*clock = t && t->u.t.type != MIKEY_TS_COUNTER;
	return *clock ? mikey_ts_unix(&t->u.t) : now;
}

static enum cc_err check(const struct mikey_replay *r,
			 const struct mikey_msg *msg, int64_t now,
			 uint8_t key[KEY_LEN], size_t *slot, int64_t *ts,
			 bool *clock)
{
	bool found;

	if (!mikey_chain_find(&msg->ch, MIKEY_PT_T, 0) || !make_key(msg, key))
		return CC_ERR_INVAL;
	*ts = msg_time(msg, now, clock);
	if (*clock && *ts <= r->floor)
		return CC_ERR_STALE;
	*slot = probe(r, key, &found);
	return found ? CC_ERR_REPLAY : CC_OK;
}

enum cc_err mikey_replay_seen(const struct mikey_replay *r,
			      const struct mikey_msg *msg, int64_t now)
{
	uint8_t key[KEY_LEN];
	size_t slot;
	int64_t ts;
	bool clock;

	return check(r, msg, now, key, &slot, &ts, &clock);
}

enum cc_err mikey_replay_add(struct mikey_replay *r,
			     const struct mikey_msg *msg, int64_t now)
{
	uint8_t key[KEY_LEN];
	struct fifo *f;
	size_t slot;
	int64_t ts;
	bool clock, found;
	enum cc_err err;

	expire(r, now);
	err = check(r, msg, now, key, &slot, &ts, &clock);
	if (err)
		return err;
	if (r->count == r->capacity) {
		/* RFC 3830 §5.4: shrink the window rather than forget */
		if (r->ring[r->head].ts > r->floor)
			r->floor = r->ring[r->head].ts;
		pop_oldest(r);
		if (clock && ts <= r->floor)
			return CC_ERR_STALE;
		slot = probe(r, key, &found);
	}
	memcpy(r->tab[slot].key, key, KEY_LEN);
	f = &r->ring[(r->head + r->count) % r->capacity];
	memcpy(f->key, key, KEY_LEN);
	f->ts = ts;
	f->expiry = ts + r->skew;
	r->count++;
	return CC_OK;
}
