/*
 * focus.c -- SIP URIs of the factory and its foci (DESIGN.md D5,
 * RFC 4579 §5): factory `sip:factory.conf1@realm` serves foci
 * `sip:focus<N>.conf1@realm`, which the KMS knows as one user with the
 * identity pattern `sip:focus*.conf1@realm`. A confd behind a Kamailio
 * dispatcher (issue 7 §2, docs/DEPLOY.md) has a node tag: its foci are
 * `sip:focus<N>-<tag>.conf1@realm`, which the same pattern covers ('*'
 * takes [A-Za-z0-9_-], never '.') and the proxy routes on the tag.
 */
#include <conclave/sipglue.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FACTORY_PFX "factory."
#define FOCUS_PFX "focus"

static enum cc_err copy_part(const char *s, size_t n, char *out, size_t cap)
{
	if (!n)
		return CC_ERR_MALFORMED;
	if (n >= cap)
		return CC_ERR_SPACE;
	memcpy(out, s, n);
	out[n] = '\0';
	return CC_OK;
}

enum cc_err sipglue_uri_split(const char *uri, size_t len, char *user,
			      size_t ucap, char *host, size_t hcap)
{
	const char *p = uri, *end = uri + len, *at, *h;
	enum cc_err err;

	if (!uri || !user || !host)
		return CC_ERR_INVAL;
	if (p < end && *p == '<') {
		p++;
		h = memchr(p, '>', (size_t)(end - p));
		if (!h)
			return CC_ERR_MALFORMED;
		end = h;
	}
	if ((size_t)(end - p) > 4 && !strncasecmp(p, "sip:", 4))
		p += 4;
	else if ((size_t)(end - p) > 5 && !strncasecmp(p, "sips:", 5))
		p += 5;
	else
		return CC_ERR_MALFORMED;
	at = memchr(p, '@', (size_t)(end - p));
	if (!at || memchr(p, ';', (size_t)(at - p)))
		return CC_ERR_MALFORMED;
	err = copy_part(p, (size_t)(at - p), user, ucap);
	if (err)
		return err;
	for (h = at + 1;
	     h < end && *h != ':' && *h != ';' && *h != '?' && *h != '>'; h++)
		;
	return copy_part(at + 1, (size_t)(h - at - 1), host, hcap);
}

enum cc_err sipglue_factory_parts(const char *factory, char *conf, size_t ccap,
				  char *realm, size_t rcap)
{
	char user[SIPGLUE_URI_MAX];
	const char *c = user;
	enum cc_err err;

	if (!factory || !conf || !realm)
		return CC_ERR_INVAL;
	err = sipglue_uri_split(factory, strlen(factory), user, sizeof(user),
				realm, rcap);
	if (err)
		return err;
	if (!strncmp(user, FACTORY_PFX, strlen(FACTORY_PFX)) &&
	    user[strlen(FACTORY_PFX)])
		c += strlen(FACTORY_PFX);
	return copy_part(c, strlen(c), conf, ccap);
}

bool sipglue_node_check(const char *node)
{
	size_t i, n = node ? strlen(node) : 0;

	if (!n || n > SIPGLUE_NODE_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = node[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/* "focus<n>[-<node>].<conf>", with "sip:" and "@<realm>" if uri */
static enum cc_err focus_name(const char *factory, const char *node, uint32_t n,
			      bool uri, char *out, size_t cap)
{
	char conf[SIPGLUE_URI_MAX], realm[SIPGLUE_URI_MAX];
	enum cc_err err;
	int r;

	if (!n || n > 0x7fffffffu || !out)
		return CC_ERR_INVAL;
	if (node && *node && !sipglue_node_check(node))
		return CC_ERR_INVAL;
	err = sipglue_factory_parts(factory, conf, sizeof(conf), realm,
				    sizeof(realm));
	if (err)
		return err;
	r = snprintf(out, cap, "%s" FOCUS_PFX "%" PRIu32 "%s%s.%s%s%s",
		     uri ? "sip:" : "", n, node && *node ? "-" : "",
		     node ? node : "", conf, uri ? "@" : "", uri ? realm : "");
	return r < 0 || (size_t)r >= cap ? CC_ERR_SPACE : CC_OK;
}

enum cc_err sipglue_focus_user(const char *factory, uint32_t n, char *out,
			       size_t cap)
{
	return focus_name(factory, NULL, n, false, out, cap);
}

enum cc_err sipglue_focus_uri(const char *factory, uint32_t n, char *out,
			      size_t cap)
{
	return focus_name(factory, NULL, n, true, out, cap);
}

enum cc_err sipglue_node_focus_user(const char *factory, const char *node,
				    uint32_t n, char *out, size_t cap)
{
	return focus_name(factory, node, n, false, out, cap);
}

enum cc_err sipglue_node_focus_uri(const char *factory, const char *node,
				   uint32_t n, char *out, size_t cap)
{
	return focus_name(factory, node, n, true, out, cap);
}

enum cc_err sipglue_focus_pattern(const char *factory, char *out, size_t cap)
{
	char conf[SIPGLUE_URI_MAX], realm[SIPGLUE_URI_MAX];
	enum cc_err err;
	int r;

	if (!out)
		return CC_ERR_INVAL;
	err = sipglue_factory_parts(factory, conf, sizeof(conf), realm,
				    sizeof(realm));
	if (err)
		return err;
	r = snprintf(out, cap, "sip:" FOCUS_PFX "*.%s@%s", conf, realm);
	return r < 0 || (size_t)r >= cap ? CC_ERR_SPACE : CC_OK;
}

bool sipglue_node_focus_match(const char *factory, const char *node,
			      const char *user, size_t len, uint32_t *n)
{
	char conf[SIPGLUE_URI_MAX], realm[SIPGLUE_URI_MAX];
	size_t pl = strlen(FOCUS_PFX), i, cl, end;
	bool any = node && !strcmp(node, "*");
	uint64_t v = 0;

	if (!user || sipglue_factory_parts(factory, conf, sizeof(conf), realm,
					   sizeof(realm)))
		return false;
	cl = strlen(conf);
	if (len < pl + 2 + cl || strncmp(user, FOCUS_PFX, pl) ||
	    user[len - cl - 1] != '.' ||
	    !cc_ct_equal(user + len - cl, conf, cl))
		return false;
	if (user[pl] == '0')
		return false; /* no leading zero: one name per focus */
	end = len - cl - 1;   /* the '.' before <conf> */
	for (i = pl; i < end && user[i] != '-'; i++) {
		if (user[i] < '0' || user[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(user[i] - '0');
		if (v > 0x7fffffffu)
			return false;
	}
	if (i == pl)
		return false;
	if (i < end) { /* "-<tag>": ours, or any well-formed one */
		size_t tl = end - i - 1;
		char tag[SIPGLUE_NODE_MAX + 1];

		if (!tl || tl > SIPGLUE_NODE_MAX)
			return false;
		memcpy(tag, user + i + 1, tl);
		tag[tl] = '\0';
		if (!sipglue_node_check(tag))
			return false;
		if (!any && (!node || strlen(node) != tl ||
			     !cc_ct_equal(tag, node, tl)))
			return false;
	} else if (!any && node && *node) {
		return false; /* untagged: not a node's focus */
	}
	if (n)
		*n = (uint32_t)v;
	return true;
}

bool sipglue_focus_match(const char *factory, const char *user, size_t len,
			 uint32_t *n)
{
	return sipglue_node_focus_match(factory, NULL, user, len, n);
}

bool sipglue_factory_match(const char *factory, const char *user, size_t len)
{
	char fu[SIPGLUE_URI_MAX], realm[SIPGLUE_URI_MAX];

	if (!factory || !user ||
	    sipglue_uri_split(factory, strlen(factory), fu, sizeof(fu), realm,
			      sizeof(realm)))
		return false;
	return strlen(fu) == len && cc_ct_equal(fu, user, len);
}
