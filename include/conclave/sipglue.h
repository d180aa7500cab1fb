/*
 * sipglue.h -- SIP/SDP helpers shared by conclave-confd and participants
 * (DESIGN.md §1 "sip glue"; library cc_sip, src/sip).
 *
 *   key-mgmt   RFC 4567 `a=key-mgmt:mikey <base64>` at session level:
 *              find and decode it in an SDP body, build it, and the
 *              bidding-down check of RFC 4567 §4.1.4 / §7 (A11).
 *   SDP        a minimal offer/answer body around the attribute.
 *   focus      focus URIs `focus<N>.<conf>@realm` of a factory
 *              `factory.<conf>@realm` (DESIGN.md D5, RFC 4579 §5).
 *   ticket     the IDRr list of the TICKET in a TRANSFER_INIT (the
 *              allowed set of a creation ticket, D3).
 *
 * The parsers treat the SDP as untrusted text: every read is bounded by
 * the given length, nothing needs a NUL terminator. Only sipglue_*_mbuf
 * touch libre types (struct mbuf); compile their callers with libre.
 */
#ifndef CONCLAVE_SIPGLUE_H
#define CONCLAVE_SIPGLUE_H

#include <conclave/kmsc.h>

enum {
	SIPGLUE_MAX_KMPIDS = 8,   /* key-mgmt attributes we look at */
	SIPGLUE_KMPID_MAX = 32,   /* one prtcl-id + NUL */
	SIPGLUE_MAX_MEDIA = 8,    /* m-lines (= KMSC_MAX_MEDIA) */
	SIPGLUE_MAX_SDP = 8192,   /* SDP bodies we build or accept */
	SIPGLUE_IDLIST_MAX = 128, /* "mikey;keyp1;..." + NUL */
	SIPGLUE_URI_MAX = KMSC_MAX_ID,
};

/** The protocol id of MIKEY in a=key-mgmt (RFC 4567 §7, case-sensitive). */
#define SIPGLUE_KMPID_MIKEY "mikey"

/** One m-line, as much of it as an answer needs to mirror. */
struct sipglue_media {
	char type[16];  /* "audio" */
	uint16_t port;  /* 0 = rejected stream */
	char proto[24]; /* "RTP/SAVP" */
	char fmt[32];   /* first format, e.g. "0" */
	/* parsed: every numeric format (0..127) of the m-line, in order */
	uint8_t pts[16];
	size_t npts;
	uint8_t opus_pt; /* a=rtpmap:<pt> opus/48000[/2] on it; 0: none */
	/* built: "a=rtpmap:<rtpmap>" after the m-line if not empty */
	char rtpmap[40];
};

/** What sipglue_km_parse found in an SDP body. */
struct sipglue_km {
	/* The decoded MIKEY message of the session-level a=key-mgmt:mikey */
	uint8_t mikey[KMSC_MAX_MSG];
	size_t mikey_len;
	/* Every key-mgmt prtcl-id offered, in SDP order (RFC 4567 §4.1.4):
	 * the list MIKEY must authenticate, e.g. "mikey" */
	char ids[SIPGLUE_MAX_KMPIDS][SIPGLUE_KMPID_MAX];
	size_t nids;
	/* m-lines, in order */
	struct sipglue_media media[SIPGLUE_MAX_MEDIA];
	size_t nmedia;
};

/**
 * Parse an SDP body (len bytes, CRLF or LF lines) and decode its
 * session-level `a=key-mgmt:mikey` (RFC 4567 §3.1: optional space after
 * the colon; prtcl-id case-sensitive). Results:
 *   CC_OK               km filled;
 *   CC_ERR_MISSING      no a=key-mgmt:mikey at session level;
 *   CC_ERR_MALFORMED    bad attribute syntax, bad base64, not SDP;
 *   CC_ERR_UNSUPPORTED  two mikey attributes at session level, or a
 *                       media-level key-mgmt (this implementation keys
 *                       every stream from the session-level message;
 *                       RFC 4567 §4.1.2 says abort rather than guess);
 *   CC_ERR_SPACE        the MIKEY message or the SDP is too large.
 * km is zeroed first and left zeroed on failure.
 */
CC_MUST_USE enum cc_err sipglue_km_parse(const char *sdp, size_t len,
					 struct sipglue_km *km);

/** The prtcl-id list of km joined by ';' (RFC 4567 §4.1.4 prtcl-list). */
CC_MUST_USE enum cc_err sipglue_km_idlist(const struct sipglue_km *km,
					  char *out, size_t cap);

/**
 * Bidding-down check (RFC 4567 §7, spec/ambiguities.md A11), to run on a
 * MIKEY message whose MAC has been VERIFIED (the General Extension is
 * only trustworthy then). If the message carries a General Extension of
 * type 1 (SDP IDs), its data must equal the SDP's prtcl-list exactly,
 * else CC_ERR_POLICY. If it carries none, the offer is accepted only when
 * "mikey" was the one protocol offered (nothing to bid down), unless
 * strict is set, in which case a missing extension is CC_ERR_POLICY.
 */
CC_MUST_USE enum cc_err sipglue_km_check_ids(const struct sipglue_km *km,
					     bool strict);

/**
 * "a=key-mgmt:mikey <base64>\r\n" for a MIKEY message (RFC 4567 §3).
 * *outlen = characters written (a NUL follows them).
 */
CC_MUST_USE enum cc_err sipglue_km_attr(const uint8_t *mikey, size_t len,
					char *out, size_t cap, size_t *outlen);

/** What sipglue_sdp_build writes. */
struct sipglue_sdp_opts {
	const char *addr;     /* c= / o= address, IPv4 or IPv6 text */
	uint64_t sess_id;     /* o= sess-id */
	uint64_t sess_ver;    /* o= sess-version */
	const uint8_t *mikey; /* session-level a=key-mgmt:mikey, or NULL */
	size_t mikey_len;
	const struct sipglue_media *media;
	size_t nmedia;
	const char *dir; /* "sendrecv", "inactive", ... or NULL */
};

/**
 * A complete SDP body: v=, o=, s=, c=, t=, the key-mgmt attribute at
 * session level, then one m-line per media (with a=<dir> if given).
 */
CC_MUST_USE enum cc_err sipglue_sdp_build(const struct sipglue_sdp_opts *o,
					  char *out, size_t cap,
					  size_t *outlen);

/* ---- URIs and focus names (DESIGN.md D5, RFC 4579) ------------------- */

/**
 * Split "sip:user@host[:port][;params]" (optionally inside <...>) into
 * user and host (no port, no params). CC_ERR_MALFORMED if the scheme is
 * not sip/sips or user or host is empty; CC_ERR_SPACE if a part does not
 * fit.
 */
CC_MUST_USE enum cc_err sipglue_uri_split(const char *uri, size_t len,
					  char *user, size_t ucap, char *host,
					  size_t hcap);

/**
 * The conference suffix of a factory URI: "conf1" for
 * sip:factory.conf1@realm; for a user part not starting with "factory."
 * the whole user part. Written with its realm: *conf = "conf1",
 * *realm = "realm".
 */
CC_MUST_USE enum cc_err sipglue_factory_parts(const char *factory, char *conf,
					      size_t ccap, char *realm,
					      size_t rcap);

/** "sip:focus<n>.<conf>@<realm>" for a factory URI (n >= 1). */
CC_MUST_USE enum cc_err sipglue_focus_uri(const char *factory, uint32_t n,
					  char *out, size_t cap);

/** The user part "focus<n>.<conf>" of that focus URI. */
CC_MUST_USE enum cc_err sipglue_focus_user(const char *factory, uint32_t n,
					   char *out, size_t cap);

/** The KMS identity pattern of every focus of a factory:
 *  "sip:focus*.<conf>@<realm>" (what a creator accepts as answerer). */
CC_MUST_USE enum cc_err sipglue_focus_pattern(const char *factory, char *out,
					      size_t cap);

/**
 * Is user (a Request-URI user part, len bytes) a focus of this factory?
 * true with *n set for "focus<n>.<conf>" (n decimal, 1..2^31-1, no
 * leading zero).
 */
bool sipglue_focus_match(const char *factory, const char *user, size_t len,
			 uint32_t *n);

/* Focus nodes behind a SIP dispatcher (issue 7 §2, docs/DEPLOY.md): a
 * node tag (1..SIPGLUE_NODE_MAX of [A-Za-z0-9_]) names the node in its
 * focus URIs, "sip:focus<n>-<node>.<conf>@<realm>", which the KMS
 * pattern "sip:focus*.<conf>@<realm>" still covers. node NULL or "" is
 * the untagged form above. */
#define SIPGLUE_NODE_MAX 32

/** Is node a well-formed node tag? */
bool sipglue_node_check(const char *node);

/** "sip:focus<n>-<node>.<conf>@<realm>" (untagged if node is NULL/""). */
CC_MUST_USE enum cc_err sipglue_node_focus_uri(const char *factory,
					       const char *node, uint32_t n,
					       char *out, size_t cap);

/** The user part "focus<n>-<node>.<conf>" of that URI. */
CC_MUST_USE enum cc_err sipglue_node_focus_user(const char *factory,
						const char *node, uint32_t n,
						char *out, size_t cap);

/**
 * sipglue_focus_match for a node: true only for "focus<n>-<node>.<conf>"
 * (node set) or the untagged "focus<n>.<conf>" (node NULL or ""); node
 * "*" accepts the untagged form and any well-formed tag.
 */
bool sipglue_node_focus_match(const char *factory, const char *node,
			      const char *user, size_t len, uint32_t *n);

/** Is user (len bytes) the factory's own user part? */
bool sipglue_factory_match(const char *factory, const char *user, size_t len);

/* ---- the TICKET of a TRANSFER_INIT ----------------------------------- */

/**
 * The IDRr list of the Ticket Policy carried in a TRANSFER_INIT's TICKET
 * (RFC 6043 §6.10). Call it only after the ticket was resolved and the
 * message verified (kmsc_resolve_open): the KMS vouches for the TICKET,
 * the MAC for the message. *n entries of out[] are filled.
 */
CC_MUST_USE enum cc_err sipglue_ticket_responders(const uint8_t *xinit,
						  size_t len,
						  char (*out)[KMSC_MAX_ID],
						  size_t cap, size_t *n);

/* ---- libre bodies ------------------------------------------------------ */

struct mbuf;

/** sipglue_km_parse over the unread part of a libre mbuf (pos..end). */
CC_MUST_USE enum cc_err sipglue_km_parse_mbuf(const struct mbuf *mb,
					      struct sipglue_km *km);

/** A Warning header value for a refused key-mgmt offer (RFC 4567
 *  §4.1.2): `306 <agent> "Attribute not understood"`. */
CC_MUST_USE enum cc_err sipglue_warning_306(const char *agent, char *out,
					    size_t cap);

#endif
