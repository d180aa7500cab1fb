/*
 * bench_conf_report.c -- `conclave bench conf`: the machine, and the
 * report as a table or as one JSON object, with the goals of issue 4 §7.
 */
#include "bench.h"
#include "bench_conf.h"

#include <openssl/crypto.h>

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

/* ---- reports -------------------------------------------------------------------------- */

#define STATE_GOAL 2048.0 /* bytes of conference state per member */
#define REKEY_GOAL 100.0  /* ms: full rekey of 10,000 members */
#define GOAL_GROUP 10000u

static const struct fr_result *goal_fr(const struct report *rp)
{
	for (size_t i = 0; i < rp->n_fr; i++)
		if (!rp->fr[i].join && rp->fr[i].group == GOAL_GROUP)
			return &rp->fr[i];
	return NULL;
}

static double worst_state(const struct report *rp)
{
	double w = 0;

	for (size_t i = 0; i < rp->n_run; i++)
		if (rp->run[i].state_pm > w)
			w = rp->run[i].state_pm;
	return w;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_run(FILE *f, const struct result *r)
{
	fprintf(f, "    {\"name\": ");
	json_str(f, r->name);
	fprintf(f,
		", \"scenario\": \"%s\", \"rekey_on\": \"%s\", "
		"\"join\": \"%s\", \"min_rekey_interval_ms\": %" PRId64 ",\n"
		"     \"members_peak\": %u, \"rekeys\": %" PRIu64 ", "
		"\"forced_"
		"rekeys\": "
		"%" PRIu64 ", \"csb_updates\": %" PRIu64 ", \"mikey_built\": "
		"%" PRIu64 ", \"mikey_verified\": %" PRIu64 ",\n     "
		"\"build_s\": "
		"%.4f, "
		"\"mikey_msgs_per_s\": %.0f, "
		"\"joins\": %" PRIu64 ", \"removals\": %" PRIu64 ", "
		"\"removed_no_"
		"ack\": "
		"%" PRIu64 ", \"rejects\": %" PRIu64 ",\n     "
		"\"max_leave_exposure_"
		"ms\": "
		"%" PRId64 ", "
		"\"open_leave_exposure_at_"
		"end_ms\": %" PRId64 ", \"max_join_reach_ms\": %" PRId64
		", \"min_rekey_gap_ms\": "
		"%" PRId64 ", \"sim_end_ms\": %" PRId64 ",\n     "
		"\"state_bytes\": %zu, "
		"\"state_members\": %u, "
		"\"state_bytes_per_member\": %.1f, \"rss_delta_bytes\": %ld, "
		"\"rss_bytes_per_member\": %.1f, \"wall_s\": %.3f}",
		r->kind == K_CHURN ? "churn" : "join-leave",
		bench_conf_rekey_on_name(r->rekey_on),
		r->join == CONF_JOIN_DEFERRED ? "deferred" : "immediate",
		r->min_interval, r->members_peak, r->rekeys, r->forced,
		r->csb_updates, r->built, r->verified, r->build_s, r->msgs_s,
		r->joins, r->removals, r->no_ack, r->rejects,
		r->max_leave_exposure, r->open_before_end, r->max_join_reach,
		r->min_rekey_gap, r->sim_end, r->state_bytes, r->state_members,
		r->state_pm, r->rss_delta, r->rss_pm, r->wall_s);
}

static void json_fr(FILE *f, const struct fr_result *fr)
{
	fprintf(f,
		"    {\"trigger\": \"%s\", \"members_rekeyed\": %u, "
		"\"csb_updates\": %" PRIu64 ", \"median_ms\": %.3f, "
		"\"median_cpu_ms\": %.3f, \"median_build_ms\": %.3f, "
		"\"us_per_message\": %.3f, \"runs_ms\": [",
		fr->join ? "join" : "leave", fr->group,
		fr->updates + (fr->join ? 1 : 0), fr->med_ms, fr->med_cpu_ms,
		fr->med_build_ms, fr->us_per_msg);
	for (unsigned k = 0; k < fr->n; k++)
		fprintf(f, "%s%.3f", k ? ", " : "", fr->ms[k]);
	fprintf(f, "], \"runs_cpu_ms\": [");
	for (unsigned k = 0; k < fr->n; k++)
		fprintf(f, "%s%.3f", k ? ", " : "", fr->cpu_ms[k]);
	fprintf(f, "]}");
}

void bench_conf_report_json(FILE *f, const struct opts *o,
			    const struct report *rp)
{
	const struct fr_result *g = goal_fr(rp);
	char cpu[160];

	bench_cpu_model(cpu, sizeof(cpu));
	fprintf(f,
		"{\n  \"suite\": \"conf\",\n  \"machine\": {\"nproc\": %ld, "
		"\"cpu\": ",
		sysconf(_SC_NPROCESSORS_ONLN));
	json_str(f, cpu);
	fprintf(f, ", \"openssl\": ");
	json_str(f, OpenSSL_version(OPENSSL_VERSION));
	fprintf(f,
		"},\n  \"options\": {\"members\": %u, \"rtt_ms\": %" PRId64
		", \"churn_rate_per_s\": %g, \"churn_ms\": %" PRId64
		", \"repeat\": %u, \"seed\": %" PRIu64 ", \"mikey\": %s},\n"
		"  \"scenarios\": [\n",
		o->members, o->rtt, o->churn_rate, o->churn_ms, o->repeat,
		o->seed, o->mikey ? "true" : "false");
	for (size_t i = 0; i < rp->n_run; i++) {
		json_run(f, &rp->run[i]);
		fprintf(f, "%s\n", i + 1 < rp->n_run ? "," : "");
	}
	fprintf(f, "  ],\n  \"full_rekey\": [\n");
	for (size_t i = 0; i < rp->n_fr; i++) {
		json_fr(f, &rp->fr[i]);
		fprintf(f, "%s\n", i + 1 < rp->n_fr ? "," : "");
	}
	fprintf(f, "  ],\n  \"goals\": [");
	if (g)
		fprintf(f,
			"\n    {\"goal\": \"full_rekey_10000_ms\", \"max\": "
			"%.0f, \"value\": %.3f, \"met\": %s},",
			REKEY_GOAL, g->med_ms,
			g->med_ms <= REKEY_GOAL ? "true" : "false");
	if (rp->n_run)
		fprintf(f,
			"\n    {\"goal\": \"state_bytes_per_member\", \"max\": "
			"%.0f, \"value\": %.1f, \"met\": %s}",
			STATE_GOAL, worst_state(rp),
			worst_state(rp) <= STATE_GOAL ? "true" : "false");
	fprintf(f, "\n  ]\n}\n");
}

static void fmt_ms(char *buf, size_t cap, int64_t ms)
{
	if (ms < 0)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.3f", (double)ms / 1000);
}

static void text_run(FILE *f, const struct result *r)
{
	char le[24], jr[24], gap[24];

	fmt_ms(le, sizeof(le), r->max_leave_exposure);
	if (r->open_before_end > 0)
		snprintf(le + strlen(le), sizeof(le) - strlen(le), "*");
	fmt_ms(jr, sizeof(jr), r->max_join_reach);
	fmt_ms(gap, sizeof(gap), r->min_rekey_gap);
	fprintf(f,
		"%-34s %6" PRIu64 " %9" PRIu64 " %9.0f %9s %8s %7s %7.0f "
		"%7.0f %7.2f\n",
		r->name, r->rekeys, r->csb_updates, r->msgs_s, le, jr, gap,
		r->state_pm, r->rss_pm, r->wall_s);
}

void bench_conf_report_text(FILE *f, const struct opts *o,
			    const struct report *rp)
{
	const struct fr_result *g = goal_fr(rp);
	char cpu[160];

	bench_cpu_model(cpu, sizeof(cpu));
	fprintf(f,
		"bench conf: %u members, member answers after %" PRId64
		" ms +-50%%, MIKEY building %s, seed %" PRIu64 "\n"
		"cpu: %s (%ld online); %s; one thread, not pinned\n\n",
		o->members, o->rtt, o->mikey ? "on" : "off (--no-mikey)",
		o->seed, cpu, sysconf(_SC_NPROCESSORS_ONLN),
		OpenSSL_version(OPENSSL_VERSION));
	if (rp->n_run) {
		fprintf(f, "%-34s %6s %9s %9s %9s %8s %7s %7s %7s %7s\n",
			"scenario/rekey-on/join/min", "rekeys", "updates",
			"msgs/s", "leave-exp", "reach", "min-gap", "B/memb",
			"RSS/mb", "wall s");
		for (size_t i = 0; i < rp->n_run; i++)
			text_run(f, &rp->run[i]);
		fprintf(f,
			"\nrekeys, updates: epochs after the first and "
			"SEND_UPDATEs (churn: during the churn\nonly). msgs/s: "
			"real MIKEY CSB updates built per second of building "
			"(wall). leave-exp,\nreach, min-gap: seconds of "
			"simulated time (max leave exposure, * = still open "
			"at\n"
			"END; max join reach; smallest gap between rekeys). "
			"B/memb: conf_stats state bytes\nper member at peak; "
			"RSS/mb: process RSS growth per member (the simulated "
			"members'\nprepared MIKEY keys included). wall s: the "
			"whole scenario.\n\n");
	}
	if (rp->n_fr) {
		fprintf(f, "%-26s %9s %9s %9s %9s %8s   runs (ms)\n",
			"full rekey (one event)", "messages", "median ms",
			"cpu ms", "build ms", "us/msg");
		for (size_t i = 0; i < rp->n_fr; i++) {
			const struct fr_result *fr = &rp->fr[i];
			char name[40];

			snprintf(name, sizeof(name), "%s, %u members",
				 fr->join ? "join" : "leave", fr->group);
			fprintf(f,
				"%-26s %9" PRIu64 " %9.2f %9.2f %9.2f %8.2f  ",
				name, fr->updates + (fr->join ? 1 : 0),
				fr->med_ms, fr->med_cpu_ms, fr->med_build_ms,
				fr->us_per_msg);
			for (unsigned k = 0; k < fr->n; k++)
				fprintf(f, " %.2f", fr->ms[k]);
			fputc('\n', f);
		}
		fprintf(f,
			"\nfrom the event to the last CSB update built and "
			"MACed: one conf_handle call\n(join: the JOIN_REQUEST "
			"plus the joiner's own update at JOIN_DONE); wall "
			"clock,"
			"\nmedian of %u; cpu: thread CPU time; build: the part "
			"spent in mikey_seal.\n\n",
			o->repeat);
	}
	if (rp->n_run && o->mikey) {
		uint64_t v = 0;

		for (size_t i = 0; i < rp->n_run; i++)
			v += rp->run[i].verified;
		fprintf(f,
			"%" PRIu64 " sampled CSB updates (1 in %d) decoded and "
			"checked as their member would:\nlayout, MAC, KEMAC "
			"contents = the epoch's TEK, salt and MKI: all good.\n",
			v, VERIFY_EVERY);
	}
	if (g)
		fprintf(f,
			"goal full rekey of %u members <= %.0f ms: %s "
			"(%.2f ms median, %.2f ms cpu)\n",
			GOAL_GROUP, REKEY_GOAL,
			g->med_ms <= REKEY_GOAL ? "MET" : "NOT MET", g->med_ms,
			g->med_cpu_ms);
	if (rp->n_run)
		fprintf(f,
			"goal conference state <= %.0f bytes per member: %s "
			"(worst %.0f)\n",
			STATE_GOAL,
			worst_state(rp) <= STATE_GOAL ? "MET" : "NOT MET",
			worst_state(rp));
}
