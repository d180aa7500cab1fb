/*
 * mixer.c -- confd's media plane in mixing mode (policy media=mix; issue 6
 * §4, DESIGN.md "mix = decrypt, mix, encrypt once with the group key").
 * media.c keeps the socket, the members' addresses and the sender; in
 * mixing mode it hands each member's packet to confd_mixer_rx() instead of
 * the switch, and this file owns the media_mix and its 20 ms tick.
 *
 * The tick. A libre timer, re-armed after each tick for the next multiple
 * of 20 ms on an absolute clock (tmr_jiffies at start + k * 20 ms), so the
 * timer's lateness does not accumulate into drift: a tick that fires 3 ms
 * late is followed by one 17 ms later. A stall of more than
 * MIX_RESYNC_MS (the process was descheduled) restarts the clock at now
 * instead of sending a burst: the members' queues hold only two frames
 * anyway (mix.h "Timing").
 *
 * Output. Each tick gives the common mix, encrypted once per codec class
 * in use (PCMU, PCMA, Opus: each on its own focus SSRC, mix.h "Output"),
 * with the class's members that are not speakers as its fan-out, and one
 * N-1 packet per speaker in its codec. A member's codec is the one its
 * SDP offer led to (answer.c leg_codec_choose, confd_mixer_codec).
 * They go to media.c's sender (media_sendq_fanout: one sendmmsg for many
 * copies). The ROC changes of the mixer's own streams are reported to the
 * conference core (CONF_EV_MEDIA_ROC), after the packets are sent: the
 * tick's output is only valid until the next epoch or membership change.
 */
#include "mixer.h"

#include <re.h>

#include <conclave/mix.h>

#include <inttypes.h>

enum {
	MIX_TICK_MS = 20,    /* one frame (mix.h) */
	MIX_RESYNC_MS = 200, /* later than this: restart the clock */
	MIX_CATCHUP = 2,     /* ticks run at most per timer call */
};

_Static_assert(CONF_SPEAKERS_MAX == MEDIA_MIX_SPEAKERS_MAX, "policy speakers "
							    "and the mixer "
							    "agree on the "
							    "limit");

struct confd_mixer {
	struct media_mix *mx;
	struct tmr tmr;
	uint64_t next; /* tmr_jiffies of the next tick */
	confd_mix_send_h *sendh;
	confd_roc_h *roch;
	void *arg;
	const char *name;
	uint64_t copies;  /* copies handed to the sender */
	uint64_t resyncs; /* stalls longer than MIX_RESYNC_MS */
	uint64_t errors;  /* ticks that failed (not: no key yet) */
};

size_t confd_mixer_nssrcs(const struct conf_policy *p)
{
	/* the PCMU common mix, the N-1 places, the PCMA and Opus common
	 * mixes (each codec class its own SSRC, mix.h "Output") */
	return p->media == CONF_MEDIA_MIX ? 3 + (size_t)p->speakers : 1;
}

static bool ssrc_taken(const uint32_t *ssrc, size_t n, uint32_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ssrc[i] == v)
			return true;
	return false;
}

int confd_mixer_ssrcs(uint32_t *ssrc, size_t n)
{
	size_t i = 0;
	unsigned tries = 0;
	uint32_t v;

	while (i < n) {
		if (++tries > 64 * (unsigned)n + 64)
			return EAGAIN;
		if (kmsc_rand_system((uint8_t *)&v, sizeof(v), NULL))
			return EIO;
		if (v && !ssrc_taken(ssrc, i, v))
			ssrc[i++] = v;
	}
	return 0;
}

/* One tick: mix, send every packet to its fan-out, then report ROCs. */
static void tick_once(struct confd_mixer *x)
{
	struct media_mix_out out;
	uint32_t roc_ssrc[MEDIA_MIX_PKTS_MAX];
	uint32_t roc[MEDIA_MIX_PKTS_MAX];
	size_t i, nroc = 0;
	enum cc_err err;

	err = media_mix_tick(x->mx, &out);
	if (err == CC_ERR_NOT_FOUND)
		return; /* no epoch switched to yet: nothing to send */
	if (err) {
		/* counted; logged at 1, 2, 4, 8, ... failures */
		x->errors++;
		if (!(x->errors & (x->errors - 1)))
			confd_log(CONFD_LOG_WARN,
				  "conference %s: mix tick: %s (%" PRIu64 ")",
				  x->name, cc_strerror(err), x->errors);
		return;
	}
	for (i = 0; i < out.n; i++) {
		const struct media_mix_pkt *p = &out.pkt[i];

		x->sendh(p->data, p->len, &p->to, x->arg);
		x->copies += p->to.n - (p->to.skip < p->to.n ? 1 : 0);
		if (p->roc_changed) {
			roc_ssrc[nroc] = p->ssrc;
			roc[nroc++] = p->roc;
		}
	}
	for (i = 0; i < nroc && x->roch; i++)
		x->roch(roc_ssrc[i], roc[i], x->arg);
}

static void tick_h(void *arg)
{
	struct confd_mixer *x = arg;
	uint64_t now = tmr_jiffies();
	unsigned n = 0;

	if (now > x->next + MIX_RESYNC_MS) {
		x->resyncs++;
		confd_log(CONFD_LOG_DEBUG,
			  "conference %s: mix clock %" PRIu64 " ms late, "
			  "restarted",
			  x->name, now - x->next);
		x->next = now;
	}
	while (x->next <= now && n++ < MIX_CATCHUP) {
		tick_once(x);
		x->next += MIX_TICK_MS;
	}
	tmr_start(&x->tmr, x->next > now ? x->next - now : 0, tick_h, x);
}

static void destructor(void *arg)
{
	struct confd_mixer *x = arg;

	tmr_cancel(&x->tmr);
	media_mix_free(x->mx); /* wipes every epoch's key */
}

static int mix_cfg(struct media_mix_cfg *cfg, const struct conf_policy *p,
		   const uint32_t *ssrcs)
{
	size_t i;

	media_mix_cfg_default(cfg);
	cfg->profile = (enum media_profile)p->profile;
	cfg->max_speakers = p->speakers;
	cfg->ssrc_common = ssrcs[0];
	for (i = 0; i < p->speakers; i++)
		cfg->ssrc_n1[i] = ssrcs[1 + i];
	cfg->ssrc_pcma = ssrcs[1 + p->speakers];
	if (media_mix_has_opus()) {
		cfg->opus_pt = CONFD_OPUS_PT;
		cfg->ssrc_opus = ssrcs[2 + p->speakers];
	}
	cfg->roc = 0;
	/* RFC 3550 §5.1: random initial sequence number and timestamp */
	if (kmsc_rand_system((uint8_t *)&cfg->seq, sizeof(cfg->seq), NULL) ||
	    kmsc_rand_system((uint8_t *)&cfg->ts, sizeof(cfg->ts), NULL))
		return EIO;
	return 0;
}

/* The mixer's SSRCs (not secret; tests/confd_mix.sh reads them). */
static void log_ssrcs(const struct confd_mixer *x, size_t speakers,
		      const uint32_t *ssrcs)
{
	char n1[MEDIA_MIX_SPEAKERS_MAX * 9 + 1] = "";
	size_t i, o = 0;

	for (i = 0; i < speakers; i++)
		o += (size_t)snprintf(n1 + o, sizeof(n1) - o, "%s%08" PRIx32,
				      i ? "," : "", ssrcs[1 + i]);
	confd_log(CONFD_LOG_INFO,
		  "conference %s: mixing, %zu speakers, SSRCs common %08" PRIx32
		  " n-1 %s pcma %08" PRIx32 " opus %08" PRIx32,
		  x->name, speakers, ssrcs[0], n1, ssrcs[1 + speakers],
		  ssrcs[2 + speakers]);
}

int confd_mixer_alloc(struct confd_mixer **xp, const struct conf_policy *p,
		      const uint32_t *ssrcs, const char *name,
		      media_owner_h *oh, confd_mix_send_h *sendh,
		      confd_roc_h *roch, void *arg)
{
	struct media_mix_cfg cfg;
	struct confd_mixer *x;
	enum cc_err e;
	int err;

	if (!xp || !p || !ssrcs || !sendh || p->media != CONF_MEDIA_MIX ||
	    !p->speakers || p->speakers > MEDIA_MIX_SPEAKERS_MAX)
		return EINVAL;
	err = mix_cfg(&cfg, p, ssrcs);
	if (err)
		return err;
	x = mem_zalloc(sizeof(*x), destructor);
	if (!x)
		return ENOMEM;
	tmr_init(&x->tmr);
	x->sendh = sendh;
	x->roch = roch;
	x->arg = arg;
	x->name = name;
	e = media_mix_new(&x->mx, &cfg, oh, arg);
	if (e) {
		mem_deref(x);
		return e == CC_ERR_UNSUPPORTED ? ENOTSUP :
		       e == CC_ERR_NOMEM       ? ENOMEM :
						 EINVAL;
	}
	log_ssrcs(x, p->speakers, ssrcs);
	x->next = tmr_jiffies() + MIX_TICK_MS;
	tmr_start(&x->tmr, MIX_TICK_MS, tick_h, x);
	*xp = x;
	return 0;
}

enum cc_err confd_mixer_rx(struct confd_mixer *x, conf_mid mid,
			   const uint8_t *pkt, size_t len,
			   struct media_rx_info *info)
{
	return media_mix_rx(x->mx, mid, pkt, len, info);
}

int confd_mixer_add(struct confd_mixer *x, conf_mid mid, void *leg)
{
	return media_mix_member_add(x->mx, mid, leg) ? EINVAL : 0;
}

int confd_mixer_codec(struct confd_mixer *x, conf_mid mid, int codec)
{
	enum cc_err e =
		media_mix_member_codec(x->mx, mid, (enum media_mix_codec)codec);

	return e == CC_ERR_UNSUPPORTED ? ENOTSUP : e ? EINVAL : 0;
}

void confd_mixer_remove(struct confd_mixer *x, conf_mid mid)
{
	if (media_mix_member_remove(x->mx, mid))
		confd_log(CONFD_LOG_DEBUG, "conference %s: member not in mix",
			  x->name);
}

/* The core's epoch as a media key: pointers into the core's copy, which
 * the core wipes at RETIRE_EPOCH; the mixer keeps its own (libsrtp). */
static void epoch_key(const struct conf_epoch_keys *e, struct media_key *k)
{
	k->mki = e->mki;
	k->profile = (enum media_profile)e->profile;
	k->tek = e->tek;
	k->tek_len = e->tek_len;
	k->salt = e->salt;
	k->salt_len = e->salt_len;
}

void confd_mixer_action(struct confd_mixer *x, const struct conf_action *a)
{
	struct media_key k;
	enum cc_err err;

	switch (a->type) {
	case CONF_ACT_NEW_EPOCH:
		epoch_key(a->u.epoch, &k);
		err = media_mix_install(x->mx, &k);
		break;
	case CONF_ACT_SWITCH_MKI:
		err = media_mix_switch(x->mx, a->u.epoch->mki);
		break;
	case CONF_ACT_RETIRE_EPOCH:
		err = media_mix_retire(x->mx, a->u.epoch->mki);
		break;
	default:
		return;
	}
	if (err)
		confd_log(CONFD_LOG_WARN, "conference %s: mix %s: %s", x->name,
			  conf_action_name(a->type), cc_strerror(err));
}

uint64_t confd_mixer_copies(const struct confd_mixer *x)
{
	return x ? x->copies : 0;
}
