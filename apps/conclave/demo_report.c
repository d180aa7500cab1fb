/*
 * demo_report.c -- `conclave demo`: the verdict. Everything comes from
 * the participants' own --report JSON (docs/UA.md), decoded with libre's
 * JSON decoder: per source SSRC the packets per MKI and the tones
 * detected; per participant the counters per MKI and the epochs held.
 * The SSRC of each source is matched to the member whose report names
 * it as its own.
 */
#include <re.h>
#include "demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Audio a member may still read after its BYE was answered: packets the
 * focus forwarded before it processed the BYE (three 20 ms frames). */
#define LEAVE_SLACK_MS 60.0

struct src_mki {
	uint32_t mki;
	uint64_t packets;
};

struct rsrc {
	uint32_t ssrc;
	uint64_t packets;
	double last_ms;
	int tones[8];
	size_t n_tones;
	struct src_mki pm[DEMO_MAX_MKI];
	size_t n_pm;
};

struct rmki {
	uint32_t mki;
	uint64_t received, decrypted, failed, sent;
};

struct rep {
	bool loaded, joined, left;
	uint32_t ssrc;
	int tone;
	uint64_t sent, received, decrypted, failed, unknown, malformed;
	struct rmki pm[DEMO_MAX_MKI];
	size_t n_pm;
	uint32_t epochs[DEMO_MAX_MKI];
	size_t n_epochs;
	struct rsrc src[DEMO_MAX_SRC];
	size_t n_src;
};

static double num(const struct odict *o, const char *key)
{
	const struct odict_entry *e = o ? odict_lookup(o, key) : NULL;

	if (!e)
		return 0;
	if (e->type == ODICT_INT)
		return (double)e->u.integer;
	if (e->type == ODICT_DOUBLE)
		return e->u.dbl;
	if (e->type == ODICT_BOOL)
		return e->u.boolean;
	return 0;
}

static const struct odict *sub(const struct odict *o, const char *key,
			       enum odict_type t)
{
	const struct odict_entry *e = o ? odict_lookup(o, key) : NULL;

	return e && e->type == t ? e->u.odict : NULL;
}

static uint32_t mki_of(const struct odict *o)
{
	const char *s = odict_string(o, "mki");

	return s ? (uint32_t)strtoul(s, NULL, 16) : 0;
}

#define EACH(le, arr) \
	for ((le) = (arr) ? (arr)->lst.head : NULL; (le); (le) = (le)->next)

static void load_source(struct rsrc *s, const struct odict *o)
{
	const struct odict *a;
	struct le *le;

	s->ssrc = (uint32_t)num(o, "ssrc");
	s->packets = (uint64_t)num(o, "packets");
	s->last_ms = num(o, "last_ms");
	a = sub(o, "tones", ODICT_ARRAY);
	EACH(le, a)
	{
		const struct odict_entry *e = le->data;

		if (e->type == ODICT_OBJECT && s->n_tones < 8)
			s->tones[s->n_tones++] =
				(int)(num(e->u.odict, "hz") + 0.5);
	}
	a = sub(o, "per_mki", ODICT_ARRAY);
	EACH(le, a)
	{
		const struct odict_entry *e = le->data;

		if (e->type != ODICT_OBJECT || s->n_pm >= DEMO_MAX_MKI)
			continue;
		s->pm[s->n_pm].mki = mki_of(e->u.odict);
		s->pm[s->n_pm++].packets = (uint64_t)num(e->u.odict, "packets");
	}
}

static int load(struct rep *r, const char *path)
{
	struct odict *o = NULL;
	const struct odict *a, *rx;
	struct le *le;
	size_t len;
	char *s = demo_slurp(path, &len);
	int err;

	memset(r, 0, sizeof(*r));
	if (!s)
		return -1;
	err = json_decode_odict(&o, 32, s, len, 8);
	free(s);
	if (err)
		return -1;
	r->joined = num(o, "joined") != 0;
	r->left = num(o, "left") != 0;
	r->ssrc = (uint32_t)num(o, "ssrc");
	r->tone = (int)(num(o, "tone_hz") + 0.5);
	r->sent = (uint64_t)num(sub(o, "sent", ODICT_OBJECT), "packets");
	rx = sub(o, "received", ODICT_OBJECT);
	r->received = (uint64_t)num(rx, "packets");
	r->decrypted = (uint64_t)num(rx, "decrypted");
	r->failed = (uint64_t)num(rx, "failed");
	r->unknown = (uint64_t)num(rx, "unknown_mki");
	r->malformed = (uint64_t)num(rx, "malformed");
	a = sub(o, "per_mki", ODICT_ARRAY);
	EACH(le, a)
	{
		const struct odict_entry *e = le->data;
		struct rmki *m;

		if (e->type != ODICT_OBJECT || r->n_pm >= DEMO_MAX_MKI)
			continue;
		m = &r->pm[r->n_pm++];
		m->mki = mki_of(e->u.odict);
		m->received = (uint64_t)num(e->u.odict, "received");
		m->decrypted = (uint64_t)num(e->u.odict, "decrypted");
		m->failed = (uint64_t)num(e->u.odict, "failed");
		m->sent = (uint64_t)num(e->u.odict, "sent");
	}
	a = sub(o, "epochs", ODICT_ARRAY);
	EACH(le, a)
	{
		const struct odict_entry *e = le->data;

		if (e->type == ODICT_OBJECT && r->n_epochs < DEMO_MAX_MKI)
			r->epochs[r->n_epochs++] = mki_of(e->u.odict);
	}
	a = sub(o, "sources", ODICT_ARRAY);
	EACH(le, a)
	{
		const struct odict_entry *e = le->data;

		if (e->type == ODICT_OBJECT && r->n_src < DEMO_MAX_SRC)
			load_source(&r->src[r->n_src++], e->u.odict);
	}
	mem_deref(o);
	r->loaded = true;
	return 0;
}

static const struct rsrc *find_src(const struct rep *r, uint32_t ssrc)
{
	size_t i;

	for (i = 0; i < r->n_src; i++)
		if (r->src[i].ssrc == ssrc)
			return &r->src[i];
	return NULL;
}

static uint64_t src_under(const struct rsrc *s, uint32_t mki)
{
	size_t i;

	for (i = 0; s && i < s->n_pm; i++)
		if (s->pm[i].mki == mki)
			return s->pm[i].packets;
	return 0;
}

static bool has_tone(const struct rsrc *s, int hz)
{
	size_t i;

	for (i = 0; s && i < s->n_tones; i++)
		if (s->tones[i] == hz)
			return true;
	return false;
}

struct verdict {
	struct demo *d;
	struct rep r[DM_N];
	unsigned failed, passed;
};

static void check(struct verdict *v, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check(struct verdict *v, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("  %s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (ok)
		v->passed++;
	else
		v->failed++;
}

/* Did listener l hear speaker s: its SSRC among l's sources, packets
 * decrypted, and s's tone detected in that audio. */
static const struct rsrc *heard(const struct verdict *v, size_t l, size_t s)
{
	const struct rsrc *src = find_src(&v->r[l], v->r[s].ssrc);

	if (!src || !src->packets || !has_tone(src, v->r[s].tone))
		return NULL;
	return src;
}

static void cell(const struct verdict *v, size_t l, size_t s, char *buf,
		 size_t sz)
{
	const struct rsrc *src;
	size_t i, n;

	if (l == s || !(src = heard(v, l, s))) {
		snprintf(buf, sz, "-");
		return;
	}
	n = (size_t)snprintf(buf, sz, "heard (");
	for (i = 0; i < src->n_pm && n < sz; i++)
		if (src->pm[i].packets)
			n += (size_t)snprintf(buf + n, sz - n, "%s%u",
					      n > 7 ? "," : "",
					      demo_epoch(src->pm[i].mki));
	if (n < sz)
		snprintf(buf + n, sz - n, ")");
}

static void table(const struct verdict *v)
{
	const struct demo *d = v->d;
	const struct demo_ua *mal = &d->ua[DM_MALLORY];
	char buf[64];
	size_t l, s;

	printf("\nWho heard whom (rows: listeners, columns: speakers; numbers "
	       "are the epochs\nunder which the listener decrypted the "
	       "speaker, MKI = 0x80000000 | epoch):\n\n");
	printf("  %-9s", "");
	for (s = 0; s < DEMO_MEMBERS; s++) {
		snprintf(buf, sizeof(buf), "%s %dHz", d->ua[s].name,
			 v->r[s].tone);
		printf(" %-17s", buf);
	}
	printf("\n");
	for (l = 0; l < DEMO_MEMBERS; l++) {
		printf("  %-9s", d->ua[l].name);
		for (s = 0; s < DEMO_MEMBERS; s++) {
			cell(v, l, s, buf, sizeof(buf));
			printf(" %-17s", buf);
		}
		printf("\n");
	}
	printf("  %-9s refused (status %d): no keys, heard nothing\n",
	       mal->name, mal->sip_status);
	printf("\n  rekeys: dave's join  epoch %u -> %u (MKI 0x%08x)\n"
	       "          carol's leave epoch %u -> %u (MKI 0x%08x)\n",
	       demo_epoch(d->e_dave_old), demo_epoch(d->e_dave), d->e_dave,
	       demo_epoch(d->e_leave_old), demo_epoch(d->e_leave), d->e_leave);
}

/* Around a rekey old -> new, every pair of members present across it:
 * the listener decrypted the speaker under both MKIs. */
static void rekey_checks(struct verdict *v, const char *what, uint32_t old,
			 uint32_t new, const size_t *who, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		size_t l = who[i];
		unsigned bad = 0;
		char miss[160] = "";

		for (j = 0; j < n; j++) {
			size_t s = who[j];
			const struct rsrc *src;

			if (s == l)
				continue;
			src = find_src(&v->r[l], v->r[s].ssrc);
			if (src_under(src, old) && src_under(src, new))
				continue;
			bad++;
			snprintf(miss + strlen(miss),
				 sizeof(miss) - strlen(miss), " %s (%llu/%llu)",
				 v->d->ua[s].name,
				 (unsigned long long)src_under(src, old),
				 (unsigned long long)src_under(src, new));
		}
		check(v, !bad,
		      "%s, %s %sdecrypted every other member under both "
		      "epoch %u and %u%s%s",
		      what, v->d->ua[l].name, bad ? "NOT " : "",
		      demo_epoch(old), demo_epoch(new), bad ? ", missing:" : "",
		      miss);
	}
}

static void carol_checks(struct verdict *v)
{
	const struct demo *d = v->d;
	const struct rep *c = &v->r[DM_CAROL];
	const struct demo_ua *cu = &d->ua[DM_CAROL];
	uint64_t after = 0;
	bool held = false;
	double last = 0;
	size_t i, j;

	for (i = 0; i < c->n_epochs; i++)
		held |= c->epochs[i] >= d->e_leave;
	for (i = 0; i < c->n_pm; i++)
		if (c->pm[i].mki >= d->e_leave)
			after += c->pm[i].received;
	for (i = 0; i < c->n_src; i++) {
		for (j = 0; j < c->src[i].n_pm; j++)
			if (c->src[i].pm[j].mki >= d->e_leave)
				after += c->src[i].pm[j].packets;
		if (c->src[i].last_ms > last)
			last = c->src[i].last_ms;
	}
	check(v, !held && !after,
	      "carol never held epoch %u (created after her leave) and "
	      "received %llu packet(s) under it",
	      demo_epoch(d->e_leave), (unsigned long long)after);
	check(v, cu->left && last <= cu->bye_ms + LEAVE_SLACK_MS,
	      "carol heard nothing after her leave: last audio at %.2f s, "
	      "BYE answered at %.2f s (her clock)",
	      last / 1000.0, cu->bye_ms / 1000.0);
}

static void member_checks(struct verdict *v, size_t l)
{
	const struct rep *r = &v->r[l];
	const struct demo_ua *u = &v->d->ua[l];
	const char *n = u->name;
	bool self = find_src(r, r->ssrc) != NULL;
	size_t i, s;

	check(v,
	      r->joined && (r->left || u->hung_up) && r->sent > 0 &&
		      u->exited && WIFEXITED(u->status) &&
		      !WEXITSTATUS(u->status),
	      "%s joined, sent %llu packets, %s, exit 0", n,
	      (unsigned long long)r->sent,
	      r->left ? "left with BYE" : "the focus ended the call (BYE)");
	check(v, !r->failed && !r->unknown && !r->malformed && r->decrypted,
	      "%s decrypted %llu packets, %llu failed, %llu unknown MKI", n,
	      (unsigned long long)r->decrypted, (unsigned long long)r->failed,
	      (unsigned long long)r->unknown);
	for (i = 0; i < r->n_src; i++)
		self |= has_tone(&r->src[i], r->tone);
	check(v, !self, "%s did not hear itself", n);
	for (i = 0; i < r->n_src; i++) {
		bool known = false;

		for (s = 0; s < DEMO_MEMBERS; s++)
			if (s != l && r->src[i].ssrc == v->r[s].ssrc &&
			    (!r->src[i].n_tones ||
			     (r->src[i].n_tones == 1 &&
			      r->src[i].tones[0] == v->r[s].tone)))
				known = true;
		if (!known)
			check(v, false,
			      "%s heard source %08x that is no other member's "
			      "(or the wrong tone)",
			      n, r->src[i].ssrc);
	}
	for (s = 0; s < DEMO_MEMBERS; s++)
		if (s != l)
			check(v, heard(v, l, s) != NULL, "%s heard %s (%d Hz)",
			      n, v->d->ua[s].name, v->r[s].tone);
}

int demo_verdict(struct demo *d)
{
	static struct verdict V;
	struct verdict *v = &V;
	const struct demo_ua *mal = &d->ua[DM_MALLORY];
	const size_t before[] = { DM_ALICE, DM_BOB, DM_CAROL };
	const size_t after[] = { DM_ALICE, DM_BOB, DM_DAVE };
	size_t i;

	memset(v, 0, sizeof(*v));
	v->d = d;
	for (i = 0; i < DEMO_MEMBERS; i++)
		if (load(&v->r[i], d->ua[i].report))
			printf("  (no report from %s: %s)\n", d->ua[i].name,
			       d->ua[i].report);
	table(v);
	printf("\nChecks:\n");
	for (i = 0; i < DEMO_MEMBERS; i++)
		check(v, v->r[i].loaded, "%s wrote its report", d->ua[i].name);
	check(v,
	      mal->refused && mal->sip_status == 403 && !mal->joined &&
		      mal->exited && WIFEXITED(mal->status) &&
		      WEXITSTATUS(mal->status) == 1,
	      "mallory (not allowed) refused with status %d", mal->sip_status);
	for (i = 0; i < DEMO_MEMBERS; i++)
		if (v->r[i].loaded)
			member_checks(v, i);
	rekey_checks(v, "dave's join", d->e_dave_old, d->e_dave, before, 3);
	rekey_checks(v, "carol's leave", d->e_leave_old, d->e_leave, after, 3);
	carol_checks(v);
	if (!v->failed) {
		printf("\nverdict: PASS (%u checks): everyone heard everyone "
		       "while present, no gap at either rekey,\nnobody heard "
		       "itself, mallory was refused, carol heard nothing after "
		       "she left.\n",
		       v->passed);
		return 0;
	}
	printf("\nverdict: FAIL: %u of %u checks failed (see FAIL above; "
	       "--keep keeps the reports)\n",
	       v->failed, v->failed + v->passed);
	return 1;
}
