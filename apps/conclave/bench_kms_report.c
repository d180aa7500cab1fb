/*
 * bench_kms_report.c -- `conclave bench kms`: the report, as text or as
 * one JSON object, with the goals of issue 3 §7.
 */
#include "bench_kms.h"

#include <openssl/crypto.h>

#include <unistd.h>

/* ---- report ---------------------------------------------------------------- */

/* Goals of issue 3 §7. */
static const double goal_pairs_s = 10000, goal_p99_us = 5000;

static double per_s(const struct bk_stats *s)
{
	return s && s->wall_s > 0 ? (double)s->pairs / s->wall_s : 0;
}

static double per_pair_us(const struct bk_stats *s, double ns)
{
	return s && s->pairs ? ns / 1e3 / (double)s->pairs : 0;
}

/* RSS flat: no growth over the second half of the run beyond 1% + 1 MiB
 * (the replay table is calloc'ed and its pages are touched as it fills,
 * so the first part of a run may grow; a leak keeps growing). */
static bool rss_flat(const struct bk_load *l)
{
	uint64_t mid = l->rss_mid ? l->rss_mid : l->rss_first;

	return l->rss_samples >= 2 && l->rss_max <= mid + mid / 100 + 1024;
}

static void json_lat(FILE *f, const char *name, const struct bk_hist *h)
{
	fprintf(f,
		"\"%s\": {\"n\": %llu, \"mean_us\": %.1f, \"p50_us\": %.0f, "
		"\"p99_us\": %.0f, \"p999_us\": %.0f, \"max_us\": %llu}",
		name, (unsigned long long)h->n,
		h->n ? h->sum_us / (double)h->n : 0, bench_kms_hist_q(h, 0.5),
		bench_kms_hist_q(h, 0.99), bench_kms_hist_q(h, 0.999),
		(unsigned long long)h->max_us);
}

static void json_errors(FILE *f, const struct bk_stats *s)
{
	size_t i;
	bool first = true;

	fprintf(f,
		"\"errors\": {\"total\": %llu, \"local\": %llu, "
		"\"http\": %llu, \"io\": %llu, \"mikey\": {",
		(unsigned long long)bench_kms_stats_errors(s),
		(unsigned long long)s->err_local,
		(unsigned long long)s->err_http, (unsigned long long)s->err_io);
	for (i = 0; i <= BK_MAX_ERRNO; i++) {
		if (!s->err_mikey[i])
			continue;
		fprintf(f, "%s\"%zu\": %llu", first ? "" : ", ", i,
			(unsigned long long)s->err_mikey[i]);
		first = false;
	}
	fprintf(f, "}}");
}

static void json_stats(FILE *f, const char *name, const struct bk_stats *s)
{
	fprintf(f,
		"  \"%s\": {\"pairs\": %llu, \"seconds\": %.3f, "
		"\"pairs_per_s\": %.0f,\n    \"client_us_per_pair\": %.2f, "
		"\"kms_us_per_pair\": %.2f, \"process_cpu_us_per_pair\": %.2f,"
		"\n    ",
		name, (unsigned long long)s->pairs, s->wall_s, per_s(s),
		per_pair_us(s, s->client_ns), per_pair_us(s, s->kms_ns),
		per_pair_us(s, s->cpu_s * 1e9));
	json_lat(f, "pair", &s->pair);
	fprintf(f, ",\n    ");
	json_lat(f, "request", &s->req);
	fprintf(f, ",\n    ");
	json_lat(f, "resolve", &s->res);
	fprintf(f, ",\n    ");
	json_errors(f, s);
	fprintf(f, "}");
}

void bench_kms_report_json(FILE *f, const struct bk_report *r)
{
	const struct bk_load *l = r->l;
	double in_s = per_s(r->inproc), http_s = per_s(r->http);
	double kms_lim =
		r->inproc && r->inproc->kms_ns > 0 ?
			(double)r->inproc->pairs * 1e9 / r->inproc->kms_ns :
			0;

	fprintf(f,
		"{\n  \"suite\": \"kms\", \"conns\": %u, \"nproc\": %ld, "
		"\"openssl\": \"%s\",\n",
		r->conns, sysconf(_SC_NPROCESSORS_ONLN),
		OpenSSL_version(OPENSSL_VERSION));
	if (r->http) {
		json_stats(f, "http", r->http);
		fprintf(f,
			",\n  \"kmsd\": {\"pid\": %ld, \"cpu_us_per_pair\": "
			"%.2f, \"rss_kib\": {\"first\": %llu, \"mid\": %llu, "
			"\"last\": %llu, \"max\": %llu, \"hwm\": %llu, "
			"\"samples\": %llu}, \"requests\": %llu, "
			"\"replay_size\": %lld},\n",
			l->pid,
			l->kcpu0 >= 0 && l->kcpu1 >= 0 ?
				per_pair_us(r->http,
					    (l->kcpu1 - l->kcpu0) * 1e9) :
				0,
			(unsigned long long)l->rss_first,
			(unsigned long long)l->rss_mid,
			(unsigned long long)l->rss_last,
			(unsigned long long)l->rss_max,
			(unsigned long long)l->hwm,
			(unsigned long long)l->rss_samples,
			(unsigned long long)l->req_total, r->replay);
	}
	if (r->inproc) {
		json_stats(f, "inprocess", r->inproc);
		fprintf(f,
			",\n  \"kms_limit_pairs_per_s\": %.0f, "
			"\"ratio_http_to_inprocess\": %.3f, "
			"\"ratio_http_to_kms_limit\": %.3f,\n",
			kms_lim, in_s > 0 ? http_s / in_s : 0,
			kms_lim > 0 ? http_s / kms_lim : 0);
	}
	fprintf(f,
		"  \"goals\": {\"min_pairs_per_s\": %.0f, \"max_p99_us\": "
		"%.0f, "
		"\"pairs_met\": %s, \"p99_met\": %s, \"rss_flat\": %s}\n}\n",
		goal_pairs_s, goal_p99_us,
		r->http && http_s >= goal_pairs_s ? "true" : "false",
		r->http && bench_kms_hist_q(&r->http->pair, 0.99) <
					goal_p99_us ?
			"true" :
			"false",
		r->http && rss_flat(l) ? "true" : "false");
}

static void text_lat(FILE *f, const char *name, const struct bk_hist *h)
{
	fprintf(f,
		"  %-9s latency us: mean %7.1f  p50 %6.0f  p99 %6.0f  "
		"p99.9 %6.0f  max %6llu\n",
		name, h->n ? h->sum_us / (double)h->n : 0,
		bench_kms_hist_q(h, 0.5), bench_kms_hist_q(h, 0.99),
		bench_kms_hist_q(h, 0.999), (unsigned long long)h->max_us);
}

static void text_errors(FILE *f, const struct bk_stats *s)
{
	size_t i;

	if (!bench_kms_stats_errors(s))
		return;
	fprintf(f, "  ERRORS: %llu (local %llu, http %llu, io %llu",
		(unsigned long long)bench_kms_stats_errors(s),
		(unsigned long long)s->err_local,
		(unsigned long long)s->err_http, (unsigned long long)s->err_io);
	for (i = 0; i <= BK_MAX_ERRNO; i++)
		if (s->err_mikey[i])
			fprintf(f, ", MIKEY Error %zu: %llu", i,
				(unsigned long long)s->err_mikey[i]);
	fprintf(f, ")\n");
}

static void text_stats(FILE *f, const char *title, const struct bk_stats *s)
{
	fprintf(f,
		"%s: %llu pairs in %.2f s = %.0f pairs/s\n"
		"  client kmsc_* time %.1f us/pair; this process's CPU %.1f "
		"us/pair\n",
		title, (unsigned long long)s->pairs, s->wall_s, per_s(s),
		per_pair_us(s, s->client_ns), per_pair_us(s, s->cpu_s * 1e9));
	text_lat(f, "pair", &s->pair);
	text_lat(f, "request", &s->req);
	text_lat(f, "resolve", &s->res);
	text_errors(f, s);
}

void bench_kms_report_text(FILE *f, const struct bk_report *r)
{
	const struct bk_load *l = r->l;
	double in_s = per_s(r->inproc), http_s = per_s(r->http), kms_lim = 0;
	char cpu_line[64] = "";

	fprintf(f, "bench kms: %ld CPUs online; %s\n\n",
		sysconf(_SC_NPROCESSORS_ONLN),
		OpenSSL_version(OPENSSL_VERSION));
	if (r->http) {
		text_stats(f, "HTTP (kmsd on loopback)", r->http);
		fprintf(f,
			"  connections %u; requests sent %llu (warmup "
			"included)\n",
			r->conns, (unsigned long long)l->req_total);
		if (l->kcpu0 >= 0 && l->kcpu1 >= 0)
			snprintf(cpu_line, sizeof(cpu_line),
				 "%.1f us CPU/pair, ",
				 per_pair_us(r->http,
					     (l->kcpu1 - l->kcpu0) * 1e9));
		if (l->rss_samples)
			fprintf(f,
				"  kmsd: %sRSS KiB first %llu, mid %llu, last "
				"%llu, max %llu (VmHWM %llu; %llu samples)%s\n",
				cpu_line, (unsigned long long)l->rss_first,
				(unsigned long long)l->rss_mid,
				(unsigned long long)l->rss_last,
				(unsigned long long)l->rss_max,
				(unsigned long long)l->hwm,
				(unsigned long long)l->rss_samples,
				rss_flat(l) ? ", flat" : ", GROWING");
		if (r->replay >= 0)
			fprintf(f, "  kmsd replay cache: %lld entries\n",
				r->replay);
		fputc('\n', f);
	}
	if (r->inproc) {
		text_stats(f, "in-process (kms_handle, no HTTP, one thread)",
			   r->inproc);
		if (r->inproc->kms_ns > 0)
			kms_lim = (double)r->inproc->pairs * 1e9 /
				  r->inproc->kms_ns;
		fprintf(f,
			"  kms_handle %.1f us/pair: the KMS alone on one core "
			"= %.0f pairs/s\n\n",
			per_pair_us(r->inproc, r->inproc->kms_ns), kms_lim);
	}
	if (r->http && r->inproc && in_s > 0 && kms_lim > 0)
		fprintf(f,
			"ratio: HTTP / in-process pairs = %.2f; HTTP / "
			"KMS-only "
			"limit = %.2f\n",
			http_s / in_s, http_s / kms_lim);
	if (r->http)
		fprintf(f,
			"goal >= %.0f pairs/s: %s (%.0f); p99 < %.0f us: %s "
			"(%.0f); RSS flat: %s\n",
			goal_pairs_s,
			http_s >= goal_pairs_s ? "MET" : "NOT MET", http_s,
			goal_p99_us,
			bench_kms_hist_q(&r->http->pair, 0.99) < goal_p99_us ?
				"MET" :
				"NOT MET",
			bench_kms_hist_q(&r->http->pair, 0.99),
			rss_flat(l) ? "yes" : "NO");
}
