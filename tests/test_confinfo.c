/*
 * test_confinfo.c -- the conference event package (RFC 4575): roster
 * model, full/partial builder, parser and §4.6 apply, the roster built
 * from the conference core, and refusal of hostile input (injection,
 * truncation, garbage, nesting, size).
 */
#include <conclave/confinfo.h>

#include "check.h"

#include <inttypes.h>

#define FOCUS "sips:focus1.conf1@example.org"

static char buf[1 << 20];

/* ---- helpers ------------------------------------------------------------- */

static uint64_t rng = 0x5eed;

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static struct confinfo_user mkuser(const char *entity, uint32_t ssrc,
				   uint32_t epoch)
{
	struct confinfo_user u;

	memset(&u, 0, sizeof(u));
	snprintf(u.entity, sizeof(u.entity), "%s", entity);
	u.status = CONFINFO_ST_CONNECTED;
	u.joining = CONFINFO_JOIN_DIALED_IN;
	u.trust = CONFINFO_TRUST_KMS;
	u.epoch = epoch;
	u.n_media = 1;
	u.media[0] =
		(struct confinfo_media){ 1, CONFINFO_MEDIA_AUDIO, true, ssrc };
	return u;
}

static bool user_eq(const struct confinfo_user *a,
		    const struct confinfo_user *b)
{
	if (strcmp(a->entity, b->entity) || strcmp(a->display, b->display) ||
	    a->status != b->status || a->joining != b->joining ||
	    a->disconnection != b->disconnection || a->trust != b->trust ||
	    a->epoch != b->epoch || a->n_media != b->n_media) {
		fprintf(stderr, "user %s differs from %s\n", a->entity,
			b->entity);
		return false;
	}
	for (size_t i = 0; i < a->n_media; i++)
		if (a->media[i].id != b->media[i].id ||
		    a->media[i].type != b->media[i].type ||
		    a->media[i].has_ssrc != b->media[i].has_ssrc ||
		    a->media[i].ssrc != b->media[i].ssrc)
			return false;
	return true;
}

/* the view holds exactly the focus roster */
static bool same_roster(const struct confinfo *a, const struct confinfo *b)
{
	const struct confinfo_conf_state *x = confinfo_conf_state(a),
					 *y = confinfo_conf_state(b);

	if (confinfo_version(a) != confinfo_version(b) ||
	    strcmp(confinfo_entity(a), confinfo_entity(b)) ||
	    confinfo_user_count(a) != confinfo_user_count(b) ||
	    x->users != y->users || x->active != y->active ||
	    x->epoch != y->epoch) {
		fprintf(stderr, "rosters differ: v%u/%u users %zu/%zu\n",
			confinfo_version(a), confinfo_version(b),
			confinfo_user_count(a), confinfo_user_count(b));
		return false;
	}
	for (size_t i = 0; i < confinfo_user_count(a); i++)
		if (!user_eq(confinfo_user_at(a, i), confinfo_user_at(b, i)))
			return false;
	return true;
}

static size_t build_full(const struct confinfo *ci)
{
	size_t len = 0;

	CHECK_OK(confinfo_build_full(ci, buf, sizeof(buf), &len));
	return len;
}

static size_t build_partial(const struct confinfo *ci)
{
	size_t len = 0;

	CHECK_OK(confinfo_build_partial(ci, buf, sizeof(buf), &len));
	return len;
}

static enum confinfo_result update(struct confinfo *view, const char *xml,
				   size_t len)
{
	enum confinfo_result res = 0;
	struct confinfo_diag d;

	CHECK_OK(confinfo_update(view, xml, len, &res, &d));
	return res;
}

static void commit(struct confinfo *ci, bool want_changed)
{
	bool changed = !want_changed;

	CHECK_OK(confinfo_commit(ci, &changed));
	CHECK(changed == want_changed);
}

static enum cc_err parse_str(const char *xml, struct confinfo_diag *d)
{
	struct confinfo *doc;
	enum cc_err err;

	CHECK_OK(confinfo_new(&doc, NULL));
	err = confinfo_parse(doc, xml, strlen(xml), d);
	confinfo_free(doc);
	return err;
}

static size_t read_data(const char *name, char *out, size_t cap)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", CC_SPEC_DIR, name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	n = fread(out, 1, cap - 1, f);
	fclose(f);
	out[n] = 0;
	return n;
}

/* ---- build -> parse round trip --------------------------------------------- */

static void fill_focus(struct confinfo *ci)
{
	struct confinfo_user u = mkuser("sip:alice@example.org", 1111, 3);

	snprintf(u.display, sizeof(u.display), "Alice \xc3\xa9t\xc3\xa9");
	CHECK_OK(confinfo_user_put(ci, &u));
	u = mkuser("sip:bob@example.org", 2222, 3);
	u.joining = CONFINFO_JOIN_REFER;
	u.trust = CONFINFO_TRUST_SDES;
	u.n_media = 2;
	u.media[1] = (struct confinfo_media){ 2, CONFINFO_MEDIA_VIDEO, true,
					      4000000000u };
	CHECK_OK(confinfo_user_put(ci, &u));
	u = mkuser("sip:carol@example.org", 3333, 0);
	u.joining = CONFINFO_JOIN_DIALED_OUT;
	u.trust = CONFINFO_TRUST_NONE;
	CHECK_OK(confinfo_user_put(ci, &u));
	confinfo_set_epoch(ci, 3);
}

static void test_round_trip(void)
{
	struct confinfo *ci, *view;
	size_t len;

	CHECK_OK(confinfo_new(&ci, FOCUS));
	CHECK_OK(confinfo_new(&view, NULL));
	fill_focus(ci);
	CHECK_ERR(confinfo_build_full(ci, buf, sizeof(buf), &len),
		  CC_ERR_INVAL); /* nothing committed yet */
	commit(ci, true);
	CHECK(confinfo_version(ci) == 1);
	CHECK(confinfo_conf_state(ci)->users == 3);
	len = build_full(ci);
	CHECK(strlen(buf) == len);
	CHECK(strstr(buf, "state=\"full\" version=\"1\""));
	CHECK(strstr(buf, "<cc:key-epoch>3</cc:key-epoch>"));
	CHECK(strstr(buf, "<cc:trust>sdes</cc:trust>"));
	CHECK(strstr(buf, "<referred/>"));
	CHECK(strstr(buf, "xmlns:cc=\"" CONFINFO_CC_NS "\""));
	CHECK(update(view, buf, len) == CONFINFO_APPLIED);
	CHECK(same_roster(ci, view));
	CHECK(confinfo_find(view, "sip:bob@example.org")->joining ==
	      CONFINFO_JOIN_REFER);
	CHECK(confinfo_find(view, "sip:bob@example.org")->media[1].ssrc ==
	      4000000000u);
	/* the same document again is stale (RFC 4575 §4.6) */
	CHECK(update(view, buf, len) == CONFINFO_STALE);
	/* nothing changed: no new version */
	commit(ci, false);
	CHECK(confinfo_version(ci) == 1);
	confinfo_free(ci);
	confinfo_free(view);
}

/* ---- partial notifications ---------------------------------------------- */

static void test_partial(void)
{
	struct confinfo *ci, *view, *late;
	struct confinfo_user u;
	size_t len;

	CHECK_OK(confinfo_new(&ci, FOCUS));
	CHECK_OK(confinfo_new(&view, NULL));
	CHECK_OK(confinfo_new(&late, NULL));
	fill_focus(ci);
	commit(ci, true);
	len = build_full(ci);
	CHECK(update(view, buf, len) == CONFINFO_APPLIED);

	/* v2: dave joins, alice's epoch moves, carol leaves */
	u = mkuser("sip:dave@example.org", 4444, 4);
	CHECK_OK(confinfo_user_put(ci, &u));
	u = mkuser("sip:alice@example.org", 1111, 4);
	snprintf(u.display, sizeof(u.display), "Alice \xc3\xa9t\xc3\xa9");
	CHECK_OK(confinfo_user_put(ci, &u));
	CHECK_OK(confinfo_user_disconnect(ci, "sip:carol@example.org",
					  CONFINFO_DISC_BOOTED));
	CHECK_ERR(confinfo_user_disconnect(ci, "sip:nobody@x",
					   CONFINFO_DISC_BOOTED),
		  CC_ERR_NOT_FOUND);
	confinfo_set_epoch(ci, 4);
	commit(ci, true);
	CHECK(confinfo_version(ci) == 2);
	CHECK(confinfo_conf_state(ci)->users == 3);
	len = build_partial(ci);
	CHECK(strstr(buf, "state=\"partial\" version=\"2\""));
	CHECK(strstr(buf, "<users state=\"partial\">"));
	CHECK(strstr(buf, "sip:dave@example.org"));
	CHECK(strstr(buf, "<disconnection-method>booted<"));
	CHECK(!strstr(buf, "sip:bob@example.org")); /* unchanged: absent */
	CHECK(strstr(buf, "<user-count>3</user-count>"));
	CHECK(update(view, buf, len) == CONFINFO_APPLIED);
	CHECK(same_roster(ci, view));
	CHECK(confinfo_find(view, "sip:carol@example.org")->status ==
	      CONFINFO_ST_DISCONNECTED);

	/* a subscriber that missed v2: gap -> need full; the full fixes it */
	{
		struct confinfo *doc;
		enum confinfo_result res;

		CHECK(update(late, buf, len) == CONFINFO_NEED_FULL);
		CHECK(confinfo_user_count(late) == 0);
		CHECK_OK(confinfo_new(&doc, NULL));
		CHECK_OK(confinfo_parse(doc, buf, len, NULL));
		CHECK(confinfo_doc_state(doc) == CONFINFO_PARTIAL);
		CHECK(confinfo_version(doc) == 2);
		CHECK_OK(confinfo_apply(late, doc, &res));
		CHECK(res == CONFINFO_NEED_FULL);
		confinfo_free(doc);
	}
	len = build_full(ci);
	CHECK(update(late, buf, len) == CONFINFO_APPLIED);
	CHECK(same_roster(ci, late));

	/* v3: only the conference state (active) changes */
	confinfo_set_active(ci, false);
	commit(ci, true);
	len = build_partial(ci);
	CHECK(!strstr(buf, "<users"));
	CHECK(strstr(buf, "<active>false</active>"));
	CHECK(update(view, buf, len) == CONFINFO_APPLIED);
	CHECK(same_roster(ci, view));
	confinfo_set_active(ci, true);

	/* v4: keep no disconnected users: carol is deleted */
	confinfo_set_keep_disconnected(ci, 0);
	commit(ci, true);
	CHECK(confinfo_version(ci) == 4);
	len = build_partial(ci);
	CHECK(strstr(buf, "<user entity=\"sip:carol@example.org\" "
			  "state=\"deleted\"/>"));
	CHECK(update(view, buf, len) == CONFINFO_APPLIED);
	CHECK(same_roster(ci, view));
	CHECK(!confinfo_find(view, "sip:carol@example.org"));
	CHECK(update(late, buf, len) == CONFINFO_NEED_FULL); /* v2 -> v4 */

	/* a departure is announced before it disappears, even with keep 0 */
	CHECK_OK(confinfo_user_disconnect(ci, "sip:dave@example.org",
					  CONFINFO_DISC_DEPARTED));
	commit(ci, true);
	len = build_partial(ci);
	CHECK(strstr(buf, "<disconnection-method>departed<"));
	CHECK(update(view, buf, len) == CONFINFO_APPLIED);
	commit(ci, true); /* v6: dave deleted */
	len = build_partial(ci);
	CHECK(strstr(buf, "sip:dave@example.org\" state=\"deleted\""));
	CHECK(update(view, buf, len) == CONFINFO_APPLIED);
	CHECK(same_roster(ci, view));

	/* touched and set back before a commit: no new version */
	u = *confinfo_find(ci, "sip:bob@example.org");
	CHECK_OK(confinfo_user_disconnect(ci, "sip:bob@example.org",
					  CONFINFO_DISC_FAILED));
	CHECK_OK(confinfo_user_put(ci, &u));
	commit(ci, false);

	/* delete + put before a commit = an update, not a deletion */
	CHECK_OK(confinfo_user_delete(ci, "sip:bob@example.org"));
	CHECK_ERR(confinfo_user_delete(ci, "sip:bob@example.org"),
		  CC_ERR_NOT_FOUND);
	u = mkuser("sip:bob@example.org", 2223, 4);
	CHECK_OK(confinfo_user_put(ci, &u));
	commit(ci, true);
	len = build_partial(ci);
	CHECK(!strstr(buf, "deleted"));
	CHECK(update(view, buf, len) == CONFINFO_APPLIED);
	CHECK(same_roster(ci, view));
	/* an old partial is ignored */
	CHECK(update(view, buf, len) == CONFINFO_STALE);

	confinfo_free(ci);
	confinfo_free(view);
	confinfo_free(late);
}

/* RFC 4575 §4.6: partial users and endpoints merge element by element */
static void test_partial_merge(void)
{
	static const char full[] =
		"<conference-info xmlns='" CONFINFO_NS
		"' xmlns:cc='" CONFINFO_CC_NS "' entity='sip:c@x' version='7'>"
		"<users><user entity='sip:a@x'><display-text>A</display-text>"
		"<endpoint entity='sip:a@x'><status>connected</status>"
		"<media id='1'><type>audio</type><src-id>5</src-id></media>"
		"<cc:trust>kms</cc:trust><cc:key-epoch>2</cc:key-epoch>"
		"</endpoint></user>"
		"<user entity='sip:b@x'/></users></conference-info>";
	static const char part[] =
		"<ci:conference-info xmlns:ci='" CONFINFO_NS
		"' xmlns:k='" CONFINFO_CC_NS "' entity='sip:c@x' version='8' "
		"state='partial'>"
		"<ci:users state='partial'>"
		"<ci:user entity='sip:a@x' state='partial'>"
		"<ci:endpoint entity='sip:a@x' state='partial'>"
		"<ci:media id='2'><ci:type>video</ci:type></ci:media>"
		"<k:key-epoch>3</k:key-epoch></ci:endpoint></ci:user>"
		"<ci:user entity='sip:b@x' state='deleted'><ci:x/></ci:user>"
		"<ci:user entity='sip:n@x' state='partial'>"
		"<ci:display-text>New</ci:display-text></ci:user>"
		"</ci:users></ci:conference-info>";
	struct confinfo *view;
	const struct confinfo_user *a;

	CHECK_OK(confinfo_new(&view, NULL));
	CHECK(update(view, part, strlen(part)) == CONFINFO_NEED_FULL);
	CHECK(update(view, full, strlen(full)) == CONFINFO_APPLIED);
	CHECK(confinfo_user_count(view) == 2);
	CHECK(update(view, part, strlen(part)) == CONFINFO_APPLIED);
	CHECK(confinfo_version(view) == 8);
	CHECK(confinfo_user_count(view) == 2);
	a = confinfo_find(view, "sip:a@x");
	CHECK(a && !strcmp(a->display, "A"));
	CHECK(a && a->status == CONFINFO_ST_CONNECTED);
	CHECK(a && a->trust == CONFINFO_TRUST_KMS && a->epoch == 3);
	CHECK(a && a->n_media == 2 && a->media[0].ssrc == 5 &&
	      a->media[1].type == CONFINFO_MEDIA_VIDEO);
	CHECK(!confinfo_find(view, "sip:b@x"));
	CHECK(confinfo_find(view, "sip:n@x") &&
	      !strcmp(confinfo_find(view, "sip:n@x")->display, "New"));
	confinfo_free(view);
}

/* ---- escaping and injection ---------------------------------------------- */

static void test_injection(void)
{
	static const char *const evil[] = {
		"sip:\"><x/>@evil",
		"sip:a'b@evil\" state=\"deleted",
		"sip:</user></users><users><user entity=\"sip:ghost@x\">@e",
		"sip:&amp;&lt;&#0;]]>@evil",
		"sip:tab\there\nnl\rcr@evil",
		" \t\r\n sip:spaced@evil \r\n",
	};
	struct confinfo *ci, *view;
	struct confinfo_user u;
	size_t len, n = sizeof(evil) / sizeof(evil[0]);

	CHECK_OK(confinfo_new(&ci, "sip:conf\"&<'>@x"));
	CHECK_OK(confinfo_new(&view, NULL));
	for (size_t i = 0; i < n; i++) {
		u = mkuser(evil[i], (uint32_t)i + 1, 1);
		snprintf(u.display, sizeof(u.display), "%s", evil[i]);
		CHECK_OK(confinfo_user_put(ci, &u));
	}
	commit(ci, true);
	len = build_full(ci);
	CHECK(!strstr(buf, "<x/>"));
	CHECK(!strstr(buf, "ghost@x\">"));
	CHECK(!strstr(buf, "]]>"));
	CHECK(strstr(buf, "sip:&quot;&gt;&lt;x/&gt;@evil"));
	CHECK(update(view, buf, len) == CONFINFO_APPLIED);
	CHECK(confinfo_user_count(view) == n);
	CHECK(!strcmp(confinfo_entity(view), "sip:conf\"&<'>@x"));
	for (size_t i = 0; i < n; i++) {
		const struct confinfo_user *v = confinfo_find(view, evil[i]);

		CHECK(v != NULL);
		CHECK(v && !strcmp(v->display, evil[i]));
	}
	CHECK(!confinfo_find(view, "sip:ghost@x"));
	CHECK(same_roster(ci, view));

	/* what XML cannot carry is refused, the roster unchanged */
	u = mkuser("sip:ctl\x01@evil", 9, 1);
	CHECK_ERR(confinfo_user_put(ci, &u), CC_ERR_INVAL);
	u = mkuser("sip:bad\xc3(@evil", 9, 1);
	CHECK_ERR(confinfo_user_put(ci, &u), CC_ERR_INVAL);
	u = mkuser("sip:ok@x", 9, 1);
	snprintf(u.display, sizeof(u.display), "esc\x1b[31m");
	CHECK_ERR(confinfo_user_put(ci, &u), CC_ERR_INVAL);
	u = mkuser("", 9, 1);
	CHECK_ERR(confinfo_user_put(ci, &u), CC_ERR_INVAL);
	u = mkuser("sip:ok@x", 9, 1);
	u.status = CONFINFO_ST_OTHER;
	CHECK_ERR(confinfo_user_put(ci, &u), CC_ERR_INVAL);
	CHECK(confinfo_user_count(ci) == n);
	CHECK_ERR(confinfo_new(&view, "sip:\x02@x"), CC_ERR_INVAL);
	confinfo_free(ci);
	confinfo_free(view);
}

/* ---- the output buffer ---------------------------------------------------- */

static void test_buffer(void)
{
	struct confinfo *ci;
	size_t need = 0, len = 0;
	char small[64];

	CHECK_OK(confinfo_new(&ci, FOCUS));
	fill_focus(ci);
	commit(ci, true);
	CHECK_ERR(confinfo_build_full(ci, NULL, 0, &need), CC_ERR_SPACE);
	CHECK(need > 200);
	CHECK_ERR(confinfo_build_full(ci, small, sizeof(small), &len),
		  CC_ERR_SPACE);
	CHECK(len == need && small[0] == 0);
	CHECK_ERR(confinfo_build_full(ci, buf, need, &len), CC_ERR_SPACE);
	CHECK_OK(confinfo_build_full(ci, buf, need + 1, &len));
	CHECK(len == need && buf[len] == 0);
	CHECK_ERR(confinfo_build_partial(ci, NULL, 0, &need), CC_ERR_SPACE);
	CHECK_OK(confinfo_build_partial(ci, buf, need + 1, &len));
	CHECK(len == need);
	confinfo_free(ci);
}

/* ---- RFC 4575 §7 examples and tolerance ------------------------------------ */

static void test_rfc_examples(void)
{
	static char xml[8192];
	struct confinfo *doc, *view;
	const struct confinfo_user *u;
	enum confinfo_result res;
	size_t n;

	CHECK_OK(confinfo_new(&doc, NULL));
	CHECK_OK(confinfo_new(&view, NULL));
	n = read_data("rfc4575_basic.xml", xml, sizeof(xml));
	CHECK_OK(confinfo_parse(doc, xml, n, NULL));
	CHECK(confinfo_doc_state(doc) == CONFINFO_FULL);
	CHECK(confinfo_version(doc) == 1);
	CHECK(!strcmp(confinfo_entity(doc), "sips:conf233@example.com"));
	CHECK(confinfo_conf_state(doc)->users == 33);
	CHECK(confinfo_user_count(doc) == 2);
	u = confinfo_find(doc, "sip:bob@example.com");
	CHECK(u && !strcmp(u->display, "Bob Hoskins"));
	CHECK(u && u->status == CONFINFO_ST_DISCONNECTED &&
	      u->disconnection == CONFINFO_DISC_DEPARTED);
	CHECK(u && u->n_media == 1 && u->media[0].has_ssrc &&
	      u->media[0].ssrc == 432424 &&
	      u->media[0].type == CONFINFO_MEDIA_AUDIO);
	u = confinfo_find(doc, "sip:alice@example.com");
	CHECK(u && u->status == CONFINFO_ST_CONNECTED &&
	      u->joining == CONFINFO_JOIN_DIALED_OUT &&
	      u->media[0].ssrc == 534232 && u->trust == CONFINFO_TRUST_NONE);
	CHECK_OK(confinfo_apply(view, doc, &res));
	CHECK(res == CONFINFO_APPLIED);

	/* §7.2: partial, version 5: a gap from 1 */
	n = read_data("rfc4575_rich.xml", xml, sizeof(xml));
	CHECK_OK(confinfo_parse(doc, xml, n, NULL));
	CHECK(confinfo_doc_state(doc) == CONFINFO_PARTIAL);
	CHECK(confinfo_version(doc) == 5);
	CHECK(confinfo_conf_state(doc)->users == 32);
	CHECK(confinfo_conf_state(doc)->active);
	CHECK(confinfo_user_count(doc) == 1); /* sidebar users are not ours */
	u = confinfo_find(doc, "sip:bob@example.com");
	CHECK(u && u->status == CONFINFO_ST_DISCONNECTING &&
	      u->joining == CONFINFO_JOIN_DIALED_OUT &&
	      u->disconnection == CONFINFO_DISC_BOOTED);
	CHECK_OK(confinfo_apply(view, doc, &res));
	CHECK(res == CONFINFO_NEED_FULL);
	CHECK(confinfo_version(view) == 1);
	/* as the next version it applies. Its <users> has no state, so it
	 * is "full" (§4.4 default) and replaces the list (§4.6 3.2): only
	 * bob is left */
	{
		char *v = strstr(xml, "version=\"5\"");

		CHECK(v != NULL);
		if (v)
			v[9] = '2';
	}
	CHECK(update(view, xml, n) == CONFINFO_APPLIED);
	CHECK(confinfo_user_count(view) == 1);
	CHECK(!confinfo_find(view, "sip:alice@example.com"));
	u = confinfo_find(view, "sip:bob@example.com");
	CHECK(u && u->status == CONFINFO_ST_DISCONNECTING);
	CHECK(confinfo_conf_state(view)->users == 32);
	confinfo_free(doc);
	confinfo_free(view);
}

static void test_tolerance(void)
{
	static const char ok[] =
		"\xef\xbb\xbf<?xml version='1.0'?>\n<!-- hi -->\n"
		"<?pi stuff?>"
		"<conference-info xmlns=\"" CONFINFO_NS "\" "
		"xmlns:z=\"urn:zzz\" "
		"z:extra='1' entity=\"sip:c@x\" version=\" 3 \">"
		"<z:unknown><users><user entity='sip:fake@x'/></users>"
		"</z:unknown>"
		"<users xmlns:y='urn:y'><y:user entity='sip:not@x'/>"
		"<user entity='sip:a&#x40;x'>"
		"<display-text><![CDATA[<b>&amp;</b>]]> &#233;</display-text>"
		"<endpoint entity='e1'><status>busy-ish</status>"
		"<media id='abc'><src-id>7</src-id></media>"
		"<media id='3'><src-id>not-a-number</src-id></media>"
		"</endpoint><endpoint entity='e2'><status>on-hold</status>"
		"</endpoint></user></users>"
		"<conference-state><user-count>1</user-count>"
		"<active>1</active><locked>false</locked>"
		"</conference-state></conference-info>\n<!-- bye -->\n";
	struct confinfo *doc;
	const struct confinfo_user *u;

	CHECK_OK(confinfo_new(&doc, NULL));
	CHECK_OK(confinfo_parse(doc, ok, strlen(ok), NULL));
	CHECK(confinfo_version(doc) == 3);
	CHECK(confinfo_user_count(doc) == 1);
	u = confinfo_find(doc, "sip:a@x");
	CHECK(u && !strcmp(u->display, "<b>&amp;</b> \xc3\xa9"));
	CHECK(u && u->status == CONFINFO_ST_OTHER); /* first endpoint only */
	CHECK(u && u->n_media == 1 && !u->media[0].has_ssrc &&
	      u->media[0].id == 3);
	CHECK(confinfo_conf_state(doc)->active);
	confinfo_free(doc);
}

/* ---- hostile input --------------------------------------------------------- */

struct bad {
	const char *xml;
	enum cc_err want;
};

#define HEAD "<conference-info xmlns='" CONFINFO_NS "' entity='sip:c@x' "
#define TAIL "</conference-info>"

static const struct bad bads[] = {
	{ "", CC_ERR_TRUNCATED },
	{ "   ", CC_ERR_TRUNCATED },
	{ "hello", CC_ERR_MALFORMED },
	{ "<conference-info", CC_ERR_TRUNCATED },
	{ HEAD "version='1'>", CC_ERR_TRUNCATED },
	{ HEAD "version='1'/>junk", CC_ERR_TRAILING },
	{ HEAD "version='1'/><conference-info/>", CC_ERR_TRAILING },
	{ HEAD "/>", CC_ERR_MISSING },
	{ "<conference-info xmlns='" CONFINFO_NS "' version='1'/>",
	  CC_ERR_MISSING },
	{ HEAD "version='-1'/>", CC_ERR_MALFORMED },
	{ HEAD "version='4294967296'/>", CC_ERR_MALFORMED },
	{ HEAD "version='1' state='sideways'/>", CC_ERR_MALFORMED },
	{ HEAD "version='1' version='2'/>", CC_ERR_MALFORMED },
	{ HEAD "version=1/>", CC_ERR_MALFORMED },
	{ HEAD "version='1'><users></user>" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'><users>" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'><a>&bogus;</a>" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'><a>&#0;</a>" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'><a>&#xD800;</a>" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'><a>&#99999999999;</a>" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'><a>&amp</a>" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'><a>]]></a>" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'><a b='<'/>" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'><p:a/>" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'><!-- a -- b -->" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'><![CDATA[x" TAIL, CC_ERR_TRUNCATED },
	{ HEAD "version='1'><!ELEMENT x>" TAIL, CC_ERR_MALFORMED },
	{ "<!DOCTYPE lolz [<!ENTITY lol \"lol\">]>" HEAD "version='1'/>",
	  CC_ERR_UNSUPPORTED },
	{ "<conference-info entity='sip:c@x' version='1'/>", CC_ERR_MALFORMED },
	{ "<x:conference-info xmlns:x='urn:other' entity='c' version='1'/>",
	  CC_ERR_MALFORMED },
	{ HEAD "version='1'><users><user/></users>" TAIL, CC_ERR_MISSING },
	{ HEAD "version='1'><users><user entity=''/></users>" TAIL,
	  CC_ERR_MALFORMED },
	{ HEAD "version='1'><users><user entity='a'/><user entity='a'/>"
	       "</users>" TAIL,
	  CC_ERR_MALFORMED },
	{ HEAD "version='1'><users><user entity='a'/><user entity='a' "
	       "state='deleted'/></users>" TAIL,
	  CC_ERR_MALFORMED },
	{ HEAD "version='1'><conference-state><user-count>x</user-count>"
	       "</conference-state>" TAIL,
	  CC_ERR_MALFORMED },
	{ HEAD "version='1'><conference-state><active>yes</active>"
	       "</conference-state>" TAIL,
	  CC_ERR_MALFORMED },
	{ HEAD "version='1' xmlns:cc='" CONFINFO_CC_NS "'><users><user "
	       "entity='a'><endpoint><cc:key-epoch>-4</cc:key-epoch>"
	       "</endpoint></user></users>" TAIL,
	  CC_ERR_MALFORMED },
	{ HEAD "version='1'><users><user entity='a'><endpoint><media/>"
	       "</endpoint></user></users>" TAIL,
	  CC_ERR_MISSING },
	{ HEAD "version='1'><users><user entity='a'><endpoint><media id='1'/>"
	       "<media id='1'/></endpoint></user></users>" TAIL,
	  CC_ERR_MALFORMED },
	{ HEAD "version='1'>\x01" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'>\xc0\x80" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'>\xed\xa0\x80" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'>\xef\xbf\xbe" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'>\xf4\x90\x80\x80" TAIL, CC_ERR_MALFORMED },
	{ HEAD "version='1'>\xe2\x82" TAIL, CC_ERR_MALFORMED },
};

static void test_bad_inputs(void)
{
	struct confinfo_diag d;

	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		enum cc_err got = parse_str(bads[i].xml, &d);

		if (got != bads[i].want) {
			fprintf(stderr, "bad[%zu] %s: got %s (%s), want %s\n",
				i, bads[i].xml, cc_strerror(got),
				d.reason ? d.reason : "-",
				cc_strerror(bads[i].want));
			check_failures++;
		}
		CHECK(got == CC_OK || d.reason != NULL);
		CHECK(d.offset <= strlen(bads[i].xml));
	}
	{ /* a NUL byte inside */
		static const char nul[] = HEAD "version='1'>\0" TAIL;
		struct confinfo *doc;

		CHECK_OK(confinfo_new(&doc, NULL));
		CHECK_ERR(confinfo_parse(doc, nul, sizeof(nul) - 1, &d),
			  CC_ERR_MALFORMED);
		CHECK_ERR(confinfo_parse(NULL, nul, 1, &d), CC_ERR_INVAL);
		CHECK_ERR(confinfo_parse(doc, NULL, 1, &d), CC_ERR_INVAL);
		confinfo_free(doc);
	}
}

/* every proper prefix of a document is refused; the whole one parses */
static void test_truncation_and_flips(void)
{
	struct confinfo *ci, *doc;
	size_t len, end;
	static char copy[1 << 16];
	enum cc_err err;

	CHECK_OK(confinfo_new(&ci, FOCUS));
	CHECK_OK(confinfo_new(&doc, NULL));
	fill_focus(ci);
	commit(ci, true);
	len = build_full(ci);
	CHECK(len < sizeof(copy));
	memcpy(copy, buf, len);
	end = len;
	while (end && (copy[end - 1] == '\n'))
		end--;
	for (size_t n = 0; n < end; n++) {
		err = confinfo_parse(doc, copy, n, NULL);
		if (err == CC_OK) {
			fprintf(stderr, "prefix %zu of %zu parsed\n", n, len);
			check_failures++;
			break;
		}
		CHECK(confinfo_user_count(doc) == 0); /* left empty */
	}
	CHECK_OK(confinfo_parse(doc, copy, end, NULL));
	/* bit flips and byte replacements: never a crash; what parses is
	 * a sane model */
	for (int r = 0; r < 20000; r++) {
		size_t at = (size_t)(splitmix(&rng) % len);
		char save = copy[at];

		if (r & 1)
			copy[at] ^= (char)(1u << (splitmix(&rng) % 8));
		else
			copy[at] = "<>&;'\"/=x\0\xff"[splitmix(&rng) % 11];
		err = confinfo_parse(doc, copy, len, NULL);
		if (err == CC_OK)
			for (size_t i = 0; i < confinfo_user_count(doc); i++)
				CHECK(confinfo_user_at(doc, i)->n_media <=
				      CONFINFO_MEDIA_MAX);
		copy[at] = save;
	}
	confinfo_free(ci);
	confinfo_free(doc);
}

static void test_random_garbage(void)
{
	static const char alphabet[] = "<>/=\"' \n&;#x!-?[]:abcentityuser0123";
	struct confinfo *doc;
	static char g[4096];

	CHECK_OK(confinfo_new(&doc, NULL));
	for (int r = 0; r < 20000; r++) {
		size_t n = (size_t)(splitmix(&rng) % sizeof(g));

		for (size_t i = 0; i < n; i++)
			g[i] = (r & 1) ? (char)splitmix(&rng) :
					 alphabet[splitmix(&rng) %
						  (sizeof(alphabet) - 1)];
		enum cc_err err = confinfo_parse(doc, g, n, NULL);

		/* must return, with a model or an error */
		CHECK(err == CC_OK || confinfo_user_count(doc) == 0);
	}
	confinfo_free(doc);
}

static char *big;
#define BIG (CONFINFO_DOC_MAX + 64)

static void test_limits(void)
{
	struct confinfo *doc;
	struct confinfo_diag d;
	size_t n = 0;

	big = malloc(BIG);
	CHECK(big != NULL);
	if (!big)
		return;
	CHECK_OK(confinfo_new(&doc, NULL));

	/* nested too deeply: refused at the limit, not by the stack */
	n = (size_t)snprintf(big, BIG, HEAD "version='1'>");
	for (int i = 0; i < 100000; i++)
		n += (size_t)snprintf(big + n, BIG - n, "<a>");
	CHECK_ERR(confinfo_parse(doc, big, n, &d), CC_ERR_FULL);
	CHECK(d.reason && strstr(d.reason, "deep"));

	/* nesting just under the limit is fine */
	n = (size_t)snprintf(big, BIG, HEAD "version='1'>");
	for (int i = 0; i < CONFINFO_DEPTH_MAX - 1; i++)
		n += (size_t)snprintf(big + n, BIG - n, "<a>");
	for (int i = 0; i < CONFINFO_DEPTH_MAX - 1; i++)
		n += (size_t)snprintf(big + n, BIG - n, "</a>");
	n += (size_t)snprintf(big + n, BIG - n, TAIL);
	CHECK_OK(confinfo_parse(doc, big, n, &d));

	/* too many users */
	n = (size_t)snprintf(big, BIG, HEAD "version='1'><users>");
	for (unsigned i = 0; i <= CONFINFO_USERS_MAX; i++)
		n += (size_t)snprintf(big + n, BIG - n,
				      "<user entity='sip:u%u@x'/>", i);
	n += (size_t)snprintf(big + n, BIG - n, "</users>" TAIL);
	CHECK_ERR(confinfo_parse(doc, big, n, &d), CC_ERR_FULL);

	/* too many media, too long text, too many attributes */
	CHECK_ERR(parse_str(HEAD "version='1'><users><user entity='a'>"
				 "<endpoint><media id='1'/><media id='2'/>"
				 "<media id='3'/><media id='4'/><media id='5'/>"
				 "<media id='6'/><media id='7'/><media id='8'/>"
				 "<media "
				 "id='9'/></endpoint></user></users>" TAIL,
			    &d),
		  CC_ERR_FULL);
	n = (size_t)snprintf(big, BIG,
			     HEAD "version='1'><users><user "
				  "entity='a'><display-text>");
	memset(big + n, 'x', 200);
	n += 200;
	n += (size_t)snprintf(big + n, BIG - n,
			      "</display-text></user></users>" TAIL);
	CHECK_ERR(confinfo_parse(doc, big, n, &d), CC_ERR_MALFORMED);
	n = (size_t)snprintf(big, BIG,
			     HEAD "version='1'><users><user "
				  "entity='sip:");
	memset(big + n, 'x', 300);
	n += 300;
	n += (size_t)snprintf(big + n, BIG - n, "'/></users>" TAIL);
	CHECK_ERR(confinfo_parse(doc, big, n, &d), CC_ERR_MALFORMED);
	n = (size_t)snprintf(big, BIG, HEAD "version='1'><a");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(big + n, BIG - n, " a%d='1'", i);
	n += (size_t)snprintf(big + n, BIG - n, "/>" TAIL);
	CHECK_ERR(confinfo_parse(doc, big, n, &d), CC_ERR_FULL);

	/* a huge but harmless text node in an unknown element is read in
	 * one pass; one byte over the document limit is refused */
	n = (size_t)snprintf(big, BIG, HEAD "version='1'><junk>");
	memset(big + n, 'y', CONFINFO_DOC_MAX - n - 64);
	n = CONFINFO_DOC_MAX - 64;
	n += (size_t)snprintf(big + n, BIG - n, "</junk>" TAIL);
	CHECK_OK(confinfo_parse(doc, big, n, &d));
	memset(big + n, ' ', BIG - n);
	CHECK_ERR(confinfo_parse(doc, big, CONFINFO_DOC_MAX + 1, &d),
		  CC_ERR_FULL);

	/* an unterminated comment the size of the limit: one pass */
	n = (size_t)snprintf(big, BIG, HEAD "version='1'><!--");
	memset(big + n, '-', CONFINFO_DOC_MAX - n);
	CHECK(confinfo_parse(doc, big, CONFINFO_DOC_MAX, &d) != CC_OK);
	confinfo_free(doc);
	free(big);
}

/* ---- from the conference core ----------------------------------------------- */

struct core {
	struct conf *c;
	struct confinfo *ci;
	conf_mid last;
	uint64_t seed;
	int64_t now;
};

static void core_action(const struct conf_action *a, void *arg)
{
	struct core *k = arg;

	if (a->type == CONF_ACT_ACCEPT)
		k->last = a->member;
	if (a->type == CONF_ACT_NOTIFY && !a->u.notify.joined)
		CHECK_OK(confinfo_note_removal(k->ci, a->u.notify.identity,
					       a->u.notify.reason));
}

static enum cc_err core_rand(uint8_t *b, size_t n, void *arg)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)splitmix(arg);
	return CC_OK;
}

static conf_mid core_join(struct core *k, const char *id, uint32_t ssrc,
			  bool done)
{
	struct conf_event ev = { .type = CONF_EV_JOIN_REQUEST,
				 .now = ++k->now };

	ev.u.join.identity = id;
	ev.u.join.ssrcs = &ssrc;
	ev.u.join.n_ssrcs = 1;
	k->last = CONF_MID_NONE;
	CHECK_OK(conf_handle(k->c, &ev));
	CHECK(k->last != CONF_MID_NONE);
	if (done) {
		ev = (struct conf_event){ .type = CONF_EV_JOIN_DONE,
					  .now = ++k->now };
		ev.u.member = k->last;
		CHECK_OK(conf_handle(k->c, &ev));
	}
	return k->last;
}

static void core_member(struct core *k, enum conf_event_type t, conf_mid m)
{
	struct conf_event ev = { .type = t, .now = ++k->now };

	ev.u.member = m;
	CHECK_OK(conf_handle(k->c, &ev));
}

static void decorate(const struct conf_member_info *m, struct confinfo_user *u,
		     void *arg)
{
	(void)arg;
	if (strstr(m->identity, "sdes"))
		u->trust = CONFINFO_TRUST_SDES;
}

static void sync_commit(struct core *k)
{
	CHECK_OK(confinfo_sync_conf(k->ci, k->c, CONFINFO_TRUST_KMS, decorate,
				    NULL));
	commit(k->ci, true);
}

static bool has_bytes(const char *hay, size_t n, const uint8_t *needle,
		      size_t k)
{
	for (size_t i = 0; k && i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

/* no byte string of the group key appears in the document, in any form */
static void check_no_key(const struct conf *c, const char *doc, size_t len)
{
	for (uint32_t e = 1; e <= conf_newest_epoch(c); e++) {
		const struct conf_epoch_keys *k = conf_epoch_keys(c, e);
		char hex[2 * CONF_TEK_MAX + 1], b64[64];

		if (!k)
			continue;
		cc_hex_encode(k->tek, k->tek_len, hex);
		CHECK(!strstr(doc, hex));
		CHECK(cc_b64_encode(k->tek, k->tek_len, b64, sizeof(b64)) ==
		      CC_OK);
		CHECK(!strstr(doc, b64));
		CHECK(!has_bytes(doc, len, k->tek, k->tek_len));
		cc_hex_encode(k->salt, k->salt_len, hex);
		CHECK(!strstr(doc, hex));
		CHECK(!has_bytes(doc, len, k->salt, k->salt_len));
	}
}

static void test_from_core(void)
{
	static const char *const allowed[] = { "sip:bob@example.org",
					       "sip:sdes-carol@example.org",
					       "sip:dan\x01@example.org" };
	struct core k = { .seed = 7 };
	struct conf_event ev = { .type = CONF_EV_CREATED, .now = 0 };
	struct confinfo *view;
	const struct confinfo_user *u;
	conf_mid bob, carol, dan, eve;
	size_t len;

	CHECK_OK(conf_new(&k.c, core_action, &k, core_rand, &k.seed));
	CHECK_OK(confinfo_new(&k.ci, FOCUS));
	CHECK_OK(confinfo_new(&view, NULL));
	ev.u.created.creator = "sip:alice@example.org";
	ev.u.created.factory = "sip:factory.conf1@example.org";
	ev.u.created.focus = FOCUS;
	ev.u.created.allowed = allowed;
	ev.u.created.n_allowed = 3;
	CHECK_OK(conf_handle(k.c, &ev));
	CHECK(!strcmp(conf_focus_identity(k.c), FOCUS));

	(void)core_join(&k, "sip:alice@example.org", 100, true);
	bob = core_join(&k, "sip:bob@example.org", 200, true);
	carol = core_join(&k, "sip:sdes-carol@example.org", 300, true);
	dan = core_join(&k, "sip:dan\x01@example.org", 400, true);
	eve = core_join(&k, "sip:alice@example.org", 100, false); /* joining */
	{
		struct conf_member_info mi;

		CHECK(conf_member_get(k.c, bob, &mi));
		CHECK(mi.joined && mi.n_ssrcs == 1 && mi.ssrcs[0] == 200);
		CHECK(!strcmp(mi.identity, "sip:bob@example.org"));
		CHECK(mi.epoch >= 1 && mi.via == CONF_VIA_DIRECT);
		CHECK(!conf_member_get(k.c, CONF_MID_NONE, &mi));
		CHECK(conf_member_get(k.c, eve, &mi) && !mi.joined);
	}
	sync_commit(&k);
	len = build_full(k.ci);
	check_no_key(k.c, buf, len);
	CHECK(update(view, buf, len) == CONFINFO_APPLIED);
	/* alice (her second dialog is still joining), bob, carol, dan */
	CHECK(confinfo_user_count(view) == 4);
	CHECK(confinfo_conf_state(view)->users == 4);
	CHECK(confinfo_conf_state(view)->epoch == conf_current_epoch(k.c));
	CHECK(confinfo_conf_state(view)->active);
	u = confinfo_find(view, "sip:bob@example.org");
	CHECK(u && u->status == CONFINFO_ST_CONNECTED &&
	      u->joining == CONFINFO_JOIN_DIALED_IN &&
	      u->trust == CONFINFO_TRUST_KMS && u->epoch >= 1 &&
	      u->n_media == 1 && u->media[0].ssrc == 200);
	u = confinfo_find(view, "sip:sdes-carol@example.org");
	CHECK(u && u->trust == CONFINFO_TRUST_SDES);
	/* an identity XML cannot carry is listed under a .invalid URI */
	{
		char inv[128];

		snprintf(inv, sizeof(inv),
			 "sip:member-%" PRIu64 "@unrepresentable.invalid",
			 (uint64_t)dan);
		CHECK(confinfo_find(view, inv) != NULL);
	}

	/* alice's second dialog joins: one user, both SSRCs */
	core_member(&k, CONF_EV_JOIN_DONE, eve);
	sync_commit(&k);
	len = build_partial(k.ci);
	CHECK(update(view, buf, len) == CONFINFO_APPLIED);
	CHECK(confinfo_user_count(view) == 4);
	u = confinfo_find(view, "sip:alice@example.org");
	CHECK(u && u->n_media == 2 && u->media[1].id == 2);
	CHECK(u && u->media[0].ssrc != u->media[1].ssrc);

	/* bob leaves, carol is compromised: announced with their methods */
	core_member(&k, CONF_EV_LEAVE, bob);
	core_member(&k, CONF_EV_COMPROMISED, carol);
	sync_commit(&k);
	len = build_partial(k.ci);
	check_no_key(k.c, buf, len);
	CHECK(update(view, buf, len) == CONFINFO_APPLIED);
	CHECK(same_roster(k.ci, view));
	u = confinfo_find(view, "sip:bob@example.org");
	CHECK(u && u->status == CONFINFO_ST_DISCONNECTED &&
	      u->disconnection == CONFINFO_DISC_DEPARTED && u->n_media == 0 &&
	      u->epoch == 0 && u->trust == CONFINFO_TRUST_NONE);
	u = confinfo_find(view, "sip:sdes-carol@example.org");
	CHECK(u && u->disconnection == CONFINFO_DISC_BOOTED);
	CHECK(confinfo_conf_state(view)->users == 2);
	/* a sync with no change publishes nothing */
	CHECK_OK(confinfo_sync_conf(k.ci, k.c, CONFINFO_TRUST_KMS, decorate,
				    NULL));
	commit(k.ci, false);

	/* the conference ends: everyone booted, inactive */
	ev = (struct conf_event){ .type = CONF_EV_ENDED, .now = ++k.now };
	CHECK_OK(conf_handle(k.c, &ev));
	sync_commit(&k);
	len = build_partial(k.ci);
	CHECK(update(view, buf, len) == CONFINFO_APPLIED);
	CHECK(!confinfo_conf_state(view)->active);
	CHECK(confinfo_conf_state(view)->users == 0);

	CHECK(confinfo_disconnection_of(CONF_RM_LOST) == CONFINFO_DISC_FAILED);
	CHECK(confinfo_disconnection_of(CONF_RM_NO_ACK) ==
	      CONFINFO_DISC_BOOTED);
	conf_free(k.c);
	confinfo_free(k.ci);
	confinfo_free(view);
}

/* a deleted conference ends the view; a later full one revives it */
static void test_deleted_conference(void)
{
	static const char del[] = HEAD "version='9' state='deleted'/>";
	static const char full[] = HEAD "version='10'><users><user "
					"entity='a'/></users>" TAIL;
	struct confinfo *view;

	CHECK_OK(confinfo_new(&view, NULL));
	CHECK(update(view, full, strlen(full)) == CONFINFO_APPLIED);
	CHECK(update(view, del, strlen(del)) == CONFINFO_STALE);
	confinfo_free(view);
	CHECK_OK(confinfo_new(&view, NULL));
	CHECK(update(view, del, strlen(del)) == CONFINFO_ENDED);
	CHECK(confinfo_ended(view) && confinfo_user_count(view) == 0);
	CHECK(update(view, full, strlen(full)) == CONFINFO_APPLIED);
	CHECK(!confinfo_ended(view) && confinfo_user_count(view) == 1);
	CHECK(!strcmp(confinfo_result_name(CONFINFO_NEED_FULL), "need full"));
	confinfo_free(view);
}

/* a roster at the scale of a 10,000-member conference */
static void test_scale(void)
{
	struct confinfo *ci, *view;
	struct confinfo_user u;
	static char large[8u << 20];
	size_t len = 0;
	char id[64];
	enum confinfo_result res;

	CHECK_OK(confinfo_new(&ci, FOCUS));
	CHECK_OK(confinfo_new(&view, NULL));
	for (unsigned i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "sip:user%05u@example.org", i);
		u = mkuser(id, i + 10, 1);
		CHECK_OK(confinfo_user_put(ci, &u));
	}
	commit(ci, true);
	CHECK_OK(confinfo_build_full(ci, large, sizeof(large), &len));
	CHECK_OK(confinfo_update(view, large, len, &res, NULL));
	CHECK(res == CONFINFO_APPLIED && confinfo_user_count(view) == 10000);
	CHECK_OK(confinfo_user_disconnect(ci, "sip:user05000@example.org",
					  CONFINFO_DISC_DEPARTED));
	commit(ci, true);
	CHECK_OK(confinfo_build_partial(ci, large, sizeof(large), &len));
	CHECK(len < 2048); /* one user, not 10,000 */
	CHECK_OK(confinfo_update(view, large, len, &res, NULL));
	CHECK(res == CONFINFO_APPLIED);
	CHECK(same_roster(ci, view));
	confinfo_free(ci);
	confinfo_free(view);
}

int main(void)
{
	test_round_trip();
	test_partial();
	test_partial_merge();
	test_injection();
	test_buffer();
	test_rfc_examples();
	test_tolerance();
	test_bad_inputs();
	test_truncation_and_flips();
	test_random_garbage();
	test_limits();
	test_from_core();
	test_deleted_conference();
	test_scale();
	CHECK_DONE();
}
