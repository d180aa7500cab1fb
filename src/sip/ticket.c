/*
 * ticket.c -- the Ticket Policy of a TRANSFER_INIT's TICKET
 * (RFC 6043 §6.10): its IDRr list is a creation ticket's allowed set
 * (DESIGN.md D3).
 */
#include <conclave/mikey_wire.h>
#include <conclave/sipglue.h>

#include <string.h>

static enum cc_err add_id(struct cc_slice id, char (*out)[KMSC_MAX_ID],
			  size_t cap, size_t *n)
{
	if (*n >= cap)
		return CC_ERR_FULL;
	if (!id.len || id.len >= KMSC_MAX_ID || memchr(id.p, '\0', id.len))
		return CC_ERR_MALFORMED;
	memcpy(out[*n], id.p, id.len);
	out[*n][id.len] = '\0';
	(*n)++;
	return CC_OK;
}

enum cc_err sipglue_ticket_responders(const uint8_t *xinit, size_t len,
				      char (*out)[KMSC_MAX_ID], size_t cap,
				      size_t *n)
{
	const struct mikey_pl *tk;
	struct mikey_msg m;
	struct mikey_chain ch;
	enum cc_err err;
	size_t i;

	if (!xinit || !out || !n)
		return CC_ERR_INVAL;
	*n = 0;
	err = mikey_decode(xinit, len, &m, NULL);
	if (err)
		return err;
	if (m.hdr.data_type != MIKEY_DT_TRANSFER_INIT)
		return CC_ERR_UNSUPPORTED;
	tk = mikey_chain_find(&m.ch, MIKEY_PT_TICKET, 0);
	if (!tk)
		return CC_ERR_MISSING;
	err = mikey_decode_chain(tk->u.ticket.tp_data.p,
				 tk->u.ticket.tp_data.len, true, &ch, NULL);
	for (i = 0; !err && i < ch.n; i++)
		if (ch.pl[i].type == MIKEY_PT_IDR &&
		    ch.pl[i].u.id.role == MIKEY_IDR_R)
			err = add_id(ch.pl[i].u.id.data, out, cap, n);
	if (!err && !*n)
		err = CC_ERR_MISSING;
	if (err)
		*n = 0;
	return err;
}
