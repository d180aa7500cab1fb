/*
 * cmd_mikey.c -- `conclave mikey`: decode MIKEY / MIKEY-TICKET messages
 * (RFC 3830, RFC 6043) into an annotated tree or JSON, check their MAC,
 * KEMAC and base ticket with given keys, and print the worked examples of
 * spec/worked-examples.md (`vectors`).
 *
 * Exit status: 0 ok, 1 the input does not decode, 2 usage, 3 a check
 * (layout, MAC, KEMAC, ticket) failed.
 */
#include "cmds.h"
#include "mikey_cli.h"
#include "mikey_print.h"

#include <conclave/mikey_examples.h>

#include <stdlib.h>
#include <string.h>

static const char usage_top[] =
	"usage: conclave mikey <command> [options]\n\n"
	"commands:\n"
	"  decode   decode a MIKEY message, print it as a tree or JSON and\n"
	"           check its MAC, KEMAC and ticket with given keys\n"
	"  vectors  print the worked examples (spec/worked-examples.md)\n\n"
	"`conclave mikey <command> --help` describes each command.\n";

static const char usage_vectors[] = "usage: conclave mikey vectors [--json]\n\n"
				    "Builds every message of the mode-1 worked "
				    "example through the\n"
				    "library and prints its section, name, "
				    "length, hex and the SDP line\n"
				    "`a=key-mgmt:mikey <base64>`.\n\n"
				    "  --json   one JSON object {\"examples\": "
				    "[...]}\n";

static int vectors_text(const struct mikey_example *ex, size_t n)
{
	char b64[1024];
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (cc_b64_encode(ex[i].buf, ex[i].len, b64, sizeof(b64)))
			return 1;
		printf("[%s] %s (%zu bytes)\n", ex[i].section, ex[i].name,
		       ex[i].len);
		printf("hex: ");
		for (j = 0; j < ex[i].len; j++)
			printf("%02x", ex[i].buf[j]);
		printf("\na=key-mgmt:mikey %s\n\n", b64);
	}
	return 0;
}

static const char *variant_name(enum mikey_variant v)
{
	switch (v) {
	case MIKEY_UPDATE_BY_I:
		return "update by Initiator";
	case MIKEY_UPDATE_BY_R:
		return "update by Responder";
	default:
		return "initial";
	}
}

static int vectors_json(const struct mikey_example *ex, size_t n)
{
	char b64[1024], sdp[1100];
	struct pr p;
	size_t i;

	pr_init(&p, stdout, true, false);
	pr_begin(&p);
	pr_arr(&p, "examples", true);
	for (i = 0; i < n; i++) {
		if (cc_b64_encode(ex[i].buf, ex[i].len, b64, sizeof(b64)))
			return 1;
		snprintf(sdp, sizeof(sdp), "a=key-mgmt:mikey %s", b64);
		pr_item(&p, PR_NO_OFF, ex[i].name, NULL);
		pr_s(&p, PR_NO_OFF, "section", ex[i].section);
		pr_s(&p, PR_NO_OFF, "name", ex[i].name);
		pr_s(&p, PR_NO_OFF, "variant", variant_name(ex[i].variant));
		pr_u(&p, PR_NO_OFF, "length", ex[i].len, NULL);
		pr_hex(&p, PR_NO_OFF, "hex",
		       (struct cc_slice){ ex[i].buf, ex[i].len });
		pr_s(&p, PR_NO_OFF, "sdp", sdp);
		pr_end(&p);
	}
	pr_end(&p);
	pr_finish(&p);
	return 0;
}

static int cmd_vectors(int argc, char **argv)
{
	struct mikey_example *ex;
	bool json = false;
	enum cc_err err;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_vectors, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--json")) {
			fprintf(stderr,
				"mikey vectors: unknown option '%s'\n\n%s",
				argv[i], usage_vectors);
			return 2;
		}
		json = true;
	}
	ex = calloc(MIKEY_EX__COUNT, sizeof(*ex));
	if (!ex) {
		fprintf(stderr, "mikey vectors: %s\n",
			cc_strerror(CC_ERR_NOMEM));
		return 1;
	}
	err = mikey_examples_build(ex);
	if (err) {
		fprintf(stderr, "mikey vectors: building the examples: %s\n",
			cc_strerror(err));
		rc = 1;
		goto out;
	}
	rc = json ? vectors_json(ex, MIKEY_EX__COUNT) :
		    vectors_text(ex, MIKEY_EX__COUNT);
	if (rc)
		fprintf(stderr, "mikey vectors: base64 encoding failed\n");
out:
	free(ex);
	return rc;
}

int cmd_mikey(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_top, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage_top, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "decode"))
		return mikey_cmd_decode(argc - 1, argv + 1);
	if (!strcmp(argv[1], "vectors"))
		return cmd_vectors(argc - 1, argv + 1);
	fprintf(stderr, "mikey: unknown command '%s'\n\n%s", argv[1],
		usage_top);
	return 2;
}
