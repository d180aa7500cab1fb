/*
 * seal.c -- protecting and checking whole MIKEY-TICKET messages: KEMAC
 * encryption with the message keys, and the V MAC over exactly the bytes
 * RFC 6043 §5.5 (Table 5.2) names.
 */
#include <conclave/mikey.h>

#include <string.h>

enum {
	SCRATCH = 4096
};

static struct mikey_pl *find_pl(struct mikey_chain *ch, uint16_t type)
{
	size_t i;

	for (i = 0; i < ch->n; i++)
		if (ch->pl[i].type == type)
			return &ch->pl[i];
	return NULL;
}

static const struct mikey_pl *last_v(const struct mikey_chain *ch)
{
	if (!ch->n || ch->pl[ch->n - 1].type != MIKEY_PT_V)
		return NULL;
	return &ch->pl[ch->n - 1];
}

uint64_t mikey_ts_to64(const struct mikey_ts *ts)
{
	switch (ts->type) {
	case MIKEY_TS_NTP_UTC_32:
		return ts->value << 32; /* A20: zero fraction */
	case MIKEY_TS_COUNTER:
		return ts->value & 0xffffffffu; /* A20: leading zeros */
	default:
		return ts->value;
	}
}

enum cc_err mikey_msg_t64(const struct mikey_msg *msg, uint64_t *t64)
{
	const struct mikey_pl *t = mikey_chain_find(&msg->ch, MIKEY_PT_T, 0);

	if (!t)
		return CC_ERR_MISSING;
	*t64 = mikey_ts_to64(&t->u.t);
	return CC_OK;
}

void mikey_msg_algs(const struct mikey_msg *msg, enum mikey_encr *encr,
		    enum mikey_mac *mac)
{
	const struct mikey_pl *k =
		mikey_chain_find(&msg->ch, MIKEY_PT_KEMAC, 0);
	const struct mikey_pl *v = last_v(&msg->ch);

	*encr = k ? (enum mikey_encr)k->u.kemac.encr_alg : MIKEY_ENCR_NULL;
	*mac = v ? (enum mikey_mac)v->u.v.alg : MIKEY_MAC_NULL;
}

/*
 * The MAC input of a message (RFC 6043 §5.5, spec/mikey-ticket.md §6):
 * everything up to the MAC field, without the Initiator Data length and
 * data of a TRANSFER_INIT's TICKET, then the appended extras. The extras
 * are the callers': ID Data bytes of the identities, never whole IDR
 * payloads (spec/ambiguities.md A3), or the complete initial message as
 * received, Initiator Data and MAC included (A7).
 */
static size_t mac_parts(const uint8_t *buf, const struct mikey_msg *msg,
			const struct mikey_pl *v,
			const struct mikey_mac_extra *x,
			struct cc_slice parts[6])
{
	size_t n = 0, end = v->off + 2, i;
	const struct mikey_pl *t = NULL;

	if (msg->hdr.data_type == MIKEY_DT_TRANSFER_INIT)
		t = mikey_chain_find(&msg->ch, MIKEY_PT_TICKET, 0);
	if (t) {
		size_t idl = 2 + t->u.ticket.init_data.len;
		size_t cut = t->off + t->len - idl;

		parts[n++] = (struct cc_slice){ buf, cut };
		parts[n++] =
			(struct cc_slice){ buf + cut + idl, end - cut - idl };
	} else {
		parts[n++] = (struct cc_slice){ buf, end };
	}
	for (i = 0; x && i < x->n && i < 3; i++)
		parts[n++] = x->part[i];
	return n;
}

/* The keys in use: a prepared set if given, else the plain one. */
static const struct mikey_msg_keys *keys_of(const struct mikey_msg_keys *k,
					    const struct mikey_keyed *kd)
{
	return kd ? mikey_keyed_keys(kd) : k;
}

static enum cc_err mac_with(const struct mikey_msg_keys *k,
			    struct mikey_keyed *kd,
			    const struct cc_slice *parts, size_t n,
			    uint8_t *mac)
{
	if (kd)
		return mikey_keyed_mac(kd, parts, n, mac);
	return mikey_mac_compute(k->mac_alg, k->auth,
				 mikey_mac_key_len(k->mac_alg), parts, n, mac);
}

static enum cc_err crypt_with(const struct mikey_msg_keys *k,
			      struct mikey_keyed *kd, bool enc, uint32_t csb,
			      uint64_t t64, const uint8_t *in, size_t len,
			      uint8_t *out, size_t cap, size_t *olen)
{
	if (kd)
		return mikey_keyed_kemac_crypt(kd, enc, csb, t64, in, len, out,
					       cap, olen);
	return enc ? mikey_kemac_encrypt(k, csb, t64, in, len, out, cap, olen) :
		     mikey_kemac_decrypt(k, csb, t64, in, len, out, cap, olen);
}

static enum cc_err seal_kemac(struct mikey_msg *msg,
			      const struct mikey_seal_opts *o, uint8_t *plain,
			      uint8_t *cipher)
{
	struct mikey_pl *k = find_pl(&msg->ch, MIKEY_PT_KEMAC);
	const struct mikey_msg_keys *keys = keys_of(o->keys, o->keyed);
	struct cc_wr wr;
	uint64_t t64;
	size_t clen = 0;
	enum cc_err err;

	if (!k)
		return CC_ERR_INVAL;
	err = mikey_msg_t64(msg, &t64);
	if (err)
		return err;
	cc_wr_init(&wr, plain, SCRATCH);
	err = mikey_keys_encode(o->kemac, &wr);
	if (!err)
		err = crypt_with(keys, o->keyed, true, msg->hdr.csb_id, t64,
				 plain, wr.pos, cipher, SCRATCH + 32, &clen);
	cc_wipe(plain, wr.pos);
	if (err)
		return err;
	k->u.kemac.encr_alg = (uint8_t)keys->encr_alg;
	k->u.kemac.encr = (struct cc_slice){ cipher, clen };
	/* RFC 6043: the V payload authenticates; KEMAC MAC alg is NULL */
	k->u.kemac.mac_alg = MIKEY_MAC_NULL;
	k->u.kemac.mac = (struct cc_slice){ NULL, 0 };
	return CC_OK;
}

/* Initiator Data = First Payload (9), Vi, Vr (RFC 6043 §6.10, A27). */
static size_t init_data_len(enum mikey_mac alg)
{
	return 1 + 2 * (2 + mikey_mac_len(alg));
}

static enum cc_err fill_init_data(uint8_t *id, const uint8_t *vmac,
				  const struct mikey_seal_opts *o)
{
	enum mikey_mac alg = keys_of(o->keys, o->keyed)->mac_alg;
	size_t ml = mikey_mac_len(alg);
	uint8_t vrkey[32];
	struct cc_slice part;
	enum cc_err err;

	id[0] = MIKEY_PT_V;
	id[1] = MIKEY_PT_V; /* Vi, followed by Vr */
	id[2] = (uint8_t)alg;
	memcpy(id + 3, vmac, ml);
	id[3 + ml] = MIKEY_PT_LAST; /* Vr */
	id[4 + ml] = (uint8_t)alg;
	err = mikey_derive_vr_key((enum mikey_prf)o->fork_prf, o->fork_mpkr,
				  o->fork_mpkr_len, alg, vrkey);
	if (!err) {
		part = (struct cc_slice){ id, 5 + ml };
		err = mikey_mac_compute(alg, vrkey, mikey_mac_key_len(alg),
					&part, 1, id + 5 + ml);
	}
	cc_wipe(vrkey, sizeof(vrkey));
	return err;
}

static enum cc_err prepare_fork(struct mikey_msg *msg,
				const struct mikey_seal_opts *o, uint8_t *zeros)
{
	struct mikey_pl *t = find_pl(&msg->ch, MIKEY_PT_TICKET);
	size_t n = init_data_len(keys_of(o->keys, o->keyed)->mac_alg);

	if (!t || msg->hdr.data_type != MIKEY_DT_TRANSFER_INIT)
		return CC_ERR_INVAL;
	memset(zeros, 0, n);
	t->u.ticket.init_data = (struct cc_slice){ zeros, n };
	return CC_OK;
}

/* Point the message's slices at the output instead of our scratch. */
static void repoint(struct mikey_msg *msg, const uint8_t *out)
{
	size_t i;

	for (i = 0; i < msg->ch.n; i++) {
		struct mikey_pl *pl = &msg->ch.pl[i];

		if (pl->type == MIKEY_PT_KEMAC)
			pl->u.kemac.encr.p = out + pl->off + 4;
		else if (pl->type == MIKEY_PT_V)
			pl->u.v.mac = (struct cc_slice){ out + pl->off + 2,
							 pl->len - 2 };
		else if (pl->type == MIKEY_PT_TICKET)
			pl->u.ticket.init_data.p = out + pl->off + pl->len -
						   pl->u.ticket.init_data.len;
	}
}

static enum cc_err seal_mac(struct mikey_msg *msg,
			    const struct mikey_seal_opts *o, struct cc_wr *wr,
			    size_t start)
{
	const struct mikey_pl *v = last_v(&msg->ch);
	const struct mikey_pl *t;
	struct cc_slice parts[6];
	uint8_t *buf = wr->p + start;
	size_t n;
	enum cc_err err;

	n = mac_parts(buf, msg, v, &o->extra, parts);
	err = mac_with(o->keys, o->keyed, parts, n, buf + v->off + 2);
	if (err || !o->fork_mpkr)
		return err;
	t = mikey_chain_find(&msg->ch, MIKEY_PT_TICKET, 0);
	return fill_init_data(buf + t->off + t->len - t->u.ticket.init_data.len,
			      buf + v->off + 2, o);
}

enum cc_err mikey_seal(struct mikey_msg *msg, const struct mikey_seal_opts *o,
		       struct cc_wr *wr)
{
	uint8_t plain[SCRATCH], cipher[SCRATCH + 32], zeros[80];
	struct mikey_pl *v = msg->ch.n ? &msg->ch.pl[msg->ch.n - 1] : NULL;
	const struct mikey_msg_keys *keys;
	size_t start = wr->pos;
	enum cc_err err = CC_OK;

	if (!v || v->type != MIKEY_PT_V || !o || (!o->keys && !o->keyed))
		return CC_ERR_INVAL;
	keys = keys_of(o->keys, o->keyed);
	if (!v->u.v.alg)
		v->u.v.alg = (uint8_t)keys->mac_alg;
	if (v->u.v.alg != keys->mac_alg || !keys->mac_alg)
		return CC_ERR_INVAL;
	v->u.v.mac = (struct cc_slice){ NULL, 0 };
	if (o->kemac)
		err = seal_kemac(msg, o, plain, cipher);
	if (!err && o->fork_mpkr)
		err = prepare_fork(msg, o, zeros);
	if (!err)
		err = mikey_encode(msg, wr);
	if (!err)
		err = seal_mac(msg, o, wr, start);
	if (!err)
		repoint(msg, wr->p + start);
	return err; /* plain was wiped in seal_kemac; cipher is not secret */
}

static enum cc_err verify_with(const uint8_t *buf, size_t len,
			       const struct mikey_msg *msg,
			       const struct mikey_msg_keys *keys,
			       struct mikey_keyed *kd,
			       const struct mikey_mac_extra *extra)
{
	const struct mikey_pl *v = last_v(&msg->ch);
	struct cc_slice parts[6];
	size_t n;

	if (!v)
		return CC_ERR_MISSING;
	if (!keys || v->u.v.alg != keys->mac_alg || v->u.v.alg == 0 ||
	    v->off + v->len > len)
		return CC_ERR_BAD_MAC;
	n = mac_parts(buf, msg, v, extra, parts);
	if (kd)
		return mikey_keyed_mac_verify(kd, parts, n, v->u.v.mac.p,
					      v->u.v.mac.len);
	return mikey_mac_verify(keys->mac_alg, keys->auth,
				mikey_mac_key_len(keys->mac_alg), parts, n,
				v->u.v.mac.p, v->u.v.mac.len);
}

enum cc_err mikey_verify(const uint8_t *buf, size_t len,
			 const struct mikey_msg *msg,
			 const struct mikey_msg_keys *keys,
			 const struct mikey_mac_extra *extra)
{
	return verify_with(buf, len, msg, keys, NULL, extra);
}

enum cc_err mikey_verify_keyed(const uint8_t *buf, size_t len,
			       const struct mikey_msg *msg,
			       struct mikey_keyed *kd,
			       const struct mikey_mac_extra *extra)
{
	if (!kd)
		return CC_ERR_BAD_MAC;
	return verify_with(buf, len, msg, mikey_keyed_keys(kd), kd, extra);
}

static enum cc_err ofail(struct mikey_diag *d, enum cc_err err,
			 const char *field, size_t off)
{
	return mikey_diag_fail(d, err, "KEMAC", field, off);
}

static enum cc_err open_with(const struct mikey_msg *msg,
			     const struct mikey_msg_keys *keys,
			     struct mikey_keyed *kd, uint8_t *plain, size_t cap,
			     struct mikey_keys *out, struct mikey_diag *diag)
{
	const struct mikey_pl *k =
		mikey_chain_find(&msg->ch, MIKEY_PT_KEMAC, 0);
	uint64_t t64;
	size_t plen = 0;
	enum cc_err err;

	if (!k)
		return ofail(diag, CC_ERR_MISSING, "payload", 0);
	if (k->u.kemac.mac_alg != MIKEY_MAC_NULL)
		return ofail(diag, CC_ERR_UNSUPPORTED,
			     "MAC alg (must be NULL in MIKEY-TICKET)", k->off);
	if (k->u.kemac.encr_alg != keys->encr_alg)
		return ofail(diag, CC_ERR_INVAL, "encr alg", k->off + 1);
	err = mikey_msg_t64(msg, &t64);
	if (err)
		return ofail(diag, err, "no T for the IV", 0);
	err = crypt_with(keys, kd, false, msg->hdr.csb_id, t64,
			 k->u.kemac.encr.p, k->u.kemac.encr.len, plain, cap,
			 &plen);
	if (err)
		return ofail(diag, err, "encr data", k->off + 4);
	err = mikey_keys_decode(plain, plen,
				keys->encr_alg == MIKEY_ENCR_AES_KW_128, out,
				diag);
	if (err)
		cc_wipe(plain, plen);
	return err;
}

enum cc_err mikey_kemac_open(const struct mikey_msg *msg,
			     const struct mikey_msg_keys *keys, uint8_t *plain,
			     size_t cap, struct mikey_keys *out,
			     struct mikey_diag *diag)
{
	if (!keys)
		return CC_ERR_INVAL;
	return open_with(msg, keys, NULL, plain, cap, out, diag);
}

enum cc_err mikey_kemac_open_keyed(const struct mikey_msg *msg,
				   struct mikey_keyed *kd, uint8_t *plain,
				   size_t cap, struct mikey_keys *out,
				   struct mikey_diag *diag)
{
	if (!kd)
		return CC_ERR_INVAL;
	return open_with(msg, mikey_keyed_keys(kd), kd, plain, cap, out, diag);
}
