/*
 * layout.c -- which payloads each MIKEY-TICKET message carries, in which
 * order (RFC 6043 §4.2, §5.2, §5.4; spec/mikey-ticket.md §4, §8, §9), and
 * the Ticket Policy flag rules (RFC 6043 §6.10).
 *
 * A grammar is a list of slots {payload, role, min, max}; the chain must
 * walk them in order. Known payloads that a message does not list are
 * ignored (spec/ambiguities.md A10); General Extensions may appear anywhere
 * before V (RFC 3830 §6.15, A11).
 *
 * The HDR V flag is not checked here: RFC 6043 contradicts itself about it
 * (spec/ambiguities.md A1), so we send V = 1 in REQUEST_INIT/RESOLVE_INIT,
 * V = F in an initial TRANSFER_INIT, V = "response wanted" in an update,
 * V = 0 elsewhere, and a receiver reads it only in an update TRANSFER_INIT.
 */
#include <conclave/mikey.h>

#include <string.h>

struct slot {
	uint8_t pt;
	uint8_t role;
	uint8_t min;
	uint8_t max;
	const char *name;
};

/* The grammars read best one slot per line. */
/* clang-format off */
#define ONE(pt, role, name) { pt, role, 1, 1, name }
#define OPT(pt, role, name) { pt, role, 0, 1, name }
#define ANY(pt, role, name) { pt, role, 0, 255, name }
#define END { 0, 0, 0, 0, NULL }

/* RFC 6043 §4.2.1: HDR, T, RANDRi, [IDRi], [IDRkms], TP, [IDRpsk], V */
static const struct slot g_request_init[] = {
	ONE(MIKEY_PT_T, 0, "T"),
	ONE(MIKEY_PT_RANDR, MIKEY_RANDR_I, "RANDRi"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_I, "IDRi"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_KMS, "IDRkms"),
	ONE(MIKEY_PT_TP, 0, "TP"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_PSK, "IDRpsk"),
	ONE(MIKEY_PT_V, 0, "V"),
	END,
};

/* RFC 6043 §4.2.1: HDR, T, [IDRkms], TICKET, KEMAC, V */
static const struct slot g_request_resp[] = {
	ONE(MIKEY_PT_T, 0, "T"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_KMS, "IDRkms"),
	ONE(MIKEY_PT_TICKET, 0, "TICKET"),
	ONE(MIKEY_PT_KEMAC, 0, "KEMAC"),
	ONE(MIKEY_PT_V, 0, "V"),
	END,
};

/* RFC 6043 §4.2.2: HDR, T, RANDRi, [IDRi], [IDRr], {SP}, TICKET, [KEMAC], V */
static const struct slot g_transfer_init[] = {
	ONE(MIKEY_PT_T, 0, "T"),
	ONE(MIKEY_PT_RANDR, MIKEY_RANDR_I, "RANDRi"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_I, "IDRi"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_R, "IDRr"),
	ANY(MIKEY_PT_SP, 0, "SP"),
	ONE(MIKEY_PT_TICKET, 0, "TICKET"),
	OPT(MIKEY_PT_KEMAC, 0, "KEMAC"),
	ONE(MIKEY_PT_V, 0, "V"),
	END,
};

/* RFC 6043 §4.2.2: HDR, T, [RANDRr], [IDRr], [RANDRkms], {SP}, [KEMAC], V */
static const struct slot g_transfer_resp[] = {
	ONE(MIKEY_PT_T, 0, "T"),
	OPT(MIKEY_PT_RANDR, MIKEY_RANDR_R, "RANDRr"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_R, "IDRr"),
	OPT(MIKEY_PT_RANDR, MIKEY_RANDR_KMS, "RANDRkms"),
	ANY(MIKEY_PT_SP, 0, "SP"),
	OPT(MIKEY_PT_KEMAC, 0, "KEMAC"),
	ONE(MIKEY_PT_V, 0, "V"),
	END,
};

/* RFC 6043 §4.2.3: HDR, T, RANDRr, [IDRr], [IDRkms], TICKET, [IDRpsk], V */
static const struct slot g_resolve_init[] = {
	ONE(MIKEY_PT_T, 0, "T"),
	ONE(MIKEY_PT_RANDR, MIKEY_RANDR_R, "RANDRr"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_R, "IDRr"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_KMS, "IDRkms"),
	ONE(MIKEY_PT_TICKET, 0, "TICKET"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_PSK, "IDRpsk"),
	ONE(MIKEY_PT_V, 0, "V"),
	END,
};

/* RFC 6043 §4.2.3: HDR, T, [IDRkms], KEMAC, [IDRr], [RANDRkms], V */
static const struct slot g_resolve_resp[] = {
	ONE(MIKEY_PT_T, 0, "T"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_KMS, "IDRkms"),
	ONE(MIKEY_PT_KEMAC, 0, "KEMAC"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_R, "IDRr"),
	OPT(MIKEY_PT_RANDR, MIKEY_RANDR_KMS, "RANDRkms"),
	ONE(MIKEY_PT_V, 0, "V"),
	END,
};

/* RFC 6043 §5.4: HDR, T, (ERR), {SP}, [V] */
static const struct slot g_error[] = {
	ONE(MIKEY_PT_T, 0, "T"),
	{ MIKEY_PT_ERR, 0, 1, 255, "ERR" },
	ANY(MIKEY_PT_SP, 0, "SP"),
	OPT(MIKEY_PT_V, 0, "V"),
	END,
};

/* RFC 6043 §5.2, Initiator-started: HDR, T, [IDRi], [IDRr], {SP}, [KEMAC], V */
static const struct slot g_update_init_i[] = {
	ONE(MIKEY_PT_T, 0, "T"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_I, "IDRi"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_R, "IDRr"),
	ANY(MIKEY_PT_SP, 0, "SP"),
	OPT(MIKEY_PT_KEMAC, 0, "KEMAC"),
	ONE(MIKEY_PT_V, 0, "V"),
	END,
};

/* RFC 6043 §5.2, Responder-started: HDR, T, [IDRr], [IDRi], {SP}, [KEMAC], V */
static const struct slot g_update_init_r[] = {
	ONE(MIKEY_PT_T, 0, "T"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_R, "IDRr"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_I, "IDRi"),
	ANY(MIKEY_PT_SP, 0, "SP"),
	OPT(MIKEY_PT_KEMAC, 0, "KEMAC"),
	ONE(MIKEY_PT_V, 0, "V"),
	END,
};

/* RFC 6043 §5.2: the answer to an Initiator-started update comes from R */
static const struct slot g_update_resp_r[] = {
	ONE(MIKEY_PT_T, 0, "T"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_R, "IDRr"),
	ANY(MIKEY_PT_SP, 0, "SP"),
	OPT(MIKEY_PT_KEMAC, 0, "KEMAC"),
	ONE(MIKEY_PT_V, 0, "V"),
	END,
};

/* ... and to a Responder-started update from I */
static const struct slot g_update_resp_i[] = {
	ONE(MIKEY_PT_T, 0, "T"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_I, "IDRi"),
	ANY(MIKEY_PT_SP, 0, "SP"),
	OPT(MIKEY_PT_KEMAC, 0, "KEMAC"),
	ONE(MIKEY_PT_V, 0, "V"),
	END,
};

/* RFC 6043 §6.10: [IDRkms], [IDRi], [TRs], [TRe], [TRr], [KEMAC],
 * {IDRapp}, (IDRr) */
static const struct slot g_tp_data[] = {
	OPT(MIKEY_PT_IDR, MIKEY_IDR_KMS, "IDRkms"),
	OPT(MIKEY_PT_IDR, MIKEY_IDR_I, "IDRi"),
	OPT(MIKEY_PT_TR, MIKEY_TSR_START, "TRs"),
	OPT(MIKEY_PT_TR, MIKEY_TSR_END, "TRe"),
	OPT(MIKEY_PT_TR, MIKEY_TSR_REKEY, "TRr"),
	OPT(MIKEY_PT_KEMAC, 0, "KEMAC"),
	ANY(MIKEY_PT_IDR, MIKEY_IDR_APP, "IDRapp"),
	{ MIKEY_PT_IDR, MIKEY_IDR_R, 1, 255, "IDRr" },
	END,
};

/* clang-format on */

#define lfail mikey_diag_fail

static bool slot_match(const struct slot *s, const struct mikey_pl *pl)
{
	return s->pt == pl->type && (!s->role || s->role == mikey_pl_role(pl));
}

/* Does any slot from s onward take pl? */
static const struct slot *slot_ahead(const struct slot *s,
				     const struct mikey_pl *pl)
{
	for (; s->name; s++)
		if (slot_match(s, pl))
			return s;
	return NULL;
}

static bool listed(const struct slot *g, const struct mikey_pl *pl)
{
	return slot_ahead(g, pl) != NULL;
}

static enum cc_err walk(const struct slot *g, const struct mikey_chain *ch,
			const char *what, struct mikey_diag *diag)
{
	const struct slot *s = g;
	unsigned count = 0;
	size_t i;

	for (i = 0; i < ch->n; i++) {
		const struct mikey_pl *pl = &ch->pl[i];
		const struct slot *hit;

		if (pl->type == MIKEY_PT_GENEXT)
			continue;
		hit = slot_ahead(s, pl);
		if (!hit) {
			if (!listed(g, pl))
				continue; /* A10: ignore the unexpected */
			return lfail(diag, CC_ERR_ORDER,
				     mikey_pt_name(pl->type),
				     "out of order or repeated", pl->off);
		}
		/* Every slot skipped over must be optional. */
		for (; s != hit; s++, count = 0)
			if (count < s->min)
				return lfail(diag, CC_ERR_MISSING, s->name,
					     what, pl->off);
		if (++count > s->max)
			return lfail(diag, CC_ERR_ORDER, s->name, "repeated",
				     pl->off);
	}
	for (; s->name; s++, count = 0)
		if (count < s->min)
			return lfail(diag, CC_ERR_MISSING, s->name, what, 0);
	return CC_OK;
}

static const struct slot *grammar(uint8_t dt, enum mikey_variant v)
{
	switch (dt) {
	case MIKEY_DT_REQUEST_INIT_PSK:
		return g_request_init;
	case MIKEY_DT_REQUEST_RESP:
		return g_request_resp;
	case MIKEY_DT_TRANSFER_INIT:
		return v == MIKEY_INITIAL     ? g_transfer_init :
		       v == MIKEY_UPDATE_BY_I ? g_update_init_i :
						g_update_init_r;
	case MIKEY_DT_TRANSFER_RESP:
		return v == MIKEY_INITIAL     ? g_transfer_resp :
		       v == MIKEY_UPDATE_BY_I ? g_update_resp_r :
						g_update_resp_i;
	case MIKEY_DT_RESOLVE_INIT_PSK:
		return g_resolve_init;
	case MIKEY_DT_RESOLVE_RESP:
		return g_resolve_resp;
	case MIKEY_DT_ERROR:
		return g_error;
	default:
		return NULL;
	}
}

static enum cc_err check_hdr(const struct mikey_hdr *h, struct mikey_diag *diag)
{
	switch (h->data_type) {
	case MIKEY_DT_REQUEST_INIT_PSK:
	case MIKEY_DT_REQUEST_RESP:
	case MIKEY_DT_RESOLVE_INIT_PSK:
	case MIKEY_DT_RESOLVE_RESP:
		/* RFC 6043 §4.2.1.1, §4.2.3.1: #CS = 0, Empty map */
		if (h->ncs || h->map_type != MIKEY_MAP_EMPTY)
			return lfail(diag, CC_ERR_MALFORMED, "HDR",
				     "CS ID map (must be empty)", 8);
		return CC_OK;
	case MIKEY_DT_TRANSFER_INIT:
	case MIKEY_DT_TRANSFER_RESP:
		/* RFC 6043 §6.1: SRTP-ID SHALL NOT be used here */
		if (h->map_type == MIKEY_MAP_SRTP_ID)
			return lfail(diag, CC_ERR_MALFORMED, "HDR",
				     "CS ID map type (SRTP-ID forbidden)", 9);
		return CC_OK;
	default:
		return CC_OK;
	}
}

/* V must be the last payload: nothing after it is MAC-covered. */
static enum cc_err check_v_last(const struct mikey_chain *ch,
				struct mikey_diag *diag)
{
	size_t i;

	for (i = 0; i + 1 < ch->n; i++)
		if (ch->pl[i].type == MIKEY_PT_V)
			return lfail(diag, CC_ERR_ORDER,
				     mikey_pt_name(ch->pl[i + 1].type),
				     "after V", ch->pl[i + 1].off);
	return CC_OK;
}

/* RFC 6043 §5.2: updates MUST NOT carry new RANDs or TICKETs. */
static enum cc_err check_update(const struct mikey_chain *ch,
				struct mikey_diag *diag)
{
	size_t i;

	for (i = 0; i < ch->n; i++) {
		uint16_t t = ch->pl[i].type;

		if (t == MIKEY_PT_RANDR || t == MIKEY_PT_RAND ||
		    t == MIKEY_PT_TICKET)
			return lfail(diag, CC_ERR_ORDER, mikey_pt_name(t),
				     "not allowed in a CSB update",
				     ch->pl[i].off);
	}
	return CC_OK;
}

enum cc_err mikey_check_layout(const struct mikey_msg *msg,
			       enum mikey_variant variant,
			       struct mikey_diag *diag)
{
	const struct slot *g = grammar(msg->hdr.data_type, variant);
	enum cc_err err;

	if (!g)
		return lfail(diag, CC_ERR_UNSUPPORTED, "HDR", "data type", 1);
	err = check_hdr(&msg->hdr, diag);
	if (!err)
		err = check_v_last(&msg->ch, diag);
	if (!err && variant != MIKEY_INITIAL &&
	    (msg->hdr.data_type == MIKEY_DT_TRANSFER_INIT ||
	     msg->hdr.data_type == MIKEY_DT_TRANSFER_RESP))
		err = check_update(&msg->ch, diag);
	if (!err)
		err = walk(g, &msg->ch, "mandatory, absent", diag);
	return err;
}

enum cc_err mikey_check_tp_data(const struct mikey_chain *ch, bool granted,
				struct mikey_diag *diag)
{
	enum cc_err err = walk(g_tp_data, ch, "mandatory in TP data", diag);

	if (err)
		return err;
	/* RFC 6043 §6.10: the KEMAC SHALL NOT appear in a granted policy */
	if (granted && mikey_chain_find(ch, MIKEY_PT_KEMAC, 0))
		return lfail(diag, CC_ERR_ORDER, "KEMAC",
			     "not allowed in a granted policy", 0);
	return CC_OK;
}

/* RFC 6043 §6.10 flag dependencies */
enum cc_err mikey_check_flags(uint16_t f, struct mikey_diag *diag)
{
	static const struct {
		uint16_t if_set, if_clear, need_set;
		const char *rule;
	} rules[] = {
		{ 0, MIKEY_TPF_D, MIKEY_TPF_L, "!D => L" },
		{ MIKEY_TPF_G, 0, MIKEY_TPF_F, "G => F" },
		{ 0, MIKEY_TPF_G, MIKEY_TPF_H, "!G => H" },
		{ 0, MIKEY_TPF_H, MIKEY_TPF_G, "!H => G" },
		{ MIKEY_TPF_I, 0, MIKEY_TPF_E, "I => E" },
		{ MIKEY_TPF_K, 0, MIKEY_TPF_D, "K => D" },
		{ MIKEY_TPF_M, 0, MIKEY_TPF_F, "M => F" },
	};
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		bool applies = rules[i].if_set ? (f & rules[i].if_set) :
						 !(f & rules[i].if_clear);

		if (applies && !(f & rules[i].need_set))
			return lfail(diag, CC_ERR_POLICY, "TICKET",
				     rules[i].rule, 6);
	}
	return CC_OK;
}

/* Who sent a Ticket Transfer message, in the roles of the initial exchange */
static bool sent_by_initiator(uint8_t dt, enum mikey_variant v)
{
	bool init = dt == MIKEY_DT_TRANSFER_INIT;

	switch (v) {
	case MIKEY_UPDATE_BY_R:
		return !init; /* R starts it, I answers */
	case MIKEY_INITIAL:
	case MIKEY_UPDATE_BY_I:
	default:
		return init;
	}
}

enum cc_err mikey_check_key_supply(const struct mikey_msg *msg,
				   enum mikey_variant variant, uint16_t flags,
				   struct mikey_diag *diag)
{
	const struct mikey_pl *k;
	uint8_t dt = msg->hdr.data_type;
	bool by_i;

	if (dt != MIKEY_DT_TRANSFER_INIT && dt != MIKEY_DT_TRANSFER_RESP)
		return CC_OK;
	k = mikey_chain_find(&msg->ch, MIKEY_PT_KEMAC, 0);
	if (!k)
		return CC_OK;
	by_i = sent_by_initiator(dt, variant);
	if (by_i && !(flags & MIKEY_TPF_L))
		return lfail(diag, CC_ERR_POLICY, "KEMAC",
			     "Initiator may not supply keys (L = 0)", k->off);
	if (!by_i && !(flags & MIKEY_TPF_M))
		return lfail(diag, CC_ERR_POLICY, "KEMAC",
			     "Responder may not supply keys (M = 0)", k->off);
	return CC_OK;
}
