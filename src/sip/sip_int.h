/*
 * sip_int.h -- what the SDP readers of src/sip share (keymgmt.c for
 * a=key-mgmt, sdes.c and sdes_sdp.c for a=crypto): one line splitter and
 * the m-line parser, so both read an SDP body the same way.
 */
#ifndef CONCLAVE_SIP_INT_H
#define CONCLAVE_SIP_INT_H

#include <conclave/sdes.h>
#include <conclave/sipglue.h>

/* One line without its end-of-line: [p, p + n). */
struct sipglue_line {
	const char *p;
	size_t n;
};

/* The next line of [*cur, end) (LF or CRLF ends it; the last line may
 * lack one); false at the end. */
bool sipglue_next_line(const char **cur, const char *end,
		       struct sipglue_line *l);

/* Does the line start with pfx (case-sensitive, as SDP names are)? */
bool sipglue_has_prefix(const struct sipglue_line *l, const char *pfx);

/* m=<media> <port>[/<n>] <proto> <fmt> ... (RFC 4566 §5.14) */
CC_MUST_USE enum cc_err sipglue_parse_media(const struct sipglue_line *l,
					    struct sipglue_media *m);

/* sdes.c: set *why (may be NULL), wipe c (may be NULL) unless r is
 * SDES_R_OK, and return r's class. */
CC_MUST_USE enum cc_err sdes_result(enum sdes_reason r, struct sdes_crypto *c,
				    enum sdes_reason *why);

#endif
