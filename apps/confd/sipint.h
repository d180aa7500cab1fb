/*
 * sipint.h -- conclave-confd's SIP internals shared by sip.c (factory,
 * focus, sessions, listeners), answer.c (the 200 OK and its
 * TRANSFER_RESP) and rekey.c (CSB updates by re-INVITE and the switch
 * signal). Not a public interface.
 */
#ifndef CONCLAVE_CONFD_SIPINT_H
#define CONCLAVE_CONFD_SIPINT_H

#include "confd.h"
#include "mixer.h"

#include <re.h>

#include <conclave/mikey_wire.h>
#include <conclave/sipglue.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

struct cconf;

/* A window of requests in flight across all conferences (rekey.c): at
 * most max; the legs beyond it wait, oldest first, each for the newest
 * epoch it was due. A leg holds one slot per window. */
struct leg;
struct conf_epoch_keys;

struct lwin_slot {
	struct le le;    /* in the window's wait list */
	struct leg *leg; /* set while waiting */
	uint32_t epoch;  /* the epoch it waits for, 0 = not waiting */
	bool in;         /* holds one of the places */
};

struct lwin {
	struct list wait;
	uint32_t inflight;
	/* send e to l (which takes its place with lwin_take, or not) */
	void (*send)(struct leg *l, const struct conf_epoch_keys *e);
};

struct leg {
	struct le le; /* confd_g.legs */
	struct cconf *cc;
	struct sipsess *sess;
	uint32_t focus_n; /* create: the focus allocated for it */
	bool creating, resolving, dead, member, established;
	conf_mid mid;
	uint64_t cookie;
	char peer[KMSC_MAX_ID]; /* authenticated initiator */
	char focus_id[KMSC_MAX_ID];
	char callid[80];
	char laddr[64]; /* IP we were reached on (SDP c=) */
	const char *aliases[1];
	struct kmsc_responder r;
	struct kmsc_csb csb;
	struct sipglue_km km;
	struct sa rtp; /* the member's RTP address (SDP offer) */
	bool has_rtp;
	int codec; /* mixing mode: the output codec (enum media_mix_codec) */
	uint32_t sess_ver;      /* o= version of our SDP */
	struct kmsc_update upd; /* CSB update in flight */
	uint32_t upd_epoch;     /* its epoch, 0 = none */
	uint32_t queued_epoch;  /* due while upd_epoch was in flight */
	struct lwin_slot upd_w; /* its place in confd_g.upd_win */
	struct tmr ev_tmr;      /* deferred REKEY_ACK / REKEY_FAILED */
	enum conf_event_type ev_type;
	uint32_t ev_epoch;
	bool recv_switch;     /* Recv-Info: mikey-switch (D7) */
	struct owner_upd *ou; /* owner's allowed-set update (owner.c) */
	/* dial-out (refer.c): we called the member on a REFER's behalf */
	bool dialout;
	struct leg *referrer;     /* referenced; gets the NOTIFYs */
	struct sip_request *ntfy; /* our NOTIFY in flight (on the referrer) */
	struct dialout *dl;       /* ticket and target while dialling */
	struct sip_request *info_req; /* the switch INFO in flight */
	struct lwin_slot sw_w;        /* its place in confd_g.sw_win */
	/* SDES member (sdes.c, D8): identity = SIP From over TLS, not the
	 * KMS; keys in a=crypto */
	bool trust_sdes;
	struct sdes_leg *sd;
};

struct cconf_tmr {
	struct tmr tmr;
	struct cconf *cc;
	enum conf_timer id;
};

struct cconf {
	struct le le; /* confd_g.confs */
	struct conf *core;
	uint32_t n;
	char focus[KMSC_MAX_ID];
	uint32_t focus_ssrc; /* = focus_ssrcs[0] (the mix's, if mixing) */
	uint32_t focus_ssrcs[3 + CONF_SPEAKERS_MAX]; /* reserved in core */
	size_t n_focus_ssrcs;
	struct cconf_tmr tmr[CONF_TIMER__COUNT];
	struct tmr idle;
	struct confd_media *media;
	struct cevent *ev; /* event.c: roster + subscriptions */
	bool ended;
};

/* The daemon's SIP state (sip.c owns it). */
struct confd_sip_state {
	const struct confd_conf *cf;
	struct kmsc_cred *cred;
	struct sip *sip;
	struct sipsess_sock *sock;
	struct kmsc_httpc *httpc;
	struct mikey_replay *replay;
	struct list legs, confs;
	struct leg *cur; /* the leg whose JOIN_REQUEST is being handled */
	char realm[KMSC_MAX_ID]; /* Warning agent */
	uint32_t next_focus;
	uint64_t next_cookie;
	struct tmr deadline;
	struct tmr rtp_tmr; /* the RTP timeout check */
	struct tls *tls;    /* the TLS listener's certificate and key */
	struct sip_lsnr *owner_lsnr; /* owner.c, ahead of sipsess */
	struct lwin upd_win;         /* rekey re-INVITEs in flight (rekey.c) */
	struct lwin sw_win;          /* switch INFOs in flight (rekey.c) */
	bool closing;
};

extern struct confd_sip_state confd_g;

/* ---- sip.c ------------------------------------------------------------- */
int64_t now_ms(void);
struct kmsc_env env_now(void);
/** The member's authenticated identity (or "?") and the conference, for
 *  log lines. */
const char *who(const struct leg *l);
const char *conf_name(const struct leg *l);
void leg_drop(struct leg *l);
void leg_reject(struct leg *l, uint16_t code, const char *reason, bool warn306);
struct leg *leg_by_mid(struct cconf *cc, conf_mid m);
/** The Contact user part libre prints inside "<...>": the focus URI on
 *  the address msg reached, then ">;isfocus" (RFC 4579). */
int contact_user(const struct sip_msg *msg, const struct leg *l, char *out,
		 size_t cap);
int contact_user_at(const struct sa *dst, enum sip_transp tp,
		    const struct leg *l, char *out, size_t cap);
/** The leg whose dialog msg belongs to (NULL if none). */
struct leg *leg_by_dialog(const struct sip_msg *msg);
/** A KMS refusal (403) rather than a key-management failure (488). */
bool kms_refusal(const struct kmsc_status *st, enum cc_err err);

void leg_destructor(void *arg);
void check_idle(struct cconf *cc);
/** The member's RTP address from an SDP body (c= and first m= port). */
void rtp_addr(const struct sip_msg *msg, struct leg *l);
/* the sipsess handlers of every leg */
int offer_h(struct mbuf **descp, const struct sip_msg *msg, void *arg);
int answer_h(const struct sip_msg *msg, void *arg);
void estab_h(const struct sip_msg *msg, void *arg);
void close_h(int err, const struct sip_msg *msg, void *arg);
void info_h(struct sip *sip, const struct sip_msg *msg, void *arg);
/** 183 and the sipsess of a new leg (its handlers above). */
int accept_leg(const struct sip_msg *msg, struct leg *l);
/** The join: JOIN_REQUEST for l->peer with these SSRCs (D6). */
void join_ssrcs(struct leg *l, const uint32_t *ssrcs, size_t n);

/* ---- refer.c ------------------------------------------------------------ */
/** A REFER (before sipsess): from a member in its dialog, the focus dials
 *  out to the Refer-To user (RFC 4579 §5.5); anything else is refused. */
bool refer_lsnr_h(const struct sip_msg *msg);
/** The core admitted (ACCEPT) or refused (REJECT) a dial-out. */
void dialout_accepted(struct leg *l, const struct conf_act_accept *a);
void dialout_rejected(struct leg *l, int code);
/** The dial-out's final outcome: NOTIFY the referrer (sipfrag). */
void dialout_done(struct leg *l, uint16_t code, const char *reason);
/** The 200 to our INVITE: verify the TRANSFER_RESP (0) or refuse. */
int dialout_answer(struct leg *l, const struct sip_msg *msg);
void dialout_free(struct leg *l);

/* ---- owner.c ------------------------------------------------------------ */
/** Before sipsess: the owner's re-INVITE with a new ticket (allowed-set
 *  update) and the ACK of our 200 to it. */
bool owner_lsnr_h(const struct sip_msg *msg, void *arg);
/** A leg's update state, freed with the leg. */
void owner_leg_free(struct leg *l);
void cconf_feed(struct cconf *cc, struct conf_event *ev);

/* ---- event.c ------------------------------------------------------------ */
/** Before sipsess: SUBSCRIBE to a focus (RFC 4575 conference event
 *  package); true if taken (always, for SUBSCRIBE). */
bool event_lsnr_h(const struct sip_msg *msg);
/** After each conf_handle(): sync the roster, NOTIFY subscribers;
 *  a conference that ended terminates its subscriptions. */
void event_conf_changed(struct cconf *cc);
/** From the core's NOTIFY action: why a member was removed. */
void event_note_removal(struct cconf *cc, const struct conf_act_notify *n);
/** The conference is freed: subscriptions end. */
void event_conf_free(struct cconf *cc);
/** Start (logs the insecure flag) and free the module. */
void event_start(void);
void event_close(void);

/* ---- answer.c ---------------------------------------------------------- */
/** The TRANSFER_RESP on csb answering km's TRANSFER_INIT: the epochs of a
 *  as the KEMAC, a's SSRCs, other senders' ROCs (D6). */
enum cc_err build_resp(struct leg *l, struct kmsc_csb *csb,
		       const struct sipglue_km *km,
		       const struct conf_act_accept *a, uint8_t *out,
		       size_t cap, size_t *n);
/** 200 OK with the TRANSFER_RESP for an ACCEPT (or 500). */
void answer_accept(struct leg *l, const struct conf_act_accept *a);
/** Our SDP: the offer's m-lines mirrored on the conference RTP port, with
 *  a=key-mgmt holding mikey (mlen bytes). */
/** Mixing mode: choose the member's codec from its offer (PCMU if
 *  offered, else PCMA, else Opus under CONFD_OPUS_PT), set l->codec and
 *  leave only that format (and its rtpmap) in l->km.media[0] for every
 *  SDP we build. Switch mode: nothing (the offer is mirrored). -1 if no
 *  format is acceptable. */
int leg_codec_choose(struct leg *l);
int build_sdp(struct leg *l, const uint8_t *mikey, size_t mlen,
	      struct mbuf **mbp);

/** An epoch's keys as a KEMAC key: TEK+SALT, SPI = its MKI. */
void epoch_kmsc_key(const struct conf_epoch_keys *e, struct kmsc_key *k);
/** The epochs of a as KEMAC keys (TEK+SALT, SPI = MKI); returns how many
 *  (at most 2). Wipe keys after use. */
size_t accept_keys(const struct conf_act_accept *a, struct kmsc_key *keys);

/* ---- rekey.c ----------------------------------------------------------- */
void send_update(struct leg *l, const struct conf_epoch_keys *e);
void send_switch(struct cconf *cc, const struct conf_epoch_keys *e);
/** The leg's re-INVITE is answered or the leg is gone: let the next
 *  waiting one go. */
/** The two windows' senders (before any rekey). */
void rekey_windows_init(void);
void rekey_window_release(struct leg *l);
/** The leg's switch INFO is answered or the leg goes: the next may go. */
void switch_window_release(struct leg *l);
/** The member's 200 to our re-INVITE: REKEY_ACK or REKEY_FAILED. */
void rekey_answer(struct leg *l, const struct sip_msg *msg);
/** Feed REKEY_ACK / REKEY_FAILED from a zero timer. */
void defer_rekey_ev(struct leg *l, enum conf_event_type type, uint32_t epoch);

/* ---- sdes.c: SDES members (D8, issue 6 §5) ------------------------------ */
/** A new INVITE without a=key-mgmt: if its SDP has a=crypto, sdes.c takes
 *  (or refuses) it and owns l: true. false: not an SDES offer. */
bool sdes_invite(const struct sip_msg *msg, struct leg *l);
/** ACCEPT for an SDES leg: 200 OK with the group key's a=crypto line. */
void sdes_answer_accept(struct leg *l, const struct conf_act_accept *a);
/** SEND_UPDATE for an SDES leg: re-INVITE with the new a=crypto line. */
void sdes_send_update(struct leg *l, const struct conf_epoch_keys *e);
/** The 200 to that re-INVITE. */
void sdes_rekey_answer(struct leg *l, const struct sip_msg *msg);
void sdes_leg_free(struct leg *l);
/** At start: say loudly what the SDES configuration allows. */
void sdes_start_log(const struct confd_conf *cf);

#endif
