/*
 * confd.h -- conclave-confd internals: configuration (main.c), log
 * (main.c), the SIP factory/focus (sip.c), the media plane (media.c) and
 * the counters behind GET /metrics (metrics.c).
 */
#ifndef CONCLAVE_CONFD_H
#define CONCLAVE_CONFD_H

#include <conclave/conf.h>
#include <conclave/kmsc.h>
#include <conclave/sipglue.h>

#include <stdarg.h>
#include <stdio.h>

enum confd_level {
	CONFD_LOG_ERROR = 0,
	CONFD_LOG_WARN,
	CONFD_LOG_INFO,
	CONFD_LOG_DEBUG,
};

/** One line on stderr. Never pass keys. */
void confd_log(enum confd_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct confd_conf {
	char udp[64]; /* addr:port or "off" */
	char tcp[64];
	char tls[64];         /* addr:port or "off" (default) */
	char tls_cert[512];   /* PEM: certificate chain + private key */
	char metrics[64];     /* HTTP addr:port for /metrics, or "off" */
	uint32_t rtp_timeout; /* s without SRTP from a member: lost; 0 = off */
	char factory[KMSC_MAX_ID];       /* sip:factory.conf1@realm */
	char node[SIPGLUE_NODE_MAX + 1]; /* "" or tag: focus<N>-<tag> */
	char credential[512];            /* `conclave kms credential export` */
	char kms_url[KMSC_MAX_URL];      /* "" = the credential's */
	char kms_ca[512];
	uint32_t skew;
	uint32_t idle_timeout;    /* s: an empty conference ends after it */
	uint32_t replay_capacity; /* TRANSFER_INITs remembered */
	bool strict_sdp_ids;      /* A11: require the SDP-IDs extension */
	/* SDES members (sdes.c, D8): identities that may join by a=crypto
	 * ("*": any identity in the conference's allowed set; "" = none) */
	char sdes_allow[1024];
	bool sdes_insecure;  /* TEST ONLY: SDES without SIP over TLS */
	bool sdes_nomki_bye; /* rekey of an SDES leg without MKI: BYE it */
	bool event_insecure; /* TEST ONLY: event package over UDP/TCP */
	enum confd_level log_level;
	struct conf_policy policy;
};

/* ---- KMS replicas (kms.c): `kms_url` is a comma-separated list ---- */

/** Parse the replica list; copy its first URL into first. 0 or EINVAL. */
int confd_kms_urls(const char *list, char *first, size_t cap);

/** POST a MIKEY message to a replica (round-robin); a transport failure or
 *  HTTP 5xx is retried once on the next one. h is called exactly once
 *  (unless confd's HTTP client is freed first). */
CC_MUST_USE enum cc_err confd_kms_post(const uint8_t *body, size_t len,
				       kmsc_http_h *h, void *arg);

/** Drop requests still pending (after the HTTP client is freed). */
void confd_kms_close(void);

/** Start the SIP listeners; the caller runs re_main. */
int confd_sip_start(const struct confd_conf *cf, struct kmsc_cred *cred);

/** SIGTERM: end every conference (BYE each member), close SIP, and
 *  call re_cancel when done (or after a deadline). */
void confd_sip_shutdown(void);

/** Free what confd_sip_start allocated. */
void confd_sip_free(void);

/** Gauges read at scrape time (sip.c walks its conferences). */
struct confd_gauges {
	uint64_t conferences; /* live (not ended) */
	uint64_t members;     /* joining + joined, over live conferences */
	uint64_t media_fwd;   /* SRTP copies forwarded, ever */
	uint64_t media_drops; /* packets dropped, ever */
};
void confd_sip_gauges(struct confd_gauges *gs);

/* ---- media plane (media.c): switching mode, one RTP socket per
 * conference ------------------------------------------------------------ */

struct confd_media;
struct sa;

/** The media plane saw ssrc's ROC change (feed CONF_EV_MEDIA_ROC). */
typedef void(confd_roc_h)(uint32_t ssrc, uint32_t roc, void *arg);

/** A UDP RTP socket on ip (port chosen by the system) and a group that
 *  asks core who owns an SSRC. name (kept) labels log lines. */
int confd_media_alloc(struct confd_media **mp, const char *ip,
		      struct conf *core, const char *name, confd_roc_h *roch,
		      void *arg);
/** Mixing mode (policy media=mix; apps/confd/mixer.c): members' packets
 *  go to a mixer ticking every 20 ms, which sends on the focus SSRCs
 *  ssrcs (1 + p->speakers, reserved in core at CREATED; the common mix
 *  first). Call once after confd_media_alloc, before any member is added;
 *  a no-op (0) under media=switch. 0 or an errno. */
int confd_media_mix(struct confd_media *m, const struct conf_policy *p,
		    const uint32_t *ssrcs);
uint16_t confd_media_port(const struct confd_media *m);
/** Put a member (its RTP address from the SDP offer) into the fan-out. */
int confd_media_add(struct confd_media *m, conf_mid mid, const struct sa *rtp);
/** A member's output codec in mixing mode (enum media_mix_codec: 0 PCMU,
 *  1 PCMA, 2 Opus); a no-op (0) under media=switch. 0 or an errno. */
int confd_media_codec(struct confd_media *m, conf_mid mid, int codec);
/** Take it out (no-op if absent). */
void confd_media_remove(struct confd_media *m, conf_mid mid);
struct media_upkey;
/** An SDES member (D8): its packets are decrypted under its own keys and
 *  re-protected once under the group key (media_switch_rx_sdes); no_mki:
 *  it cannot read an MKI, so the copies it gets have the group MKI taken
 *  out (the MKI is not authenticated, RFC 3711 §3.1: same bytes, same
 *  tag). Called again after each answer with its (possibly new) keys. */
int confd_media_sdes(struct confd_media *m, conf_mid mid,
		     const struct media_upkey *k, size_t n, bool no_mki,
		     uint64_t grace_ms);
/** NEW_EPOCH, SWITCH_MKI, RETIRE_EPOCH, DROP_MEDIA; others ignored. */
void confd_media_action(struct confd_media *m, const struct conf_action *a);
/** Copies forwarded and packets dropped (any reason). */
void confd_media_stats(const struct confd_media *m, uint64_t *fwd,
		       uint64_t *drops);
/** Fill out with up to max members whose last authenticated packet (or,
 *  if none arrived yet, whose confd_media_add) is older than `before`
 *  (tmr_jiffies ms); returns how many. For the RTP timeout (sip.c). */
size_t confd_media_silent(const struct confd_media *m, uint64_t before,
			  conf_mid *out, size_t max);

/* ---- split media plane (media_remote.c, DESIGN.md D10) ------------------
 * The confd_media_* above dispatch: in-process (media.c, the default) or,
 * with `media remote HOST:PORT[,...]`, a conclave-mediad over mutual TLS
 * (one per conference, round-robin). A remote call is a short blocking
 * request on the control channel. */

/** Config keys media, media_cert, media_ca (main.c); false: bad line. */
bool confd_media_conf(const char *k, const char *v);
/** After the config is read: the TLS context for a remote plane; 0 or an
 *  errno (logged). */
int confd_media_setup(void);
/** Close the control connections (after confd_sip_free). */
void confd_media_close(void);
/** The address to name in the SDP: a mediad's, or dflt (in-process). */
const char *confd_media_addr(const struct confd_media *m, const char *dflt);
/** The media plane lost a conference (its mediad went away): sip.c ends
 *  it, a BYE to every member. arg: confd_media_alloc's arg. */
void confd_media_lost(void *arg);

/* ---- metrics (metrics.c): GET /metrics, GET /healthz ---------------------- */

enum {
	CONFD_RM__COUNT = CONF_RM_ENDED + 1, /* index: enum conf_removal */
	CONFD_CODE_MIN = 400,                /* refused: 400 .. 599 */
	CONFD_CODE__COUNT = 200,
};

/** Counters; sip.c bumps them in one line each. Single-threaded (the
 *  libre main loop), so plain integers do. */
struct confd_counters {
	uint64_t conferences_created;
	uint64_t joins_accepted; /* ACCEPT from the conference core */
	uint64_t refused[CONFD_CODE__COUNT]; /* final 4xx/5xx to an INVITE */
	uint64_t rekeys_started;    /* NEW_EPOCH after a conference's first */
	uint64_t rekeys_completed;  /* SWITCH_MKI to such an epoch */
	uint64_t reinvite_failures; /* CSB update unsent or refused */
	uint64_t removed[CONFD_RM__COUNT]; /* DROP_MEDIA, by conf_removal */
	uint64_t kms_requests;             /* RESOLVE_INITs posted */
	uint64_t kms_failures; /* no usable KMS answer (transport, HTTP) */
	uint64_t media_fwd_gone, media_drops_gone; /* of freed conferences */
};

extern struct confd_counters confd_ctr;

/** Count a final INVITE refusal by its SIP status code. */
void confd_metrics_refused(uint16_t code);
/** event.c, for /metrics: subscriptions now, NOTIFYs sent, SUBSCRIBEs
 *  refused (any reason, rate limit included). */
void event_stats(uint64_t *active, uint64_t *notifies, uint64_t *refused);
/** Count what a conference core action says (accept, rekey, removal). */
void confd_metrics_action(const struct conf_action *a);
/** Keep a conference's media counters when it is freed. */
void confd_metrics_media_gone(const struct confd_media *m);
/** Start the HTTP listener at addr ("off": nothing); 0 or an errno. */
int confd_metrics_start(const char *addr);
void confd_metrics_stop(void);

#endif
