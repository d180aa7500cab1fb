/*
 * bench_mix.c -- `conclave bench mix`: the mixer's CPU cost per 20 ms tick
 * (issue 6 §8), against a mixer that encrypts per listener, in one run.
 *
 * A conference of S speakers (default 3, sending tones: PCMU, PCMA or
 * Opus) and L listeners (1,000 and more), each with its own UDP socket on
 * loopback. Each tick, the speakers' packets are made (not timed), then
 * the timed part runs on this thread and its CPU time is taken
 * (CLOCK_THREAD_CPUTIME_ID):
 *
 *   mix-mmsg      media_mix_rx of the S packets (decrypt, decode),
 *                 media_mix_tick (select, mix, encode, protect the common
 *                 mix ONCE and S N-1 streams), the S N-1 packets queued
 *                 and the common packet sent to the L listeners through
 *                 media_sendq_fanout (sendmmsg, 1,024 a call);
 *   mix-crypto    the same without sends;
 *   perlis-mmsg   the baseline: the same mix, then the common mix
 *                 SRTP-protected per listener under each one's own key
 *                 (media_perleg_rx: encode once, protect L times, as
 *                 per-leg mixers do), every copy queued and sent by
 *                 sendmmsg;
 *   perlis-crypto the baseline without sends;
 *   mix-unmuted   mix-mmsg with every listener also sending 20 ms of PCMU
 *                 silence each tick (no DTX): L more decrypts and decodes.
 *
 * The baseline gets the common mix by decrypting the mixer's own packet
 * (one decrypt and one protect more than a per-leg mixer does: < 1 us a
 * tick). Modes and listener counts are interleaved, `--rounds` times; each
 * figure is the median tick of a run, then the median of the rounds.
 * "Members per core" (bench_mix_report.c) is the conference one core keeps
 * in real time: the smaller of the least-squares fit cost(L) = a + b L
 * solved for 20 ms, and 20 ms over the whole tick's cost per listener at
 * the largest L.
 */
#define _GNU_SOURCE /* recvmmsg */
#include "bench_mix.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef CONCLAVE_HAVE_OPUS
#include <opus.h>
#endif

const char *const bm_mode_name[BM_MODES] = { "mix-mmsg", "mix-crypto",
					     "perlis-mmsg", "perlis-crypto",
					     "mix-unmuted" };
const char *const bm_mode_what[BM_MODES] = {
	"mix, common packet encrypted once, sendmmsg to every listener",
	"mix, common packet encrypted once, no sends",
	"mix, encoded once, SRTP per listener (own key), sendmmsg",
	"mix, encoded once, SRTP per listener (own key), no sends",
	"mix-mmsg with every listener sending PCMU silence (no DTX)",
};

struct bm_env {
	const struct bm_opts *o;
	struct media_key key;
	uint8_t tek[16], salt[14];
	size_t n_fd;
	int *fd; /* receive sockets: speakers first, then listeners */
	struct sockaddr_in *addr;
	int tx; /* the mixer's send socket */
};

struct bm_conf {
	struct bm_env *e;
	size_t l; /* listeners */
	struct media_mix *mx;
	struct media_perleg *pl;
	struct media_sendq *q;
	struct media_member *spk[BM_MAX_SPK];
	struct media_tone tone[BM_MAX_SPK];
	struct media_member **lis; /* mix-unmuted only */
	uint32_t ts;
#ifdef CONCLAVE_HAVE_OPUS
	OpusEncoder *enc[BM_MAX_SPK];
#endif
	uint8_t pkt[BM_MAX_SPK][MEDIA_PKT_MAX];
	size_t len[BM_MAX_SPK];
	uint8_t *lpkt; /* l x 256 bytes: the listeners' packets */
	size_t *llen;
};

static volatile sig_atomic_t bm_stop;

static void on_signal(int sig)
{
	(void)sig;
	bm_stop = 1;
}

static double clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* ---- the conference ---------------------------------------------------------- */

static bool owner_h(uint32_t ssrc, media_mid *owner, uint32_t *roc, void *arg)
{
	const struct bm_conf *c = arg;
	uint32_t i = ssrc - BM_SSRC_BASE;

	if (ssrc < BM_SSRC_BASE || i >= c->e->o->speakers + c->l)
		return false;
	*owner = (media_mid)i + 1; /* member i has mid i + 1 */
	*roc = 0;
	return true;
}

static const struct sockaddr *leg_addr(const void *leg, socklen_t *len,
				       void *arg)
{
	(void)arg;
	*len = sizeof(struct sockaddr_in);
	return leg;
}

static int sender_new(struct bm_conf *c, struct media_member **mp,
		      uint32_t ssrc, uint8_t pt)
{
	if (media_member_new(mp, c->e->o->profile) ||
	    media_member_install(*mp, &c->e->key) ||
	    media_member_switch(*mp, c->e->key.mki) ||
	    media_member_sender(*mp, ssrc, pt, 0, 1))
		return -1;
	return 0;
}

static int speakers_new(struct bm_conf *c)
{
	const struct bm_opts *o = c->e->o;
	size_t i;

	for (i = 0; i < o->speakers; i++) {
		if (sender_new(c, &c->spk[i], BM_SSRC_BASE + (uint32_t)i,
			       (uint8_t)o->codec))
			return -1;
		media_tone_init(&c->tone[i], media_tone_freq((unsigned)i),
				6000);
#ifdef CONCLAVE_HAVE_OPUS
		if (o->codec == BM_OPUS_PT) {
			int err;

			c->enc[i] = opus_encoder_create(
				MEDIA_RATE, 1, OPUS_APPLICATION_VOIP, &err);
			if (!c->enc[i] || err != OPUS_OK)
				return -1;
		}
#endif
	}
	return 0;
}

/* mix-unmuted: every listener has a sender and a packet slot. */
static int listeners_new(struct bm_conf *c)
{
	size_t i, s = c->e->o->speakers;

	c->lis = calloc(c->l, sizeof(*c->lis));
	c->lpkt = malloc(c->l * 256);
	c->llen = calloc(c->l, sizeof(*c->llen));
	if (!c->lis || !c->lpkt || !c->llen)
		return -1;
	for (i = 0; i < c->l; i++)
		if (sender_new(c, &c->lis[i], BM_SSRC_BASE + (uint32_t)(s + i),
			       MEDIA_PT_PCMU))
			return -1;
	return 0;
}

static int mixer_new(struct bm_conf *c)
{
	struct media_mix_cfg cfg;
	size_t i, s = c->e->o->speakers;

	media_mix_cfg_default(&cfg);
	cfg.profile = c->e->o->profile;
	cfg.max_speakers = s;
	cfg.ssrc_common = BM_SSRC_COMMON;
	for (i = 0; i < MEDIA_MIX_SPEAKERS_MAX; i++)
		cfg.ssrc_n1[i] = BM_SSRC_COMMON + 1 + (uint32_t)i;
	cfg.opus_pt = c->e->o->codec == BM_OPUS_PT ? BM_OPUS_PT : 0;
	if (media_mix_new(&c->mx, &cfg, owner_h, c) ||
	    media_mix_install(c->mx, &c->e->key) ||
	    media_mix_switch(c->mx, c->e->key.mki))
		return -1;
	/* member i (mid i + 1) listens on socket i (shared if too few) */
	for (i = 0; i < s + c->l; i++)
		if (media_mix_member_add(c->mx, (media_mid)i + 1,
					 &c->e->addr[i % c->e->n_fd]))
			return -1;
	return 0;
}

static void conf_free(struct bm_conf *c)
{
	size_t i;

	for (i = 0; i < BM_MAX_SPK; i++) {
		media_member_free(c->spk[i]);
#ifdef CONCLAVE_HAVE_OPUS
		if (c->enc[i])
			opus_encoder_destroy(c->enc[i]);
#endif
	}
	for (i = 0; c->lis && i < c->l; i++)
		media_member_free(c->lis[i]);
	free(c->lis);
	free(c->lpkt);
	free(c->llen);
	media_mix_free(c->mx);
	media_perleg_free(c->pl);
	media_sendq_free(c->q);
}

static int conf_new(struct bm_conf *c, struct bm_env *e, size_t l,
		    enum bm_mode mode)
{
	memset(c, 0, sizeof(*c));
	c->e = e;
	c->l = l;
	if (speakers_new(c) || mixer_new(c))
		return -1;
	if ((mode == BM_PL_MMSG || mode == BM_PL_CRYPTO) &&
	    media_perleg_new(&c->pl, &e->key, l))
		return -1;
	if ((mode == BM_MIX_MMSG || mode == BM_PL_MMSG ||
	     mode == BM_MIX_UNMUTED) &&
	    media_sendq_new(&c->q, e->tx, 0))
		return -1;
	if (mode == BM_MIX_UNMUTED && listeners_new(c))
		return -1;
	return 0;
}

/* ---- one tick ------------------------------------------------------------------ */

/* Speaker i's next 20 ms in its codec. */
static size_t speaker_payload(struct bm_conf *c, size_t i, uint8_t *pl,
			      size_t cap)
{
	int16_t pcm[MEDIA_FRAME];

	media_tone_pcm(&c->tone[i], pcm, MEDIA_FRAME);
#ifdef CONCLAVE_HAVE_OPUS
	if (c->enc[i]) {
		int n = opus_encode(c->enc[i], pcm, MEDIA_FRAME, pl,
				    (opus_int32)cap);

		return n > 0 ? (size_t)n : 0;
	}
#endif
	(void)cap;
	if (c->e->o->codec == MEDIA_PT_PCMA)
		media_alaw_encode_buf(pcm, MEDIA_FRAME, pl);
	else
		media_ulaw_encode_buf(pcm, MEDIA_FRAME, pl);
	return MEDIA_FRAME;
}

/* Everyone's packets for the next tick (not timed). */
static int make_packets(struct bm_conf *c)
{
	uint8_t pl[512], silence[MEDIA_FRAME];
	size_t i, n;

	memset(silence, 0xff, sizeof(silence)); /* mu-law zero */

	c->ts += MEDIA_FRAME;
	for (i = 0; i < c->e->o->speakers; i++) {
		n = speaker_payload(c, i, pl, sizeof(pl));
		if (!n ||
		    media_member_send(c->spk[i], pl, n, c->ts, false, c->pkt[i],
				      sizeof(c->pkt[i]), &c->len[i]))
			return -1;
	}
	for (i = 0; c->lis && i < c->l; i++)
		if (media_member_send(c->lis[i], silence, sizeof(silence),
				      c->ts, false, c->lpkt + 256 * i, 256,
				      &c->llen[i]))
			return -1;
	return 0;
}

static void leg_queue(size_t leg, const uint8_t *pkt, size_t len, void *arg)
{
	struct bm_conf *c = arg;
	const struct sockaddr_in *a =
		&c->e->addr[(c->e->o->speakers + leg) % c->e->n_fd];

	media_sendq_add_copy(c->q, pkt, len, (const struct sockaddr *)a,
			     sizeof(*a));
}

/* The N-1 packets go into the queue, to their speakers. */
static void queue_n1(struct bm_conf *c, const struct media_mix_out *out)
{
	const struct sockaddr_in *a;
	size_t k;

	for (k = 0; k < out->n; k++) {
		if (!out->pkt[k].speaker)
			continue;
		a = out->pkt[k].to.dest[0].leg;
		media_sendq_add(c->q, out->pkt[k].data, out->pkt[k].len,
				(const struct sockaddr *)a, sizeof(*a));
	}
}

/* The common packet to the listeners as the mode sends it. */
static int send_common(struct bm_conf *c, enum bm_mode mode,
		       const struct media_mix_pkt *p)
{
	size_t copies;

	if (mode == BM_MIX_CRYPTO)
		return 0;
	if (mode == BM_MIX_MMSG || mode == BM_MIX_UNMUTED) {
		(void)media_sendq_fanout(c->q, p->data, p->len, &p->to,
					 leg_addr, NULL);
		return 0;
	}
	if (media_perleg_rx(c->pl, p->data, p->len,
			    mode == BM_PL_MMSG ? leg_queue : NULL, c,
			    &copies) ||
	    copies != c->l)
		return -1;
	if (c->q)
		(void)media_sendq_flush(c->q);
	return 0;
}

/* The timed part of one tick. */
static int tick(struct bm_conf *c, enum bm_mode mode)
{
	struct media_mix_out out;
	size_t i, s = c->e->o->speakers;

	for (i = 0; i < s; i++)
		if (media_mix_rx(c->mx, (media_mid)i + 1, c->pkt[i], c->len[i],
				 NULL))
			return -1;
	for (i = 0; c->lis && i < c->l; i++)
		if (media_mix_rx(c->mx, (media_mid)(s + i) + 1,
				 c->lpkt + 256 * i, c->llen[i], NULL))
			return -1;
	if (media_mix_tick(c->mx, &out) || out.n != 1 + s ||
	    out.pkt[0].speaker || out.pkt[0].to.n != c->l)
		return -1;
	if (c->q)
		queue_n1(c, &out);
	return send_common(c, mode, &out.pkt[0]);
}

/* ---- runs ------------------------------------------------------------------------ */

static void drain(const struct bm_env *e)
{
	static uint8_t buf[64][MEDIA_PKT_MAX];
	struct mmsghdr msgs[64];
	struct iovec iov[64];
	size_t i;
	int k;

	for (i = 0; i < e->n_fd; i++) {
		do {
			for (k = 0; k < 64; k++) {
				iov[k].iov_base = buf[k];
				iov[k].iov_len = sizeof(buf[k]);
				memset(&msgs[k], 0, sizeof(msgs[k]));
				msgs[k].msg_hdr.msg_iov = &iov[k];
				msgs[k].msg_hdr.msg_iovlen = 1;
			}
		} while (recvmmsg(e->fd[i], msgs, 64, MSG_DONTWAIT, NULL) ==
			 64);
	}
}

static int run_ticks(struct bm_conf *c, enum bm_mode mode, double *cpu,
		     double *wall, unsigned n)
{
	double c0, w0;
	unsigned t;

	for (t = 0; t < n && !bm_stop; t++) {
		if (t % BM_DRAIN_EVERY == 0)
			drain(c->e);
		if (make_packets(c))
			return -1;
		w0 = clock_us(CLOCK_MONOTONIC);
		c0 = clock_us(CLOCK_THREAD_CPUTIME_ID);
		if (tick(c, mode))
			return -1;
		if (cpu) {
			cpu[t] = clock_us(CLOCK_THREAD_CPUTIME_ID) - c0;
			wall[t] = clock_us(CLOCK_MONOTONIC) - w0;
		}
	}
	return bm_stop ? -1 : 0;
}

static int run_one(struct bm_env *e, size_t l, enum bm_mode mode,
		   struct bm_run *r)
{
	unsigned n = e->o->ticks, t;
	double *cpu = calloc(n, sizeof(double)),
	       *wall = calloc(n, sizeof(*wall));
	struct media_sendq_stats st;
	struct bm_conf c;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	if (!cpu || !wall || conf_new(&c, e, l, mode))
		goto out;
	if (run_ticks(&c, mode, NULL, NULL, BM_WARM))
		goto out;
	if (run_ticks(&c, mode, cpu, wall, n))
		goto out;
	for (t = 0, r->cpu_mean = 0; t < n; t++)
		r->cpu_mean += cpu[t] / n;
	r->cpu_med = bm_median(cpu, n);
	r->wall_med = bm_median(wall, n);
	media_sendq_stats(c.q, &st);
	r->sent_pct = st.queued ? 100.0 * (double)st.sent / (double)st.queued :
				  100;
	rc = 0;
out:
	conf_free(&c);
	drain(e);
	free(cpu);
	free(wall);
	return rc;
}

/* ---- the environment ------------------------------------------------------------- */

static size_t max_listeners(const struct bm_opts *o)
{
	size_t i, m = 0;

	for (i = 0; i < o->n_l; i++)
		if (o->listeners[i] > m)
			m = o->listeners[i];
	return m;
}

/* One receive socket per member if the fd limit allows, else shared. */
static int env_sockets(struct bm_env *e)
{
	struct rlimit rl;
	size_t want = e->o->speakers + max_listeners(e->o), i;
	socklen_t al;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < want + 64)
		want = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : 64;
	e->fd = calloc(want, sizeof(*e->fd));
	e->addr = calloc(want, sizeof(*e->addr));
	if (!e->fd || !e->addr)
		return -1;
	for (i = 0; i < want; i++) {
		e->fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		e->addr[i].sin_family = AF_INET;
		e->addr[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		al = sizeof(e->addr[i]);
		if (e->fd[i] < 0 ||
		    bind(e->fd[i], (struct sockaddr *)&e->addr[i],
			 sizeof(e->addr[i])) ||
		    getsockname(e->fd[i], (struct sockaddr *)&e->addr[i], &al))
			return -1;
		e->n_fd++;
	}
	e->tx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	return e->tx < 0 ? -1 : 0;
}

static int env_new(struct bm_env *e, const struct bm_opts *o)
{
	size_t tek, salt, tag;

	memset(e, 0, sizeof(*e));
	e->o = o;
	e->tx = -1;
	media_profile_sizes(o->profile, &tek, &salt, &tag);
	/* a fixed test key: this is a benchmark, nothing is protected */
	memset(e->tek, 0x5a, sizeof(e->tek));
	memset(e->salt, 0xa5, sizeof(e->salt));
	e->key = (struct media_key){ .mki = 0x80000001u,
				     .profile = o->profile,
				     .tek = e->tek,
				     .tek_len = tek,
				     .salt = e->salt,
				     .salt_len = salt };
	return env_sockets(e);
}

static void env_free(struct bm_env *e)
{
	size_t i;

	for (i = 0; i < e->n_fd; i++)
		close(e->fd[i]);
	if (e->tx >= 0)
		close(e->tx);
	free(e->fd);
	free(e->addr);
	cc_wipe(e->tek, sizeof(e->tek));
	cc_wipe(e->salt, sizeof(e->salt));
}

/* ---- options ---------------------------------------------------------------------- */

static void usage(FILE *f)
{
	int m;

	fprintf(f, "usage: conclave bench mix [options]\n\n"
		   "The mixer's CPU time per 20 ms tick: decrypt the speakers, "
		   "mix, encode, encrypt\nthe common mix once (+ one N-1 "
		   "stream "
		   "per speaker) and sendmmsg it to every\nlistener on "
		   "loopback; "
		   "against per-listener SRTP (own key each), in one run.\n\n"
		   "modes:\n");
	for (m = 0; m < BM_MODES; m++)
		fprintf(f, "  %-14s %s\n", bm_mode_name[m], bm_mode_what[m]);
	fprintf(f,
		"\noptions:\n"
		"  --listeners L,L..  listener counts (default 1000,2000,"
		"4000; up to %d);\n"
		"                     mix-unmuted runs at the first only\n"
		"  --speakers N       active speakers (default 3, 1..%d)\n"
		"  --ticks N          timed ticks per run (default 100 = 2 s "
		"of audio)\n"
		"  --rounds N         interleaved rounds, median reported "
		"(default 3, max %d)\n"
		"  --codec C          speakers' codec: pcmu, pcma, opus "
		"(default pcmu)\n"
		"  --gcm              AEAD_AES_128_GCM instead of "
		"AES_CM_128_HMAC_SHA1_80\n"
		"  --json             one JSON object on stdout\n"
		"  --help             this text\n"
		"Progress goes to stderr.\n",
		BM_MAX_L, BM_MAX_SPK, BM_MAX_ROUNDS);
}

static bool parse_list(const char *s, struct bm_opts *o)
{
	char *end;
	unsigned long v;

	o->n_l = 0;
	while (s && *s && o->n_l < BM_MAX_L) {
		v = strtoul(s, &end, 10);
		if (end == s || v < 1 || v > 100000)
			return false;
		o->listeners[o->n_l++] = v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return false;
	}
	return o->n_l > 0 && (!s || !*s);
}

static bool parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s)
		return false;
	v = strtoul(s, &end, 10);
	if (end == s || *end || v < lo || v > hi)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool parse_codec(const char *s, int *codec)
{
	if (!s)
		return false;
	if (!strcmp(s, "pcmu"))
		*codec = MEDIA_PT_PCMU;
	else if (!strcmp(s, "pcma"))
		*codec = MEDIA_PT_PCMA;
	else if (!strcmp(s, "opus") && media_mix_has_opus())
		*codec = BM_OPUS_PT;
	else
		return false;
	return true;
}

static bool parse_one(int argc, char **argv, int *i, struct bm_opts *o)
{
	const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	unsigned u;

	if (!strcmp(a, "--json") || !strcmp(a, "--gcm")) {
		if (a[2] == 'j')
			o->json = true;
		else
			o->profile = MEDIA_AEAD_AES_128_GCM;
		return true;
	}
	(*i)++;
	if (!strcmp(a, "--listeners"))
		return parse_list(v, o);
	if (!strcmp(a, "--speakers") && parse_uint(v, 1, BM_MAX_SPK, &u)) {
		o->speakers = u;
		return true;
	}
	if (!strcmp(a, "--ticks"))
		return parse_uint(v, 10, 1000000, &o->ticks);
	if (!strcmp(a, "--rounds"))
		return parse_uint(v, 1, BM_MAX_ROUNDS, &o->rounds);
	if (!strcmp(a, "--codec"))
		return parse_codec(v, &o->codec);
	return false;
}

/* -1: go on; else the exit status. */
static int parse(int argc, char **argv, struct bm_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->listeners[0] = 1000;
	o->listeners[1] = 2000;
	o->listeners[2] = 4000;
	o->n_l = 3;
	o->speakers = MEDIA_MIX_SPEAKERS_DEFAULT;
	o->ticks = 100;
	o->rounds = 3;
	o->codec = MEDIA_PT_PCMU;
	o->profile = MEDIA_AES_CM_128_HMAC_SHA1_80;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if (!parse_one(argc, argv, &i, o)) {
			fprintf(stderr, "bench mix: bad option or value: %s\n",
				argv[i < argc ? i : argc - 1]);
			usage(stderr);
			return 2;
		}
	}
	return -1;
}

/* ---- main ------------------------------------------------------------------------- */

static int run_all(struct bm_env *e, const struct bm_opts *o, struct bm_res *r)
{
	unsigned k;
	size_t i;
	int m;

	for (k = 0; k < o->rounds && !bm_stop; k++) {
		for (i = 0; i < o->n_l; i++) {
			for (m = 0; m < BM_MODES; m++) {
				if (!bm_mode_runs(m, i))
					continue;
				if (run_one(e, o->listeners[i], m,
					    &r->run[m][i][k])) {
					fprintf(stderr,
						"bench mix: %s with %zu "
						"listeners failed\n",
						bm_mode_name[m],
						o->listeners[i]);
					return -1;
				}
				fprintf(stderr,
					"bench mix: round %u/%u %-14s %6zu "
					"listeners %9.1f us/tick cpu\n",
					k + 1, o->rounds, bm_mode_name[m],
					o->listeners[i],
					r->run[m][i][k].cpu_med);
			}
		}
	}
	r->rounds = k;
	return bm_stop ? -1 : 0;
}

int bench_mix(int argc, char **argv)
{
	struct bm_opts o;
	struct bm_env e;
	struct bm_res *r = NULL;
	int rc = parse(argc, argv, &o);

	if (rc >= 0)
		return rc;
	rc = 1;
	signal(SIGINT, on_signal);
	r = calloc(1, sizeof(*r));
	if (!r || media_init()) {
		fprintf(stderr, "bench mix: set-up failed\n");
		goto out;
	}
	if (env_new(&e, &o)) {
		fprintf(stderr, "bench mix: no sockets (raise ulimit -n?)\n");
		env_free(&e);
		goto out;
	}
	fprintf(stderr, "bench mix: %zu receive sockets on loopback\n", e.n_fd);
	if (run_all(&e, &o, r) == 0) {
		bm_summarise(r, &o);
		bm_report(stdout, &o, r);
		rc = 0;
	}
	env_free(&e);
out:
	free(r);
	return rc;
}
