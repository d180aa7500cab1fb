/*
 * test_kms_identity.c -- identity patterns (DESIGN.md D5): exact and
 * anchored, one '*' in the user part, never across a '.', '@' or realm.
 */
#include <conclave/kms.h>

#include "check.h"

static bool m(const char *pattern, const char *id)
{
	return kms_identity_match(pattern, mikey_str(id));
}

static void test_match(void)
{
	const char *p = "sip:focus*.conf1@example.org";

	CHECK(m(p, "sip:focus17.conf1@example.org"));
	CHECK(m(p, "sip:focus1.conf1@example.org"));
	CHECK(m(p, "sip:focusA-b_c.conf1@example.org"));
	/* '*' is at least one character */
	CHECK(!m(p, "sip:focus.conf1@example.org"));
	/* another conference, another realm, a suffix or prefix added */
	CHECK(!m(p, "sip:focus17.conf2@example.org"));
	CHECK(!m(p, "sip:focus17.conf1@example.org.evil"));
	CHECK(!m(p, "sip:focus17.conf1@evil.example.org"));
	CHECK(!m(p, "sips:focus17.conf1@example.org"));
	CHECK(!m(p, "xsip:focus17.conf1@example.org"));
	/* the wildcard never spans '.', '@', ':' or odd bytes */
	CHECK(!m(p, "sip:focus1.x.conf1@example.org"));
	CHECK(!m(p, "sip:focus1@x.conf1@example.org"));
	CHECK(!m(p, "sip:focus1:5060.conf1@example.org"));
	CHECK(!m(p, "sip:focus1 .conf1@example.org"));
	CHECK(!kms_identity_match(p, (struct cc_slice){ (const uint8_t *)"sip:"
									 "focus"
									 "1\0."
									 "conf1"
									 "@exam"
									 "ple."
									 "org",
							29 }));
	/* exact identities match only themselves */
	CHECK(m("sip:alice@example.org", "sip:alice@example.org"));
	CHECK(!m("sip:alice@example.org", "sip:alice@example.or"));
	CHECK(!m("sip:alice@example.org", "sip:alice@example.orgg"));
	CHECK(!m("sip:alice@example.org", ""));
}

static void test_check(void)
{
	CHECK_OK(kms_identity_check("sip:focus*.conf1@example.org"));
	CHECK_OK(kms_identity_check("sip:alice@example.org"));
	CHECK_OK(kms_identity_check("sip:kms.example.org"));
	/* the realm may not be a pattern, nor be missing */
	CHECK_ERR(kms_identity_check("sip:focus@*.example.org"),
		  CC_ERR_MALFORMED);
	CHECK_ERR(kms_identity_check("sip:focus*"), CC_ERR_MALFORMED);
	CHECK_ERR(kms_identity_check("sip:focus*@"), CC_ERR_MALFORMED);
	CHECK_ERR(kms_identity_check("sip:a*b*@example.org"), CC_ERR_MALFORMED);
	CHECK_ERR(kms_identity_check("sip:a b@example.org"), CC_ERR_MALFORMED);
	CHECK_ERR(kms_identity_check(""), CC_ERR_INVAL);
	CHECK_ERR(kms_identity_check(NULL), CC_ERR_INVAL);
}

int main(void)
{
	test_match();
	test_check();
	CHECK_DONE();
}
