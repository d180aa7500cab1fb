/*
 * cmd_srtp.c -- `conclave srtp check`: judge captured SRTP packets against
 * the keys a test exported (`conclave ua --export-keys`, TEST ONLY).
 *
 * Every packet on stdin (hex, one per line, optionally preceded by its
 * capture time, as `tshark -T fields -e frame.time_epoch -e udp.payload`
 * prints them) is handed to libsrtp's srtp_unprotect_mki() on a session
 * holding every exported master key with its MKI [RFC 3711 §3.1, §8.1]:
 * libsrtp picks the key by the MKI before the tag and verifies the tag
 * (HMAC-SHA1-80) or the GCM tag. Nothing is chosen by trial decryption.
 * The verdict per MKI: packets verified or failed (unknown MKI, bad tag,
 * replay), and, with times, packets captured before the epoch was first
 * installed anywhere or after it was first retired by any participant.
 *
 * The same bytes seen several times (a member's packet, then the focus's
 * copies to every other member) are verified once: a second
 * srtp_unprotect() of identical bytes would be a replay.
 */
#include "cmds.h"

#include <conclave/base.h>
#include <conclave/media.h>

#include <srtp2/srtp.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	CK_MAX_KEYS = 256,  /* exported epochs */
	CK_MAX_STATS = 512, /* MKIs seen (exported or not) */
	CK_MASTER_MAX = 32, /* key + salt */
	CK_WINDOW = 1024,   /* replay window: capture order may differ */
	CK_MAX_FILES = 64,  /* --keys given */
	CK_SESS_KEYS = SRTP_MAX_NUM_MASTER_KEYS,
	CK_MAX_SESS = CK_MAX_KEYS / CK_SESS_KEYS + 1,
};

#define CK_NONE (-1.0) /* no time */

struct ck_key {
	uint32_t mki;
	uint8_t mki_wire[MEDIA_MKI_LEN];
	uint8_t master[CK_MASTER_MAX]; /* key || salt */
	size_t key_len, salt_len;
	double installed, retired; /* first install / retire seen */
	unsigned installs, retires;
};

struct ck_stat {
	uint32_t mki;
	bool exported;
	uint64_t packets, distinct, verified, failed;
	uint64_t unknown_mki, auth_fail, replay, other;
	uint64_t before_install, after_retire;
	double first, last;
};

/* One distinct packet and libsrtp's verdict on it. */
struct ck_seen {
	uint64_t h;
	uint8_t *b;
	size_t len;
	srtp_err_status_t verdict;
};

struct ck {
	struct ck_key keys[CK_MAX_KEYS];
	size_t nkeys, nfiles;
	enum media_profile profile;
	bool have_profile, json;
	srtp_t sess[CK_MAX_SESS];
	size_t nsess;
	struct ck_stat st[CK_MAX_STATS];
	size_t nst;
	struct ck_seen *seen;
	size_t seen_cap, nseen;
	uint64_t lines, malformed, untimed;
};

static void usage(FILE *f)
{
	fputs("usage: conclave srtp check --keys FILE [--keys FILE ...] "
	      "[--json]\n\n"
	      "TEST ONLY. Reads SRTP packets on stdin, one per line as hex "
	      "(the UDP payload),\noptionally after the capture time in "
	      "seconds since 1970:\n"
	      "  tshark -r cap.pcap -Y 'udp.port==P' -T fields "
	      "-e frame.time_epoch -e udp.payload \\\n"
	      "    | conclave srtp check --keys alice.keys --keys bob.keys\n"
	      "and verifies each with libsrtp (srtp_unprotect_mki) on a "
	      "session holding every\nkey exported by `conclave ua "
	      "--export-keys FILE` (lines `install TIME mki=HEX\n"
	      "profile=NAME key=HEX salt=HEX` and `retire TIME mki=HEX`). "
	      "The MKI before the\ntag selects the key. Prints per MKI the "
	      "packets verified and failed, and how\nmany were captured "
	      "before the epoch was installed or after a participant\n"
	      "retired it. Identical packets (the focus's copies) are "
	      "verified once.\n\n"
	      "options:\n"
	      "  --keys FILE  an export file (repeat for every participant)\n"
	      "  --json       the figures as JSON on stdout\n\n"
	      "Exit status: 0 when there was at least one packet, every "
	      "packet verified under\nan exported MKI, none was captured "
	      "before its epoch was installed or after it\nwas retired; 1 "
	      "otherwise; 2 usage or unreadable/inconsistent key files.\n",
	      f);
}

/* ---- key files ------------------------------------------------------- */

/* The exported key of mki, or c->nkeys. */
static size_t key_index(const struct ck *c, uint32_t mki)
{
	size_t i;

	for (i = 0; i < c->nkeys; i++)
		if (c->keys[i].mki == mki)
			break;
	return i;
}

static struct ck_key *key_find(struct ck *c, uint32_t mki)
{
	size_t i = key_index(c, mki);

	return i < c->nkeys ? &c->keys[i] : NULL;
}

static const struct ck_key *key_get(const struct ck *c, uint32_t mki)
{
	size_t i = key_index(c, mki);

	return i < c->nkeys ? &c->keys[i] : NULL;
}

static bool parse_mki(const char *v, uint32_t *mki)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 16);
	if (errno || end == v || *end || x > 0xffffffffUL)
		return false;
	*mki = (uint32_t)x;
	return true;
}

static void min_time(double *slot, double t)
{
	if (*slot < 0 || t < *slot)
		*slot = t;
}

/* install TIME mki=.. profile=.. key=.. salt=..: 0, or -1 (message out) */
static int key_install(struct ck *c, double t, const char *mkis,
		       const char *khex, const char *shex, const char *where)
{
	uint8_t master[CK_MASTER_MAX];
	size_t kl = 0, sl = 0;
	enum media_profile p;
	struct ck_key *k;
	uint32_t mki;
	int rc = -1;

	if (!mkis || !khex || !shex || !parse_mki(mkis, &mki) ||
	    cc_hex_decode(khex, master, 16, &kl) != CC_OK || kl != 16 ||
	    cc_hex_decode(shex, master + kl, sizeof(master) - kl, &sl) !=
		    CC_OK ||
	    (sl != 14 && sl != 12)) {
		fprintf(stderr, "conclave srtp: %s: bad install line\n", where);
		goto out;
	}
	p = sl == 12 ? MEDIA_AEAD_AES_128_GCM : MEDIA_AES_CM_128_HMAC_SHA1_80;
	if (c->have_profile && p != c->profile) {
		fprintf(stderr, "conclave srtp: %s: profiles differ\n", where);
		goto out;
	}
	c->profile = p;
	c->have_profile = true;
	k = key_find(c, mki);
	if (k &&
	    (k->salt_len != sl || !cc_ct_equal(k->master, master, kl + sl))) {
		fprintf(stderr,
			"conclave srtp: %s: MKI %08x exported with two "
			"different keys\n",
			where, mki);
		goto out;
	}
	if (!k) {
		if (c->nkeys >= CK_MAX_KEYS) {
			fprintf(stderr, "conclave srtp: too many epochs\n");
			goto out;
		}
		k = &c->keys[c->nkeys++];
		memset(k, 0, sizeof(*k));
		k->mki = mki;
		k->mki_wire[0] = (uint8_t)(mki >> 24);
		k->mki_wire[1] = (uint8_t)(mki >> 16);
		k->mki_wire[2] = (uint8_t)(mki >> 8);
		k->mki_wire[3] = (uint8_t)mki;
		memcpy(k->master, master, kl + sl);
		k->key_len = kl;
		k->salt_len = sl;
		k->installed = k->retired = CK_NONE;
	}
	min_time(&k->installed, t);
	k->installs++;
	rc = 0;
out:
	cc_wipe(master, sizeof(master));
	return rc;
}

static int key_retire(struct ck *c, double t, const char *mkis,
		      const char *where)
{
	struct ck_key *k;
	uint32_t mki;

	if (!mkis || !parse_mki(mkis, &mki) || !(k = key_find(c, mki))) {
		fprintf(stderr,
			"conclave srtp: %s: retire of an MKI never "
			"installed\n",
			where);
		return -1;
	}
	min_time(&k->retired, t);
	k->retires++;
	return 0;
}

/* One line of an export file; its words are wiped by the caller. */
static int key_line(struct ck *c, char *line, const char *where)
{
	const char *mki = NULL, *key = NULL, *salt = NULL;
	char *save = NULL, *w, *tw, *end;
	double t;

	w = strtok_r(line, " \t\r\n", &save);
	if (!w || w[0] == '#')
		return 0;
	tw = strtok_r(NULL, " \t\r\n", &save);
	t = tw ? strtod(tw, &end) : -1;
	if (!tw || *end || t < 0) {
		fprintf(stderr, "conclave srtp: %s: no time\n", where);
		return -1;
	}
	while ((tw = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
		if (!strncmp(tw, "mki=", 4))
			mki = tw + 4;
		else if (!strncmp(tw, "key=", 4))
			key = tw + 4;
		else if (!strncmp(tw, "salt=", 5))
			salt = tw + 5;
	}
	if (!strcmp(w, "install"))
		return key_install(c, t, mki, key, salt, where);
	if (!strcmp(w, "retire"))
		return key_retire(c, t, mki, where);
	fprintf(stderr, "conclave srtp: %s: unknown record '%s'\n", where, w);
	return -1;
}

static int keys_load(struct ck *c, const char *path)
{
	char *line = NULL, where[600];
	size_t cap = 0, no = 0;
	ssize_t n;
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "conclave srtp: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	while (!rc && (n = getline(&line, &cap, f)) >= 0) {
		snprintf(where, sizeof(where), "%.500s:%zu", path, ++no);
		rc = key_line(c, line, where);
		cc_wipe(line, (size_t)n);
	}
	if (line)
		cc_wipe(line, cap);
	free(line);
	fclose(f);
	c->nfiles++;
	return rc;
}

/* ---- libsrtp sessions --------------------------------------------------- */

static int key_cmp(const void *a, const void *b)
{
	const struct ck_key *x = a, *y = b;

	return x->mki < y->mki ? -1 : x->mki > y->mki;
}

/* Sessions of up to SRTP_MAX_NUM_MASTER_KEYS keys each, keys by MKI. */
static int sessions_make(struct ck *c)
{
	srtp_master_key_t mk[CK_SESS_KEYS], *mkp[CK_SESS_KEYS];
	srtp_policy_t pol;
	size_t i, j, n;
	srtp_err_status_t st;

	qsort(c->keys, c->nkeys, sizeof(c->keys[0]), key_cmp);
	for (i = 0; i < c->nkeys; i += n) {
		n = c->nkeys - i < CK_SESS_KEYS ? c->nkeys - i : CK_SESS_KEYS;
		memset(&pol, 0, sizeof(pol));
		if (c->profile == MEDIA_AEAD_AES_128_GCM) {
			srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
			srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
		} else {
			srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(
				&pol.rtp);
			srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(
				&pol.rtcp);
		}
		for (j = 0; j < n; j++) {
			mk[j].key = c->keys[i + j].master;
			mk[j].mki_id = c->keys[i + j].mki_wire;
			mk[j].mki_size = MEDIA_MKI_LEN;
			mkp[j] = &mk[j];
		}
		pol.ssrc.type = ssrc_any_inbound;
		pol.keys = mkp;
		pol.num_master_keys = n;
		pol.window_size = CK_WINDOW;
		st = srtp_create(&c->sess[c->nsess], &pol);
		if (st != srtp_err_status_ok) {
			fprintf(stderr, "conclave srtp: srtp_create: %d\n",
				(int)st);
			return -1;
		}
		c->nsess++;
	}
	return 0;
}

/* The session holding mki's key (session 0 if none: libsrtp then says
 * bad_mki itself). */
static srtp_t session_for(const struct ck *c, uint32_t mki)
{
	size_t i = key_index(c, mki);

	return c->sess[i < c->nkeys ? i / CK_SESS_KEYS : 0];
}

static srtp_err_status_t verify(const struct ck *c, uint32_t mki,
				const uint8_t *pkt, size_t len)
{
	uint8_t scratch[MEDIA_PKT_MAX + 64];
	int n = (int)len;

	if (len > sizeof(scratch))
		return srtp_err_status_bad_param;
	memcpy(scratch, pkt, len);
	return srtp_unprotect_mki(session_for(c, mki), scratch, &n, 1);
}

/* ---- distinct packets --------------------------------------------------- */

static uint64_t fnv64(const uint8_t *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	while (n--)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

static int seen_grow(struct ck *c)
{
	size_t cap = c->seen_cap ? 2 * c->seen_cap : 4096, i, j;
	struct ck_seen *t = calloc(cap, sizeof(*t));

	if (!t)
		return ENOMEM;
	for (i = 0; i < c->seen_cap; i++) {
		if (!c->seen[i].b)
			continue;
		for (j = c->seen[i].h & (cap - 1); t[j].b;
		     j = (j + 1) & (cap - 1))
			;
		t[j] = c->seen[i];
	}
	free(c->seen);
	c->seen = t;
	c->seen_cap = cap;
	return 0;
}

/* The slot of pkt: found (->b set) or the empty one to fill. */
static struct ck_seen *seen_slot(struct ck *c, const uint8_t *pkt, size_t len)
{
	uint64_t h = fnv64(pkt, len);
	size_t j;

	if ((c->nseen + 1) * 2 > c->seen_cap && seen_grow(c))
		return NULL;
	for (j = h & (c->seen_cap - 1); c->seen[j].b;
	     j = (j + 1) & (c->seen_cap - 1))
		if (c->seen[j].h == h && c->seen[j].len == len &&
		    cc_ct_equal(c->seen[j].b, pkt, len))
			return &c->seen[j];
	c->seen[j].h = h;
	return &c->seen[j];
}

/* ---- per-MKI statistics ------------------------------------------------- */

static struct ck_stat *stat_for(struct ck *c, uint32_t mki)
{
	struct ck_stat *s;
	size_t i;

	for (i = 0; i < c->nst; i++)
		if (c->st[i].mki == mki)
			return &c->st[i];
	if (c->nst >= CK_MAX_STATS)
		return NULL;
	s = &c->st[c->nst++];
	memset(s, 0, sizeof(*s));
	s->mki = mki;
	s->exported = key_find(c, mki) != NULL;
	s->first = s->last = CK_NONE;
	return s;
}

static void count_verdict(struct ck_stat *s, srtp_err_status_t v)
{
	if (v == srtp_err_status_ok) {
		s->verified++;
		return;
	}
	s->failed++;
	if (v == srtp_err_status_bad_mki)
		s->unknown_mki++;
	else if (v == srtp_err_status_auth_fail)
		s->auth_fail++;
	else if (v == srtp_err_status_replay_fail ||
		 v == srtp_err_status_replay_old)
		s->replay++;
	else
		s->other++;
}

static void count_time(struct ck *c, struct ck_stat *s, double t)
{
	const struct ck_key *k = key_find(c, s->mki);

	if (t < 0) {
		c->untimed++;
		return;
	}
	min_time(&s->first, t);
	if (t > s->last)
		s->last = t;
	if (k && k->installed >= 0 && t < k->installed)
		s->before_install++;
	if (k && k->retired >= 0 && t > k->retired)
		s->after_retire++;
}

/* One packet (t < 0: no time given). */
static int packet(struct ck *c, const uint8_t *pkt, size_t len, double t)
{
	struct media_rtp rtp;
	struct ck_stat *s;
	struct ck_seen *seen;
	uint32_t mki = 0;

	if (media_rtp_parse(pkt, len, &rtp) != CC_OK ||
	    media_srtp_mki(c->profile, pkt, len, &mki) != CC_OK ||
	    !(s = stat_for(c, mki))) {
		c->malformed++;
		return 0;
	}
	s->packets++;
	count_time(c, s, t);
	seen = seen_slot(c, pkt, len);
	if (!seen)
		return ENOMEM;
	if (!seen->b) {
		seen->b = malloc(len);
		if (!seen->b)
			return ENOMEM;
		memcpy(seen->b, pkt, len);
		seen->len = len;
		seen->verdict = verify(c, mki, pkt, len);
		c->nseen++;
		s->distinct++;
	}
	count_verdict(s, seen->verdict);
	return 0;
}

/* "[TIME<blanks>]HEX" (tshark fields: tab; colons in HEX allowed). */
static int input_line(struct ck *c, char *line)
{
	uint8_t pkt[MEDIA_PKT_MAX + 64];
	char *save = NULL, *w[4], *end, *p, *q;
	size_t nw = 0, len = 0;
	double t = CK_NONE;

	while (nw < 4 &&
	       (w[nw] = strtok_r(nw ? NULL : line, " \t\r\n,", &save)) != NULL)
		nw++;
	if (!nw || w[0][0] == '#')
		return 0;
	c->lines++;
	if (nw >= 2) {
		t = strtod(w[0], &end);
		if (*end || t < 0)
			t = CK_NONE;
	}
	for (p = q = w[nw - 1]; *p; p++)
		if (*p != ':')
			*q++ = *p;
	*q = '\0';
	if (cc_hex_decode(w[nw - 1], pkt, sizeof(pkt), &len) != CC_OK) {
		c->malformed++;
		return 0;
	}
	return packet(c, pkt, len, t);
}

/* ---- output ------------------------------------------------------------- */

static int stat_cmp(const void *a, const void *b)
{
	const struct ck_stat *x = a, *y = b;

	return x->mki < y->mki ? -1 : x->mki > y->mki;
}

static void totals(const struct ck *c, struct ck_stat *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < c->nst; i++) {
		t->packets += c->st[i].packets;
		t->distinct += c->st[i].distinct;
		t->verified += c->st[i].verified;
		t->failed += c->st[i].failed;
		t->before_install += c->st[i].before_install;
		t->after_retire += c->st[i].after_retire;
	}
}

static bool passed(const struct ck *c, const struct ck_stat *t)
{
	return t->packets > 0 && !t->failed && !c->malformed &&
	       !t->before_install && !t->after_retire;
}

static const char *profile_name(enum media_profile p)
{
	return p == MEDIA_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM" :
					     "AES_CM_128_HMAC_SHA1_80";
}

static void json_time(double t, const char *sep)
{
	if (t < 0)
		printf("null%s", sep);
	else
		printf("%.6f%s", t, sep);
}

static void print_json(const struct ck *c, const struct ck_stat *t)
{
	size_t i;

	printf("{\"profile\":\"%s\",\"libsrtp\":\"%s\",\"key_files\":%zu,"
	       "\"epochs_exported\":%zu,\"lines\":%llu,\"packets\":%llu,"
	       "\"distinct\":%llu,\"verified\":%llu,\"failed\":%llu,"
	       "\"malformed\":%llu,\"before_install\":%llu,"
	       "\"after_retire\":%llu,\"untimed\":%llu,\"mki\":[",
	       profile_name(c->profile), srtp_get_version_string(), c->nfiles,
	       c->nkeys, (unsigned long long)c->lines,
	       (unsigned long long)t->packets, (unsigned long long)t->distinct,
	       (unsigned long long)t->verified, (unsigned long long)t->failed,
	       (unsigned long long)c->malformed,
	       (unsigned long long)t->before_install,
	       (unsigned long long)t->after_retire,
	       (unsigned long long)c->untimed);
	for (i = 0; i < c->nst; i++) {
		const struct ck_stat *s = &c->st[i];
		const struct ck_key *k = key_get(c, s->mki);

		printf("%s{\"mki\":\"0x%08x\",\"epoch\":%u,\"exported\":%s,"
		       "\"installs\":%u,\"retires\":%u,\"installed\":",
		       i ? "," : "", s->mki, s->mki & 0x7fffffffu,
		       k ? "true" : "false", k ? k->installs : 0,
		       k ? k->retires : 0);
		json_time(k ? k->installed : CK_NONE, ",\"retired\":");
		json_time(k ? k->retired : CK_NONE, ",\"first\":");
		json_time(s->first, ",\"last\":");
		json_time(s->last, ",");
		printf("\"packets\":%llu,\"distinct\":%llu,\"verified\":%llu,"
		       "\"failed\":%llu,\"unknown_mki\":%llu,"
		       "\"auth_fail\":%llu,\"replay\":%llu,\"other\":%llu,"
		       "\"before_install\":%llu,\"after_retire\":%llu}",
		       (unsigned long long)s->packets,
		       (unsigned long long)s->distinct,
		       (unsigned long long)s->verified,
		       (unsigned long long)s->failed,
		       (unsigned long long)s->unknown_mki,
		       (unsigned long long)s->auth_fail,
		       (unsigned long long)s->replay,
		       (unsigned long long)s->other,
		       (unsigned long long)s->before_install,
		       (unsigned long long)s->after_retire);
	}
	printf("],\"pass\":%s}\n", passed(c, t) ? "true" : "false");
}

static void rel_time(double t, double t0)
{
	if (t < 0)
		printf(" %9s", "-");
	else
		printf(" %+9.3f", t - t0);
}

static void print_text(const struct ck *c, const struct ck_stat *t)
{
	double t0 = CK_NONE;
	size_t i;

	for (i = 0; i < c->nkeys; i++)
		if (c->keys[i].installed >= 0)
			min_time(&t0, c->keys[i].installed);
	printf("conclave srtp check: %s, %s, %zu epochs from %zu key files\n"
	       "%llu packets (%llu distinct), %llu malformed; times in s "
	       "from the first install\n\n",
	       profile_name(c->profile), srtp_get_version_string(), c->nkeys,
	       c->nfiles, (unsigned long long)t->packets,
	       (unsigned long long)t->distinct,
	       (unsigned long long)c->malformed);
	printf("  %-10s %5s %9s %9s %9s %9s %8s %8s %8s %6s %6s\n", "MKI",
	       "epoch", "installed", "retired", "first", "last", "packets",
	       "verified", "failed", "early", "late");
	for (i = 0; i < c->nst; i++) {
		const struct ck_stat *s = &c->st[i];
		const struct ck_key *k = key_get(c, s->mki);

		printf("  0x%08x %5u", s->mki, s->mki & 0x7fffffffu);
		rel_time(k ? k->installed : CK_NONE, t0);
		rel_time(k ? k->retired : CK_NONE, t0);
		rel_time(s->first, t0);
		rel_time(s->last, t0);
		printf(" %8llu %8llu %8llu %6llu %6llu%s\n",
		       (unsigned long long)s->packets,
		       (unsigned long long)s->verified,
		       (unsigned long long)s->failed,
		       (unsigned long long)s->before_install,
		       (unsigned long long)s->after_retire,
		       k ? "" : "  (never exported)");
	}
	printf("\n  early: captured before any participant installed the "
	       "epoch;\n  late: captured after a participant retired it\n");
	printf("verdict: %s: %llu verified, %llu failed, %llu early, %llu "
	       "late\n",
	       passed(c, t) ? "PASS" : "FAIL", (unsigned long long)t->verified,
	       (unsigned long long)t->failed,
	       (unsigned long long)t->before_install,
	       (unsigned long long)t->after_retire);
}

/* ---- the command -------------------------------------------------------- */

static void ck_free(struct ck *c)
{
	size_t i;

	for (i = 0; i < c->nsess; i++)
		(void)srtp_dealloc(c->sess[i]);
	for (i = 0; i < c->seen_cap; i++)
		free(c->seen[i].b);
	free(c->seen);
	cc_wipe(c->keys, sizeof(c->keys));
}

static int check_run(struct ck *c)
{
	struct ck_stat t;
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	if (media_init() != CC_OK || sessions_make(c))
		return 2;
	while (!err && getline(&line, &cap, stdin) >= 0)
		err = input_line(c, line);
	free(line);
	if (err) {
		fprintf(stderr, "conclave srtp: %s\n", strerror(err));
		return 2;
	}
	qsort(c->st, c->nst, sizeof(c->st[0]), stat_cmp);
	totals(c, &t);
	if (c->json)
		print_json(c, &t);
	else
		print_text(c, &t);
	return passed(c, &t) ? 0 : 1;
}

static int cmd_check(int argc, char **argv)
{
	static struct ck C;
	const char *files[CK_MAX_FILES];
	size_t nf = 0, i;
	int rc = 2;

	memset(&C, 0, sizeof(C));
	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			C.json = true;
		} else if (!strcmp(argv[i], "--keys") && i + 1 < (size_t)argc &&
			   nf < CK_MAX_FILES) {
			files[nf++] = argv[++i];
		} else {
			fprintf(stderr, "conclave srtp check: bad option %s\n",
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!nf) {
		fprintf(stderr, "conclave srtp check: need --keys FILE\n");
		return 2;
	}
	for (i = 0; i < nf; i++)
		if (keys_load(&C, files[i]))
			goto out;
	if (!C.nkeys) {
		fprintf(stderr, "conclave srtp check: no key in the files\n");
		goto out;
	}
	rc = check_run(&C);
out:
	ck_free(&C);
	return rc;
}

int cmd_srtp(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (argc >= 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
