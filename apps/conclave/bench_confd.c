/*
 * bench_confd.c -- `conclave bench confd`: the conference server against
 * conclave-kmsd on loopback (issue 5 §6), with its baselines, in one run:
 *
 *   1. joins/s: INVITE -> RESOLVE at the KMS -> 200 OK -> ACK, --conc
 *      joins in flight from this one process (libre sipsess, many UAs);
 *   2. rekey time for --members sizes: one member leaves (BYE; confd
 *      runs rekey-on=leave, min-rekey-interval=0) and every other member
 *      answers its re-INVITE (CSB update); timed here (BYE sent -> last
 *      200 OK sent) and in confd's log (BYE -> SWITCH_MKI, i.e. the last
 *      ack processed); then --sdes SDES joins/s (issue 6 §8) into the
 *      same conference, --conc in flight: INVITE with a=crypto (own key,
 *      MKI) and a=ssrc, no key-mgmt -> 200 OK with the group key's
 *      a=crypto -> ACK (confd runs sdes_insecure yes: SDES over UDP on
 *      loopback, TEST ONLY; production requires SIP over TLS);
 *   3. media: 3 speakers x 50 pps to 503 members through confd's switch
 *      (sendmmsg fan-out), and in this process the same fan-out per leg
 *      (media_perleg) and by the group switch, as fast as one core goes,
 *      with a sendto per copy, batched (media_sendq) and crypto only;
 *   4. SIP baseline: sipp UAC -> Kamailio (stateful proxy) -> sipp UAS,
 *      and sipp UAC -> UAS directly.
 *
 * The files: bench_confd.c (options, main), bench_confd_env.c (temp dir,
 * store, daemons, logs), bench_confd_ua.c (the UAs), bench_confd_sdes.c
 * (the SDES joiners), bench_confd_media.c,
 * bench_confd_sip.c (Kamailio, sipp), bench_confd_report.c (text, JSON).
 * Every child and the temp dir go away on every exit path, SIGINT too.
 */
#include "bench_confd.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t bcd_signal;

static void on_signal(int sig)
{
	bcd_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: conclave bench confd [options]\n\n"
		   "conclave-confd against conclave-kmsd on loopback, one "
		   "run:\n"
		   "  joins/s (INVITE -> RESOLVE at the KMS -> 200 OK -> ACK), "
		   "p50/p99 latency;\n"
		   "  SDES joins/s into the same conference (INVITE with "
		   "a=crypto + a=ssrc, no\n"
		   "  key-mgmt -> 200 OK with the group key's a=crypto -> ACK; "
		   "confd runs\n"
		   "  sdes_insecure yes: SDES over UDP, TEST ONLY, production "
		   "requires TLS);\n"
		   "  rekey time from a leave (BYE) to the last member's ack, "
		   "per size;\n"
		   "  media: speakers x pps to one conference through confd's "
		   "switch, and the\n"
		   "  same fan-out in-process per leg (decrypt once, "
		   "re-encrypt per listener)\n"
		   "  and by the group switch;\n"
		   "  SIP baseline: sipp UAC -> Kamailio (stateful proxy) -> "
		   "sipp UAS, and\n"
		   "  sipp UAC -> UAS directly.\n"
		   "Each joiner has its own ticket, requested from kmsd before "
		   "the timed phase.\n\n"
		   "options:\n"
		   "  --members N,N,..  rekey sizes, ascending (default "
		   "100,1000,5000)\n"
		   "  --conc N          joins (and sipp calls) in flight "
		   "(default 64)\n"
		   "  --sdes N          SDES joins after the rekeys (default "
		   "1000; 0: none)\n"
		   "  --seconds S       media phase through confd (default "
		   "10)\n"
		   "  --inproc-seconds S  each in-process fan-out run (default "
		   "1)\n"
		   "  --inproc-rounds N   rounds of the 6 in-process runs, "
		   "interleaved; the\n"
		   "                    median of each is reported (default 3, "
		   "max 15)\n"
		   "  --sip-seconds S   each sipp run (default 5)\n"
		   "  --sipp-rate N     offered calls/s, capped by --conc in "
		   "flight (default 20000)\n"
		   "  --speakers N      (default 3, max 8)   --listeners N  "
		   "(default 500)\n"
		   "  --pps N           packets/s per speaker (default 50)\n"
		   "  --no-media        skip the media phase\n"
		   "  --only media      only the media phase (no joins/rekey "
		   "phase, no SIP\n"
		   "                    baseline; the media conference is "
		   "still joined)\n"
		   "  --only joins      only the joins, rekeys and SDES joins "
		   "(no media, no SIP)\n"
		   "  --no-kamailio     skip Kamailio (sipp direct only)\n"
		   "  --confd-extra F   config lines appended to every confd's "
		   "config\n"
		   "                    (e.g. `media remote ...` to measure "
		   "the split\n"
		   "                    media plane; docs/PERFORMANCE.md)\n"
		   "  --kamailio-cfg F  (default etc/kamailio-bench.cfg near "
		   "the "
		   "binary)\n"
		   "  --kmsd PATH --confd PATH  daemons (default: next to this "
		   "binary)\n"
		   "  --json            one JSON object on stdout\n"
		   "  --keep            keep the temp dir (logs)\n"
		   "  --storm N         instead: the join storm of issue 5 "
		   "§4. confd runs\n"
		   "                    rekey-on=join,leave, "
		   "min-rekey-interval=1s; after the\n"
		   "                    creation settles, N members join, "
		   "INVITEs sent evenly\n"
		   "                    over --storm-spread; then it waits "
		   "until the newest epoch\n"
		   "                    is switched and no rekey follows. "
		   "Prints key=value lines\n"
		   "                    (storm.*) and one 'member I ID "
		   "mki=0x...' line each\n"
		   "  --scale           instead: issue 7 §5, one run: joins/s "
		   "and rekey times\n"
		   "                    with 1 confd node direct, 1 node "
		   "behind Kamailio, then\n"
		   "                    2 nodes (`node n1`, `node n2`) behind "
		   "Kamailio\n"
		   "                    (etc/kamailio-dispatch.cfg); "
		   "conferences created through\n"
		   "                    it, the joins spread over them; the "
		   "efficiency\n"
		   "                    2-node rate / (2 x 1-node rate)\n"
		   "  --confs N         --scale: conferences per phase "
		   "(default 4, max 5)\n"
		   "  --scale-members N --scale: joiners per conference, the "
		   "rekey size\n"
		   "                    (default 1000)\n"
		   "  --scale-drain S   idle S s between --scale phases, and "
		   "before the SDES\n"
		   "                    joins, so the finished transactions "
		   "end (default 35;\n"
		   "                    0: none)\n"
		   "  --dispatch-cfg F  --scale: (default "
		   "etc/kamailio-dispatch.cfg near the\n"
		   "                    binary or in the current directory)\n"
		   "  --storm-window S  every join done within S s (default "
		   "2; reported)\n"
		   "  --storm-spread S  INVITEs over S s (default 3/4 of the "
		   "window)\n"
		   "Progress goes to stderr. Build Release for meaningful "
		   "figures.\n");
}

static bool parse_sizes(const char *v, struct bcd_opts *o)
{
	char *end;

	o->nsizes = 0;
	while (*v && o->nsizes < BCD_MAX_SIZES) {
		unsigned long n = strtoul(v, &end, 10);

		if (end == v || n < 1 || n > 20000 ||
		    (o->nsizes && n <= o->sizes[o->nsizes - 1]))
			return false;
		o->sizes[o->nsizes++] = (unsigned)n;
		v = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return false;
	}
	return o->nsizes > 0 && !*v;
}

static int parse(int argc, char **argv, struct bcd_opts *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--json"))
			o->json = true;
		else if (!strcmp(a, "--keep"))
			o->keep = true;
		else if (!strcmp(a, "--no-media"))
			o->no_media = true;
		else if (!strcmp(a, "--no-kamailio"))
			o->no_kamailio = true;
		else if (!strcmp(a, "--scale"))
			o->scale = true;
		else if (!v)
			goto bad;
		else if (i++, !strcmp(a, "--confd-extra"))
			o->confd_extra = v;
		else if (!strcmp(a, "--members")) {
			if (!parse_sizes(v, o))
				goto bad;
		} else if (!strcmp(a, "--only")) {
			if (!strcmp(v, "media"))
				o->only_media = true;
			else if (!strcmp(v, "joins"))
				o->only_joins = true;
			else
				goto bad;
		} else if (!strcmp(a, "--sdes"))
			o->sdes = (unsigned)atoi(v);
		else if (!strcmp(a, "--conc"))
			o->conc = (unsigned)atoi(v);
		else if (!strcmp(a, "--seconds"))
			o->media_s = atof(v);
		else if (!strcmp(a, "--inproc-seconds"))
			o->inproc_s = atof(v);
		else if (!strcmp(a, "--inproc-rounds"))
			o->inproc_rounds = (unsigned)atoi(v);
		else if (!strcmp(a, "--sip-seconds"))
			o->sip_s = atof(v);
		else if (!strcmp(a, "--sipp-rate"))
			o->sipp_rate = (unsigned)atoi(v);
		else if (!strcmp(a, "--speakers"))
			o->speakers = (unsigned)atoi(v);
		else if (!strcmp(a, "--listeners"))
			o->listeners = (unsigned)atoi(v);
		else if (!strcmp(a, "--pps"))
			o->pps = (unsigned)atoi(v);
		else if (!strcmp(a, "--kamailio-cfg"))
			o->kamailio_cfg = v;
		else if (!strcmp(a, "--kmsd"))
			o->kmsd = v;
		else if (!strcmp(a, "--confd"))
			o->confd = v;
		else if (!strcmp(a, "--storm"))
			o->storm = (unsigned)atoi(v);
		else if (!strcmp(a, "--confs"))
			o->scale_confs = (unsigned)atoi(v);
		else if (!strcmp(a, "--scale-members"))
			o->scale_members = (unsigned)atoi(v);
		else if (!strcmp(a, "--scale-drain"))
			o->scale_drain = (unsigned)atoi(v);
		else if (!strcmp(a, "--dispatch-cfg"))
			o->dispatch_cfg = v;
		else if (!strcmp(a, "--storm-window"))
			o->storm_window = atof(v);
		else if (!strcmp(a, "--storm-spread"))
			o->storm_spread = atof(v);
		else
			goto bad;
	}
	if (o->conc < 1 || o->conc > 4096 || o->media_s <= 0 ||
	    o->inproc_s <= 0 || o->inproc_rounds < 1 ||
	    o->inproc_rounds > BCD_ROUNDS_MAX || o->sip_s < 1 ||
	    o->sipp_rate < 1 || o->speakers < 1 || o->speakers > 8 ||
	    o->listeners < 1 || o->listeners > 5000 || o->pps < 1 ||
	    o->pps > 1000 || o->storm > 20000 || o->storm_window <= 0 ||
	    o->storm_spread < 0 || o->sdes > BCD_SDES_MAX ||
	    (o->only_media && (o->no_media || o->storm || o->only_joins)) ||
	    (o->only_joins && o->storm) || o->scale_confs < 1 ||
	    o->scale_confs > BCD_SCALE_CONFS_MAX || o->scale_members < 1 ||
	    o->scale_members > 20000 ||
	    (o->scale && (o->storm || o->only_media || o->only_joins)))
		goto bad;
	if (o->storm_spread == 0)
		o->storm_spread = o->storm_window * 0.75;
	return -1;
bad:
	fprintf(stderr, "bench confd: bad option '%s'\n\n",
		i < argc ? argv[i] : "(a value out of range)");
	usage(stderr);
	return 2;
}

/* conclave-kmsd / conclave-confd next to this binary. */
static bool sibling(const char *name, char *out, size_t cap)
{
	char exe[PATH_MAX / 2], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	snprintf(out, cap, "%s/%s", exe, name);
	return access(out, X_OK) == 0;
}

struct bcd_main {
	struct bcd_opts o;
	struct bcd_env e;
	struct bcd_res r;
	struct bcd_load *l;
	struct bcd_hist h;
	char kmsd[PATH_MAX], confd[PATH_MAX];
};

static int sig_abort(void)
{
	return bcd_signal ? -1 : 0;
}

/* Joins up to each size + 1 members, a leave each time (rekey). */
static int run_conf(struct bcd_main *m)
{
	size_t i, have = 1; /* the creator */
	int rc;

	if (bcd_create(m->l, 0, false))
		return -1;
	for (i = 0; i < m->o.nsizes && !bcd_signal; i++) {
		size_t want = m->o.sizes[i] + 1, n = want - have;

		fprintf(stderr,
			"bench confd: %zu tickets (not timed), then %zu "
			"joins, %u in flight\n",
			n, n, m->o.conc);
		if (bcd_prepare(m->l, 0, n, false) ||
		    bcd_join(m->l, 0, &m->h, &m->r.join))
			return -1;
		have = want - 1; /* after the leave */
		fprintf(stderr,
			"bench confd: %zu members; one leaves: rekey of %u\n",
			want, m->o.sizes[i]);
		rc = bcd_rekey(m->l, 0, &m->r.rekey[m->r.nrekey]);
		m->r.nrekey++;
		if (rc)
			return -1;
	}
	m->r.join.conc = m->o.conc;
	m->r.join.p50_ms = bcd_hist_q(&m->h, 0.5);
	m->r.join.p99_ms = bcd_hist_q(&m->h, 0.99);
	m->r.join.max_ms = m->h.max_us / 1000.0;
	/* the last rekey's finished transactions (5,000 re-INVITEs and
	 * switch INFOs: timers J and M, 32 s) sit in libre's one sorted
	 * timer list, in confd and in the load, and every timer start
	 * walks them: let them end so the SDES joins are measured as the
	 * KMS joins were (docs/PERFORMANCE.md "Beyond one machine") */
	if (m->o.sdes && !bcd_signal && m->o.scale_drain) {
		fprintf(stderr,
			"bench confd: %zu timers in the load; waiting %u s for "
			"the rekey's transactions to end before the SDES "
			"joins\n",
			bcd_timers(), m->o.scale_drain);
		if (bcd_idle(m->l, m->o.scale_drain * 1000))
			return -1;
	}
	if (m->o.sdes && !bcd_signal &&
	    bcd_sdes_join(m->l, &m->e, &m->o, 0, m->o.sdes, &m->r.sdes))
		return -1;
	return sig_abort();
}

static int run_media(struct bcd_main *m)
{
	size_t n = m->o.speakers + m->o.listeners - 1;

	fprintf(stderr,
		"bench confd: media conference: %zu tickets, "
		"%zu joins\n",
		n, n);
	if (bcd_create(m->l, 1, true) || bcd_prepare(m->l, 1, n, true) ||
	    bcd_join(m->l, 1, NULL, NULL))
		return -1;
	return bcd_media_run(m->l, &m->e, &m->o, &m->r.media);
}

/* The join storm (issue 5 §4): key=value lines on stdout. */
static int run_storm(struct bcd_main *m)
{
	struct bcd_storm_res *r = &m->r.storm;
	struct bcd_epochs ep;
	char dir[PATH_MAX + 16];
	uint64_t t0 = bcd_mono_ns();

	if (bcd_create(m->l, 0, false) ||
	    bcd_prepare(m->l, 0, m->o.storm, false) ||
	    bcd_storm(m->l, 0, r, stdout))
		return 1;
	bcd_confd_epochs(&m->e, r->log_from, &ep);
	bcd_path(&m->e, "confd.log", dir, sizeof(dir));
	printf("storm.joiners=%u\nstorm.window_s=%.3f\n"
	       "storm.spread_s=%.3f\nstorm.min_rekey_interval_ms=%d\n",
	       m->o.storm, m->o.storm_window, m->o.storm_spread,
	       BCD_STORM_MIN_REKEY_MS);
	printf("storm.joins_ok=%llu\nstorm.joins_failed=%llu\n"
	       "storm.last_fail_status=%d\n",
	       (unsigned long long)r->ok, (unsigned long long)r->fail,
	       r->last_status);
	printf("storm.invite_span_ms=%.1f\nstorm.join_span_ms=%.1f\n"
	       "storm.within_window=%d\n",
	       r->invite_span_ms, r->join_span_ms,
	       r->ok && r->join_span_ms < m->o.storm_window * 1000.0);
	printf("storm.confd_joined=%u\nstorm.confd_join_span_ms=%.0f\n",
	       ep.joined, ep.joined ? ep.last_join_ms - ep.first_join_ms : -1);
	printf("storm.epoch_before=%" PRIu32 "\nstorm.rekeys=%u\n"
	       "storm.first_epoch=%" PRIu32 "\nstorm.final_epoch=%" PRIu32
	       "\nstorm.switches=%u\nstorm.last_switched=%" PRIu32 "\n",
	       r->epoch_before, ep.created, ep.first_created,
	       ep.created ? ep.last_created : r->epoch_before, ep.switched,
	       ep.last_switched);
	printf("storm.removed=%u\nstorm.refused=%u\nstorm.settled=%d\n"
	       "storm.settle_ms=%.0f\n",
	       ep.removed, ep.refused, r->settled, r->settle_ms);
	printf("storm.members=%u\nstorm.members_on_final=%u\n"
	       "storm.log_offset=%ld\nstorm.confd_log=%s\n"
	       "storm.total_s=%.2f\n",
	       r->members, r->on_final, r->log_from, m->o.keep ? dir : "",
	       (double)(bcd_mono_ns() - t0) / 1e9);
	return fflush(stdout) ? 1 : 0;
}

static int run_all(struct bcd_main *m)
{
	uint64_t t0 = bcd_mono_ns();
	int rc;

	if (!bcd_hist_init(&m->h) || bcd_env_setup(&m->e, &m->o) ||
	    bcd_env_start(&m->e, &m->o) || bcd_load_new(&m->l, &m->e, &m->o))
		return 1;
	fprintf(stderr,
		"bench confd: kmsd pid %ld (%s), confd pid %ld "
		"(sip udp 127.0.0.1:%d)\n",
		(long)m->e.kmsd, m->e.url, (long)m->e.confd, m->e.sip_port);
	if (m->o.storm)
		return run_storm(m);
	if (m->o.scale)
		return bcd_scale_run(m->l, &m->e, &m->o, &m->h);
	rc = m->o.only_media ? 0 : run_conf(m);
	if (!rc && !m->o.no_media && !m->o.only_joins)
		rc = run_media(m);
	if (rc)
		return 1;
	if (!m->o.only_media && !m->o.only_joins)
		bcd_sip_baseline(&m->e, &m->o, &m->r.sip);
	if (bcd_signal)
		return 1;
	m->r.total_s = (double)(bcd_mono_ns() - t0) / 1e9;
	if (m->o.json)
		bcd_report_json(stdout, &m->o, &m->r);
	else
		bcd_report_text(stdout, &m->o, &m->r);
	return 0;
}

int bench_confd(int argc, char **argv)
{
	static struct bcd_main m;
	struct sigaction sa;
	int rc;

	memset(&m, 0, sizeof(m));
	m.o.sizes[0] = 100;
	m.o.sizes[1] = 1000;
	m.o.sizes[2] = 5000;
	m.o.nsizes = 3;
	m.o.conc = 64;
	m.o.speakers = 3;
	m.o.listeners = 500;
	m.o.pps = 50;
	m.o.media_s = 10;
	m.o.inproc_s = 1;
	m.o.inproc_rounds = 3;
	m.o.sip_s = 5;
	m.o.sipp_rate = 20000;
	m.o.storm_window = 2;
	m.o.sdes = BCD_SDES_DEFAULT;
	m.o.scale_confs = 4;
	m.o.scale_members = 1000;
	m.o.scale_drain = 35;
	rc = parse(argc, argv, &m.o);
	if (rc >= 0)
		return rc;
	if (!m.o.kmsd && sibling("conclave-kmsd", m.kmsd, sizeof(m.kmsd)))
		m.o.kmsd = m.kmsd;
	if (!m.o.confd && sibling("conclave-confd", m.confd, sizeof(m.confd)))
		m.o.confd = m.confd;
	if (!m.o.kmsd || !m.o.confd) {
		fprintf(stderr, "bench confd: no conclave-kmsd / "
				"conclave-confd next to this binary: use "
				"--kmsd / --confd\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = run_all(&m);
	if (bcd_signal) {
		fprintf(stderr, "bench confd: interrupted\n");
		rc = 130;
	}
	bcd_env_stop(&m.e);
	bcd_sdes_free();
	bcd_load_free(m.l);
	if (rc && m.e.have_dir && !bcd_signal)
		bcd_show_log(&m.e, "confd.log");
	if (m.o.keep && m.e.have_dir)
		fprintf(stderr, "bench confd: kept %s\n", m.e.dir);
	else
		bcd_env_rm(&m.e);
	bcd_hist_free(&m.h);
	cc_wipe(&m.e, sizeof(m.e));
	return rc;
}
