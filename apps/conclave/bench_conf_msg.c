/*
 * bench_conf_msg.c -- `conclave bench conf`: the MIKEY message the focus
 * sends for every SEND_UPDATE (the RFC 6043 §5.2 Responder-started CSB
 * update), the members' prepared keys, and the member's check of a
 * sampled message.
 */
#include "bench_conf.h"

#include <string.h>

/* ---- the CSB update of RFC 6043 §5.2 ---- */

static uint64_t ntp_of(int64_t ms)
{
	return ((uint64_t)NTP_T0 << 32) + ((uint64_t)(ms / 1000) << 32) +
	       (((uint64_t)(ms % 1000) << 32) / 1000);
}

/* The member's TRANSFER_RESP keys: random, prepared once at its join. */
enum cc_err bench_conf_member_keys(struct sim *s, struct smember *m)
{
	struct mikey_msg_keys k;
	enum cc_err err;

	memset(&k, 0, sizeof(k));
	k.encr_alg = MIKEY_ENCR_AES_CM_128;
	k.mac_alg = MIKEY_MAC_HMAC_SHA1_160;
	bench_conf_fill_rand(&s->key_rng, k.encr, 16);
	bench_conf_fill_rand(&s->key_rng, k.auth, 20);
	bench_conf_fill_rand(&s->key_rng, k.salt, sizeof(k.salt));
	err = mikey_keyed_alloc(&m->kd, &k);
	mikey_msg_keys_wipe(&k);
	return err;
}

static struct cc_slice ident_of(const struct sim *s, const struct smember *m)
{
	return (struct cc_slice){ (const uint8_t *)s->ids[m->ident],
				  s->id_len[m->ident] };
}

/*
 * RFC 6043 §5.2 Responder-started CSB update (TRANSFER_INIT), as
 * examples.c update_init(): HDR (GENERIC-ID: CS 1 member -> focus, CS 2
 * focus -> member, SPI = MKI), T, IDRr, IDRi, KEMAC (TEK+SALT, KV = SPI),
 * V; KEMAC encrypted and V MACed with the member's prepared keys.
 */
enum cc_err bench_conf_build_update(struct sim *s, const struct smember *m,
				    const struct conf_epoch_keys *k)
{
	struct mikey_key *x = &s->ks.k[0];
	struct mikey_seal_opts so = { .keyed = m->kd, .kemac = &s->ks };
	struct cc_slice me = ident_of(s, m);
	struct cc_wr wr;
	enum cc_err err;

	s->spi[0] = (uint8_t)(k->mki >> 24);
	s->spi[1] = (uint8_t)(k->mki >> 16);
	s->spi[2] = (uint8_t)(k->mki >> 8);
	s->spi[3] = (uint8_t)k->mki;
	s->ks.n = 1;
	x->type = MIKEY_KEY_TEK_SALT;
	x->kv = MIKEY_KV_SPI;
	x->key = (struct cc_slice){ k->tek, k->tek_len };
	x->salt = (struct cc_slice){ k->salt, k->salt_len };
	x->spi = (struct cc_slice){ s->spi, 4 };
	mikey_msg_init(&s->msg, MIKEY_DT_TRANSFER_INIT, true, MIKEY_PRF_MIKEY1,
		       m->csb_id, MIKEY_MAP_GENERIC_ID);
	err = mikey_hdr_add_cs(&s->msg.hdr, 1, 0, true, m->ssrc, s->spi, 4);
	if (!err)
		err = mikey_hdr_add_cs(&s->msg.hdr, 2, 0, true, FOCUS_SSRC,
				       s->spi, 4);
	if (err)
		return err;
	mikey_add_t(&s->msg.ch, MIKEY_TS_NTP_UTC, ntp_of(s->now));
	mikey_add_idr(&s->msg.ch, MIKEY_IDR_R, MIKEY_ID_URI, s->focus);
	mikey_add_idr(&s->msg.ch, MIKEY_IDR_I, MIKEY_ID_URI, me);
	mikey_add_kemac(&s->msg.ch);
	mikey_add_v(&s->msg.ch);
	/* Table 5.2: an *_INIT's MAC also covers IDi and IDr */
	so.extra = (struct mikey_mac_extra){ { me, s->focus }, 2 };
	cc_wr_init(&wr, s->out, sizeof(s->out));
	err = mikey_seal(&s->msg, &so, &wr);
	s->out_len = wr.pos;
	if (!err)
		s->sink ^= s->out[s->out_len - 1];
	return err;
}

/* The member's side of the message just built: all of it must hold. */
enum cc_err bench_conf_check_update(struct sim *s, const struct smember *m,
				    const struct conf_epoch_keys *k)
{
	struct cc_slice me = ident_of(s, m);
	struct mikey_mac_extra x = { { me, s->focus }, 2 };
	const struct mikey_key *got = &s->rx_keys.k[0];
	enum cc_err err;

	err = mikey_decode(s->out, s->out_len, &s->rx, NULL);
	if (!err)
		err = mikey_check_layout(&s->rx, MIKEY_UPDATE_BY_R, NULL);
	if (!err)
		err = mikey_verify_keyed(s->out, s->out_len, &s->rx, m->kd, &x);
	if (!err)
		err = mikey_kemac_open_keyed(&s->rx, m->kd, s->plain,
					     sizeof(s->plain), &s->rx_keys,
					     NULL);
	if (!err && (s->rx_keys.n != 1 || got->type != MIKEY_KEY_TEK_SALT ||
		     got->key.len != k->tek_len ||
		     got->salt.len != k->salt_len || got->spi.len != 4 ||
		     !cc_ct_equal(got->key.p, k->tek, k->tek_len) ||
		     !cc_ct_equal(got->salt.p, k->salt, k->salt_len) ||
		     !cc_ct_equal(got->spi.p, s->spi, 4) ||
		     s->rx.hdr.csb_id != m->csb_id))
		err = CC_ERR_BAD_MAC;
	cc_wipe(s->plain, sizeof(s->plain));
	if (!err)
		s->verified++;
	return err;
}
