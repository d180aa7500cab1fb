/*
 * test_mikey_roundtrip.c -- randomised round trips through the builder API
 * (STYLE.md habit 12): random but valid messages of every PSK data type,
 * sealed with random keys and algorithms, must decode to the same fields,
 * re-encode byte for byte, verify and give back their KEMAC keys; random
 * key-data chains (with KW-PAD) and SRTP policies likewise. Deterministic:
 * the seed is printed and can be set with MIKEY_RT_SEED.
 */
#include <conclave/mikey.h>

#include "check.h"

enum {
	ITERATIONS = 2000,
	ARENA = 32768
};

#define NONE ((struct cc_slice){ NULL, 0 })

/* ---- deterministic randomness ------------------------------------------ */

static uint64_t rng;

static uint64_t rnd(void) /* splitmix64 */
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rn(uint32_t n) /* 0 .. n-1 */
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static bool coin(void)
{
	return rnd() & 1;
}

/* Per-message storage for the random bytes the slices point at. */
static uint8_t arena[ARENA];
static size_t arena_used;

static uint8_t *take(size_t n)
{
	uint8_t *p;
	size_t i;

	if (arena_used + n > ARENA) {
		fprintf(stderr, "arena exhausted\n");
		exit(2);
	}
	p = arena + arena_used;
	arena_used += n;
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
	return p;
}

static struct cc_slice rslice(size_t min, size_t max)
{
	size_t n = min + rn((uint32_t)(max - min + 1));

	return (struct cc_slice){ take(n), n };
}

static bool slice_eq(struct cc_slice a, struct cc_slice b)
{
	return a.len == b.len && (!a.len || !memcmp(a.p, b.p, a.len));
}

/* ---- regression guard (see test_mikey_robust.c fill_stack) ------------ */

/* mikey_ticket_seal once left its chain's overflow flag uninitialised;
 * dirty the stack it will use so such a bug shows up here. */
static void __attribute__((noinline)) zero_stack(void)
{
	volatile uint8_t junk[65536];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = 0xa5;
}

static enum cc_err __attribute__((noinline))
ticket_seal_below(struct mikey_pl_ticket *t,
		  const struct mikey_ticket_seal_in *in, uint8_t *out,
		  size_t cap)
{
	volatile uint8_t gap[1024];
	enum cc_err err;

	gap[0] = 0;
	err = mikey_ticket_seal(t, in, out, cap);
	gap[1] = gap[0];
	return err;
}

static enum cc_err __attribute__((noinline))
ticket_seal(struct mikey_pl_ticket *t, const struct mikey_ticket_seal_in *in,
	    uint8_t *out, size_t cap)
{
	zero_stack();
	return ticket_seal_below(t, in, out, cap);
}

/* ---- random parts ------------------------------------------------------- */

static struct mikey_ts rts(void)
{
	struct mikey_ts ts = { (uint8_t)rn(4), rnd() };

	if (ts.type == MIKEY_TS_COUNTER || ts.type == MIKEY_TS_NTP_UTC_32)
		ts.value &= 0xffffffffu;
	return ts;
}

/* Shortest key rkey makes: RFC 6043 §12.1 keys are >= 128 bits. The
 * plaintext-only chain test goes lower, down to chains under 16 bytes that
 * KW-PAD pads up to RFC 3394's minimum (keydata.c check_pad). */
static size_t key_min = 16;

static void rkey(struct mikey_key *k, uint8_t type)
{
	memset(k, 0, sizeof(*k));
	k->type = type;
	k->kv = (uint8_t)rn(3);
	k->key = rslice(key_min, MIKEY_MAX_KEY);
	if (type == MIKEY_KEY_TGK_SALT || type == MIKEY_KEY_TEK_SALT ||
	    type == MIKEY_KEY_GTGK_SALT)
		k->salt = rslice(1, MIKEY_MAX_KEY);
	if (k->kv == MIKEY_KV_SPI)
		k->spi = rslice(0, MIKEY_MAX_SPI);
	if (k->kv == MIKEY_KV_INTERVAL) {
		k->vf = rslice(0, 12);
		k->vt = rslice(0, 12);
	}
}

static void rkeys(struct mikey_keys *ks, size_t max)
{
	size_t i;

	ks->n = 1 + rn((uint32_t)max);
	for (i = 0; i < ks->n; i++)
		rkey(&ks->k[i], (uint8_t)rn(MIKEY_KEY_MPK + 1));
}

static bool key_eq(const struct mikey_key *a, const struct mikey_key *b)
{
	return a->type == b->type && a->kv == b->kv &&
	       slice_eq(a->key, b->key) && slice_eq(a->salt, b->salt) &&
	       slice_eq(a->spi, b->spi) && slice_eq(a->vf, b->vf) &&
	       slice_eq(a->vt, b->vt);
}

static bool keys_eq(const struct mikey_keys *a, const struct mikey_keys *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (!key_eq(&a->k[i], &b->k[i]))
			return false;
	return true;
}

/* Random valid SRTP policy, encoded into the arena. */
static struct cc_slice rsp(struct mikey_srtp_policy *pol)
{
	uint8_t *out = take(MIKEY_SRTP_PARAM__COUNT * 6);
	struct mikey_srtp_policy back;
	struct cc_wr wr;
	unsigned t;

	memset(pol, 0, sizeof(*pol));
	for (t = 0; t < MIKEY_SRTP_PARAM__COUNT; t++) {
		uint8_t vlen = 1;

		if (rn(3))
			continue;
		if (t == MIKEY_SRTP_KDR || t == MIKEY_SRTP_ROC_RATE)
			vlen = (uint8_t)(1 + rn(4));
		mikey_srtp_policy_set(
			pol, t, (uint32_t)(rnd() >> (64 - 8 * vlen)), vlen);
	}
	cc_wr_init(&wr, out, MIKEY_SRTP_PARAM__COUNT * 6);
	CHECK_OK(mikey_srtp_policy_encode(pol, &wr));
	CHECK_OK(mikey_srtp_policy_decode((struct cc_slice){ out, wr.pos },
					  &back, NULL));
	CHECK(!memcmp(&back, pol, sizeof(back)));
	return (struct cc_slice){ out, wr.pos };
}

static void ridr(struct mikey_chain *ch, uint8_t role)
{
	mikey_add_idr(ch, role, (uint8_t)rn(3), rslice(1, 40));
}

/* TP Data (RFC 6043 §6.10): [IDRkms] [IDRi] [TRs] [TRe] [TRr] [KEMAC]
 * {IDRapp} (IDRr), encoded with its First Payload byte. */
static struct cc_slice rtp_data(bool granted)
{
	struct mikey_chain ch = { .n = 0 };
	struct mikey_chain back;
	struct mikey_keys ks;
	struct mikey_pl *pl;
	uint8_t *out = take(2048);
	struct cc_wr wr;
	size_t i, n;

	if (coin())
		ridr(&ch, MIKEY_IDR_KMS);
	if (coin())
		ridr(&ch, MIKEY_IDR_I);
	if (coin())
		mikey_add_tr(&ch, MIKEY_TSR_START, MIKEY_TS_NTP_UTC, rnd());
	if (coin())
		mikey_add_tr(&ch, MIKEY_TSR_END, MIKEY_TS_NTP_UTC_32,
			     rnd() >> 32);
	if (coin())
		mikey_add_tr(&ch, MIKEY_TSR_REKEY, MIKEY_TS_NTP_UTC_32,
			     rn(86400));
	if (!granted && coin()) {
		/* the desired-keys template: NULL encryption, zero keys */
		uint8_t *tmpl = take(1024);

		rkeys(&ks, 3);
		for (i = 0; i < ks.n; i++)
			memset((uint8_t *)ks.k[i].key.p, 0, ks.k[i].key.len);
		cc_wr_init(&wr, tmpl, 1024);
		CHECK_OK(mikey_keys_encode(&ks, &wr));
		pl = mikey_add_kemac(&ch);
		pl->u.kemac.encr = (struct cc_slice){ tmpl, wr.pos };
	}
	for (n = rn(3); n; n--)
		ridr(&ch, MIKEY_IDR_APP);
	for (n = 1 + rn(3); n; n--)
		ridr(&ch, MIKEY_IDR_R);
	cc_wr_init(&wr, out, 2048);
	CHECK_OK(mikey_encode_chain(&ch, true, &wr));
	CHECK_OK(mikey_decode_chain(out, wr.pos, true, &back, NULL));
	CHECK_OK(mikey_check_tp_data(&back, granted, NULL));
	CHECK(back.n == ch.n);
	return (struct cc_slice){ out, wr.pos };
}

static void rpolicy(struct mikey_pl_ticket *t, bool granted)
{
	memset(t, 0, sizeof(*t));
	t->ticket_type = MIKEY_TICKET_BASE;
	t->subtype = MIKEY_TICKET_BASE_SUBTYPE;
	t->version = MIKEY_TICKET_BASE_VERSION;
	t->prf = (uint8_t)rn(2);
	/* bytes 6 and 7 (M N O; Res = 0) and D */
	t->flags = (uint16_t)(rnd() & 0xffe1);
	t->tp_data = rtp_data(granted);
}

static const uint8_t *ticket_tpk;
static size_t ticket_tpk_len;

static enum cc_err lookup(struct cc_slice id, void *arg, const uint8_t **k,
			  size_t *klen)
{
	(void)id;
	(void)arg;
	*k = ticket_tpk;
	*klen = ticket_tpk_len;
	return CC_OK;
}

/* A granted policy with a sealed base ticket (App. A) that must open. */
static void rticket(struct mikey_pl_ticket *t)
{
	static const enum mikey_mac macs[] = { MIKEY_MAC_HMAC_SHA1_160,
					       MIKEY_MAC_HMAC_SHA256_256 };
	struct mikey_keys ks, got;
	struct cc_slice tpk = rslice(16, 32);
	struct mikey_ticket_seal_in in = {
		.tpk = tpk.p,
		.tpk_len = tpk.len,
		.tpk_id = coin() ? rslice(1, 16) : NONE,
		.encr_alg = (enum mikey_encr)rn(4),
		.mac_alg = macs[rn(2)],
		.t = rts(),
		.rand = rslice(16, 32),
		.keys = &ks,
	};
	uint8_t *td = take(2048), plain[2048];
	struct mikey_ts issued;

	rpolicy(t, true);
	rkeys(&ks, 3);
	rkey(&ks.k[0], MIKEY_KEY_MPK);
	CHECK_OK(ticket_seal(t, &in, td, 2048));
	ticket_tpk = tpk.p;
	ticket_tpk_len = tpk.len;
	CHECK_OK(mikey_ticket_open(t, lookup, NULL, plain, sizeof(plain), &got,
				   &issued, NULL));
	CHECK(keys_eq(&ks, &got));
	CHECK(issued.type == in.t.type && issued.value == in.t.value);
}

/* ---- one random message ------------------------------------------------- */

struct spec {
	uint8_t dt;
	enum mikey_variant var;
};

static const struct spec specs[] = {
	{ MIKEY_DT_REQUEST_INIT_PSK, MIKEY_INITIAL },
	{ MIKEY_DT_REQUEST_RESP, MIKEY_INITIAL },
	{ MIKEY_DT_TRANSFER_INIT, MIKEY_INITIAL },
	{ MIKEY_DT_TRANSFER_INIT, MIKEY_UPDATE_BY_I },
	{ MIKEY_DT_TRANSFER_INIT, MIKEY_UPDATE_BY_R },
	{ MIKEY_DT_TRANSFER_RESP, MIKEY_INITIAL },
	{ MIKEY_DT_TRANSFER_RESP, MIKEY_UPDATE_BY_I },
	{ MIKEY_DT_TRANSFER_RESP, MIKEY_UPDATE_BY_R },
	{ MIKEY_DT_RESOLVE_INIT_PSK, MIKEY_INITIAL },
	{ MIKEY_DT_RESOLVE_RESP, MIKEY_INITIAL },
	{ MIKEY_DT_ERROR, MIKEY_INITIAL },
};

static void rhdr(struct mikey_msg *m, uint8_t dt)
{
	uint8_t map = MIKEY_MAP_EMPTY;
	size_t i, n = 0;

	if (dt == MIKEY_DT_TRANSFER_INIT || dt == MIKEY_DT_TRANSFER_RESP)
		map = MIKEY_MAP_GENERIC_ID;
	else if (dt == MIKEY_DT_ERROR)
		map = (uint8_t)rn(3);
	mikey_msg_init(m, dt, coin(), (enum mikey_prf)rn(2), (uint32_t)rnd(),
		       map);
	if (map != MIKEY_MAP_EMPTY)
		n = rn(5);
	for (i = 0; i < n; i++) {
		struct cc_slice spi = rslice(0, MIKEY_MAX_SPI);
		bool ssrc = map == MIKEY_MAP_SRTP_ID || coin();
		struct mikey_cs *cs;

		CHECK_OK(mikey_hdr_add_cs(
			&m->hdr, (uint8_t)rnd(), (uint8_t)rnd(), ssrc,
			ssrc ? (uint32_t)rnd() : 0, spi.p, (uint8_t)spi.len));
		cs = &m->hdr.cs[m->hdr.ncs - 1];
		if (map == MIKEY_MAP_SRTP_ID) {
			/* SRTP-ID: CS ID = ordinal, no SPI (RFC 3830) */
			cs->cs_id = (uint8_t)(i + 1);
			cs->spi_len = 0;
			memset(cs->spi, 0, sizeof(cs->spi));
			cs->roc = (uint32_t)rnd();
		} else if (ssrc && coin()) {
			cs->s = true; /* ROC and SEQ present */
			cs->roc = (uint32_t)rnd();
			cs->seq = (uint16_t)rnd();
		}
	}
}

/* A General Extension; Key ID data (RFC 4563 §4) as valid entries. */
static void rext(struct mikey_chain *ch)
{
	uint8_t type = (uint8_t)rn(6), *p;
	size_t n = 0, i;

	if (type != MIKEY_GENEXT_KEY_ID) {
		mikey_add_ext(ch, type, rslice(0, 24));
		return;
	}
	p = take(3 * 10);
	for (i = 1 + rn(3); i; i--) {
		uint8_t len = (uint8_t)(1 + rn(8));

		p[n++] = (uint8_t)rn(4); /* Key ID type */
		p[n++] = len;
		n += len; /* random ID bytes already in place */
	}
	mikey_add_ext(ch, type, (struct cc_slice){ p, n });
}

/* Payloads of dt/var in grammar order (spec/mikey-ticket.md §4, §8, §9). */
static void rbody(struct mikey_msg *m, const struct spec *s, bool *kemac,
		  bool *fork)
{
	struct mikey_chain *ch = &m->ch;
	struct mikey_srtp_policy pol;
	struct mikey_pl *pl;
	bool upd = s->var != MIKEY_INITIAL, ini;
	size_t n;

	*kemac = false;
	*fork = false;
	pl = mikey_chain_add(ch, MIKEY_PT_T);
	pl->u.t = rts();
	switch (s->dt) {
	case MIKEY_DT_REQUEST_INIT_PSK:
	case MIKEY_DT_RESOLVE_INIT_PSK:
		ini = s->dt == MIKEY_DT_REQUEST_INIT_PSK;
		mikey_add_randr(ch, ini ? MIKEY_RANDR_I : MIKEY_RANDR_R,
				rslice(1, 64));
		if (coin())
			ridr(ch, ini ? MIKEY_IDR_I : MIKEY_IDR_R);
		if (coin())
			ridr(ch, MIKEY_IDR_KMS);
		pl = mikey_chain_add(ch, ini ? MIKEY_PT_TP : MIKEY_PT_TICKET);
		if (ini)
			rpolicy(&pl->u.ticket, false);
		else
			rticket(&pl->u.ticket);
		if (coin())
			ridr(ch, MIKEY_IDR_PSK);
		break;
	case MIKEY_DT_REQUEST_RESP:
	case MIKEY_DT_RESOLVE_RESP:
		if (coin())
			ridr(ch, MIKEY_IDR_KMS);
		if (s->dt == MIKEY_DT_REQUEST_RESP)
			rticket(&mikey_chain_add(ch, MIKEY_PT_TICKET)->u.ticket);
		mikey_add_kemac(ch);
		*kemac = true;
		if (s->dt == MIKEY_DT_RESOLVE_RESP && coin())
			ridr(ch, MIKEY_IDR_R);
		if (s->dt == MIKEY_DT_RESOLVE_RESP && coin())
			mikey_add_randr(ch, MIKEY_RANDR_KMS, rslice(16, 32));
		break;
	case MIKEY_DT_TRANSFER_INIT:
	case MIKEY_DT_TRANSFER_RESP:
		if (s->dt == MIKEY_DT_TRANSFER_INIT && !upd)
			mikey_add_randr(ch, MIKEY_RANDR_I, rslice(1, 64));
		if (s->dt == MIKEY_DT_TRANSFER_RESP && !upd && coin())
			mikey_add_randr(ch, MIKEY_RANDR_R, rslice(1, 64));
		/* IDR roles in grammar order per variant (A4) */
		if (s->dt == MIKEY_DT_TRANSFER_INIT) {
			bool r_first = s->var == MIKEY_UPDATE_BY_R;

			if (coin())
				ridr(ch, r_first ? MIKEY_IDR_R : MIKEY_IDR_I);
			if (coin())
				ridr(ch, r_first ? MIKEY_IDR_I : MIKEY_IDR_R);
		} else if (coin()) {
			ridr(ch, s->var == MIKEY_UPDATE_BY_R ? MIKEY_IDR_I :
							       MIKEY_IDR_R);
		}
		if (s->dt == MIKEY_DT_TRANSFER_RESP && !upd && coin())
			mikey_add_randr(ch, MIKEY_RANDR_KMS, rslice(16, 32));
		for (n = rn(3); n; n--)
			mikey_add_sp(ch, (uint8_t)rnd(), rsp(&pol));
		if (s->dt == MIKEY_DT_TRANSFER_INIT && !upd) {
			rticket(&mikey_chain_add(ch, MIKEY_PT_TICKET)->u.ticket);
			*fork = coin();
		}
		if (coin()) {
			mikey_add_kemac(ch);
			*kemac = true;
		}
		break;
	case MIKEY_DT_ERROR:
	default:
		for (n = 1 + rn(2); n; n--) {
			pl = mikey_chain_add(ch, MIKEY_PT_ERR);
			pl->u.err.errno_ = (uint8_t)rn(16);
			pl->u.err.reserved = (uint16_t)rnd();
		}
		for (n = rn(2); n; n--)
			mikey_add_sp(ch, (uint8_t)rnd(), rsp(&pol));
		break;
	}
	if (!rn(4)) /* A11: a General Extension right before V */
		rext(ch);
	mikey_add_v(ch);
}

static bool ts_eq(const struct mikey_ts *a, const struct mikey_ts *b)
{
	return a->type == b->type && a->value == b->value;
}

static bool ticket_eq(const struct mikey_pl_ticket *a,
		      const struct mikey_pl_ticket *b)
{
	return a->ticket_type == b->ticket_type && a->subtype == b->subtype &&
	       a->version == b->version && a->prf == b->prf &&
	       a->flags == b->flags && slice_eq(a->tp_data, b->tp_data) &&
	       slice_eq(a->ticket_data, b->ticket_data) &&
	       slice_eq(a->init_data, b->init_data);
}

static bool pl_eq(const struct mikey_pl *a, const struct mikey_pl *b)
{
	if (a->type != b->type || a->off != b->off || a->len != b->len)
		return false;
	switch (a->type) {
	case MIKEY_PT_T:
		return ts_eq(&a->u.t, &b->u.t);
	case MIKEY_PT_RANDR:
		return a->u.rand.role == b->u.rand.role &&
		       slice_eq(a->u.rand.data, b->u.rand.data);
	case MIKEY_PT_IDR:
		return a->u.id.role == b->u.id.role &&
		       a->u.id.type == b->u.id.type &&
		       slice_eq(a->u.id.data, b->u.id.data);
	case MIKEY_PT_SP:
		return a->u.sp.policy_no == b->u.sp.policy_no &&
		       a->u.sp.prot == b->u.sp.prot &&
		       slice_eq(a->u.sp.params, b->u.sp.params);
	case MIKEY_PT_KEMAC:
		return a->u.kemac.encr_alg == b->u.kemac.encr_alg &&
		       slice_eq(a->u.kemac.encr, b->u.kemac.encr) &&
		       a->u.kemac.mac_alg == b->u.kemac.mac_alg &&
		       slice_eq(a->u.kemac.mac, b->u.kemac.mac);
	case MIKEY_PT_V:
		return a->u.v.alg == b->u.v.alg &&
		       slice_eq(a->u.v.mac, b->u.v.mac);
	case MIKEY_PT_ERR:
		return a->u.err.errno_ == b->u.err.errno_ &&
		       a->u.err.reserved == b->u.err.reserved;
	case MIKEY_PT_GENEXT:
		return a->u.ext.type == b->u.ext.type &&
		       slice_eq(a->u.ext.data, b->u.ext.data);
	case MIKEY_PT_TP:
	case MIKEY_PT_TICKET:
		return ticket_eq(&a->u.ticket, &b->u.ticket);
	default:
		return false;
	}
}

static bool cs_eq(const struct mikey_cs *a, const struct mikey_cs *b)
{
	return a->cs_id == b->cs_id && a->prot == b->prot && a->s == b->s &&
	       a->npol == b->npol &&
	       !memcmp(a->policies, b->policies, a->npol) &&
	       a->has_ssrc == b->has_ssrc && a->ssrc == b->ssrc &&
	       a->roc == b->roc && a->seq == b->seq &&
	       a->sdata.len == b->sdata.len && a->spi_len == b->spi_len &&
	       !memcmp(a->spi, b->spi, a->spi_len);
}

static bool msg_eq(const struct mikey_msg *a, const struct mikey_msg *b)
{
	const struct mikey_hdr *x = &a->hdr, *y = &b->hdr;
	size_t i;

	if (x->version != y->version || x->data_type != y->data_type ||
	    x->v != y->v || x->prf != y->prf || x->csb_id != y->csb_id ||
	    x->ncs != y->ncs || x->map_type != y->map_type ||
	    a->ch.n != b->ch.n)
		return false;
	for (i = 0; i < x->ncs; i++)
		if (!cs_eq(&x->cs[i], &y->cs[i]))
			return false;
	for (i = 0; i < a->ch.n; i++)
		if (!pl_eq(&a->ch.pl[i], &b->ch.pl[i]))
			return false;
	return true;
}

/* Build, seal and check one random message; false on the first failure. */
static bool one_message(size_t iter)
{
	static const enum mikey_mac macs[] = { MIKEY_MAC_HMAC_SHA1_160,
					       MIKEY_MAC_HMAC_SHA256_256 };
	static struct mikey_msg m, d;
	static uint8_t buf[16384], again[16384], plain[4096];
	const struct spec *s =
		&specs[iter % (sizeof(specs) / sizeof(specs[0]))];
	struct mikey_msg_keys k;
	struct mikey_keys ks, got;
	struct mikey_seal_opts o = { .keys = &k };
	struct cc_slice psk, mpkr = NONE;
	const struct mikey_pl *t;
	struct cc_wr wr;
	bool kemac, fork, ok = true;
	int before = check_failures;
	size_t i;

	arena_used = 0;
	rhdr(&m, s->dt);
	rbody(&m, s, &kemac, &fork);
	psk = rslice(16, 32);
	CHECK_OK(mikey_derive_msg_keys(
		(enum mikey_prf)m.hdr.prf, psk.p, psk.len, m.hdr.csb_id,
		(uint8_t)(s->dt == MIKEY_DT_TRANSFER_INIT ||
					  s->dt == MIKEY_DT_REQUEST_INIT_PSK ||
					  s->dt == MIKEY_DT_RESOLVE_INIT_PSK ?
				  MIKEY_LBL_INIT :
				  MIKEY_LBL_RESP),
		coin() ? rslice(1, 32) : NONE, rslice(1, 32),
		(enum mikey_encr)rn(4), macs[rn(2)], &k));
	if (kemac) {
		rkeys(&ks, 4);
		o.kemac = &ks;
	}
	for (o.extra.n = 0; o.extra.n < rn(4); o.extra.n++)
		o.extra.part[o.extra.n] = rslice(0, 64);
	if (fork) {
		mpkr = rslice(16, 32);
		o.fork_mpkr = mpkr.p;
		o.fork_mpkr_len = mpkr.len;
		o.fork_prf = (uint8_t)rn(2);
	}
	cc_wr_init(&wr, buf, sizeof(buf));
	CHECK_OK(mikey_seal(&m, &o, &wr));
	if (check_failures != before)
		goto out;

	CHECK_OK(mikey_decode(buf, wr.pos, &d, NULL));
	CHECK_OK(mikey_check_layout(&d, s->var, NULL));
	CHECK(msg_eq(&m, &d));
	cc_wr_init(&wr, again, sizeof(again));
	CHECK_OK(mikey_encode(&d, &wr));
	CHECK(wr.pos == m.ch.pl[m.ch.n - 1].off + m.ch.pl[m.ch.n - 1].len &&
	      !memcmp(buf, again, wr.pos));
	CHECK_OK(mikey_verify(buf, wr.pos, &d, &k, &o.extra));
	if (kemac) {
		CHECK_OK(mikey_kemac_open(&d, &k, plain, sizeof(plain), &got,
					  NULL));
		CHECK(keys_eq(&ks, &got));
	} else {
		CHECK_ERR(mikey_kemac_open(&d, &k, plain, sizeof(plain), &got,
					   NULL),
			  CC_ERR_MISSING);
	}
	if (fork) {
		struct cc_slice vi;
		uint8_t alg;

		t = mikey_chain_find(&d.ch, MIKEY_PT_TICKET, 0);
		CHECK_OK(mikey_initiator_data_verify(t->u.ticket.init_data,
						     (enum mikey_prf)o.fork_prf,
						     mpkr.p, mpkr.len));
		CHECK_OK(mikey_initiator_data_vi(t->u.ticket.init_data, &alg,
						 &vi));
		CHECK(slice_eq(vi, d.ch.pl[d.ch.n - 1].u.v.mac));
	}
	/* a wrong key must not verify */
	k.auth[0] ^= 1;
	CHECK_ERR(mikey_verify(buf, wr.pos, &d, &k, &o.extra), CC_ERR_BAD_MAC);
out:
	mikey_msg_keys_wipe(&k);
	cc_wipe(plain, sizeof(plain));
	if (check_failures != before) {
		fprintf(stderr, "iteration %zu (%s, variant %d) failed:\n",
			iter, mikey_data_type_name(s->dt), (int)s->var);
		for (i = 0; i < m.ch.n; i++)
			fprintf(stderr, "  %s", mikey_pt_name(m.ch.pl[i].type));
		fprintf(stderr, "\n");
		ok = false;
	}
	return ok;
}

static void test_messages(void)
{
	size_t i;

	for (i = 0; i < ITERATIONS; i++)
		if (!one_message(i))
			break;
	printf("messages: %zu of %d round-tripped\n", i, ITERATIONS);
}

/* ---- key-data chains, KW-PAD (A28) ------------------------------------ */

static void test_key_chains(void)
{
	static uint8_t buf[8192];
	struct mikey_keys ks, got;
	struct mikey_diag dg;
	struct cc_wr wr;
	size_t i, pad, len;

	key_min = 1;
	for (i = 0; i < ITERATIONS; i++) {
		arena_used = 0;
		rkeys(&ks, MIKEY_MAX_KEYS);
		cc_wr_init(&wr, buf, sizeof(buf));
		CHECK_OK(mikey_keys_encode(&ks, &wr));
		len = wr.pos;
		pad = rn(8);
		memset(buf + len, 0, pad + 1);
		CHECK_OK(mikey_keys_decode(buf, len, false, &got, &dg));
		CHECK(keys_eq(&ks, &got));
		CHECK_OK(mikey_keys_decode(buf, len + pad, true, &got, &dg));
		CHECK(keys_eq(&ks, &got));
		if (pad) {
			CHECK_ERR(mikey_keys_decode(buf, len + pad, false, &got,
						    &dg),
				  CC_ERR_TRAILING);
			buf[len + pad - 1] = 1;
			CHECK_ERR(mikey_keys_decode(buf, len + pad, true, &got,
						    &dg),
				  CC_ERR_MALFORMED);
		}
		/* 8 zero bytes are more than KW-PAD adds, except to reach
		 * the 16-byte minimum of a chain under 16 bytes */
		memset(buf + len, 0, 8);
		CHECK_ERR(mikey_keys_decode(buf, len + 8, true, &got, &dg),
			  len + 8 == 16 ? CC_OK : CC_ERR_TRAILING);
		if (check_failures)
			break;
	}
	/* MIKEY_MAX_KEYS keys decode; one more is refused */
	arena_used = 0;
	ks.n = MIKEY_MAX_KEYS;
	for (i = 0; i < ks.n; i++)
		rkey(&ks.k[i], MIKEY_KEY_TEK);
	cc_wr_init(&wr, buf, sizeof(buf));
	CHECK_OK(mikey_keys_encode(&ks, &wr));
	len = wr.pos;
	CHECK_OK(mikey_keys_decode(buf, len, false, &got, &dg));
	CHECK(got.n == MIKEY_MAX_KEYS);
	/* the last key's next-payload byte, then one more sub-payload */
	ks.n = MIKEY_MAX_KEYS - 1;
	cc_wr_init(&wr, buf + len, sizeof(buf) - len);
	CHECK_OK(mikey_keys_encode(&ks, &wr));
	buf[wr.pos] = MIKEY_PT_KEYDATA;
	ks.n = 1;
	cc_wr_init(&wr, buf + len, sizeof(buf) - len);
	CHECK_OK(mikey_keys_encode(&ks, &wr));
	CHECK_ERR(mikey_keys_decode(buf, len + wr.pos, false, &got, &dg),
		  CC_ERR_UNSUPPORTED);
	CHECK(dg.field && !strcmp(dg.field, "key count"));
}

int main(void)
{
	const char *env = getenv("MIKEY_RT_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 0x6d696b6579ull;

	rng = seed;
	printf("seed 0x%llx (set MIKEY_RT_SEED to repeat)\n",
	       (unsigned long long)seed);
	test_messages();
	test_key_chains();
	CHECK_DONE();
}
