/*
 * fuzz_ticket.c -- the base ticket (RFC 6043 App. A) and Initiator Data
 * (§6.10) parsers. Input: byte 0 selects the policy PRF and whether the
 * harness re-MACs the Ticket Data; the rest is the Ticket Data of a TICKET
 * payload with a fixed granted policy, opened with a fixed TPK. Re-MACing
 * (with the same construction as App. A.1) lets the fuzzer reach the
 * KEMAC decryption and key-data parsing behind the ticket MAC. The same
 * bytes are also handed to mikey_initiator_data_vi / _verify.
 */
#include <conclave/mikey.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t tpk[16] = {
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
	0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f
};
/* TP Data of a granted policy: First Payload IDR, IDRr "sip:bob" */
static const uint8_t tp[] = { 0x0e, 0x00, 0x02, 0x01, 0x00, 0x07, 's',
			      'i',  'p',  ':',  'b',  'o',  'b' };
static uint8_t td[MIKEY_MAX_MSG], plain[MIKEY_MAX_MSG + 64];

static enum cc_err lookup(struct cc_slice id, void *arg, const uint8_t **k,
			  size_t *klen)
{
	(void)arg;
	if (id.len > 64)
		return CC_ERR_NOT_FOUND;
	*k = tpk;
	*klen = sizeof(tpk);
	return CC_OK;
}

/* Recompute the ticket MAC over head || TP || Ticket Data (App. A.1). */
static void remac(const struct mikey_pl_ticket *t, size_t len)
{
	struct mikey_chain ch;
	struct mikey_msg_keys k;
	const struct mikey_pl *v;
	uint8_t head[11 + sizeof(tp)], tdl[2];
	struct cc_slice parts[3];

	if (mikey_decode_chain(td, len, false, &ch, NULL) != CC_OK ||
	    ch.n < 5 || ch.pl[2].type != MIKEY_PT_RAND ||
	    ch.pl[3].type != MIKEY_PT_KEMAC ||
	    ch.pl[ch.n - 1].type != MIKEY_PT_V)
		return;
	v = &ch.pl[ch.n - 1];
	if (mikey_derive_ticket_keys((enum mikey_prf)t->prf, tpk, sizeof(tpk),
				     ch.pl[2].u.rand.data,
				     (enum mikey_encr)ch.pl[3].u.kemac.encr_alg,
				     (enum mikey_mac)v->u.v.alg, &k) != CC_OK)
		return;
	head[0] = (uint8_t)(t->ticket_type >> 8);
	head[1] = (uint8_t)t->ticket_type;
	head[2] = t->subtype;
	head[3] = t->version;
	head[4] = (uint8_t)(t->prf << 1 | (t->flags & MIKEY_TPF_D));
	head[5] = (uint8_t)(t->flags >> 8);
	head[6] = (uint8_t)(t->flags & 0xe0);
	head[7] = 0;
	head[8] = sizeof(tp);
	memcpy(head + 9, tp, sizeof(tp));
	tdl[0] = (uint8_t)(len >> 8);
	tdl[1] = (uint8_t)len;
	parts[0] = (struct cc_slice){ head, 9 + sizeof(tp) };
	parts[1] = (struct cc_slice){ tdl, 2 };
	parts[2] = (struct cc_slice){ td, v->off + 2 };
	if (mikey_mac_compute(k.mac_alg, k.auth, mikey_mac_key_len(k.mac_alg),
			      parts, 3, td + v->off + 2) != CC_OK)
		abort();
	mikey_msg_keys_wipe(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mikey_pl_ticket t;
	struct mikey_keys keys;
	struct mikey_ts issued;
	struct mikey_diag d;
	struct cc_slice mac;
	uint8_t alg = 0;
	enum cc_err err;

	if (size < 1 || size - 1 > sizeof(td))
		return 0;
	memset(&t, 0, sizeof(t));
	t.ticket_type = MIKEY_TICKET_BASE;
	t.subtype = MIKEY_TICKET_BASE_SUBTYPE;
	t.version = MIKEY_TICKET_BASE_VERSION;
	t.prf = data[0] & 1;
	t.flags = MIKEY_TPF_D | MIKEY_TPF_E | MIKEY_TPF_F | MIKEY_TPF_H |
		  MIKEY_TPF_N | MIKEY_TPF_O;
	t.tp_data = (struct cc_slice){ tp, sizeof(tp) };
	memcpy(td, data + 1, size - 1);
	if (data[0] & 2)
		remac(&t, size - 1);
	t.ticket_data = (struct cc_slice){ td, size - 1 };
	memset(&d, 0, sizeof(d));
	err = mikey_ticket_open(&t, lookup, NULL, plain, sizeof(plain), &keys,
				&issued, &d);
	if (err && (!d.payload || !d.field))
		abort();
	if (!err && (!keys.n || keys.n > MIKEY_MAX_KEYS ||
		     keys.k[0].type != MIKEY_KEY_MPK))
		abort();

	if (mikey_initiator_data_vi((struct cc_slice){ data + 1, size - 1 },
				    &alg, &mac) == CC_OK &&
	    mac.len != mikey_mac_len((enum mikey_mac)alg))
		abort();
	err = mikey_initiator_data_verify(
		(struct cc_slice){ data + 1, size - 1 },
		(enum mikey_prf)(data[0] & 1), tpk, sizeof(tpk));
	(void)cc_strerror(err);
	return 0;
}
