/*
 * confd.h -- conclave-confd internals: configuration (main.c), log
 * (main.c), and the SIP factory/focus (sip.c).
 */
#ifndef CONCLAVE_CONFD_H
#define CONCLAVE_CONFD_H

#include <conclave/conf.h>
#include <conclave/kmsc.h>

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
	char factory[KMSC_MAX_ID];  /* sip:factory.conf1@realm */
	char credential[512];       /* `conclave kms credential export` */
	char kms_url[KMSC_MAX_URL]; /* "" = the credential's */
	char kms_ca[512];
	uint32_t skew;
	uint32_t idle_timeout;    /* s: an empty conference ends after it */
	uint32_t replay_capacity; /* TRANSFER_INITs remembered */
	bool strict_sdp_ids;      /* A11: require the SDP-IDs extension */
	enum confd_level log_level;
	struct conf_policy policy;
};

/** Start the SIP listeners; the caller runs re_main. */
int confd_sip_start(const struct confd_conf *cf, struct kmsc_cred *cred);

/** SIGTERM: end every conference (BYE each member), close SIP, and
 *  call re_cancel when done (or after a deadline). */
void confd_sip_shutdown(void);

/** Free what confd_sip_start allocated. */
void confd_sip_free(void);

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
uint16_t confd_media_port(const struct confd_media *m);
/** Put a member (its RTP address from the SDP offer) into the fan-out. */
int confd_media_add(struct confd_media *m, conf_mid mid, const struct sa *rtp);
/** Take it out (no-op if absent). */
void confd_media_remove(struct confd_media *m, conf_mid mid);
/** NEW_EPOCH, SWITCH_MKI, RETIRE_EPOCH, DROP_MEDIA; others ignored. */
void confd_media_action(struct confd_media *m, const struct conf_action *a);
/** Copies forwarded and packets dropped (any reason). */
void confd_media_stats(const struct confd_media *m, uint64_t *fwd,
		       uint64_t *drops);

#endif
