/*
 * fuzz_sdes.c -- RFC 4568 a=crypto (src/sip/sdes.c): the input as one
 * attribute line (with and without the "a=crypto:" prefix) and as an SDP
 * body (find, then pick on every m-line). A line that parses must build
 * and parse back to the same tag, suite, keys, lifetimes and MKIs; a
 * refusal must name a reason whose class is the result.
 */
#include <conclave/sdes.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_key(const struct sdes_key *a, const struct sdes_key *b)
{
	if (a->master_len != b->master_len || a->mki_len != b->mki_len ||
	    a->lifetime != b->lifetime ||
	    memcmp(a->master, b->master, a->master_len) != 0 ||
	    memcmp(a->mki, b->mki, a->mki_len) != 0)
		abort();
}

/* Every key of c must survive build -> parse. */
static void check_line(const struct sdes_crypto *c)
{
	static char line[SDES_LINE_MAX];
	struct sdes_crypto again;
	size_t i, n = 0;

	if (!c->nkeys || c->nkeys > SDES_KEYS_MAX || !c->suite ||
	    c->tag > SDES_TAG_MAX)
		abort();
	for (i = 0; i < c->nkeys; i++) {
		if (c->key[i].master_len != sdes_suite_master_len(c->suite))
			abort();
		if (sdes_build(c->tag, c->suite, &c->key[i], line, sizeof(line),
			       &n) != CC_OK ||
		    n != strlen(line) ||
		    sdes_parse(line, n, &again, NULL) != CC_OK)
			abort();
		if (again.tag != c->tag || again.suite != c->suite ||
		    again.nkeys != 1)
			abort();
		same_key(&c->key[i], &again.key[0]);
	}
}

static void parse_one(const char *s, size_t n)
{
	struct sdes_crypto c;
	enum sdes_reason why = SDES_R__COUNT;
	enum cc_err err = sdes_parse(s, n, &c, &why);

	if (why >= SDES_R__COUNT || err != sdes_reason_err(why))
		abort();
	if (err)
		return;
	check_line(&c);
	(void)sdes_acceptable(&c, ~0u, &why);
}

static void sdp(const char *s, size_t n)
{
	static struct sdes_sdp found;
	struct sdes_crypto c;
	enum sdes_reason why;
	size_t m;

	if (sdes_sdp_find(s, n, &found, &why) != CC_OK)
		return;
	for (m = 0; m < found.nmedia; m++) {
		if (sdes_pick(&found, m, ~0u, &c, &why) != CC_OK) {
			if (why == SDES_R_OK)
				abort();
			continue;
		}
		check_line(&c);
		if (sdes_acceptable(&c, ~0u, &why) != CC_OK)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[SDES_LINE_MAX + 16];
	const char *s = (const char *)data;

	if (size > SIPGLUE_MAX_SDP)
		return 0;
	parse_one(s, size);
	if (size + 9 <= sizeof(buf)) {
		memcpy(buf, "a=crypto:", 9);
		memcpy(buf + 9, data, size);
		parse_one(buf, size + 9);
	}
	sdp(s, size);
	return 0;
}
