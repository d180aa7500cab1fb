/*
 * conf_int.h -- private state of the conference core (src/conf).
 */
#ifndef CONCLAVE_CONF_INT_H
#define CONCLAVE_CONF_INT_H

#include <conclave/conf.h>

/* ---- allowed set: open addressing over owned strings (idset.c) ---- */

struct idset {
	char **s;   /* cap slots, NULL = empty */
	size_t cap; /* power of two or 0 */
	size_t n;
	size_t bytes; /* string bytes held */
};

void idset_free(struct idset *set);
CC_MUST_USE enum cc_err idset_add(struct idset *set, const char *id);
bool idset_has(const struct idset *set, const char *id);

/* ---- SSRC registry: linear probing, backward-shift delete (ssrc.c) ---- */

#define SSRC_SLOT_FOCUS UINT32_MAX

struct ssrc_ent {
	uint32_t ssrc;
	uint32_t roc;
	uint32_t slot; /* member slot, or SSRC_SLOT_FOCUS */
	uint32_t used;
};

struct ssrc_tab {
	struct ssrc_ent *e;
	size_t cap; /* power of two or 0 */
	size_t n;
	uint64_t ver; /* bumped by every put, del and ROC change */
};

void ssrc_tab_free(struct ssrc_tab *t);
/** Make room for extra more entries (keeps the load <= 1/2). */
CC_MUST_USE enum cc_err ssrc_tab_reserve(struct ssrc_tab *t, size_t extra);
/** Insert (room must have been reserved; ssrc must be absent). */
void ssrc_tab_put(struct ssrc_tab *t, uint32_t ssrc, uint32_t slot);
struct ssrc_ent *ssrc_tab_get(const struct ssrc_tab *t, uint32_t ssrc);
void ssrc_tab_del(struct ssrc_tab *t, uint32_t ssrc);

/* ---- members ---- */

enum mstate {
	M_FREE = 0,
	M_JOINING, /* ACCEPT sent, JOIN_DONE not yet */
	M_ACTIVE,
};

struct member {
	uint32_t gen;       /* id generation, never 0 */
	uint32_t next_free; /* free list link */
	uint8_t state;      /* enum mstate */
	uint8_t via;
	uint8_t n_ssrc;
	uint8_t acked;      /* acked `due` */
	uint32_t held;      /* newest epoch whose key was delivered, 0 none */
	uint32_t due;       /* epoch this member must ack, 0 none */
	uint32_t min_epoch; /* first epoch it is entitled to */
	int64_t joined;
	uint32_t ssrc[CONF_SSRC_MAX];
	char id[CONF_ID_MAX + 1];
};

/* ---- epochs ---- */

enum estate {
	E_PENDING = 1, /* created, rolling out */
	E_CURRENT,     /* senders use it */
	E_OLD,         /* replaced; retired at retire_at */
	E_SUPERSEDED,  /* replaced before its switch */
};

struct epoch {
	struct conf_epoch_keys k;
	int64_t retire_at;
	enum estate state;
};

/* leavers not yet cut off, grouped by the newest epoch they hold */
#define EXPO_BUCKETS 8
struct expo {
	uint32_t held;
	int64_t since; /* earliest leave in the group */
};

#define NO_TIME INT64_MIN

struct conf {
	conf_action_h *ah;
	void *ah_arg;
	conf_rand_h *rh;
	void *rh_arg;

	bool created, ended;
	int64_t now;
	struct conf_policy pol;
	char owner[CONF_ID_MAX + 1];
	char factory[CONF_ID_MAX + 1];
	char focus[CONF_ID_MAX + 1];
	struct idset allowed;

	struct member *m;
	uint32_t mcap;      /* slots allocated */
	uint32_t mused;     /* high-water mark of slots ever used */
	uint32_t free_head; /* UINT32_MAX = none */
	uint32_t n_members;

	struct ssrc_tab ssrcs;

	struct epoch **ep; /* live epochs, oldest first */
	size_t n_ep, cap_ep;
	uint32_t cur;         /* switched epoch, 0 none */
	uint32_t newest;      /* newest created epoch */
	uint32_t kms_wait;    /* epoch asked of the KMS, not yet received */
	bool kms_forced;      /* that request is a forced rekey */
	uint32_t outstanding; /* members due `newest` not yet acked */
	bool rekey_due;
	int64_t last_rekey; /* creation of the last epoch > 1, or NO_TIME */

	int64_t tmr[CONF_TIMER__COUNT]; /* armed time or NO_TIME */

	struct expo expo[EXPO_BUCKETS];
	size_t n_expo;

	struct conf_stats st;
};

/* conf.c */
void conf_emit(struct conf *c, struct conf_action *a);
conf_mid conf_mid_of(const struct conf *c, uint32_t slot);
void conf_member_remove(struct conf *c, uint32_t slot, enum conf_removal why);
void conf_set_timer(struct conf *c, enum conf_timer id, int64_t at);
void conf_cancel_timer(struct conf *c, enum conf_timer id);

/* epoch.c */
CC_MUST_USE enum cc_err conf_rekey_start(struct conf *c, bool forced);
CC_MUST_USE enum cc_err conf_epoch_create(struct conf *c, uint32_t e,
					  const uint8_t *tek,
					  const uint8_t *salt, bool forced);
void conf_rekey_finish(struct conf *c);
void conf_retire_due(struct conf *c);
void conf_retire_all(struct conf *c);
void conf_expo_add(struct conf *c, uint32_t held);
void conf_expo_close_all(struct conf *c);
CC_MUST_USE enum cc_err conf_settle(struct conf *c);
struct epoch *conf_epoch_find(const struct conf *c, uint32_t e);
CC_MUST_USE enum cc_err conf_epoch_keys_send(struct conf *c, uint32_t slot);

#endif
