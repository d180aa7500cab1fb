/*
 * ua_rekey.c -- a re-INVITE from the focus carrying a CSB update
 * TRANSFER_INIT (RFC 6043 §5.2, DESIGN.md D7): verify it with the CSB's
 * update keys (kmsc_update_open), install the new epoch for receiving at
 * once, and answer 200 OK whose SDP holds the update TRANSFER_RESP. The
 * sender switches later (ua_media.c: the first packet heard under the new
 * MKI, or --switch-after). A bad update gets 488 and changes nothing.
 * A re-INVITE without key-mgmt (a session refresh) is answered with our
 * media and no key-mgmt.
 */
#include <re.h>

#include "ua.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static struct kmsc_update upd;

static int answer_sdp(const char *ip, const uint8_t *resp, size_t rlen,
		      struct mbuf **descp)
{
	static char sdp[SIPGLUE_MAX_SDP];
	struct sipglue_media audio = { .type = "audio",
				       .port = U.rtp_port,
				       .proto = "RTP/SAVP",
				       .fmt = "0" };
	struct sipglue_sdp_opts so = { .addr = ip,
				       .sess_id = (uint64_t)U.t0,
				       .sess_ver = 2 + U.rekeys,
				       .mikey = resp,
				       .mikey_len = rlen,
				       .media = &audio,
				       .nmedia = 1,
				       .dir = "sendrecv" };
	struct mbuf *mb;
	size_t n = 0;

	ua_sdp_audio(&audio);
	if (sipglue_sdp_build(&so, sdp, sizeof(sdp), &n))
		return ENOSPC;
	mb = mbuf_alloc(n);
	if (!mb)
		return ENOMEM;
	if (mbuf_write_mem(mb, (const uint8_t *)sdp, n)) {
		mem_deref(mb);
		return ENOMEM;
	}
	mb->pos = 0;
	*descp = mb;
	return 0;
}

int ua_rekey_offer(struct kmsc_csb *c, const char *ip,
		   const struct sip_msg *msg, struct mbuf **descp)
{
	static struct sipglue_km km;
	static uint8_t resp[KMSC_MAX_MSG];
	struct kmsc_env env = ua_env();
	struct kmsc_status st = { .kind = KMSC_FAIL_NONE };
	char sbuf[160];
	size_t n = 0;
	enum cc_err err;
	int serr;

	err = sipglue_km_parse_mbuf(msg->mb, &km);
	if (err == CC_ERR_MISSING) {
		ua_say("re-INVITE without key-mgmt: media unchanged");
		return answer_sdp(ip, NULL, 0, descp);
	}
	if (!err)
		err = kmsc_update_open(c, km.mikey, km.mikey_len, &env, &upd,
				       &st);
	cc_wipe(&km, sizeof(km));
	if (err) {
		ua_say("rekey refused: %s",
		       st.kind != KMSC_FAIL_NONE ?
			       kmsc_status_str(&st, sbuf, sizeof(sbuf)) :
			       cc_strerror(err));
		kmsc_update_wipe(&upd);
		return EPROTO;
	}
	U.rekeys++;
	err = ua_media_keys(c, false);
	if (err)
		ua_say("rekey: group keys: %s", cc_strerror(err));
	if (!err && upd.want_resp)
		err = kmsc_update_resp(c, &env, &upd, resp, sizeof(resp), &n);
	kmsc_update_wipe(&upd);
	if (err) {
		cc_wipe(resp, sizeof(resp));
		return EPROTO;
	}
	serr = answer_sdp(ip, resp, n, descp);
	cc_wipe(resp, sizeof(resp));
	if (serr)
		return serr;
	ua_say("rekey answered (update %u)", U.rekeys);
	ua_media_update_done();
	return 0;
}

static const struct kmsc_tek *send_tek(const struct kmsc_csb *c)
{
	/* our stream (A22): CS 1 if we called, CS 2 if the focus did */
	return kmsc_csb_tek(c, U.cs_own ? U.cs_own : 1);
}

void ua_rekey_info(struct kmsc_csb *c, struct sip *sip,
		   const struct sip_msg *msg)
{
	static struct kmsc_update u;
	struct kmsc_env env = ua_env();
	struct kmsc_status st = { .kind = KMSC_FAIL_NONE };
	const struct sip_hdr *pkg = sip_msg_xhdr(msg, "Info-Package");
	const struct kmsc_tek *t;
	char sbuf[160];
	enum cc_err err;
	uint32_t mki;

	if (!pkg || pl_strcasecmp(&pkg->val, "mikey-switch")) {
		ua_say("INFO %s: 469 (not a package we receive)",
		       pkg ? "with another Info-Package" : "without a package");
		(void)sip_treplyf(NULL, NULL, sip, msg, false, 469,
				  "Bad Info Package",
				  "Recv-Info: mikey-switch\r\n"
				  "Content-Length: 0\r\n\r\n");
		return;
	}
	if (!msg->mb || !mbuf_get_left(msg->mb) ||
	    msg_ctype_cmp(&msg->ctyp, "application", "mikey") == false) {
		ua_say("switch INFO refused: no application/mikey body");
		(void)sip_treply(NULL, sip, msg, 415, "Unsupported Media Type");
		return;
	}
	err = kmsc_update_open(c, mbuf_buf(msg->mb), mbuf_get_left(msg->mb),
			       &env, &u, &st);
	kmsc_update_wipe(&u);
	t = send_tek(c);
	if (!err && (!t || t->spi_len != MEDIA_MKI_LEN || !(t->spi[0] & 0x80)))
		err = CC_ERR_MISSING;
	if (err) {
		ua_say("switch INFO refused: %s",
		       st.kind != KMSC_FAIL_NONE ?
			       kmsc_status_str(&st, sbuf, sizeof(sbuf)) :
			       cc_strerror(err));
		(void)sip_treply(NULL, sip, msg, 400, "Bad MIKEY Update");
		return;
	}
	mki = (uint32_t)t->spi[0] << 24 | (uint32_t)t->spi[1] << 16 |
	      (uint32_t)t->spi[2] << 8 | t->spi[3];
	(void)sip_treply(NULL, sip, msg, 200, "OK");
	ua_media_switch(mki);
}

void ua_rekey_free(void)
{
	kmsc_update_wipe(&upd);
}
