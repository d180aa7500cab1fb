/*
 * bench_confd_sdes.c -- SDES joins of `conclave bench confd` (issue 6
 * §8: "SDES joins per second next to KMS joins per second"), after the
 * KMS joins and rekeys, into the same conference, o->conc in flight.
 *
 * An SDES joiner has no ticket: its INVITE carries an SDP without
 * a=key-mgmt, with one a=crypto line (its own random sending key,
 * AES_CM_128_HMAC_SHA1_80, MKI 1:4, RFC 4568 §6.1) and an a=ssrc (D6).
 * confd checks the line (sdes_pick), the From identity against
 * sdes_allow and the conference's allowed set (JOIN_REQUEST), then
 * answers 200 OK with the group key's a=crypto line (same tag, MKI
 * 0x80000000|epoch). A join is timed from sipsess_connect (the offer
 * built, as for the KMS joins) to the ACK; the phase's wall time holds
 * the offers' building too; the answer is checked here (tag,
 * suite, a 4-byte group MKI) before the ACK counts.
 *
 * The bench runs SDES over UDP on loopback: confd is configured with
 * `sdes_insecure yes` (TEST ONLY); production requires SIP over TLS
 * (RFC 4568 §8.3). The joiners stay members until the end of the run
 * (a BYE would start a rekey of the KMS members under rekey-on=leave).
 * Keys are never printed; every buffer that held one is wiped.
 */
#include "bench_confd.h"

#include <re.h>

#include <conclave/sdes.h>
#include <conclave/sipglue.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	SDES_TAG = 1,
	SDES_MKI = 1,      /* the joiner's own MKI value ... */
	SDES_MKI_LEN = 4,  /* ... in 4 bytes (RFC 4568 §6.1) */
	SDES_KEY_LEN = 16, /* AES_CM_128_HMAC_SHA1_80 */
	SDES_SALT_LEN = 14,
	SDES_SDP_MAX = SIPGLUE_MAX_SDP + 512
};

enum sdes_state {
	SU_READY,
	SU_JOINING,
	SU_MEMBER,
	SU_FAILED
};

struct sdes_ua {
	struct bcd_sdes *p;
	const struct kmsc_cred *cred;
	struct sipsess_sock *sock;
	struct sipsess *sess;
	enum sdes_state state;
	bool answered; /* the 200 OK's a=crypto checked */
	uint64_t t0;
};

struct bcd_sdes {
	struct bcd_load *l;
	const struct bcd_env *e;
	const struct bcd_opts *o;
	const char *focus;
	struct sdes_ua *u;
	size_t n, next, in_flight;
	uint64_t ok, fail;
	int last_status;
	struct bcd_hist h;
};

/* The phase's state lives until the run ends (the joiners stay). */
static struct bcd_sdes *g_sdes;

static void sdes_next(struct bcd_sdes *p);

/* a=crypto in the 200 OK: our tag and suite, one key with the group's
 * 4-byte MKI (top bit set, D7). The key is not kept: the bench sends no
 * media in this phase. */
static int answer_h(const struct sip_msg *msg, void *arg)
{
	static struct sdes_sdp s;
	struct sdes_ua *u = arg;
	struct sdes_crypto c;
	enum sdes_reason why = SDES_R_OK;
	bool good;

	memset(&c, 0, sizeof(c));
	good = !sdes_sdp_find((const char *)mbuf_buf(msg->mb),
			      mbuf_get_left(msg->mb), &s, &why) &&
	       !sdes_pick(&s, 0, SDES_SUITE_BIT(SDES_AES_CM_128_HMAC_SHA1_80),
			  &c, &why) &&
	       c.tag == SDES_TAG && c.nkeys == 1 &&
	       c.key[0].mki_len == SDES_MKI_LEN && (c.key[0].mki[0] & 0x80);
	sdes_crypto_wipe(&c);
	if (!good) {
		if (!u->p->fail)
			fprintf(stderr,
				"bench confd: SDES answer refused: %s\n",
				why ? sdes_reason_str(why) :
				      "not the group key's line");
		return EPROTO;
	}
	u->answered = true;
	return 0;
}

static void estab_h(const struct sip_msg *msg, void *arg)
{
	struct sdes_ua *u = arg;
	struct bcd_sdes *p = u->p;

	(void)msg;
	if (u->state != SU_JOINING)
		return;
	p->in_flight--;
	if (!u->answered) {
		u->state = SU_FAILED;
		p->fail++;
	} else {
		u->state = SU_MEMBER;
		bcd_hist_add(&p->h, bcd_mono_ns() - u->t0);
		p->ok++;
	}
	sdes_next(p);
}

static void close_h(int err, const struct sip_msg *msg, void *arg)
{
	struct sdes_ua *u = arg;
	struct bcd_sdes *p = u->p;

	if (u->state != SU_JOINING) {
		u->state = SU_FAILED;
		return;
	}
	if (!p->fail++)
		fprintf(stderr, "bench confd: an SDES join failed: %s %u\n",
			err ? strerror(err) : "status", msg ? msg->scode : 0);
	p->last_status = msg ? msg->scode : -err;
	u->state = SU_FAILED;
	p->in_flight--;
	sdes_next(p);
}

/* No re-INVITE is expected (no rekey after this phase): refuse one. */
static int offer_h(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	(void)descp;
	(void)msg;
	(void)arg;
	return EPROTO;
}

/* The offer: m=audio, a=crypto (own key, MKI), a=ssrc; no key-mgmt. */
static int offer_sdp(char *sdp, size_t cap, size_t *len)
{
	struct sipglue_media audio = {
		.type = "audio", .port = 9, .proto = "RTP/SAVP", .fmt = "0"
	};
	struct sipglue_sdp_opts so = { .addr = "127.0.0.1",
				       .sess_id = 1,
				       .sess_ver = 1,
				       .media = &audio,
				       .nmedia = 1,
				       .dir = "sendrecv" };
	uint8_t master[SDES_KEY_LEN + SDES_SALT_LEN];
	struct sdes_key k;
	uint32_t ssrc;
	size_t n = 0, m = 0;
	int w, rc = -1;

	if (kmsc_rand_system(master, sizeof(master), NULL) ||
	    kmsc_rand_system((uint8_t *)&ssrc, sizeof(ssrc), NULL) ||
	    sdes_key_set(&k, master, SDES_KEY_LEN, master + SDES_KEY_LEN,
			 SDES_SALT_LEN, SDES_MKI, SDES_MKI_LEN, 0) ||
	    sipglue_sdp_build(&so, sdp, cap, &n) ||
	    sdes_build(SDES_TAG, SDES_AES_CM_128_HMAC_SHA1_80, &k, sdp + n,
		       cap - n, &m))
		goto out;
	n += m;
	w = snprintf(sdp + n, cap - n, "a=ssrc:%u cname:bench\r\n",
		     (unsigned)ssrc);
	if (w < 0 || (size_t)w >= cap - n)
		goto out;
	*len = n + (size_t)w;
	rc = 0;
out:
	cc_wipe(master, sizeof(master));
	cc_wipe(&k, sizeof(k));
	return rc;
}

static int start(struct bcd_sdes *p, struct sdes_ua *u)
{
	static char sdp[SDES_SDP_MAX];
	char user[KMSC_MAX_ID], host[KMSC_MAX_ID], ruri[512];
	struct mbuf *desc = NULL;
	size_t n = 0;
	int err = -1;

	if (offer_sdp(sdp, sizeof(sdp), &n) ||
	    sipglue_uri_split(p->focus, strlen(p->focus), user, sizeof(user),
			      host, sizeof(host)))
		goto out;
	snprintf(ruri, sizeof(ruri), "sip:%s@127.0.0.1:%d", user,
		 p->e->sip_port);
	desc = mbuf_alloc(n);
	if (!desc || mbuf_write_mem(desc, (const uint8_t *)sdp, n))
		goto out;
	desc->pos = 0;
	u->state = SU_JOINING;
	u->t0 = bcd_mono_ns(); /* as the KMS joins: offer built */
	err = sipsess_connect(&u->sess, u->sock, ruri, NULL, u->cred->identity,
			      "bench", NULL, 0, "application/sdp", desc, NULL,
			      NULL, false, offer_h, answer_h, NULL, estab_h,
			      NULL, NULL, close_h, u, NULL);
out:
	cc_wipe(sdp, sizeof(sdp));
	if (desc)
		cc_wipe(desc->buf, desc->size);
	mem_deref(desc);
	return err ? -1 : 0;
}

static void sdes_next(struct bcd_sdes *p)
{
	while (p->in_flight < p->o->conc && p->next < p->n) {
		struct sdes_ua *u = &p->u[p->next++];

		if (start(p, u)) {
			u->state = SU_FAILED;
			p->fail++;
			continue;
		}
		p->in_flight++;
	}
	if (!p->in_flight && p->next >= p->n)
		re_cancel();
}

static int prepare(struct bcd_sdes *p, size_t n)
{
	size_t i;

	p->u = calloc(n ? n : 1, sizeof(*p->u));
	if (!p->u || !bcd_hist_init(&p->h))
		return -1;
	for (i = 0; i < n; i++) {
		struct sdes_ua *u = &p->u[i];

		u->p = p;
		u->cred = &p->e->ids[i % BCD_IDS];
		u->sock = bcd_sock(p->l);
		if (!u->sock)
			return -1;
		p->n++;
	}
	return 0;
}

static void result(struct bcd_sdes *p, struct bcd_sdes_res *r, double wall_s)
{
	r->ran = true;
	r->conc = p->o->conc;
	r->ok = p->ok;
	r->fail = p->fail;
	r->last_status = p->last_status;
	r->wall_s = wall_s;
	r->p50_ms = bcd_hist_q(&p->h, 0.5);
	r->p99_ms = bcd_hist_q(&p->h, 0.99);
	r->max_ms = p->h.max_us / 1000.0;
}

int bcd_sdes_join(struct bcd_load *l, const struct bcd_env *e,
		  const struct bcd_opts *o, unsigned conf, size_t n,
		  struct bcd_sdes_res *r)
{
	struct bcd_sdes *p;
	double k0, c0, s0;
	uint64_t t0;
	int rc = 0;

	if (g_sdes || !bcd_focus(l, conf)[0])
		return -1;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	g_sdes = p;
	p->l = l;
	p->e = e;
	p->o = o;
	p->focus = bcd_focus(l, conf);
	r->members_before = (unsigned)bcd_members(l, conf);
	if (prepare(p, n))
		return -1;
	fprintf(stderr,
		"bench confd: %zu SDES joins (a=crypto, sdes_insecure: UDP), "
		"%u in flight, into %u members\n",
		n, o->conc, r->members_before);
	k0 = bcd_cpu_of(e->kmsd);
	c0 = bcd_cpu_of(e->confd);
	s0 = bcd_cpu_of((long)getpid());
	t0 = bcd_mono_ns();
	sdes_next(p);
	if (p->in_flight)
		rc = bcd_run(l);
	result(p, r, (double)(bcd_mono_ns() - t0) / 1e9);
	r->kmsd_cpu_s = bcd_cpu_of(e->kmsd) - k0;
	r->confd_cpu_s = bcd_cpu_of(e->confd) - c0;
	r->load_cpu_s = bcd_cpu_of((long)getpid()) - s0;
	if (rc)
		return -1;
	return p->fail && !p->ok ? -1 : 0;
}

void bcd_sdes_free(void)
{
	struct bcd_sdes *p = g_sdes;
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		p->u[i].sess = mem_deref(p->u[i].sess);
	free(p->u);
	bcd_hist_free(&p->h);
	free(p);
	g_sdes = NULL;
}
