/*
 * build.c -- small builders for messages and chains, so that every
 * message of RFC 6043 mode 1 is assembled the same way.
 */
#include <conclave/mikey.h>

#include <string.h>

void mikey_msg_init(struct mikey_msg *msg, uint8_t data_type, bool v,
		    enum mikey_prf prf, uint32_t csb_id, uint8_t map_type)
{
	memset(&msg->hdr, 0, sizeof(msg->hdr));
	msg->ch.n = 0;
	msg->ch.overflow = false;
	msg->hdr.version = MIKEY_VERSION;
	msg->hdr.data_type = data_type;
	msg->hdr.v = v;
	msg->hdr.prf = (uint8_t)prf;
	msg->hdr.csb_id = csb_id;
	msg->hdr.map_type = map_type;
}

struct cc_slice mikey_str(const char *s)
{
	return (struct cc_slice){ (const uint8_t *)s, s ? strlen(s) : 0 };
}

struct mikey_pl *mikey_add_t(struct mikey_chain *ch, uint8_t ts_type,
			     uint64_t value)
{
	struct mikey_pl *pl = mikey_chain_add(ch, MIKEY_PT_T);

	if (pl) {
		pl->u.t.type = ts_type;
		pl->u.t.value = value;
	}
	return pl;
}

struct mikey_pl *mikey_add_tr(struct mikey_chain *ch, uint8_t role,
			      uint8_t ts_type, uint64_t value)
{
	struct mikey_pl *pl = mikey_chain_add(ch, MIKEY_PT_TR);

	if (pl) {
		pl->u.tr.role = role;
		pl->u.tr.ts.type = ts_type;
		pl->u.tr.ts.value = value;
	}
	return pl;
}

struct mikey_pl *mikey_add_randr(struct mikey_chain *ch, uint8_t role,
				 struct cc_slice rand)
{
	struct mikey_pl *pl = mikey_chain_add(ch, MIKEY_PT_RANDR);

	if (pl) {
		pl->u.rand.role = role;
		pl->u.rand.data = rand;
	}
	return pl;
}

struct mikey_pl *mikey_add_idr(struct mikey_chain *ch, uint8_t role,
			       uint8_t id_type, struct cc_slice id)
{
	struct mikey_pl *pl = mikey_chain_add(ch, MIKEY_PT_IDR);

	if (pl) {
		pl->u.id.role = role;
		pl->u.id.type = id_type;
		pl->u.id.data = id;
	}
	return pl;
}

struct mikey_pl *mikey_add_sp(struct mikey_chain *ch, uint8_t policy_no,
			      struct cc_slice params)
{
	struct mikey_pl *pl = mikey_chain_add(ch, MIKEY_PT_SP);

	if (pl) {
		pl->u.sp.policy_no = policy_no;
		pl->u.sp.prot = MIKEY_PROT_SRTP;
		pl->u.sp.params = params;
	}
	return pl;
}

struct mikey_pl *mikey_add_kemac(struct mikey_chain *ch)
{
	return mikey_chain_add(ch, MIKEY_PT_KEMAC);
}

struct mikey_pl *mikey_add_v(struct mikey_chain *ch)
{
	return mikey_chain_add(ch, MIKEY_PT_V);
}

struct mikey_pl *mikey_add_ext(struct mikey_chain *ch, uint8_t type,
			       struct cc_slice data)
{
	struct mikey_pl *pl = mikey_chain_add(ch, MIKEY_PT_GENEXT);

	if (pl) {
		pl->u.ext.type = type;
		pl->u.ext.data = data;
	}
	return pl;
}

enum cc_err mikey_hdr_add_cs(struct mikey_hdr *h, uint8_t cs_id,
			     uint8_t policy_no, bool has_ssrc, uint32_t ssrc,
			     const uint8_t *spi, uint8_t spi_len)
{
	struct mikey_cs *cs;

	if (h->ncs >= MIKEY_MAX_CS || spi_len > MIKEY_MAX_SPI)
		return CC_ERR_FULL;
	cs = &h->cs[h->ncs++];
	memset(cs, 0, sizeof(*cs));
	cs->cs_id = cs_id;
	cs->prot = MIKEY_PROT_SRTP;
	cs->npol = 1;
	cs->policies[0] = policy_no;
	cs->has_ssrc = has_ssrc;
	cs->ssrc = ssrc;
	cs->spi_len = spi_len;
	if (spi_len)
		memcpy(cs->spi, spi, spi_len);
	return CC_OK;
}
