/*
 * identity.c -- public identities and patterns (DESIGN.md D5). One KMS
 * user owns several identities; a pattern such as
 * "sip:focus*.conf1@example.org" lets every dynamically named focus of a
 * conference factory resolve as that user. Matching is exact and anchored:
 * the only wildcard is one '*' in the user part, standing for one or more
 * of [A-Za-z0-9_-], and the realm must be equal byte for byte, so no
 * pattern can reach into another realm or across a '.' or '@'.
 */
#include <conclave/kms.h>

#include <string.h>

static bool wild_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static const uint8_t *last_at(const uint8_t *p, size_t n)
{
	while (n--)
		if (p[n] == '@')
			return p + n;
	return NULL;
}

bool kms_identity_match(const char *pattern, struct cc_slice id)
{
	const char *star = strchr(pattern, '*');
	size_t plen = strlen(pattern), pre, suf, i;

	if (!id.p || !id.len)
		return false;
	if (!star)
		return plen == id.len && cc_ct_equal(pattern, id.p, plen);
	pre = (size_t)(star - pattern);
	suf = plen - pre - 1;
	/* '*' stands for at least one character */
	if (id.len < pre + suf + 1)
		return false;
	if (!cc_ct_equal(id.p, pattern, pre) ||
	    !cc_ct_equal(id.p + id.len - suf, star + 1, suf))
		return false;
	for (i = pre; i < id.len - suf; i++)
		if (!wild_char(id.p[i]))
			return false;
	/* kms_identity_check put the realm after the star: the suffix
	 * compare above already matched it exactly */
	return true;
}

enum cc_err kms_identity_check(const char *pattern)
{
	size_t n = pattern ? strlen(pattern) : 0, i, stars = 0;
	const uint8_t *at;
	const char *star;

	if (!n || n >= KMS_MAX_NAME)
		return CC_ERR_INVAL;
	for (i = 0; i < n; i++) {
		uint8_t c = (uint8_t)pattern[i];

		if (c <= 0x20 || c >= 0x7f)
			return CC_ERR_MALFORMED;
		stars += c == '*';
	}
	if (!stars)
		return CC_OK;
	star = strchr(pattern, '*');
	at = last_at((const uint8_t *)pattern, n);
	/* one '*', in the user part, with a non-empty realm after '@' */
	if (stars > 1 || !at || (const char *)at < star ||
	    at == (const uint8_t *)pattern + n - 1)
		return CC_ERR_MALFORMED;
	return CC_OK;
}
