/*
 * confua.c -- the test UA of tests/confd_basic.sh: one INVITE with a
 * MIKEY-TICKET TRANSFER_INIT in a=key-mgmt (RFC 4567) to
 * conclave-confd, on libre sipsess and the KMS client.
 *
 * usage: confua [options] invite URI
 *   --cred FILE        credential (`conclave kms credential export`)
 *   --server HOST:PORT where confd listens (the Request-URI host)
 *   --tcp              SIP over TCP (default UDP)
 *   --tls              SIP over TLS (sip:...;transport=tls)
 *   --ca FILE          with --tls: verify the server's certificate chain
 *                      against this CA (PEM); without it, no verification
 *   --skew N           MIKEY timestamp window
 *   --allow ID,ID      extra ticket responders (a creation's allowed set)
 *   --tamper           flip a bit of the TRANSFER_INIT's MAC
 *   --replay           after the call, send the same body again
 *   --bye-after MS     hang up MS after the ACK, print "bye <status>"
 *   --wait-bye         stay until the focus sends BYE
 *   --focus-out FILE   write the focus URI learnt from the 200 OK
 *   --rtp              media: an RTP socket in the offer; receive SRTP
 *                      from the focus, decrypt by MKI
 *   --send-ms MS       send a PCMU tone (SRTP, 20 ms packets) for MS
 *                      after the ACK (needs --rtp)
 *   --guard MS         give up after MS (default 15000)
 * Re-INVITEs from the focus (CSB update, RFC 6043 §5.2) are answered:
 * the update is opened, its key installed, a 200 OK carries the update
 * TRANSFER_RESP ("rekey ok" + "group-key ..." lines), and sending
 * switches to the new MKI. Media lines: "media ok ssrc S mki M" the first
 * time a (source, MKI) pair decrypts, "media rx ok N failed F" at exit.
 * Prints one fact per line ("status 200", "isfocus yes", "focus URI",
 * "group-key mki 0x80000001 fp <8 bytes of SHA-256(key||salt)>",
 * "warning 306 ...", "key-mgmt no", "bye 200", "bye received").
 * The fingerprint is for the test only: it shows that two members hold
 * the same key without printing it.
 */
/* libre is built on OpenSSL; this exposes tls_openssl_context() */
#define USE_OPENSSL 1
#include <re.h>

#include <conclave/media.h>
#include <conclave/sipglue.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct {
	struct kmsc_cred cred;
	struct kmsc_ticket ticket;
	struct kmsc_csb csb;
	struct sip *sip;
	struct sipsess_sock *sock;
	struct sipsess *sess;
	struct sip_request *bye;
	struct mbuf *desc;
	struct tmr tmr, guard;
	const char *server, *target, *allow, *focus_out, *ca;
	struct tls *tls;
	char ruri[512];
	uint32_t skew, bye_after, send_ms, guard_ms;
	bool tcp, tls_on, tamper, replay, wait_bye, replayed, rtp;
	int rc;
	/* media */
	struct udp_sock *us;
	struct sa focus_rtp;
	bool have_focus_rtp;
	struct media_member *mm;
	struct media_tone tone;
	struct tmr send_tmr;
	uint32_t ssrc, ts;
	uint64_t sent_until, rx_ok, rx_fail;
	uint32_t seen[64][2];
	size_t nseen;
	uint32_t inst[8]; /* installed MKIs, oldest first */
	size_t ninst;
} U = { .skew = 300, .rc = 1, .guard_ms = 15000 };

static struct kmsc_env env_now(void)
{
	return (struct kmsc_env){ .now = (int64_t)time(NULL),
				  .skew = U.skew,
				  .rand = kmsc_rand_system };
}

static void done(int rc)
{
	U.rc = rc;
	re_cancel();
}

static void print_hdr(const struct sip_msg *msg, const char *name,
		      const char *label)
{
	const struct sip_hdr *h = sip_msg_xhdr(msg, name);

	if (h)
		re_printf("%s %r\n", label, &h->val);
}

static void fingerprint(const struct kmsc_tek *t)
{
	uint8_t buf[KMSC_MAX_KEY + KMSC_MAX_SALT], md[32];
	unsigned mdlen = 0;
	uint32_t mki = 0;
	size_t i;

	memcpy(buf, t->key, t->key_len);
	memcpy(buf + t->key_len, t->salt, t->salt_len);
	if (!EVP_Digest(buf, t->key_len + t->salt_len, md, &mdlen, EVP_sha256(),
			NULL))
		return;
	cc_wipe(buf, sizeof(buf));
	for (i = 0; i < t->spi_len && i < 4; i++)
		mki = mki << 8 | t->spi[i];
	re_printf("group-key mki 0x%08x len %zu/%zu fp %w\n", mki, t->key_len,
		  t->salt_len, md, (size_t)8);
}

/* Every group key (MKI with the top bit) of the CSB into the media
 * member; send under the newest. */
static void install_keys(void)
{
	uint32_t newest = 0;
	size_t i;

	if (!U.mm)
		return;
	for (i = 0; i < U.csb.ntek; i++) {
		const struct kmsc_tek *t = &U.csb.tek[i];
		struct media_key k = { .profile = MEDIA_AES_CM_128_HMAC_SHA1_80,
				       .tek = t->key,
				       .tek_len = t->key_len,
				       .salt = t->salt,
				       .salt_len = t->salt_len };
		size_t j;

		if (t->spi_len != 4 || !(t->spi[0] & 0x80))
			continue;
		for (j = 0; j < 4; j++)
			k.mki = k.mki << 8 | t->spi[j];
		for (j = 0; j < U.ninst && U.inst[j] != k.mki; j++)
			;
		if (j < U.ninst)
			continue;
		/* keep the one we send with (grace for packets in flight)
		 * and the new one; older epochs go */
		while (U.ninst && U.inst[0] != media_member_sending_mki(U.mm)) {
			if (media_member_retire(U.mm, U.inst[0]))
				re_printf("media retire FAIL\n");
			memmove(U.inst, U.inst + 1,
				--U.ninst * sizeof(U.inst[0]));
		}
		while (U.ninst >= 3) {
			if (media_member_retire(U.mm, U.inst[0]))
				re_printf("media retire FAIL\n");
			memmove(U.inst, U.inst + 1,
				--U.ninst * sizeof(U.inst[0]));
		}
		if (media_member_install(U.mm, &k) == CC_OK) {
			re_printf("media installed mki 0x%08x\n", k.mki);
			U.inst[U.ninst++] = k.mki;
		}
		if (k.mki > newest)
			newest = k.mki;
	}
	if (newest && media_member_switch(U.mm, newest))
		re_printf("media switch FAIL\n");
}

static void focus_rtp(const struct sipglue_km *km, const struct sip_msg *msg)
{
	struct pl ip;

	if (!km->nmedia || !km->media[0].port)
		return;
	if (re_regex((const char *)mbuf_buf(msg->mb), mbuf_get_left(msg->mb),
		     "c=IN IP[46]1 [^\r\n]+", NULL, &ip) ||
	    sa_set(&U.focus_rtp, &ip, km->media[0].port))
		return;
	U.have_focus_rtp = true;
}

static void rtp_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct media_rx_payload rx;
	size_t i;

	(void)src;
	(void)arg;
	if (media_member_unprotect(U.mm, mbuf_buf(mb), mbuf_get_left(mb),
				   &rx)) {
		U.rx_fail++;
		return;
	}
	U.rx_ok++;
	for (i = 0; i < U.nseen; i++)
		if (U.seen[i][0] == rx.info.rtp.ssrc &&
		    U.seen[i][1] == rx.info.mki)
			return;
	if (U.nseen < 64) {
		U.seen[U.nseen][0] = rx.info.rtp.ssrc;
		U.seen[U.nseen][1] = rx.info.mki;
		U.nseen++;
	}
	re_printf("media ok ssrc 0x%08x mki 0x%08x\n", rx.info.rtp.ssrc,
		  rx.info.mki);
}

static void send_tmr(void *arg)
{
	uint8_t frame[MEDIA_FRAME], pkt[MEDIA_PKT_MAX];
	struct mbuf mb;
	size_t n = 0;

	(void)arg;
	if (tmr_jiffies() >= U.sent_until)
		return;
	tmr_start(&U.send_tmr, 20, send_tmr, NULL);
	if (!U.have_focus_rtp || !media_member_sending_mki(U.mm))
		return;
	media_tone_pcmu_frame(&U.tone, frame);
	if (media_member_send(U.mm, frame, sizeof(frame), U.ts, false, pkt,
			      sizeof(pkt), &n))
		return;
	U.ts += MEDIA_FRAME;
	memset(&mb, 0, sizeof(mb));
	mb.buf = pkt;
	mb.size = mb.end = n;
	(void)udp_send(U.us, &U.focus_rtp, &mb);
}

static int answer_h(const struct sip_msg *msg, void *arg)
{
	static struct sipglue_km km;
	char focus[KMSC_MAX_ID] = "";
	const char *accept[1] = { focus };
	const struct sip_hdr *h;
	struct kmsc_env env = env_now();
	struct kmsc_status st;
	char sbuf[160];
	enum cc_err err;
	size_t i;

	(void)arg;
	re_printf("status %u\n", msg->scode);
	h = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	(void)re_snprintf(sbuf, sizeof(sbuf), "%r", h ? &h->val : NULL);
	re_printf("contact %s\nisfocus %s\n", sbuf,
		  h && strstr(sbuf, ">;isfocus") ? "yes" : "no");
	h = sip_msg_xhdr(msg, "X-Conclave-Focus");
	if (h)
		(void)re_snprintf(focus, sizeof(focus), "%r", &h->val);
	if (focus[0] == '<') {
		memmove(focus, focus + 1, strlen(focus));
		focus[strcspn(focus, ">")] = '\0';
	}
	re_printf("focus %s\n", focus[0] ? focus : "-");
	err = sipglue_km_parse_mbuf(msg->mb, &km);
	if (!err)
		err = kmsc_transfer_resp_open(&U.csb, km.mikey, km.mikey_len,
					      accept, 1, &env, &st);
	if (err) {
		re_printf("transfer-resp FAIL %s\n",
			  kmsc_status_str(&st, sbuf, sizeof(sbuf)));
		return EPROTO;
	}
	re_printf("transfer-resp ok\n");
	focus_rtp(&km, msg);
	install_keys();
	for (i = 0; i < U.csb.ntek; i++)
		if (U.csb.tek[i].spi_len == 4 && U.csb.tek[i].spi[0] & 0x80) {
			fingerprint(&U.csb.tek[i]);
			break;
		}
	if (U.focus_out && focus[0]) {
		FILE *f = fopen(U.focus_out, "w");

		if (f) {
			fprintf(f, "%s\n", focus);
			fclose(f);
		}
	}
	return 0;
}

/* A re-INVITE from the focus: a CSB update (RFC 6043 §5.2) in the offer. */
static int offer_h(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	static struct sipglue_km km;
	static struct kmsc_update upd;
	static uint8_t resp[KMSC_MAX_MSG];
	static char sdp[SIPGLUE_MAX_SDP];
	struct kmsc_env env = env_now();
	struct kmsc_status st;
	struct sipglue_media audio = {
		.type = "audio", .port = 0, .proto = "RTP/SAVP", .fmt = "0"
	};
	struct sipglue_sdp_opts so = { .addr = "127.0.0.1",
				       .sess_id = 1,
				       .sess_ver = 2,
				       .mikey = resp,
				       .media = &audio,
				       .nmedia = 1,
				       .dir = "sendrecv" };
	struct sa la;
	char sbuf[160];
	size_t n = 0, i;
	enum cc_err err;

	(void)arg;
	err = sipglue_km_parse_mbuf(msg->mb, &km);
	if (!err)
		err = kmsc_update_open(&U.csb, km.mikey, km.mikey_len, &env,
				       &upd, &st);
	if (!err)
		err = kmsc_update_resp(&U.csb, &env, &upd, resp, sizeof(resp),
				       &so.mikey_len);
	kmsc_update_wipe(&upd);
	if (err) {
		re_printf("rekey FAIL %s\n",
			  kmsc_status_str(&st, sbuf, sizeof(sbuf)));
		return EPROTO;
	}
	if (U.us && !udp_local_get(U.us, &la))
		audio.port = sa_port(&la);
	else
		audio.port = 40000;
	if (sipglue_sdp_build(&so, sdp, sizeof(sdp), &n))
		return ENOMEM;
	*descp = mbuf_alloc(n);
	if (!*descp || mbuf_write_mem(*descp, (const uint8_t *)sdp, n))
		return ENOMEM;
	(*descp)->pos = 0;
	re_printf("rekey ok\n");
	install_keys();
	for (i = 0; i < U.csb.ntek; i++)
		if (U.csb.tek[i].spi_len == 4 && U.csb.tek[i].spi[0] & 0x80) {
			fingerprint(&U.csb.tek[i]);
			break;
		}
	return 0;
}

static int call(void);

static void bye_resp(int err, const struct sip_msg *msg, void *arg)
{
	(void)arg;
	if (err || !msg) {
		re_printf("bye error %s\n", strerror(err));
		done(1);
		return;
	}
	if (msg->scode < 200)
		return;
	re_printf("bye %u\n", msg->scode);
	if (U.replay && !U.replayed) {
		U.replayed = true;
		U.sess = NULL; /* the old dialog is over; keep it unfreed */
		if (call())
			done(1);
		return;
	}
	done(0);
}

static void bye_tmr(void *arg)
{
	int err;

	(void)arg;
	err = sip_drequestf(&U.bye, U.sip, true, "BYE", sipsess_dialog(U.sess),
			    0, NULL, NULL, bye_resp, NULL,
			    "Content-Length: 0\r\n\r\n");
	if (err) {
		re_printf("bye error %s\n", strerror(err));
		done(1);
	}
}

static void estab_h(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	if (U.mm && U.send_ms) {
		U.sent_until = tmr_jiffies() + U.send_ms;
		tmr_start(&U.send_tmr, 0, send_tmr, NULL);
	}
	if (U.bye_after || U.replay)
		tmr_start(&U.tmr, U.bye_after, bye_tmr, NULL);
	else if (!U.wait_bye && !U.send_ms)
		done(0);
}

static void close_h(int err, const struct sip_msg *msg, void *arg)
{
	(void)arg;
	/* libre reports a BYE from the peer as ECONNRESET without a msg */
	if ((msg && msg->req) || (!msg && err == ECONNRESET)) {
		re_printf("bye received\n");
		done(0);
		return;
	}
	if (msg && msg->scode >= 300) {
		re_printf("status %u\n", msg->scode);
		print_hdr(msg, "Warning", "warning");
		re_printf("key-mgmt %s\n",
			  mbuf_get_left(msg->mb) &&
					  re_regex((const char *)mbuf_buf(
							   msg->mb),
						   mbuf_get_left(msg->mb),
						   "a=key-mgmt") == 0 ?
				  "yes" :
				  "no");
		done(0);
		return;
	}
	re_printf("closed %s\n", err ? strerror(err) : "-");
	done(err ? 1 : 0);
}

static void conn_h(const struct sip_msg *msg, void *arg)
{
	(void)arg;
	(void)sip_treply(NULL, U.sip, msg, 486, "Busy Here");
}

static void guard_h(void *arg)
{
	(void)arg;
	re_printf("timeout\n");
	done(1);
}

static int call(void)
{
	U.desc->pos = 0;
	return sipsess_connect(&U.sess, U.sock, U.ruri, NULL, U.cred.identity,
			       "confua", NULL, 0, "application/sdp", U.desc,
			       NULL, NULL, false, offer_h, answer_h, NULL,
			       estab_h, NULL, NULL, close_h, NULL, NULL);
}

/* Ticket from the KMS, TRANSFER_INIT, SDP offer. */
static int prepare(void)
{
	static struct sipglue_media audio = {
		.type = "audio", .port = 40000, .proto = "RTP/SAVP", .fmt = "0"
	};
	static uint8_t xi[KMSC_MAX_MSG];
	static char sdp[SIPGLUE_MAX_SDP], ids[KMSC_MAX_RESPONDERS][KMSC_MAX_ID];
	const char *to[KMSC_MAX_RESPONDERS] = { U.target };
	struct kmsc_request_opts ro = { .use = KMSC_JOIN_CONFERENCE,
					.responders = to,
					.nresponders = 1,
					.lifetime = 600 };
	struct kmsc_http_opts ho = { .timeout_ms = 5000 };
	struct kmsc_env env = env_now();
	struct kmsc_status st;
	uint32_t ssrc;
	struct kmsc_transfer_opts xo = { .responder = U.target,
					 .ssrc = &ssrc,
					 .nmedia = 1 };
	struct sipglue_sdp_opts so = { .addr = "127.0.0.1",
				       .sess_id = 1,
				       .sess_ver = 1,
				       .mikey = xi,
				       .media = &audio,
				       .nmedia = 1,
				       .dir = "sendrecv" };
	char sbuf[160];
	const char *p = U.allow;
	size_t n = 0;

	while (p && *p && ro.nresponders < KMSC_MAX_RESPONDERS) {
		size_t l = strcspn(p, ",");

		if (l >= KMSC_MAX_ID)
			return 2;
		memcpy(ids[ro.nresponders], p, l);
		ids[ro.nresponders][l] = '\0';
		to[ro.nresponders] = ids[ro.nresponders];
		ro.nresponders++;
		p += l + (p[l] == ',');
	}
	if (U.rtp) {
		struct sa la;

		if (sa_set_str(&la, "127.0.0.1", 0) ||
		    udp_listen(&U.us, &la, rtp_recv, NULL) ||
		    udp_local_get(U.us, &la) ||
		    media_member_new(&U.mm, MEDIA_AES_CM_128_HMAC_SHA1_80))
			return 1;
		audio.port = sa_port(&la);
	}
	if (kmsc_rand_system((uint8_t *)&ssrc, sizeof(ssrc), NULL) ||
	    kmsc_request_ticket(&U.cred, &ro, &env, &ho, &U.ticket, &st)) {
		re_printf("ticket FAIL %s\n",
			  kmsc_status_str(&st, sbuf, sizeof(sbuf)));
		return 1;
	}
	if (kmsc_transfer_init(&U.csb, &U.ticket, &U.cred, &xo, &env, xi,
			       sizeof(xi), &so.mikey_len))
		return 1;
	U.ssrc = ssrc;
	re_printf("ssrc 0x%08x\n", ssrc);
	if (U.mm) {
		media_tone_init(&U.tone, 400.0 + (double)(ssrc % 16) * 150.0,
				8000.0);
		if (media_member_sender(U.mm, ssrc, MEDIA_PT_PCMU, 0, 1))
			return 1;
	}
	if (U.tamper)
		xi[so.mikey_len - 1] ^= 0x01; /* the V MAC's last byte */
	if (sipglue_sdp_build(&so, sdp, sizeof(sdp), &n))
		return 1;
	U.desc = mbuf_alloc(n);
	if (!U.desc || mbuf_write_mem(U.desc, (const uint8_t *)sdp, n))
		return 1;
	return 0;
}

/* A TLS context; with --ca the server's chain must verify (the handshake
 * fails otherwise). confd sends its re-INVITEs and BYE over a new
 * connection to our Contact (libre keeps no connection alias), so our
 * listener needs a certificate too: a self-signed one (confd does not
 * verify members' certificates; MIKEY authenticates them). The context is
 * shared, so with --ca our listener also asks confd for its certificate
 * (confd presents the same one) and checks it against the CA. */
static int setup_tls(const struct sa *laddr)
{
	int err = tls_alloc(&U.tls, TLS_METHOD_SSLV23, NULL, NULL);

	if (!err)
		err = tls_set_selfsigned_rsa(U.tls, "confua", 2048);
	if (!err && U.ca) {
		err = tls_add_ca(U.tls, U.ca);
		if (!err)
			SSL_CTX_set_verify(tls_openssl_context(U.tls),
					   SSL_VERIFY_PEER, NULL);
	}
	if (!err)
		err = sip_transp_add(U.sip, SIP_TRANSP_TLS, laddr, U.tls);
	return err;
}

static int setup_sip(void)
{
	char user[KMSC_MAX_ID], host[KMSC_MAX_ID];
	struct sa laddr;
	int err;

	if (sipglue_uri_split(U.target, strlen(U.target), user, sizeof(user),
			      host, sizeof(host)))
		return EINVAL;
	(void)re_snprintf(U.ruri, sizeof(U.ruri), "sip:%s@%s%s", user, U.server,
			  U.tls_on ? ";transport=tls" :
			  U.tcp    ? ";transport=tcp" :
				     "");
	err = sip_alloc(&U.sip, NULL, 16, 16, 16, "confua", NULL, NULL);
	if (!err)
		err = sa_set_str(&laddr, "127.0.0.1", 0);
	if (!err)
		err = sip_transp_add(U.sip, SIP_TRANSP_UDP, &laddr);
	if (!err)
		err = sip_transp_add(U.sip, SIP_TRANSP_TCP, &laddr);
	if (!err && U.tls_on)
		err = setup_tls(&laddr);
	if (!err)
		err = sipsess_listen(&U.sock, U.sip, 16, conn_h, NULL);
	return err;
}

static void usage(void)
{
	fputs("usage: confua --cred FILE --server HOST:PORT [--tcp|--tls] "
	      "[--ca FILE] [--skew N]\n"
	      "  [--allow ID,ID] [--tamper] [--replay] [--bye-after MS]\n"
	      "  [--wait-bye] [--focus-out FILE] [--rtp] [--send-ms MS]\n"
	      "  [--guard MS] invite URI\n",
	      stderr);
	exit(2);
}

static void parse(int argc, char **argv)
{
	const char *cred = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--tcp"))
			U.tcp = true;
		else if (!strcmp(a, "--tls"))
			U.tls_on = true;
		else if (!strcmp(a, "--tamper"))
			U.tamper = true;
		else if (!strcmp(a, "--replay"))
			U.replay = true;
		else if (!strcmp(a, "--wait-bye"))
			U.wait_bye = true;
		else if (!strcmp(a, "--rtp"))
			U.rtp = true;
		else if (!strcmp(a, "invite") && v) {
			U.target = v;
			i++;
		} else if (!v)
			usage();
		else if (!strcmp(a, "--cred"))
			cred = v, i++;
		else if (!strcmp(a, "--server"))
			U.server = v, i++;
		else if (!strcmp(a, "--ca"))
			U.ca = v, i++;
		else if (!strcmp(a, "--allow"))
			U.allow = v, i++;
		else if (!strcmp(a, "--focus-out"))
			U.focus_out = v, i++;
		else if (!strcmp(a, "--skew"))
			U.skew = (uint32_t)atoi(v), i++;
		else if (!strcmp(a, "--bye-after"))
			U.bye_after = (uint32_t)atoi(v), i++;
		else if (!strcmp(a, "--send-ms"))
			U.send_ms = (uint32_t)atoi(v), i++;
		else if (!strcmp(a, "--guard"))
			U.guard_ms = (uint32_t)atoi(v), i++;
		else
			usage();
	}
	if (!cred || !U.server || !U.target)
		usage();
	if (kmsc_cred_load(cred, &U.cred)) {
		fprintf(stderr, "confua: cannot load %s\n", cred);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse(argc, argv);
	if (kmsc_net_init())
		return 2;
	err = prepare();
	if (!err)
		err = setup_sip();
	if (!err)
		err = call();
	if (err) {
		re_printf("setup FAIL %s\n", strerror(err));
		return 1;
	}
	tmr_start(&U.guard, U.guard_ms, guard_h, NULL);
	(void)re_main(NULL);
	tmr_cancel(&U.guard);
	tmr_cancel(&U.tmr);
	tmr_cancel(&U.send_tmr);
	if (U.mm)
		re_printf("media rx ok %llu failed %llu\n",
			  (unsigned long long)U.rx_ok,
			  (unsigned long long)U.rx_fail);
	U.us = mem_deref(U.us);
	media_member_free(U.mm);
	kmsc_csb_free(&U.csb);
	kmsc_ticket_wipe(&U.ticket);
	kmsc_cred_wipe(&U.cred);
	if (U.sip)
		sip_close(U.sip, true);
	U.sip = mem_deref(U.sip);
	U.tls = mem_deref(U.tls);
	return U.rc;
}
