/*
 * fuzz_confinfo.c -- confinfo_parse / confinfo_apply (RFC 4575 conference
 * event package documents, the participant's untrusted input). A refused
 * document leaves the model empty and says why; an accepted one applies
 * to a fresh view and to a view one version behind, and every user the
 * focus-side model accepts survives build -> parse unchanged.
 */
#include <conclave/confinfo.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct confinfo_user *a, const struct confinfo_user *b)
{
	if (strcmp(a->entity, b->entity) || strcmp(a->display, b->display) ||
	    a->status != b->status || a->joining != b->joining ||
	    a->disconnection != b->disconnection || a->trust != b->trust ||
	    a->epoch != b->epoch || a->n_media != b->n_media)
		return false;
	for (size_t i = 0; i < a->n_media; i++)
		if (a->media[i].id != b->media[i].id ||
		    a->media[i].type != b->media[i].type ||
		    a->media[i].has_ssrc != b->media[i].has_ssrc ||
		    (a->media[i].has_ssrc &&
		     a->media[i].ssrc != b->media[i].ssrc))
			return false;
	return true;
}

static void apply_checks(const struct confinfo *doc)
{
	struct confinfo *view;
	enum confinfo_result res;
	enum cc_err err;

	if (confinfo_new(&view, NULL) != CC_OK)
		abort();
	err = confinfo_apply(view, doc, &res);
	if (err == CC_OK && res == CONFINFO_APPLIED &&
	    confinfo_version(view) != confinfo_version(doc))
		abort();
	if (err == CC_OK && res == CONFINFO_APPLIED &&
	    confinfo_user_count(view) > CONFINFO_USERS_MAX)
		abort();
	/* applying it twice: the second time it is stale */
	if (err == CC_OK && res == CONFINFO_APPLIED &&
	    (confinfo_apply(view, doc, &res) != CC_OK || res != CONFINFO_STALE))
		abort();
	confinfo_free(view);
}

static void round_trip(const struct confinfo *doc)
{
	struct confinfo *ci, *again;
	size_t need = 0, len = 0, n = 0;
	bool changed;
	char *out;

	if (confinfo_new(&ci, confinfo_entity(doc)) != CC_OK)
		abort(); /* a parsed entity is always writable */
	for (size_t i = 0; i < confinfo_user_count(doc); i++)
		n += confinfo_user_put(ci, confinfo_user_at(doc, i)) == CC_OK;
	if (confinfo_commit(ci, &changed) != CC_OK ||
	    confinfo_build_full(ci, NULL, 0, &need) != CC_ERR_SPACE)
		abort();
	out = malloc(need + 1);
	if (!out || confinfo_build_full(ci, out, need + 1, &len) != CC_OK ||
	    len != need || confinfo_new(&again, NULL) != CC_OK)
		abort();
	if (confinfo_parse(again, out, len, NULL) != CC_OK ||
	    confinfo_user_count(again) != n || confinfo_user_count(ci) != n)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!same(confinfo_user_at(ci, i), confinfo_user_at(again, i)))
			abort();
	free(out);
	confinfo_free(again);
	confinfo_free(ci);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct confinfo *doc;
	struct confinfo_diag d;
	enum cc_err err;

	if (confinfo_new(&doc, NULL) != CC_OK)
		abort();
	err = confinfo_parse(doc, (const char *)data, size, &d);
	if (err != CC_OK) {
		if (!d.reason || d.offset > size ||
		    confinfo_user_count(doc) != 0)
			abort();
		confinfo_free(doc);
		return 0;
	}
	apply_checks(doc);
	round_trip(doc);
	confinfo_free(doc);
	return 0;
}
