/*
 * mikey_cmd_decode.c -- `conclave mikey decode`: print a MIKEY message as
 * an annotated tree (or JSON), check its layout, and with keys verify the
 * V MAC, open the KEMAC and open the base ticket.
 *
 * Which keys protect which message (spec/mikey-ticket.md §5.2, §6):
 *   REQUEST_INIT_PSK  PSK, DIR 0x01, own RANDRi;   MAC + IDRi || IDRkms
 *   REQUEST_RESP      PSK, DIR 0x02, INIT RANDRi;  MAC + complete INIT
 *   RESOLVE_INIT_PSK  PSK, DIR 0x01, own RANDRr;   MAC + IDRr || IDRkms
 *   RESOLVE_RESP      PSK, DIR 0x02, INIT RANDRr;  MAC + complete INIT
 *   TRANSFER_INIT     MPKi, DIR 0x01, own RANDRi;  MAC + IDRi || IDRr
 *   TRANSFER_RESP     MPKi, DIR 0x02, RANDRi of the TRANSFER_INIT and own
 *                     RANDRr if present;           MAC + complete INIT
 *   CSB updates       the TRANSFER_RESP keys (DIR 0x02, original RANDRi),
 *                     identities in original order (ambiguities.md A4).
 * Key bytes are printed only with --show-keys; every key buffer is wiped.
 */
#include "mikey_cli.h"
#include "mikey_print.h"

#include <stdlib.h>
#include <string.h>

enum {
	KEY_MAX = 64,
	RAND_MAX_LEN = 255,
	PLAIN_MAX = 4096
};

enum {
	EXIT_DECODE = 1,
	EXIT_USAGE = 2,
	EXIT_CHECK = 3
};

static const char usage[] =
	"usage: conclave mikey decode [options] [INPUT]\n\n"
	"INPUT is a MIKEY message: base64 (also a whole `a=key-mgmt:mikey "
	"...`\n"
	"line), hex (spaces allowed), @FILE (binary or text), or - / nothing\n"
	"for stdin. Prints every HDR and payload field with its meaning, then\n"
	"checks the payload layout.\n\n"
	"options:\n"
	"  -f FILE        read the message from FILE\n"
	"  --json         print one JSON object instead of the tree\n"
	"  --update-i     a CSB update started by the original Initiator\n"
	"  --update-r     a CSB update started by the original Responder\n"
	"  --psk HEX      PSK with the KMS: verify the MAC of "
	"REQUEST_INIT_PSK,\n"
	"                 REQUEST_RESP, RESOLVE_INIT_PSK, RESOLVE_RESP and "
	"open\n"
	"                 their KEMAC\n"
	"  --key HEX      MPKi (or MPKr' with key forking): the same for\n"
	"                 TRANSFER_INIT, TRANSFER_RESP and CSB updates\n"
	"  --init INPUT   the initial message a response answers (its MAC\n"
	"                 covers it; REQUEST/RESOLVE take RANDs from it)\n"
	"  --randri HEX   RANDRi of the original TRANSFER_INIT (CSB updates)\n"
	"  --randrr HEX   RANDRr to use instead of the one in the messages\n"
	"  --tpk HEX      ticket protection key: open and print the base\n"
	"                 ticket (Ticket Data, its MAC and keys); for a\n"
	"                 TRANSFER_INIT without --key, MPKi comes from it\n"
	"  --show-keys    print key bytes (hidden by default)\n\n"
	"exit status: 0 ok, 1 the message does not decode, 2 usage,\n"
	"3 a check (layout, MAC, KEMAC, ticket) failed\n";

struct hexarg {
	uint8_t b[RAND_MAX_LEN];
	size_t len;
	bool set;
};

struct opts {
	bool json, show_keys, file;
	enum mikey_variant variant;
	bool variant_set;
	const char *input, *init;
	struct hexarg key, tpk, randri, randrr;
};

struct dec {
	struct opts o;
	uint8_t buf[MIKEY_MAX_MSG], ibuf[MIKEY_MAX_MSG];
	size_t len, ilen;
	struct mikey_msg msg, init;
	bool have_init;
	struct pr pr;
	bool failed;
	/* secrets: wiped in dec_free */
	struct mikey_msg_keys mk;
	uint8_t plain[PLAIN_MAX], tplain[PLAIN_MAX], mpki[KEY_MAX];
	struct mikey_keys keys, tkeys;
};

/* ---- options -------------------------------------------------------- */

static int bad_usage(const char *what, const char *arg)
{
	fprintf(stderr, "mikey decode: %s%s%s\n\n%s", what, arg ? " " : "",
		arg ? arg : "", usage);
	return EXIT_USAGE;
}

static bool parse_hex(const char *s, struct hexarg *h, size_t max)
{
	size_t n = 0;

	if (cc_hex_decode(s, h->b, max, &n) || !n)
		return false;
	h->len = n;
	h->set = true;
	return true;
}

/* The hex-valued options and their longest value. */
static struct hexarg *hex_slot(struct opts *o, const char *name, size_t *max)
{
	*max = KEY_MAX;
	if (!strcmp(name, "--psk") || !strcmp(name, "--key"))
		return &o->key;
	if (!strcmp(name, "--tpk"))
		return &o->tpk;
	*max = RAND_MAX_LEN;
	if (!strcmp(name, "--randri"))
		return &o->randri;
	if (!strcmp(name, "--randrr"))
		return &o->randrr;
	return NULL;
}

static bool takes_value(const char *name)
{
	struct opts tmp;
	size_t max;

	return hex_slot(&tmp, name, &max) || !strcmp(name, "--init") ||
	       !strcmp(name, "-f");
}

/* Options that take a value; returns -1 if name is not one of them. */
static int value_opt(struct opts *o, const char *name, const char *val)
{
	size_t max;
	struct hexarg *h = hex_slot(o, name, &max);

	if (h)
		return parse_hex(val, h, max) ?
			       0 :
			       bad_usage("bad hex value for", name);
	if (!strcmp(name, "--init")) {
		o->init = val;
		return 0;
	}
	if (!strcmp(name, "-f")) {
		o->input = val;
		o->file = true;
		return 0;
	}
	return -1;
}

static int flag_opt(struct opts *o, const char *a)
{
	if (!strcmp(a, "--json"))
		o->json = true;
	else if (!strcmp(a, "--show-keys"))
		o->show_keys = true;
	else if (!strcmp(a, "--update-i"))
		o->variant = MIKEY_UPDATE_BY_I;
	else if (!strcmp(a, "--update-r"))
		o->variant = MIKEY_UPDATE_BY_R;
	else
		return -1;
	if (!strncmp(a, "--update", 8))
		o->variant_set = true;
	return 0;
}

static int one_opt(struct opts *o, int argc, char **argv, int *i)
{
	char name[32];
	const char *a = argv[*i], *eq = strchr(a, '=');
	int rc;

	if (!flag_opt(o, a))
		return 0;
	if (eq && a[0] == '-' && a[1] == '-' &&
	    (size_t)(eq - a) < sizeof(name)) {
		memcpy(name, a, (size_t)(eq - a));
		name[eq - a] = 0;
		rc = value_opt(o, name, eq + 1);
	} else if (*i + 1 < argc) {
		rc = value_opt(o, a, argv[*i + 1]);
		if (!rc)
			(*i)++;
	} else {
		rc = takes_value(a) ? bad_usage("missing value for", a) : -1;
	}
	return rc < 0 ? bad_usage("unknown option", a) : rc;
}

/* Returns -1 to go on, else an exit status. */
static int parse_opts(struct opts *o, int argc, char **argv)
{
	int i, rc;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			return 0;
		}
		if (a[0] != '-' || !strcmp(a, "-")) {
			if (o->input)
				return bad_usage("more than one INPUT:", a);
			o->input = a;
			continue;
		}
		rc = one_opt(o, argc, argv, &i);
		if (rc)
			return rc;
	}
	return -1;
}

/* ---- input ---------------------------------------------------------- */

static void json_error(const char *msg)
{
	struct pr p;

	pr_init(&p, stdout, true, false);
	pr_begin(&p);
	pr_s(&p, PR_NO_OFF, "error", msg);
	pr_finish(&p);
}

static int decode_fail(struct dec *d, const char *what, enum cc_err err,
		       const struct mikey_diag *dg)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s%s in %s %s at offset 0x%zx", what,
		 cc_strerror(err), dg->payload ? dg->payload : "message",
		 dg->field ? dg->field : "?", dg->offset);
	fprintf(stderr, "error: %s\n", msg);
	if (d->o.json)
		json_error(msg);
	return EXIT_DECODE;
}

static int load(struct dec *d, const char *spec, bool file, uint8_t *buf,
		size_t *len, struct mikey_msg *msg, const char *what)
{
	struct mikey_diag dg = { 0 };
	const char *why = "";
	char text[160];
	enum cc_err err;

	err = mikey_read_input(spec, file, buf, MIKEY_MAX_MSG, len, &why);
	if (err) {
		snprintf(text, sizeof(text), "%s%s (%s)", what, why,
			 cc_strerror(err));
		fprintf(stderr, "error: %s\n", text);
		if (d->o.json)
			json_error(text);
		return EXIT_DECODE;
	}
	err = mikey_decode(buf, *len, msg, &dg);
	if (err)
		return decode_fail(d, what, err, &dg);
	return 0;
}

/* ---- checks --------------------------------------------------------- */

static void status(struct dec *d, const char *label, enum cc_err err,
		   const struct mikey_diag *dg)
{
	char msg[256];

	if (!err) {
		pr_status(&d->pr, label, "ok");
		return;
	}
	d->failed = true;
	if (dg && dg->payload)
		/* key-data offsets count from the start of the plaintext */
		snprintf(msg, sizeof(msg),
			 "FAILED (%s in %s %s at offset 0x%zx%s)",
			 cc_strerror(err), dg->payload,
			 dg->field ? dg->field : "?", dg->offset,
			 strcmp(dg->payload, "Key data") ? "" :
							   " of the plaintext");
	else
		snprintf(msg, sizeof(msg), "FAILED (%s)", cc_strerror(err));
	pr_status(&d->pr, label, msg);
}

static void fail_note(struct dec *d, const char *label, const char *why)
{
	char msg[256];

	d->failed = true;
	snprintf(msg, sizeof(msg), "FAILED (%s)", why);
	pr_status(&d->pr, label, msg);
}

static void check_policy(struct dec *d, const struct mikey_pl *pl,
			 enum cc_err *err, struct mikey_diag *dg)
{
	const struct mikey_pl_ticket *t = &pl->u.ticket;
	struct mikey_chain ch;

	if (*err)
		return;
	*err = mikey_check_flags(t->flags, dg);
	if (*err)
		dg->offset = pl->off + 6; /* flags E..L (RFC 6043 §6.10) */
	if (*err || !t->tp_data.len)
		return;
	*err = mikey_decode_chain(t->tp_data.p, t->tp_data.len, true, &ch, dg);
	if (!*err)
		*err = mikey_check_tp_data(&ch, pl->type == MIKEY_PT_TICKET,
					   dg);
	if (*err)
		dg->offset += (size_t)(t->tp_data.p - d->buf);
}

static void check_layout(struct dec *d)
{
	struct mikey_diag dg = { 0 };
	enum cc_err err;
	size_t i;

	err = mikey_check_layout(&d->msg, d->o.variant, &dg);
	for (i = 0; i < d->msg.ch.n; i++)
		if (d->msg.ch.pl[i].type == MIKEY_PT_TP ||
		    d->msg.ch.pl[i].type == MIKEY_PT_TICKET)
			check_policy(d, &d->msg.ch.pl[i], &err, &dg);
	if (err == CC_ERR_UNSUPPORTED && dg.field &&
	    !strcmp(dg.field, "data type")) {
		/* classic RFC 3830 messages: the library has no rules */
		pr_status(&d->pr, "layout",
			  "not checked (no layout rules for this data type)");
		return;
	}
	status(d, "layout", err, &dg);
	if ((err == CC_ERR_MISSING || err == CC_ERR_ORDER) &&
	    !d->o.variant_set &&
	    (d->msg.hdr.data_type == MIKEY_DT_TRANSFER_INIT ||
	     d->msg.hdr.data_type == MIKEY_DT_TRANSFER_RESP))
		pr_status(&d->pr, "hint",
			  "a CSB update? try --update-i or --update-r");
}

/* ---- the base ticket (--tpk) ---------------------------------------- */

static enum cc_err tpk_lookup(struct cc_slice id, void *arg,
			      const uint8_t **tpk, size_t *tpk_len)
{
	const struct hexarg *h = arg;

	(void)id; /* one key given: it is the TPK whatever IDRpsk says */
	*tpk = h->b;
	*tpk_len = h->len;
	return CC_OK;
}

static void ticket_fail(struct dec *d, enum cc_err err,
			const struct mikey_diag *dg)
{
	const char *f = dg->field ? dg->field : "";
	char why[200];

	snprintf(why, sizeof(why), "%s%s%s", cc_strerror(err), *f ? " in " : "",
		 f);
	if (!strcmp(f, "ticket MAC")) {
		fail_note(d, "ticket MAC", cc_strerror(err));
	} else if (strstr(f, "KEMAC") ||
		   (dg->payload && !strcmp(dg->payload, "Key data"))) {
		pr_status(&d->pr, "ticket MAC", "ok");
		fail_note(d, "ticket KEMAC", why);
	} else {
		fail_note(d, "ticket", why);
	}
}

/* MPKi = PRF(MPK, RAND of the Ticket Data) (RFC 6043 App. A.2.2): the
 * key of an initial TRANSFER_INIT when no --key was given. */
static void ticket_mpki(struct dec *d, const struct mikey_pl_ticket *t)
{
	const struct mikey_key *mpk = &d->tkeys.k[0];
	struct mikey_chain ch;
	enum cc_err err;

	if (d->o.key.set || d->msg.hdr.data_type != MIKEY_DT_TRANSFER_INIT ||
	    mpk->type != MIKEY_KEY_MPK || mpk->key.len > KEY_MAX)
		return;
	err = mikey_decode_chain(t->ticket_data.p, t->ticket_data.len, false,
				 &ch, NULL);
	if (err || ch.n < 3 || ch.pl[2].type != MIKEY_PT_RAND)
		return;
	err = mikey_derive_mpk((enum mikey_prf)t->prf, mpk->key.p, mpk->key.len,
			       ch.pl[2].u.rand.data, false, d->o.key.b);
	if (err)
		return;
	d->o.key.len = mpk->key.len;
	d->o.key.set = true;
	pr_status(&d->pr, "MPKi", "derived from the ticket's MPK");
}

static void check_ticket(struct dec *d)
{
	const struct mikey_pl *t =
		mikey_chain_find(&d->msg.ch, MIKEY_PT_TICKET, 0);
	struct mikey_diag dg = { 0 };
	struct mikey_ts issued = { 0 };
	char iso[40];
	enum cc_err err;

	if (!t) {
		fail_note(d, "ticket", "no TICKET payload");
		return;
	}
	err = mikey_ticket_open(&t->u.ticket, tpk_lookup, &d->o.tpk, d->tplain,
				sizeof(d->tplain), &d->tkeys, &issued, &dg);
	if (err) {
		ticket_fail(d, err, &dg);
		return;
	}
	pr_status(&d->pr, "ticket MAC", "ok");
	pr_status(&d->pr, "ticket KEMAC", "ok");
	pr_mikey_keys(&d->pr, "ticket keys", &d->tkeys);
	if (mikey_ts_iso(&issued, iso, sizeof(iso)))
		pr_status(&d->pr, "ticket issued", iso);
	ticket_mpki(d, &t->u.ticket);
}

/* ---- message keys, MAC and KEMAC (--psk / --key) --------------------- */

struct kp {
	uint8_t dir;
	struct cc_slice ri, rr;
	struct mikey_mac_extra x;
};

static struct cc_slice rand_of(const struct mikey_msg *m, uint8_t role)
{
	const struct mikey_pl *pl =
		mikey_chain_find(&m->ch, MIKEY_PT_RANDR, role);

	return pl ? pl->u.rand.data : (struct cc_slice){ NULL, 0 };
}

/* Table 5.2: the identities (ID Data only) an *_INIT MAC appends */
static const char *ids(struct kp *k, const struct mikey_msg *m, uint8_t r1,
		       uint8_t r2)
{
	const struct mikey_pl *a = mikey_chain_find(&m->ch, MIKEY_PT_IDR, r1);
	const struct mikey_pl *b = mikey_chain_find(&m->ch, MIKEY_PT_IDR, r2);

	if (!a || !b)
		return "an identity the MAC covers (IDR) is missing";
	k->x.part[0] = a->u.id.data;
	k->x.part[1] = b->u.id.data;
	k->x.n = 2;
	return NULL;
}

static bool is_update(const struct dec *d)
{
	const struct mikey_chain *ch = &d->msg.ch;

	if (d->o.variant != MIKEY_INITIAL)
		return true;
	return d->msg.hdr.data_type == MIKEY_DT_TRANSFER_INIT &&
	       !mikey_chain_find(ch, MIKEY_PT_RANDR, 0) &&
	       !mikey_chain_find(ch, MIKEY_PT_TICKET, 0);
}

/* Responses: MAC input appends the complete initial message (Table 5.2) */
static const char *resp(struct dec *d, struct kp *k, uint8_t want)
{
	static char why[96];

	if (!d->have_init)
		return "needs --init: the MAC covers the initial message";
	if (d->init.hdr.data_type != want) {
		snprintf(why, sizeof(why), "--init is %s, not %s",
			 mikey_data_type_name(d->init.hdr.data_type),
			 mikey_data_type_name(want));
		return why;
	}
	k->dir = MIKEY_LBL_RESP;
	k->x.part[0] = (struct cc_slice){ d->ibuf, d->ilen };
	k->x.n = 1;
	return NULL;
}

/* RANDRi of the (original) TRANSFER_INIT: --randri or from --init */
static struct cc_slice xfer_randri(const struct dec *d)
{
	if (d->o.randri.set || !d->have_init)
		return (struct cc_slice){ NULL, 0 };
	return rand_of(&d->init, MIKEY_RANDR_I);
}

static const char *transfer_params(struct dec *d, struct kp *k)
{
	const char *why = NULL;

	if (d->msg.hdr.data_type == MIKEY_DT_TRANSFER_RESP) {
		why = resp(d, k, MIKEY_DT_TRANSFER_INIT);
		k->ri = xfer_randri(d);
		k->rr = rand_of(&d->msg, MIKEY_RANDR_R);
	} else if (is_update(d)) {
		/* §8: updates use the TRANSFER_RESP keys both ways */
		k->dir = MIKEY_LBL_RESP;
		k->ri = xfer_randri(d);
		why = ids(k, &d->msg, MIKEY_IDR_I, MIKEY_IDR_R);
	} else {
		k->dir = MIKEY_LBL_INIT;
		k->ri = rand_of(&d->msg, MIKEY_RANDR_I);
		why = ids(k, &d->msg, MIKEY_IDR_I, MIKEY_IDR_R);
	}
	if (!why && !k->ri.len && !d->o.randri.set)
		why = "needs RANDRi: give --randri or --init with the "
		      "original TRANSFER_INIT";
	return why;
}

static const char *msg_params(struct dec *d, struct kp *k)
{
	const char *why = NULL;

	switch (d->msg.hdr.data_type) {
	case MIKEY_DT_REQUEST_INIT_PSK:
		k->dir = MIKEY_LBL_INIT;
		k->ri = rand_of(&d->msg, MIKEY_RANDR_I);
		why = ids(k, &d->msg, MIKEY_IDR_I, MIKEY_IDR_KMS);
		break;
	case MIKEY_DT_RESOLVE_INIT_PSK:
		k->dir = MIKEY_LBL_INIT;
		k->rr = rand_of(&d->msg, MIKEY_RANDR_R);
		why = ids(k, &d->msg, MIKEY_IDR_R, MIKEY_IDR_KMS);
		break;
	case MIKEY_DT_REQUEST_RESP:
		why = resp(d, k, MIKEY_DT_REQUEST_INIT_PSK);
		if (!why)
			k->ri = rand_of(&d->init, MIKEY_RANDR_I);
		break;
	case MIKEY_DT_RESOLVE_RESP:
		why = resp(d, k, MIKEY_DT_RESOLVE_INIT_PSK);
		if (!why)
			k->rr = rand_of(&d->init, MIKEY_RANDR_R);
		break;
	case MIKEY_DT_TRANSFER_INIT:
	case MIKEY_DT_TRANSFER_RESP:
		why = transfer_params(d, k);
		break;
	default:
		return "no key check for this data type";
	}
	if (d->o.randri.set)
		k->ri = (struct cc_slice){ d->o.randri.b, d->o.randri.len };
	if (d->o.randrr.set)
		k->rr = (struct cc_slice){ d->o.randrr.b, d->o.randrr.len };
	return why;
}

static void print_kp(struct dec *d, const struct kp *k)
{
	char s[160];

	snprintf(s, sizeof(s),
		 "DIR 0x%02x, RANDRi %zu bytes, RANDRr %zu bytes, MAC input + "
		 "%s",
		 k->dir, k->ri.len, k->rr.len,
		 k->dir == MIKEY_LBL_RESP && k->x.n == 1 ? "the initial "
							   "message" :
							   "the two "
							   "identities");
	pr_status(&d->pr, "message keys", s);
}

static void open_kemac(struct dec *d, bool mac_ok)
{
	struct mikey_diag dg = { 0 };
	enum cc_err err;

	if (!mikey_chain_find(&d->msg.ch, MIKEY_PT_KEMAC, 0))
		return;
	if (!mac_ok) {
		pr_status(&d->pr, "KEMAC", "not opened (the MAC failed)");
		return;
	}
	err = mikey_kemac_open(&d->msg, &d->mk, d->plain, sizeof(d->plain),
			       &d->keys, &dg);
	status(d, "KEMAC", err, &dg);
	if (!err)
		pr_mikey_keys(&d->pr, "keys", &d->keys);
}

static void check_mac(struct dec *d)
{
	struct kp k = { 0 };
	enum mikey_encr encr;
	enum mikey_mac mac;
	const char *why = msg_params(d, &k);
	enum cc_err err;

	if (why) {
		fail_note(d, "MAC", why);
		return;
	}
	mikey_msg_algs(&d->msg, &encr, &mac);
	if (mac == MIKEY_MAC_NULL) {
		fail_note(d, "MAC", "no V payload with an auth alg");
		return;
	}
	print_kp(d, &k);
	err = mikey_derive_msg_keys((enum mikey_prf)d->msg.hdr.prf, d->o.key.b,
				    d->o.key.len, d->msg.hdr.csb_id, k.dir,
				    k.ri, k.rr, encr, mac, &d->mk);
	if (!err)
		err = mikey_verify(d->buf, d->len, &d->msg, &d->mk, &k.x);
	status(d, "MAC", err, NULL);
	open_kemac(d, !err);
}

static int print_all(struct dec *d)
{
	struct pr *p = &d->pr;

	pr_init(p, stdout, d->o.json, d->o.show_keys);
	p->ticket_tree = d->o.tpk.set;
	p->msg = d->buf;
	pr_begin(p);
	pr_u(p, PR_NO_OFF, "length", d->len, NULL);
	pr_mikey_hdr(p, &d->msg.hdr);
	pr_mikey_chain(p, "payloads", &d->msg.ch, d->buf);
	check_layout(d);
	if (d->o.tpk.set)
		check_ticket(d);
	if (d->o.key.set)
		check_mac(d);
	pr_finish(p);
	return d->failed ? EXIT_CHECK : 0;
}

int mikey_cmd_decode(int argc, char **argv)
{
	struct dec *d = calloc(1, sizeof(*d));
	int rc;

	if (!d) {
		fprintf(stderr, "error: %s\n", cc_strerror(CC_ERR_NOMEM));
		return EXIT_DECODE;
	}
	rc = parse_opts(&d->o, argc, argv);
	if (rc >= 0)
		goto out;
	rc = load(d, d->o.input, d->o.file, d->buf, &d->len, &d->msg, "");
	if (!rc && d->o.init) {
		rc = load(d, d->o.init, false, d->ibuf, &d->ilen, &d->init,
			  "--init: ");
		d->have_init = !rc;
	}
	if (!rc)
		rc = print_all(d);
out:
	cc_wipe(d, sizeof(*d));
	free(d);
	return rc;
}
