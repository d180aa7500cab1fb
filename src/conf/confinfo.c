/*
 * confinfo.c -- the roster model of the conference event package (RFC
 * 4575): users sorted by entity, versioned commits on the focus side,
 * and the reconciliation with the conference core. The participant's
 * side (applying documents) is in confinfo_apply.c.
 */
#include "confinfo_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ------------------------------------------------------------ */

static const char *const status_names[] = {
	[CONFINFO_ST_CONNECTED] = "connected",
	[CONFINFO_ST_DISCONNECTED] = "disconnected",
	[CONFINFO_ST_ON_HOLD] = "on-hold",
	[CONFINFO_ST_MUTED_VIA_FOCUS] = "muted-via-focus",
	[CONFINFO_ST_PENDING] = "pending",
	[CONFINFO_ST_ALERTING] = "alerting",
	[CONFINFO_ST_DIALING_IN] = "dialing-in",
	[CONFINFO_ST_DIALING_OUT] = "dialing-out",
	[CONFINFO_ST_DISCONNECTING] = "disconnecting",
};

static const char *const joining_names[] = {
	[CONFINFO_JOIN_DIALED_IN] = "dialed-in",
	[CONFINFO_JOIN_DIALED_OUT] = "dialed-out",
	[CONFINFO_JOIN_REFER] = "dialed-in", /* + <referred/> (§5.7.2) */
	[CONFINFO_JOIN_FOCUS_OWNER] = "focus-owner",
};

static const char *const disc_names[] = {
	[CONFINFO_DISC_DEPARTED] = "departed",
	[CONFINFO_DISC_BOOTED] = "booted",
	[CONFINFO_DISC_FAILED] = "failed",
	[CONFINFO_DISC_BUSY] = "busy",
};

static const char *const trust_names[] = {
	[CONFINFO_TRUST_KMS] = "kms",
	[CONFINFO_TRUST_SDES] = "sdes",
};

static const char *const media_names[] = {
	[CONFINFO_MEDIA_AUDIO] = "audio",
	[CONFINFO_MEDIA_VIDEO] = "video",
	[CONFINFO_MEDIA_TEXT] = "text",
	[CONFINFO_MEDIA_APPLICATION] = "application",
	[CONFINFO_MEDIA_MESSAGE] = "message",
};

#define NAME_OF(tab, v)                                                        \
	((unsigned)(v) < sizeof(tab) / sizeof(tab[0]) && (tab)[v] ? (tab)[v] : \
								    "")

const char *confinfo_status_name(enum confinfo_status s)
{
	return NAME_OF(status_names, s);
}

const char *confinfo_joining_name(enum confinfo_joining j)
{
	return NAME_OF(joining_names, j);
}

const char *confinfo_disconnection_name(enum confinfo_disconnection d)
{
	return NAME_OF(disc_names, d);
}

const char *confinfo_trust_name(enum confinfo_trust t)
{
	return NAME_OF(trust_names, t);
}

const char *confinfo_media_type_name(enum confinfo_media_type t)
{
	return NAME_OF(media_names, t);
}

const char *confinfo_result_name(enum confinfo_result r)
{
	switch (r) {
	case CONFINFO_APPLIED:
		return "applied";
	case CONFINFO_STALE:
		return "stale";
	case CONFINFO_NEED_FULL:
		return "need full";
	case CONFINFO_ENDED:
		return "ended";
	default:
		return "unknown";
	}
}

const char *ci_state_name(enum confinfo_state s)
{
	switch (s) {
	case CONFINFO_PARTIAL:
		return "partial";
	case CONFINFO_DELETED:
		return "deleted";
	default:
		return "full";
	}
}

enum confinfo_disconnection confinfo_disconnection_of(enum conf_removal why)
{
	switch (why) {
	case CONF_RM_LEFT:
		return CONFINFO_DISC_DEPARTED;
	case CONF_RM_LOST:
	case CONF_RM_REKEY_FAILED:
	case CONF_RM_JOIN_FAILED:
		return CONFINFO_DISC_FAILED;
	default: /* the focus ended the dialog */
		return CONFINFO_DISC_BOOTED;
	}
}

/* ---- character checks (XML 1.0 §2.2) --------------------------------- */

/* Decode one UTF-8 sequence at p[0..n); 0 if invalid or not an XML Char.
 * Returns its length. */
static size_t xml_char_len(const uint8_t *p, size_t n)
{
	uint32_t cp;
	size_t len;

	if (p[0] < 0x80) {
		if (p[0] < 0x20 && p[0] != '\t' && p[0] != '\n' && p[0] != '\r')
			return 0;
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07u;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
	    cp == 0xffff)
		return 0;
	return len;
}

bool ci_xml_chars_ok(const uint8_t *p, size_t n, size_t *bad)
{
	size_t i = 0, l;

	while (i < n) {
		l = xml_char_len(p + i, n - i);
		if (!l) {
			if (bad)
				*bad = i;
			return false;
		}
		i += l;
	}
	return true;
}

bool ci_str_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	return n <= max && ci_xml_chars_ok((const uint8_t *)s, n, NULL);
}

/* ---- object ----------------------------------------------------------- */

int ci_user_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ci_user *)a)->u.entity,
		      ((const struct ci_user *)b)->u.entity);
}

int ci_name_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

enum cc_err confinfo_new(struct confinfo **cip, const char *focus_uri)
{
	struct confinfo *ci;

	if (!cip)
		return CC_ERR_INVAL;
	if (focus_uri &&
	    (!focus_uri[0] || !ci_str_ok(focus_uri, CONFINFO_URI_MAX)))
		return CC_ERR_INVAL;
	ci = calloc(1, sizeof(*ci));
	if (!ci)
		return CC_ERR_NOMEM;
	if (focus_uri)
		strcpy(ci->entity, focus_uri);
	ci->keep_disc = CONFINFO_KEEP_DISCONNECTED;
	ci->pending = true; /* the first commit publishes version 1 */
	ci->cs.present = true;
	ci->next_active = true;
	*cip = ci;
	return CC_OK;
}

void ci_reset(struct confinfo *ci)
{
	ci->entity[0] = 0;
	ci->version = 0;
	ci->has_base = ci->ended = false;
	ci->doc_state = ci->users_state = CONFINFO_FULL;
	ci->users_present = false;
	ci->cs = (struct confinfo_conf_state){ 0 };
	ci->n_users = 0;
	ci->del_last.n = ci->del_pending.n = 0;
}

void confinfo_free(struct confinfo *ci)
{
	if (!ci)
		return;
	free(ci->users);
	free(ci->del_pending.e);
	free(ci->del_last.e);
	free(ci);
}

const char *confinfo_entity(const struct confinfo *ci)
{
	return ci->entity;
}

uint32_t confinfo_version(const struct confinfo *ci)
{
	return ci->version;
}

const struct confinfo_conf_state *confinfo_conf_state(const struct confinfo *ci)
{
	return &ci->cs;
}

bool confinfo_ended(const struct confinfo *ci)
{
	return ci->ended;
}

enum confinfo_state confinfo_doc_state(const struct confinfo *doc)
{
	return doc->doc_state;
}

size_t confinfo_user_count(const struct confinfo *ci)
{
	return ci->n_users;
}

const struct confinfo_user *confinfo_user_at(const struct confinfo *ci,
					     size_t i)
{
	return i < ci->n_users ? &ci->users[i].u : NULL;
}

/* binary search: the index of entity, or where it would go (*found) */
static size_t find_pos(const struct confinfo *ci, const char *entity,
		       bool *found)
{
	size_t lo = 0, hi = ci->n_users;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(ci->users[mid].u.entity, entity);

		if (r == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const struct confinfo_user *confinfo_find(const struct confinfo *ci,
					  const char *entity)
{
	bool found;
	size_t i;

	if (!entity)
		return NULL;
	i = find_pos(ci, entity, &found);
	return found ? &ci->users[i].u : NULL;
}

enum cc_err ci_users_reserve(struct confinfo *ci, size_t n)
{
	struct ci_user *nu;
	size_t cap;

	if (n > CONFINFO_USERS_MAX)
		return CC_ERR_FULL;
	if (n <= ci->cap_users)
		return CC_OK;
	cap = ci->cap_users ? ci->cap_users : 16;
	while (cap < n)
		cap *= 2;
	nu = realloc(ci->users, cap * sizeof(*nu));
	if (!nu)
		return CC_ERR_NOMEM;
	ci->users = nu;
	ci->cap_users = cap;
	return CC_OK;
}

enum cc_err ci_names_add(struct ci_names *l, const char *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char(*ne)[CONFINFO_URI_MAX + 1];

		if (cap > CONFINFO_USERS_MAX)
			return CC_ERR_FULL;
		ne = realloc(l->e, cap * sizeof(*ne));
		if (!ne)
			return CC_ERR_NOMEM;
		l->e = ne;
		l->cap = cap;
	}
	snprintf(l->e[l->n++], CONFINFO_URI_MAX + 1, "%s", e);
	return CC_OK;
}

static void names_del(struct ci_names *l, const char *e)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->e[i], e) == 0) {
			memmove(l->e[i], l->e[l->n - 1], sizeof(l->e[i]));
			l->n--;
			return;
		}
	}
}

/* ---- focus side: changes ------------------------------------------------ */

static bool user_valid(const struct confinfo_user *u)
{
	if (!u->entity[0] || !ci_str_ok(u->entity, CONFINFO_URI_MAX) ||
	    !ci_str_ok(u->display, CONFINFO_TEXT_MAX))
		return false;
	if (u->status >= CONFINFO_ST_OTHER ||
	    u->joining >= CONFINFO_JOIN_OTHER ||
	    u->disconnection >= CONFINFO_DISC_OTHER ||
	    u->trust >= CONFINFO_TRUST_OTHER || u->n_media > CONFINFO_MEDIA_MAX)
		return false;
	for (size_t i = 0; i < u->n_media; i++)
		if (u->media[i].type >= CONFINFO_MEDIA_OTHER)
			return false;
	return true;
}

static bool media_equal(const struct confinfo_media *a,
			const struct confinfo_media *b)
{
	return a->id == b->id && a->type == b->type &&
	       a->has_ssrc == b->has_ssrc &&
	       (!a->has_ssrc || a->ssrc == b->ssrc);
}

static bool user_equal(const struct confinfo_user *a,
		       const struct confinfo_user *b)
{
	if (strcmp(a->entity, b->entity) || strcmp(a->display, b->display) ||
	    a->status != b->status || a->joining != b->joining ||
	    a->disconnection != b->disconnection || a->trust != b->trust ||
	    a->epoch != b->epoch || a->n_media != b->n_media)
		return false;
	for (size_t i = 0; i < a->n_media; i++)
		if (!media_equal(&a->media[i], &b->media[i]))
			return false;
	return true;
}

/* copy with the unused tail zeroed, so equal users are equal bytes too */
void ci_user_copy(struct confinfo_user *dst, const struct confinfo_user *s)
{
	memset(dst, 0, sizeof(*dst));
	snprintf(dst->entity, sizeof(dst->entity), "%s", s->entity);
	snprintf(dst->display, sizeof(dst->display), "%s", s->display);
	dst->status = s->status;
	dst->joining = s->joining;
	dst->disconnection = s->disconnection;
	dst->trust = s->trust;
	dst->epoch = s->epoch;
	dst->n_media = s->n_media;
	for (size_t i = 0; i < s->n_media && i < CONFINFO_MEDIA_MAX; i++)
		dst->media[i] = s->media[i];
}

static void touch(struct confinfo *ci, struct ci_user *cu)
{
	cu->dirty = 1;
	ci->pending = true;
}

static enum cc_err user_put(struct confinfo *ci, const struct confinfo_user *u,
			    struct ci_user **out)
{
	bool found;
	size_t i;
	struct ci_user *cu;
	enum cc_err err;

	if (!user_valid(u))
		return CC_ERR_INVAL;
	i = find_pos(ci, u->entity, &found);
	if (found) {
		cu = &ci->users[i];
		if (!user_equal(&cu->u, u)) {
			ci_user_copy(&cu->u, u);
			touch(ci, cu);
		}
		*out = cu;
		return CC_OK;
	}
	err = ci_users_reserve(ci, ci->n_users + 1);
	if (err)
		return err;
	memmove(&ci->users[i + 1], &ci->users[i],
		(ci->n_users - i) * sizeof(ci->users[0]));
	ci->n_users++;
	cu = &ci->users[i];
	memset(cu, 0, sizeof(*cu));
	ci_user_copy(&cu->u, u);
	touch(ci, cu);
	names_del(&ci->del_pending, u->entity); /* back before it was gone */
	*out = cu;
	return CC_OK;
}

enum cc_err confinfo_user_put(struct confinfo *ci,
			      const struct confinfo_user *u)
{
	struct ci_user *cu;

	if (!ci || !u)
		return CC_ERR_INVAL;
	return user_put(ci, u, &cu);
}

static void disconnect(struct confinfo *ci, struct ci_user *cu,
		       enum confinfo_disconnection how)
{
	struct confinfo_user *u = &cu->u;

	if (u->status == CONFINFO_ST_DISCONNECTED)
		return;
	u->status = CONFINFO_ST_DISCONNECTED;
	u->disconnection = how;
	u->trust = CONFINFO_TRUST_NONE;
	u->epoch = 0;
	u->n_media = 0;
	memset(u->media, 0, sizeof(u->media));
	touch(ci, cu);
}

enum cc_err confinfo_user_disconnect(struct confinfo *ci, const char *entity,
				     enum confinfo_disconnection how)
{
	bool found;
	size_t i;

	if (!ci || !entity || how >= CONFINFO_DISC_OTHER)
		return CC_ERR_INVAL;
	i = find_pos(ci, entity, &found);
	if (!found)
		return CC_ERR_NOT_FOUND;
	disconnect(ci, &ci->users[i], how);
	return CC_OK;
}

static enum cc_err delete_at(struct confinfo *ci, size_t i)
{
	enum cc_err err = ci_names_add(&ci->del_pending, ci->users[i].u.entity);

	if (err)
		return err;
	memmove(&ci->users[i], &ci->users[i + 1],
		(ci->n_users - i - 1) * sizeof(ci->users[0]));
	ci->n_users--;
	ci->pending = true;
	return CC_OK;
}

enum cc_err confinfo_user_delete(struct confinfo *ci, const char *entity)
{
	bool found;
	size_t i;

	if (!ci || !entity)
		return CC_ERR_INVAL;
	i = find_pos(ci, entity, &found);
	if (!found)
		return CC_ERR_NOT_FOUND;
	return delete_at(ci, i);
}

void confinfo_set_keep_disconnected(struct confinfo *ci, size_t n)
{
	ci->keep_disc = n;
}

void confinfo_set_active(struct confinfo *ci, bool active)
{
	if (ci->next_active != active) {
		ci->next_active = active;
		ci->pending = true;
	}
}

void confinfo_set_epoch(struct confinfo *ci, uint32_t epoch)
{
	if (ci->next_epoch != epoch) {
		ci->next_epoch = epoch;
		ci->pending = true;
	}
}

/* ---- focus side: commit ------------------------------------------------- */

struct evict {
	uint32_t changed;
	size_t idx;
};

static int evict_cmp(const void *a, const void *b)
{
	const struct evict *x = a, *y = b;

	if (x->changed != y->changed)
		return x->changed < y->changed ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Delete the oldest disconnected users beyond keep_disc. Only users whose
 * disconnection was already published qualify: a departure is always
 * announced (with its method) before the user disappears. */
static enum cc_err evict_disconnected(struct confinfo *ci)
{
	size_t n_disc = 0, n_cand = 0, over, w = 0, mark = ci->del_pending.n;
	struct evict *cand;
	enum cc_err err = CC_OK;

	for (size_t i = 0; i < ci->n_users; i++)
		n_disc += ci->users[i].u.status == CONFINFO_ST_DISCONNECTED;
	if (n_disc <= ci->keep_disc)
		return CC_OK;
	cand = malloc(n_disc * sizeof(*cand));
	if (!cand)
		return CC_ERR_NOMEM;
	for (size_t i = 0; i < ci->n_users; i++) {
		const struct ci_user *cu = &ci->users[i];

		if (cu->u.status == CONFINFO_ST_DISCONNECTED && cu->published &&
		    cu->pub.status == CONFINFO_ST_DISCONNECTED)
			cand[n_cand++] = (struct evict){ cu->changed, i };
	}
	over = n_disc - ci->keep_disc;
	if (over > n_cand)
		over = n_cand;
	qsort(cand, n_cand, sizeof(*cand), evict_cmp);
	for (size_t k = 0; k < over && !err; k++) {
		err = ci_names_add(&ci->del_pending,
				   ci->users[cand[k].idx].u.entity);
		ci->users[cand[k].idx].seen = err ? 0 : 2; /* evicted */
	}
	if (err) { /* undo: nothing evicted */
		for (size_t k = 0; k < over; k++)
			ci->users[cand[k].idx].seen = 0;
		ci->del_pending.n = mark;
	}
	free(cand);
	if (err)
		return err;
	for (size_t i = 0; i < ci->n_users; i++)
		if (ci->users[i].seen != 2)
			ci->users[w++] = ci->users[i];
	if (w != ci->n_users)
		ci->pending = true;
	ci->n_users = w;
	return CC_OK;
}

/* Dirty only says "touched": a user set back to what was published
 * (a dialog replaced, a disconnect undone) is no change. */
static bool user_changed(const struct ci_user *cu)
{
	return cu->dirty && (!cu->published || !user_equal(&cu->u, &cu->pub));
}

static void commit_users(struct confinfo *ci)
{
	for (size_t i = 0; i < ci->n_users; i++) {
		struct ci_user *cu = &ci->users[i];

		if (user_changed(cu)) {
			cu->changed = ci->version;
			cu->pub = cu->u;
			cu->published = 1;
		}
		cu->dirty = 0;
	}
}

enum cc_err confinfo_commit(struct confinfo *ci, bool *changed)
{
	struct ci_names t;
	struct confinfo_conf_state cs = { .present = true };
	size_t n_changed = 0;
	bool cs_changed;
	enum cc_err err;

	if (!ci || !changed)
		return CC_ERR_INVAL;
	*changed = false;
	if (ci->version == UINT32_MAX)
		return CC_ERR_FULL;
	err = evict_disconnected(ci);
	if (err)
		return err;
	if (!ci->pending)
		return CC_OK;
	for (size_t i = 0; i < ci->n_users; i++) {
		n_changed += user_changed(&ci->users[i]);
		cs.users += ci->users[i].u.status != CONFINFO_ST_DISCONNECTED;
	}
	cs.active = ci->next_active;
	cs.epoch = ci->next_epoch;
	cs_changed = ci->version == 0 || cs.users != ci->cs.users ||
		     cs.active != ci->cs.active || cs.epoch != ci->cs.epoch;
	ci->pending = false;
	if (!n_changed && !ci->del_pending.n && !cs_changed) {
		commit_users(ci); /* nothing really changed: no version */
		return CC_OK;
	}
	ci->version++;
	commit_users(ci);
	ci->cs_changed = cs_changed;
	ci->cs = cs;
	t = ci->del_last; /* the last commit's deletions are history now */
	ci->del_last = ci->del_pending;
	ci->del_pending = t;
	ci->del_pending.n = 0;
	*changed = true;
	return CC_OK;
}

/* ---- focus side: from the conference core ------------------------------- */

struct sync_ctx {
	struct confinfo *ci;
	enum confinfo_trust trust;
	confinfo_member_h *h;
	void *arg;
	enum cc_err err;
};

static void user_of_member(const struct conf_member_info *m,
			   enum confinfo_trust trust, struct confinfo_user *u)
{
	memset(u, 0, sizeof(*u));
	if (m->identity && m->identity[0] &&
	    ci_str_ok(m->identity, CONFINFO_URI_MAX))
		snprintf(u->entity, sizeof(u->entity), "%s", m->identity);
	else /* RFC 4575 §5.6: a URI not revealed uses the .invalid TLD */
		snprintf(u->entity, sizeof(u->entity),
			 "sip:member-%" PRIu64 "@unrepresentable.invalid",
			 (uint64_t)m->id);
	u->status = CONFINFO_ST_CONNECTED;
	u->joining = m->via == CONF_VIA_DIAL_OUT ? CONFINFO_JOIN_DIALED_OUT :
		     m->via == CONF_VIA_REFER    ? CONFINFO_JOIN_REFER :
						   CONFINFO_JOIN_DIALED_IN;
	u->trust = trust;
	u->epoch = m->epoch;
	for (size_t i = 0; i < m->n_ssrcs && i < CONFINFO_MEDIA_MAX; i++) {
		u->media[i] = (struct confinfo_media){
			.id = (uint32_t)i + 1,
			.type = CONFINFO_MEDIA_AUDIO,
			.has_ssrc = true,
			.ssrc = m->ssrcs[i],
		};
		u->n_media = i + 1;
	}
}

/* One user per identity (the key): a second dialog of an identity
 * already listed in this pass adds its SSRCs to the endpoint and the user
 * shows the lower epoch (what every one of its dialogs holds). */
static void merge_dialog(const struct confinfo *ci, struct confinfo_user *u)
{
	bool found;
	size_t i = find_pos(ci, u->entity, &found), n = 0;
	const struct confinfo_user *prev;
	struct confinfo_media all[CONFINFO_MEDIA_MAX];

	if (!found || ci->users[i].seen != 1)
		return;
	prev = &ci->users[i].u;
	for (size_t k = 0; k < prev->n_media; k++)
		all[n++] = prev->media[k];
	for (size_t k = 0; k < u->n_media && n < CONFINFO_MEDIA_MAX; k++)
		all[n++] = u->media[k];
	for (size_t k = 0; k < n; k++) {
		u->media[k] = all[k];
		u->media[k].id = (uint32_t)k + 1;
	}
	u->n_media = n;
	if (prev->epoch < u->epoch)
		u->epoch = prev->epoch;
}

static void sync_member(const struct conf_member_info *m, void *arg)
{
	struct sync_ctx *s = arg;
	struct confinfo_user u;
	struct ci_user *cu;
	enum cc_err err;

	if (s->err || !m->joined)
		return; /* announced from JOIN_DONE on, like the NOTIFY */
	user_of_member(m, s->trust, &u);
	if (s->h)
		s->h(m, &u, s->arg);
	merge_dialog(s->ci, &u);
	err = user_put(s->ci, &u, &cu);
	if (err) {
		s->err = err;
		return;
	}
	cu->seen = 1;
}

enum cc_err confinfo_sync_conf(struct confinfo *ci, const struct conf *c,
			       enum confinfo_trust default_trust,
			       confinfo_member_h *h, void *arg)
{
	struct sync_ctx s = { ci, default_trust, h, arg, CC_OK };

	if (!ci || !c || default_trust >= CONFINFO_TRUST_OTHER)
		return CC_ERR_INVAL;
	for (size_t i = 0; i < ci->n_users; i++)
		ci->users[i].seen = 0;
	conf_member_foreach(c, sync_member, &s);
	if (s.err)
		return s.err;
	for (size_t i = 0; i < ci->n_users; i++)
		if (!ci->users[i].seen)
			disconnect(ci, &ci->users[i], CONFINFO_DISC_DEPARTED);
	confinfo_set_active(ci, conf_is_live(c));
	confinfo_set_epoch(ci, conf_current_epoch(c));
	return CC_OK;
}

enum cc_err confinfo_note_removal(struct confinfo *ci, const char *identity,
				  enum conf_removal why)
{
	bool found;
	size_t i;

	if (!ci || !identity)
		return CC_ERR_INVAL;
	i = find_pos(ci, identity, &found);
	if (found)
		disconnect(ci, &ci->users[i], confinfo_disconnection_of(why));
	return CC_OK;
}
