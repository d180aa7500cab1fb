/*
 * media.c -- the focus's media plane in switching mode (DESIGN.md D6, D7,
 * D10): one UDP RTP socket and one media_group per conference. A packet
 * from a member's RTP address (from its SDP offer) is authenticated once
 * under the group key its MKI names, checked against the member's SSRC
 * binding (conf_ssrc_owner), and the ORIGINAL bytes are sent to every
 * other member. Never decrypted, never re-encrypted per leg. The
 * conference core's NEW_EPOCH / SWITCH_MKI / RETIRE_EPOCH / DROP_MEDIA
 * drive the group. The copies of a packet go out in one sendmmsg(2) per
 * MEDIA_SENDQ_MAX members (media_sendq on the socket's fd), the same code
 * `conclave bench confd` times; one udp_send per member if libre gives no
 * fd.
 */
#include "confd.h"
#include "mixer.h"

#include <re.h>

#include <conclave/media.h>
#include <conclave/media_upstream.h>

#include <inttypes.h>
#include <string.h>

struct mdest {
	struct le le;
	conf_mid mid;
	struct sa addr;
	uint64_t last_rx; /* tmr_jiffies: last authenticated packet, or add */
	struct media_upstream *up; /* SDES member: its own keys (D8) */
	bool no_mki;               /* SDES member without MKI */
};

struct confd_media {
	struct udp_sock *us;
	struct media_sendq *sq; /* on us's fd; NULL: udp_send per member */
	struct media_group *g;
	struct confd_mixer *mix; /* mixing mode (mixer.c); NULL: switch */
	struct conf *core;
	struct list dests;
	confd_roc_h *roch;
	void *arg;
	const char *name;
	uint16_t port;
	uint64_t drop_src;   /* from no member's RTP address */
	uint64_t drops;      /* every drop: unknown source + switch + send */
	uint64_t send_drops; /* copies the kernel did not take */
	size_t n_nomki;      /* dests with no_mki */
	enum media_profile profile;
};

static bool owner_h(uint32_t ssrc, media_mid *owner, uint32_t *roc, void *arg)
{
	struct confd_media *m = arg;
	conf_mid o;

	if (!conf_ssrc_owner(m->core, ssrc, &o))
		return false;
	*owner = o;
	if (!conf_ssrc_roc(m->core, ssrc, roc))
		*roc = 0;
	return true;
}

static struct mdest *by_addr(struct confd_media *m, const struct sa *src)
{
	struct le *le;

	for (le = m->dests.head; le; le = le->next) {
		struct mdest *d = le->data;

		if (sa_cmp(&d->addr, src, SA_ALL))
			return d;
	}
	return NULL;
}

static struct mdest *by_mid(struct confd_media *m, conf_mid mid)
{
	struct le *le;

	for (le = m->dests.head; le; le = le->next) {
		struct mdest *d = le->data;

		if (d->mid == mid)
			return d;
	}
	return NULL;
}

static const struct sockaddr *dest_addr(const void *leg, socklen_t *len,
					void *arg)
{
	const struct mdest *d = leg;

	(void)arg;
	if (d->no_mki)
		return NULL;
	*len = d->addr.len;
	return &d->addr.u.sa;
}

static const struct sockaddr *dest_nomki(const void *leg, socklen_t *len,
					 void *arg)
{
	const struct mdest *d = leg;

	(void)arg;
	if (!d->no_mki)
		return NULL;
	*len = d->addr.len;
	return &d->addr.u.sa;
}

/* Copies not sent are counted; logged when the count passes 1, 2, 4,
 * 8, ... (a drop can be several copies at once). */
static void send_dropped(struct confd_media *m, uint64_t n, int err)
{
	uint64_t before = m->send_drops;

	m->drops += n;
	m->send_drops += n;
	if ((before ^ m->send_drops) > before)
		confd_log(CONFD_LOG_DEBUG,
			  "conference %s: send: %s (%" PRIu64 " lost)", m->name,
			  strerror(err), m->send_drops);
}

/* Send the original bytes to every other member whose no_mki is
 * `no_mki`: batched, or one udp_send each when there is no queue. */
static void forward_set(struct confd_media *m, struct mbuf *mb,
			const struct media_fanout *fan, bool no_mki)
{
	struct media_sendq_stats st;
	uint64_t dropped;
	size_t i, pos = mb->pos;

	if (m->sq) {
		media_sendq_stats(m->sq, &st);
		dropped = st.dropped;
		(void)media_sendq_fanout(m->sq, mbuf_buf(mb), mbuf_get_left(mb),
					 fan, no_mki ? dest_nomki : dest_addr,
					 NULL);
		media_sendq_stats(m->sq, &st);
		if (st.dropped != dropped)
			send_dropped(m, st.dropped - dropped, st.last_errno);
		return;
	}
	for (i = 0; i < fan->n; i++) {
		const struct mdest *d = fan->dest[i].leg;
		int err;

		if (i == fan->skip || !d || d->no_mki != no_mki)
			continue;
		mb->pos = pos;
		err = udp_send(m->us, &d->addr, mb);
		if (err)
			send_dropped(m, 1, err);
	}
	mb->pos = pos;
}

/* SDES listeners without MKI (D8, baresip) get the same packet with the
 * 4-byte group MKI cut out: the MKI is outside the authenticated portion
 * [RFC 3711 §3.1], so the tag stays valid; still encrypted once. */
static bool strip_mki(enum media_profile p, const uint8_t *pkt, size_t len,
		      struct mbuf *out)
{
	size_t tag = p == MEDIA_AEAD_AES_128_GCM ? 0 : 10;

	if (len < 12 + MEDIA_MKI_LEN + tag)
		return false;
	out->pos = out->end = 0;
	if (mbuf_write_mem(out, pkt, len - MEDIA_MKI_LEN - tag) ||
	    mbuf_write_mem(out, pkt + len - tag, tag))
		return false;
	out->pos = 0;
	return true;
}

static void forward(struct confd_media *m, struct mbuf *mb,
		    const struct media_fanout *fan)
{
	static struct mbuf *nomki;

	forward_set(m, mb, fan, false);
	if (!m->n_nomki)
		return;
	if (!nomki)
		nomki = mbuf_alloc(MEDIA_PKT_MAX);
	if (nomki &&
	    strip_mki(m->profile, mbuf_buf(mb), mbuf_get_left(mb), nomki))
		forward_set(m, nomki, fan, true);
}

static void rx_dropped(struct confd_media *m, enum cc_err err)
{
	/* counted; logged at 1, 2, 4, 8, ... drops */
	m->drops++;
	if (!(m->drops & (m->drops - 1)))
		confd_log(CONFD_LOG_DEBUG,
			  "conference %s: packet dropped: %s (%" PRIu64 " drops"
			  ")",
			  m->name, cc_strerror(err), m->drops);
}

/* An SDES member's packet (D8): decrypted under its own key, protected
 * once under the group's sending epoch, then fanned out like any other. */
static void recv_sdes(struct confd_media *m, struct mdest *from,
		      struct mbuf *mb)
{
	static struct mbuf *out;
	struct media_fanout fan;
	struct media_rx_info info;
	uint64_t now = tmr_jiffies(), t;
	size_t n = 0;
	enum cc_err err;

	t = media_upstream_next_expiry(from->up);
	if (t && t <= now)
		(void)media_upstream_expire(from->up, now);
	if (!out)
		out = mbuf_alloc(MEDIA_PKT_MAX + MEDIA_MKI_LEN);
	if (!out) {
		rx_dropped(m, CC_ERR_NOMEM);
		return;
	}
	err = media_switch_rx_sdes(m->g, from->mid, from->up, mbuf_buf(mb),
				   mbuf_get_left(mb), out->buf, out->size, &n,
				   &fan, &info);
	if (err) {
		rx_dropped(m, err);
		return;
	}
	out->pos = 0;
	out->end = n;
	from->last_rx = now;
	forward(m, out, &fan);
	if (info.roc_changed && m->roch)
		m->roch(info.rtp.ssrc, info.roc, m->arg);
}

/* Mixing mode: the packet goes to the mixer; its tick sends the mix. */
static void mix_recv(struct confd_media *m, struct mdest *from, struct mbuf *mb)
{
	struct media_rx_info info;
	enum cc_err err;

	err = confd_mixer_rx(m->mix, from->mid, mbuf_buf(mb), mbuf_get_left(mb),
			     &info);
	if (err) {
		/* counted; logged at 1, 2, 4, 8, ... drops */
		m->drops++;
		if (!(m->drops & (m->drops - 1)))
			confd_log(CONFD_LOG_DEBUG,
				  "conference %s: packet not mixed: %s "
				  "(%" PRIu64 " drops)",
				  m->name, cc_strerror(err), m->drops);
		return;
	}
	from->last_rx = tmr_jiffies();
	if (info.roc_changed && m->roch)
		m->roch(info.rtp.ssrc, info.roc, m->arg);
}

/* The mixer's packets, as the switch's: batched, or udp_send each. */
static void mix_send(const uint8_t *pkt, size_t len,
		     const struct media_fanout *fan, void *arg)
{
	struct mbuf mb = { .buf = (uint8_t *)(uintptr_t)pkt,
			   .size = len,
			   .end = len };

	forward(arg, &mb, fan);
}

static void recv_h(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct confd_media *m = arg;
	struct mdest *from = by_addr(m, src);
	struct media_fanout fan;
	struct media_rx_info info;
	enum cc_err err;

	if (!from) {
		m->drop_src++;
		m->drops++;
		return;
	}
	/* mixing mode decodes under the group key; an SDES member's
	 * upstream key is not used there yet (its packets are dropped) */
	if (m->mix) {
		mix_recv(m, from, mb);
		return;
	}
	if (from->up) {
		recv_sdes(m, from, mb);
		return;
	}
	err = media_switch_rx(m->g, from->mid, mbuf_buf(mb), mbuf_get_left(mb),
			      &fan, &info);
	if (err) {
		/* counted; logged at 1, 2, 4, 8, ... drops */
		m->drops++;
		if (!(m->drops & (m->drops - 1)))
			confd_log(CONFD_LOG_DEBUG,
				  "conference %s: packet dropped: %s (%" PRIu64
				  " drops)",
				  m->name, cc_strerror(err), m->drops);
		return;
	}
	from->last_rx = tmr_jiffies();
	forward(m, mb, &fan);
	if (info.roc_changed && m->roch)
		m->roch(info.rtp.ssrc, info.roc, m->arg);
}

static void destructor(void *arg)
{
	struct confd_media *m = arg;

	m->mix = mem_deref(m->mix); /* its tick sends through sq */
	media_sendq_free(m->sq);
	m->us = mem_deref(m->us);
	media_group_free(m->g);
	list_flush(&m->dests);
}

/* The batched sender on the socket's fd; without it, udp_send per copy. */
static void sendq_open(struct confd_media *m, const struct sa *local)
{
	int fd = udp_sock_fd(m->us, sa_af(local));

	if (fd >= 0 && !media_sendq_new(&m->sq, fd, 0))
		return;
	m->sq = NULL;
	confd_log(CONFD_LOG_WARN,
		  "conference %s: no batched sending, one send per copy",
		  m->name);
}

int confd_media_alloc(struct confd_media **mp, const char *ip,
		      struct conf *core, const char *name, confd_roc_h *roch,
		      void *arg)
{
	struct confd_media *m;
	struct sa local;
	int err;

	m = mem_zalloc(sizeof(*m), destructor);
	if (!m)
		return ENOMEM;
	m->core = core;
	m->roch = roch;
	m->arg = arg;
	m->name = name;
	m->profile = MEDIA_AES_CM_128_HMAC_SHA1_80;
	err = sa_set_str(&local, ip, 0);
	if (!err)
		err = udp_listen(&m->us, &local, recv_h, m);
	if (!err)
		err = udp_local_get(m->us, &local);
	if (!err &&
	    media_group_new(&m->g, MEDIA_AES_CM_128_HMAC_SHA1_80, owner_h, m))
		err = ENOMEM;
	if (err) {
		mem_deref(m);
		return err;
	}
	sendq_open(m, &local);
	m->port = sa_port(&local);
	*mp = m;
	return 0;
}

int confd_media_mix(struct confd_media *m, const struct conf_policy *p,
		    const uint32_t *ssrcs)
{
	if (!m || !p || p->media != CONF_MEDIA_MIX)
		return 0;
	if (m->mix)
		return EALREADY; /* one mixer per conference */
	return confd_mixer_alloc(&m->mix, p, ssrcs, m->name, owner_h, mix_send,
				 m->roch, m);
}

uint16_t confd_media_port(const struct confd_media *m)
{
	return m ? m->port : 0;
}

static void mdest_destructor(void *arg)
{
	struct mdest *d = arg;

	media_upstream_free(d->up);
}

int confd_media_add(struct confd_media *m, conf_mid mid, const struct sa *rtp)
{
	struct mdest *d;

	if (!m || by_mid(m, mid))
		return EINVAL;
	d = mem_zalloc(sizeof(*d), mdest_destructor);
	if (!d)
		return ENOMEM;
	d->mid = mid;
	d->addr = *rtp;
	d->last_rx = tmr_jiffies();
	if (m->mix && confd_mixer_add(m->mix, mid, d)) {
		mem_deref(d);
		return EINVAL;
	}
	if (media_group_add_member(m->g, mid, d)) {
		if (m->mix)
			confd_mixer_remove(m->mix, mid);
		mem_deref(d);
		return EINVAL;
	}
	list_append(&m->dests, &d->le, d);
	return 0;
}

int confd_media_codec(struct confd_media *m, conf_mid mid, int codec)
{
	if (!m || !m->mix)
		return 0;
	return confd_mixer_codec(m->mix, mid, codec);
}

void confd_media_remove(struct confd_media *m, conf_mid mid)
{
	struct mdest *d = m ? by_mid(m, mid) : NULL;

	if (!d)
		return;
	if (media_group_drop_member(m->g, mid))
		confd_log(CONFD_LOG_DEBUG, "conference %s: member not in group",
			  m->name);
	m->n_nomki -= d->no_mki;
	if (m->mix)
		confd_mixer_remove(m->mix, mid);
	list_unlink(&d->le);
	mem_deref(d);
}

int confd_media_sdes(struct confd_media *m, conf_mid mid,
		     const struct media_upkey *k, size_t n, bool no_mki,
		     uint64_t grace_ms)
{
	struct mdest *d = m ? by_mid(m, mid) : NULL;
	enum cc_err err;

	if (!d)
		return ENOENT;
	if (!d->up && media_upstream_new(&d->up, m->profile))
		return ENOMEM;
	err = media_upstream_set(d->up, k, n, tmr_jiffies(), grace_ms, NULL);
	if (err)
		return EINVAL;
	m->n_nomki += no_mki && !d->no_mki;
	m->n_nomki -= !no_mki && d->no_mki;
	d->no_mki = no_mki;
	return 0;
}

static void epoch_key(const struct conf_epoch_keys *e, struct media_key *k)
{
	k->mki = e->mki;
	k->profile = (enum media_profile)e->profile;
	k->tek = e->tek;
	k->tek_len = e->tek_len;
	k->salt = e->salt;
	k->salt_len = e->salt_len;
}

void confd_media_action(struct confd_media *m, const struct conf_action *a)
{
	struct media_key k;
	enum cc_err err = CC_OK;

	if (!m)
		return;
	if (m->mix && a->type != CONF_ACT_DROP_MEDIA) {
		confd_mixer_action(m->mix, a); /* the epochs go to the mixer */
		return;
	}
	switch (a->type) {
	case CONF_ACT_NEW_EPOCH:
		epoch_key(a->u.epoch, &k);
		err = media_group_install(m->g, &k);
		break;
	case CONF_ACT_SWITCH_MKI:
		err = media_group_switch(m->g, a->u.epoch->mki);
		break;
	case CONF_ACT_RETIRE_EPOCH:
		err = media_group_retire(m->g, a->u.epoch->mki);
		break;
	case CONF_ACT_DROP_MEDIA:
		confd_media_remove(m, a->member);
		break;
	default:
		break;
	}
	if (err)
		confd_log(CONFD_LOG_WARN, "conference %s: media %s: %s",
			  m->name, conf_action_name(a->type), cc_strerror(err));
}

void confd_media_stats(const struct confd_media *m, uint64_t *fwd,
		       uint64_t *drops)
{
	struct media_stats st;

	*fwd = 0;
	*drops = 0;
	if (!m)
		return;
	media_group_stats(m->g, &st);
	*fwd = st.fwd_copies + confd_mixer_copies(m->mix);
	*drops = m->drops;
}

size_t confd_media_silent(const struct confd_media *m, uint64_t before,
			  conf_mid *out, size_t max)
{
	struct le *le;
	size_t n = 0;

	for (le = m ? m->dests.head : NULL; le && n < max; le = le->next) {
		const struct mdest *d = le->data;

		if (d->last_rx < before)
			out[n++] = d->mid;
	}
	return n;
}
