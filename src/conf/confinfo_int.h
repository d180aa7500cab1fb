/*
 * confinfo_int.h -- private state of the conference event package
 * (confinfo.c model and apply, confinfo_build.c writer, confinfo_parse.c
 * reader).
 */
#ifndef CONCLAVE_CONFINFO_INT_H
#define CONCLAVE_CONFINFO_INT_H

#include <conclave/confinfo.h>

/* which elements a parsed partial <user> carried (RFC 4575 §4.6 3.2) */
enum ci_present {
	P_DISPLAY = 1 << 0,
	P_ENDPOINT = 1 << 1, /* an <endpoint> (its state in ep_state) */
	P_STATUS = 1 << 2,
	P_JOINING = 1 << 3,
	P_DISC = 1 << 4,
	P_MEDIA = 1 << 5,
	P_TRUST = 1 << 6,
	P_EPOCH = 1 << 7,
	P_REFERRED = 1 << 8,
};

struct ci_user {
	struct confinfo_user u;
	struct confinfo_user pub; /* focus: as last published */
	uint32_t changed;  /* focus: version of its last published change */
	uint8_t published; /* focus: pub is valid */
	uint8_t dirty;     /* focus: touched since the last commit */
	uint8_t seen;      /* focus: marked by confinfo_sync_conf */
	uint8_t state;     /* doc: enum confinfo_state of the <user> */
	uint8_t ep_state;  /* doc: enum confinfo_state of the <endpoint> */
	uint16_t present;  /* doc: enum ci_present bits */
};

/* A list of entities: deletions (focus) or state="deleted" users (doc). */
struct ci_names {
	char (*e)[CONFINFO_URI_MAX + 1];
	size_t n, cap;
};

struct confinfo {
	char entity[CONFINFO_URI_MAX + 1];
	uint32_t version;
	bool has_base;                   /* view: a full document applied */
	bool ended;                      /* view: conference-info deleted */
	enum confinfo_state doc_state;   /* doc: root state */
	enum confinfo_state users_state; /* doc: <users> state */
	bool users_present;              /* doc: a <users> element */
	struct confinfo_conf_state cs;   /* committed / parsed */

	struct ci_user *users; /* sorted by entity */
	size_t n_users, cap_users;

	/* focus bookkeeping */
	bool pending;     /* a change since the last commit */
	bool cs_changed;  /* conference-state changed at the last commit */
	bool next_active; /* values for the next commit */
	uint32_t next_epoch;
	size_t keep_disc;
	struct ci_names del_pending; /* deleted since the last commit */
	struct ci_names del_last;    /* deleted at the last commit / doc */
};

/* confinfo.c */
void ci_reset(struct confinfo *ci);
CC_MUST_USE enum cc_err ci_users_reserve(struct confinfo *ci, size_t n);
CC_MUST_USE enum cc_err ci_names_add(struct ci_names *l, const char *e);
int ci_user_cmp(const void *a, const void *b);
/* copy a user, the unused tail zeroed */
void ci_user_copy(struct confinfo_user *dst, const struct confinfo_user *s);
int ci_name_cmp(const void *a, const void *b);

/* UTF-8 + XML 1.0 Char check of n bytes (§2.2: no C0 controls other than
 * tab, LF, CR; no surrogates, U+FFFE, U+FFFF); *bad = offset of the
 * first bad byte. */
bool ci_xml_chars_ok(const uint8_t *p, size_t n, size_t *bad);
/* a NUL-terminated string of at most max bytes that XML can carry */
bool ci_str_ok(const char *s, size_t max);

/* token tables (confinfo.c) */
const char *ci_state_name(enum confinfo_state s);

#endif
