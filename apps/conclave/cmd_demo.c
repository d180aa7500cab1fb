/*
 * cmd_demo.c -- `conclave demo`, the README's main command (issue 5 §3).
 *
 * A KMS (temporary SQLite store, conclave-kmsd), the conference factory
 * and focus (conclave-confd) and five `conclave ua` participants on
 * loopback run the scripted conference: Alice creates it allowing Bob,
 * Carol and Dave; Bob and Carol join, Mallory is refused; everyone
 * speaks; Dave joins (rekey); Carol leaves (rekey); everyone speaks
 * again. The verdict (demo_report.c) comes from the participants' own
 * --report JSON. Setup follows tests/ua_basic.sh.
 */
#include "cmds.h"
#include "demo.h"

#include <errno.h>
#include <stdarg.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SKEW "30"

static const char *const names[DM_N] = { "alice", "bob", "carol", "dave",
					 "mallory" };
/* Member tones: unique, and among the frequencies the detector scans
 * (media_tone_freq: 450-3300 Hz in 150 Hz steps). */
static const int tones[DM_N] = { 750, 1200, 1650, 2100, 2550 };

static void usage(FILE *f)
{
	fputs("usage: conclave demo [--keep] [--verbose] [--seconds-per-step "
	      "S]\n"
	      "                     [--kmsd PATH] [--confd PATH]\n\n"
	      "Runs a secure conference on loopback (TR 33.829 clause 5.3, "
	      "KMS-based):\na KMS (conclave-kmsd, temporary SQLite store), "
	      "the conference factory and\nfocus (conclave-confd) and five "
	      "participants (`conclave ua`), scripted:\n"
	      "  1. Alice creates the conference, allowing Bob, Carol and "
	      "Dave.\n"
	      "  2. Bob and Carol join; Mallory, who is not allowed, is "
	      "refused (403).\n"
	      "  3. Everyone speaks (a tone unique to each member).\n"
	      "  4. Dave joins, which triggers a rekey.\n"
	      "  5. Carol leaves, which triggers a rekey.\n"
	      "  6. Everyone speaks again.\n"
	      "It prints a timeline, then a verdict table from the "
	      "participants' reports:\nrows are listeners, columns "
	      "speakers, each cell the epochs under which the\nlistener "
	      "decrypted the speaker's audio (MKI = 0x80000000 | epoch).\n\n"
	      "options:\n"
	      "  --keep                keep the temp dir (logs, reports, "
	      "WAV recordings)\n"
	      "  --verbose             also show every participant's "
	      "progress line\n"
	      "  --seconds-per-step S  how long everyone speaks in steps 3 "
	      "and 6 (default 3)\n"
	      "  --kmsd PATH, --confd PATH\n"
	      "                        the daemons (default: next to this "
	      "binary)\n"
	      "  --export-keys DIR     TEST ONLY: each participant appends "
	      "its SRTP keys\n"
	      "                        to DIR/<name>.keys (`conclave ua "
	      "--export-keys`),\n"
	      "                        for checking a capture (`conclave "
	      "srtp check`)\n\n"
	      "Exit status: 0 when every member heard every other member "
	      "while both were\npresent, with no decrypt failure and "
	      "packets under both MKIs around each\nrekey, nobody heard "
	      "itself, Mallory was refused, and Carol decrypted nothing\n"
	      "after her leave (nothing under the epoch created after it); "
	      "1 otherwise\n(the failed checks are listed); 2 usage or "
	      "setup error.\n",
	      f);
}

/* `conclave kms --db ... --master-key-file ... ARGS...` (NULL ends). */
__attribute__((sentinel)) static int kms(struct demo *d, ...)
{
	char db[PATH_MAX + 8], mk[PATH_MAX], log[PATH_MAX];
	const char *argv[24], *a;
	size_t n = 0;
	va_list ap;
	int rc;

	snprintf(db, sizeof(db), "sqlite:%s/kms.db", d->dir);
	snprintf(mk, sizeof(mk), "%s/master.key", d->dir);
	snprintf(log, sizeof(log), "%s/kms-admin.log", d->dir);
	argv[n++] = d->self;
	argv[n++] = "kms";
	argv[n++] = "--db";
	argv[n++] = db;
	argv[n++] = "--master-key-file";
	argv[n++] = mk;
	va_start(ap, d);
	while ((a = va_arg(ap, const char *)) && n < 23)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	rc = demo_run((char *const *)argv, log);
	if (rc != 0)
		fprintf(stderr,
			"conclave demo: `conclave kms %s %s` failed (see %s)\n",
			argv[6], n > 7 ? argv[7] : "", log);
	return rc;
}

static int setup_store(struct demo *d)
{
	char id[128], psk[64], cred[PATH_MAX], url[64];
	size_t i;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/mikey", d->kport);
	if (kms(d, "init", "--create-master-key", NULL))
		return -1;
	for (i = 0; i < DM_N; i++) {
		snprintf(id, sizeof(id), "sip:%s@" DEMO_REALM, names[i]);
		snprintf(psk, sizeof(psk), "%s-psk", names[i]);
		snprintf(cred, sizeof(cred), "%s/creds/%s.cred", d->dir,
			 names[i]);
		if (kms(d, "user", "add", names[i], "--psk-id", psk,
			"--generate", NULL) ||
		    kms(d, "identity", "add", names[i], id, NULL))
			return -1;
		if (kms(d, "credential", "export", names[i], "--identity", id,
			"--kms-url", url, "--kms-identity",
			"sip:kms." DEMO_REALM, "-o", cred, NULL))
			return -1;
	}
	snprintf(cred, sizeof(cred), "%s/creds/confd.cred", d->dir);
	if (kms(d, "user", "add", "conf1-focus", "--psk-id", "conf1-psk",
		"--generate", "--key-supplier", NULL) ||
	    kms(d, "identity", "add", "conf1-focus", DEMO_FACTORY, "--factory",
		NULL) ||
	    kms(d, "identity", "add", "conf1-focus",
		"sip:focus*.conf1@" DEMO_REALM, NULL) ||
	    kms(d, "policy", "allow-conference", "alice", "conf1-focus",
		NULL) ||
	    kms(d, "credential", "export", "conf1-focus", "--identity",
		DEMO_FACTORY, "--kms-url", url, "--kms-identity",
		"sip:kms." DEMO_REALM, "-o", cred, NULL))
		return -1;
	return 0;
}

static bool confd_up(struct demo *d, void *arg)
{
	char log[PATH_MAX];

	(void)arg;
	snprintf(log, sizeof(log), "%s/confd.log", d->dir);
	return demo_tcp_ready(d->kport) && demo_file_has(log, "listening sip "
							      "TCP");
}

static int start_daemons(struct demo *d)
{
	char db[PATH_MAX + 8], mk[PATH_MAX], log[PATH_MAX], conf[PATH_MAX];
	char listen[32];
	FILE *f;

	snprintf(db, sizeof(db), "sqlite:%s/kms.db", d->dir);
	snprintf(mk, sizeof(mk), "%s/master.key", d->dir);
	snprintf(log, sizeof(log), "%s/kmsd.log", d->dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", d->kport);
	{
		char *argv[] = { d->kmsd,  "--listen",   listen,
				 "--db",   db,           "--master-key-file",
				 mk,       "--identity", "sip:kms." DEMO_REALM,
				 "--skew", SKEW,         NULL };

		d->kmsd_pid = demo_spawn(argv, log, NULL);
	}
	if (d->kmsd_pid < 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/confd.conf", d->dir);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f,
		"udp 127.0.0.1:%u\ntcp 127.0.0.1:%u\nfactory %s\n"
		"credential %s/creds/confd.cred\nskew %s\nidle_timeout 5\n"
		"log_level debug\npolicy rekey-on=join,leave\n"
		"policy min-rekey-interval=1s\npolicy grace=4000\n"
		"policy ack-deadline=3000\n",
		d->sport, d->sport, DEMO_FACTORY, d->dir, SKEW);
	if (fclose(f))
		return -1;
	snprintf(log, sizeof(log), "%s/confd.log", d->dir);
	{
		char *argv[] = { d->confd, "--config", conf, NULL };

		d->confd_pid = demo_spawn(argv, log, NULL);
	}
	if (d->confd_pid < 0)
		return -1;
	if (!demo_wait(d, 10, confd_up, NULL)) {
		fprintf(stderr, "conclave demo: the daemons did not come up "
				"(see kmsd.log, confd.log; --keep keeps "
				"them)\n");
		return -1;
	}
	return 0;
}

/* Start participant i: `conclave ua ... create|join`, stdin a pipe. */
static int start_ua(struct demo *d, enum demo_member i, bool create)
{
	struct demo_ua *u = &d->ua[i];
	char cred[PATH_MAX], server[32], tone[16], focus_out[PATH_MAX];
	char allow[256], keys[PATH_MAX];
	const char *argv[40];
	size_t n = 0;

	snprintf(cred, sizeof(cred), "%s/creds/%s.cred", d->dir, u->name);
	snprintf(server, sizeof(server), "127.0.0.1:%u", d->sport);
	snprintf(tone, sizeof(tone), "%d", u->tone);
	snprintf(focus_out, sizeof(focus_out), "%s/focus", d->dir);
	snprintf(allow, sizeof(allow), "sip:bob@%s,sip:carol@%s,sip:dave@%s",
		 DEMO_REALM, DEMO_REALM, DEMO_REALM);
	if (mkdir(u->rec, 0700) && errno != EEXIST)
		return -1;
	argv[n++] = d->self;
	argv[n++] = "ua";
	argv[n++] = "--cred";
	argv[n++] = cred;
	argv[n++] = "--server";
	argv[n++] = server;
	argv[n++] = "--skew";
	argv[n++] = SKEW;
	argv[n++] = "--tone";
	argv[n++] = tone;
	argv[n++] = "--report";
	argv[n++] = u->report;
	argv[n++] = "--record";
	argv[n++] = u->rec;
	argv[n++] = "--grace";
	argv[n++] = "2000";
	/* participants send under a new epoch when confd says every member
	 * holds it (the mikey-switch INFO, D7; docs/UA.md) */
	argv[n++] = "--duration";
	argv[n++] = "50";
	if (d->export_dir[0]) { /* TEST ONLY */
		snprintf(keys, sizeof(keys), "%s/%s.keys", d->export_dir,
			 u->name);
		argv[n++] = "--export-keys";
		argv[n++] = keys;
	}
	if (create) {
		argv[n++] = "--focus-out";
		argv[n++] = focus_out;
		argv[n++] = "create";
		argv[n++] = "--factory";
		argv[n++] = DEMO_FACTORY;
		argv[n++] = "--allow";
		argv[n++] = allow;
	} else {
		argv[n++] = "join";
		argv[n++] = d->focus;
	}
	argv[n] = NULL;
	u->t_start = demo_now();
	u->pid = demo_spawn((char *const *)argv, u->out, &u->in_fd);
	if (u->pid < 0)
		return -1;
	u->started = true;
	return 0;
}

static bool ua_joined_or_done(struct demo *d, void *arg)
{
	struct demo_ua *u = arg;

	(void)d;
	return u->joined || u->exited;
}

static bool ua_exited(struct demo *d, void *arg)
{
	struct demo_ua *u = arg;

	(void)d;
	return u->exited;
}

/* Every member present holds MKI *arg (answered its CSB update). */
struct hold_arg {
	uint32_t mki;
	unsigned mask; /* members that must hold it */
};

static bool all_hold(struct demo *d, void *arg)
{
	const struct hold_arg *h = arg;
	size_t i, j;

	for (i = 0; i < DM_N; i++) {
		bool has = false;

		if (!(h->mask & (1u << i)))
			continue;
		for (j = 0; j < d->ua[i].n_mkis; j++)
			has |= d->ua[i].mkis[j] == h->mki;
		if (!has)
			return false;
	}
	return true;
}

static bool newer_than(struct demo *d, void *arg)
{
	const uint32_t *old = arg;

	return d->ua[DM_ALICE].last_install > *old;
}

static int join_one(struct demo *d, enum demo_member i)
{
	struct demo_ua *u = &d->ua[i];

	demo_log(d, "%s calls %s", u->name, d->focus);
	if (start_ua(d, i, false))
		return -1;
	if (!demo_wait(d, 10, ua_joined_or_done, u) || !u->joined) {
		fprintf(stderr, "conclave demo: %s did not join (see %s)\n",
			u->name, u->out);
		return -1;
	}
	return 0;
}

static int wait_hold(struct demo *d, uint32_t mki, unsigned mask)
{
	struct hold_arg h = { mki, mask };
	char who[128] = "";
	size_t i;

	if (!demo_wait(d, 8, all_hold, &h)) {
		fprintf(stderr,
			"conclave demo: not every member got epoch %u\n",
			demo_epoch(mki));
		return -1;
	}
	for (i = 0; i < DM_N; i++)
		if (mask & (1u << i)) {
			strncat(who, " ", sizeof(who) - strlen(who) - 1);
			strncat(who, d->ua[i].name,
				sizeof(who) - strlen(who) - 1);
		}
	demo_log(d, "  epoch %u (MKI 0x%08x) held by:%s", demo_epoch(mki), mki,
		 who);
	return 0;
}

#define M(x) (1u << (x))

static int script(struct demo *d)
{
	struct demo_ua *carol = &d->ua[DM_CAROL], *dave = &d->ua[DM_DAVE];
	struct demo_ua *mal = &d->ua[DM_MALLORY];
	char path[PATH_MAX], *focus;
	uint32_t old;

	demo_log(d,
		 "step 1: alice creates the conference at %s, allowing "
		 "bob, carol and dave",
		 DEMO_FACTORY);
	if (start_ua(d, DM_ALICE, true))
		return -1;
	if (!demo_wait(d, 10, ua_joined_or_done, &d->ua[DM_ALICE]) ||
	    !d->ua[DM_ALICE].joined) {
		fprintf(stderr,
			"conclave demo: alice could not create the "
			"conference (see %s)\n",
			d->ua[DM_ALICE].out);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/focus", d->dir);
	focus = demo_slurp(path, NULL);
	if (!focus || !focus[0]) {
		fprintf(stderr,
			"conclave demo: no focus URI from alice in %s\n", path);
		free(focus);
		return -1;
	}
	focus[strcspn(focus, "\r\n")] = '\0';
	snprintf(d->focus, sizeof(d->focus), "%s", focus);
	free(focus);
	demo_log(d, "  the factory allocated the focus %s", d->focus);
	if (!demo_sleep(d, 0.5))
		return -1;

	demo_log(d, "step 2: bob and carol join; mallory (not allowed) "
		    "tries too");
	if (join_one(d, DM_BOB) || join_one(d, DM_CAROL))
		return -1;
	demo_log(d, "%s calls %s", mal->name, d->focus);
	if (start_ua(d, DM_MALLORY, false))
		return -1;
	if (!demo_wait(d, 10, ua_exited, mal))
		return -1;
	if (!mal->refused)
		demo_log(d, "  mallory was NOT refused (status %d)",
			 mal->sip_status);
	/* the join rekeys (min-rekey-interval 1 s) settle */
	if (!demo_sleep(d, 1.2) ||
	    wait_hold(d, d->max_mki, M(DM_ALICE) | M(DM_BOB) | M(DM_CAROL)))
		return -1;

	demo_log(d,
		 "step 3: everyone speaks (alice %d Hz, bob %d Hz, "
		 "carol %d Hz) for %.1f s",
		 d->ua[DM_ALICE].tone, d->ua[DM_BOB].tone, carol->tone,
		 d->step_s);
	if (!demo_sleep(d, d->step_s))
		return -1;

	demo_log(d, "step 4: dave (%d Hz) joins, which triggers a rekey",
		 dave->tone);
	if (join_one(d, DM_DAVE))
		return -1;
	d->e_dave_old = dave->join_mki;
	if (!demo_wait(d, 8, newer_than, &d->e_dave_old)) {
		fprintf(stderr, "conclave demo: no rekey after dave's join\n");
		return -1;
	}
	d->e_dave = d->ua[DM_ALICE].last_install;
	if (wait_hold(d, d->e_dave,
		      M(DM_ALICE) | M(DM_BOB) | M(DM_CAROL) | M(DM_DAVE)))
		return -1;
	demo_log(d, "  all four talk for %.1f s", d->step_s * 0.8);
	if (!demo_sleep(d, d->step_s * 0.8))
		return -1;

	demo_log(d, "step 5: carol leaves, which triggers a rekey");
	old = d->max_mki;
	d->e_leave_old = old;
	if (demo_ua_send(carol, "leave\n") ||
	    !demo_wait(d, 8, ua_exited, carol)) {
		fprintf(stderr, "conclave demo: carol did not leave\n");
		return -1;
	}
	if (!demo_wait(d, 8, newer_than, &old)) {
		fprintf(stderr, "conclave demo: no rekey after carol left\n");
		return -1;
	}
	d->e_leave = d->ua[DM_ALICE].last_install;
	if (wait_hold(d, d->e_leave, M(DM_ALICE) | M(DM_BOB) | M(DM_DAVE)))
		return -1;

	demo_log(d,
		 "step 6: everyone speaks again (alice, bob, dave) for "
		 "%.1f s",
		 d->step_s);
	if (!demo_sleep(d, d->step_s))
		return -1;

	demo_log(d, "the end: conclave-confd is stopped (SIGTERM), the focus "
		    "ends the conference with BYE to every member");
	demo_stop_confd(d);
	if (!demo_wait(d, 8, ua_exited, &d->ua[DM_ALICE]) ||
	    !demo_wait(d, 8, ua_exited, &d->ua[DM_BOB]) ||
	    !demo_wait(d, 8, ua_exited, dave))
		return -1;
	return 0;
}

static int find_daemons(struct demo *d)
{
	char dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", d->self, sizeof(d->self) - 1);

	if (n <= 0)
		return -1;
	d->self[n] = '\0';
	snprintf(dir, sizeof(dir), "%s", d->self);
	if (!d->kmsd[0])
		snprintf(d->kmsd, sizeof(d->kmsd), "%s/conclave-kmsd",
			 dirname(dir));
	snprintf(dir, sizeof(dir), "%s", d->self);
	if (!d->confd[0])
		snprintf(d->confd, sizeof(d->confd), "%s/conclave-confd",
			 dirname(dir));
	if (access(d->kmsd, X_OK) || access(d->confd, X_OK)) {
		fprintf(stderr,
			"conclave demo: need %s and %s (build them, "
			"or give --kmsd/--confd)\n",
			d->kmsd, d->confd);
		return -1;
	}
	return 0;
}

static int parse(struct demo *d, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 1;
		} else if (!strcmp(a, "--keep")) {
			d->keep = true;
		} else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			d->verbose = true;
		} else if (!strcmp(a, "--seconds-per-step") && i + 1 < argc) {
			d->step_s = strtod(argv[++i], &end);
			if (*end || d->step_s < 1 || d->step_s > 10) {
				fprintf(stderr, "conclave demo: "
						"--seconds-per-step: 1..10\n");
				return 2;
			}
		} else if (!strcmp(a, "--kmsd") && i + 1 < argc) {
			snprintf(d->kmsd, sizeof(d->kmsd), "%s", argv[++i]);
		} else if (!strcmp(a, "--confd") && i + 1 < argc) {
			snprintf(d->confd, sizeof(d->confd), "%s", argv[++i]);
		} else if (!strcmp(a, "--export-keys") && i + 1 < argc) {
			if (strlen(argv[++i]) >= sizeof(d->export_dir) - 20) {
				fprintf(stderr, "conclave demo: "
						"--export-keys: path too "
						"long\n");
				return 2;
			}
			snprintf(d->export_dir, sizeof(d->export_dir), "%s",
				 argv[i]);
		} else {
			fprintf(stderr,
				"conclave demo: unknown option '%s'\n\n", a);
			usage(stderr);
			return 2;
		}
	}
	return 0;
}

int cmd_demo(int argc, char **argv)
{
	static struct demo D;
	struct demo *d = &D;
	char creds[PATH_MAX + 8];
	size_t i;
	int rc;

	d->step_s = 3;
	rc = parse(d, argc, argv);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (find_daemons(d))
		return 2;
	if (d->export_dir[0]) {
		if (mkdir(d->export_dir, 0700) && errno != EEXIST) {
			fprintf(stderr, "conclave demo: --export-keys %s: %s\n",
				d->export_dir, strerror(errno));
			return 2;
		}
		fprintf(stderr,
			"conclave demo: WARNING: TEST ONLY: the participants "
			"export their SRTP keys to %s/<name>.keys\n",
			d->export_dir);
	}
	for (i = 0; i < DM_N; i++) {
		d->ua[i].name = names[i];
		d->ua[i].tone = tones[i];
		d->ua[i].in_fd = -1;
	}
	demo_signals();
	d->t0 = demo_now();
	snprintf(d->dir, sizeof(d->dir), "/tmp/conclave-demo.XXXXXX");
	if (!mkdtemp(d->dir)) {
		perror("conclave demo: mkdtemp");
		d->dir[0] = '\0';
		return 2;
	}
	for (i = 0; i < DM_N; i++) {
		struct demo_ua *u = &d->ua[i];

		snprintf(u->out, sizeof(u->out), "%.127s/%.16s.out", d->dir,
			 u->name);
		snprintf(u->report, sizeof(u->report), "%.127s/%.16s.json",
			 d->dir, u->name);
		snprintf(u->rec, sizeof(u->rec), "%.127s/rec-%.16s", d->dir,
			 u->name);
	}
	snprintf(creds, sizeof(creds), "%.127s/creds", d->dir);
	rc = 2;
	if (mkdir(creds, 0700) || demo_free_port(&d->kport) ||
	    demo_free_port(&d->sport) || d->kport == d->sport)
		goto out;
	printf("Conclave demo: a secure conference on loopback (TR 33.829 "
	       "clause 5.3, KMS-based)\nwork dir %s\n\n",
	       d->dir);
	demo_log(d, "KMS store: users alice, bob, carol, dave, mallory and "
		    "the conference focus user");
	if (setup_store(d))
		goto out;
	demo_log(d,
		 "  identities sip:<name>@%s, factory %s, focus pattern "
		 "sip:focus*.conf1@%s;\n           alice may create "
		 "conferences; credentials exported (keys not shown)",
		 DEMO_REALM, DEMO_FACTORY, DEMO_REALM);
	if (start_daemons(d))
		goto out;
	demo_log(d,
		 "conclave-kmsd on 127.0.0.1:%u, conclave-confd (SIP UDP+TCP) "
		 "on 127.0.0.1:%u",
		 d->kport, d->sport);
	if (script(d)) {
		if (demo_interrupted)
			fprintf(stderr, "\nconclave demo: interrupted\n");
		else
			fprintf(stderr, "conclave demo: the script stopped; "
					"run with --keep --verbose for "
					"details\n");
		rc = demo_interrupted ? 130 : 1;
		goto out;
	}
	rc = demo_verdict(d);
out:
	demo_cleanup(d);
	return rc;
}
