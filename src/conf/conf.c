/*
 * conf.c -- the conference object, membership and the event dispatcher
 * (DESIGN.md D2, D3, D6; seed 000 for the allowed set).
 */
#include "conf_int.h"

#include <stdlib.h>
#include <string.h>

/* How often a colliding SSRC is redrawn before the join is refused. */
#define SSRC_TRIES 32

void conf_emit(struct conf *c, struct conf_action *a)
{
	a->now = c->now;
	c->ah(a, c->ah_arg);
}

void conf_set_timer(struct conf *c, enum conf_timer id, int64_t at)
{
	struct conf_action a = { .type = CONF_ACT_SET_TIMER };

	if (c->tmr[id] == at)
		return;
	c->tmr[id] = at;
	a.u.timer.id = id;
	a.u.timer.at = at;
	conf_emit(c, &a);
}

void conf_cancel_timer(struct conf *c, enum conf_timer id)
{
	struct conf_action a = { .type = CONF_ACT_CANCEL_TIMER };

	if (c->tmr[id] == NO_TIME)
		return;
	c->tmr[id] = NO_TIME;
	a.u.timer.id = id;
	conf_emit(c, &a);
}

conf_mid conf_mid_of(const struct conf *c, uint32_t slot)
{
	return ((conf_mid)c->m[slot].gen << 32) | slot;
}

/* O(1): slot index + generation check */
static bool slot_of(const struct conf *c, conf_mid id, uint32_t *slot)
{
	uint32_t s = (uint32_t)id;

	if (s >= c->mused || c->m[s].state == M_FREE ||
	    c->m[s].gen != (uint32_t)(id >> 32))
		return false;
	*slot = s;
	return true;
}

enum cc_err conf_new(struct conf **cp, conf_action_h *ah, void *ah_arg,
		     conf_rand_h *rh, void *rh_arg)
{
	struct conf *c;

	if (!cp || !ah || !rh)
		return CC_ERR_INVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return CC_ERR_NOMEM;
	c->ah = ah;
	c->ah_arg = ah_arg;
	c->rh = rh;
	c->rh_arg = rh_arg;
	c->now = INT64_MIN;
	c->free_head = UINT32_MAX;
	c->last_rekey = NO_TIME;
	for (int i = 0; i < CONF_TIMER__COUNT; i++)
		c->tmr[i] = NO_TIME;
	c->st.min_rekey_gap = -1;
	*cp = c;
	return CC_OK;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_ep; i++) {
		cc_wipe(c->ep[i], sizeof(*c->ep[i]));
		free(c->ep[i]);
	}
	free(c->ep);
	free(c->m);
	ssrc_tab_free(&c->ssrcs);
	idset_free(&c->allowed);
	cc_wipe(c, sizeof(*c));
	free(c);
}

/* ---- helpers ---------------------------------------------------------- */

static bool id_ok(const char *id)
{
	return id && id[0] && strlen(id) <= CONF_ID_MAX;
}

static bool is_self(const struct conf *c, const char *id)
{
	return strcmp(id, c->factory) == 0 ||
	       (c->focus[0] && strcmp(id, c->focus) == 0);
}

/* Build an allowed set from a responder list; factory/focus dropped. */
static enum cc_err build_set(const struct conf *c, const char *const *ids,
			     size_t n, struct idset *out)
{
	enum cc_err err = CC_OK;

	memset(out, 0, sizeof(*out));
	if (n && !ids)
		return CC_ERR_INVAL;
	for (size_t i = 0; i < n && !err; i++) {
		if (!id_ok(ids[i]))
			err = CC_ERR_INVAL;
		else if (!is_self(c, ids[i]))
			err = idset_add(out, ids[i]);
	}
	if (err)
		idset_free(out);
	return err;
}

bool conf_is_allowed(const struct conf *c, const char *identity)
{
	if (!c->created || !id_ok(identity) || is_self(c, identity))
		return false;
	return strcmp(identity, c->owner) == 0 ||
	       idset_has(&c->allowed, identity);
}

void conf_member_remove(struct conf *c, uint32_t slot, enum conf_removal why)
{
	struct member *m = &c->m[slot];
	struct conf_action a = { .member = conf_mid_of(c, slot) };
	bool announced = m->state == M_ACTIVE;

	a.type = CONF_ACT_DROP_MEDIA;
	a.u.removal = why;
	conf_emit(c, &a);
	for (unsigned i = 0; i < m->n_ssrc; i++)
		ssrc_tab_del(&c->ssrcs, m->ssrc[i]);
	if (m->due && !m->acked && m->due == c->newest && c->outstanding)
		c->outstanding--;
	if (m->held) {
		/* it could decrypt until the switch to an epoch it lacks */
		conf_expo_add(c, m->held);
		if ((c->pol.rekey_on & CONF_REKEY_LEAVE) &&
		    why != CONF_RM_ENDED)
			c->rekey_due = true;
	}
	c->n_members--;
	c->st.removals++;
	if (announced && why != CONF_RM_ENDED) {
		a.type = CONF_ACT_NOTIFY;
		a.u.notify = (struct conf_act_notify){
			.joined = false,
			.reason = why,
			.identity = m->id,
			.members = c->n_members,
		};
		conf_emit(c, &a);
	}
	cc_wipe(m->id, sizeof(m->id));
	m->state = M_FREE;
	m->n_ssrc = 0;
	m->held = m->due = 0;
	if (++m->gen == 0)
		m->gen = 1;
	m->next_free = c->free_head;
	c->free_head = slot;
}

/* ---- CREATED / ALLOWED_SET ------------------------------------------- */

static enum cc_err on_created(struct conf *c, const struct conf_ev_created *e)
{
	struct conf_policy pol;
	struct idset set;
	enum cc_err err;

	if (c->created || !id_ok(e->creator) || !id_ok(e->factory) ||
	    (e->focus && !id_ok(e->focus)) ||
	    (e->n_focus_ssrcs && !e->focus_ssrcs))
		return CC_ERR_INVAL;
	if (e->policy)
		pol = *e->policy;
	else
		conf_policy_default(&pol);
	if (conf_policy_check(&pol))
		return CC_ERR_INVAL;
	strcpy(c->factory, e->factory);
	strcpy(c->focus, e->focus ? e->focus : "");
	err = build_set(c, e->allowed, e->n_allowed, &set);
	if (!err)
		err = ssrc_tab_reserve(&c->ssrcs, e->n_focus_ssrcs);
	if (err) {
		c->factory[0] = c->focus[0] = 0;
		return err;
	}
	for (size_t i = 0; i < e->n_focus_ssrcs; i++) {
		if (!ssrc_tab_get(&c->ssrcs, e->focus_ssrcs[i]))
			ssrc_tab_put(&c->ssrcs, e->focus_ssrcs[i],
				     SSRC_SLOT_FOCUS);
	}
	c->allowed = set;
	c->pol = pol;
	strcpy(c->owner, e->creator);
	c->created = true;
	/* the first epoch (started by conf_settle) is not a rekey: it does
	 * not count for spacing; if the random source fails now, the next
	 * event retries it */
	c->rekey_due = true;
	return CC_OK;
}

static enum cc_err on_allowed(struct conf *c, const struct conf_ev_allowed *e)
{
	struct idset set;
	enum cc_err err;

	if (!id_ok(e->by))
		return CC_ERR_INVAL;
	if (strcmp(e->by, c->owner) != 0)
		return CC_ERR_NOT_AUTHORISED;
	err = build_set(c, e->allowed, e->n_allowed, &set);
	if (err)
		return err;
	if (set.n == 0) {
		/* seed 000: a ticket naming only the focus changes nothing */
		idset_free(&set);
		return CC_OK;
	}
	idset_free(&c->allowed);
	c->allowed = set;
	for (uint32_t i = 0; i < c->mused; i++) {
		if (c->m[i].state != M_FREE && !conf_is_allowed(c, c->m[i].id))
			conf_member_remove(c, i, CONF_RM_DISALLOWED);
	}
	return CC_OK;
}

/* ---- JOIN_REQUEST ----------------------------------------------------- */

static void reject(struct conf *c, uint64_t cookie, enum conf_reject why)
{
	struct conf_action a = { .type = CONF_ACT_REJECT, .cookie = cookie };

	a.u.reject = why;
	c->st.rejects++;
	conf_emit(c, &a);
}

static bool ssrc_taken(const struct conf *c, const uint32_t *mine, size_t n,
		       uint32_t v)
{
	for (size_t i = 0; i < n; i++) {
		if (mine[i] == v)
			return true;
	}
	return ssrc_tab_get(&c->ssrcs, v) != NULL;
}

/* D6: keep each offered SSRC unless taken; else draw a free one. */
static enum cc_err pick_ssrcs(struct conf *c, const struct conf_ev_join *j,
			      uint32_t *out, bool *changed, bool *exhausted)
{
	for (size_t i = 0; i < j->n_ssrcs; i++) {
		uint32_t v = j->ssrcs[i];
		int tries = 0;

		while (ssrc_taken(c, out, i, v)) {
			uint8_t r[4];
			enum cc_err err;

			if (tries++ == SSRC_TRIES) {
				*exhausted = true;
				return CC_OK;
			}
			err = c->rh(r, sizeof(r), c->rh_arg);
			if (err)
				return err;
			v = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 |
			    (uint32_t)r[2] << 8 | r[3];
			*changed = true;
		}
		out[i] = v;
	}
	return CC_OK;
}

static enum cc_err slot_alloc(struct conf *c, uint32_t *slot)
{
	if (c->free_head != UINT32_MAX) {
		*slot = c->free_head;
		c->free_head = c->m[*slot].next_free;
		return CC_OK;
	}
	if (c->mused == c->mcap) {
		uint32_t ncap = c->mcap ? c->mcap * 2 : 16;
		struct member *n;

		if (ncap > c->pol.max_members)
			ncap = c->pol.max_members;
		n = realloc(c->m, (size_t)ncap * sizeof(*n));
		if (!n)
			return CC_ERR_NOMEM;
		memset(n + c->mcap, 0, (size_t)(ncap - c->mcap) * sizeof(*n));
		c->m = n;
		c->mcap = ncap;
	}
	*slot = c->mused++;
	c->m[*slot].gen = 1;
	return CC_OK;
}

static void accept_epochs(struct conf *c, struct member *m,
			  struct conf_act_accept *acc)
{
	const struct epoch *cur = conf_epoch_find(c, c->cur);
	const struct epoch *nw = conf_epoch_find(c, c->newest);

	if (c->pol.join == CONF_JOIN_DEFERRED)
		return;
	if (cur)
		acc->epochs[acc->n_epochs++] = &cur->k;
	if (nw && nw != cur)
		acc->epochs[acc->n_epochs++] = &nw->k;
	if (acc->n_epochs)
		m->held = acc->epochs[acc->n_epochs - 1]->epoch;
	/* join reach: how far back the oldest delivered key decrypts */
	if (cur && c->now - cur->k.switched > c->st.max_join_reach)
		c->st.max_join_reach = c->now - cur->k.switched;
}

static void member_commit(struct conf *c, uint32_t slot,
			  const struct conf_ev_join *j, const uint32_t *ssrcs)
{
	struct member *m = &c->m[slot];

	m->state = M_JOINING;
	m->via = (uint8_t)j->via;
	m->n_ssrc = (uint8_t)j->n_ssrcs;
	m->acked = 0;
	m->held = m->due = 0;
	m->joined = c->now;
	/* deferred: nothing created before the join (D2) */
	m->min_epoch = c->pol.join == CONF_JOIN_DEFERRED ? c->newest + 1 : 1;
	strcpy(m->id, j->identity);
	for (size_t i = 0; i < j->n_ssrcs; i++) {
		m->ssrc[i] = ssrcs[i];
		ssrc_tab_put(&c->ssrcs, ssrcs[i], slot);
	}
	if (++c->n_members > c->st.members_peak)
		c->st.members_peak = c->n_members;
	if ((c->pol.rekey_on & CONF_REKEY_JOIN) ||
	    c->pol.join == CONF_JOIN_DEFERRED)
		c->rekey_due = true;
}

static enum cc_err on_join(struct conf *c, const struct conf_ev_join *j)
{
	struct conf_action a = { .type = CONF_ACT_ACCEPT, .cookie = j->cookie };
	uint32_t ssrcs[CONF_SSRC_MAX], slot;
	bool changed = false, exhausted = false;
	enum cc_err err;

	if (j->n_ssrcs && !j->ssrcs)
		return CC_ERR_INVAL;
	if (j->via > CONF_VIA_DIAL_OUT)
		return CC_ERR_INVAL;
	if (!id_ok(j->identity)) {
		reject(c, j->cookie, CONF_REJ_BAD_REQUEST);
		return CC_OK;
	}
	if (j->n_ssrcs > c->pol.max_ssrcs_per_member) {
		reject(c, j->cookie, CONF_REJ_TOO_MANY_SSRCS);
		return CC_OK;
	}
	if (!conf_is_allowed(c, j->identity)) {
		reject(c, j->cookie, CONF_REJ_NOT_ALLOWED);
		return CC_OK;
	}
	if (c->n_members >= c->pol.max_members) {
		reject(c, j->cookie, CONF_REJ_FULL);
		return CC_OK;
	}
	err = pick_ssrcs(c, j, ssrcs, &changed, &exhausted);
	if (err)
		return err;
	if (exhausted) {
		reject(c, j->cookie, CONF_REJ_SSRC_EXHAUSTED);
		return CC_OK;
	}
	err = ssrc_tab_reserve(&c->ssrcs, j->n_ssrcs);
	if (!err)
		err = slot_alloc(c, &slot);
	if (err)
		return err;
	member_commit(c, slot, j, ssrcs);
	a.member = conf_mid_of(c, slot);
	a.u.accept.identity = c->m[slot].id;
	a.u.accept.via = j->via;
	a.u.accept.n_ssrcs = j->n_ssrcs;
	memcpy(a.u.accept.ssrcs, ssrcs, j->n_ssrcs * sizeof(*ssrcs));
	a.u.accept.ssrc_changed = changed;
	a.u.accept.n_active_ssrcs = c->ssrcs.n;
	accept_epochs(c, &c->m[slot], &a.u.accept);
	c->st.joins++;
	conf_emit(c, &a);
	return CC_OK;
}

/* ---- member events ---------------------------------------------------- */

static enum cc_err on_join_done(struct conf *c, uint32_t slot)
{
	struct member *m = &c->m[slot];
	struct conf_action a = { .type = CONF_ACT_NOTIFY };

	if (m->state != M_JOINING)
		return CC_ERR_INVAL;
	m->state = M_ACTIVE;
	a.member = conf_mid_of(c, slot);
	a.u.notify = (struct conf_act_notify){ .joined = true,
					       .identity = m->id,
					       .members = c->n_members };
	conf_emit(c, &a);
	/* a rekey began while it was joining: its CSB update goes now */
	if (m->due && m->held < m->due)
		return conf_epoch_keys_send(c, slot);
	return CC_OK;
}

static enum cc_err on_rekey_ack(struct conf *c, uint32_t slot, uint32_t e)
{
	struct member *m = &c->m[slot];

	if (e == 0 || e > m->held)
		return CC_ERR_INVAL; /* acks a key it was never sent */
	if (e == m->due && !m->acked) {
		m->acked = 1;
		c->outstanding--;
	}
	return CC_OK; /* an ack of an older epoch is stale: ignored */
}

static enum cc_err on_compromised(struct conf *c, uint32_t slot)
{
	bool keyed = c->m[slot].held != 0;

	conf_member_remove(c, slot, CONF_RM_COMPROMISED);
	/* The explicit exception to min_rekey_interval: the member's keys
	 * must stop working now. A KMS epoch still awaited already
	 * excludes it (nobody has it yet). */
	if (!keyed || c->kms_wait)
		return CC_OK;
	c->rekey_due = true; /* if the forced start fails, a normal one */
	return conf_rekey_start(c, true);
}

static enum cc_err on_member_event(struct conf *c, const struct conf_event *ev)
{
	uint32_t slot;
	conf_mid id = ev->type == CONF_EV_REKEY_ACK ||
				      ev->type == CONF_EV_REKEY_FAILED ?
			      ev->u.rekey.member :
			      ev->u.member;

	if (!slot_of(c, id, &slot))
		return CC_ERR_NOT_FOUND;
	switch (ev->type) {
	case CONF_EV_JOIN_DONE:
		return on_join_done(c, slot);
	case CONF_EV_JOIN_FAILED:
		if (c->m[slot].state != M_JOINING)
			return CC_ERR_INVAL;
		conf_member_remove(c, slot, CONF_RM_JOIN_FAILED);
		return CC_OK;
	case CONF_EV_LEAVE:
		conf_member_remove(c, slot, CONF_RM_LEFT);
		return CC_OK;
	case CONF_EV_LOST:
		conf_member_remove(c, slot, CONF_RM_LOST);
		return CC_OK;
	case CONF_EV_REKEY_ACK:
		return on_rekey_ack(c, slot, ev->u.rekey.epoch);
	case CONF_EV_REKEY_FAILED:
		if (ev->u.rekey.epoch == 0 ||
		    ev->u.rekey.epoch > c->m[slot].held)
			return CC_ERR_INVAL;
		/* RFC 4567 §4.1.2: the offerer aborts the session */
		conf_member_remove(c, slot, CONF_RM_REKEY_FAILED);
		return CC_OK;
	case CONF_EV_COMPROMISED:
		return on_compromised(c, slot);
	default:
		return CC_ERR_INVAL;
	}
}

/* ---- TIMER / KMS_KEYS / MEDIA_ROC / ENDED ------------------------------ */

static enum cc_err on_timer(struct conf *c, enum conf_timer id)
{
	int64_t at;

	if ((unsigned)id == 0 || id >= CONF_TIMER__COUNT)
		return CC_ERR_INVAL;
	at = c->tmr[id];
	if (at == NO_TIME)
		return CC_OK; /* cancelled or already served: stale */
	if (at > c->now) {
		/* early: arm it again */
		c->tmr[id] = NO_TIME;
		conf_set_timer(c, id, at);
		return CC_OK;
	}
	c->tmr[id] = NO_TIME;
	switch (id) {
	case CONF_TIMER_REKEY:
		return CC_OK; /* conf_settle starts it */
	case CONF_TIMER_ACK_DEADLINE:
		if (!c->kms_wait && c->newest > c->cur)
			conf_rekey_finish(c);
		return CC_OK;
	case CONF_TIMER_RETIRE:
		conf_retire_due(c);
		return CC_OK;
	case CONF_TIMER_EPOCH_AGE:
		c->rekey_due = true; /* periodic rekey */
		return CC_OK;
	case CONF_TIMER_KMS:
		if (c->kms_wait) {
			struct conf_action a = {
				.type = CONF_ACT_REQUEST_KMS_KEYS
			};

			a.u.kms_epoch = c->kms_wait;
			conf_emit(c, &a);
			conf_set_timer(c, CONF_TIMER_KMS,
				       c->now + c->pol.ack_deadline);
		}
		return CC_OK;
	default:
		return CC_ERR_INVAL;
	}
}

static enum cc_err on_kms_keys(struct conf *c, const struct conf_ev_kms_keys *k)
{
	size_t tl, sl;
	uint8_t salt[CONF_SALT_MAX] = { 0 };
	enum cc_err err;

	conf_profile_sizes(c->pol.profile, &tl, &sl);
	if (c->pol.keys != CONF_KEYS_KMS || !c->kms_wait ||
	    k->epoch != c->kms_wait || k->tek_len != tl || k->salt_len != sl ||
	    !k->tek || !k->salt)
		return CC_ERR_INVAL;
	memcpy(salt, k->salt, sl);
	err = conf_epoch_create(c, k->epoch, k->tek, salt, c->kms_forced);
	cc_wipe(salt, sizeof(salt));
	if (err)
		return err;
	c->kms_wait = 0;
	c->kms_forced = false;
	conf_cancel_timer(c, CONF_TIMER_KMS);
	return CC_OK;
}

static enum cc_err on_roc(struct conf *c, const struct conf_ev_roc *r)
{
	struct ssrc_ent *e = ssrc_tab_get(&c->ssrcs, r->ssrc);

	if (!e)
		return CC_ERR_NOT_FOUND;
	c->ssrcs.ver += e->roc != r->roc;
	e->roc = r->roc;
	return CC_OK;
}

static void on_ended(struct conf *c)
{
	struct conf_action a = { .type = CONF_ACT_END };

	for (uint32_t i = 0; i < c->mused; i++) {
		if (c->m[i].state != M_FREE)
			conf_member_remove(c, i, CONF_RM_ENDED);
	}
	conf_expo_close_all(c); /* media stops: every window closes */
	conf_retire_all(c);
	for (int i = 1; i < CONF_TIMER__COUNT; i++)
		conf_cancel_timer(c, (enum conf_timer)i);
	c->cur = 0;
	c->kms_wait = 0;
	c->rekey_due = false;
	c->ended = true;
	conf_emit(c, &a);
}

static enum cc_err dispatch(struct conf *c, const struct conf_event *ev)
{
	switch (ev->type) {
	case CONF_EV_ALLOWED_SET:
		return on_allowed(c, &ev->u.allowed);
	case CONF_EV_JOIN_REQUEST:
		return on_join(c, &ev->u.join);
	case CONF_EV_TIMER:
		return on_timer(c, ev->u.timer);
	case CONF_EV_KMS_KEYS:
		return on_kms_keys(c, &ev->u.kms);
	case CONF_EV_MEDIA_ROC:
		return on_roc(c, &ev->u.roc);
	case CONF_EV_ENDED:
		on_ended(c);
		return CC_OK;
	case CONF_EV_JOIN_DONE:
	case CONF_EV_JOIN_FAILED:
	case CONF_EV_LEAVE:
	case CONF_EV_LOST:
	case CONF_EV_REKEY_ACK:
	case CONF_EV_REKEY_FAILED:
	case CONF_EV_COMPROMISED:
		return on_member_event(c, ev);
	default:
		return CC_ERR_INVAL;
	}
}

enum cc_err conf_handle(struct conf *c, const struct conf_event *ev)
{
	enum cc_err err;

	if (!c || !ev || (c->created && ev->now < c->now))
		return CC_ERR_INVAL;
	if (ev->type == CONF_EV_CREATED) {
		if (c->created)
			return CC_ERR_INVAL;
		c->now = ev->now;
		err = on_created(c, &ev->u.created);
	} else if (!c->created) {
		return CC_ERR_INVAL;
	} else if (c->ended) {
		c->now = ev->now;
		if (ev->type == CONF_EV_JOIN_REQUEST)
			reject(c, ev->u.join.cookie, CONF_REJ_ENDED);
		return CC_OK; /* everything else is moot */
	} else {
		c->now = ev->now;
		err = dispatch(c, ev);
	}
	if (err || c->ended)
		return err;
	return conf_settle(c);
}

/* ---- accessors -------------------------------------------------------- */

bool conf_is_live(const struct conf *c)
{
	return c->created && !c->ended;
}

const char *conf_owner(const struct conf *c)
{
	return c->created ? c->owner : NULL;
}

const struct conf_policy *conf_get_policy(const struct conf *c)
{
	return &c->pol;
}

const char *conf_member_identity(const struct conf *c, conf_mid m)
{
	uint32_t slot;

	return slot_of(c, m, &slot) ? c->m[slot].id : NULL;
}

uint32_t conf_current_epoch(const struct conf *c)
{
	return c->cur;
}

uint32_t conf_newest_epoch(const struct conf *c)
{
	return c->newest;
}

const struct conf_epoch_keys *conf_epoch_keys(const struct conf *c,
					      uint32_t epoch)
{
	const struct epoch *ep = conf_epoch_find(c, epoch);

	return ep ? &ep->k : NULL;
}

static conf_mid owner_of(const struct conf *c, const struct ssrc_ent *e)
{
	return e->slot == SSRC_SLOT_FOCUS ? CONF_MID_FOCUS :
					    conf_mid_of(c, e->slot);
}

bool conf_ssrc_owner(const struct conf *c, uint32_t ssrc, conf_mid *owner)
{
	const struct ssrc_ent *e = ssrc_tab_get(&c->ssrcs, ssrc);

	if (!e)
		return false;
	if (owner)
		*owner = owner_of(c, e);
	return true;
}

bool conf_ssrc_roc(const struct conf *c, uint32_t ssrc, uint32_t *roc)
{
	const struct ssrc_ent *e = ssrc_tab_get(&c->ssrcs, ssrc);

	if (!e)
		return false;
	if (roc)
		*roc = e->roc;
	return true;
}

uint64_t conf_ssrc_version(const struct conf *c)
{
	return c->ssrcs.ver;
}

void conf_ssrc_foreach(const struct conf *c, conf_ssrc_h *h, void *arg)
{
	for (size_t i = 0; i < c->ssrcs.cap; i++) {
		const struct ssrc_ent *e = &c->ssrcs.e[i];

		if (e->used)
			h(e->ssrc, e->roc, owner_of(c, e), arg);
	}
}

void conf_stats(const struct conf *c, int64_t now, struct conf_stats *st)
{
	*st = c->st;
	st->members = c->n_members;
	st->allowed = (uint32_t)c->allowed.n;
	st->ssrcs = (uint32_t)c->ssrcs.n;
	st->epoch_current = c->cur;
	st->epoch_newest = c->newest;
	st->open_leave_exposure = 0;
	for (size_t i = 0; i < c->n_expo; i++) {
		if (now - c->expo[i].since > st->open_leave_exposure)
			st->open_leave_exposure = now - c->expo[i].since;
	}
	st->state_bytes = sizeof(*c) + (size_t)c->mcap * sizeof(struct member) +
			  c->ssrcs.cap * sizeof(struct ssrc_ent) +
			  c->allowed.cap * sizeof(char *) + c->allowed.bytes +
			  c->cap_ep * sizeof(struct epoch *) +
			  c->n_ep * sizeof(struct epoch);
}
