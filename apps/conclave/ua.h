/*
 * ua.h -- `conclave ua`: a conference participant on libre (issue 5 §2).
 *
 *   cmd_ua.c     options, --help, the leave/status commands, main loop
 *   ua_sip.c     ticket from the KMS, INVITE with a=key-mgmt TRANSFER_INIT,
 *                TRANSFER_RESP, re-INVITE CSB updates (rekey), BYE
 *   ua_media.c   RTP socket, SRTP send (tone or WAV) and receive by MKI,
 *                per-source WAV recording, epochs (install/switch/retire)
 *   ua_report.c  the --report JSON and the one-line status
 *   ua_live.c    call set-up timeout, keepalive INFO: is the focus there?
 *   ua_keyexport.c  TEST ONLY: --export-keys FILE (SRTP keys to a file)
 *
 * One process, one participant, one conference, libre's main loop. Keys
 * live in the kmsc CSB and the media_member only; nothing here prints them.
 */
#ifndef CONCLAVE_APP_UA_H
#define CONCLAVE_APP_UA_H

#include <conclave/media.h>
#include <conclave/sipglue.h>

#include <signal.h>

enum {
	UA_MAX_SRC = 32,         /* source SSRCs we keep statistics for */
	UA_MAX_MKI = 16,         /* MKIs we keep counters for */
	UA_MAX_EPOCHS = 16,      /* epochs we remember (held or retired) */
	UA_DETECT_MAX = 80000,   /* samples kept per source for detection */
	UA_DETECT_EPOCH = 16000, /* ... and per source and MKI */
	UA_NFREQ = 20,           /* media_tone_freq(0..19) */
	UA_EXIT_FOCUS_LOST = 3,  /* exit status: focus lost us (docs/UA.md) */
};

/** Counters per MKI, ours (kept after an epoch is retired). */
struct ua_mki_stats {
	uint32_t mki;
	uint64_t rx, ok, failed, tx;
};

/** One epoch as the participant held it. Times in ms since start. */
struct ua_epoch {
	uint32_t mki;
	int64_t installed, send_from, retired; /* -1 = not (yet) */
	int64_t last_rx;                       /* last packet under it */
	bool held;
};

/** Audio kept for tone detection: the first `cap` samples. */
struct ua_pcm {
	int16_t *s;
	size_t n, cap;
};

/** What we heard from one source SSRC under one MKI. */
struct ua_src_mki {
	uint32_t mki;
	uint64_t packets;
	struct ua_pcm pcm; /* first UA_DETECT_EPOCH samples */
};

/** What we heard from one source SSRC. */
struct ua_src {
	uint32_t ssrc;
	uint64_t packets;
	int64_t first, last;
	uint32_t roc_first, roc_last; /* ROC of the first/last packet */
	uint64_t idx_first, idx_max;  /* SRTP index ROC << 16 | SEQ */
	struct ua_src_mki mki[UA_MAX_MKI];
	size_t nmki;
	struct ua_pcm pcm; /* first UA_DETECT_MAX samples */
	void *opus;        /* its Opus decoder (libopus), made on demand */
	struct media_wav *wav;
	char wav_path[512];
};

struct ua_opts {
	const char *cred, *server, *sip_listen, *wav_in, *record, *report;
	const char *factory, *allow, *join, *focus_out;
	bool listen; /* `listen`: wait for the focus to call (dial-out) */
	const char *export_keys; /* TEST ONLY (ua_keyexport.c); NULL = off */
	uint16_t rtp_port;
	double tone;       /* 0 = from the identity */
	uint32_t duration; /* s; 0 = until leave */
	uint32_t skew, grace_ms, switch_ms;
	uint32_t ssrc;         /* --ssrc: offer this one (0 = random) */
	int32_t seq_start;     /* --seq-start: first RTP SEQ (-1 = random) */
	uint32_t roc_start;    /* --roc-start: as if already wrapped N times */
	uint32_t keepalive_ms; /* 0 = no keepalive INFO */
	uint32_t timeout_s;    /* call set-up; 0 = libre's Timer B */
	bool tcp, quiet;
	bool tls;       /* --tls: SIP over TLS (SIPS transport) */
	const char *ca; /* --ca: verify the focus's certificate */
	int codec;      /* --codec: enum ua_codec */
};

/** What we offer and send (--codec); we decode PCMU, PCMA and Opus. */
enum ua_codec {
	UA_CODEC_PCMU = 0,
	UA_CODEC_PCMA = 1,
	UA_CODEC_OPUS = 2
};
/** Opus's payload type in our offers (confd's mixer uses 96 too). */
#define UA_OPUS_PT 96

struct ua {
	struct ua_opts o;
	struct kmsc_cred cred;
	int64_t t0; /* tmr_jiffies at start */
	char focus[KMSC_MAX_ID];
	char target[KMSC_MAX_ID]; /* URI called: factory or focus */
	char contact[KMSC_MAX_ID];
	bool joined, leaving, done;
	uint8_t cs_own; /* our stream's CS: 1 if we called, 2 if called */
	int rc;
	const char *ended;   /* how it ended (report), NULL while running */
	char ended_why[160]; /* ... and why, for focus-lost and timeout */
	unsigned rekeys;
	/* media */
	struct media_member *mm;
	enum media_profile profile;
	uint32_t ssrc;
	uint16_t rtp_port; /* ours */
	double tone_hz;
	bool media_to; /* the answer gave a focus RTP address */
	char media_addr[80];
	uint64_t tx;
	struct ua_mki_stats mki[UA_MAX_MKI];
	size_t nmki;
	struct ua_epoch ep[UA_MAX_EPOCHS];
	size_t nep;
	struct ua_src src[UA_MAX_SRC];
	size_t nsrc;
	uint64_t rx, rx_ok, rx_failed, rx_unknown_mki, rx_malformed;
};

extern struct ua U;
extern volatile sig_atomic_t ua_sig_status;

/** ms since start. */
int64_t ua_now(void);
/** One progress line on stdout (unless --quiet). */
void ua_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ua_sip.c */
/** The clock and random source for kmsc (skew from --skew). */
struct kmsc_env ua_env(void);
/** Ticket (blocking: before re_main), SIP stack, INVITE. 0 or errno. */
int ua_sip_start(void);
/** BYE (once); U.done when answered or after a deadline. */
void ua_sip_leave(const char *why);
void ua_sip_close(void);

/** ";transport=tls" / ";transport=tcp" / "" and the transport for
 *  our own requests, from --tls / --tcp. */
const char *ua_transport_param(void);
int ua_transport(void);

/** The SIP stack, the established session (NULL before), our CSB with
 *  the focus and the local IP, for ua_owner.c. */
struct sip *ua_sip_stack(void);
struct sipsess *ua_sip_sess(void);
struct kmsc_csb *ua_sip_csb(void);
const char *ua_sip_laddr(void);

/** REFER (issue 6 §2): to_focus: in our dialog, Refer-To uri (the
 *  focus dials it out, RFC 4579 §5.5); else to uri outside any dialog,
 *  Refer-To our focus (that user dials in, §5.6). Progress NOTIFYs are
 *  logged ("refer: SIP/2.0 ..."). */
void ua_sip_refer(const char *uri, bool to_focus);

/* ua_watch.c */
struct sip_msg;
/** `watch [URI]`: subscribe to the conference event package of our
 *  focus (or URI), print the roster on each change (docs/UA.md). */
void ua_watch(const char *uri);
/** Our INVITE dialog is established (msg: the 200 or the ACK): remember
 *  its identifiers for Target-Dialog (RFC 4538). */
void ua_watch_dialog(const struct sip_msg *msg);
void ua_watch_close(void);

/* ua_owner.c */
/** The owner replaces the allowed set: a new ticket naming the focus and
 *  list (comma-separated URIs; "" = the focus only, set unchanged) in a
 *  re-INVITE in our dialog (issue 6 §1). Asynchronous; logs the outcome
 *  ("allowed-set update accepted" / "refused: CODE"). */
void ua_owner_allow(const char *list);
void ua_owner_close(void);

/* ua_rekey.c */
struct sip_msg;
struct mbuf;
/** A re-INVITE (sipsess offer handler): a CSB update TRANSFER_INIT in
 *  a=key-mgmt -> install the new epoch, answer with the update
 *  TRANSFER_RESP in *descp. errno (libre answers 488) if refused. */
int ua_rekey_offer(struct kmsc_csb *c, const char *ip,
		   const struct sip_msg *msg, struct mbuf **descp);
void ua_rekey_free(void);
struct sip;
/** INFO in our dialog (RFC 6086): Info-Package mikey-switch carries the
 *  focus's map-only CSB update "send under this epoch now" (D7); it is
 *  verified with the CSB's update keys and answered 200, or 4xx with
 *  nothing changed. */
void ua_rekey_info(struct kmsc_csb *c, struct sip *sip,
		   const struct sip_msg *msg);

/* ua_media.c */
/** RTP socket on the SIP listen address; *port = the bound port. */
int ua_media_open(const char *ip, uint16_t want, uint16_t *port);
/** The group keys of a TRANSFER_RESP or CSB update: install every epoch
 *  (SPI = MKI 0x80000000|e); with csb_first, set up the sender. */
CC_MUST_USE enum cc_err ua_media_keys(const struct kmsc_csb *c, bool first);
/** The focus's RTP address (answer SDP) and start the 20 ms sender. */
int ua_media_start(const char *addr, uint16_t port);
/** A CSB update was answered: switch once D7 says so. */
void ua_media_update_done(void);
/** The focus says every member holds mki: send under it now (if held
 *  and newer than the one we send under). */
void ua_media_switch(uint32_t mki);
/** Every 100 ms: D7 switch deadline, retire epochs after the grace. */
void ua_media_tick(void);
/** Stop sending, close WAV files. */
void ua_media_stop(void);
void ua_media_free(void);
/** The RTP payload type of --codec. */
uint8_t ua_codec_pt(void);
/** Our audio m-line's format (and rtpmap, for Opus) for --codec. */
void ua_sdp_audio(struct sipglue_media *a);
/** The tone we send (for the report). */
double ua_media_tone(void);

/* ua_live.c */
struct sip;
struct sipsess;
/** The INVITE is out: cancel it after --timeout s without a final answer. */
void ua_live_calling(void);
/** Joined: an in-dialog INFO every --keepalive; end as focus-lost
 *  (UA_EXIT_FOCUS_LOST) on 481/408, a transport error or no answer. */
void ua_live_start(struct sip *sip, struct sipsess *sess);
void ua_live_stop(void);

/* ua_keyexport.c: TEST ONLY (--export-keys). Each call is a no-op
 * unless ua_keyexport_open() succeeded. */
/** Create/open FILE 0600 for appending, warn on stderr; 0 or errno. */
int ua_keyexport_open(const char *path, const char *identity);
/** An epoch was installed: its MKI, master key and salt go to the file. */
void ua_keyexport_install(uint32_t mki, enum media_profile p,
			  const uint8_t *key, size_t key_len,
			  const uint8_t *salt, size_t salt_len);
/** An epoch was retired (no key in this line). */
void ua_keyexport_retire(uint32_t mki, uint32_t ssrc);
void ua_keyexport_close(void);

/* ua_report.c */
/** Write the --report JSON (if asked); 0 or errno. */
int ua_report_write(const char *path);
/** One status line on stdout. */
void ua_status_print(void);
/** Counter slot for an MKI (NULL if the table is full). */
struct ua_mki_stats *ua_mki_slot(struct ua_mki_stats *tab, size_t *n,
				 uint32_t mki);

#endif
