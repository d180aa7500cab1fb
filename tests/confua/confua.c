/*
 * confua.c -- the test UA of tests/confd_basic.sh: one INVITE with a
 * MIKEY-TICKET TRANSFER_INIT in a=key-mgmt (RFC 4567) to
 * conclave-confd, on libre sipsess and the KMS client.
 *
 * usage: confua [options] invite URI
 *   --cred FILE        credential (`conclave kms credential export`)
 *   --server HOST:PORT where confd listens (the Request-URI host)
 *   --tcp              SIP over TCP (default UDP)
 *   --skew N           MIKEY timestamp window
 *   --allow ID,ID      extra ticket responders (a creation's allowed set)
 *   --tamper           flip a bit of the TRANSFER_INIT's MAC
 *   --replay           after the call, send the same body again
 *   --bye-after MS     hang up MS after the ACK, print "bye <status>"
 *   --wait-bye         stay until the focus sends BYE
 *   --focus-out FILE   write the focus URI learnt from the 200 OK
 * Prints one fact per line ("status 200", "isfocus yes", "focus URI",
 * "group-key mki 0x80000001 fp <8 bytes of SHA-256(key||salt)>",
 * "warning 306 ...", "key-mgmt no", "bye 200", "bye received").
 * The fingerprint is for the test only: it shows that two members hold
 * the same key without printing it.
 */
#include <re.h>

#include <conclave/sipglue.h>

#include <openssl/evp.h>
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
	const char *server, *target, *allow, *focus_out;
	char ruri[512];
	uint32_t skew, bye_after;
	bool tcp, tamper, replay, wait_bye, replayed;
	int rc;
} U = { .skew = 300, .rc = 1 };

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

static int offer_h(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	(void)descp;
	(void)msg;
	(void)arg;
	return EPROTO; /* rekey re-INVITEs are not part of this test */
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
	if (U.bye_after || U.replay)
		tmr_start(&U.tmr, U.bye_after, bye_tmr, NULL);
	else if (!U.wait_bye)
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
	static const struct sipglue_media audio = { "audio", 40000, "RTP/SAVP",
						    "0" };
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
	if (kmsc_rand_system((uint8_t *)&ssrc, sizeof(ssrc), NULL) ||
	    kmsc_request_ticket(&U.cred, &ro, &env, &ho, &U.ticket, &st)) {
		re_printf("ticket FAIL %s\n",
			  kmsc_status_str(&st, sbuf, sizeof(sbuf)));
		return 1;
	}
	if (kmsc_transfer_init(&U.csb, &U.ticket, &U.cred, &xo, &env, xi,
			       sizeof(xi), &so.mikey_len))
		return 1;
	if (U.tamper)
		xi[so.mikey_len - 1] ^= 0x01; /* the V MAC's last byte */
	if (sipglue_sdp_build(&so, sdp, sizeof(sdp), &n))
		return 1;
	U.desc = mbuf_alloc(n);
	if (!U.desc || mbuf_write_mem(U.desc, (const uint8_t *)sdp, n))
		return 1;
	return 0;
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
			  U.tcp ? ";transport=tcp" : "");
	err = sip_alloc(&U.sip, NULL, 16, 16, 16, "confua", NULL, NULL);
	if (!err)
		err = sa_set_str(&laddr, "127.0.0.1", 0);
	if (!err)
		err = sip_transp_add(U.sip, SIP_TRANSP_UDP, &laddr);
	if (!err)
		err = sip_transp_add(U.sip, SIP_TRANSP_TCP, &laddr);
	if (!err)
		err = sipsess_listen(&U.sock, U.sip, 16, conn_h, NULL);
	return err;
}

static void usage(void)
{
	fputs("usage: confua --cred FILE --server HOST:PORT [--tcp] "
	      "[--skew N]\n"
	      "  [--allow ID,ID] [--tamper] [--replay] [--bye-after MS]\n"
	      "  [--wait-bye] [--focus-out FILE] invite URI\n",
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
		else if (!strcmp(a, "--tamper"))
			U.tamper = true;
		else if (!strcmp(a, "--replay"))
			U.replay = true;
		else if (!strcmp(a, "--wait-bye"))
			U.wait_bye = true;
		else if (!strcmp(a, "invite") && v) {
			U.target = v;
			i++;
		} else if (!v)
			usage();
		else if (!strcmp(a, "--cred"))
			cred = v, i++;
		else if (!strcmp(a, "--server"))
			U.server = v, i++;
		else if (!strcmp(a, "--allow"))
			U.allow = v, i++;
		else if (!strcmp(a, "--focus-out"))
			U.focus_out = v, i++;
		else if (!strcmp(a, "--skew"))
			U.skew = (uint32_t)atoi(v), i++;
		else if (!strcmp(a, "--bye-after"))
			U.bye_after = (uint32_t)atoi(v), i++;
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
	tmr_start(&U.guard, 15000, guard_h, NULL);
	(void)re_main(NULL);
	tmr_cancel(&U.guard);
	tmr_cancel(&U.tmr);
	kmsc_csb_free(&U.csb);
	kmsc_ticket_wipe(&U.ticket);
	kmsc_cred_wipe(&U.cred);
	if (U.sip)
		sip_close(U.sip, true);
	return U.rc;
}
