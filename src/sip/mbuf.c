/*
 * mbuf.c -- the key-mgmt helpers over libre message bodies.
 */
#include <re.h>

#include <conclave/sipglue.h>

enum cc_err sipglue_km_parse_mbuf(const struct mbuf *mb, struct sipglue_km *km)
{
	if (!mb)
		return CC_ERR_INVAL;
	return sipglue_km_parse((const char *)mbuf_buf(mb), mbuf_get_left(mb),
				km);
}
