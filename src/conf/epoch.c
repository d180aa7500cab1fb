/*
 * epoch.c -- group key epochs and the rekey scheduler (DESIGN.md D1, D2,
 * D7; spec/3gpp-kms-conferencing.md §4.4; spec/ambiguities.md A18, A25).
 *
 * Every epoch has fresh random key material (never derived from an older
 * epoch: a leaver holding the old key must learn nothing, §4.4 step 8,
 * A25) and the MKI 0x80000000 | epoch. At most one rekey is in progress
 * (§4.4 step 2); a forced rekey supersedes it.
 */
#include "conf_int.h"

#include <stdlib.h>
#include <string.h>

struct epoch *conf_epoch_find(const struct conf *c, uint32_t e)
{
	/* few live epochs (current, pending, some in grace): linear */
	for (size_t i = 0; i < c->n_ep; i++) {
		if (c->ep[i]->k.epoch == e)
			return c->ep[i];
	}
	return NULL;
}

static void emit_epoch(struct conf *c, enum conf_action_type t,
		       const struct epoch *ep, conf_mid m)
{
	struct conf_action a = { .type = t, .member = m };

	a.u.epoch = &ep->k;
	conf_emit(c, &a);
}

/* ---- exposure: leavers not yet cut off ------------------------------- */

void conf_expo_add(struct conf *c, uint32_t held)
{
	size_t i, j = 0;

	for (i = 0; i < c->n_expo; i++) {
		if (c->expo[i].held == held)
			return; /* an earlier leave of this group is kept */
	}
	if (c->n_expo < EXPO_BUCKETS) {
		c->expo[c->n_expo++] = (struct expo){ held, c->now };
		return;
	}
	/* full (cannot happen with <= 3 live epochs): merge into the
	 * group that is cut last; an overestimate, never an underestimate */
	for (i = 1; i < c->n_expo; i++) {
		if (c->expo[i].held > c->expo[j].held)
			j = i;
	}
	if (held > c->expo[j].held)
		c->expo[j].held = held;
}

static void expo_close(struct conf *c, size_t i)
{
	int64_t w = c->now - c->expo[i].since;

	if (w > c->st.max_leave_exposure)
		c->st.max_leave_exposure = w;
	c->expo[i] = c->expo[--c->n_expo];
}

/* SWITCH_MKI(e) cuts off every leaver whose newest key is older than e */
static void expo_cut(struct conf *c, uint32_t e)
{
	for (size_t i = 0; i < c->n_expo;) {
		if (c->expo[i].held < e)
			expo_close(c, i);
		else
			i++;
	}
}

void conf_expo_close_all(struct conf *c)
{
	while (c->n_expo)
		expo_close(c, 0);
}

/* ---- retiring -------------------------------------------------------- */

static void epoch_drop(struct conf *c, size_t i)
{
	struct epoch *ep = c->ep[i];

	emit_epoch(c, CONF_ACT_RETIRE_EPOCH, ep, CONF_MID_NONE);
	cc_wipe(ep, sizeof(*ep));
	free(ep);
	memmove(&c->ep[i], &c->ep[i + 1], (c->n_ep - i - 1) * sizeof(*c->ep));
	c->n_ep--;
}

static void arm_retire(struct conf *c)
{
	int64_t at = NO_TIME;

	for (size_t i = 0; i < c->n_ep; i++) {
		const struct epoch *ep = c->ep[i];

		if (ep->state == E_OLD && (at == NO_TIME || ep->retire_at < at))
			at = ep->retire_at;
	}
	if (at == NO_TIME)
		conf_cancel_timer(c, CONF_TIMER_RETIRE);
	else
		conf_set_timer(c, CONF_TIMER_RETIRE, at);
}

void conf_retire_due(struct conf *c)
{
	for (size_t i = 0; i < c->n_ep;) {
		const struct epoch *ep = c->ep[i];

		if (ep->state == E_OLD && ep->retire_at <= c->now)
			epoch_drop(c, i);
		else
			i++;
	}
	arm_retire(c);
}

void conf_retire_all(struct conf *c)
{
	while (c->n_ep)
		epoch_drop(c, 0);
}

/* ---- rollout --------------------------------------------------------- */

enum cc_err conf_epoch_keys_send(struct conf *c, uint32_t slot)
{
	struct member *m = &c->m[slot];
	struct epoch *ep = conf_epoch_find(c, m->due);

	if (!ep)
		return CC_ERR_INVAL;
	m->held = m->due;
	c->st.csb_updates++;
	emit_epoch(c, CONF_ACT_SEND_UPDATE, ep, conf_mid_of(c, slot));
	return CC_OK;
}

/* Every member present when e is created and entitled to it must ack e:
 * joined members get the CSB update now, joining ones at JOIN_DONE. */
static void roll_out(struct conf *c, uint32_t e)
{
	c->outstanding = 0;
	for (uint32_t i = 0; i < c->mused; i++) {
		struct member *m = &c->m[i];

		if (m->state == M_FREE)
			continue;
		m->due = 0;
		m->acked = 0;
		if (m->min_epoch > e)
			continue;
		m->due = e;
		c->outstanding++;
		if (m->state == M_ACTIVE && conf_epoch_keys_send(c, i))
			continue; /* cannot happen: e was just created */
	}
	if (c->outstanding)
		conf_set_timer(c, CONF_TIMER_ACK_DEADLINE,
			       c->now + c->pol.ack_deadline);
}

static enum cc_err epoch_append(struct conf *c, struct epoch *ep)
{
	if (c->n_ep == c->cap_ep) {
		size_t ncap = c->cap_ep ? c->cap_ep * 2 : 4;
		struct epoch **n = realloc(c->ep, ncap * sizeof(*n));

		if (!n)
			return CC_ERR_NOMEM;
		c->ep = n;
		c->cap_ep = ncap;
	}
	c->ep[c->n_ep++] = ep;
	return CC_OK;
}

enum cc_err conf_epoch_create(struct conf *c, uint32_t e, const uint8_t *tek,
			      const uint8_t *salt, bool forced)
{
	struct epoch *ep = calloc(1, sizeof(*ep));
	enum cc_err err;

	if (!ep)
		return CC_ERR_NOMEM;
	ep->state = E_PENDING;
	ep->k.epoch = e;
	ep->k.mki = conf_mki(e);
	ep->k.profile = c->pol.profile;
	conf_profile_sizes(c->pol.profile, &ep->k.tek_len, &ep->k.salt_len);
	memcpy(ep->k.tek, tek, ep->k.tek_len);
	memcpy(ep->k.salt, salt, ep->k.salt_len);
	ep->k.created = c->now;
	ep->k.switched = -1;
	err = epoch_append(c, ep);
	if (err) {
		cc_wipe(ep, sizeof(*ep));
		free(ep);
		return err;
	}
	/* an epoch still rolling out is superseded (forced rekey) */
	for (size_t i = 0; i + 1 < c->n_ep; i++) {
		if (c->ep[i]->state == E_PENDING)
			c->ep[i]->state = E_SUPERSEDED;
	}
	if (e > 1) {
		c->st.rekeys++;
		if (forced) {
			c->st.forced_rekeys++;
		} else if (c->last_rekey != NO_TIME) {
			int64_t gap = c->now - c->last_rekey;

			if (c->st.min_rekey_gap < 0 ||
			    gap < c->st.min_rekey_gap)
				c->st.min_rekey_gap = gap;
		}
		c->last_rekey = c->now;
	}
	c->newest = e;
	/* the new epoch covers every membership change made until now */
	c->rekey_due = false;
	emit_epoch(c, CONF_ACT_NEW_EPOCH, ep, CONF_MID_NONE);
	roll_out(c, e);
	return CC_OK;
}

static enum cc_err fresh_keys(struct conf *c, uint32_t e, bool forced)
{
	uint8_t k[CONF_TEK_MAX + CONF_SALT_MAX];
	enum cc_err err;

	err = c->rh(k, sizeof(k), c->rh_arg);
	if (!err)
		err = conf_epoch_create(c, e, k, k + CONF_TEK_MAX, forced);
	cc_wipe(k, sizeof(k));
	return err;
}

enum cc_err conf_rekey_start(struct conf *c, bool forced)
{
	uint32_t e = (c->kms_wait ? c->kms_wait : c->newest) + 1;

	if (e > CONF_EPOCH_MAX)
		return CC_ERR_FULL;
	conf_cancel_timer(c, CONF_TIMER_REKEY);
	if (c->pol.keys == CONF_KEYS_FOCUS)
		return fresh_keys(c, e, forced);
	/* D1 group-keys=kms: the epoch starts when the keys arrive */
	{
		struct conf_action a = { .type = CONF_ACT_REQUEST_KMS_KEYS };

		c->kms_wait = e;
		c->kms_forced = forced;
		a.u.kms_epoch = e;
		conf_emit(c, &a);
		conf_set_timer(c, CONF_TIMER_KMS, c->now + c->pol.ack_deadline);
	}
	return CC_OK;
}

/* The rollout of `newest` ends: all acked, or the deadline passed. */
void conf_rekey_finish(struct conf *c)
{
	uint32_t e = c->newest;
	struct epoch *ep;

	conf_cancel_timer(c, CONF_TIMER_ACK_DEADLINE);
	/* members that did not ack are removed first: the removal is a leave
	 * (they were sent e, so the next rekey cuts them off) */
	for (uint32_t i = 0; i < c->mused; i++) {
		if (c->m[i].state != M_FREE && c->m[i].due == e &&
		    !c->m[i].acked) {
			c->st.removed_no_ack++;
			conf_member_remove(c, i, CONF_RM_NO_ACK);
		}
	}
	for (uint32_t i = 0; i < c->mused; i++)
		c->m[i].due = 0;
	c->outstanding = 0;
	ep = conf_epoch_find(c, e);
	ep->state = E_CURRENT;
	ep->k.switched = c->now;
	emit_epoch(c, CONF_ACT_SWITCH_MKI, ep, CONF_MID_NONE);
	expo_cut(c, e);
	c->cur = e;
	for (size_t i = 0; i < c->n_ep; i++) {
		struct epoch *o = c->ep[i];

		if (o->k.epoch == e || o->state == E_OLD)
			continue;
		/* never used for sending: nothing in flight to wait for */
		o->retire_at = o->state == E_SUPERSEDED ? c->now :
							  c->now + c->pol.grace;
		o->state = E_OLD;
	}
	conf_retire_due(c);
	if (c->pol.max_epoch_age > 0)
		conf_set_timer(c, CONF_TIMER_EPOCH_AGE,
			       ep->k.created + c->pol.max_epoch_age);
}

static bool rekey_busy(const struct conf *c)
{
	return c->kms_wait || c->newest > c->cur;
}

/* Run whatever the state now allows: finish a rollout that has all its
 * acks, start or schedule a due rekey (coalesced: one rekey serves every
 * change since the last, at max(now, last + min_rekey_interval)). */
enum cc_err conf_settle(struct conf *c)
{
	for (int guard = 0; guard < 4; guard++) {
		int64_t at;

		if (!c->kms_wait && c->newest > c->cur && !c->outstanding)
			conf_rekey_finish(c);
		if (!c->rekey_due || rekey_busy(c))
			return CC_OK;
		at = c->now;
		if (c->last_rekey != NO_TIME &&
		    c->last_rekey + c->pol.min_rekey_interval > at)
			at = c->last_rekey + c->pol.min_rekey_interval;
		if (at > c->now) {
			conf_set_timer(c, CONF_TIMER_REKEY, at);
			return CC_OK;
		}
		enum cc_err err = conf_rekey_start(c, false);
		if (err)
			return err;
	}
	return CC_OK;
}
