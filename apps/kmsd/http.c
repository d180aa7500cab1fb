/*
 * http.c -- a strict, zero-copy HTTP/1.1 request-head parser (RFC 9112),
 * in the manner of picohttpparser: bytes in, done / need-more / invalid
 * out, no allocation, no I/O. Only what a MIKEY-over-HTTP endpoint needs;
 * anything ambiguous for message framing is refused (request smuggling).
 */
#include "kmsd.h"

#include <string.h>
#include <strings.h>

bool kmsd_slice_eq(struct cc_slice s, const char *str)
{
	size_t n = strlen(str);

	/* protocol tokens, not secrets: an ordinary compare is right */
	return s.len == n && !strncmp((const char *)s.p, str, n);
}

static bool slice_ieq(struct cc_slice s, const char *str)
{
	size_t n = strlen(str);

	return s.len == n && !strncasecmp((const char *)s.p, str, n);
}

const char *kmsd_http_reason(unsigned status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 417:
		return "Expectation Failed";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar / obs-text, SP and HTAB (RFC 9110 §5.5). */
static bool is_value_char(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Printable, no space: the request target (RFC 3986 characters and a
 * little more; spaces and controls are what matter for framing). */
static bool is_target_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

static enum kmsd_http_method method_of(struct cc_slice m)
{
	if (kmsd_slice_eq(m, "GET"))
		return KMSD_M_GET;
	if (kmsd_slice_eq(m, "HEAD"))
		return KMSD_M_HEAD;
	if (kmsd_slice_eq(m, "POST"))
		return KMSD_M_POST;
	return KMSD_M_OTHER;
}

struct head_ctx {
	struct kmsd_http_req *req;
	unsigned *status;
	const char **why;
	bool http10;
	bool has_host;
	bool has_te;
};

static enum kmsd_http_parse fail(struct head_ctx *h, unsigned status,
				 const char *why)
{
	*h->status = status;
	*h->why = why;
	return KMSD_HTTP_ERROR;
}

/* `method SP request-target SP HTTP-version`, no CRLF (RFC 9112 §3). */
static enum kmsd_http_parse request_line(struct head_ctx *h, const uint8_t *p,
					 size_t len)
{
	struct kmsd_http_req *req = h->req;
	size_t i = 0, t0, q;

	while (i < len && is_tchar(p[i]))
		i++;
	if (i == 0 || i >= len || p[i] != ' ')
		return fail(h, 400, "bad request line (method)");
	req->method_str = (struct cc_slice){ p, i };
	req->method = method_of(req->method_str);
	t0 = ++i;
	while (i < len && is_target_char(p[i]))
		i++;
	if (i == t0 || i >= len || p[i] != ' ')
		return fail(h, 400, "bad request line (target)");
	if (p[t0] != '/')
		return fail(h, 400, "request target not in origin-form");
	for (q = t0; q < i && p[q] != '?'; q++)
		;
	req->path = (struct cc_slice){ p + t0, q - t0 };
	i++;
	if (len - i != 8 || strncmp((const char *)p + i, "HTTP/", 5) ||
	    p[i + 6] != '.')
		return fail(h, 400, "bad request line (version)");
	if (p[i + 5] == '1' && p[i + 7] == '1')
		return KMSD_HTTP_DONE;
	if (p[i + 5] == '1' && p[i + 7] == '0') {
		h->http10 = true;
		return KMSD_HTTP_DONE;
	}
	return fail(h, 505, "HTTP version not supported");
}

static enum kmsd_http_parse content_length(struct head_ctx *h,
					   struct cc_slice v)
{
	size_t i, n = 0;

	if (h->req->has_clen)
		return fail(h, 400, "duplicate Content-Length");
	if (!v.len || v.len > 9)
		return fail(h, 400, "invalid Content-Length");
	for (i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return fail(h, 400, "invalid Content-Length");
		n = n * 10 + (size_t)(v.p[i] - '0');
	}
	h->req->has_clen = true;
	h->req->clen = n;
	return KMSD_HTTP_DONE;
}

/* Comma-separated tokens of Connection (RFC 9110 §7.6.1). */
static void connection(struct head_ctx *h, struct cc_slice v)
{
	size_t i = 0;

	while (i < v.len) {
		size_t s, e;

		while (i < v.len &&
		       (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
			i++;
		s = i;
		while (i < v.len && v.p[i] != ',')
			i++;
		e = i;
		while (e > s && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
			e--;
		if (slice_ieq((struct cc_slice){ v.p + s, e - s }, "close"))
			h->req->close = true;
	}
}

static enum kmsd_http_parse field(struct head_ctx *h, struct cc_slice name,
				  struct cc_slice v)
{
	if (slice_ieq(name, "content-length"))
		return content_length(h, v);
	if (slice_ieq(name, "transfer-encoding")) {
		h->has_te = true;
	} else if (slice_ieq(name, "host")) {
		if (h->has_host)
			return fail(h, 400, "duplicate Host");
		h->has_host = true;
	} else if (slice_ieq(name, "content-type")) {
		if (h->req->ctype.p)
			return fail(h, 400, "duplicate Content-Type");
		h->req->ctype = v;
	} else if (slice_ieq(name, "connection")) {
		connection(h, v);
	} else if (slice_ieq(name, "expect")) {
		if (!slice_ieq(v, "100-continue"))
			return fail(h, 417, "unsupported Expect");
		h->req->expect_continue = true;
	}
	return KMSD_HTTP_DONE;
}

/* `field-name ":" OWS field-value OWS`, no CRLF (RFC 9112 §5). */
static enum kmsd_http_parse header_line(struct head_ctx *h, const uint8_t *p,
					size_t len)
{
	size_t i = 0, k, name_len, e = len;

	if (len && (p[0] == ' ' || p[0] == '\t'))
		return fail(h, 400, "obsolete header line folding");
	while (i < len && is_tchar(p[i]))
		i++;
	if (i == 0 || i >= len || p[i] != ':')
		return fail(h, 400, "bad header field name");
	name_len = i++;
	for (k = i; k < len; k++)
		if (!is_value_char(p[k]))
			return fail(h, 400, "control character in header");
	while (i < e && (p[i] == ' ' || p[i] == '\t'))
		i++;
	while (e > i && (p[e - 1] == ' ' || p[e - 1] == '\t'))
		e--;
	return field(h, (struct cc_slice){ p, name_len },
		     (struct cc_slice){ p + i, e - i });
}

/* Find the CRLF CRLF ending the head. A LF not preceded by CR is an
 * error at once (*bare_lf), so that a client using bare LF line ends
 * gets 400 instead of waiting for a blank line that never comes. */
static const uint8_t *find_end(const uint8_t *p, size_t len, size_t *scan,
			       bool *bare_lf)
{
	size_t i = *scan > 3 ? *scan - 3 : 0;

	*bare_lf = false;
	for (; i < len; i++) {
		if (p[i] != '\n')
			continue;
		if (i == 0 || p[i - 1] != '\r') {
			*bare_lf = true;
			return NULL;
		}
		if (i >= 3 && p[i - 2] == '\n' && p[i - 3] == '\r')
			return p + i - 3;
	}
	*scan = len;
	return NULL;
}

static enum kmsd_http_parse parse_head(struct head_ctx *h, const uint8_t *p,
				       size_t len)
{
	enum kmsd_http_parse r;
	size_t pos = 0;
	bool first = true;

	while (pos < len) {
		const uint8_t *cr = memchr(p + pos, '\r', len - pos);
		size_t n = cr ? (size_t)(cr - (p + pos)) : len - pos;

		if (!cr || pos + n + 1 >= len || cr[1] != '\n')
			return fail(h, 400, "bare CR in head");
		if (memchr(p + pos, '\n', n))
			return fail(h, 400, "bare LF in head");
		r = first ? request_line(h, p + pos, n) :
			    header_line(h, p + pos, n);
		if (r != KMSD_HTTP_DONE)
			return r;
		first = false;
		pos += n + 2;
	}
	return KMSD_HTTP_DONE;
}

enum kmsd_http_parse kmsd_http_parse(const uint8_t *p, size_t len,
				     size_t max_head, size_t *scan,
				     struct kmsd_http_req *req,
				     unsigned *status, const char **why)
{
	struct head_ctx h = { req, status, why, false, false, false };
	const uint8_t *end;
	enum kmsd_http_parse r;
	bool bare_lf;

	/* RFC 9112 §2.2: a server SHOULD ignore empty lines before the
	 * request line; we refuse them (a client that sends them is
	 * confused about framing). */
	end = find_end(p, len, scan, &bare_lf);
	if (bare_lf)
		return fail(&h, 400, "bare LF in head");
	if (!end) {
		if (len > max_head)
			return fail(&h, 431, "request head too large");
		return KMSD_HTTP_NEED_MORE;
	}
	memset(req, 0, sizeof(*req));
	req->head_len = (size_t)(end - p) + 4;
	if (req->head_len > max_head)
		return fail(&h, 431, "request head too large");
	/* the head without its final CRLF CRLF, + the CRLF of the last line */
	r = parse_head(&h, p, (size_t)(end - p) + 2);
	if (r != KMSD_HTTP_DONE)
		return r;
	if (h.has_te)
		return fail(&h, req->has_clen ? 400 : 411,
			    "Transfer-Encoding not supported");
	if (!h.http10 && !h.has_host)
		return fail(&h, 400, "missing Host");
	if (req->method == KMSD_M_POST && !req->has_clen)
		return fail(&h, 411, "POST without Content-Length");
	if (h.http10)
		req->close = true; /* we do not do HTTP/1.0 keep-alive */
	return KMSD_HTTP_DONE;
}
