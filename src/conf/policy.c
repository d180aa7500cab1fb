/*
 * policy.c -- conference policy (DESIGN.md D1, D2; spec/ambiguities.md
 * A18), names and codes, and the OpenSSL random source.
 */
#include "conf_int.h"

#include <openssl/rand.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

void conf_policy_default(struct conf_policy *p)
{
	*p = (struct conf_policy){
		.rekey_on = CONF_REKEY_JOIN_LEAVE,
		.join = CONF_JOIN_IMMEDIATE,
		.keys = CONF_KEYS_FOCUS,
		.profile = CONF_AES_CM_128_HMAC_SHA1_80,
		.min_rekey_interval = 5000,
		.max_epoch_age = 0,
		.grace = 3000,
		.ack_deadline = 10000,
		.max_members = 10000,
		.max_ssrcs_per_member = CONF_SSRC_MAX,
		.media = CONF_MEDIA_SWITCH,
		.speakers = 3,
	};
}

enum cc_err conf_policy_check(const struct conf_policy *p)
{
	if (p->rekey_on & ~(unsigned)CONF_REKEY_JOIN_LEAVE)
		return CC_ERR_INVAL;
	if (p->join != CONF_JOIN_IMMEDIATE && p->join != CONF_JOIN_DEFERRED)
		return CC_ERR_INVAL;
	if (p->keys != CONF_KEYS_FOCUS && p->keys != CONF_KEYS_KMS)
		return CC_ERR_INVAL;
	if (p->profile != CONF_AES_CM_128_HMAC_SHA1_80 &&
	    p->profile != CONF_AEAD_AES_128_GCM)
		return CC_ERR_INVAL;
	if (p->min_rekey_interval < 0 || p->max_epoch_age < 0 || p->grace < 0 ||
	    p->ack_deadline <= 0)
		return CC_ERR_INVAL;
	if (p->max_members == 0 || p->max_members > CONF_MEMBERS_LIMIT)
		return CC_ERR_INVAL;
	if (p->max_ssrcs_per_member == 0 ||
	    p->max_ssrcs_per_member > CONF_SSRC_MAX)
		return CC_ERR_INVAL;
	if (p->media != CONF_MEDIA_SWITCH && p->media != CONF_MEDIA_MIX)
		return CC_ERR_INVAL;
	if (p->speakers == 0 || p->speakers > CONF_SPEAKERS_MAX)
		return CC_ERR_INVAL;
	return CC_OK;
}

/* "1500" = 1500 ms, "1.5s" / "2s" = seconds */
static enum cc_err parse_ms(const char *v, int64_t *out)
{
	char *end = NULL;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || d < 0 || d > 1e12)
		return CC_ERR_INVAL;
	if (strcmp(end, "s") == 0)
		d *= 1000.0;
	else if (*end && strcmp(end, "ms") != 0)
		return CC_ERR_INVAL;
	*out = (int64_t)(d + 0.5);
	return CC_OK;
}

static enum cc_err parse_u32(const char *v, uint32_t *out)
{
	char *end = NULL;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n > UINT32_MAX)
		return CC_ERR_INVAL;
	*out = (uint32_t)n;
	return CC_OK;
}

static enum cc_err parse_rekey_on(const char *v, unsigned *out)
{
	static const struct {
		const char *s;
		unsigned bits;
	} t[] = { { "none", 0 },
		  { "join", CONF_REKEY_JOIN },
		  { "leave", CONF_REKEY_LEAVE },
		  { "join,leave", CONF_REKEY_JOIN_LEAVE },
		  { "leave,join", CONF_REKEY_JOIN_LEAVE },
		  { "join+leave", CONF_REKEY_JOIN_LEAVE } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(v, t[i].s) == 0) {
			*out = t[i].bits;
			return CC_OK;
		}
	}
	return CC_ERR_INVAL;
}

static enum cc_err set_enum(const char *name, const char *v,
			    struct conf_policy *q)
{
	if (strcmp(name, "join") == 0) {
		if (strcmp(v, "immediate") == 0)
			q->join = CONF_JOIN_IMMEDIATE;
		else if (strcmp(v, "deferred") == 0)
			q->join = CONF_JOIN_DEFERRED;
		else
			return CC_ERR_INVAL;
	} else if (strcmp(name, "group-keys") == 0) {
		if (strcmp(v, "focus") == 0)
			q->keys = CONF_KEYS_FOCUS;
		else if (strcmp(v, "kms") == 0)
			q->keys = CONF_KEYS_KMS;
		else
			return CC_ERR_INVAL;
	} else if (strcmp(name, "profile") == 0) {
		if (strcmp(v, "AES_CM_128_HMAC_SHA1_80") == 0)
			q->profile = CONF_AES_CM_128_HMAC_SHA1_80;
		else if (strcmp(v, "AEAD_AES_128_GCM") == 0)
			q->profile = CONF_AEAD_AES_128_GCM;
		else
			return CC_ERR_INVAL;
	} else if (strcmp(name, "media") == 0) {
		if (strcmp(v, "switch") == 0)
			q->media = CONF_MEDIA_SWITCH;
		else if (strcmp(v, "mix") == 0)
			q->media = CONF_MEDIA_MIX;
		else
			return CC_ERR_INVAL;
	} else {
		return CC_ERR_NOT_FOUND;
	}
	return CC_OK;
}

enum cc_err conf_policy_set(struct conf_policy *p, const char *name,
			    const char *value)
{
	struct conf_policy q;
	enum cc_err err;

	if (!p || !name || !value)
		return CC_ERR_INVAL;
	q = *p;
	if (strcmp(name, "rekey-on") == 0)
		err = parse_rekey_on(value, &q.rekey_on);
	else if (strcmp(name, "min-rekey-interval") == 0)
		err = parse_ms(value, &q.min_rekey_interval);
	else if (strcmp(name, "max-epoch-age") == 0)
		err = parse_ms(value, &q.max_epoch_age);
	else if (strcmp(name, "grace") == 0)
		err = parse_ms(value, &q.grace);
	else if (strcmp(name, "ack-deadline") == 0)
		err = parse_ms(value, &q.ack_deadline);
	else if (strcmp(name, "max-members") == 0)
		err = parse_u32(value, &q.max_members);
	else if (strcmp(name, "max-ssrcs") == 0)
		err = parse_u32(value, &q.max_ssrcs_per_member);
	else if (strcmp(name, "speakers") == 0)
		err = parse_u32(value, &q.speakers);
	else
		err = set_enum(name, value, &q);
	if (err == CC_OK)
		err = conf_policy_check(&q);
	if (err)
		return CC_ERR_INVAL;
	*p = q;
	return CC_OK;
}

void conf_profile_sizes(enum conf_profile p, size_t *tek_len, size_t *salt_len)
{
	*tek_len = 16;
	*salt_len = p == CONF_AEAD_AES_128_GCM ? 12 : 14;
}

enum cc_err conf_rand_openssl(uint8_t *buf, size_t n, void *arg)
{
	(void)arg;
	if (n > INT_MAX || RAND_bytes(buf, (int)n) != 1)
		return CC_ERR_CRYPTO;
	return CC_OK;
}

int conf_reject_sip_status(enum conf_reject r)
{
	switch (r) {
	case CONF_REJ_NOT_ALLOWED:
		return 403; /* Forbidden */
	case CONF_REJ_ENDED:
		return 410; /* Gone: the conference URI existed */
	case CONF_REJ_FULL:
		return 486; /* Busy Here */
	case CONF_REJ_SSRC_EXHAUSTED:
		return 503; /* Service Unavailable */
	case CONF_REJ_TOO_MANY_SSRCS:
		return 488; /* Not Acceptable Here */
	case CONF_REJ_BAD_REQUEST:
		return 400;
	default:
		return 500;
	}
}

const char *conf_reject_name(enum conf_reject r)
{
	switch (r) {
	case CONF_REJ_NOT_ALLOWED:
		return "not allowed";
	case CONF_REJ_ENDED:
		return "conference ended";
	case CONF_REJ_FULL:
		return "conference full";
	case CONF_REJ_SSRC_EXHAUSTED:
		return "no free SSRC";
	case CONF_REJ_TOO_MANY_SSRCS:
		return "too many SSRCs";
	case CONF_REJ_BAD_REQUEST:
		return "bad request";
	default:
		return "?";
	}
}

const char *conf_removal_name(enum conf_removal r)
{
	switch (r) {
	case CONF_RM_LEFT:
		return "left";
	case CONF_RM_LOST:
		return "lost";
	case CONF_RM_NO_ACK:
		return "no ack";
	case CONF_RM_REKEY_FAILED:
		return "rekey failed";
	case CONF_RM_JOIN_FAILED:
		return "join failed";
	case CONF_RM_COMPROMISED:
		return "compromised";
	case CONF_RM_DISALLOWED:
		return "disallowed";
	case CONF_RM_ENDED:
		return "ended";
	default:
		return "?";
	}
}

const char *conf_event_name(enum conf_event_type t)
{
	static const char *const n[] = {
		[CONF_EV_CREATED] = "CREATED",
		[CONF_EV_ALLOWED_SET] = "ALLOWED_SET",
		[CONF_EV_JOIN_REQUEST] = "JOIN_REQUEST",
		[CONF_EV_JOIN_DONE] = "JOIN_DONE",
		[CONF_EV_JOIN_FAILED] = "JOIN_FAILED",
		[CONF_EV_LEAVE] = "LEAVE",
		[CONF_EV_LOST] = "LOST",
		[CONF_EV_REKEY_ACK] = "REKEY_ACK",
		[CONF_EV_REKEY_FAILED] = "REKEY_FAILED",
		[CONF_EV_TIMER] = "TIMER",
		[CONF_EV_KMS_KEYS] = "KMS_KEYS",
		[CONF_EV_MEDIA_ROC] = "MEDIA_ROC",
		[CONF_EV_COMPROMISED] = "COMPROMISED",
		[CONF_EV_ENDED] = "ENDED",
	};

	if ((unsigned)t >= sizeof(n) / sizeof(n[0]) || !n[t])
		return "?";
	return n[t];
}

const char *conf_action_name(enum conf_action_type t)
{
	static const char *const n[] = {
		[CONF_ACT_ACCEPT] = "ACCEPT",
		[CONF_ACT_REJECT] = "REJECT",
		[CONF_ACT_NEW_EPOCH] = "NEW_EPOCH",
		[CONF_ACT_SEND_UPDATE] = "SEND_UPDATE",
		[CONF_ACT_SWITCH_MKI] = "SWITCH_MKI",
		[CONF_ACT_RETIRE_EPOCH] = "RETIRE_EPOCH",
		[CONF_ACT_DROP_MEDIA] = "DROP_MEDIA",
		[CONF_ACT_REQUEST_KMS_KEYS] = "REQUEST_KMS_KEYS",
		[CONF_ACT_NOTIFY] = "NOTIFY",
		[CONF_ACT_SET_TIMER] = "SET_TIMER",
		[CONF_ACT_CANCEL_TIMER] = "CANCEL_TIMER",
		[CONF_ACT_END] = "END",
	};

	if ((unsigned)t >= sizeof(n) / sizeof(n[0]) || !n[t])
		return "?";
	return n[t];
}
