/*
 * bench.h -- the harness of `conclave bench` (private to the CLI).
 *
 * A suite is a table of operations. Each operation runs for a fixed
 * wall-clock time (CLOCK_MONOTONIC) after a warmup, in batches sized so
 * the clock is read rarely. Runs are repeated and interleaved (run 1 of
 * every operation, then run 2, ...) so that slow drifts of a shared
 * machine hit every operation alike; the median run is reported. An
 * operation may name a baseline (its physical limit); the ratio is
 * baseline time / our time.
 */
#ifndef CONCLAVE_APP_BENCH_H
#define CONCLAVE_APP_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	BENCH_MAX_REPEAT = 101,
};

/** One operation on the suite's state; 0 on success. A failure (a MAC
 *  that does not verify, a library error) stops the benchmark. */
typedef int(bench_run_h)(void *arg);

struct bench_op {
	const char *name; /* stable key, also in the JSON output */
	const char *what; /* one line: what one operation does */
	bench_run_h *run;
	const char *baseline; /* name of the op that is its limit, or NULL */
};

struct bench_suite {
	const char *name;
	const char *limit; /* one line: how the baseline ops are written */
	const struct bench_op *ops;
	size_t n;
};

/** A goal: op must reach min_ratio_pct of its baseline and min_ops_s. */
struct bench_goal {
	const char *op;
	double min_ratio_pct;
	double min_ops_s;
};

struct bench_opts {
	double seconds; /* per run (0 with ops set) */
	uint64_t ops;   /* fixed operations per run instead, no warmup */
	unsigned repeat;
	bool json;
	const char *filter; /* run only ops whose name contains this */
};

struct bench_result {
	bool enabled;
	int base; /* index of the baseline op, -1 if none */
	double ns[BENCH_MAX_REPEAT];
	double cpu_ns[BENCH_MAX_REPEAT]; /* thread CPU time per op, per run */
	double median_ns, min_ns, max_ns;
	double median_cpu_ns;  /* median of cpu_ns */
	double oncpu_pct;      /* thread CPU / wall over all runs (100 = never
				* preempted) */
	double ratio_cpu_pct;  /* the same ratio on median CPU time: what
				* preemption by other processes cannot skew */
	double ratio_best_pct; /* base min / our min * 100: noise only ever
				* adds time, so the best runs are the stable
				* estimate on a shared machine */
	double ops_s;          /* 1e9 / median_ns */
	double ratio_pct;      /* base median / our median * 100; 0 = none */
};

/**
 * Parse the options every suite takes (--seconds, --repeat, --ops,
 * --json, --filter, --help). Returns -1 to go on, else an exit status
 * (0 after --help, 2 on bad usage).
 */
int bench_parse(int argc, char **argv, struct bench_opts *o,
		void (*usage)(FILE *f));

/** Print the shared option text (for a suite's usage). */
void bench_usage_opts(FILE *f);

/** Run every enabled op of the suite; res has s->n entries. Returns 0 or
 *  the first failing op's status (after naming it on stderr). */
int bench_run_suite(const struct bench_suite *s, void *arg,
		    const struct bench_opts *o, struct bench_result *res);

/** Report as a table (or one JSON object with --json) on f. */
void bench_report(FILE *f, const struct bench_suite *s,
		  const struct bench_opts *o, const struct bench_result *res,
		  const struct bench_goal *goals, size_t ngoals);

/** True if every goal whose op ran is met. */
bool bench_goals_met(const struct bench_suite *s,
		     const struct bench_result *res,
		     const struct bench_goal *goals, size_t ngoals);

/** The MIKEY suite (bench_mikey.c). */
/** Remove a flat temp dir the benchmarks made (files, then the dir). */
void bench_rm_dir(const char *dir);

/** The CPU model from /proc/cpuinfo ("unknown" if not found). */
void bench_cpu_model(char *out, size_t cap);

int bench_mikey(int argc, char **argv);
/** The mixer suite (bench_mix.c): CPU per 20 ms tick. */
int bench_mix(int argc, char **argv);

#endif
