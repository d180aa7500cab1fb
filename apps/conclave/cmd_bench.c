/*
 * cmd_bench.c -- `conclave bench`: a table of benchmark suites and the
 * harness they share (bench.h).
 *
 * Timing is wall clock on CLOCK_MONOTONIC, one thread, no pinning. The
 * ops themselves live in the suites; each writes its result into the
 * suite's state, which the compiler cannot see through (the ops are
 * called through pointers and call into other translation units).
 */
#include "bench.h"
#include "cmds.h"

#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

/* ---- the subcommand table (STYLE.md habit 13) ---------------------------- */

struct suite_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

int bench_kms(int argc, char **argv);   /* bench_kms.c */
int bench_conf(int argc, char **argv);  /* bench_conf.c */
int bench_confd(int argc, char **argv); /* bench_confd.c */

static const struct suite_cmd suites[] = {
	{ "mikey", bench_mikey,
	  "MIKEY-TICKET build / verify rates against a raw OpenSSL limit" },
	{ "kms", bench_kms,
	  "REQUEST+RESOLVE pairs/s against conclave-kmsd, and in-process" },
	{ "conf", bench_conf,
	  "conference simulator: 10,000 members, rekeys, real CSB updates" },
	{ "confd", bench_confd,
	  "conclave-confd: joins/s, rekey time, media fan-out, vs Kamailio" },
	{ "mix", bench_mix,
	  "mixer: CPU per 20 ms tick, encrypt once vs per listener" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: conclave bench <suite> [options]\n\n"
		   "Benchmarks on one core (single thread, not pinned).\n\n"
		   "suites:\n");
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		fprintf(f, "  %-8s %s\n", suites[i].name, suites[i].summary);
	fprintf(f, "\n`conclave bench <suite> --help` lists its operations "
		   "and options.\nBuild with -DCMAKE_BUILD_TYPE=Release for "
		   "meaningful figures.\n");
}

int cmd_bench(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (!strcmp(argv[1], suites[i].name))
			return suites[i].run(argc - 1, argv + 1);
	fprintf(stderr, "bench: unknown suite '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}

/* ---- options ------------------------------------------------------------- */

void bench_usage_opts(FILE *f)
{
	fprintf(f,
		"options:\n"
		"  --seconds N   time per run (default 1; fractions allowed)\n"
		"  --repeat N    runs per operation, median reported "
		"(default 5, max %d)\n"
		"  --ops N       exactly N operations per run, no warmup "
		"(for valgrind\n"
		"                instruction counts; rates then include "
		"valgrind's slowdown)\n"
		"  --filter STR  only the operation named STR, or else all "
		"whose name\n"
		"                contains STR\n"
		"  --json        one JSON object on stdout instead of a table\n"
		"  --help        this text\n"
		"Progress goes to stderr.\n",
		BENCH_MAX_REPEAT);
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	v = strtod(s, &end);
	if (*end || !(v >= lo && v <= hi))
		return false;
	*out = v;
	return true;
}

/* One option at argv[*i]; false on bad usage. */
static bool parse_one(int argc, char **argv, int *i, struct bench_opts *o)
{
	const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	double x;

	if (!strcmp(a, "--json")) {
		o->json = true;
		return true;
	}
	(*i)++;
	if (!strcmp(a, "--seconds") && parse_num(v, 1e-3, 3600, &x)) {
		o->seconds = x;
		o->ops = 0;
	} else if (!strcmp(a, "--repeat") &&
		   parse_num(v, 1, BENCH_MAX_REPEAT, &x) && x == (unsigned)x) {
		o->repeat = (unsigned)x;
	} else if (!strcmp(a, "--ops") && parse_num(v, 1, 1e9, &x) &&
		   x == (uint64_t)x) {
		o->ops = (uint64_t)x;
		o->seconds = 0;
	} else if (!strcmp(a, "--filter") && v) {
		o->filter = v;
	} else {
		fprintf(stderr, "bench: bad option or value: %s %s\n", a,
			v ? v : "");
		return false;
	}
	return true;
}

int bench_parse(int argc, char **argv, struct bench_opts *o,
		void (*usage_fn)(FILE *f))
{
	int i;

	memset(o, 0, sizeof(*o));
	o->seconds = 1;
	o->repeat = 5;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage_fn(stdout);
			return 0;
		}
		if (!parse_one(argc, argv, &i, o)) {
			usage_fn(stderr);
			return 2;
		}
	}
	return -1;
}

/* ---- timing -------------------------------------------------------------- */

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wall clock: what the ops/s figures are. */
static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* This thread's CPU time: only to show how often the run was preempted. */
static double cpu_s(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static int run_batch(const struct bench_op *op, void *arg, uint64_t n)
{
	uint64_t i;
	int err;

	for (i = 0; i < n; i++) {
		err = op->run(arg);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Warm up for a tenth of a run (caches, branch predictors, the CPU
 * clock) and size the batch so one batch lasts about 1/100 of a run: the
 * clock is then read ~100 times a run, which costs nothing measurable.
 */
static int warmup(const struct bench_op *op, void *arg, double seconds,
		  uint64_t *batch)
{
	double target = seconds / 100, end = now_s() + seconds / 10, t0;
	uint64_t b = 1;
	int err;

	do {
		t0 = now_s();
		err = run_batch(op, arg, b);
		if (err)
			return err;
		if (now_s() - t0 < target && b < (1ull << 30))
			b *= 2;
	} while (now_s() < end);
	*batch = b;
	return 0;
}

/* One run: wall and CPU ns per operation. */
static int run_once(const struct bench_op *op, void *arg,
		    const struct bench_opts *o, double *ns, double *cpu_ns)
{
	uint64_t batch = o->ops, done = 0;
	double t0, c0, t;
	int err = 0;

	if (!o->ops)
		err = warmup(op, arg, o->seconds, &batch);
	if (err)
		return err;
	c0 = cpu_s();
	t0 = now_s();
	do {
		err = run_batch(op, arg, batch);
		if (err)
			return err;
		done += batch;
		t = now_s() - t0;
	} while (!o->ops && t < o->seconds);
	*cpu_ns = (cpu_s() - c0) * 1e9 / (double)done;
	*ns = t * 1e9 / (double)done;
	return 0;
}

static int find_op(const struct bench_suite *s, const struct bench_result *res,
		   const char *name)
{
	size_t i;

	for (i = 0; name && i < s->n; i++)
		if (res[i].enabled && !strcmp(s->ops[i].name, name))
			return (int)i;
	return -1;
}

static double median(const double *v, unsigned n)
{
	double s[BENCH_MAX_REPEAT], x;
	unsigned i, j;

	for (i = 0; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && s[j - 1] > x; j--)
			s[j] = s[j - 1];
		s[j] = x;
	}
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void summarise(const struct bench_suite *s, unsigned repeat,
		      struct bench_result *res)
{
	struct bench_result *r;
	unsigned k;
	size_t i;

	double wall, cpu;

	for (i = 0; i < s->n; i++) {
		r = &res[i];
		if (!r->enabled)
			continue;
		r->median_ns = median(r->ns, repeat);
		r->median_cpu_ns = median(r->cpu_ns, repeat);
		r->min_ns = r->max_ns = r->ns[0];
		wall = cpu = 0;
		for (k = 0; k < repeat; k++) {
			if (r->ns[k] < r->min_ns)
				r->min_ns = r->ns[k];
			if (r->ns[k] > r->max_ns)
				r->max_ns = r->ns[k];
			wall += r->ns[k];
			cpu += r->cpu_ns[k];
		}
		r->ops_s = r->median_ns > 0 ? 1e9 / r->median_ns : 0;
		r->oncpu_pct = wall > 0 ? cpu / wall * 100 : 0;
	}
	for (i = 0; i < s->n; i++) {
		r = &res[i];
		if (!r->enabled || r->base < 0 || r->median_ns <= 0)
			continue;
		r->ratio_pct = res[r->base].median_ns / r->median_ns * 100;
		r->ratio_best_pct = res[r->base].min_ns / r->min_ns * 100;
		r->ratio_cpu_pct =
			res[r->base].median_cpu_ns / r->median_cpu_ns * 100;
	}
}

/* The op named filter if there is one (to profile exactly one), else
 * every op whose name contains it; all ops without a filter. */
static void select_ops(const struct bench_suite *s, const char *filter,
		       struct bench_result *res)
{
	bool exact = false;
	size_t i;

	for (i = 0; filter && i < s->n; i++)
		exact = exact || !strcmp(s->ops[i].name, filter);
	for (i = 0; i < s->n; i++)
		res[i].enabled =
			!filter ||
			(exact ? !strcmp(s->ops[i].name, filter) :
				 strstr(s->ops[i].name, filter) != NULL);
}

int bench_run_suite(const struct bench_suite *s, void *arg,
		    const struct bench_opts *o, struct bench_result *res)
{
	unsigned k;
	size_t i;
	int err;

	memset(res, 0, s->n * sizeof(*res));
	select_ops(s, o->filter, res);
	for (i = 0; i < s->n; i++)
		res[i].base = find_op(s, res, s->ops[i].baseline);
	for (k = 0; k < o->repeat; k++) {
		for (i = 0; i < s->n; i++) {
			if (!res[i].enabled)
				continue;
			err = run_once(&s->ops[i], arg, o, &res[i].ns[k],
				       &res[i].cpu_ns[k]);
			if (err) {
				fprintf(stderr, "bench %s: %s failed (%d)\n",
					s->name, s->ops[i].name, err);
				return err;
			}
			fprintf(stderr,
				"bench %s: run %u/%u %-30s %10.1f ns "
				"(cpu %.1f)\n",
				s->name, k + 1, o->repeat, s->ops[i].name,
				res[i].ns[k], res[i].cpu_ns[k]);
		}
	}
	summarise(s, o->repeat, res);
	return 0;
}

/* ---- the machine ---------------------------------------------------------- */

void bench_rm_dir(const char *path)
{
	char p[PATH_MAX + 300];
	struct dirent *d;
	DIR *dir = opendir(path);

	while (dir && (d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, d->d_name);
		unlink(p);
	}
	if (dir)
		closedir(dir);
	rmdir(path);
}

void bench_cpu_model(char *out, size_t cap)
{
	char line[256], *p;
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(out, cap, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) || !(p = strchr(line, ':')))
			continue;
		for (p++; *p == ' ' || *p == '\t'; p++)
			;
		p[strcspn(p, "\n")] = '\0';
		snprintf(out, cap, "%s", p);
		break;
	}
	fclose(f);
}

/* ---- reports --------------------------------------------------------------- */

static const struct bench_goal *goal_for(const struct bench_op *op,
					 const struct bench_goal *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(g[i].op, op->name))
			return &g[i];
	return NULL;
}

static bool goal_met(const struct bench_goal *g, const struct bench_result *r)
{
	return r->ratio_pct >= g->min_ratio_pct && r->ops_s >= g->min_ops_s;
}

/* A goal is judged only when its op and the op's baseline both ran. */
static bool goal_judged(const struct bench_goal *g,
			const struct bench_result *r)
{
	return g && r->enabled && r->base >= 0;
}

bool bench_goals_met(const struct bench_suite *s,
		     const struct bench_result *res,
		     const struct bench_goal *goals, size_t ngoals)
{
	const struct bench_goal *g;
	size_t i;

	for (i = 0; i < s->n; i++) {
		g = goal_for(&s->ops[i], goals, ngoals);
		if (goal_judged(g, &res[i]) && !goal_met(g, &res[i]))
			return false;
	}
	return true;
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

static void json_op(FILE *f, const struct bench_suite *s,
		    const struct bench_opts *o, const struct bench_result *r,
		    size_t i)
{
	unsigned k;

	fprintf(f, "    {\"name\": ");
	json_str(f, s->ops[i].name);
	fprintf(f, ", \"what\": ");
	json_str(f, s->ops[i].what);
	fprintf(f,
		",\n     \"ops_per_s\": %.0f, \"ns_per_op\": %.1f, "
		"\"min_ns\": %.1f, \"max_ns\": %.1f, \"oncpu_pct\": %.1f,\n"
		"     \"cpu_ns_per_op\": %.1f, \"runs_ns\": [",
		r->ops_s, r->median_ns, r->min_ns, r->max_ns, r->oncpu_pct,
		r->median_cpu_ns);
	for (k = 0; k < o->repeat; k++)
		fprintf(f, "%s%.1f", k ? ", " : "", r->ns[k]);
	fprintf(f, "], \"runs_cpu_ns\": [");
	for (k = 0; k < o->repeat; k++)
		fprintf(f, "%s%.1f", k ? ", " : "", r->cpu_ns[k]);
	fprintf(f, "]");
	if (r->base >= 0) {
		fprintf(f, ",\n     \"baseline\": ");
		json_str(f, s->ops[r->base].name);
		fprintf(f,
			", \"ratio_pct\": %.1f, \"ratio_best_pct\": %.1f, "
			"\"ratio_cpu_pct\": %.1f",
			r->ratio_pct, r->ratio_best_pct, r->ratio_cpu_pct);
	}
	fprintf(f, "}");
}

static void json_goals(FILE *f, const struct bench_suite *s,
		       const struct bench_result *res,
		       const struct bench_goal *goals, size_t ngoals)
{
	const struct bench_goal *g;
	bool first = true;
	size_t i;

	fprintf(f, "  \"goals\": [");
	for (i = 0; i < s->n; i++) {
		g = goal_for(&s->ops[i], goals, ngoals);
		if (!goal_judged(g, &res[i]))
			continue;
		fprintf(f, "%s\n    {\"op\": ", first ? "" : ",");
		json_str(f, g->op);
		fprintf(f,
			", \"min_ratio_pct\": %.1f, \"min_ops_per_s\": %.0f, "
			"\"ratio_pct\": %.1f, \"ops_per_s\": %.0f, "
			"\"met\": %s, \"ratio_best_pct\": %.1f}",
			g->min_ratio_pct, g->min_ops_s, res[i].ratio_pct,
			res[i].ops_s, goal_met(g, &res[i]) ? "true" : "false",
			res[i].ratio_best_pct);
		first = false;
	}
	fprintf(f, "]\n");
}

static void report_json(FILE *f, const struct bench_suite *s,
			const struct bench_opts *o,
			const struct bench_result *res,
			const struct bench_goal *goals, size_t ngoals)
{
	char cpu[160];
	bool first = true;
	size_t i;

	bench_cpu_model(cpu, sizeof(cpu));
	fprintf(f, "{\n  \"suite\": ");
	json_str(f, s->name);
	fprintf(f,
		",\n  \"seconds\": %g, \"ops\": %llu, \"repeat\": %u,\n"
		"  \"machine\": {\"nproc\": %ld, \"cpu\": ",
		o->seconds, (unsigned long long)o->ops, o->repeat,
		sysconf(_SC_NPROCESSORS_ONLN));
	json_str(f, cpu);
	fprintf(f, ", \"openssl\": ");
	json_str(f, OpenSSL_version(OPENSSL_VERSION));
	fprintf(f, "},\n  \"limit\": ");
	json_str(f, s->limit);
	fprintf(f, ",\n  \"results\": [\n");
	for (i = 0; i < s->n; i++) {
		if (!res[i].enabled)
			continue;
		fprintf(f, "%s", first ? "" : ",\n");
		json_op(f, s, o, &res[i], i);
		first = false;
	}
	fprintf(f, "\n  ],\n");
	json_goals(f, s, res, goals, ngoals);
	fprintf(f, "}\n");
}

static void text_row(FILE *f, const struct bench_suite *s,
		     const struct bench_result *r, size_t i)
{
	double spread = r->median_ns > 0 ?
				(r->max_ns - r->min_ns) / r->median_ns * 100 :
				0;

	fprintf(f, "%-28s %9.0f %8.1f %8.1f %8.1f %5.0f%%", s->ops[i].name,
		r->ops_s, r->median_ns, r->min_ns, r->median_cpu_ns, spread);
	if (r->base >= 0)
		fprintf(f, "  %-20s %5.1f%% %5.1f%% %5.1f%%",
			s->ops[r->base].name, r->ratio_pct, r->ratio_best_pct,
			r->ratio_cpu_pct);
	fputc('\n', f);
}

static void text_goals(FILE *f, const struct bench_suite *s,
		       const struct bench_result *res,
		       const struct bench_goal *goals, size_t ngoals)
{
	const struct bench_goal *g;
	size_t i;

	for (i = 0; i < s->n; i++) {
		g = goal_for(&s->ops[i], goals, ngoals);
		if (!goal_judged(g, &res[i]))
			continue;
		fprintf(f,
			"goal %s: >= %.0f%% of %s and >= %.0f ops/s: %s "
			"(%.1f%%, %.0f ops/s; best runs: %.1f%%)\n",
			g->op, g->min_ratio_pct, s->ops[res[i].base].name,
			g->min_ops_s, goal_met(g, &res[i]) ? "MET" : "NOT MET",
			res[i].ratio_pct, res[i].ops_s, res[i].ratio_best_pct);
	}
}

static void report_text(FILE *f, const struct bench_suite *s,
			const struct bench_opts *o,
			const struct bench_result *res,
			const struct bench_goal *goals, size_t ngoals)
{
	char cpu[160];
	size_t i;

	bench_cpu_model(cpu, sizeof(cpu));
	if (o->ops)
		fprintf(f, "bench %s: %llu ops per run", s->name,
			(unsigned long long)o->ops);
	else
		fprintf(f, "bench %s: %g s per run", s->name, o->seconds);
	fprintf(f,
		", median of %u runs, one thread, not pinned\n"
		"cpu: %s (%ld online); %s\nlimit: %s\n\n",
		o->repeat, cpu, sysconf(_SC_NPROCESSORS_ONLN),
		OpenSSL_version(OPENSSL_VERSION), s->limit);
	fprintf(f, "%-28s %9s %8s %8s %8s %6s  %-20s %6s %6s %6s\n",
		"operation", "ops/s", "ns/op", "best ns", "cpu ns", "spread",
		"baseline", "ratio", "r.best", "r.cpu");
	for (i = 0; i < s->n; i++)
		if (res[i].enabled)
			text_row(f, s, &res[i], i);
	fprintf(f, "\nops/s, ns/op: median run, wall clock (CLOCK_MONOTONIC). "
		   "best ns: fastest run. cpu ns:\nmedian thread CPU time "
		   "per op (below ns/op when the run was preempted). spread:\n"
		   "(slowest - fastest run) / median. ratio: baseline ns / our "
		   "ns of the medians;\nr.best: of the fastest runs; r.cpu: "
		   "of the CPU times.\n");
	text_goals(f, s, res, goals, ngoals);
}

void bench_report(FILE *f, const struct bench_suite *s,
		  const struct bench_opts *o, const struct bench_result *res,
		  const struct bench_goal *goals, size_t ngoals)
{
	if (o->json)
		report_json(f, s, o, res, goals, ngoals);
	else
		report_text(f, s, o, res, goals, ngoals);
}
