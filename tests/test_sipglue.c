/*
 * test_sipglue.c -- the SDP key-mgmt helpers (RFC 4567) and focus URIs
 * (DESIGN.md D5): the worked example's TRANSFER_INIT through an SDP
 * offer and back, the §4.3 SDP line as a vector, every parser refusal,
 * truncation and bit flips, and the ticket's IDRr list.
 */
#include <conclave/mikey_examples.h>
#include <conclave/mikey_wire.h>
#include <conclave/sipglue.h>

#include "check.h"

/* spec/worked-examples.md §4.3, "As it would appear in the SDP offer" */
static const char ex_line[] =
	"a=key-mgmt:mikey "
	"AQ4FgBorPE0CAgEAAQAABBEiM0QEAAAAAQIAAQAAAAAPAOmMQcIAAAAADgEQcHFyc3R1dn"
	"d4eXp7fH1+fw4BAQAVc2lwOmFsaWNlQGV4YW1wbGUub3JnCgIBABNzaXA6Ym9iQGV4YW1w"
	"bGUub3JnEQAAAB4AAQEBARACAQEDARQEAQ4FAQAHAQEIAQEKAQELAQoJAAEBAQHR4ABSDg"
	"4DAQATc2lwOmttcy5leGFtcGxlLm9yZw0BAQAVc2lwOmFsaWNlQGV4YW1wbGUub3JnDgMD"
	"6Y2TQAACAQATc2lwOmJvYkBleGFtcGxlLm9yZwB2BQAACwDpjEHBAAAAAAEQUFFSU1RVVl"
	"dYWVpbXF1eXw4BADIfVP3ArTQT0xsDhw29Nbnr67rrA/t3n2WFtmZ2sqlv3hs/h7gcnXsN"
	"+38VIar1R4YepQAJBAIABXRway03AAEfWcez3/Eap2nOrwJQbbPTsi0uOwAAAAF6T1hZaB"
	"eKtQUkR2ZQfs3vXiNicA==";

static struct mikey_example ex[MIKEY_EX__COUNT];
static const struct sipglue_media audio = {
	.type = "audio", .port = 49000, .proto = "RTP/SAVP", .fmt = "0"
};

static size_t offer(const uint8_t *mikey, size_t len, char *out, size_t cap)
{
	struct sipglue_sdp_opts o = { .addr = "127.0.0.1",
				      .sess_id = 1,
				      .sess_ver = 1,
				      .mikey = mikey,
				      .mikey_len = len,
				      .media = &audio,
				      .nmedia = 1,
				      .dir = "sendrecv" };
	size_t n = 0;

	CHECK_OK(sipglue_sdp_build(&o, out, cap, &n));
	return n;
}

static void test_vector(void)
{
	const struct mikey_example *x = &ex[MIKEY_EX_TRANSFER_INIT];
	static struct sipglue_km km;
	char line[2048], sdp[4096];
	size_t n = 0;

	CHECK_OK(sipglue_km_attr(x->buf, x->len, line, sizeof(line), &n));
	CHECK(n == strlen(ex_line) + 2);
	CHECK(!strncmp(line, ex_line, strlen(ex_line)));
	CHECK(!strcmp(line + n - 2, "\r\n"));
	CHECK_ERR(sipglue_km_attr(x->buf, x->len, line, n, &n), CC_ERR_SPACE);

	n = offer(x->buf, x->len, sdp, sizeof(sdp));
	CHECK(strstr(sdp, ex_line) != NULL);
	CHECK(strstr(sdp, ex_line) < strstr(sdp, "m=audio"));
	CHECK_OK(sipglue_km_parse(sdp, n, &km));
	CHECK(km.mikey_len == x->len && !memcmp(km.mikey, x->buf, x->len));
	CHECK(km.nids == 1 && !strcmp(km.ids[0], "mikey"));
	CHECK(km.nmedia == 1 && km.media[0].port == 49000 &&
	      !strcmp(km.media[0].type, "audio") &&
	      !strcmp(km.media[0].proto, "RTP/SAVP") &&
	      !strcmp(km.media[0].fmt, "0"));
	CHECK_OK(sipglue_km_check_ids(&km, false));
	CHECK_ERR(sipglue_km_check_ids(&km, true), CC_ERR_POLICY);
}

static enum cc_err parse_str(const char *s, struct sipglue_km *km)
{
	return sipglue_km_parse(s, strlen(s), km);
}

static void test_syntax(void)
{
	static struct sipglue_km km;
	char sdp[4096];
	const char *b64 = ex_line + strlen("a=key-mgmt:mikey ");

	/* optional space after the colon, LF-only lines, other protocols */
	snprintf(sdp, sizeof(sdp),
		 "v=0\no=- 1 1 IN IP4 h\ns=-\na=key-mgmt:keyp1 AAAA\n"
		 "a=key-mgmt: mikey %s  \nm=audio 9 RTP/SAVP 0 8\n",
		 b64);
	CHECK_OK(parse_str(sdp, &km));
	CHECK(km.mikey_len == ex[MIKEY_EX_TRANSFER_INIT].len);
	CHECK(km.nids == 2 && !strcmp(km.ids[0], "keyp1"));
	{
		char list[64];

		CHECK_OK(sipglue_km_idlist(&km, list, sizeof(list)));
		CHECK(!strcmp(list, "keyp1;mikey"));
		CHECK_ERR(sipglue_km_idlist(&km, list, 5), CC_ERR_SPACE);
	}
	/* two protocols offered, no SDP-IDs extension: bidding down */
	CHECK_ERR(sipglue_km_check_ids(&km, false), CC_ERR_POLICY);
	CHECK(km.nmedia == 1 && km.media[0].npts == 2 &&
	      km.media[0].pts[0] == 0 && km.media[0].pts[1] == 8 &&
	      km.media[0].opus_pt == 0);

	/* every numeric format and the Opus rtpmap (RFC 7587 §7) */
	snprintf(sdp, sizeof(sdp),
		 "v=0\r\na=key-mgmt:mikey %s\r\n"
		 "m=audio 9 RTP/SAVP 111 8 x 101\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\n"
		 "a=rtpmap:111 OPUS/48000/2\r\n",
		 b64);
	CHECK_OK(parse_str(sdp, &km));
	CHECK(km.media[0].npts == 3 && km.media[0].pts[0] == 111 &&
	      km.media[0].pts[1] == 8 && km.media[0].pts[2] == 101 &&
	      !strcmp(km.media[0].fmt, "111") && km.media[0].opus_pt == 111);
	/* built: the rtpmap after the m-line */
	{
		struct sipglue_media a = { .type = "audio",
					   .port = 9,
					   .proto = "RTP/SAVP",
					   .fmt = "96",
					   .rtpmap = "96 opus/48000/2" };
		struct sipglue_sdp_opts o = { .addr = "127.0.0.1",
					      .media = &a,
					      .nmedia = 1 };
		char out[512];
		size_t n = 0;

		CHECK_OK(sipglue_sdp_build(&o, out, sizeof(out), &n));
		CHECK(strstr(out, "m=audio 9 RTP/SAVP 96\r\n"
				  "a=rtpmap:96 opus/48000/2\r\n") != NULL);
	}

	/* the id is case-sensitive (RFC 4567 §7) */
	snprintf(sdp, sizeof(sdp), "v=0\r\na=key-mgmt:MIKEY %s\r\n", b64);
	CHECK_ERR(parse_str(sdp, &km), CC_ERR_MISSING);
	CHECK(km.mikey_len == 0 && km.nids == 0);
	/* two mikey attributes at session level */
	snprintf(sdp, sizeof(sdp),
		 "v=0\r\na=key-mgmt:mikey %s\r\na=key-mgmt:mikey %s\r\n", b64,
		 b64);
	CHECK_ERR(parse_str(sdp, &km), CC_ERR_UNSUPPORTED);
	/* media level key-mgmt is refused, not half-used */
	snprintf(sdp, sizeof(sdp),
		 "v=0\r\na=key-mgmt:mikey %s\r\nm=audio 9 RTP/SAVP 0\r\n"
		 "a=key-mgmt:mikey %s\r\n",
		 b64, b64);
	CHECK_ERR(parse_str(sdp, &km), CC_ERR_UNSUPPORTED);
	CHECK_ERR(parse_str("v=0\r\na=key-mgmt:mikey AQ4F*gBo\r\n", &km),
		  CC_ERR_MALFORMED);
	CHECK_ERR(parse_str("v=0\r\na=key-mgmt:mikey\r\n", &km),
		  CC_ERR_MALFORMED);
	CHECK_ERR(parse_str("v=0\r\na=key-mgmt:mikey \r\n", &km),
		  CC_ERR_MALFORMED);
	CHECK_ERR(parse_str("v=0\r\na=key-mgmt:mi-key AAAA\r\n", &km),
		  CC_ERR_MALFORMED);
	CHECK_ERR(parse_str("v=1\r\na=key-mgmt:mikey AAAA\r\n", &km),
		  CC_ERR_MALFORMED);
	CHECK_ERR(parse_str("v=0\r\ns=-\r\n", &km), CC_ERR_MISSING);
	CHECK_ERR(parse_str("v=0\r\nm=audio x RTP/SAVP 0\r\n", &km),
		  CC_ERR_MALFORMED);
	CHECK_ERR(parse_str("v=0\r\nm=audio 70000 RTP/SAVP 0\r\n", &km),
		  CC_ERR_MALFORMED);
	CHECK_ERR(parse_str("v=0\r\nm=audio 9\r\n", &km), CC_ERR_MALFORMED);
	CHECK_ERR(sipglue_km_parse("v=0\r\n\0a=key-mgmt:mikey AAAA\r\n", 28,
				   &km),
		  CC_ERR_MALFORMED);
	CHECK_ERR(sipglue_km_parse("", 0, &km), CC_ERR_MALFORMED);
	CHECK_ERR(sipglue_km_parse(NULL, 5, &km), CC_ERR_MALFORMED);
}

/* Every prefix and every bit flip parses or fails cleanly. */
static void test_robust(void)
{
	const struct mikey_example *x = &ex[MIKEY_EX_TRANSFER_INIT];
	static struct sipglue_km km;
	char sdp[4096], mut[4096];
	size_t n = offer(x->buf, x->len, sdp, sizeof(sdp)), i;
	unsigned b;

	for (i = 0; i < n; i++) {
		enum cc_err err = sipglue_km_parse(sdp, i, &km);

		/* a cut at a base64 quartet decodes to a shorter message,
		 * which MIKEY's own length checks and MAC refuse */
		CHECK(err || (km.mikey_len <= x->len &&
			      !memcmp(km.mikey, x->buf, km.mikey_len)));
	}
	for (i = 0; i < n; i++)
		for (b = 0; b < 8; b++) {
			memcpy(mut, sdp, n);
			mut[i] = (char)(mut[i] ^ (1u << b));
			if (sipglue_km_parse(mut, n, &km))
				continue;
			/* a change in the base64 that still decodes must
			 * change the bytes (which the MIKEY MAC then
			 * catches); elsewhere the message is the same */
			CHECK(km.mikey_len <= KMSC_MAX_MSG);
		}
}

/* A General Extension "SDP IDs" (RFC 4567 §7) is compared with the SDP. */
static void test_sdp_ids(void)
{
	const struct mikey_example *x = &ex[MIKEY_EX_TRANSFER_INIT];
	static struct sipglue_km km;
	static uint8_t buf[2048];
	static const char sdp_ids[] = "mikey;keyp1";
	struct mikey_msg m;
	struct cc_wr wr;
	char sdp[4096];
	size_t n;

	CHECK_OK(mikey_decode(x->buf, x->len, &m, NULL));
	CHECK(mikey_add_ext(&m.ch, MIKEY_GENEXT_SDP_IDS,
			    (struct cc_slice){ (const uint8_t *)sdp_ids,
					       strlen(sdp_ids) }) != NULL);
	cc_wr_init(&wr, buf, sizeof(buf));
	CHECK_OK(mikey_encode(&m, &wr));
	n = offer(buf, wr.pos, sdp, sizeof(sdp));
	CHECK_OK(sipglue_km_parse(sdp, n, &km));
	CHECK_ERR(sipglue_km_check_ids(&km, true), CC_ERR_POLICY);
	memcpy(km.ids[1], "keyp1", 6);
	km.nids = 2;
	CHECK_OK(sipglue_km_check_ids(&km, true));
	memcpy(km.ids[1], "keyp2", 6);
	CHECK_ERR(sipglue_km_check_ids(&km, false), CC_ERR_POLICY);
}

static void test_focus(void)
{
	static const char f[] = "sip:factory.conf1@example.org";
	char out[256], user[64], host[64];
	uint32_t n = 0;

	CHECK_OK(sipglue_focus_uri(f, 7, out, sizeof(out)));
	CHECK(!strcmp(out, "sip:focus7.conf1@example.org"));
	CHECK_OK(sipglue_focus_user(f, 12, out, sizeof(out)));
	CHECK(!strcmp(out, "focus12.conf1"));
	CHECK_OK(sipglue_focus_pattern(f, out, sizeof(out)));
	CHECK(!strcmp(out, "sip:focus*.conf1@example.org"));
	CHECK_ERR(sipglue_focus_uri(f, 0, out, sizeof(out)), CC_ERR_INVAL);
	CHECK_ERR(sipglue_focus_uri(f, 7, out, 10), CC_ERR_SPACE);
	CHECK_OK(sipglue_focus_uri("sip:conf@r.net", 1, out, sizeof(out)));
	CHECK(!strcmp(out, "sip:focus1.conf@r.net"));

	CHECK(sipglue_focus_match(f, "focus7.conf1", 12, &n) && n == 7);
	CHECK(sipglue_focus_match(f, "focus2147483647.conf1", 21, &n) &&
	      n == 2147483647u);
	CHECK(!sipglue_focus_match(f, "focus2147483648.conf1", 21, &n));
	CHECK(!sipglue_focus_match(f, "focus07.conf1", 13, &n));
	CHECK(!sipglue_focus_match(f, "focus0.conf1", 12, &n));
	CHECK(!sipglue_focus_match(f, "focus.conf1", 11, &n));
	CHECK(!sipglue_focus_match(f, "focusx.conf1", 12, &n));
	CHECK(!sipglue_focus_match(f, "focus7.conf2", 12, &n));
	CHECK(!sipglue_focus_match(f, "focus7xconf1", 12, &n));
	CHECK(!sipglue_focus_match(f, "factory.conf1", 13, &n));
	/* node tags (issue 7 §2) */
	CHECK(!sipglue_focus_match(f, "focus7-n1.conf1", 15, &n));
	CHECK_OK(sipglue_node_focus_uri(f, "n1", 7, out, sizeof(out)));
	CHECK(!strcmp(out, "sip:focus7-n1.conf1@example.org"));
	CHECK_OK(sipglue_node_focus_user(f, "n2", 12, out, sizeof(out)));
	CHECK(!strcmp(out, "focus12-n2.conf1"));
	CHECK_OK(sipglue_node_focus_uri(f, "", 7, out, sizeof(out)));
	CHECK(!strcmp(out, "sip:focus7.conf1@example.org"));
	CHECK_ERR(sipglue_node_focus_uri(f, "n.1", 7, out, sizeof(out)),
		  CC_ERR_INVAL);
	CHECK_ERR(sipglue_node_focus_uri(f, "n-1", 7, out, sizeof(out)),
		  CC_ERR_INVAL);
	n = 0;
	CHECK(sipglue_node_focus_match(f, "n1", "focus7-n1.conf1", 15, &n) &&
	      n == 7);
	CHECK(!sipglue_node_focus_match(f, "n1", "focus7-n2.conf1", 15, &n));
	CHECK(!sipglue_node_focus_match(f, "n1", "focus7-n10.conf1", 16, &n));
	CHECK(!sipglue_node_focus_match(f, "n1", "focus7.conf1", 12, &n));
	CHECK(!sipglue_node_focus_match(f, "n1", "focus7-.conf1", 13, &n));
	CHECK(!sipglue_node_focus_match(f, "n1", "focus-n1.conf1", 14, &n));
	CHECK(!sipglue_node_focus_match(f, "n1", "focus07-n1.conf1", 16, &n));
	CHECK(!sipglue_node_focus_match(f, "n1", "focus7-n1.conf2", 15, &n));
	CHECK(sipglue_node_focus_match(f, "", "focus7.conf1", 12, &n));
	CHECK(sipglue_node_focus_match(f, "*", "focus8-n2.conf1", 15, &n) &&
	      n == 8);
	CHECK(sipglue_node_focus_match(f, "*", "focus9.conf1", 12, &n) &&
	      n == 9);
	CHECK(!sipglue_node_focus_match(f, "*", "focus9-n.2.conf1", 16, &n));
	CHECK(sipglue_node_check("n1") && sipglue_node_check("A_9"));
	CHECK(!sipglue_node_check("") && !sipglue_node_check("n-1") &&
	      !sipglue_node_check("n.1") && !sipglue_node_check(NULL));
	CHECK(sipglue_factory_match(f, "factory.conf1", 13));
	CHECK(!sipglue_factory_match(f, "factory.conf", 12));

	CHECK_OK(sipglue_uri_split("<sip:bob@example.org:5060;transport=tcp>",
				   40, user, sizeof(user), host, sizeof(host)));
	CHECK(!strcmp(user, "bob") && !strcmp(host, "example.org"));
	CHECK_OK(sipglue_uri_split("sips:a@[::1]", 12, user, sizeof(user), host,
				   sizeof(host)));
	CHECK_ERR(sipglue_uri_split("tel:+1234", 9, user, sizeof(user), host,
				    sizeof(host)),
		  CC_ERR_MALFORMED);
	CHECK_ERR(sipglue_uri_split("sip:example.org", 15, user, sizeof(user),
				    host, sizeof(host)),
		  CC_ERR_MALFORMED);
	CHECK_ERR(sipglue_uri_split("sip:@h", 6, user, sizeof(user), host,
				    sizeof(host)),
		  CC_ERR_MALFORMED);
	CHECK_ERR(sipglue_uri_split("<sip:a@h", 8, user, sizeof(user), host,
				    sizeof(host)),
		  CC_ERR_MALFORMED);
	CHECK_OK(sipglue_warning_306("127.0.0.1:5060", out, sizeof(out)));
	CHECK(!strcmp(out, "306 127.0.0.1:5060 \"Attribute not understood\""));
}

static void test_ticket(void)
{
	const struct mikey_example *x = &ex[MIKEY_EX_TRANSFER_INIT];
	static char ids[4][KMSC_MAX_ID];
	size_t n = 9;

	CHECK_OK(sipglue_ticket_responders(x->buf, x->len, ids, 4, &n));
	CHECK(n == 1 && !strcmp(ids[0], "sip:bob@example.org"));
	CHECK_ERR(sipglue_ticket_responders(x->buf, x->len, ids, 0, &n),
		  CC_ERR_FULL);
	CHECK(n == 0);
	CHECK_ERR(sipglue_ticket_responders(ex[MIKEY_EX_TRANSFER_RESP].buf,
					    ex[MIKEY_EX_TRANSFER_RESP].len, ids,
					    4, &n),
		  CC_ERR_UNSUPPORTED);
	CHECK(sipglue_ticket_responders(x->buf, x->len - 3, ids, 4, &n) !=
	      CC_OK);
}

int main(void)
{
	CHECK_OK(mikey_examples_build(ex));
	test_vector();
	test_syntax();
	test_robust();
	test_sdp_ids();
	test_focus();
	test_ticket();
	CHECK_DONE();
}
