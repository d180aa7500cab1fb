/*
 * mikey_print.c -- the annotated tree of a decoded MIKEY / MIKEY-TICKET
 * message: every HDR and payload field with its code point name
 * (spec/mikey-core.md §3-4, spec/mikey-ticket.md §3). Nested chains (TP
 * Data, Ticket Data, Initiator Data) are printed as nested trees.
 */
#include "mikey_print.h"

#include <string.h>
#include <time.h>

#define N(tab) (sizeof(tab) / sizeof(tab[0]))
#define NAME(tab, v) ((v) < N(tab) && tab[v] ? tab[v] : "unknown")

static const char *prf_name(unsigned v)
{
	static const char *const t[] = { "MIKEY-1", "PRF-HMAC-SHA-256" };
	return NAME(t, v);
}

static const char *map_name(unsigned v)
{
	static const char *const t[] = { "SRTP-ID", "Empty map", "GENERIC-ID" };
	return NAME(t, v);
}

static const char *prot_name(unsigned v)
{
	static const char *const t[] = { "SRTP", "TESLA" };
	return NAME(t, v);
}

static const char *encr_name(unsigned v)
{
	static const char *const t[] = { "NULL", "AES-CM-128", "AES-KW-128",
					 "AES-CM-256" };
	return NAME(t, v);
}

static const char *mac_name(unsigned v)
{
	static const char *const t[] = { "NULL", "HMAC-SHA-1-160",
					 "HMAC-SHA-256-256" };
	return NAME(t, v);
}

static const char *ts_type_name(unsigned v)
{
	static const char *const t[] = { "NTP-UTC", "NTP", "COUNTER",
					 "NTP-UTC-32" };
	return NAME(t, v);
}

static const char *ts_role_name(unsigned v)
{
	static const char *const t[] = { NULL, "time of issue",
					 "start of validity", "end of validity",
					 "rekeying interval" };
	return NAME(t, v);
}

static const char *ts_role_tag(unsigned v)
{
	static const char *const t[] = { NULL, "TRi", "TRs", "TRe", "TRr" };
	return NAME(t, v);
}

static const char *id_type_name(unsigned v)
{
	static const char *const t[] = { "NAI", "URI", "byte string" };
	return NAME(t, v);
}

/* RFC 6043 Table 6.11, RFC 6509 §7 */
static const char *id_role_name(unsigned v)
{
	static const char *const t[] = { NULL,      "IDRi",   "IDRr",
					 "IDRkms",  "IDRpsk", "IDRapp",
					 "IDRkmsi", "IDRkmsr" };
	return NAME(t, v);
}

static const char *rand_role_name(unsigned v)
{
	static const char *const t[] = { NULL, "RANDRi", "RANDRr", "RANDRkms" };
	return NAME(t, v);
}

static const char *key_type_name(unsigned v)
{
	static const char *const t[] = { "TGK",  "TGK+SALT",  "TEK", "TEK+SALT",
					 "GTGK", "GTGK+SALT", "MPK", "K_PR" };
	return NAME(t, v);
}

static const char *kv_name(unsigned v)
{
	static const char *const t[] = { "Null", "SPI", "Interval" };
	return NAME(t, v);
}

static const char *genext_name(unsigned v)
{
	static const char *const t[] = { "Vendor ID", "SDP IDs", "TESLA I-Key",
					 "Key ID",    "CSB_ID",  "OMA BCAST" };
	return NAME(t, v);
}

static const char *ticket_type_name(unsigned v)
{
	if (v == MIKEY_TICKET_BASE)
		return "MIKEY base ticket";
	if (v == MIKEY_TICKET_3GPP)
		return "3GPP base ticket";
	if (v >= 61440 && v <= 65534)
		return "private use";
	return "unknown";
}

/* ---- SRTP policy parameters (RFC 3830 Table 6.10.1.a) --------------- */

static const char *srtp_param_name(unsigned v)
{
	static const char *const t[] = {
		"encr alg",
		"session encr key len",
		"auth alg",
		"session auth key len",
		"session salt len",
		"SRTP PRF",
		"key derivation rate",
		"SRTP encryption",
		"SRTCP encryption",
		"FEC order",
		"SRTP authentication",
		"auth tag len",
		"SRTP prefix len",
		"ROC transmission rate",
		"SRTP auth alg",
		"SRTCP auth alg",
		"SRTP auth key len",
		"SRTCP auth key len",
		"SRTP auth tag len",
		"SRTCP auth tag len",
		"AEAD auth tag len",
	};
	return NAME(t, v);
}

static const char *srtp_value_name(unsigned type, unsigned v)
{
	static const char *const encr[] = {
		"NULL",     "AES-CM",  "AES-F8",   "SEED-CTR", "SEED-CCM",
		"SEED-GCM", "AES-GCM", "ARIA-CTR", "ARIA-GCM"
	};
	static const char *const auth[] = { "NULL", "HMAC-SHA-1", "RCCm1",
					    "RCCm2", "RCCm3" };
	static const char *const prf[] = { "AES-CM", "SEED-CTR", "ARIA-CTR" };
	static const char *const onoff[] = { "off", "on" };

	switch (type) {
	case MIKEY_SRTP_ENCR_ALG:
		return NAME(encr, v);
	case MIKEY_SRTP_AUTH_ALG:
		return NAME(auth, v);
	case MIKEY_SRTP_PRF:
		return NAME(prf, v);
	case MIKEY_SRTP_ENCR_ON:
	case MIKEY_SRTCP_ENCR_ON:
	case MIKEY_SRTP_AUTH_ON:
		return NAME(onoff, v);
	case MIKEY_SRTP_FEC_ORDER:
		return v == 0 ? "FEC-SRTP" : "unknown";
	case MIKEY_SRTP_ENCR_KEY_LEN:
	case MIKEY_SRTP_AUTH_KEY_LEN:
	case MIKEY_SRTP_SALT_LEN:
	case MIKEY_SRTP_AUTH_TAG_LEN:
	case MIKEY_SRTP_PREFIX_LEN:
	case MIKEY_SRTP_AEAD_TAG_LEN:
		return "bytes";
	default:
		return NULL;
	}
}

/* ---- helpers -------------------------------------------------------- */

bool mikey_ts_iso(const struct mikey_ts *ts, char *out, size_t cap)
{
	struct tm tm;
	time_t t;

	if (ts->type != MIKEY_TS_NTP_UTC && ts->type != MIKEY_TS_NTP &&
	    ts->type != MIKEY_TS_NTP_UTC_32)
		return false;
	t = (time_t)mikey_ts_unix(ts);
	if (!gmtime_r(&t, &tm) ||
	    !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return false;
	return true;
}

static struct cc_slice sl(const uint8_t *p, size_t n)
{
	return (struct cc_slice){ p, n };
}

static void pr_next(struct pr *p, long off, uint8_t nb)
{
	pr_u(p, off, "next payload", nb, mikey_pt_name(nb));
}

static void pr_ts(struct pr *p, long off, const struct mikey_ts *ts)
{
	char iso[40];
	int w = ts->type == MIKEY_TS_NTP_UTC || ts->type == MIKEY_TS_NTP ? 16 :
									   8;

	pr_u(p, off, "TS type", ts->type, ts_type_name(ts->type));
	if (ts->type == MIKEY_TS_COUNTER)
		pr_u(p, off + 1, "TS value", ts->value, NULL);
	else
		pr_x(p, off + 1, "TS value", ts->value, w);
	if (mikey_ts_iso(ts, iso, sizeof(iso)))
		pr_s(p, off + 1, "time", iso);
}

/* ---- HDR ------------------------------------------------------------ */

/* GENERIC-ID session data bytes (RFC 6043 §6.1.1): SSRC [ROC SEQ] */
static size_t sdata_len(const struct mikey_cs *cs)
{
	if (cs->prot != MIKEY_PROT_SRTP)
		return cs->sdata.len;
	return cs->has_ssrc ? (cs->s ? 10 : 4) : 0;
}

static size_t cs_len(const struct mikey_hdr *h, const struct mikey_cs *cs)
{
	if (h->map_type == MIKEY_MAP_SRTP_ID)
		return MIKEY_SRTP_ID_ENTRY;
	return 3 + cs->npol + 2 + sdata_len(cs) + 1 + cs->spi_len;
}

static void pr_cs_srtp(struct pr *p, long o, const struct mikey_cs *cs)
{
	pr_u(p, o, "policy no", cs->policies[0], NULL);
	pr_x(p, o + 1, "SSRC", cs->ssrc, 8);
	pr_u(p, o + 5, "ROC", cs->roc, NULL);
}

static void pr_cs_generic(struct pr *p, long o, const struct mikey_cs *cs)
{
	size_t i, sd = sdata_len(cs);
	long at;

	pr_u(p, o, "CS ID", cs->cs_id, NULL);
	pr_u(p, o + 1, "prot type", cs->prot, prot_name(cs->prot));
	pr_u(p, o + 2, "S", cs->s, cs->s ? "ROC and SEQ present" : NULL);
	pr_u(p, o + 2, "#P", cs->npol, NULL);
	pr_arr(p, "policies", false);
	for (i = 0; i < cs->npol; i++)
		pr_u(p, o + 3 + (long)i, "policy no", cs->policies[i], NULL);
	pr_end(p);
	at = o + 3 + cs->npol;
	pr_u(p, at, "session data length", sd, NULL);
	if (cs->has_ssrc) {
		pr_x(p, at + 2, "SSRC", cs->ssrc, 8);
		if (cs->s) {
			pr_u(p, at + 6, "ROC", cs->roc, NULL);
			pr_u(p, at + 10, "SEQ", cs->seq, NULL);
		}
	} else if (cs->sdata.len) {
		pr_hex(p, at + 2, "session data", cs->sdata);
	}
	pr_u(p, at + 2 + (long)sd, "SPI length", cs->spi_len, NULL);
	if (cs->spi_len)
		pr_hex(p, at + 3 + (long)sd, "SPI", sl(cs->spi, cs->spi_len));
}

void pr_mikey_hdr(struct pr *p, const struct mikey_hdr *h)
{
	char title[32];
	long o = MIKEY_HDR_FIXED;
	size_t i;

	pr_obj(p, 0, "HDR");
	pr_u(p, 0, "version", h->version, NULL);
	pr_u(p, 1, "data type", h->data_type,
	     mikey_data_type_name(h->data_type));
	pr_next(p, 2, p->msg[2]);
	pr_u(p, 3, "V", h->v, h->v ? "response expected" : NULL);
	pr_u(p, 3, "PRF func", h->prf, prf_name(h->prf));
	pr_x(p, 4, "CSB ID", h->csb_id, 8);
	pr_u(p, 8, "#CS", h->ncs, NULL);
	pr_u(p, 9, "CS ID map type", h->map_type, map_name(h->map_type));
	pr_arr(p, "CS", false);
	for (i = 0; i < h->ncs && h->map_type != MIKEY_MAP_EMPTY; i++) {
		snprintf(title, sizeof(title), "CS #%zu", i + 1);
		pr_item(p, o, title, NULL);
		if (h->map_type == MIKEY_MAP_SRTP_ID) {
			pr_u(p, PR_NO_OFF, "CS ID", h->cs[i].cs_id, "ordinal");
			pr_cs_srtp(p, o, &h->cs[i]);
		} else {
			pr_cs_generic(p, o, &h->cs[i]);
		}
		pr_end(p);
		o += (long)cs_len(h, &h->cs[i]);
	}
	pr_end(p);
	pr_end(p);
}

/* ---- payload bodies ------------------------------------------------- */

static void pr_sp_params(struct pr *p, long o, struct cc_slice s)
{
	struct cc_rd rd;
	uint8_t type, len, b;

	pr_arr(p, "params", false);
	cc_rd_init(&rd, s.p, s.len);
	while (cc_rd_left(&rd) >= 2) {
		long at = o + (long)rd.pos;
		unsigned long long v = 0;
		const char *name, *meaning;

		if (cc_rd_u8(&rd, &type) || cc_rd_u8(&rd, &len))
			break;
		while (len-- && !cc_rd_u8(&rd, &b))
			v = v << 8 | b;
		name = srtp_param_name(type);
		meaning = srtp_value_name(type, (unsigned)v);
		if (p->json) {
			pr_item(p, PR_NO_OFF, name, NULL);
			pr_u(p, PR_NO_OFF, "param type", type, name);
			pr_u(p, PR_NO_OFF, "value", v, meaning);
			pr_end(p);
		} else {
			pr_u(p, at, name, v, meaning);
		}
	}
	pr_end(p);
}

static void pr_kemac(struct pr *p, long o, const struct mikey_pl_kemac *k)
{
	struct mikey_keys keys;
	struct mikey_diag d = { 0 };

	pr_u(p, o + 1, "encr alg", k->encr_alg, encr_name(k->encr_alg));
	pr_u(p, o + 2, "encr data len", k->encr.len, NULL);
	if (k->encr_alg != MIKEY_ENCR_NULL) {
		pr_hex(p, o + 4, "encr data", k->encr);
	} else if (!mikey_keys_decode(k->encr.p, k->encr.len, false, &keys,
				      &d)) {
		/* NULL encryption: the key data is in the clear (the TP
		 * Data template of RFC 6043 §6.10) */
		pr_mikey_keys(p, "key data", &keys);
	} else {
		pr_secret(p, o + 4, "encr data", k->encr);
	}
	pr_u(p, o + 4 + (long)k->encr.len, "MAC alg", k->mac_alg,
	     mac_name(k->mac_alg));
	if (k->mac.len)
		pr_hex(p, o + 5 + (long)k->encr.len, "MAC", k->mac);
}

/* RFC 4563 §4 (spec/mikey-core.md §4.10): Type (8) || Len (8) || Key ID */
static void pr_key_ids(struct pr *p, long o, struct cc_slice s)
{
	struct mikey_key_id ids[MIKEY_MAX_PL];
	size_t i, n = 0;

	if (mikey_key_ids_decode(s, ids, MIKEY_MAX_PL, &n) ||
	    n > MIKEY_MAX_PL) {
		pr_hex(p, o, "data", s);
		return;
	}
	pr_arr(p, "key IDs", false);
	for (i = 0; i < n; i++) {
		long at = o + (long)(ids[i].id.p - s.p) - 2;

		pr_item(p, at, "Key ID", NULL);
		pr_u(p, at, "key ID type", ids[i].type, NULL);
		pr_u(p, at + 1, "key ID len", ids[i].id.len, NULL);
		pr_hex(p, at + 2, "key ID", ids[i].id);
		pr_end(p);
	}
	pr_end(p);
}

static void pr_ext(struct pr *p, long o, const struct mikey_pl *pl)
{
	uint8_t t = pl->u.ext.type;

	pr_u(p, o + 1, "ext type", t, genext_name(t));
	pr_u(p, o + 2, "length", pl->u.ext.data.len, NULL);
	if (t == MIKEY_GENEXT_SDP_IDS)
		pr_text_or_hex(p, o + 4, "SDP IDs", pl->u.ext.data);
	else if (t == MIKEY_GENEXT_KEY_ID)
		pr_key_ids(p, o + 4, pl->u.ext.data);
	else
		pr_hex(p, o + 4, "data", pl->u.ext.data);
}

/* RFC 6043 §6.10, spec/mikey-ticket.md §3.12 */
static void pr_flags(struct pr *p, long o, uint16_t f)
{
	static const struct {
		uint16_t bit;
		const char *name, *meaning;
		long at;
	} t[] = {
		{ MIKEY_TPF_D, "D", "ticket generated by the KMS", 5 },
		{ MIKEY_TPF_E, "E", "Ticket Resolve mandatory", 6 },
		{ MIKEY_TPF_F, "F", "TRANSFER_RESP shall be sent", 6 },
		{ MIKEY_TPF_G, "G", "Responder generates RANDRr", 6 },
		{ MIKEY_TPF_H, "H", "TGK derivations include RANDRi", 6 },
		{ MIKEY_TPF_I, "I", "key forking", 6 },
		{ MIKEY_TPF_J, "J", "ticket may be reused", 6 },
		{ MIKEY_TPF_K, "K", "KMS changed the desired policy", 6 },
		{ MIKEY_TPF_L, "L", "Initiator may supply keys", 6 },
		{ MIKEY_TPF_M, "M", "Responder may supply keys", 7 },
		{ MIKEY_TPF_N, "N", "Initiator can build TRANSFER_INIT", 7 },
		{ MIKEY_TPF_O, "O", "Responder can process TRANSFER_INIT", 7 },
	};
	size_t i;

	pr_obj(p, o + 5, "flags");
	for (i = 0; i < N(t); i++)
		pr_u(p, o + t[i].at, t[i].name, !!(f & t[i].bit), t[i].meaning);
	pr_end(p);
}

static void print_chain(struct pr *p, const char *label,
			const struct mikey_chain *ch, const uint8_t *buf,
			bool init_data);

static void pr_nested(struct pr *p, const char *label, struct cc_slice s,
		      bool first_byte)
{
	struct mikey_chain ch;
	struct mikey_diag d = { 0 };
	long saved = p->base;
	char msg[160];

	if (mikey_decode_chain(s.p, s.len, first_byte, &ch, &d)) {
		snprintf(msg, sizeof(msg), "undecodable (%s at 0x%zx)",
			 d.field ? d.field : "?", d.offset);
		pr_s(p, PR_NO_OFF, label, msg);
		return;
	}
	p->base = (long)(s.p - p->msg);
	if (first_byte)
		pr_u(p, 0, "first payload", s.p[0], mikey_pt_name(s.p[0]));
	print_chain(p, label, &ch, s.p, !strcmp(label, "initiator data"));
	p->base = saved;
}

static void pr_ticket(struct pr *p, long o, const struct mikey_pl *pl)
{
	const struct mikey_pl_ticket *t = &pl->u.ticket;
	long at = o + 10 + (long)t->tp_data.len;

	pr_u(p, o + 1, "ticket type", t->ticket_type,
	     ticket_type_name(t->ticket_type));
	pr_u(p, o + 3, "subtype", t->subtype, NULL);
	pr_u(p, o + 4, "version", t->version, NULL);
	pr_u(p, o + 5, "PRF func", t->prf, prf_name(t->prf));
	pr_flags(p, o, t->flags);
	pr_u(p, o + 8, "TP data length", t->tp_data.len, NULL);
	if (t->tp_data.len)
		pr_nested(p, "TP data", t->tp_data, true);
	if (pl->type != MIKEY_PT_TICKET)
		return;
	pr_u(p, at, "ticket data length", t->ticket_data.len, NULL);
	if (p->ticket_tree && t->ticket_data.len)
		pr_nested(p, "ticket data", t->ticket_data, false);
	else
		pr_hex(p, at + 2, "ticket data", t->ticket_data);
	at += 2 + (long)t->ticket_data.len;
	pr_u(p, at, "initiator data length", t->init_data.len, NULL);
	if (t->init_data.len)
		pr_nested(p, "initiator data", t->init_data, true);
}

/* RAND / RANDR (RFC 6043 §6.8: the role byte comes first) */
static void pr_rand(struct pr *p, long o, const struct mikey_pl *pl)
{
	long r = pl->type == MIKEY_PT_RANDR;

	if (r)
		pr_u(p, o + 1, "RAND role", pl->u.rand.role,
		     rand_role_name(pl->u.rand.role));
	pr_u(p, o + 1 + r, "RAND len", pl->u.rand.data.len, NULL);
	pr_hex(p, o + 2 + r, "RAND", pl->u.rand.data);
}

/* ID / IDR (RFC 6043 §6.6: the role byte comes first) */
static void pr_id(struct pr *p, long o, const struct mikey_pl *pl)
{
	long r = pl->type == MIKEY_PT_IDR;

	if (r)
		pr_u(p, o + 1, "ID role", pl->u.id.role,
		     id_role_name(pl->u.id.role));
	pr_u(p, o + 1 + r, "ID type", pl->u.id.type,
	     id_type_name(pl->u.id.type));
	pr_u(p, o + 2 + r, "ID len", pl->u.id.data.len, NULL);
	pr_text_or_hex(p, o + 4 + r, "ID data", pl->u.id.data);
}

static void pr_body(struct pr *p, long o, const struct mikey_pl *pl)
{
	switch (pl->type) {
	case MIKEY_PT_T:
		pr_ts(p, o + 1, &pl->u.t);
		break;
	case MIKEY_PT_TR:
		pr_u(p, o + 1, "TS role", pl->u.tr.role,
		     ts_role_name(pl->u.tr.role));
		pr_ts(p, o + 2, &pl->u.tr.ts);
		break;
	case MIKEY_PT_RAND:
	case MIKEY_PT_RANDR:
		pr_rand(p, o, pl);
		break;
	case MIKEY_PT_ID:
	case MIKEY_PT_IDR:
		pr_id(p, o, pl);
		break;
	case MIKEY_PT_SP:
		pr_u(p, o + 1, "policy no", pl->u.sp.policy_no, NULL);
		pr_u(p, o + 2, "prot type", pl->u.sp.prot,
		     prot_name(pl->u.sp.prot));
		pr_u(p, o + 3, "policy param length", pl->u.sp.params.len,
		     NULL);
		pr_sp_params(p, o + 5, pl->u.sp.params);
		break;
	case MIKEY_PT_KEMAC:
		pr_kemac(p, o, &pl->u.kemac);
		break;
	case MIKEY_PT_V:
		pr_u(p, o + 1, "auth alg", pl->u.v.alg, mac_name(pl->u.v.alg));
		pr_hex(p, o + 2, "MAC", pl->u.v.mac);
		break;
	case MIKEY_PT_ERR:
		pr_u(p, o + 1, "error no", pl->u.err.errno_,
		     mikey_errno_name(pl->u.err.errno_));
		pr_u(p, o + 2, "reserved", pl->u.err.reserved, NULL);
		break;
	case MIKEY_PT_GENEXT:
		pr_ext(p, o, pl);
		break;
	case MIKEY_PT_TP:
	case MIKEY_PT_TICKET:
		pr_ticket(p, o, pl);
		break;
	case MIKEY_PT_THDR:
		pr_u(p, o + 1, "THDR data len", pl->u.thdr.data.len, NULL);
		if (pl->u.thdr.data.len)
			pr_hex(p, o + 3, "THDR data", pl->u.thdr.data);
		break;
	default:
		break;
	}
}

/* "IDRi (IDR)", "RANDRr (RANDR)", "TRe (TR)", "Vi (V)" in Initiator Data
 * (RFC 6043 §6.10: First Payload, Vi, Vr) or just the payload name */
static void pl_title(const struct mikey_pl *pl, size_t i, bool init_data,
		     char *out, size_t cap)
{
	const char *name = mikey_pt_name(pl->type), *role = NULL;

	if (init_data && pl->type == MIKEY_PT_V)
		role = i ? "Vr" : "Vi";
	else if (pl->type == MIKEY_PT_IDR)
		role = id_role_name(pl->u.id.role);
	else if (pl->type == MIKEY_PT_RANDR)
		role = rand_role_name(pl->u.rand.role);
	else if (pl->type == MIKEY_PT_TR)
		role = ts_role_tag(pl->u.tr.role);
	if (role)
		snprintf(out, cap, "%s (%s)", role, name);
	else
		snprintf(out, cap, "%s", name);
}

static void print_chain(struct pr *p, const char *label,
			const struct mikey_chain *ch, const uint8_t *buf,
			bool init_data)
{
	char title[48];
	size_t i;

	pr_arr(p, label, p->base != 0);
	for (i = 0; i < ch->n; i++) {
		const struct mikey_pl *pl = &ch->pl[i];
		long o = (long)pl->off;

		pl_title(pl, i, init_data, title, sizeof(title));
		pr_item(p, o, title, mikey_pt_name(pl->type));
		pr_next(p, o, buf[pl->off]);
		pr_body(p, o, pl);
		pr_end(p);
	}
	pr_end(p);
}

void pr_mikey_chain(struct pr *p, const char *label,
		    const struct mikey_chain *ch, const uint8_t *buf)
{
	print_chain(p, label, ch, buf, false);
}

void pr_mikey_keys(struct pr *p, const char *label,
		   const struct mikey_keys *keys)
{
	char title[32];
	size_t i;

	pr_arr(p, label, true);
	for (i = 0; i < keys->n; i++) {
		const struct mikey_key *k = &keys->k[i];

		snprintf(title, sizeof(title), "Key data #%zu", i + 1);
		pr_item(p, PR_NO_OFF, title, "Key data");
		pr_u(p, PR_NO_OFF, "key type", k->type, key_type_name(k->type));
		pr_u(p, PR_NO_OFF, "KV", k->kv, kv_name(k->kv));
		pr_u(p, PR_NO_OFF, "key data len", k->key.len, NULL);
		pr_secret(p, PR_NO_OFF, "key data", k->key);
		if (k->salt.len) {
			pr_u(p, PR_NO_OFF, "salt len", k->salt.len, NULL);
			pr_secret(p, PR_NO_OFF, "salt data", k->salt);
		}
		if (k->kv == MIKEY_KV_SPI) {
			pr_u(p, PR_NO_OFF, "SPI length", k->spi.len, NULL);
			pr_hex(p, PR_NO_OFF, "SPI", k->spi);
		} else if (k->kv == MIKEY_KV_INTERVAL) {
			pr_hex(p, PR_NO_OFF, "valid from", k->vf);
			pr_hex(p, PR_NO_OFF, "valid to", k->vt);
		}
		pr_end(p);
	}
	pr_end(p);
}
