/*
 * ua_owner.c -- the conference owner replaces the allowed set (issue 6
 * §1, seed 000 §5.3.3.1.2, DESIGN.md D3): a new ticket from the KMS whose
 * responders are the focus and the new set, and a re-INVITE in our dialog
 * whose offer carries the TRANSFER_INIT of a new CSB. A 200 OK carries the
 * focus's TRANSFER_RESP; the new CSB then replaces the old one (later
 * updates are on it). libre 1.1.0's sipsess does not report a non-2xx
 * answer to its own re-INVITEs, so this one is sent with sip_drequestf and
 * its 2xx acknowledged here.
 */
#include <re.h>

#include "ua.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static struct {
	struct kmsc_httpc *httpc;
	struct kmsc_request rq;
	struct kmsc_ticket ticket;
	struct kmsc_csb csb; /* the new CSB until the focus answers */
	struct sip_request *req, *ack;
	uint32_t cseq; /* of the re-INVITE, for its ACK */
	bool busy;
} O;

static void done(const char *what, const char *why)
{
	ua_say("allowed-set update %s%s", what, why);
	kmsc_csb_free(&O.csb);
	kmsc_ticket_wipe(&O.ticket);
	O.busy = false;
}

static void ack(const struct sip_msg *msg)
{
	struct sipsess *sess = ua_sip_sess();

	if (!sess)
		return;
	O.cseq = msg->cseq.num; /* the INVITE's */
	O.ack = mem_deref(O.ack);
	(void)sip_drequestf(&O.ack, ua_sip_stack(), false, "ACK",
			    sipsess_dialog(sess), O.cseq, NULL, NULL, NULL,
			    NULL, "Content-Length: 0\r\n\r\n");
}

static void resp_h(int err, const struct sip_msg *msg, void *arg)
{
	static struct sipglue_km km;
	const char *accept[1] = { U.focus };
	struct kmsc_env env = ua_env();
	struct kmsc_status st = { .kind = KMSC_FAIL_NONE };
	struct kmsc_csb *csb = ua_sip_csb();
	char sbuf[160], code[64];
	enum cc_err e;

	(void)arg;
	if (err) {
		done("failed: ", strerror(err));
		return;
	}
	if (msg->scode < 200)
		return;
	if (msg->scode >= 300) {
		(void)re_snprintf(code, sizeof(code), "%u %r", msg->scode,
				  &msg->reason);
		done("refused: ", code);
		return;
	}
	ack(msg);
	e = sipglue_km_parse_mbuf(msg->mb, &km);
	if (!e)
		e = kmsc_transfer_resp_open(&O.csb, km.mikey, km.mikey_len,
					    accept, 1, &env, &st);
	cc_wipe(&km, sizeof(km));
	if (e) {
		done("failed: bad answer: ",
		     st.kind != KMSC_FAIL_NONE ?
			     kmsc_status_str(&st, sbuf, sizeof(sbuf)) :
			     cc_strerror(e));
		return;
	}
	kmsc_csb_free(csb);
	*csb = O.csb;
	memset(&O.csb, 0, sizeof(O.csb));
	if (ua_media_keys(csb, false) == CC_ERR_MISSING)
		ua_say("allowed-set update: no group key in the answer");
	done("accepted", "");
}

static int send_invite(void)
{
	static uint8_t xi[KMSC_MAX_MSG];
	static char sdp[SIPGLUE_MAX_SDP];
	struct sipsess *sess = ua_sip_sess();
	struct sipglue_media audio = { .type = "audio",
				       .port = U.rtp_port,
				       .proto = "RTP/SAVP",
				       .fmt = "0" };
	struct kmsc_transfer_opts xo = { .responder = U.focus,
					 .ssrc = &U.ssrc,
					 .nmedia = 1 };
	struct sipglue_sdp_opts so = { .addr = ua_sip_laddr(),
				       .sess_id = (uint64_t)U.t0,
				       .sess_ver = 100 + U.rekeys,
				       .mikey = xi,
				       .media = &audio,
				       .nmedia = 1,
				       .dir = "sendrecv" };
	struct kmsc_env env = ua_env();
	struct sa laddr;
	size_t n = 0;
	int err;

	if (!sess)
		return ENOTCONN;
	ua_sdp_audio(&audio);
	if (kmsc_transfer_init(&O.csb, &O.ticket, &U.cred, &xo, &env, xi,
			       sizeof(xi), &so.mikey_len))
		return EPROTO;
	err = sipglue_sdp_build(&so, sdp, sizeof(sdp), &n) ? ENOSPC : 0;
	cc_wipe(xi, sizeof(xi));
	if (!err)
		err = sip_transp_laddr(ua_sip_stack(), &laddr,
				       (enum sip_transp)ua_transport(), NULL);
	if (err)
		return err;
	O.req = mem_deref(O.req);
	err = sip_drequestf(&O.req, ua_sip_stack(), true, "INVITE",
			    sipsess_dialog(sess), 0, NULL, NULL, resp_h, NULL,
			    "Contact: <sip:ua@%J%s>\r\n"
			    "Content-Type: application/sdp\r\n"
			    "Content-Length: %zu\r\n\r\n%b",
			    &laddr, ua_transport_param(), n, sdp, n);
	return err;
}

static void ticket_h(const struct kmsc_status *hs, const uint8_t *body,
		     size_t len, void *arg)
{
	struct kmsc_env env = ua_env();
	struct kmsc_status st;
	char sbuf[160];
	int err;

	(void)arg;
	if (hs->kind != KMSC_FAIL_NONE) {
		done("failed: KMS: ", kmsc_status_str(hs, sbuf, sizeof(sbuf)));
		return;
	}
	if (kmsc_request_open(&O.rq, &U.cred, body, len, &env, &O.ticket,
			      &st)) {
		done("failed: ticket refused: ",
		     kmsc_status_str(&st, sbuf, sizeof(sbuf)));
		return;
	}
	err = send_invite();
	if (err)
		done("failed: re-INVITE: ", strerror(err));
	else
		ua_say("allowed-set update: re-INVITE sent");
}

void ua_owner_allow(const char *list)
{
	static char ids[KMSC_MAX_RESPONDERS][KMSC_MAX_ID];
	const char *to[KMSC_MAX_RESPONDERS];
	struct kmsc_request_opts ro = { .use = KMSC_JOIN_CONFERENCE,
					.responders = to,
					.lifetime = 3600 };
	struct kmsc_http_opts ho = { .timeout_ms = 5000 };
	struct kmsc_env env = ua_env();
	const char *p = list;

	if (O.busy || !ua_sip_sess() || !U.focus[0]) {
		ua_say("allow: %s",
		       O.busy ? "an update is in progress" : "not joined");
		return;
	}
	to[0] = U.focus;
	ro.nresponders = 1;
	while (*p) {
		size_t l = strcspn(p, ", ");

		if (l && (ro.nresponders >= KMSC_MAX_RESPONDERS ||
			  l >= KMSC_MAX_ID)) {
			ua_say("allow: too many or too long identities");
			return;
		}
		if (l) {
			memcpy(ids[ro.nresponders], p, l);
			ids[ro.nresponders][l] = '\0';
			to[ro.nresponders] = ids[ro.nresponders];
			ro.nresponders++;
		}
		p += l + (p[l] != '\0');
	}
	if (!O.httpc && kmsc_httpc_alloc(&O.httpc, &ho)) {
		ua_say("allow: no HTTP client");
		return;
	}
	if (kmsc_request_build(&O.rq, &U.cred, &ro, &env) ||
	    kmsc_http_post(O.httpc, U.cred.kms_url, O.rq.msg, O.rq.len,
			   ticket_h, NULL)) {
		ua_say("allow: ticket request failed");
		return;
	}
	O.busy = true;
	ua_say("allowed-set update: ticket for %zu identity(ies) requested",
	       ro.nresponders - 1);
}

void ua_owner_close(void)
{
	O.req = mem_deref(O.req);
	O.ack = mem_deref(O.ack);
	kmsc_httpc_free(O.httpc);
	O.httpc = NULL;
	kmsc_csb_free(&O.csb);
	kmsc_ticket_wipe(&O.ticket);
}
