/*
 * bench_mix.h -- what bench_mix.c (the runs) and bench_mix_report.c (the
 * figures and the report) share. Private to the CLI.
 */
#ifndef CONCLAVE_APP_BENCH_MIX_H
#define CONCLAVE_APP_BENCH_MIX_H

#include "bench.h"

#include <conclave/mix.h>

enum {
	BM_MAX_L = 8, /* listener counts */
	BM_MAX_ROUNDS = 15,
	BM_MAX_SPK = MEDIA_MIX_SPEAKERS_MAX,
	BM_WARM = 25,        /* untimed ticks before each run */
	BM_DRAIN_EVERY = 32, /* ticks between socket drains (not timed) */
	BM_OPUS_PT = 111,
};

#define BM_SSRC_COMMON 0xf0c00000u
#define BM_SSRC_BASE 0x10000000u
#define BM_TICK_US 20000.0

enum bm_mode {
	BM_MIX_MMSG,
	BM_MIX_CRYPTO,
	BM_PL_MMSG,
	BM_PL_CRYPTO,
	BM_MIX_UNMUTED,
	BM_MODES
};

struct bm_opts {
	size_t listeners[BM_MAX_L];
	size_t n_l;
	size_t speakers;
	unsigned ticks, rounds;
	int codec; /* MEDIA_PT_PCMU, MEDIA_PT_PCMA or BM_OPUS_PT */
	enum media_profile profile;
	bool json;
};

/* One run's figures: per tick, microseconds. */
struct bm_run {
	double cpu_med, cpu_mean, wall_med;
	double sent_pct; /* datagrams the kernel took / queued */
};

extern const char *const bm_mode_name[BM_MODES];
extern const char *const bm_mode_what[BM_MODES];

struct bm_res {
	struct bm_run run[BM_MODES][BM_MAX_L][BM_MAX_ROUNDS];
	struct bm_run med[BM_MODES][BM_MAX_L];
	/* the fit cost = fixed + per_l x L, and where it reaches 20 ms */
	double fixed_us[BM_MODES], per_l_ns[BM_MODES], per_core_fit[BM_MODES];
	/* the whole tick's cost at the largest L measured, per listener, and
	 * the L it allows (conservative when the cost grows faster than L) */
	double at_l_ns[BM_MODES], per_core_at[BM_MODES];
	size_t at_l[BM_MODES];
	double per_core[BM_MODES]; /* the smaller of the two; -1: no limit */
	bool fit_na[BM_MODES];     /* one listener count: no fit */
	unsigned rounds;
};

/** mix-unmuted runs at the first listener count only. */
bool bm_mode_runs(int m, size_t li);
/** The median of v[0..n) (sorted in place; 0 if n is 0). */
double bm_median(double *v, size_t n);
/** Medians over the rounds, then the members-per-core estimates. */
void bm_summarise(struct bm_res *r, const struct bm_opts *o);
/** The table, or one JSON object with --json. */
void bm_report(FILE *f, const struct bm_opts *o, const struct bm_res *r);

#endif
