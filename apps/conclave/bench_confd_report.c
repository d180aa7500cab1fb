/*
 * bench_confd_report.c -- `conclave bench confd`: join latency
 * histograms, the goals of issue 5 §6, and the report as text or JSON.
 */
#include "bench_confd.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool bcd_hist_init(struct bcd_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->b = calloc(BCD_HIST_US, sizeof(*h->b));
	return h->b != NULL;
}

void bcd_hist_add(struct bcd_hist *h, uint64_t ns)
{
	uint64_t us = ns / 1000;

	h->n++;
	if ((double)us > h->max_us)
		h->max_us = (double)us;
	if (us < BCD_HIST_US)
		h->b[us]++;
	else
		h->over++;
}

double bcd_hist_q(const struct bcd_hist *h, double q)
{
	uint64_t want = (uint64_t)(q * (double)h->n), seen = 0;
	size_t i;

	if (!h->n)
		return -1;
	for (i = 0; i < BCD_HIST_US; i++) {
		seen += h->b[i];
		if (seen > want)
			return (double)(i + 1) / 1000.0;
	}
	return h->max_us / 1000.0;
}

void bcd_hist_free(struct bcd_hist *h)
{
	free(h->b);
	h->b = NULL;
}

/* ---- goals ------------------------------------------------------------------------ */

struct goals {
	double sdes_rate, sdes_ratio; /* SDES joins/s, / KMS joins/s */
	double join_rate, sip_ref, join_pct;
	bool join_ok, join_known;
	double rekey1000_ms;
	bool rekey_ok, rekey_known;
	/* group switch over per-leg: batched switch / per-leg with a sendto
	 * each (the goal), both batched, both sendto, crypto only */
	double ratio_send, ratio_batched, ratio_sendto, ratio_crypto;
	bool fan_ok, fan_known;
};

static void goals_of(const struct bcd_res *r, struct goals *g)
{
	size_t i;

	memset(g, 0, sizeof(*g));
	g->join_rate =
		r->join.wall_s > 0 ? (double)r->join.ok / r->join.wall_s : 0;
	g->sdes_rate =
		r->sdes.wall_s > 0 ? (double)r->sdes.ok / r->sdes.wall_s : 0;
	g->sdes_ratio = g->join_rate > 0 ? g->sdes_rate / g->join_rate : 0;
	g->sip_ref = r->sip.kamailio ? r->sip.cps : r->sip.d_cps;
	g->join_known = g->sip_ref > 0;
	g->join_pct = g->join_known ? 100.0 * g->join_rate / g->sip_ref : 0;
	g->join_ok = g->join_known && g->join_pct >= 25.0;
	g->rekey1000_ms = -1;
	for (i = 0; i < r->nrekey; i++)
		if (r->rekey[i].members == 1000 && r->rekey[i].done) {
			g->rekey1000_ms = r->rekey[i].confd_ms >= 0 ?
						  r->rekey[i].confd_ms :
						  r->rekey[i].load_ms;
			if (r->rekey[i].load_ms > g->rekey1000_ms)
				g->rekey1000_ms = r->rekey[i].load_ms;
		}
	g->rekey_known = g->rekey1000_ms >= 0;
	g->rekey_ok = g->rekey_known && g->rekey1000_ms < 1000.0;
	if (r->media.ran && r->media.perleg_sendto > 0 &&
	    r->media.perleg_mmsg > 0 && r->media.perleg_crypto > 0) {
		const struct bcd_media_res *m = &r->media;

		g->ratio_send = m->group_mmsg / m->perleg_sendto;
		g->ratio_batched = m->group_mmsg / m->perleg_mmsg;
		g->ratio_sendto = m->group_sendto / m->perleg_sendto;
		g->ratio_crypto = m->group_crypto / m->perleg_crypto;
		g->fan_known = true;
		g->fan_ok = g->ratio_send >= 10.0;
	}
}

static const char *verdict(bool known, bool ok)
{
	return !known ? "not measured" : ok ? "met" : "NOT met";
}

/* ---- text ------------------------------------------------------------------------- */

static double per_join_ms(double cpu_s, uint64_t ok)
{
	return ok ? 1000.0 * cpu_s / (double)ok : 0;
}

static void text_sdes(FILE *f, const struct bcd_res *r, const struct goals *g)
{
	const struct bcd_sdes_res *s = &r->sdes;

	fprintf(f,
		"SDES joins (INVITE with a=crypto + a=ssrc, no key-mgmt -> "
		"200 OK with the group\n"
		"key's a=crypto -> ACK), %u in flight, same conference (%u "
		"members before);\n"
		"SDES over UDP (sdes_insecure yes, TEST ONLY: production "
		"requires SIP over TLS)\n",
		s->conc, s->members_before);
	fprintf(f,
		"  %-28s %10.0f joins/s  (%llu ok, %llu failed, %.2f s)  "
		"%.2fx KMS joins/s (%.0f)\n",
		"rate", g->sdes_rate, (unsigned long long)s->ok,
		(unsigned long long)s->fail, s->wall_s, g->sdes_ratio,
		g->join_rate);
	if (s->fail)
		fprintf(f, "  %-28s %d\n", "last failure status",
			s->last_status);
	fprintf(f,
		"  %-28s p50 %.2f ms  p99 %.2f ms  max %.2f ms  (KMS: p50 "
		"%.2f, p99 %.2f)\n",
		"latency", s->p50_ms, s->p99_ms, s->max_ms, r->join.p50_ms,
		r->join.p99_ms);
	fprintf(f, "  %-28s confd %.2f s, kmsd %.2f s, load %.2f s\n",
		"CPU during SDES joins", s->confd_cpu_s, s->kmsd_cpu_s,
		s->load_cpu_s);
	fprintf(f,
		"  %-28s SDES %.3f ms, KMS %.3f ms (kmsd %.3f ms more "
		"per KMS join)\n\n",
		"confd CPU per join", per_join_ms(s->confd_cpu_s, s->ok),
		per_join_ms(r->join.confd_cpu_s, r->join.ok),
		per_join_ms(r->join.kmsd_cpu_s, r->join.ok));
}

static void text_joins(FILE *f, const struct bcd_res *r, const struct goals *g)
{
	size_t i;

	fprintf(f,
		"joins (INVITE -> RESOLVE at kmsd -> 200 OK -> ACK), %u in "
		"flight, own ticket each (requested before, not timed)\n",
		r->join.conc);
	fprintf(f, "  %-28s %10.0f joins/s  (%llu ok, %llu failed, %.2f s)\n",
		"rate", g->join_rate, (unsigned long long)r->join.ok,
		(unsigned long long)r->join.fail, r->join.wall_s);
	fprintf(f, "  %-28s p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", "latency",
		r->join.p50_ms, r->join.p99_ms, r->join.max_ms);
	fprintf(f, "  %-28s confd %.2f s, kmsd %.2f s, load %.2f s\n\n",
		"CPU during joins", r->join.confd_cpu_s, r->join.kmsd_cpu_s,
		r->join.load_cpu_s);
	if (r->sdes.ran)
		text_sdes(f, r, g);
	fprintf(f, "rekey on leave (BYE -> every member's 200 OK to its "
		   "re-INVITE with the CSB update)\n");
	fprintf(f, "  %8s %10s %14s %16s %9s %15s\n", "members", "answered",
		"load: last ack", "confd: SWITCH_MKI", "switched",
		"last switch INFO");
	for (i = 0; i < r->nrekey; i++)
		fprintf(f,
			"  %8u %10llu %11.1f ms %13.0f ms %9llu %12.1f ms%s\n",
			r->rekey[i].members,
			(unsigned long long)r->rekey[i].answered,
			r->rekey[i].load_ms, r->rekey[i].confd_ms,
			(unsigned long long)r->rekey[i].switched,
			r->rekey[i].switch_ms,
			r->rekey[i].done ? "" : "  (incomplete)");
	fprintf(f, "\n");
}

static void text_media(FILE *f, const struct bcd_opts *o,
		       const struct bcd_media_res *m, const struct goals *g)
{
	fprintf(f,
		"media: %u speakers x %u pps, %u members (%u "
		"listeners), %.1f s through confd (sendmmsg)\n",
		m->speakers, m->pps, m->members, m->listeners, m->secs);
	fprintf(f, "  %-32s %10.0f copies/s  (%llu of %llu expected, %.2f%%)\n",
		"received through confd", m->rx_pps,
		(unsigned long long)m->received,
		(unsigned long long)m->expected,
		m->expected ?
			100.0 * (double)m->received / (double)m->expected :
			0);
	fprintf(f, "  %-32s %10.2f s CPU -> %.0f copies per CPU-second\n",
		"confd", m->confd_cpu_s, m->copies_per_cpu_s);
	fprintf(f,
		"  in-process, one core, %u legs (median of %u interleaved "
		"runs of %.1f s):\n",
		m->members - 1, m->inproc_rounds, o->inproc_s);
	fprintf(f, "  %-32s %10.0f copies/s  <- the goal's baseline\n",
		"per-leg re-encrypt + sendto", m->perleg_sendto);
	fprintf(f, "  %-32s %10.0f copies/s\n", "per-leg re-encrypt + sendmmsg",
		m->perleg_mmsg);
	fprintf(f, "  %-32s %10.0f copies/s  (%.1fx per-leg + sendto)\n",
		"group switch + sendto", m->group_sendto, g->ratio_sendto);
	fprintf(f,
		"  %-32s %10.0f copies/s  (%.1fx per-leg + sendto: the goal; "
		"%.1fx per-leg + sendmmsg)\n",
		"group switch + sendmmsg (confd)", m->group_mmsg, g->ratio_send,
		g->ratio_batched);
	fprintf(f, "  %-32s %10.0f copies/s\n", "per-leg re-encrypt only",
		m->perleg_crypto);
	fprintf(f, "  %-32s %10.0f copies/s  (%.1fx)\n", "group switch only",
		m->group_crypto, g->ratio_crypto);
	if (m->err[0])
		fprintf(f, "  error: %s\n", m->err);
	fprintf(f, "\n");
}

static void text_sip(FILE *f, const struct bcd_opts *o,
		     const struct bcd_sip_res *s)
{
	fprintf(f,
		"SIP baseline (sipp uac scenario, %u calls in flight, "
		"%.0f s each)\n",
		o->conc, o->sip_s);
	if (s->kamailio)
		fprintf(f, "  %-28s %10.0f calls/s  (%llu ok, %llu failed)\n",
			"via Kamailio (stateful)", s->cps,
			(unsigned long long)s->ok, (unsigned long long)s->fail);
	else
		fprintf(f, "  %-28s not measured: %s\n", "via Kamailio",
			s->why);
	fprintf(f, "  %-28s %10.0f calls/s  (%llu ok, %llu failed)%s\n\n",
		"sipp UAC -> UAS direct", s->d_cps, (unsigned long long)s->d_ok,
		(unsigned long long)s->d_fail,
		s->kamailio ? "" : "  <- fallback reference");
}

void bcd_report_text(FILE *f, const struct bcd_opts *o, const struct bcd_res *r)
{
	const struct bcd_sip_res *s = &r->sip;
	char cpu[128];
	struct goals g;

	goals_of(r, &g);
	bench_cpu_model(cpu, sizeof(cpu));
	fprintf(f, "conclave bench confd -- %s, %ld CPUs, run %.1f s\n\n", cpu,
		sysconf(_SC_NPROCESSORS_ONLN), r->total_s);
	if (!o->only_media)
		text_joins(f, r, &g);
	if (r->media.ran)
		text_media(f, o, &r->media, &g);
	if (s->ran)
		text_sip(f, o, s);
	fprintf(f, "goals (issue 5 §6)\n");
	if (s->ran)
		fprintf(f,
			"  joins/s >= 25%% of %s: %.0f / %.0f = %.0f%%: %s\n",
			s->kamailio ? "Kamailio's proxied call rate" :
				      "sipp direct (FALLBACK)",
			g.join_rate, g.sip_ref, g.join_pct,
			verdict(g.join_known, g.join_ok));
	if (!o->only_media)
		fprintf(f, "  1,000-member rekey < 1 s: %.0f ms: %s\n",
			g.rekey1000_ms, verdict(g.rekey_known, g.rekey_ok));
	fprintf(f,
		"  group fan-out >= 10x per-leg: %.1fx (switch + sendmmsg vs "
		"per-leg + sendto): %s\n"
		"    also: %.1fx when both batch (sendmmsg), %.1fx when both "
		"sendto, %.0fx crypto only\n",
		g.ratio_send, verdict(g.fan_known, g.fan_ok), g.ratio_batched,
		g.ratio_sendto, g.ratio_crypto);
}

/* ---- JSON ------------------------------------------------------------------------- */

void bcd_report_json(FILE *f, const struct bcd_opts *o, const struct bcd_res *r)
{
	const struct bcd_media_res *m = &r->media;
	const struct bcd_sip_res *s = &r->sip;
	char cpu[128];
	struct goals g;
	size_t i;

	goals_of(r, &g);
	bench_cpu_model(cpu, sizeof(cpu));
	fprintf(f,
		"{\"suite\":\"confd\",\"cpu\":\"%s\",\"cpus\":%ld,"
		"\"total_s\":%.2f,\n",
		cpu, sysconf(_SC_NPROCESSORS_ONLN), r->total_s);
	fprintf(f,
		" \"joins\":{\"conc\":%u,\"ok\":%llu,\"failed\":%llu,"
		"\"wall_s\":%.3f,\"per_s\":%.1f,\"p50_ms\":%.3f,"
		"\"p99_ms\":%.3f,\"max_ms\":%.3f,\"confd_cpu_s\":%.2f,"
		"\"kmsd_cpu_s\":%.2f,\"load_cpu_s\":%.2f},\n",
		r->join.conc, (unsigned long long)r->join.ok,
		(unsigned long long)r->join.fail, r->join.wall_s, g.join_rate,
		r->join.p50_ms, r->join.p99_ms, r->join.max_ms,
		r->join.confd_cpu_s, r->join.kmsd_cpu_s, r->join.load_cpu_s);
	fprintf(f,
		" \"sdes_joins\":{\"ran\":%s,\"transport\":\"udp\","
		"\"sdes_insecure\":true,\"conc\":%u,\"members_before\":%u,"
		"\"ok\":%llu,\"failed\":%llu,\"last_status\":%d,"
		"\"wall_s\":%.3f,\"per_s\":%.1f,\"ratio_to_kms\":%.3f,"
		"\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
		"\"confd_cpu_s\":%.2f,\"kmsd_cpu_s\":%.2f,"
		"\"load_cpu_s\":%.2f},\n",
		r->sdes.ran ? "true" : "false", r->sdes.conc,
		r->sdes.members_before, (unsigned long long)r->sdes.ok,
		(unsigned long long)r->sdes.fail, r->sdes.last_status,
		r->sdes.wall_s, g.sdes_rate, g.sdes_ratio, r->sdes.p50_ms,
		r->sdes.p99_ms, r->sdes.max_ms, r->sdes.confd_cpu_s,
		r->sdes.kmsd_cpu_s, r->sdes.load_cpu_s);
	fprintf(f, " \"rekey\":[");
	for (i = 0; i < r->nrekey; i++)
		fprintf(f,
			"%s{\"members\":%u,\"answered\":%llu,\"done\":%s,"
			"\"load_ms\":%.1f,\"confd_ms\":%.0f,"
			"\"switched\":%llu,\"switch_ms\":%.1f}",
			i ? "," : "", r->rekey[i].members,
			(unsigned long long)r->rekey[i].answered,
			r->rekey[i].done ? "true" : "false",
			r->rekey[i].load_ms, r->rekey[i].confd_ms,
			(unsigned long long)r->rekey[i].switched,
			r->rekey[i].switch_ms);
	fprintf(f, "],\n");
	fprintf(f,
		" \"media\":{\"ran\":%s,\"members\":%u,\"speakers\":%u,"
		"\"pps\":%u,\"secs\":%.1f,\"sent\":%llu,\"expected\":%llu,"
		"\"received\":%llu,\"copies_per_s\":%.0f,\"confd_cpu_s\":%.2f,"
		"\"copies_per_cpu_s\":%.0f,\"inproc\":{\"rounds\":%u,"
		"\"perleg_sendto\":%.0f,\"perleg_sendmmsg\":%.0f,"
		"\"group_sendto\":%.0f,\"group_sendmmsg\":%.0f,"
		"\"perleg_crypto\":%.0f,\"group_crypto\":%.0f}},\n",
		m->ran ? "true" : "false", m->members, m->speakers, m->pps,
		m->secs, (unsigned long long)m->sent,
		(unsigned long long)m->expected,
		(unsigned long long)m->received, m->rx_pps, m->confd_cpu_s,
		m->copies_per_cpu_s, m->inproc_rounds, m->perleg_sendto,
		m->perleg_mmsg, m->group_sendto, m->group_mmsg,
		m->perleg_crypto, m->group_crypto);
	fprintf(f,
		" \"sip\":{\"ran\":%s,\"conc\":%u,\"secs\":%.0f,"
		"\"kamailio\":%s,"
		"\"why\":\"%s\",\"kamailio_ok\":%llu,\"kamailio_failed\":%llu,"
		"\"kamailio_cps\":%.1f,\"direct_ok\":%llu,"
		"\"direct_failed\":%llu,\"direct_cps\":%.1f},\n",
		s->ran ? "true" : "false", o->conc, o->sip_s,
		s->kamailio ? "true" : "false", s->why,
		(unsigned long long)s->ok, (unsigned long long)s->fail, s->cps,
		(unsigned long long)s->d_ok, (unsigned long long)s->d_fail,
		s->d_cps);
	fprintf(f,
		" \"goals\":{\"joins_pct_of_sip\":%.1f,\"sip_reference\":"
		"\"%s\",\"joins_met\":%s,\"rekey_1000_ms\":%.0f,"
		"\"rekey_met\":%s,\"fanout_ratio_send\":%.2f,"
		"\"fanout_ratio_both_batched\":%.2f,"
		"\"fanout_ratio_both_sendto\":%.2f,"
		"\"fanout_ratio_crypto\":%.1f,\"fanout_met\":%s}}\n",
		g.join_pct, s->kamailio ? "kamailio" : "sipp-direct",
		g.join_ok ? "true" : "false", g.rekey1000_ms,
		g.rekey_ok ? "true" : "false", g.ratio_send, g.ratio_batched,
		g.ratio_sendto, g.ratio_crypto, g.fan_ok ? "true" : "false");
}
