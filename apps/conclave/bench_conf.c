/*
 * bench_conf.c -- `conclave bench conf`: the conference simulator and
 * benchmark (issue 4 §7).
 *
 * A discrete-event simulation drives the conference core (conf.h) in
 * simulated time: script events (joins, leaves), the members' answers
 * (JOIN_DONE and REKEY_ACK after a simulated round trip) and the timers
 * the core asks for (SET_TIMER / CANCEL_TIMER) sit in one priority queue
 * ordered by (time, kind, arrival); at the same millisecond a timer fires
 * before an answer and an answer before a script event, as in
 * tests/test_conf.c.
 *
 * For every SEND_UPDATE the simulator builds the real MIKEY message the
 * focus sends: the Responder-started CSB-update TRANSFER_INIT of RFC 6043
 * §5.2 (HDR with a GENERIC-ID map of 2 CS whose SPI is the epoch MKI, T,
 * IDRr, IDRi, KEMAC with the epoch's TEK+SALT and KV = SPI = MKI, V),
 * encrypted and MACed by mikey_seal with the member's prepared key set
 * (mikey_keyed, made once at its join from random keys: the TRANSFER_RESP
 * keys that RFC 6043 §5.2 reuses for every update), into one reused
 * buffer, as src/mikey/examples.c update_init() does. One message in
 * VERIFY_EVERY is decoded and checked as its member would (layout, MAC,
 * KEMAC contents against the epoch), outside the timed part.
 *
 * Scenarios:
 *   join-leave  N members join over 10 s, then 30% leave over 10 s, for
 *               every rekey-on x join x min-rekey-interval (0, 1, 5 s);
 *   churn       N members join over 10 s, then joins and leaves at a
 *               constant rate for 60 s (the figures cover the churn);
 *   full-rekey  the headline: one event that rekeys a whole conference,
 *               timed from the event to the last CSB update built and
 *               MACed (conf_handle delivers the SEND_UPDATEs synchronously,
 *               so that is the wall time of one conf_handle call).
 *
 * The files: bench_conf.c (options, main), bench_conf_sim.c (the event
 * queue, the simulated focus and members, the event loop),
 * bench_conf_msg.c (the CSB update each member is sent, and its check),
 * bench_conf_scen.c (the scenarios and the timed full rekey),
 * bench_conf_report.c (text and JSON); bench_conf.h is theirs.
 */
#include "bench_conf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- options ---------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: conclave bench conf [options]\n\n"
		   "Simulates conferences on the conference core (src/conf) in "
		   "simulated time and\nbuilds a real MIKEY CSB-update message "
		   "(RFC 6043 §5.2 TRANSFER_INIT: KEMAC\nwith the epoch's "
		   "TEK+SALT, V MAC; mikey_seal with the member's prepared "
		   "keys) for\nevery SEND_UPDATE. Members answer (JOIN_DONE, "
		   "REKEY_ACK) after --rtt ms +-50%%.\n\n"
		   "scenarios:\n"
		   "  join-leave  N join over 10 s, then 30%% leave over 10 s; "
		   "every rekey-on\n"
		   "              (none|join|leave|join,leave) x join "
		   "(immediate|deferred) x\n"
		   "              min-rekey-interval (0, 1, 5 s): 24 runs\n"
		   "  churn       N join over 10 s, then a join and a leave "
		   "every "
		   "1/rate s for\n"
		   "              --churn-seconds; the same 24 policies\n"
		   "  full-rekey  one leave (rekey-on leave, interval 0) that "
		   "rekeys 1,000 and N\n"
		   "              members, and one join (rekey-on join) into "
		   "1,000 "
		   "and N: time from\n"
		   "              the event to the last update built and "
		   "MACed, "
		   "median of --repeat\n\n"
		   "options:\n"
		   "  --scenario LIST   comma list of join-leave, churn, "
		   "full-rekey (default all)\n"
		   "  --only STR        only scenario runs whose name contains "
		   "STR, e.g.\n"
		   "                    \"join-leave/leave/deferred/1s\"\n"
		   "  --members N       conference size N (default 10000)\n"
		   "  --rtt MS          member answer delay (default 100)\n"
		   "  --churn-rate R    joins/s and leaves/s (default 20)\n"
		   "  --churn-seconds S churn duration, simulated (default "
		   "60)\n"
		   "  --repeat N        full-rekey runs, median reported "
		   "(default 5)\n"
		   "  --seed N          random seed (default 1)\n"
		   "  --no-mikey        skip MIKEY building: state machine "
		   "speed only\n"
		   "  --json            one JSON object on stdout instead of a "
		   "table\n"
		   "  --help            this text\n"
		   "Progress goes to stderr. Goals (issue 4 §7): full rekey of "
		   "10,000 members\n<= 100 ms; <= 2 KiB of conference state "
		   "per "
		   "member (reported, not the exit\nstatus).\n");
}

static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	v = strtoull(s, &end, 10);
	if (*end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_kinds(const char *s, unsigned *kinds)
{
	char buf[64], *tok, *save = NULL;

	if (!s || strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	*kinds = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "join-leave"))
			*kinds |= K_JOIN_LEAVE;
		else if (!strcmp(tok, "churn"))
			*kinds |= K_CHURN;
		else if (!strcmp(tok, "full-rekey"))
			*kinds |= K_FULL;
		else
			return false;
	}
	return *kinds != 0;
}

static bool parse_opt(int argc, char **argv, int *i, struct opts *o)
{
	const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	uint64_t x;

	if (!strcmp(a, "--json"))
		return o->json = true;
	if (!strcmp(a, "--no-mikey")) {
		o->mikey = false;
		return true;
	}
	(*i)++;
	if (!strcmp(a, "--members") &&
	    parse_u64(v, 2, CONF_MEMBERS_LIMIT / 2, &x))
		o->members = (uint32_t)x;
	else if (!strcmp(a, "--rtt") && parse_u64(v, 0, 60000, &x))
		o->rtt = (int64_t)x;
	else if (!strcmp(a, "--churn-rate") && parse_u64(v, 1, 10000, &x))
		o->churn_rate = (double)x;
	else if (!strcmp(a, "--churn-seconds") && parse_u64(v, 1, 86400, &x))
		o->churn_ms = (int64_t)x * 1000;
	else if (!strcmp(a, "--repeat") && parse_u64(v, 1, MAX_REPEAT, &x))
		o->repeat = (unsigned)x;
	else if (!strcmp(a, "--seed") && parse_u64(v, 0, UINT64_MAX, &x))
		o->seed = x;
	else if (!strcmp(a, "--scenario") && parse_kinds(v, &o->kinds))
		;
	else if (!strcmp(a, "--only") && v)
		o->only = v;
	else {
		fprintf(stderr, "bench conf: bad option or value: %s %s\n", a,
			v ? v : "");
		return false;
	}
	return true;
}

/* 0 to go on, else exit status + 1 */
static int parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->members = 10000;
	o->rtt = 100;
	o->churn_rate = 20;
	o->churn_ms = 60000;
	o->repeat = 5;
	o->seed = 1;
	o->mikey = true;
	o->kinds = K_JOIN_LEAVE | K_CHURN | K_FULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 1;
		}
		if (!parse_opt(argc, argv, &i, o)) {
			usage(stderr);
			return 3;
		}
	}
	return 0;
}

/* ---- main ---------------------------------------------------------------------------------- */

static enum cc_err run_kind(const struct opts *o, enum kind kind,
			    struct report *rp)
{
	static const unsigned ron[] = { CONF_REKEY_NONE, CONF_REKEY_JOIN,
					CONF_REKEY_LEAVE,
					CONF_REKEY_JOIN_LEAVE };
	static const int64_t mins[] = { 0, 1000, 5000 };
	const char *kname = kind == K_CHURN ? "churn" : "join-leave";
	enum cc_err err = CC_OK;

	for (size_t a = 0; !err && a < 4; a++)
		for (size_t j = 0; !err && j < 2; j++)
			for (size_t m = 0; !err && m < 3; m++) {
				struct combo c = { ron[a],
						   j ? CONF_JOIN_DEFERRED :
						       CONF_JOIN_IMMEDIATE,
						   mins[m] };
				struct result *r = &rp->run[rp->n_run];

				if (rp->n_run >= MAX_RUNS)
					return CC_ERR_FULL;
				memset(r, 0, sizeof(*r));
				bench_conf_combo_name(r->name, sizeof(r->name),
						      kname, &c);
				if (o->only && !strstr(r->name, o->only))
					continue;
				fprintf(stderr, "bench conf: %s ...\n",
					r->name);
				err = bench_conf_run_scenario(o, kind, &c, r);
				if (err)
					break;
				rp->n_run++;
				fprintf(stderr,
					"bench conf: %s: %" PRIu64 " rekeys, "
					"%" PRIu64 " updates, %.0f msgs/s, "
					"%.2f s\n",
					r->name, r->rekeys, r->csb_updates,
					r->msgs_s, r->wall_s);
			}
	return err;
}

static enum cc_err run_fulls(const struct opts *o, struct report *rp)
{
	uint32_t sizes[2] = { 1000, o->members };
	size_t ns = o->members == 1000 ? 1 : 2;
	enum cc_err err = CC_OK;

	if (o->members < 1000)
		sizes[0] = o->members, ns = 1;
	for (size_t t = 0; !err && t < 2; t++)
		for (size_t i = 0; !err && i < ns; i++) {
			err = bench_conf_run_full(o, sizes[i], t == 1,
						  &rp->fr[rp->n_fr]);
			if (!err)
				rp->n_fr++;
		}
	return err;
}

int bench_conf(int argc, char **argv)
{
	struct report *rp;
	struct opts o;
	enum cc_err err = CC_OK;
	int rc = parse(argc, argv, &o);

	if (rc)
		return rc - 1;
	rp = calloc(1, sizeof(*rp));
	if (!rp)
		return 3;
	if (o.kinds & K_FULL)
		err = run_fulls(&o, rp);
	if (!err && (o.kinds & K_JOIN_LEAVE))
		err = run_kind(&o, K_JOIN_LEAVE, rp);
	if (!err && (o.kinds & K_CHURN))
		err = run_kind(&o, K_CHURN, rp);
	if (err) {
		fprintf(stderr, "bench conf: failed: %s\n", cc_strerror(err));
		free(rp);
		return 3;
	}
	if (o.json)
		bench_conf_report_json(stdout, &o, rp);
	else
		bench_conf_report_text(stdout, &o, rp);
	free(rp);
	return 0;
}
