/*
 * ua_sip.c -- the participant's signalling: a ticket from the KMS
 * (RFC 6043 §4.2.1), one INVITE whose SDP carries the TRANSFER_INIT in
 * a=key-mgmt:mikey (RFC 4567), the TRANSFER_RESP in the 200 OK with the
 * group keys (TR 33.829 clause 5.3), re-INVITEs with CSB updates (rekey,
 * RFC 6043 §5.2), and BYE.
 *
 * create: the ticket's responders are the factory and the allowed set
 * (DESIGN.md D3); the answer comes from a focus of that factory, so the
 * TRANSFER_RESP's IDRr must match the factory's focus pattern (D5).
 * join: the ticket names the focus URI, and only it may answer.
 * listen: the focus calls us (dial-out after a REFER, RFC 4579 §5.5): its
 * TRANSFER_INIT is resolved at the KMS (which authenticates the focus),
 * the group keys come in its KEMAC (L = 1), our stream is CS 2 with the
 * SSRC the focus assigned, and our 200 carries the TRANSFER_RESP.
 * REFER: `invite`/`refer` on stdin send one; a REFER to a listening ua
 * outside a dialog naming a focus (RFC 4579 §5.6) is answered 202 and the
 * ua dials in with a ticket of its own, NOTIFYing the referrer; NOTIFYs
 * (sipfrag) we get are logged and answered.
 */
/* libre is built on OpenSSL; this exposes tls_openssl_context() */
#define USE_OPENSSL 1
#include <re.h>

#include "ua.h"

#include <openssl/ssl.h>

#include <errno.h>
#include <string.h>
#include <time.h>

static struct {
	struct kmsc_ticket ticket;
	struct kmsc_csb csb;
	struct sip *sip;
	struct sipsess_sock *sock;
	struct sipsess *sess;
	struct sip_request *bye;
	struct mbuf *offer;
	struct tmr deadline;
	char ruri[KMSC_MAX_ID + 64];
	char accept[KMSC_MAX_ID];
	char laddr_ip[64];
	bool established, bye_sent;
	/* listen: the focus's INVITE while the KMS resolves its ticket */
	struct kmsc_responder r;
	struct kmsc_httpc *httpc;
	const struct sip_msg *inv;
	struct sip_lsnr *lsnr; /* REFER and NOTIFY, ahead of sipsess */
	struct sip_request *refer;
	/* referred to a conference (RFC 4579 §5.6): the REFER's implicit
	 * subscription, our NOTIFYs on it, and the ticket request */
	struct sip_dialog *rdlg;
	struct sip_request *rntfy;
	struct tls *tls;
	struct kmsc_request rq;
	char referred[KMSC_MAX_ID];
} S;

struct sip *ua_sip_stack(void)
{
	return S.sip;
}

struct sipsess *ua_sip_sess(void)
{
	return S.established ? S.sess : NULL;
}

struct kmsc_csb *ua_sip_csb(void)
{
	return &S.csb;
}

const char *ua_sip_laddr(void)
{
	return S.laddr_ip;
}

struct kmsc_env ua_env(void)
{
	return (struct kmsc_env){ .now = (int64_t)time(NULL),
				  .skew = U.o.skew,
				  .rand = kmsc_rand_system };
}

static void finish(int rc)
{
	if (U.done)
		return;
	U.done = true;
	U.rc = rc;
	if (!U.ended) /* ua_live.c sets focus-lost and timeout itself */
		U.ended = rc ? "failed" : U.leaving ? "left" : "focus-bye";
	re_cancel();
}

/* ---- the ticket and the offer --------------------------------------------- */

static int responders(const char **to, char (*ids)[KMSC_MAX_ID], size_t *n)
{
	const char *p = U.o.allow;

	to[0] = U.target;
	*n = 1;
	while (p && *p) {
		size_t l = strcspn(p, ",");

		if (*n >= KMSC_MAX_RESPONDERS || l >= KMSC_MAX_ID)
			return E2BIG;
		memcpy(ids[*n], p, l);
		ids[*n][l] = '\0';
		to[*n] = ids[*n];
		(*n)++;
		p += l + (p[l] == ',');
	}
	return 0;
}

static int get_ticket(void)
{
	static char ids[KMSC_MAX_RESPONDERS][KMSC_MAX_ID];
	const char *to[KMSC_MAX_RESPONDERS];
	struct kmsc_request_opts ro = { .use = KMSC_JOIN_CONFERENCE,
					.responders = to,
					.lifetime = 3600 };
	struct kmsc_http_opts ho = { .timeout_ms = 5000 };
	struct kmsc_env env = ua_env();
	struct kmsc_status st;
	char sbuf[160];
	int err;

	err = responders(to, ids, &ro.nresponders);
	if (err) {
		fprintf(stderr, "conclave ua: --allow: too many or too long\n");
		return err;
	}
	if (kmsc_request_ticket(&U.cred, &ro, &env, &ho, &S.ticket, &st)) {
		ua_say("ticket FAIL %s",
		       kmsc_status_str(&st, sbuf, sizeof(sbuf)));
		return EACCES;
	}
	ua_say("ticket ok (%zu responder(s))", ro.nresponders);
	return 0;
}

static int build_offer(uint16_t rtp_port)
{
	static uint8_t xi[KMSC_MAX_MSG];
	static char sdp[SIPGLUE_MAX_SDP];
	struct sipglue_media audio = { .type = "audio",
				       .port = rtp_port,
				       .proto = "RTP/SAVP",
				       .fmt = "0" };
	struct kmsc_transfer_opts xo = { .responder = U.target,
					 .ssrc = &U.ssrc,
					 .nmedia = 1 };
	struct sipglue_sdp_opts so = { .addr = S.laddr_ip,
				       .sess_id = (uint64_t)time(NULL),
				       .sess_ver = 1,
				       .mikey = xi,
				       .media = &audio,
				       .nmedia = 1,
				       .dir = "sendrecv" };
	struct kmsc_env env = ua_env();
	size_t n = 0;

	ua_sdp_audio(&audio);
	if (U.o.ssrc)
		U.ssrc = U.o.ssrc;
	else if (kmsc_rand_system((uint8_t *)&U.ssrc, sizeof(U.ssrc), NULL))
		return EPROTO;
	if (kmsc_transfer_init(&S.csb, &S.ticket, &U.cred, &xo, &env, xi,
			       sizeof(xi), &so.mikey_len))
		return EPROTO;
	if (sipglue_sdp_build(&so, sdp, sizeof(sdp), &n))
		return ENOSPC;
	S.offer = mbuf_alloc(n);
	if (!S.offer || mbuf_write_mem(S.offer, (const uint8_t *)sdp, n))
		return ENOMEM;
	S.offer->pos = 0;
	return 0;
}

/* ---- the answer ------------------------------------------------------------- */

static void header_uri(const struct sip_msg *msg, const char *name, char *out,
		       size_t cap)
{
	const struct sip_hdr *h = sip_msg_xhdr(msg, name);

	out[0] = '\0';
	if (!h)
		return;
	(void)re_snprintf(out, cap, "%r", &h->val);
	if (out[0] == '<') {
		memmove(out, out + 1, strlen(out));
		out[strcspn(out, ">")] = '\0';
	}
}

/* c= and the first m-line's port; no address if inactive or port 0/9. */
static void media_target(const struct sip_msg *msg, const struct sipglue_km *km)
{
	const char *p = (const char *)mbuf_buf(msg->mb);
	size_t l = mbuf_get_left(msg->mb);
	struct pl addr;
	char ip[64];
	uint16_t port = km->nmedia ? km->media[0].port : 0;

	if (re_regex(p, l, "c=IN IP[46]1 [^ \r\n]+", NULL, &addr) ||
	    addr.l >= sizeof(ip)) {
		ua_say("answer: no c= line, no media");
		return;
	}
	pl_strcpy(&addr, ip, sizeof(ip));
	if (port == 0 || port == 9 || !re_regex(p, l, "a=inactive")) {
		ua_say("answer: media inactive (focus has no media plane)");
		return;
	}
	if (ua_media_start(ip, port))
		ua_say("answer: bad media address %s:%u", ip, port);
	else
		ua_say("media to %s", U.media_addr);
}

static int answer_h(const struct sip_msg *msg, void *arg)
{
	static struct sipglue_km km;
	const char *accept[1] = { S.accept };
	struct kmsc_env env = ua_env();
	struct kmsc_status st = { .kind = KMSC_FAIL_NONE };
	char sbuf[160];
	enum cc_err err;

	(void)arg;
	ua_say("status %u", msg->scode);
	header_uri(msg, "X-Conclave-Focus", U.focus, sizeof(U.focus));
	if (!U.focus[0]) /* a join: the focus is whom we called */
		(void)re_snprintf(U.focus, sizeof(U.focus), "%s", U.target);
	ua_say("focus %s", U.focus);
	err = sipglue_km_parse_mbuf(msg->mb, &km);
	if (!err)
		err = kmsc_transfer_resp_open(&S.csb, km.mikey, km.mikey_len,
					      accept, 1, &env, &st);
	if (err) {
		ua_say("transfer-resp FAIL %s",
		       st.kind != KMSC_FAIL_NONE ?
			       kmsc_status_str(&st, sbuf, sizeof(sbuf)) :
			       cc_strerror(err));
		cc_wipe(&km, sizeof(km));
		return EPROTO;
	}
	ua_say("transfer-resp ok (answered by %s)", S.csb.peer_r);
	err = ua_media_keys(&S.csb, true);
	if (err) {
		ua_say("group keys FAIL %s", cc_strerror(err));
		cc_wipe(&km, sizeof(km));
		return EPROTO;
	}
	ua_say("ssrc %08x sending mki 0x%08x", U.ssrc,
	       media_member_sending_mki(U.mm));
	media_target(msg, &km);
	cc_wipe(&km, sizeof(km));
	return 0;
}

static void referred_notify(uint16_t code, const char *reason, bool final);
static void referred(const struct sip_msg *msg, const struct pl *to);

static void estab_h(const struct sip_msg *msg, void *arg)
{
	FILE *f;

	(void)arg;
	S.established = true;
	U.joined = true;
	ua_watch_dialog(msg);
	/* the focus file first: a script that sees "joined" reads it */
	if (U.o.focus_out && (f = fopen(U.o.focus_out, "w")) != NULL) {
		fprintf(f, "%s\n", U.focus);
		fclose(f);
	}
	ua_say("joined %s", U.focus);
	referred_notify(200, "OK", true);
	ua_live_start(S.sip, S.sess);
	if (U.leaving) /* asked to leave while the call was set up */
		ua_sip_leave("leave requested");
}

static int offer_h(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	(void)arg;
	return ua_rekey_offer(&S.csb, S.laddr_ip, msg, descp);
}

static void info_h(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	(void)arg;
	ua_rekey_info(&S.csb, sip, msg);
}

static void close_h(int err, const struct sip_msg *msg, void *arg)
{
	const struct sip_hdr *h;

	(void)arg;
	/* libre reports a BYE from the peer as ECONNRESET without a msg */
	if ((msg && msg->req) || (!msg && err == ECONNRESET)) {
		ua_say("bye received");
		finish(0);
		return;
	}
	if (msg && msg->scode >= 300) {
		ua_say("status %u %.*s", msg->scode, (int)msg->reason.l,
		       msg->reason.p);
		if (!U.joined)
			referred_notify(msg->scode, "Refused", true);
		h = sip_msg_xhdr(msg, "Warning");
		if (h)
			ua_say("warning %.*s", (int)h->val.l, h->val.p);
		finish(1);
		return;
	}
	ua_say("closed %s", err ? strerror(err) : "-");
	finish(err ? 1 : 0);
}

/* ---- listen: the focus calls us ------------------------------------------- */

static int listen_answer(void)
{
	static uint8_t resp[KMSC_MAX_MSG];
	static char sdp[SIPGLUE_MAX_SDP];
	static struct sipglue_km km;
	struct sipglue_media audio = { .type = "audio",
				       .port = U.rtp_port,
				       .proto = "RTP/SAVP",
				       .fmt = "0" };
	struct kmsc_answer_opts o = { .ssrc = &U.ssrc, .nmedia = 1 };
	struct sipglue_sdp_opts so = { .addr = S.laddr_ip,
				       .sess_id = (uint64_t)time(NULL),
				       .sess_ver = 1,
				       .mikey = resp,
				       .media = &audio,
				       .nmedia = 1,
				       .dir = "sendrecv" };
	struct kmsc_env env = ua_env();
	struct mbuf *mb = NULL;
	size_t n = 0;
	int err = 0;

	ua_sdp_audio(&audio);
	if (kmsc_rand_system((uint8_t *)&U.ssrc, sizeof(U.ssrc), NULL) ||
	    kmsc_transfer_resp(&S.csb, &o, &env, resp, sizeof(resp),
			       &so.mikey_len))
		return EPROTO;
	U.cs_own = 2;
	if (ua_media_keys(&S.csb, true)) {
		ua_say("group keys FAIL (no key from the focus)");
		return EPROTO;
	}
	if (sipglue_sdp_build(&so, sdp, sizeof(sdp), &n))
		err = ENOSPC;
	cc_wipe(resp, sizeof(resp));
	if (!err && (mb = mbuf_alloc(n)) == NULL)
		err = ENOMEM;
	if (!err && !(err = mbuf_write_mem(mb, (const uint8_t *)sdp, n))) {
		mb->pos = 0;
		err = sipsess_answer(S.sess, 200, "OK", mb,
				     "Recv-Info: mikey-switch\r\n");
	}
	mem_deref(mb);
	if (!err && !sipglue_km_parse_mbuf(S.inv->mb, &km))
		media_target(S.inv, &km);
	cc_wipe(&km, sizeof(km));
	ua_say("ssrc %08x sending mki 0x%08x", U.ssrc,
	       U.mm ? media_member_sending_mki(U.mm) : 0);
	return err;
}

static void listen_kms_h(const struct kmsc_status *hs, const uint8_t *body,
			 size_t len, void *arg)
{
	struct kmsc_env env = ua_env();
	struct kmsc_status st;
	char sbuf[160];

	(void)arg;
	if (!S.sess || !S.inv)
		return;
	if (hs->kind != KMSC_FAIL_NONE ||
	    kmsc_resolve_open(&S.csb, &S.r, body, len, &env, &st)) {
		ua_say("call refused: %s",
		       kmsc_status_str(hs->kind != KMSC_FAIL_NONE ? hs : &st,
				       sbuf, sizeof(sbuf)));
		(void)sipsess_reject(
			S.sess, hs->kind == KMSC_FAIL_TRANSPORT ? 503 : 488,
			hs->kind == KMSC_FAIL_TRANSPORT ? "KMS Unavailable" :
							  "Not Acceptable Here",
			NULL);
		S.sess = mem_deref(S.sess);
		return;
	}
	/* the KMS vouched for the initiator: the focus that calls us */
	(void)re_snprintf(U.focus, sizeof(U.focus), "%s", S.csb.initiator);
	ua_say("called by %s (authenticated by the KMS)", U.focus);
	if (listen_answer()) {
		(void)sipsess_reject(S.sess, 500, "Server Error", NULL);
		S.sess = mem_deref(S.sess);
	}
}

static void listen_call(const struct sip_msg *msg)
{
	static uint8_t rinit[KMSC_MAX_MSG];
	static struct sipglue_km km;
	struct kmsc_http_opts ho = { .timeout_ms = 5000 };
	struct kmsc_env env = ua_env();
	struct kmsc_status st;
	char sbuf[160];
	size_t n = 0;
	int err;

	err = sipglue_km_parse_mbuf(msg->mb, &km) ? EPROTO : 0;
	if (err) {
		ua_say("call without a=key-mgmt: 488");
		(void)sip_treply(NULL, S.sip, msg, 488, "Not Acceptable Here");
		return;
	}
	S.r = (struct kmsc_responder){ .cred = &U.cred,
				       .identity = U.cred.identity };
	if (kmsc_resolve_init(&S.csb, &S.r, km.mikey, km.mikey_len, &env, rinit,
			      sizeof(rinit), &n, &st)) {
		ua_say("call refused: %s",
		       kmsc_status_str(&st, sbuf, sizeof(sbuf)));
		(void)sip_treply(NULL, S.sip, msg, 488, "Not Acceptable Here");
		cc_wipe(&km, sizeof(km));
		return;
	}
	cc_wipe(&km, sizeof(km));
	err = sipsess_accept(&S.sess, S.sock, msg, 180, "Ringing", "ua",
			     "application/sdp", NULL, NULL, NULL, false,
			     offer_h, answer_h, estab_h, info_h, NULL, close_h,
			     NULL, NULL);
	if (!err && !S.httpc)
		err = kmsc_httpc_alloc(&S.httpc, &ho) ? ENOMEM : 0;
	if (!err)
		err = kmsc_http_post(S.httpc, U.cred.kms_url, rinit, n,
				     listen_kms_h, NULL) ?
			      EIO :
			      0;
	if (err) {
		ua_say("call: %s", strerror(err));
		if (S.sess)
			(void)sipsess_reject(S.sess, 500, "Server Error", NULL);
		S.sess = mem_deref(S.sess);
		return;
	}
	S.inv = mem_ref((void *)msg);
	{
		char from[KMSC_MAX_ID];

		(void)re_snprintf(from, sizeof(from), "%r", &msg->from.auri);
		ua_say("call from %s: resolving the ticket", from);
	}
}

static void conn_h(const struct sip_msg *msg, void *arg)
{
	(void)arg;
	if (U.o.listen && !S.sess && !U.joined) {
		listen_call(msg);
		return;
	}
	(void)sip_treply(NULL, S.sip, msg, 486, "Busy Here");
}

/* ---- REFER and NOTIFY (RFC 3515) ------------------------------------------- */

static void refer_resp_h(int err, const struct sip_msg *msg, void *arg)
{
	(void)arg;
	if (err)
		ua_say("refer: %s", strerror(err));
	else if (msg->scode >= 200) {
		char r[64];

		(void)re_snprintf(r, sizeof(r), "%r", &msg->reason);
		ua_say("refer: %u %s", msg->scode, r);
	}
}

void ua_sip_refer(const char *uri, bool to_focus)
{
	struct sa laddr;
	int err;

	if (!S.established || !U.focus[0]) {
		ua_say("refer: not joined");
		return;
	}
	S.refer = mem_deref(S.refer);
	if (to_focus) {
		err = sip_drequestf(&S.refer, S.sip, true, "REFER",
				    sipsess_dialog(S.sess), 0, NULL, NULL,
				    refer_resp_h, NULL,
				    "Refer-To: <%s>\r\n"
				    "Content-Length: 0\r\n\r\n",
				    uri);
	} else {
		err = sip_transp_laddr(S.sip, &laddr, SIP_TRANSP_UDP, NULL);
		if (!err)
			err = sip_requestf(&S.refer, S.sip, true, "REFER", uri,
					   NULL, NULL, NULL, refer_resp_h, NULL,
					   "From: <%s>;tag=%x\r\n"
					   "To: <%s>\r\n"
					   "Call-ID: %x%x\r\n"
					   "CSeq: 1 REFER\r\n"
					   "Contact: <sip:ua@%J>\r\n"
					   "Max-Forwards: 70\r\n"
					   "Refer-To: <%s>\r\n"
					   "Content-Length: 0\r\n\r\n",
					   U.cred.identity, rand_u32(), uri,
					   rand_u32(), rand_u32(), &laddr,
					   U.focus);
	}
	if (err)
		ua_say("refer: %s", strerror(err));
	else
		ua_say("refer %s to %s sent", to_focus ? uri : U.focus,
		       to_focus ? "the focus" : uri);
}

static bool lsnr_h(const struct sip_msg *msg, void *arg)
{
	const struct sip_hdr *h;

	(void)arg;
	if (!pl_strcmp(&msg->met, "NOTIFY")) {
		h = sip_msg_hdr(msg, SIP_HDR_EVENT);
		if (!h || pl_strcasecmp(&h->val, "refer"))
			return false;
		{
			char frag[128];
			size_t n = mbuf_get_left(msg->mb);

			if (n >= sizeof(frag))
				n = sizeof(frag) - 1;
			memcpy(frag, mbuf_buf(msg->mb), n);
			frag[n] = '\0';
			frag[strcspn(frag, "\r\n")] = '\0';
			ua_say("refer: %s", frag);
		}
		(void)sip_treply(NULL, S.sip, msg, 200, "OK");
		return true;
	}
	if (!pl_strcmp(&msg->met, "REFER") && !pl_isset(&msg->to.tag)) {
		h = sip_msg_hdr(msg, SIP_HDR_REFER_TO);
		if (!h) {
			(void)sip_treply(NULL, S.sip, msg, 400,
					 "Missing Refer-To");
			return true;
		}
		{
			char to[KMSC_MAX_ID], from[KMSC_MAX_ID];

			(void)re_snprintf(to, sizeof(to), "%r", &h->val);
			(void)re_snprintf(from, sizeof(from), "%r",
					  &msg->from.auri);
			ua_say("referred to %s by %s", to, from);
		}
		if (U.o.listen && !S.sess && !U.joined && !S.rdlg)
			referred(msg, &h->val);
		else
			(void)sip_treply(NULL, S.sip, msg, 486, "Busy Here");
		return true;
	}
	return false;
}

/* ---- leaving ------------------------------------------------------------- */

static void bye_resp(int err, const struct sip_msg *msg, void *arg)
{
	(void)arg;
	if (!err && msg && msg->scode < 200)
		return;
	if (err || !msg)
		ua_say("bye error %s", strerror(err ? err : ETIMEDOUT));
	else
		ua_say("bye %u", msg->scode);
	finish(err || !msg || msg->scode >= 300 ? 1 : 0);
}

static void deadline_h(void *arg)
{
	(void)arg;
	ua_say("leave: no answer to BYE");
	finish(1);
}

void ua_sip_leave(const char *why)
{
	int err;

	if (U.done || S.bye_sent)
		return;
	if (!U.leaving)
		ua_say("leave (%s)", why);
	U.leaving = true;
	ua_media_stop();
	if (!S.sess) {
		finish(U.joined || U.o.listen ?
			       0 :
			       1); /* listen: no call is fine */
		return;
	}
	if (!S.established) {
		/* still calling: CANCEL; close_h or the deadline ends it */
		S.sess = mem_deref(S.sess);
		finish(1);
		return;
	}
	S.bye_sent = true;
	err = sip_drequestf(&S.bye, S.sip, true, "BYE", sipsess_dialog(S.sess),
			    0, NULL, NULL, bye_resp, NULL,
			    "Content-Length: 0\r\n\r\n");
	if (err) {
		ua_say("bye error %s", strerror(err));
		finish(1);
		return;
	}
	tmr_start(&S.deadline, 4000, deadline_h, NULL);
}

/* ---- start / stop --------------------------------------------------------- */

const char *ua_transport_param(void)
{
	return U.o.tls ? ";transport=tls" : U.o.tcp ? ";transport=tcp" : "";
}

int ua_transport(void)
{
	return U.o.tls ? SIP_TRANSP_TLS :
	       U.o.tcp ? SIP_TRANSP_TCP :
			 SIP_TRANSP_UDP;
}

/* --tls: our listener presents a throwaway certificate (the focus sends
 * re-INVITEs, INFOs and NOTIFYs to our Contact over TLS); with --ca the
 * focus's certificate chain is verified. MIKEY, not the certificate,
 * authenticates the focus; TLS keeps SIP (and SDES keys, event package
 * rosters) confidential on the way. */
static int tls_setup(const struct sa *laddr)
{
	int err = tls_alloc(&S.tls, TLS_METHOD_SSLV23, NULL, NULL);

	if (!err)
		err = tls_set_selfsigned_rsa(S.tls, "conclave-ua", 2048);
	if (!err && U.o.ca) {
		err = tls_add_ca(S.tls, U.o.ca);
		if (!err)
			SSL_CTX_set_verify(tls_openssl_context(S.tls),
					   SSL_VERIFY_PEER, NULL);
	}
	if (!err)
		err = sip_transp_add(S.sip, SIP_TRANSP_TLS, laddr, S.tls);
	return err;
}

static int sip_setup(void)
{
	struct sa laddr;
	int err;

	err = sa_decode(&laddr, U.o.sip_listen, strlen(U.o.sip_listen));
	if (err)
		err = sa_set_str(&laddr, U.o.sip_listen, 0);
	if (err) {
		fprintf(stderr, "conclave ua: --sip-listen %s: bad address\n",
			U.o.sip_listen);
		return err;
	}
	(void)re_snprintf(S.laddr_ip, sizeof(S.laddr_ip), "%j", &laddr);
	err = sip_alloc(&S.sip, NULL, 16, 16, 16, "conclave-ua", NULL, NULL);
	if (!err)
		err = sip_transp_add(S.sip, SIP_TRANSP_UDP, &laddr);
	if (!err)
		err = sip_transp_add(S.sip, SIP_TRANSP_TCP, &laddr);
	if (!err && U.o.tls)
		err = tls_setup(&laddr);
	if (!err)
		err = sip_listen(&S.lsnr, S.sip, true, lsnr_h, NULL);
	if (!err)
		err = sipsess_listen(&S.sock, S.sip, 16, conn_h, NULL);
	return err;
}

static int ruri(void)
{
	char user[KMSC_MAX_ID], host[KMSC_MAX_ID];

	if (sipglue_uri_split(U.target, strlen(U.target), user, sizeof(user),
			      host, sizeof(host))) {
		fprintf(stderr, "conclave ua: %s: not a sip URI\n", U.target);
		return EINVAL;
	}
	(void)re_snprintf(S.ruri, sizeof(S.ruri), "sip:%s@%s%s", user,
			  U.o.server ? U.o.server : host, ua_transport_param());
	return 0;
}

static int listen_start(void)
{
	uint16_t port = 0;
	struct sa la;
	int err;

	err = sip_setup();
	if (!err)
		err = ua_media_open(S.laddr_ip, U.o.rtp_port, &port);
	U.rtp_port = port;
	if (!err && !sip_transp_laddr(S.sip, &la, SIP_TRANSP_UDP, NULL)) {
		char a[64];

		(void)re_snprintf(a, sizeof(a), "%J", &la);
		ua_say("listening on %s as %s (rtp %s:%u, tone %.0f Hz)", a,
		       U.cred.identity, S.laddr_ip, port, ua_media_tone());
	}
	return err;
}

static int call(void)
{
	ua_say("calling %s via %s (rtp %s:%u, tone %.0f Hz)", U.target, S.ruri,
	       S.laddr_ip, U.rtp_port, ua_media_tone());
	/* D7: the focus may tell us when to send under a new epoch */
	return sipsess_connect(&S.sess, S.sock, S.ruri, NULL, U.cred.identity,
			       "ua", NULL, 0, "application/sdp", S.offer, NULL,
			       NULL, false, offer_h, answer_h, NULL, estab_h,
			       info_h, NULL, close_h, NULL,
			       "Recv-Info: mikey-switch\r\n");
}

/* ---- referred to a conference: dial in (RFC 4579 §5.6) --------------------- */

static void rntfy_resp_h(int err, const struct sip_msg *msg, void *arg)
{
	(void)err;
	(void)msg;
	(void)arg;
}

/* NOTIFY on the REFER's implicit subscription (RFC 3515 §2.4.5) */
static void referred_notify(uint16_t code, const char *reason, bool final)
{
	char frag[96];
	int n;

	if (!S.rdlg)
		return;
	n = re_snprintf(frag, sizeof(frag), "SIP/2.0 %u %s\r\n", code, reason);
	if (n < 0)
		return;
	S.rntfy = mem_deref(S.rntfy);
	(void)sip_drequestf(&S.rntfy, S.sip, true, "NOTIFY", S.rdlg, 0, NULL,
			    NULL, rntfy_resp_h, NULL,
			    "Event: refer\r\n"
			    "Subscription-State: %s\r\n"
			    "Content-Type: message/sipfrag;version=2.0\r\n"
			    "Content-Length: %d\r\n\r\n%s",
			    final ? "terminated;reason=noresource" :
				    "active;expires=60",
			    n, frag);
}

static void referred_ticket_h(const struct kmsc_status *hs, const uint8_t *body,
			      size_t len, void *arg)
{
	struct kmsc_env env = ua_env();
	struct kmsc_status st;
	char sbuf[160];
	int err;

	(void)arg;
	if (hs->kind != KMSC_FAIL_NONE ||
	    kmsc_request_open(&S.rq, &U.cred, body, len, &env, &S.ticket,
			      &st)) {
		ua_say("referred: ticket FAIL %s",
		       kmsc_status_str(hs->kind != KMSC_FAIL_NONE ? hs : &st,
				       sbuf, sizeof(sbuf)));
		referred_notify(403, "Forbidden", true);
		return;
	}
	ua_say("ticket ok (1 responder(s))");
	err = build_offer(U.rtp_port);
	if (!err)
		err = call();
	if (err) {
		ua_say("referred: call: %s", strerror(err));
		referred_notify(500, "Server Internal Error", true);
	}
}

/* A REFER naming a focus while we listen: dial in with a ticket of our
 * own, like `join` (the KMS and the focus decide whether we may). */
static void referred(const struct sip_msg *msg, const struct pl *to)
{
	const char *responders[1] = { S.referred };
	struct kmsc_request_opts ro = { .use = KMSC_JOIN_CONFERENCE,
					.responders = responders,
					.nresponders = 1,
					.lifetime = 3600 };
	struct kmsc_http_opts ho = { .timeout_ms = 5000 };
	struct kmsc_env env = ua_env();
	struct pl u;

	if (re_regex(to->p, to->l, "<[^>]+>", &u))
		u = *to;
	if (u.l >= sizeof(S.referred) ||
	    sip_dialog_accept(&S.rdlg, (struct sip_msg *)msg)) {
		(void)sip_treply(NULL, S.sip, msg, 400, "Bad Refer-To");
		return;
	}
	pl_strcpy(&u, S.referred, sizeof(S.referred));
	S.referred[strcspn(S.referred, ";?")] = '\0';
	(void)sip_treply(NULL, S.sip, msg, 202, "Accepted");
	referred_notify(100, "Trying", false);
	(void)re_snprintf(U.target, sizeof(U.target), "%s", S.referred);
	(void)re_snprintf(S.accept, sizeof(S.accept), "%s", S.referred);
	if (ruri() || (!S.httpc && kmsc_httpc_alloc(&S.httpc, &ho)) ||
	    kmsc_request_build(&S.rq, &U.cred, &ro, &env) ||
	    kmsc_http_post(S.httpc, U.cred.kms_url, S.rq.msg, S.rq.len,
			   referred_ticket_h, NULL)) {
		ua_say("referred: cannot request a ticket");
		referred_notify(500, "Server Internal Error", true);
		return;
	}
	ua_say("referred to %s: joining it", S.referred);
}

int ua_sip_start(void)
{
	uint16_t port = 0;
	int err;

	if (U.o.listen)
		return listen_start();

	if (U.o.factory) {
		(void)re_snprintf(U.target, sizeof(U.target), "%s",
				  U.o.factory);
		if (sipglue_focus_pattern(U.o.factory, S.accept,
					  sizeof(S.accept))) {
			fprintf(stderr, "conclave ua: %s: not a factory URI\n",
				U.o.factory);
			return EINVAL;
		}
	} else {
		(void)re_snprintf(U.target, sizeof(U.target), "%s", U.o.join);
		(void)re_snprintf(S.accept, sizeof(S.accept), "%s", U.o.join);
	}
	err = ruri();
	if (!err)
		err = get_ticket();
	if (!err)
		err = sip_setup();
	if (!err)
		err = ua_media_open(S.laddr_ip, U.o.rtp_port, &port);
	U.rtp_port = port;
	if (!err)
		err = build_offer(port);
	if (err)
		return err;
	return call();
}

void ua_sip_close(void)
{
	ua_owner_close();
	ua_watch_close();
	S.refer = mem_deref(S.refer);
	S.rntfy = mem_deref(S.rntfy);
	S.rdlg = mem_deref(S.rdlg);
	S.tls = mem_deref(S.tls);
	S.inv = mem_deref((void *)S.inv);
	S.lsnr = mem_deref(S.lsnr);
	kmsc_httpc_free(S.httpc);
	S.httpc = NULL;
	tmr_cancel(&S.deadline);
	ua_live_stop();
	ua_rekey_free();
	kmsc_csb_free(&S.csb);
	kmsc_ticket_wipe(&S.ticket);
	S.offer = mem_deref(S.offer);
	if (S.sip)
		sip_close(S.sip, true);
}
