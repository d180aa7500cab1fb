/*
 * bench_mix_report.c -- `conclave bench mix`: medians, the members-per-core
 * estimates, and the table or JSON report (bench_mix.c runs the ticks).
 */
#include "bench_mix.h"

#include <openssl/crypto.h>

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bm_median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* mix-unmuted runs at the first listener count only: every listener's
 * packet is decrypted too, which costs milliseconds a tick per thousand
 * listeners (see docs/PERFORMANCE.md). */
bool bm_mode_runs(int m, size_t li)
{
	return m != BM_MIX_UNMUTED || li == 0;
}

static void summarise_one(struct bm_res *r, int m, size_t li)
{
	double cm[BM_MAX_ROUNDS], mean[BM_MAX_ROUNDS], w[BM_MAX_ROUNDS],
		s[BM_MAX_ROUNDS];
	unsigned k;

	for (k = 0; k < r->rounds; k++) {
		cm[k] = r->run[m][li][k].cpu_med;
		mean[k] = r->run[m][li][k].cpu_mean;
		w[k] = r->run[m][li][k].wall_med;
		s[k] = r->run[m][li][k].sent_pct;
	}
	r->med[m][li].cpu_med = bm_median(cm, r->rounds);
	r->med[m][li].cpu_mean = bm_median(mean, r->rounds);
	r->med[m][li].wall_med = bm_median(w, r->rounds);
	r->med[m][li].sent_pct = bm_median(s, r->rounds);
}

/* Least squares over the listener counts run. */
static void fit_line(const struct bm_res *r, const struct bm_opts *o, int m,
		     double *a, double *b)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0, x, y, d;
	size_t i;

	for (i = 0; i < o->n_l; i++) {
		if (!bm_mode_runs(m, i))
			continue;
		x = (double)o->listeners[i];
		y = r->med[m][i].cpu_med;
		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
		n++;
	}
	d = n * sxx - sx * sx;
	*b = d > 0 ? (n * sxy - sx * sy) / d : 0;
	*a = d > 0 ? (sy - *b * sx) / n : sy / n;
}

static void capacity(struct bm_res *r, const struct bm_opts *o, int m)
{
	size_t i, li = 0;
	double a, b, spk = (double)o->speakers;

	fit_line(r, o, m, &a, &b);
	r->fixed_us[m] = a;
	r->per_l_ns[m] = b * 1e3;
	/* under 1 ns a listener: nothing per listener to extrapolate */
	r->per_core_fit[m] = b * 1e3 < 1 ? -1 : (BM_TICK_US - a) / b + spk;
	for (i = 0; i < o->n_l; i++)
		if (bm_mode_runs(m, i) && o->listeners[i] > o->listeners[li])
			li = i;
	r->at_l[m] = o->listeners[li];
	r->at_l_ns[m] = r->med[m][li].cpu_med * 1e3 / (double)r->at_l[m];
	r->per_core_at[m] =
		r->at_l_ns[m] < 1 ? -1 : BM_TICK_US * 1e3 / r->at_l_ns[m] + spk;
	/* one count run: no fit, the whole tick / L it is */
	if (o->n_l < 2 || m == BM_MIX_UNMUTED) {
		r->fit_na[m] = true;
		r->per_core[m] = r->per_core_at[m];
		return;
	}
	/* the smaller (the fit is optimistic when the cost per listener
	 * grows with L); no per-listener cost at all: no limit */
	r->per_core[m] = r->per_core_fit[m];
	if (r->per_core[m] >= 0 && r->per_core_at[m] < r->per_core[m])
		r->per_core[m] = r->per_core_at[m];
}

static bool goal_met(const struct bm_res *r)
{
	return r->per_core[BM_MIX_MMSG] < 0 || r->per_core[BM_MIX_MMSG] >= 1000;
}

static const char *codec_name(int codec)
{
	return codec == MEDIA_PT_PCMA ? "pcma" :
	       codec == BM_OPUS_PT    ? "opus" :
					"pcmu";
}

static const char *profile_name(enum media_profile p)
{
	return p == MEDIA_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM" :
					     "AES_CM_128_HMAC_SHA1_80";
}

static void text_count(FILE *f, double v)
{
	if (v < 0)
		fprintf(f, " %12s", "no limit");
	else
		fprintf(f, " %12.0f", v);
}

static void text_capacity(FILE *f, const struct bm_res *r)
{
	int m;

	fprintf(f, "\nmembers per core: the conference size at which a tick "
		   "takes 20 ms of CPU\n(fit: fixed + per listener x L over "
		   "the counts run; at L: the whole tick / L)\n");
	fprintf(f, "%-14s %9s %10s %12s %7s %10s %12s %12s\n", "mode",
		"fixed us", "fit ns/L", "fit members", "at L", "ns/L",
		"at-L members", "members/core");
	for (m = 0; m < BM_MODES; m++) {
		if (r->fit_na[m])
			fprintf(f, "%-14s %9s %10s %12s", bm_mode_name[m], "-",
				"-", "-");
		else
			fprintf(f, "%-14s %9.1f %10.1f", bm_mode_name[m],
				r->fixed_us[m], r->per_l_ns[m]);
		if (!r->fit_na[m])
			text_count(f, r->per_core_fit[m]);
		fprintf(f, " %7zu %10.1f", r->at_l[m], r->at_l_ns[m]);
		text_count(f, r->per_core_at[m]);
		text_count(f, r->per_core[m]);
		fputc('\n', f);
	}
}

static void report_text(FILE *f, const struct bm_opts *o,
			const struct bm_res *r)
{
	char cpu[160];
	size_t i, last = o->n_l - 1;
	int m;

	bench_cpu_model(cpu, sizeof(cpu));
	fprintf(f,
		"bench mix: %zu speakers (%s in, PCMU out), 20 ms ticks, %s, "
		"%u ticks per run,\nmedian tick of each run, median of %u "
		"interleaved rounds; one thread, not pinned\ncpu: %s (%ld "
		"online); %s\n\n",
		o->speakers, codec_name(o->codec), profile_name(o->profile),
		o->ticks, r->rounds, cpu, sysconf(_SC_NPROCESSORS_ONLN),
		OpenSSL_version(OPENSSL_VERSION));
	fprintf(f, "%-14s %9s %12s %10s %12s %7s\n", "mode", "listeners",
		"cpu us/tick", "mean us", "wall us/tick", "sent");
	for (m = 0; m < BM_MODES; m++)
		for (i = 0; i < o->n_l; i++)
			if (bm_mode_runs(m, i))
				fprintf(f,
					"%-14s %9zu %12.1f %10.1f %12.1f "
					"%6.1f%%\n",
					bm_mode_name[m], o->listeners[i],
					r->med[m][i].cpu_med,
					r->med[m][i].cpu_mean,
					r->med[m][i].wall_med,
					r->med[m][i].sent_pct);
	text_capacity(f, r);
	fprintf(f,
		"\nmix-mmsg vs perlis-mmsg: %.1fx the members per core; at "
		"%zu listeners,\nCPU per tick %.1fx (with sends), %.0fx "
		"(crypto only: %.1f us vs %.1f us)\n"
		"goal: >= 1,000 listeners on one core (mix-mmsg): %s\n",
		r->per_core[BM_PL_MMSG] > 0 && r->per_core[BM_MIX_MMSG] > 0 ?
			r->per_core[BM_MIX_MMSG] / r->per_core[BM_PL_MMSG] :
			0,
		o->listeners[last],
		r->med[BM_PL_MMSG][last].cpu_med /
			r->med[BM_MIX_MMSG][last].cpu_med,
		r->med[BM_PL_CRYPTO][last].cpu_med /
			r->med[BM_MIX_CRYPTO][last].cpu_med,
		r->med[BM_MIX_CRYPTO][last].cpu_med,
		r->med[BM_PL_CRYPTO][last].cpu_med,
		goal_met(r) ? "MET" : "NOT MET");
}

static void json_num(FILE *f, double v)
{
	if (v < 0 || !isfinite(v))
		fprintf(f, "null");
	else
		fprintf(f, "%.1f", v);
}

static void json_results(FILE *f, const struct bm_opts *o,
			 const struct bm_res *r)
{
	bool first = true;
	unsigned k;
	size_t i;
	int m;

	for (m = 0; m < BM_MODES; m++) {
		for (i = 0; i < o->n_l; i++) {
			if (!bm_mode_runs(m, i))
				continue;
			fprintf(f,
				"%s\n    {\"mode\": \"%s\", \"what\": \"%s\", "
				"\"listeners\": %zu, \"cpu_us_per_tick\": "
				"%.1f, \"cpu_us_mean\": %.1f, "
				"\"wall_us_per_tick\": %.1f, \"sent_pct\": "
				"%.1f, \"runs_cpu_us\": [",
				first ? "" : ",", bm_mode_name[m],
				bm_mode_what[m], o->listeners[i],
				r->med[m][i].cpu_med, r->med[m][i].cpu_mean,
				r->med[m][i].wall_med, r->med[m][i].sent_pct);
			for (k = 0; k < r->rounds; k++)
				fprintf(f, "%s%.1f", k ? ", " : "",
					r->run[m][i][k].cpu_med);
			fprintf(f, "]}");
			first = false;
		}
	}
}

static void json_capacity(FILE *f, const struct bm_res *r)
{
	int m;

	for (m = 0; m < BM_MODES; m++) {
		fprintf(f, "%s\n    {\"mode\": \"%s\", \"fixed_us\": ",
			m ? "," : "", bm_mode_name[m]);
		json_num(f, r->fit_na[m] ? -1 : r->fixed_us[m]);
		fprintf(f, ", \"per_listener_ns\": ");
		json_num(f, r->fit_na[m] ? -1 : r->per_l_ns[m]);
		fprintf(f, ", \"members_fit\": ");
		json_num(f, r->fit_na[m] ? -1 : r->per_core_fit[m]);
		fprintf(f,
			", \"at_listeners\": %zu, \"at_ns_per_listener\": "
			"%.1f, \"members_at\": ",
			r->at_l[m], r->at_l_ns[m]);
		json_num(f, r->per_core_at[m]);
		fprintf(f, ", \"members_per_core\": ");
		json_num(f, r->per_core[m]);
		fprintf(f, "}");
	}
}

static void report_json(FILE *f, const struct bm_opts *o,
			const struct bm_res *r)
{
	char cpu[160];

	bench_cpu_model(cpu, sizeof(cpu));
	fprintf(f,
		"{\n  \"suite\": \"mix\", \"speakers\": %zu, \"codec\": "
		"\"%s\", "
		"\"profile\": \"%s\",\n  \"ticks\": %u, \"rounds\": %u, "
		"\"machine\": {\"nproc\": %ld, \"cpu\": \"%s\", "
		"\"openssl\": \"%s\"},\n  \"results\": [",
		o->speakers, codec_name(o->codec), profile_name(o->profile),
		o->ticks, r->rounds, sysconf(_SC_NPROCESSORS_ONLN), cpu,
		OpenSSL_version(OPENSSL_VERSION));
	json_results(f, o, r);
	fprintf(f, "\n  ],\n  \"capacity\": [");
	json_capacity(f, r);
	fprintf(f,
		"\n  ],\n  \"goal\": {\"mode\": \"mix-mmsg\", "
		"\"min_members_per_core\": 1000, \"met\": %s}\n}\n",
		goal_met(r) ? "true" : "false");
}

void bm_summarise(struct bm_res *r, const struct bm_opts *o)
{
	size_t i;
	int m;

	for (m = 0; m < BM_MODES; m++) {
		for (i = 0; i < o->n_l; i++)
			if (bm_mode_runs(m, i))
				summarise_one(r, m, i);
		capacity(r, o, m);
	}
}

void bm_report(FILE *f, const struct bm_opts *o, const struct bm_res *r)
{
	if (o->json)
		report_json(f, o, r);
	else
		report_text(f, o, r);
}
