/*
 * sipint.h -- conclave-confd's SIP internals shared by sip.c (factory,
 * focus, sessions, listeners), answer.c (the 200 OK and its
 * TRANSFER_RESP) and rekey.c (CSB updates by re-INVITE and the switch
 * signal). Not a public interface.
 */
#ifndef CONCLAVE_CONFD_SIPINT_H
#define CONCLAVE_CONFD_SIPINT_H

#include "confd.h"

#include <re.h>

#include <conclave/mikey_wire.h>
#include <conclave/sipglue.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

struct cconf;

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
	uint32_t sess_ver;      /* o= version of our SDP */
	struct kmsc_update upd; /* CSB update in flight */
	uint32_t upd_epoch;     /* its epoch, 0 = none */
	uint32_t queued_epoch;  /* due while upd_epoch was in flight */
	struct tmr ev_tmr;      /* deferred REKEY_ACK / REKEY_FAILED */
	enum conf_event_type ev_type;
	uint32_t ev_epoch;
	bool recv_switch;             /* Recv-Info: mikey-switch (D7) */
	struct owner_upd *ou;         /* owner's allowed-set update (owner.c) */
	struct sip_request *info_req; /* the switch INFO in flight */
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
	uint32_t focus_ssrc;
	struct cconf_tmr tmr[CONF_TIMER__COUNT];
	struct tmr idle;
	struct confd_media *media;
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
/** A KMS refusal (403) rather than a key-management failure (488). */
bool kms_refusal(const struct kmsc_status *st, enum cc_err err);

/* ---- owner.c ------------------------------------------------------------ */
/** Before sipsess: the owner's re-INVITE with a new ticket (allowed-set
 *  update) and the ACK of our 200 to it. */
bool owner_lsnr_h(const struct sip_msg *msg, void *arg);
/** A leg's update state, freed with the leg. */
void owner_leg_free(struct leg *l);
void cconf_feed(struct cconf *cc, struct conf_event *ev);

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
int build_sdp(struct leg *l, const uint8_t *mikey, size_t mlen,
	      struct mbuf **mbp);

/* ---- rekey.c ----------------------------------------------------------- */
void send_update(struct leg *l, const struct conf_epoch_keys *e);
void send_switch(struct cconf *cc, const struct conf_epoch_keys *e);
/** The member's 200 to our re-INVITE: REKEY_ACK or REKEY_FAILED. */
void rekey_answer(struct leg *l, const struct sip_msg *msg);

#endif
