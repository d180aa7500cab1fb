/*
 * error.c -- MIKEY Error messages (RFC 3830 §5.1.2, RFC 6043 §5.4) and
 * the mapping from library errors to Error numbers.
 */
#include <conclave/mikey.h>

#include <string.h>

static bool field_has(const struct mikey_diag *d, const char *s)
{
	return d && d->field && strstr(d->field, s);
}

/* UNSUPPORTED is refined by the field that was not supported. */
static enum mikey_errno unsupported(const struct mikey_diag *d)
{
	if (field_has(d, "PRF"))
		return MIKEY_ERR_INVALID_PRF;
	if (field_has(d, "MAC alg"))
		return MIKEY_ERR_INVALID_MAC;
	if (field_has(d, "encr alg"))
		return MIKEY_ERR_INVALID_EA;
	if (field_has(d, "data type"))
		return MIKEY_ERR_INVALID_DT;
	if (field_has(d, "ID type"))
		return MIKEY_ERR_INVALID_ID;
	if (d && d->payload && !strcmp(d->payload, "SP"))
		return field_has(d, "prot") ? MIKEY_ERR_INVALID_SP :
					      MIKEY_ERR_INVALID_SPPAR;
	return MIKEY_ERR_UNSPECIFIED;
}

enum mikey_errno mikey_errno_for_diag(enum cc_err err,
				      const struct mikey_diag *diag)
{
	switch (err) {
	case CC_ERR_BAD_MAC:
		return MIKEY_ERR_AUTH_FAILURE;
	case CC_ERR_STALE:
	case CC_ERR_FUTURE:
	case CC_ERR_REPLAY:
		/* RFC 3830 §5.3: replay and skew are timestamp failures */
		return MIKEY_ERR_INVALID_TS;
	case CC_ERR_UNKNOWN_USER:
		return MIKEY_ERR_INVALID_ID;
	case CC_ERR_TICKET_TYPE:
		return MIKEY_ERR_INVALID_TICKET;
	case CC_ERR_POLICY:
	case CC_ERR_EXPIRED:
	case CC_ERR_NOT_YET_VALID:
	case CC_ERR_NOT_AUTHORISED:
		/* the Ticket Policy (validity, IDRr, flags) does not allow it */
		return MIKEY_ERR_INVALID_TPPAR;
	case CC_ERR_UNSUPPORTED:
		return unsupported(diag);
	default:
		return MIKEY_ERR_UNSPECIFIED;
	}
}

enum mikey_errno mikey_errno_for(enum cc_err err)
{
	return mikey_errno_for_diag(err, NULL);
}

enum cc_err mikey_build_error(const struct mikey_hdr *failed, uint64_t now_ntp,
			      enum mikey_errno errno_, struct cc_wr *wr)
{
	struct mikey_msg m;
	struct mikey_msg *msg = &m;
	struct mikey_pl *pl;

	mikey_msg_init(msg, MIKEY_DT_ERROR, false,
		       failed ? (enum mikey_prf)failed->prf : MIKEY_PRF_MIKEY1,
		       failed ? failed->csb_id : 0, MIKEY_MAP_EMPTY);
	pl = mikey_chain_add(&msg->ch, MIKEY_PT_T);
	pl->u.t.type = MIKEY_TS_NTP_UTC;
	pl->u.t.value = now_ntp;
	pl = mikey_chain_add(&msg->ch, MIKEY_PT_ERR);
	pl->u.err.errno_ = (uint8_t)errno_;
	return mikey_encode(msg, wr);
}
