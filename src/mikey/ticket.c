/*
 * ticket.c -- the MIKEY base ticket (Ticket Type 1, RFC 6043 App. A) and
 * the Initiator Data of key forking (RFC 6043 §6.10).
 *
 *   Ticket Data = THDR, T, RAND, KEMAC, [IDRpsk], V
 *
 * KEMAC and V are keyed from the Ticket Protection Key (App. A.2.1); the
 * IV uses CSB ID 0xFFFFFFFF and the Ticket Data's T (App. A.1, A2). The V
 * MAC covers the TICKET payload from Ticket Type to the end of the Ticket
 * Data, minus the MAC (App. A.1, spec/worked-examples.md §3).
 */
#include <conclave/mikey.h>

#include <string.h>

enum {
	TD_SCRATCH = 2048
};

static enum cc_err tfail(struct mikey_diag *d, enum cc_err err,
			 const char *field)
{
	return mikey_diag_fail(d, err, "TICKET", field, 0);
}

/* Ticket Type .. TP Data, then the Ticket Data length (7 + 2 + TP + 2). */
static size_t ticket_head(const struct mikey_pl_ticket *t, size_t td_len,
			  uint8_t head[7], uint8_t tdl[2], uint8_t tpl[2])
{
	head[0] = (uint8_t)(t->ticket_type >> 8);
	head[1] = (uint8_t)t->ticket_type;
	head[2] = t->subtype;
	head[3] = t->version;
	head[4] = (uint8_t)(t->prf << 1 | (t->flags & MIKEY_TPF_D));
	head[5] = (uint8_t)(t->flags >> 8);
	head[6] = (uint8_t)(t->flags & 0xe0);
	tpl[0] = (uint8_t)(t->tp_data.len >> 8);
	tpl[1] = (uint8_t)t->tp_data.len;
	tdl[0] = (uint8_t)(td_len >> 8);
	tdl[1] = (uint8_t)td_len;
	return 7;
}

static size_t ticket_mac_parts(const struct mikey_pl_ticket *t,
			       const uint8_t *td, size_t td_len, size_t mac_off,
			       uint8_t head[7], uint8_t tdl[2], uint8_t tpl[2],
			       struct cc_slice parts[5])
{
	ticket_head(t, td_len, head, tdl, tpl);
	parts[0] = (struct cc_slice){ head, 7 };
	parts[1] = (struct cc_slice){ tpl, 2 };
	parts[2] = t->tp_data;
	parts[3] = (struct cc_slice){ tdl, 2 };
	parts[4] = (struct cc_slice){ td, mac_off };
	return 5;
}

static void build_chain(struct mikey_chain *ch,
			const struct mikey_ticket_seal_in *in,
			struct cc_slice cipher)
{
	struct mikey_pl *pl;

	ch->n = 0;
	ch->overflow = false;
	(void)mikey_chain_add(ch, MIKEY_PT_THDR);
	pl = mikey_chain_add(ch, MIKEY_PT_T);
	pl->u.t = in->t;
	pl = mikey_chain_add(ch, MIKEY_PT_RAND);
	pl->u.rand.data = in->rand;
	pl = mikey_chain_add(ch, MIKEY_PT_KEMAC);
	pl->u.kemac.encr_alg = (uint8_t)in->encr_alg;
	pl->u.kemac.encr = cipher;
	if (in->tpk_id.len) {
		pl = mikey_chain_add(ch, MIKEY_PT_IDR);
		pl->u.id.role = MIKEY_IDR_PSK;
		pl->u.id.type = MIKEY_ID_BYTES;
		pl->u.id.data = in->tpk_id;
	}
	pl = mikey_chain_add(ch, MIKEY_PT_V);
	pl->u.v.alg = (uint8_t)in->mac_alg;
}

static enum cc_err encrypt_keys(const struct mikey_ticket_seal_in *in,
				const struct mikey_msg_keys *k, uint8_t *cipher,
				size_t *clen)
{
	uint8_t plain[TD_SCRATCH];
	struct cc_wr wr;
	enum cc_err err;

	cc_wr_init(&wr, plain, sizeof(plain));
	err = mikey_keys_encode(in->keys, &wr);
	if (!err)
		err = mikey_kemac_encrypt(k, MIKEY_CSB_ID_TICKET,
					  mikey_ts_to64(&in->t), plain, wr.pos,
					  cipher, TD_SCRATCH + 32, clen);
	cc_wipe(plain, sizeof(plain));
	return err;
}

enum cc_err mikey_ticket_seal(struct mikey_pl_ticket *t,
			      const struct mikey_ticket_seal_in *in,
			      uint8_t *out, size_t cap)
{
	struct mikey_msg_keys k;
	struct mikey_chain ch;
	uint8_t cipher[TD_SCRATCH + 32], head[7], tdl[2], tpl[2];
	struct cc_slice parts[5];
	struct cc_wr wr;
	size_t clen = 0, n;
	const struct mikey_pl *v;
	enum cc_err err;

	if (!in->keys || !in->keys->n || !in->rand.len || !in->mac_alg)
		return CC_ERR_INVAL;
	err = mikey_derive_ticket_keys((enum mikey_prf)t->prf, in->tpk,
				       in->tpk_len, in->rand, in->encr_alg,
				       in->mac_alg, &k);
	if (!err)
		err = encrypt_keys(in, &k, cipher, &clen);
	if (err)
		goto out;
	build_chain(&ch, in, (struct cc_slice){ cipher, clen });
	cc_wr_init(&wr, out, cap);
	err = mikey_encode_chain(&ch, false, &wr);
	if (err)
		goto out;
	v = &ch.pl[ch.n - 1];
	n = ticket_mac_parts(t, out, wr.pos, v->off + 2, head, tdl, tpl, parts);
	err = mikey_mac_compute(in->mac_alg, k.auth,
				mikey_mac_key_len(in->mac_alg), parts, n,
				out + v->off + 2);
	if (!err)
		t->ticket_data = (struct cc_slice){ out, wr.pos };
out:
	mikey_msg_keys_wipe(&k);
	return err;
}

static enum cc_err check_type(const struct mikey_pl_ticket *t,
			      struct mikey_diag *diag)
{
	/* A16: we issue and accept the MIKEY base ticket only */
	if (t->ticket_type != MIKEY_TICKET_BASE)
		return tfail(diag, CC_ERR_TICKET_TYPE, "ticket type");
	if (t->subtype != MIKEY_TICKET_BASE_SUBTYPE)
		return tfail(diag, CC_ERR_TICKET_TYPE, "subtype");
	if (t->version != MIKEY_TICKET_BASE_VERSION)
		return tfail(diag, CC_ERR_TICKET_TYPE, "version");
	return CC_OK;
}

/* Ticket Data layout: THDR, T, RAND, KEMAC, [IDRpsk], V */
static enum cc_err check_td(const struct mikey_chain *ch,
			    struct mikey_diag *diag)
{
	static const uint16_t want[] = { MIKEY_PT_THDR, MIKEY_PT_T,
					 MIKEY_PT_RAND, MIKEY_PT_KEMAC };
	size_t i;

	if (ch->n < 5 || ch->n > 6)
		return tfail(diag, CC_ERR_MALFORMED, "ticket data payloads");
	for (i = 0; i < 4; i++)
		if (ch->pl[i].type != want[i])
			return tfail(diag, CC_ERR_ORDER,
				     "ticket data payload order");
	if (ch->n == 6 && (ch->pl[4].type != MIKEY_PT_IDR ||
			   ch->pl[4].u.id.role != MIKEY_IDR_PSK))
		return tfail(diag, CC_ERR_ORDER, "ticket data IDRpsk");
	if (ch->pl[ch->n - 1].type != MIKEY_PT_V)
		return tfail(diag, CC_ERR_MISSING, "ticket data V");
	return CC_OK;
}

static enum cc_err open_keys(const struct mikey_chain *ch,
			     const struct mikey_msg_keys *k, uint8_t *plain,
			     size_t cap, struct mikey_keys *keys,
			     struct mikey_diag *diag)
{
	const struct mikey_pl *km = &ch->pl[3];
	size_t plen = 0;
	enum cc_err err;

	if (km->u.kemac.mac_alg != MIKEY_MAC_NULL)
		return tfail(diag, CC_ERR_UNSUPPORTED, "ticket KEMAC MAC alg");
	err = mikey_kemac_decrypt(k, MIKEY_CSB_ID_TICKET,
				  mikey_ts_to64(&ch->pl[1].u.t),
				  km->u.kemac.encr.p, km->u.kemac.encr.len,
				  plain, cap, &plen);
	if (err)
		return tfail(diag, err, "ticket KEMAC");
	err = mikey_keys_decode(
		plain, plen, k->encr_alg == MIKEY_ENCR_AES_KW_128, keys, diag);
	if (!err && (!keys->n || keys->k[0].type != MIKEY_KEY_MPK))
		err = tfail(diag, CC_ERR_MALFORMED, "ticket KEMAC (no MPK)");
	if (err)
		cc_wipe(plain, plen);
	return err;
}

enum cc_err mikey_ticket_open(const struct mikey_pl_ticket *t,
			      mikey_tpk_lookup_h *lookup, void *arg,
			      uint8_t *plain, size_t cap,
			      struct mikey_keys *keys, struct mikey_ts *issued,
			      struct mikey_diag *diag)
{
	struct mikey_chain ch;
	struct mikey_msg_keys k;
	const struct mikey_pl *v, *idp;
	struct cc_slice parts[5], tpk_id = { NULL, 0 };
	uint8_t head[7], tdl[2], tpl[2];
	const uint8_t *tpk = NULL;
	size_t tpk_len = 0, n;
	enum cc_err err;

	memset(&k, 0, sizeof(k));
	err = check_type(t, diag);
	if (!err)
		err = mikey_decode_chain(t->ticket_data.p, t->ticket_data.len,
					 false, &ch, diag);
	if (!err)
		err = check_td(&ch, diag);
	if (err)
		return err;
	idp = ch.n == 6 ? &ch.pl[4] : NULL;
	if (idp)
		tpk_id = idp->u.id.data;
	err = lookup(tpk_id, arg, &tpk, &tpk_len);
	if (err)
		return tfail(diag, err, "ticket protection key id");
	v = &ch.pl[ch.n - 1];
	err = mikey_derive_ticket_keys(
		(enum mikey_prf)t->prf, tpk, tpk_len, ch.pl[2].u.rand.data,
		(enum mikey_encr)ch.pl[3].u.kemac.encr_alg,
		(enum mikey_mac)v->u.v.alg, &k);
	if (err)
		return tfail(diag, err, "ticket key derivation");
	n = ticket_mac_parts(t, t->ticket_data.p, t->ticket_data.len,
			     v->off + 2, head, tdl, tpl, parts);
	err = mikey_mac_verify(k.mac_alg, k.auth, mikey_mac_key_len(k.mac_alg),
			       parts, n, v->u.v.mac.p, v->u.v.mac.len);
	if (err) {
		err = tfail(diag, err, "ticket MAC");
		goto out;
	}
	err = open_keys(&ch, &k, plain, cap, keys, diag);
	if (!err && issued)
		*issued = ch.pl[1].u.t;
out:
	mikey_msg_keys_wipe(&k);
	return err;
}

/* Initiator Data = First Payload, Vi, Vr (RFC 6043 §6.10, A27). */
static enum cc_err init_data_chain(struct cc_slice id, struct mikey_chain *ch)
{
	enum cc_err err;

	err = mikey_decode_chain(id.p, id.len, true, ch, NULL);
	if (err)
		return err;
	if (ch->n != 2 || ch->pl[0].type != MIKEY_PT_V ||
	    ch->pl[1].type != MIKEY_PT_V ||
	    ch->pl[0].u.v.alg != ch->pl[1].u.v.alg || !ch->pl[0].u.v.alg)
		return CC_ERR_MALFORMED;
	return CC_OK;
}

enum cc_err mikey_initiator_data_vi(struct cc_slice init_data, uint8_t *alg,
				    struct cc_slice *mac)
{
	struct mikey_chain ch;
	enum cc_err err = init_data_chain(init_data, &ch);

	if (err)
		return err;
	*alg = ch.pl[0].u.v.alg;
	*mac = ch.pl[0].u.v.mac;
	return CC_OK;
}

enum cc_err mikey_initiator_data_verify(struct cc_slice init_data,
					enum mikey_prf prf, const uint8_t *mpkr,
					size_t mpkr_len)
{
	struct mikey_chain ch;
	enum mikey_mac alg;
	uint8_t key[32];
	struct cc_slice part;
	enum cc_err err = init_data_chain(init_data, &ch);

	if (err)
		return err;
	alg = (enum mikey_mac)ch.pl[1].u.v.alg;
	err = mikey_derive_vr_key(prf, mpkr, mpkr_len, alg, key);
	if (!err) {
		/* Vr covers First Payload || Vi || Vr without its MAC */
		part = (struct cc_slice){ init_data.p, ch.pl[1].off + 2 };
		err = mikey_mac_verify(alg, key, mikey_mac_key_len(alg), &part,
				       1, ch.pl[1].u.v.mac.p,
				       ch.pl[1].u.v.mac.len);
	}
	cc_wipe(key, sizeof(key));
	return err;
}
