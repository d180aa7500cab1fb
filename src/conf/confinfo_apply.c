/*
 * confinfo_apply.c -- the participant's view of the roster: applying full
 * and partial conference-info documents by version (RFC 4575 §4.6), all
 * or nothing.
 */
#include "confinfo_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- participant side: apply (RFC 4575 §4.6) ----------------------------- */

static void endpoint_clear(struct confinfo_user *u)
{
	u->status = CONFINFO_ST_NONE;
	u->joining = CONFINFO_JOIN_NONE;
	u->disconnection = CONFINFO_DISC_NONE;
	u->trust = CONFINFO_TRUST_NONE;
	u->epoch = 0;
	u->n_media = 0;
}

static void media_merge(struct confinfo_user *dst,
			const struct confinfo_user *src)
{
	for (size_t i = 0; i < src->n_media; i++) {
		size_t j = 0;

		while (j < dst->n_media && dst->media[j].id != src->media[i].id)
			j++;
		if (j == dst->n_media) {
			if (j == CONFINFO_MEDIA_MAX)
				continue; /* the model keeps at most 8 */
			dst->n_media++;
		}
		dst->media[j] = src->media[i];
	}
}

/* step 3.2/3.3 for one user present in the view */
static void user_merge(struct ci_user *dst, const struct ci_user *src)
{
	struct confinfo_user *d = &dst->u;
	const struct confinfo_user *s = &src->u;

	if (src->state != CONFINFO_PARTIAL) {
		ci_user_copy(d, s);
		return;
	}
	if (src->present & P_DISPLAY)
		snprintf(d->display, sizeof(d->display), "%s", s->display);
	if (!(src->present & P_ENDPOINT))
		return;
	if (src->ep_state != CONFINFO_PARTIAL) {
		endpoint_clear(d);
		if (src->ep_state == CONFINFO_DELETED)
			return;
	}
	if (src->present & P_STATUS)
		d->status = s->status;
	if (src->present & P_JOINING)
		d->joining = s->joining;
	if (src->present & P_DISC)
		d->disconnection = s->disconnection;
	if (src->present & P_TRUST)
		d->trust = s->trust;
	if (src->present & P_EPOCH)
		d->epoch = s->epoch;
	if (src->present & P_MEDIA)
		media_merge(d, s);
}

static bool doc_deletes(const struct confinfo *doc, const char *entity)
{
	return doc->del_last.n &&
	       bsearch(entity, doc->del_last.e, doc->del_last.n,
		       sizeof(doc->del_last.e[0]), ci_name_cmp) != NULL;
}

/* Merge the sorted view users with the sorted doc users into a fresh
 * array (linear), then swap it in: all or nothing. */
static enum cc_err merge_partial(struct confinfo *view,
				 const struct confinfo *doc)
{
	size_t i = 0, j = 0, n = 0, total = view->n_users + doc->n_users;
	bool replace = doc->users_present &&
		       doc->users_state != CONFINFO_PARTIAL;
	struct ci_user *out;

	if (replace)
		i = view->n_users; /* users state full/deleted: start over */
	out = malloc((total ? total : 1) * sizeof(*out));
	if (!out)
		return CC_ERR_NOMEM;
	while (i < view->n_users || j < doc->n_users) {
		int r = i == view->n_users ?
				1 :
			j == doc->n_users ?
				-1 :
				ci_user_cmp(&view->users[i], &doc->users[j]);

		if (r < 0) {
			if (!doc_deletes(doc, view->users[i].u.entity))
				out[n++] = view->users[i];
			i++;
			continue;
		}
		if (r == 0) {
			out[n] = view->users[i++];
		} else { /* §4.6 3.1.1: a new row */
			memset(&out[n], 0, sizeof(out[n]));
			memcpy(out[n].u.entity, doc->users[j].u.entity,
			       sizeof(out[n].u.entity));
		}
		if (doc->users_state == CONFINFO_DELETED) {
			j++;
			continue;
		}
		user_merge(&out[n], &doc->users[j++]);
		out[n].state = CONFINFO_FULL;
		out[n].present = 0;
		n++;
	}
	if (n > CONFINFO_USERS_MAX) {
		free(out);
		return CC_ERR_FULL;
	}
	free(view->users);
	view->users = out;
	view->n_users = n;
	view->cap_users = total ? total : 1;
	return CC_OK;
}

static enum cc_err replace_full(struct confinfo *view,
				const struct confinfo *doc)
{
	struct ci_user *out = NULL;

	if (doc->n_users) {
		out = malloc(doc->n_users * sizeof(*out));
		if (!out)
			return CC_ERR_NOMEM;
		for (size_t k = 0; k < doc->n_users; k++) {
			memset(&out[k], 0, sizeof(out[k]));
			ci_user_copy(&out[k].u, &doc->users[k].u);
		}
	}
	free(view->users);
	view->users = out;
	view->n_users = view->cap_users = doc->n_users;
	return CC_OK;
}

static void take_header(struct confinfo *view, const struct confinfo *doc)
{
	memcpy(view->entity, doc->entity, sizeof(view->entity));
	view->version = doc->version;
	view->has_base = true;
}

enum cc_err confinfo_apply(struct confinfo *view, const struct confinfo *doc,
			   enum confinfo_result *res)
{
	enum cc_err err;

	if (!view || !doc || !res || !doc->entity[0])
		return CC_ERR_INVAL;
	if (view->has_base && doc->version <= view->version) {
		*res = CONFINFO_STALE;
		return CC_OK;
	}
	switch (doc->doc_state) {
	case CONFINFO_DELETED:
		free(view->users);
		view->users = NULL;
		view->n_users = view->cap_users = 0;
		view->cs = (struct confinfo_conf_state){ 0 };
		take_header(view, doc);
		view->ended = true;
		*res = CONFINFO_ENDED;
		return CC_OK;
	case CONFINFO_PARTIAL:
		if (!view->has_base || doc->version != view->version + 1) {
			*res = CONFINFO_NEED_FULL;
			return CC_OK;
		}
		if (strcmp(view->entity, doc->entity) != 0)
			return CC_ERR_INVAL; /* another conference */
		err = merge_partial(view, doc);
		if (err)
			return err;
		if (doc->cs.present)
			view->cs = doc->cs;
		break;
	default:
		err = replace_full(view, doc);
		if (err)
			return err;
		view->cs = doc->cs;
		break;
	}
	take_header(view, doc);
	view->ended = false;
	*res = CONFINFO_APPLIED;
	return CC_OK;
}

enum cc_err confinfo_update(struct confinfo *view, const char *xml, size_t len,
			    enum confinfo_result *res,
			    struct confinfo_diag *diag)
{
	struct confinfo *doc;
	enum cc_err err;

	if (!view || !res)
		return CC_ERR_INVAL;
	err = confinfo_new(&doc, NULL);
	if (err)
		return err;
	err = confinfo_parse(doc, xml, len, diag);
	if (!err)
		err = confinfo_apply(view, doc, res);
	confinfo_free(doc);
	return err;
}
