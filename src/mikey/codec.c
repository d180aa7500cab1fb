/*
 * codec.c -- MIKEY payload decoding and encoding (RFC 3830 §6,
 * RFC 6043 §6). Every untrusted byte is read through struct cc_rd; nested
 * length-prefixed blocks through sub-readers that must be consumed exactly.
 * The decoder allocates nothing: slices point into the caller's buffer.
 */
#include <conclave/mikey.h>

#include <string.h>

enum cc_err mikey_diag_fail(struct mikey_diag *d, enum cc_err err,
			    const char *payload, const char *field, size_t off)
{
	if (d) {
		d->payload = payload;
		d->field = field;
		d->offset = off;
	}
	return err;
}

/* Record where and why decoding stopped. Returns err for tail calls. */
#define fail mikey_diag_fail

/* Reader position relative to the start of the outermost buffer. */
struct dctx {
	struct mikey_diag *diag;
	size_t base; /* offset of rd->p[0] in the outermost buffer */
};

#define RD(call, name, field)                                  \
	do {                                                   \
		enum cc_err e_ = (call);                       \
		if (e_)                                        \
			return fail(dc->diag, e_, name, field, \
				    dc->base + rd->pos);       \
	} while (0)

#define BAD(err, name, field, off) fail(dc->diag, err, name, field, off)

/* ---- HDR ------------------------------------------------------------ */

static bool data_type_known(uint8_t t)
{
	return t <= MIKEY_DT_RESOLVE_RESP && t != 7 && t != 8 && t != 9 &&
	       t != 10;
}

static enum cc_err dec_cs_srtp(struct cc_rd *rd, struct dctx *dc,
			       struct mikey_cs *cs, uint8_t ordinal)
{
	memset(cs, 0, sizeof(*cs));
	cs->cs_id = ordinal; /* RFC 3830 §6.1.1 NOTE: CS ID = ordinal */
	cs->npol = 1;
	RD(cc_rd_u8(rd, &cs->policies[0]), "HDR", "SRTP-ID policy no");
	RD(cc_rd_u32(rd, &cs->ssrc), "HDR", "SRTP-ID SSRC");
	RD(cc_rd_u32(rd, &cs->roc), "HDR", "SRTP-ID ROC");
	cs->has_ssrc = true;
	return CC_OK;
}

static enum cc_err dec_sdata(struct cc_rd *rd, struct dctx *dc,
			     struct mikey_cs *cs)
{
	uint16_t n;
	size_t at;
	struct cc_rd sub;

	RD(cc_rd_u16(rd, &n), "HDR", "GENERIC-ID session data length");
	at = dc->base + rd->pos;
	RD(cc_rd_sub(rd, n, &sub), "HDR", "GENERIC-ID session data");
	if (cs->prot != MIKEY_PROT_SRTP) {
		cs->sdata.p = sub.p;
		cs->sdata.len = n;
		return CC_OK;
	}
	/* RFC 6043 §6.1.1: SSRC [, ROC, SEQ if S]; may be empty initially */
	if (n == 0)
		return CC_OK;
	if (n != (cs->s ? 10 : 4))
		return BAD(CC_ERR_MALFORMED, "HDR",
			   "GENERIC-ID session data length", at);
	if (cc_rd_u32(&sub, &cs->ssrc) ||
	    (cs->s && (cc_rd_u32(&sub, &cs->roc) || cc_rd_u16(&sub, &cs->seq))))
		return BAD(CC_ERR_TRUNCATED, "HDR", "GENERIC-ID session data",
			   at);
	cs->has_ssrc = true;
	return CC_OK;
}

static enum cc_err dec_cs_generic(struct cc_rd *rd, struct dctx *dc,
				  struct mikey_cs *cs)
{
	uint8_t b;
	enum cc_err err;

	memset(cs, 0, sizeof(*cs));
	RD(cc_rd_u8(rd, &cs->cs_id), "HDR", "GENERIC-ID CS ID");
	RD(cc_rd_u8(rd, &cs->prot), "HDR", "GENERIC-ID prot type");
	if (cs->prot > MIKEY_PROT_TESLA)
		return BAD(CC_ERR_UNSUPPORTED, "HDR", "GENERIC-ID prot type",
			   dc->base + rd->pos - 1);
	RD(cc_rd_u8(rd, &b), "HDR", "GENERIC-ID S/#P");
	cs->s = b >> 7;
	cs->npol = b & 0x7f;
	if (cs->npol > MIKEY_MAX_POLNO)
		return BAD(CC_ERR_UNSUPPORTED, "HDR", "GENERIC-ID #P",
			   dc->base + rd->pos - 1);
	RD(cc_rd_copy(rd, cs->policies, cs->npol), "HDR",
	   "GENERIC-ID policy no");
	err = dec_sdata(rd, dc, cs);
	if (err)
		return err;
	RD(cc_rd_u8(rd, &cs->spi_len), "HDR", "GENERIC-ID SPI length");
	if (cs->spi_len > MIKEY_MAX_SPI)
		return BAD(CC_ERR_UNSUPPORTED, "HDR", "GENERIC-ID SPI length",
			   dc->base + rd->pos - 1);
	RD(cc_rd_copy(rd, cs->spi, cs->spi_len), "HDR", "GENERIC-ID SPI");
	return CC_OK;
}

static enum cc_err dec_hdr(struct cc_rd *rd, struct dctx *dc,
			   struct mikey_hdr *h, uint8_t *first)
{
	uint8_t b;
	size_t i;
	enum cc_err err;

	RD(cc_rd_u8(rd, &h->version), "HDR", "version");
	if (h->version != MIKEY_VERSION)
		return BAD(CC_ERR_UNSUPPORTED, "HDR", "version", 0);
	RD(cc_rd_u8(rd, &h->data_type), "HDR", "data type");
	if (!data_type_known(h->data_type))
		return BAD(CC_ERR_UNSUPPORTED, "HDR", "data type", 1);
	RD(cc_rd_u8(rd, first), "HDR", "next payload");
	RD(cc_rd_u8(rd, &b), "HDR", "V/PRF func");
	h->v = b >> 7;
	h->prf = b & 0x7f;
	if (h->prf > MIKEY_PRF_HMAC_SHA256)
		return BAD(CC_ERR_UNSUPPORTED, "HDR", "PRF func", 3);
	RD(cc_rd_u32(rd, &h->csb_id), "HDR", "CSB ID");
	RD(cc_rd_u8(rd, &h->ncs), "HDR", "#CS");
	RD(cc_rd_u8(rd, &h->map_type), "HDR", "CS ID map type");
	if (h->ncs > MIKEY_MAX_CS)
		return BAD(CC_ERR_UNSUPPORTED, "HDR", "#CS", 8);
	switch (h->map_type) {
	case MIKEY_MAP_SRTP_ID:
		for (i = 0; i < h->ncs; i++) {
			err = dec_cs_srtp(rd, dc, &h->cs[i], (uint8_t)(i + 1));
			if (err)
				return err;
		}
		return CC_OK;
	case MIKEY_MAP_EMPTY:
		/* RFC 4563 §5: no map info, so no crypto session to count */
		if (h->ncs)
			return BAD(CC_ERR_MALFORMED, "HDR",
				   "#CS (must be 0 with the Empty map)", 8);
		return CC_OK;
	case MIKEY_MAP_GENERIC_ID:
		for (i = 0; i < h->ncs; i++) {
			err = dec_cs_generic(rd, dc, &h->cs[i]);
			if (err)
				return err;
		}
		return CC_OK;
	default:
		return BAD(CC_ERR_UNSUPPORTED, "HDR", "CS ID map type", 9);
	}
}

/* ---- payload bodies ------------------------------------------------- */

static enum cc_err dec_ts_value(struct cc_rd *rd, struct dctx *dc,
				const char *name, struct mikey_ts *ts)
{
	uint32_t v32;

	RD(cc_rd_u8(rd, &ts->type), name, "TS type");
	switch (ts->type) {
	case MIKEY_TS_NTP_UTC:
	case MIKEY_TS_NTP:
		RD(cc_rd_u64(rd, &ts->value), name, "TS value");
		return CC_OK;
	case MIKEY_TS_COUNTER:
	case MIKEY_TS_NTP_UTC_32:
		RD(cc_rd_u32(rd, &v32), name, "TS value");
		ts->value = v32;
		return CC_OK;
	default:
		return BAD(CC_ERR_UNSUPPORTED, name, "TS type",
			   dc->base + rd->pos - 1);
	}
}

static enum cc_err dec_mac_field(struct cc_rd *rd, struct dctx *dc,
				 const char *name, uint8_t *alg,
				 struct cc_slice *mac)
{
	RD(cc_rd_u8(rd, alg), name, "MAC alg");
	if (*alg > MIKEY_MAC_HMAC_SHA256_256)
		return BAD(CC_ERR_UNSUPPORTED, name, "MAC alg",
			   dc->base + rd->pos - 1);
	RD(cc_rd_slice(rd, mikey_mac_len(*alg), mac), name, "MAC");
	return CC_OK;
}

static enum cc_err dec_kemac(struct cc_rd *rd, struct dctx *dc,
			     struct mikey_pl_kemac *k)
{
	uint16_t n;

	RD(cc_rd_u8(rd, &k->encr_alg), "KEMAC", "encr alg");
	if (k->encr_alg > MIKEY_ENCR_AES_CM_256)
		return BAD(CC_ERR_UNSUPPORTED, "KEMAC", "encr alg",
			   dc->base + rd->pos - 1);
	RD(cc_rd_u16(rd, &n), "KEMAC", "encr data len");
	RD(cc_rd_slice(rd, n, &k->encr), "KEMAC", "encr data");
	return dec_mac_field(rd, dc, "KEMAC", &k->mac_alg, &k->mac);
}

static enum cc_err dec_id(struct cc_rd *rd, struct dctx *dc, bool role,
			  struct mikey_pl *pl)
{
	const char *name = role ? "IDR" : "ID";
	uint16_t n;

	pl->u.id.role = 0;
	if (role) {
		RD(cc_rd_u8(rd, &pl->u.id.role), name, "ID role");
		if (pl->u.id.role == 0 || pl->u.id.role == 255)
			return BAD(CC_ERR_MALFORMED, name, "ID role",
				   dc->base + rd->pos - 1);
	}
	RD(cc_rd_u8(rd, &pl->u.id.type), name, "ID type");
	if (pl->u.id.type > MIKEY_ID_BYTES)
		return BAD(CC_ERR_UNSUPPORTED, name, "ID type",
			   dc->base + rd->pos - 1);
	RD(cc_rd_u16(rd, &n), name, "ID len");
	if (n == 0)
		return BAD(CC_ERR_MALFORMED, name, "ID len",
			   dc->base + rd->pos - 2);
	RD(cc_rd_slice(rd, n, &pl->u.id.data), name, "ID data");
	return CC_OK;
}

static enum cc_err dec_rand(struct cc_rd *rd, struct dctx *dc, bool role,
			    struct mikey_pl *pl)
{
	const char *name = role ? "RANDR" : "RAND";
	uint8_t n;

	pl->u.rand.role = 0;
	if (role) {
		RD(cc_rd_u8(rd, &pl->u.rand.role), name, "RAND role");
		if (pl->u.rand.role == 0 || pl->u.rand.role == 255)
			return BAD(CC_ERR_MALFORMED, name, "RAND role",
				   dc->base + rd->pos - 1);
	}
	RD(cc_rd_u8(rd, &n), name, "RAND len");
	/* An empty RAND would feed no freshness into the derivations. */
	if (n == 0)
		return BAD(CC_ERR_MALFORMED, name, "RAND len",
			   dc->base + rd->pos - 1);
	RD(cc_rd_slice(rd, n, &pl->u.rand.data), name, "RAND");
	return CC_OK;
}

static enum cc_err dec_sp(struct cc_rd *rd, struct dctx *dc,
			  struct mikey_pl *pl)
{
	uint16_t n;
	size_t at;
	struct mikey_srtp_policy pol;
	struct mikey_diag sub;
	enum cc_err err;

	RD(cc_rd_u8(rd, &pl->u.sp.policy_no), "SP", "policy no");
	RD(cc_rd_u8(rd, &pl->u.sp.prot), "SP", "prot type");
	if (pl->u.sp.prot != MIKEY_PROT_SRTP)
		return BAD(CC_ERR_UNSUPPORTED, "SP", "prot type",
			   dc->base + rd->pos - 1);
	RD(cc_rd_u16(rd, &n), "SP", "policy param length");
	at = dc->base + rd->pos;
	RD(cc_rd_slice(rd, n, &pl->u.sp.params), "SP", "policy params");
	err = mikey_srtp_policy_decode(pl->u.sp.params, &pol, &sub);
	if (err)
		return BAD(err, "SP", sub.field, at + sub.offset);
	return CC_OK;
}

static enum cc_err dec_err(struct cc_rd *rd, struct dctx *dc,
			   struct mikey_pl *pl)
{
	RD(cc_rd_u8(rd, &pl->u.err.errno_), "ERR", "error no");
	RD(cc_rd_u16(rd, &pl->u.err.reserved), "ERR", "reserved");
	return CC_OK;
}

enum cc_err mikey_key_ids_decode(struct cc_slice data, struct mikey_key_id *out,
				 size_t max, size_t *n)
{
	struct cc_rd rd;
	struct mikey_key_id tmp;
	uint8_t len;

	*n = 0;
	cc_rd_init(&rd, data.p, data.len);
	while (cc_rd_left(&rd)) {
		struct mikey_key_id *k = *n < max && out ? &out[*n] : &tmp;

		if (cc_rd_u8(&rd, &k->type) || cc_rd_u8(&rd, &len) ||
		    cc_rd_slice(&rd, len, &k->id))
			return CC_ERR_TRUNCATED;
		if (!len)
			return CC_ERR_MALFORMED;
		(*n)++;
	}
	return CC_OK;
}

static enum cc_err dec_ext(struct cc_rd *rd, struct dctx *dc,
			   struct mikey_pl *pl)
{
	uint16_t n;
	size_t at, count;
	enum cc_err err;

	RD(cc_rd_u8(rd, &pl->u.ext.type), "General Ext", "type");
	RD(cc_rd_u16(rd, &n), "General Ext", "length");
	at = dc->base + rd->pos;
	RD(cc_rd_slice(rd, n, &pl->u.ext.data), "General Ext", "data");
	/* RFC 4563 §4: Key ID entries must tile the data exactly */
	if (pl->u.ext.type == MIKEY_GENEXT_KEY_ID) {
		err = mikey_key_ids_decode(pl->u.ext.data, NULL, 0, &count);
		if (err || !count)
			return BAD(err ? err : CC_ERR_MALFORMED, "General Ext",
				   "Key ID entry", at);
	}
	return CC_OK;
}

static enum cc_err dec_tr(struct cc_rd *rd, struct dctx *dc,
			  struct mikey_pl *pl)
{
	RD(cc_rd_u8(rd, &pl->u.tr.role), "TR", "TS role");
	if (pl->u.tr.role == 0 || pl->u.tr.role == 255)
		return BAD(CC_ERR_MALFORMED, "TR", "TS role",
			   dc->base + rd->pos - 1);
	return dec_ts_value(rd, dc, "TR", &pl->u.tr.ts);
}

static enum cc_err dec_v(struct cc_rd *rd, struct dctx *dc, struct mikey_pl *pl)
{
	return dec_mac_field(rd, dc, "V", &pl->u.v.alg, &pl->u.v.mac);
}

static enum cc_err dec_thdr(struct cc_rd *rd, struct dctx *dc,
			    struct mikey_pl *pl)
{
	uint16_t n;

	RD(cc_rd_u16(rd, &n), "THDR", "THDR data length");
	RD(cc_rd_slice(rd, n, &pl->u.thdr.data), "THDR", "THDR data");
	return CC_OK;
}

/* A nested chain must decode cleanly; used for TP Data / Initiator Data. */
static enum cc_err check_nested(const struct cc_slice *s, struct dctx *dc,
				const char *name, const char *field, size_t at)
{
	struct mikey_chain ch;
	struct mikey_diag sub = { 0 };
	enum cc_err err;

	if (!s->len)
		return CC_OK;
	err = mikey_decode_chain(s->p, s->len, true, &ch, &sub);
	if (err)
		return fail(dc->diag, err, sub.payload ? sub.payload : name,
			    sub.field ? sub.field : field, at + sub.offset);
	return CC_OK;
}

static enum cc_err dec_ticket(struct cc_rd *rd, struct dctx *dc, bool ticket,
			      struct mikey_pl *pl)
{
	const char *name = ticket ? "TICKET" : "TP";
	struct mikey_pl_ticket *t = &pl->u.ticket;
	uint8_t b5, b6, b7;
	uint16_t n;
	size_t at;
	enum cc_err err;

	RD(cc_rd_u16(rd, &t->ticket_type), name, "ticket type");
	RD(cc_rd_u8(rd, &t->subtype), name, "subtype");
	RD(cc_rd_u8(rd, &t->version), name, "version");
	RD(cc_rd_u8(rd, &b5), name, "PRF func/D");
	RD(cc_rd_u8(rd, &b6), name, "flags E-L");
	RD(cc_rd_u8(rd, &b7), name, "flags M-O");
	t->prf = b5 >> 1;
	if (t->prf > MIKEY_PRF_HMAC_SHA256)
		return BAD(CC_ERR_UNSUPPORTED, name, "PRF func",
			   dc->base + rd->pos - 3);
	/* RFC 6043 §6.10: Res bits are sent as 0; we reject others. */
	if (b7 & 0x1f)
		return BAD(CC_ERR_MALFORMED, name, "reserved flags",
			   dc->base + rd->pos - 1);
	t->flags = (uint16_t)(b6 << 8 | b7 | (b5 & 1));
	RD(cc_rd_u16(rd, &n), name, "TP data length");
	at = dc->base + rd->pos;
	RD(cc_rd_slice(rd, n, &t->tp_data), name, "TP data");
	err = check_nested(&t->tp_data, dc, name, "TP data", at);
	if (err)
		return err;
	memset(&t->ticket_data, 0, sizeof(t->ticket_data));
	memset(&t->init_data, 0, sizeof(t->init_data));
	if (!ticket)
		return CC_OK;
	RD(cc_rd_u16(rd, &n), name, "ticket data length");
	RD(cc_rd_slice(rd, n, &t->ticket_data), name, "ticket data");
	/* A8: the Initiator Data length is always present. */
	RD(cc_rd_u16(rd, &n), name, "initiator data length");
	at = dc->base + rd->pos;
	RD(cc_rd_slice(rd, n, &t->init_data), name, "initiator data");
	return check_nested(&t->init_data, dc, name, "initiator data", at);
}

enum cc_err mikey_ticket_decode(const uint8_t *body, size_t len, bool ticket,
				struct mikey_pl_ticket *t,
				struct mikey_diag *diag)
{
	struct cc_rd rd;
	struct dctx dc = { diag, 0 };
	struct mikey_pl pl;
	enum cc_err err;

	memset(&pl, 0, sizeof(pl));
	pl.type = ticket ? MIKEY_PT_TICKET : MIKEY_PT_TP;
	cc_rd_init(&rd, body, len);
	err = dec_ticket(&rd, &dc, ticket, &pl);
	if (!err && cc_rd_done(&rd))
		err = fail(diag, CC_ERR_TRAILING,
			   pl.type == MIKEY_PT_TICKET ? "TICKET" : "TP",
			   "bytes after the payload", rd.pos);
	if (!err)
		*t = pl.u.ticket;
	return err;
}

static enum cc_err dec_body(struct cc_rd *rd, struct dctx *dc,
			    struct mikey_pl *pl)
{
	switch (pl->type) {
	case MIKEY_PT_KEMAC:
		return dec_kemac(rd, dc, &pl->u.kemac);
	case MIKEY_PT_T:
		return dec_ts_value(rd, dc, "T", &pl->u.t);
	case MIKEY_PT_ID:
		return dec_id(rd, dc, false, pl);
	case MIKEY_PT_IDR:
		return dec_id(rd, dc, true, pl);
	case MIKEY_PT_V:
		return dec_v(rd, dc, pl);
	case MIKEY_PT_SP:
		return dec_sp(rd, dc, pl);
	case MIKEY_PT_RAND:
		return dec_rand(rd, dc, false, pl);
	case MIKEY_PT_RANDR:
		return dec_rand(rd, dc, true, pl);
	case MIKEY_PT_ERR:
		return dec_err(rd, dc, pl);
	case MIKEY_PT_TR:
		return dec_tr(rd, dc, pl);
	case MIKEY_PT_TP:
		return dec_ticket(rd, dc, false, pl);
	case MIKEY_PT_TICKET:
		return dec_ticket(rd, dc, true, pl);
	case MIKEY_PT_GENEXT:
		return dec_ext(rd, dc, pl);
	case MIKEY_PT_THDR:
		return dec_thdr(rd, dc, pl);
	default:
		/* A10: an unknown type has no length we could skip by. */
		return BAD(CC_ERR_UNSUPPORTED, "chain", "next payload",
			   dc->base + pl->off);
	}
}

static bool pt_known(uint8_t t)
{
	return (t >= MIKEY_PT_KEMAC && t <= MIKEY_PT_TICKET &&
		t != MIKEY_PT_PKE && t != MIKEY_PT_DH && t != MIKEY_PT_SIGN &&
		t != MIKEY_PT_CERT && t != MIKEY_PT_CHASH) ||
	       t == MIKEY_PT_GENEXT;
}

/* Decode payloads starting with type `next` until next payload = 0. */
static enum cc_err dec_chain(struct cc_rd *rd, struct dctx *dc, uint16_t next,
			     struct mikey_chain *ch)
{
	ch->n = 0;
	ch->overflow = false;
	while (next != MIKEY_PT_LAST) {
		struct mikey_pl *pl;
		uint8_t nb;
		enum cc_err err;

		if (next != MIKEY_PT_THDR && !pt_known((uint8_t)next))
			return BAD(CC_ERR_UNSUPPORTED, "chain", "next payload",
				   dc->base + rd->pos);
		if (ch->n == MIKEY_MAX_PL)
			return BAD(CC_ERR_UNSUPPORTED, "chain", "payload count",
				   dc->base + rd->pos);
		pl = &ch->pl[ch->n];
		memset(pl, 0, sizeof(*pl));
		pl->type = next;
		pl->off = dc->base + rd->pos;
		RD(cc_rd_u8(rd, &nb), mikey_pt_name(next), "next payload");
		err = dec_body(rd, dc, pl);
		if (err)
			return err;
		pl->len = dc->base + rd->pos - pl->off;
		ch->n++;
		next = nb;
	}
	return CC_OK;
}

enum cc_err mikey_decode(const uint8_t *buf, size_t len, struct mikey_msg *msg,
			 struct mikey_diag *diag)
{
	struct cc_rd rd;
	struct dctx dc = { diag, 0 };
	uint8_t first;
	enum cc_err err;

	if (!buf || !msg)
		return fail(diag, CC_ERR_INVAL, "message", "buffer", 0);
	if (len > MIKEY_MAX_MSG)
		return fail(diag, CC_ERR_UNSUPPORTED, "message", "length", 0);
	cc_rd_init(&rd, buf, len);
	err = dec_hdr(&rd, &dc, &msg->hdr, &first);
	if (err)
		return err;
	err = dec_chain(&rd, &dc, first, &msg->ch);
	if (err)
		return err;
	if (cc_rd_done(&rd))
		return fail(diag, CC_ERR_TRAILING, "message",
			    "bytes after last payload", rd.pos);
	return CC_OK;
}

enum cc_err mikey_decode_chain(const uint8_t *buf, size_t len, bool first_byte,
			       struct mikey_chain *ch, struct mikey_diag *diag)
{
	struct cc_rd rd;
	struct dctx dc = { diag, 0 };
	uint16_t first = MIKEY_PT_THDR;
	uint8_t b;
	enum cc_err err;

	cc_rd_init(&rd, buf, len);
	if (first_byte) {
		if (cc_rd_u8(&rd, &b))
			return fail(diag, CC_ERR_TRUNCATED, "chain",
				    "first payload", 0);
		if (b == MIKEY_PT_LAST)
			return fail(diag, CC_ERR_MALFORMED, "chain",
				    "first payload", 0);
		first = b;
	}
	err = dec_chain(&rd, &dc, first, ch);
	if (err)
		return err;
	if (cc_rd_done(&rd))
		return fail(diag, CC_ERR_TRAILING, "chain",
			    "bytes after last payload", rd.pos);
	return CC_OK;
}

/* ---- encoding ------------------------------------------------------- */

static void enc_cs(const struct mikey_hdr *h, const struct mikey_cs *cs,
		   struct cc_wr *wr)
{
	if (h->map_type == MIKEY_MAP_SRTP_ID) {
		cc_wr_u8(wr, cs->policies[0]);
		cc_wr_u32(wr, cs->ssrc);
		cc_wr_u32(wr, cs->roc);
		return;
	}
	cc_wr_u8(wr, cs->cs_id);
	cc_wr_u8(wr, cs->prot);
	cc_wr_u8(wr, (uint8_t)((cs->s ? 0x80 : 0) | (cs->npol & 0x7f)));
	cc_wr_bytes(wr, cs->policies, cs->npol);
	if (cs->prot == MIKEY_PROT_SRTP && cs->has_ssrc) {
		cc_wr_u16(wr, cs->s ? 10 : 4);
		cc_wr_u32(wr, cs->ssrc);
		if (cs->s) {
			cc_wr_u32(wr, cs->roc);
			cc_wr_u16(wr, cs->seq);
		}
	} else {
		cc_wr_u16(wr, (uint16_t)cs->sdata.len);
		cc_wr_bytes(wr, cs->sdata.p, cs->sdata.len);
	}
	cc_wr_u8(wr, cs->spi_len);
	cc_wr_bytes(wr, cs->spi, cs->spi_len);
}

static enum cc_err enc_hdr(const struct mikey_hdr *h, uint8_t first,
			   struct cc_wr *wr)
{
	size_t i;

	if (h->ncs > MIKEY_MAX_CS || h->prf > 0x7f)
		return CC_ERR_INVAL;
	cc_wr_u8(wr, h->version ? h->version : MIKEY_VERSION);
	cc_wr_u8(wr, h->data_type);
	cc_wr_u8(wr, first);
	cc_wr_u8(wr, (uint8_t)((h->v ? 0x80 : 0) | h->prf));
	cc_wr_u32(wr, h->csb_id);
	cc_wr_u8(wr, h->map_type == MIKEY_MAP_EMPTY ? 0 : h->ncs);
	cc_wr_u8(wr, h->map_type);
	if (h->map_type != MIKEY_MAP_EMPTY)
		for (i = 0; i < h->ncs; i++)
			enc_cs(h, &h->cs[i], wr);
	return CC_OK;
}

static void enc_ts(const struct mikey_ts *ts, struct cc_wr *wr)
{
	cc_wr_u8(wr, ts->type);
	if (ts->type == MIKEY_TS_COUNTER || ts->type == MIKEY_TS_NTP_UTC_32)
		cc_wr_u32(wr, (uint32_t)ts->value);
	else
		cc_wr_u64(wr, ts->value);
}

static void enc_ticket(const struct mikey_pl *pl, struct cc_wr *wr)
{
	const struct mikey_pl_ticket *t = &pl->u.ticket;

	cc_wr_u16(wr, t->ticket_type);
	cc_wr_u8(wr, t->subtype);
	cc_wr_u8(wr, t->version);
	cc_wr_u8(wr, (uint8_t)(t->prf << 1 | (t->flags & MIKEY_TPF_D)));
	cc_wr_u8(wr, (uint8_t)(t->flags >> 8));
	cc_wr_u8(wr, (uint8_t)(t->flags & 0xe0));
	cc_wr_u16(wr, (uint16_t)t->tp_data.len);
	cc_wr_bytes(wr, t->tp_data.p, t->tp_data.len);
	if (pl->type != MIKEY_PT_TICKET)
		return;
	cc_wr_u16(wr, (uint16_t)t->ticket_data.len);
	cc_wr_bytes(wr, t->ticket_data.p, t->ticket_data.len);
	cc_wr_u16(wr, (uint16_t)t->init_data.len);
	cc_wr_bytes(wr, t->init_data.p, t->init_data.len);
}

static void enc_id(const struct mikey_pl *pl, struct cc_wr *wr)
{
	if (pl->type == MIKEY_PT_IDR)
		cc_wr_u8(wr, pl->u.id.role);
	cc_wr_u8(wr, pl->u.id.type);
	cc_wr_u16(wr, (uint16_t)pl->u.id.data.len);
	cc_wr_bytes(wr, pl->u.id.data.p, pl->u.id.data.len);
}

static void enc_rand(const struct mikey_pl *pl, struct cc_wr *wr)
{
	if (pl->type == MIKEY_PT_RANDR)
		cc_wr_u8(wr, pl->u.rand.role);
	cc_wr_u8(wr, (uint8_t)pl->u.rand.data.len);
	cc_wr_bytes(wr, pl->u.rand.data.p, pl->u.rand.data.len);
}

static enum cc_err enc_body(const struct mikey_pl *pl, struct cc_wr *wr)
{
	switch (pl->type) {
	case MIKEY_PT_KEMAC:
		cc_wr_u8(wr, pl->u.kemac.encr_alg);
		cc_wr_u16(wr, (uint16_t)pl->u.kemac.encr.len);
		cc_wr_bytes(wr, pl->u.kemac.encr.p, pl->u.kemac.encr.len);
		cc_wr_u8(wr, pl->u.kemac.mac_alg);
		cc_wr_bytes(wr, pl->u.kemac.mac.p, pl->u.kemac.mac.len);
		return CC_OK;
	case MIKEY_PT_T:
		enc_ts(&pl->u.t, wr);
		return CC_OK;
	case MIKEY_PT_ID:
	case MIKEY_PT_IDR:
		enc_id(pl, wr);
		return CC_OK;
	case MIKEY_PT_V:
		cc_wr_u8(wr, pl->u.v.alg);
		/* A NULL mac slice reserves room for the MAC, zero-filled. */
		if (pl->u.v.mac.p)
			cc_wr_bytes(wr, pl->u.v.mac.p, pl->u.v.mac.len);
		else
			(void)cc_wr_skip(wr, mikey_mac_len(pl->u.v.alg));
		return CC_OK;
	case MIKEY_PT_SP:
		cc_wr_u8(wr, pl->u.sp.policy_no);
		cc_wr_u8(wr, pl->u.sp.prot);
		cc_wr_u16(wr, (uint16_t)pl->u.sp.params.len);
		cc_wr_bytes(wr, pl->u.sp.params.p, pl->u.sp.params.len);
		return CC_OK;
	case MIKEY_PT_RAND:
	case MIKEY_PT_RANDR:
		enc_rand(pl, wr);
		return CC_OK;
	case MIKEY_PT_ERR:
		cc_wr_u8(wr, pl->u.err.errno_);
		cc_wr_u16(wr, pl->u.err.reserved);
		return CC_OK;
	case MIKEY_PT_TR:
		cc_wr_u8(wr, pl->u.tr.role);
		enc_ts(&pl->u.tr.ts, wr);
		return CC_OK;
	case MIKEY_PT_TP:
	case MIKEY_PT_TICKET:
		enc_ticket(pl, wr);
		return CC_OK;
	case MIKEY_PT_GENEXT:
		cc_wr_u8(wr, pl->u.ext.type);
		cc_wr_u16(wr, (uint16_t)pl->u.ext.data.len);
		cc_wr_bytes(wr, pl->u.ext.data.p, pl->u.ext.data.len);
		return CC_OK;
	case MIKEY_PT_THDR:
		cc_wr_u16(wr, (uint16_t)pl->u.thdr.data.len);
		cc_wr_bytes(wr, pl->u.thdr.data.p, pl->u.thdr.data.len);
		return CC_OK;
	default:
		return CC_ERR_INVAL;
	}
}

static enum cc_err enc_chain(struct mikey_chain *ch, size_t base,
			     struct cc_wr *wr)
{
	size_t i;
	enum cc_err err;

	if (ch->overflow)
		return CC_ERR_FULL;
	for (i = 0; i < ch->n; i++) {
		struct mikey_pl *pl = &ch->pl[i];
		uint16_t next = i + 1 < ch->n ? ch->pl[i + 1].type : 0;

		if (next == MIKEY_PT_THDR)
			return CC_ERR_INVAL; /* THDR only comes first */
		pl->off = base + wr->pos;
		cc_wr_u8(wr, (uint8_t)next);
		err = enc_body(pl, wr);
		if (err)
			return err;
		pl->len = base + wr->pos - pl->off;
	}
	return cc_wr_status(wr);
}

enum cc_err mikey_encode(struct mikey_msg *msg, struct cc_wr *wr)
{
	uint8_t first = msg->ch.n ? (uint8_t)msg->ch.pl[0].type : 0;
	enum cc_err err;

	if (msg->ch.n && msg->ch.pl[0].type == MIKEY_PT_THDR)
		return CC_ERR_INVAL;
	err = enc_hdr(&msg->hdr, first, wr);
	if (err)
		return err;
	return enc_chain(&msg->ch, 0, wr);
}

enum cc_err mikey_encode_chain(struct mikey_chain *ch, bool first_byte,
			       struct cc_wr *wr)
{
	size_t start = wr->pos;

	if (!ch->n)
		return CC_ERR_INVAL;
	if (first_byte) {
		if (ch->pl[0].type == MIKEY_PT_THDR)
			return CC_ERR_INVAL;
		cc_wr_u8(wr, (uint8_t)ch->pl[0].type);
	} else if (ch->pl[0].type != MIKEY_PT_THDR) {
		return CC_ERR_INVAL;
	}
	/* Offsets inside the chain are relative to its first byte. */
	return enc_chain(ch, (size_t)0 - start, wr);
}

/* ---- chain helpers -------------------------------------------------- */

struct mikey_pl *mikey_chain_add(struct mikey_chain *ch, uint16_t type)
{
	struct mikey_pl *pl;

	if (ch->n >= MIKEY_MAX_PL) {
		ch->overflow = true;
		return NULL;
	}
	pl = &ch->pl[ch->n++];
	memset(pl, 0, sizeof(*pl));
	pl->type = type;
	return pl;
}

uint8_t mikey_pl_role(const struct mikey_pl *pl)
{
	switch (pl->type) {
	case MIKEY_PT_IDR:
		return pl->u.id.role;
	case MIKEY_PT_RANDR:
		return pl->u.rand.role;
	case MIKEY_PT_TR:
		return pl->u.tr.role;
	default:
		return 0;
	}
}

const struct mikey_pl *mikey_chain_find(const struct mikey_chain *ch,
					uint16_t type, uint8_t role)
{
	size_t i;

	for (i = 0; i < ch->n; i++) {
		if (ch->pl[i].type != type)
			continue;
		if (!role || mikey_pl_role(&ch->pl[i]) == role)
			return &ch->pl[i];
	}
	return NULL;
}
