/*
 * conf.h -- the conference core: membership, allowed set, group key
 * epochs, rekey scheduling, SSRC registry and exposure accounting.
 *
 * A pure, deterministic state machine (STYLE.md habit 2). One struct conf per
 * conference. Input: events (struct conf_event), each carrying a monotonic
 * time in milliseconds. Output: actions (struct conf_action), delivered
 * synchronously, in order, through the caller's conf_action_h while
 * conf_handle() runs. There are no sockets, timers, threads or wall clock
 * inside: a timer is an action (SET_TIMER) answered later by an event
 * (TIMER). Randomness (group keys, SSRCs) comes from the caller's
 * conf_rand_h, so a seeded generator makes a run reproducible.
 *
 * Decisions implemented here: DESIGN.md D1 (who makes group keys), D2 (what
 * happens between rekeys), D6 (unique SSRCs), D7 (rekey = CSB update + MKI
 * switch); spec/3gpp-kms-conferencing.md §4.4; spec/ambiguities.md A18, A25.
 * docs/CONFERENCE.md explains the model, each policy option and the exposure
 * windows it gives.
 *
 * The rekey sequence (one epoch e):
 *   1. a rekey is due (membership change per policy, epoch age, forced);
 *      it starts at max(now, last rekey start + min_rekey_interval) and never
 *      while another rekey is in progress (spec §4.4 step 2), except that a
 *      forced rekey (COMPROMISED) starts at once and supersedes one in
 *      progress;
 *   2. keys: fresh random TEK+salt from conf_rand_h (group-keys=focus), or
 *      REQUEST_KMS_KEYS(e) and wait for the KMS_KEYS event (group-keys=kms);
 *   3. NEW_EPOCH(e): the focus's media plane installs e for reception;
 *      SEND_UPDATE(member, e) to every member entitled to e (a member still
 *      joining gets it when its JOIN_DONE arrives); SET_TIMER(ACK_DEADLINE);
 *   4. when every member due e has sent REKEY_ACK, or at the ack deadline,
 *      whichever is first: members that did not acknowledge are removed
 *      (DROP_MEDIA + NOTIFY; the removal is a leave), then SWITCH_MKI(e):
 *      senders switch to MKI 0x80000000 | e;
 *   5. RETIRE_EPOCH(e - 1) after `grace` (receivers keep the old key that
 *      long, so no packet in flight is lost; D7, A18). An epoch superseded
 *      before its switch is retired at the switch of its successor.
 */
#ifndef CONCLAVE_CONF_H
#define CONCLAVE_CONF_H

#include <conclave/base.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits and constants ------------------------------------------- */

/** Longest identity (URI as the KMS authenticated it), without the NUL. */
#define CONF_ID_MAX 127
/** Most SSRCs one member may send with (one per m-line/stream). */
#define CONF_SSRC_MAX 4
/** Most members one conference may hold (policy.max_members caps lower). */
#define CONF_MEMBERS_LIMIT (1u << 20)
/** Group-key MKIs: 0x80000000 | epoch (D7; KMS SPIs stay below). */
#define CONF_MKI_BASE 0x80000000u
/** Epoch numbers are 1 .. CONF_EPOCH_MAX; 0 means "none". */
#define CONF_EPOCH_MAX 0x7fffffffu
/** Key sizes (the largest of the supported profiles). */
#define CONF_TEK_MAX 16
#define CONF_SALT_MAX 14

/** The MKI (4 bytes, big-endian on the wire) of a group-key epoch. */
static inline uint32_t conf_mki(uint32_t epoch)
{
	return CONF_MKI_BASE | epoch;
}

/**
 * A member id: slot index (low 32 bits) + slot generation (high 32 bits,
 * never 0). Ids are never reused while a conference lives, so a stale id
 * from the caller is detected (CC_ERR_NOT_FOUND), and lookups are O(1).
 */
typedef uint64_t conf_mid;
#define CONF_MID_NONE ((conf_mid)0)
/** Owner of SSRCs the focus itself sends with (mixer output). */
#define CONF_MID_FOCUS (~(conf_mid)0)

/* ---- policy (DESIGN.md D1, D2) --------------------------------------- */

/** rekey-on: a bit set. */
enum conf_rekey_on {
	CONF_REKEY_NONE = 0,
	CONF_REKEY_JOIN = 1 << 0,
	CONF_REKEY_LEAVE = 1 << 1,
	CONF_REKEY_JOIN_LEAVE = CONF_REKEY_JOIN | CONF_REKEY_LEAVE,
};

/** join: when a joiner gets a group key. */
enum conf_join {
	/** the current epoch's key (and a pending one) in the ACCEPT */
	CONF_JOIN_IMMEDIATE = 0,
	/** no key in the ACCEPT; the first epoch created after the join,
	 *  by CSB update. A deferred join always makes a rekey due, whatever
	 *  rekey_on says (otherwise the joiner could wait forever). */
	CONF_JOIN_DEFERRED,
};

/** group-keys: who generates each epoch's TEK+salt (D1). */
enum conf_keysrc {
	CONF_KEYS_FOCUS = 0, /* the focus, from conf_rand_h (default) */
	CONF_KEYS_KMS,       /* REQUEST_KMS_KEYS, then a KMS_KEYS event */
};

/** media: what the focus's media plane does with members' packets. */
enum conf_media {
	/** forward each packet's original bytes to the other members */
	CONF_MEDIA_SWITCH = 0,
	/** decrypt, mix, encrypt once (mix.h); 1 + speakers focus SSRCs */
	CONF_MEDIA_MIX,
};

/** Most voices a mix may hold (speakers); = MEDIA_MIX_SPEAKERS_MAX. */
#define CONF_SPEAKERS_MAX 8

/** SRTP protection profile of the group keys. */
enum conf_profile {
	CONF_AES_CM_128_HMAC_SHA1_80 = 0, /* TEK 16 + salt 14 (default) */
	CONF_AEAD_AES_128_GCM,            /* TEK 16 + salt 12 */
};

struct conf_policy {
	unsigned rekey_on;             /* enum conf_rekey_on bits */
	enum conf_join join;           /* immediate | deferred */
	enum conf_keysrc keys;         /* focus | kms */
	enum conf_profile profile;     /* SRTP profile of the group key */
	int64_t min_rekey_interval;    /* ms between rekey starts (>= 0) */
	int64_t max_epoch_age;         /* ms; periodic rekey; 0 = never */
	int64_t grace;                 /* ms old key kept after a switch */
	int64_t ack_deadline;          /* ms for a member to ack an update;
				       * also the KMS re-request interval */
	uint32_t max_members;          /* <= CONF_MEMBERS_LIMIT */
	uint32_t max_ssrcs_per_member; /* 1 .. CONF_SSRC_MAX */
	enum conf_media media;         /* switch | mix */
	uint32_t speakers;             /* mix: 1 .. CONF_SPEAKERS_MAX */
};

/**
 * Defaults (A18): rekey_on = join|leave, min interval 5 s, join immediate,
 * group keys by the focus, AES_CM_128_HMAC_SHA1_80, no periodic rekey,
 * grace 3 s, ack deadline 10 s, 10,000 members, 4 SSRCs per member,
 * media switch, 3 speakers (used when media is mix).
 */
void conf_policy_default(struct conf_policy *p);

/**
 * Set one option by its documented name, as a conference policy or the CLI
 * spells it. Names and values:
 *   rekey-on            none | join | leave | join,leave
 *   join                immediate | deferred
 *   group-keys          focus | kms
 *   profile             AES_CM_128_HMAC_SHA1_80 | AEAD_AES_128_GCM
 *   min-rekey-interval, max-epoch-age, grace, ack-deadline
 *                       milliseconds, or seconds with a trailing "s"
 *   max-members, max-ssrcs   decimal
 *   media               switch | mix
 *   speakers            1 .. CONF_SPEAKERS_MAX (voices in a mix)
 * CC_ERR_INVAL for an unknown name or a bad value (p unchanged).
 */
CC_MUST_USE enum cc_err conf_policy_set(struct conf_policy *p, const char *name,
					const char *value);

/** CC_OK iff every field is in range. */
CC_MUST_USE enum cc_err conf_policy_check(const struct conf_policy *p);

/* ---- events ---------------------------------------------------------- */

enum conf_event_type {
	CONF_EV_CREATED = 1, /* must be the first event */
	CONF_EV_ALLOWED_SET, /* owner replaces the allowed set */
	CONF_EV_JOIN_REQUEST,
	CONF_EV_JOIN_DONE,    /* the join's offer/answer completed (ACK) */
	CONF_EV_JOIN_FAILED,  /* the join's dialog failed after ACCEPT */
	CONF_EV_LEAVE,        /* BYE */
	CONF_EV_LOST,         /* member timed out (media/session timer) */
	CONF_EV_REKEY_ACK,    /* the member answered the CSB update */
	CONF_EV_REKEY_FAILED, /* 488 / Warning 306 / transaction failed */
	CONF_EV_TIMER,        /* a SET_TIMER fired */
	CONF_EV_KMS_KEYS,     /* the KMS delivered an epoch's keys */
	CONF_EV_MEDIA_ROC,    /* the media plane saw an SSRC's ROC change */
	CONF_EV_COMPROMISED,  /* forced removal + forced rekey */
	CONF_EV_ENDED,        /* the conference ends */
};

/** How a join request reached the focus. */
enum conf_via {
	CONF_VIA_DIRECT = 0, /* INVITE to the conference URI */
	CONF_VIA_REFER,      /* INVITE prompted by a REFER */
	CONF_VIA_DIAL_OUT,   /* the focus invited the member */
};

/** Timer ids: at most one timer per id and conference. */
enum conf_timer {
	CONF_TIMER_REKEY = 1,    /* a scheduled (coalesced) rekey start */
	CONF_TIMER_ACK_DEADLINE, /* the in-progress rekey's ack deadline */
	CONF_TIMER_RETIRE,       /* the next epoch retirement (grace) */
	CONF_TIMER_EPOCH_AGE,    /* max_epoch_age reached */
	CONF_TIMER_KMS,          /* re-request KMS keys */
	CONF_TIMER__COUNT
};

struct conf_ev_created {
	const char *creator; /* authenticated by the KMS; becomes the owner */
	const char *factory; /* factory identity (never a member) */
	const char *focus;   /* focus identity, or NULL */
	/* the creation ticket's responders (IDRr list); factory/focus
	 * entries are ignored (D3) */
	const char *const *allowed;
	size_t n_allowed;
	const struct conf_policy *policy; /* NULL = conf_policy_default */
	/* SSRCs the focus sends with itself (mixer output), reserved */
	const uint32_t *focus_ssrcs;
	size_t n_focus_ssrcs;
};

struct conf_ev_allowed {
	const char *by; /* authenticated identity; must be the owner */
	/* new responders; if, without factory/focus entries, the list is
	 * empty, the set is unchanged (seed 000). Members no longer
	 * allowed are removed (reason CONF_RM_DISALLOWED). */
	const char *const *allowed;
	size_t n_allowed;
};

struct conf_ev_join {
	const char *identity;  /* authenticated by the KMS (RESOLVE) */
	const uint32_t *ssrcs; /* offered SSRCs, may be NULL if n_ssrcs 0 */
	size_t n_ssrcs;
	enum conf_via via;
	uint64_t cookie; /* echoed in ACCEPT / REJECT */
};

struct conf_ev_rekey {
	conf_mid member;
	uint32_t epoch;
};

struct conf_ev_kms_keys {
	uint32_t epoch; /* as in REQUEST_KMS_KEYS */
	const uint8_t *tek;
	size_t tek_len; /* must match the profile */
	const uint8_t *salt;
	size_t salt_len;
};

struct conf_ev_roc {
	uint32_t ssrc;
	uint32_t roc;
};

struct conf_event {
	enum conf_event_type type;
	int64_t now; /* ms, monotonic, never decreasing between events */
	union {
		struct conf_ev_created created;
		struct conf_ev_allowed allowed;
		struct conf_ev_join join;
		/* JOIN_DONE, JOIN_FAILED, LEAVE, LOST, COMPROMISED */
		conf_mid member;
		struct conf_ev_rekey rekey;  /* REKEY_ACK, REKEY_FAILED */
		enum conf_timer timer;       /* TIMER */
		struct conf_ev_kms_keys kms; /* KMS_KEYS */
		struct conf_ev_roc roc;      /* MEDIA_ROC */
	} u;
};

/* ---- group key epochs ------------------------------------------------ */

/**
 * One epoch's key material, owned by the conference: valid from NEW_EPOCH
 * until RETIRE_EPOCH (or conf_free), then wiped. Read it to fill a KEMAC
 * (TEK+SALT, KV = SPI carrying the 4-byte MKI).
 */
struct conf_epoch_keys {
	uint32_t epoch;
	uint32_t mki; /* conf_mki(epoch) */
	enum conf_profile profile;
	uint8_t tek[CONF_TEK_MAX];
	size_t tek_len;
	uint8_t salt[CONF_SALT_MAX];
	size_t salt_len;
	int64_t created;  /* ms: NEW_EPOCH */
	int64_t switched; /* ms: SWITCH_MKI, or -1 while pending */
};

/* ---- actions --------------------------------------------------------- */

enum conf_action_type {
	CONF_ACT_ACCEPT = 1,
	CONF_ACT_REJECT,
	CONF_ACT_NEW_EPOCH,        /* install a new epoch for reception */
	CONF_ACT_SEND_UPDATE,      /* build + send a CSB update to member */
	CONF_ACT_SWITCH_MKI,       /* senders switch to the epoch's MKI */
	CONF_ACT_RETIRE_EPOCH,     /* delete the epoch's keys everywhere */
	CONF_ACT_DROP_MEDIA,       /* remove member from fan-out now */
	CONF_ACT_REQUEST_KMS_KEYS, /* get the epoch's keys from the KMS */
	CONF_ACT_NOTIFY,           /* roster changed (RFC 4575 NOTIFY) */
	CONF_ACT_SET_TIMER,        /* (re)arm timer id at an absolute time */
	CONF_ACT_CANCEL_TIMER,
	CONF_ACT_END, /* the conference ended: BYE all, free it */
};

/** Why a join is refused; conf_reject_sip_status() gives the SIP code. */
enum conf_reject {
	CONF_REJ_NOT_ALLOWED = 1, /* 403: not owner, not in allowed set */
	CONF_REJ_ENDED,           /* 410: conference has ended */
	CONF_REJ_FULL,            /* 486: max_members reached */
	CONF_REJ_SSRC_EXHAUSTED,  /* 503: no free SSRC could be found */
	CONF_REJ_TOO_MANY_SSRCS,  /* 488: more SSRCs than the policy allows */
	CONF_REJ_BAD_REQUEST,     /* 400: empty or too long identity */
};

/** Why a member left the conference (DROP_MEDIA, NOTIFY). */
enum conf_removal {
	CONF_RM_LEFT = 1,     /* LEAVE */
	CONF_RM_LOST,         /* LOST */
	CONF_RM_NO_ACK,       /* did not ack a CSB update by the deadline */
	CONF_RM_REKEY_FAILED, /* REKEY_FAILED */
	CONF_RM_JOIN_FAILED,  /* JOIN_FAILED */
	CONF_RM_COMPROMISED,  /* COMPROMISED */
	CONF_RM_DISALLOWED,   /* owner removed it from the allowed set */
	CONF_RM_ENDED,        /* ENDED */
};

struct conf_act_accept {
	const char *identity;
	enum conf_via via;
	/* epochs to put in the TRANSFER_RESP KEMAC, oldest first: none
	 * (join=deferred, or no epoch yet), the current one, or the current
	 * one and the one being rolled out */
	size_t n_epochs;
	const struct conf_epoch_keys *epochs[2];
	/* the SSRCs the member must send with (D6: collisions replaced) */
	size_t n_ssrcs;
	uint32_t ssrcs[CONF_SSRC_MAX];
	bool ssrc_changed; /* some offered SSRC was replaced */
	/* every active SSRC with its ROC, for the CS map: iterate with
	 * conf_ssrc_foreach() (kept out of the action so a join is O(1)) */
	size_t n_active_ssrcs;
};

struct conf_act_notify {
	bool joined; /* true: member joined (JOIN_DONE); false: removed */
	enum conf_removal reason; /* when !joined */
	const char *identity;
	uint32_t members; /* members after the change */
};

struct conf_action {
	enum conf_action_type type;
	int64_t now;     /* the time of the event that caused it */
	conf_mid member; /* ACCEPT, SEND_UPDATE, DROP_MEDIA, NOTIFY */
	uint64_t cookie; /* ACCEPT, REJECT: the join request's cookie */
	union {
		struct conf_act_accept accept;
		enum conf_reject reject;
		/* NEW_EPOCH, SEND_UPDATE, SWITCH_MKI, RETIRE_EPOCH (keys valid
		 * for reading during the callback; wiped right after it for
		 * RETIRE_EPOCH) */
		const struct conf_epoch_keys *epoch;
		uint32_t kms_epoch;        /* REQUEST_KMS_KEYS */
		enum conf_removal removal; /* DROP_MEDIA */
		struct conf_act_notify notify;
		struct {
			enum conf_timer id;
			int64_t at; /* absolute ms; SET_TIMER only */
		} timer;
	} u;
};

/** Receives each action, synchronously, during conf_handle(). It must not
 *  call conf_handle() on the same conference (queue the event instead);
 *  the read-only accessors below may be called. */
typedef void(conf_action_h)(const struct conf_action *a, void *arg);

/** Fill buf with n random bytes (cryptographic in production). */
typedef enum cc_err(conf_rand_h)(uint8_t *buf, size_t n, void *arg);

/** A conf_rand_h on OpenSSL RAND_bytes (arg unused). */
CC_MUST_USE enum cc_err conf_rand_openssl(uint8_t *buf, size_t n, void *arg);

/* ---- the conference object ------------------------------------------- */

struct conf;

/** Allocate a conference; it does nothing until a CREATED event. */
CC_MUST_USE enum cc_err conf_new(struct conf **cp, conf_action_h *ah,
				 void *ah_arg, conf_rand_h *rh, void *rh_arg);

/** Free a conference (NULL is fine); all key material is wiped. */
void conf_free(struct conf *c);

/**
 * Feed one event. Actions are delivered through the action handler before
 * this returns. Results:
 *   CC_OK                  handled (a refused join is CC_OK + REJECT);
 *   CC_ERR_INVAL           malformed event, time going backwards, event
 *                          before CREATED, KMS keys for an epoch not asked;
 *   CC_ERR_NOT_AUTHORISED  ALLOWED_SET from anyone but the owner;
 *   CC_ERR_NOT_FOUND       unknown or stale member id, unknown SSRC;
 *   CC_ERR_NOMEM, CC_ERR_CRYPTO (conf_rand_h failed).
 * On an error return no action was emitted and the state is unchanged
 * (validate, then commit), except CC_ERR_NOMEM/CC_ERR_CRYPTO in the middle
 * of a rekey, which leave a consistent state and can be retried by the
 * next event or timer.
 */
CC_MUST_USE enum cc_err conf_handle(struct conf *c,
				    const struct conf_event *ev);

/* ---- read-only accessors (O(1) unless stated) ------------------------- */

/** true once CREATED was handled and ENDED was not. */
bool conf_is_live(const struct conf *c);

/** The owner (creator) identity, or NULL before CREATED. */
const char *conf_owner(const struct conf *c);

/** The policy in force (after CREATED). */
const struct conf_policy *conf_get_policy(const struct conf *c);

/** true iff identity may join (owner or in the allowed set). */
bool conf_is_allowed(const struct conf *c, const char *identity);

/** The identity of a member, or NULL for an unknown id. */
const char *conf_member_identity(const struct conf *c, conf_mid m);

/** The current epoch (the one senders use), 0 if none yet. */
uint32_t conf_current_epoch(const struct conf *c);

/** The newest epoch created (> current while a rekey is rolling out). */
uint32_t conf_newest_epoch(const struct conf *c);

/** An epoch's keys while it is live (created, not retired), else NULL. */
const struct conf_epoch_keys *conf_epoch_keys(const struct conf *c,
					      uint32_t epoch);

/** The member that owns ssrc (CONF_MID_FOCUS for the focus's own);
 *  false if the SSRC is not registered. The media plane drops packets
 *  whose SSRC is not bound to the leg they arrive on (D6). */
bool conf_ssrc_owner(const struct conf *c, uint32_t ssrc, conf_mid *owner);

/** The last ROC reported for ssrc (0 if never); false if unregistered. */
bool conf_ssrc_roc(const struct conf *c, uint32_t ssrc, uint32_t *roc);

/** Visit every registered SSRC (O(SSRCs)), e.g. to build a CS map. */
typedef void(conf_ssrc_h)(uint32_t ssrc, uint32_t roc, conf_mid owner,
			  void *arg);
void conf_ssrc_foreach(const struct conf *c, conf_ssrc_h *h, void *arg);
/** A counter that changes whenever a binding is added, removed or its ROC
 *  changes: a caller that mirrors the bindings (the split media plane)
 *  re-reads them only when it moved. */
uint64_t conf_ssrc_version(const struct conf *c);

/* ---- roster accessors (src/conf/roster.c), for the event package ---- */

/** What the core knows of one member, for a roster (confinfo.h). */
struct conf_member_info {
	conf_mid id;
	const char *identity; /* as the KMS authenticated it */
	bool joined;          /* JOIN_DONE seen (false while joining) */
	enum conf_via via;
	uint32_t epoch; /* newest epoch whose key it was sent, 0 none */
	int64_t since;  /* ms: when its join was accepted */
	size_t n_ssrcs;
	uint32_t ssrcs[CONF_SSRC_MAX];
};

/** Fill *out for member m; false for an unknown or stale id. */
bool conf_member_get(const struct conf *c, conf_mid m,
		     struct conf_member_info *out);

/** Visit every member, joining or joined, in slot order (O(slots)). The
 *  info is valid during the call only. */
typedef void(conf_member_h)(const struct conf_member_info *m, void *arg);
void conf_member_foreach(const struct conf *c, conf_member_h *h, void *arg);

/** The focus identity given at CREATED, or NULL if none / before it. */
const char *conf_focus_identity(const struct conf *c);

/** Per-conference counters and exposure windows, for the simulator. */
struct conf_stats {
	uint32_t members; /* joining + joined */
	uint32_t members_peak;
	uint32_t allowed; /* identities in the allowed set */
	uint32_t ssrcs;   /* registered SSRCs */
	uint32_t epoch_current;
	uint32_t epoch_newest;
	uint64_t rekeys;         /* epochs created after the first */
	uint64_t forced_rekeys;  /* of which COMPROMISED, bypassing the
				  * minimum interval */
	uint64_t csb_updates;    /* SEND_UPDATE actions */
	uint64_t joins;          /* ACCEPTs */
	uint64_t rejects;        /* REJECTs */
	uint64_t removals;       /* members removed, any reason */
	uint64_t removed_no_ack; /* of which for a missed ack deadline */
	/* Leave exposure: leave -> SWITCH_MKI to the first epoch the leaver
	 * lacks (it could decrypt live media until then). max over closed
	 * windows; windows still open at END are closed at END. */
	int64_t max_leave_exposure; /* ms */
	/* open now: now - earliest leave still not cut off (0 if none) */
	int64_t open_leave_exposure; /* ms */
	/* Join reach (join=immediate): join -> back to the switch of the
	 * oldest epoch in the ACCEPT, i.e. how much recorded media the
	 * joiner can decrypt. Always 0 with join=deferred. */
	int64_t max_join_reach; /* ms */
	/* smallest gap between two non-forced rekey starts, -1 if < 2 */
	int64_t min_rekey_gap; /* ms */
	size_t state_bytes;    /* heap held by this conference */
};

/** Fill st; now (ms) is used for open_leave_exposure. */
void conf_stats(const struct conf *c, int64_t now, struct conf_stats *st);

/* ---- names and codes ------------------------------------------------- */

/** SIP status code to answer a refused join with. */
int conf_reject_sip_status(enum conf_reject r);
const char *conf_reject_name(enum conf_reject r);
const char *conf_removal_name(enum conf_removal r);
const char *conf_event_name(enum conf_event_type t);
const char *conf_action_name(enum conf_action_type t);
/** Key and salt lengths of a profile. */
void conf_profile_sizes(enum conf_profile p, size_t *tek_len, size_t *salt_len);

#endif
