/*
 * confinfo.h -- the conference event package (RFC 4575): a roster model,
 * the application/conference-info+xml builder (full and partial
 * documents) and a small, strict, bounded parser for participants.
 *
 * DESIGN.md D9: the roster goes to authenticated participants only, and
 * the identities it lists are the ones the KMS authenticated. Seed 002
 * §5.1.2: participants are securely told who else is present.
 *
 * Focus side (conclave-confd):
 *
 *   confinfo_new(&ci, focus_uri);
 *   on every conf NOTIFY action (removed): confinfo_note_removal(ci, ...);
 *   after conf_handle() returned:          confinfo_sync_conf(ci, conf, ..);
 *   confinfo_commit(ci, &changed);         (version + 1 if anything changed)
 *   if changed: NOTIFY every subscriber with confinfo_build_partial();
 *   a new subscription gets confinfo_build_full().
 *
 * Participant side (conclave ua watch):
 *
 *   confinfo_new(&view, NULL);
 *   for each NOTIFY body: confinfo_update(view, body, len, &res, &diag);
 *   res == CONFINFO_NEED_FULL: refresh the subscription (RFC 4575 §4.6).
 *
 * No key material is ever part of the model: a member's keying is
 * described by how it was keyed (trust) and the epoch number it holds.
 * The document carries them in our own namespace (CONFINFO_CC_NS):
 *   <cc:trust>kms</cc:trust>  <cc:key-epoch>4</cc:key-epoch>
 *
 * A roster is one-writer: not thread-safe. docs/CONFERENCE.md §8 shows the
 * document and lists what the parser accepts.
 */
#ifndef CONCLAVE_CONFINFO_H
#define CONCLAVE_CONFINFO_H

#include <conclave/base.h>
#include <conclave/conf.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- names and limits ----------------------------------------------- */

/** RFC 4575 §4.2 */
#define CONFINFO_NS "urn:ietf:params:xml:ns:conference-info"
/** Conclave's extension namespace (trust, key epoch). */
#define CONFINFO_CC_NS "urn:x-conclave:params:xml:ns:conference-security"
/** The MIME type of the documents (RFC 4575 §9.2). */
#define CONFINFO_MIME "application/conference-info+xml"

/** Longest entity URI (conference or user), without the NUL. */
#define CONFINFO_URI_MAX 255
/** Longest display text, without the NUL. */
#define CONFINFO_TEXT_MAX 127
/** Most media streams per user (one per SSRC; >= CONF_SSRC_MAX). */
#define CONFINFO_MEDIA_MAX 8
/** Most users in one roster or document. */
#define CONFINFO_USERS_MAX 16384u
/** Largest document the parser reads (bytes). */
#define CONFINFO_DOC_MAX (8u << 20)
/** Deepest element nesting the parser reads. */
#define CONFINFO_DEPTH_MAX 32
/** Disconnected users a focus roster keeps by default (then deleted). */
#define CONFINFO_KEEP_DISCONNECTED 32

/* ---- value types ---------------------------------------------------- */

/** The 'state' attribute (RFC 4575 §4.4). */
enum confinfo_state {
	CONFINFO_FULL = 0,
	CONFINFO_PARTIAL,
	CONFINFO_DELETED,
};

/** Endpoint <status> (RFC 4575 §5.7.3); OTHER = a value we do not know. */
enum confinfo_status {
	CONFINFO_ST_NONE = 0, /* absent */
	CONFINFO_ST_CONNECTED,
	CONFINFO_ST_DISCONNECTED,
	CONFINFO_ST_ON_HOLD,
	CONFINFO_ST_MUTED_VIA_FOCUS,
	CONFINFO_ST_PENDING,
	CONFINFO_ST_ALERTING,
	CONFINFO_ST_DIALING_IN,
	CONFINFO_ST_DIALING_OUT,
	CONFINFO_ST_DISCONNECTING,
	CONFINFO_ST_OTHER,
};

/** <joining-method> (RFC 4575 §5.7.4). REFER is written as dialed-in
 *  with a <referred/> element (§5.7.2) and read back as REFER. */
enum confinfo_joining {
	CONFINFO_JOIN_NONE = 0,
	CONFINFO_JOIN_DIALED_IN,
	CONFINFO_JOIN_DIALED_OUT,
	CONFINFO_JOIN_REFER,
	CONFINFO_JOIN_FOCUS_OWNER,
	CONFINFO_JOIN_OTHER,
};

/** <disconnection-method> (RFC 4575 §5.7.6). */
enum confinfo_disconnection {
	CONFINFO_DISC_NONE = 0,
	CONFINFO_DISC_DEPARTED,
	CONFINFO_DISC_BOOTED,
	CONFINFO_DISC_FAILED,
	CONFINFO_DISC_BUSY,
	CONFINFO_DISC_OTHER,
};

/** <cc:trust>: how the member was keyed. */
enum confinfo_trust {
	CONFINFO_TRUST_NONE = 0, /* absent / not keyed */
	CONFINFO_TRUST_KMS,      /* MIKEY-TICKET via the KMS (seed 000) */
	CONFINFO_TRUST_SDES,     /* SDES a=crypto over TLS (D8) */
	CONFINFO_TRUST_OTHER,
};

/** <media><type> (SDP media types). */
enum confinfo_media_type {
	CONFINFO_MEDIA_NONE = 0,
	CONFINFO_MEDIA_AUDIO,
	CONFINFO_MEDIA_VIDEO,
	CONFINFO_MEDIA_TEXT,
	CONFINFO_MEDIA_APPLICATION,
	CONFINFO_MEDIA_MESSAGE,
	CONFINFO_MEDIA_OTHER,
};

/** One <media> of the user's endpoint (key: id, RFC 4575 §4.5). */
struct confinfo_media {
	uint32_t id; /* the 'id' attribute; decimal ids only */
	enum confinfo_media_type type;
	bool has_ssrc;
	uint32_t ssrc; /* <src-id> (RFC 4575 §5.8.4), decimal */
};

/**
 * One <user> with its (one) <endpoint>. The model keeps one endpoint per
 * user: the focus authenticates users, one dialog each, and gives the
 * endpoint the user's entity. A parsed document's further endpoints are
 * ignored. There is deliberately no field for key material.
 */
struct confinfo_user {
	char entity[CONFINFO_URI_MAX + 1];   /* the KMS-authenticated URI */
	char display[CONFINFO_TEXT_MAX + 1]; /* "" = none */
	enum confinfo_status status;
	enum confinfo_joining joining;
	enum confinfo_disconnection disconnection;
	enum confinfo_trust trust;
	uint32_t epoch; /* <cc:key-epoch>: newest group-key epoch held */
	size_t n_media;
	struct confinfo_media media[CONFINFO_MEDIA_MAX];
};

/** <conference-state> (RFC 4575 §5.5) + the current epoch. */
struct confinfo_conf_state {
	bool present;   /* the element was in the (parsed) document */
	uint32_t users; /* <user-count> */
	bool active;    /* <active> */
	uint32_t epoch; /* <cc:key-epoch>: the epoch senders use, 0 none */
};

/** Where and why a document was refused (no input bytes in it). */
struct confinfo_diag {
	const char *reason; /* static text */
	size_t offset;      /* byte offset in the input */
};

/* ---- the roster object ---------------------------------------------- */

struct confinfo;

/**
 * A new, empty roster. focus_uri: the conference entity (a focus roster);
 * NULL for a participant's view, which takes the entity from the first
 * full document. CC_ERR_INVAL for an empty, too long or unwritable URI.
 */
CC_MUST_USE enum cc_err confinfo_new(struct confinfo **cip,
				     const char *focus_uri);

/** Free a roster (NULL is fine). */
void confinfo_free(struct confinfo *ci);

/** The conference entity ("" before a view got its first document). */
const char *confinfo_entity(const struct confinfo *ci);

/** The version of the last commit (focus) or document applied (view);
 *  0 = none yet. */
uint32_t confinfo_version(const struct confinfo *ci);

/** The conference state as of the last commit / document. */
const struct confinfo_conf_state *
confinfo_conf_state(const struct confinfo *ci);

/** true once a view applied a document with conference-info
 *  state="deleted" (the conference is gone; RFC 4575 §4.6). */
bool confinfo_ended(const struct confinfo *ci);

/** Users, sorted by entity (strcmp). Index valid until the next change. */
size_t confinfo_user_count(const struct confinfo *ci);
const struct confinfo_user *confinfo_user_at(const struct confinfo *ci,
					     size_t i);
/** The user with that entity, or NULL. O(log n). */
const struct confinfo_user *confinfo_find(const struct confinfo *ci,
					  const char *entity);

/* ---- focus side: change, commit, build ------------------------------- */

/**
 * Add or replace a user (key: entity). What a commit publishes is
 * compared with what was last published, so a user changed and set back
 * between two commits is no change. Every string must be valid
 * UTF-8 without XML-forbidden characters and within its limit, statuses
 * in range, n_media <= CONFINFO_MEDIA_MAX, else CC_ERR_INVAL (roster
 * unchanged). CC_ERR_FULL beyond CONFINFO_USERS_MAX, CC_ERR_NOMEM.
 */
CC_MUST_USE enum cc_err confinfo_user_put(struct confinfo *ci,
					  const struct confinfo_user *u);

/**
 * Mark a user disconnected (status, method; media, trust and epoch
 * cleared). It stays listed until more than keep_disconnected users are
 * disconnected, then the oldest are deleted at a later commit.
 * CC_ERR_NOT_FOUND if absent; CC_OK (no change) if already disconnected.
 */
CC_MUST_USE enum cc_err
confinfo_user_disconnect(struct confinfo *ci, const char *entity,
			 enum confinfo_disconnection how);

/** Delete a user (a state="deleted" element in the next partial).
 *  CC_ERR_NOT_FOUND if absent. */
CC_MUST_USE enum cc_err confinfo_user_delete(struct confinfo *ci,
					     const char *entity);

/** How many disconnected users a focus roster lists (default
 *  CONFINFO_KEEP_DISCONNECTED). */
void confinfo_set_keep_disconnected(struct confinfo *ci, size_t n);

/** <active> and the conference's current epoch (recorded as changes). */
void confinfo_set_active(struct confinfo *ci, bool active);
void confinfo_set_epoch(struct confinfo *ci, uint32_t epoch);

/**
 * Publish the changes made since the last commit as a new version
 * (version + 1; the first commit gives version 1). *changed = false and
 * nothing happens if there was no change. user-count is computed here
 * (users not disconnected). CC_ERR_FULL if the version would wrap.
 */
CC_MUST_USE enum cc_err confinfo_commit(struct confinfo *ci, bool *changed);

/**
 * Write the whole roster as a state="full" document at the committed
 * version (uncommitted changes are not in it). Output is NUL-terminated;
 * *len = its length without the NUL. If cap is too small (cap 0 and buf
 * NULL are fine): CC_ERR_SPACE and *len = the length needed (add 1 for
 * the NUL). CC_ERR_INVAL before the first commit.
 */
CC_MUST_USE enum cc_err confinfo_build_full(const struct confinfo *ci,
					    char *buf, size_t cap, size_t *len);

/**
 * Write the last commit's changes as a state="partial" document at the
 * committed version: <conference-state> if it changed, each changed user
 * whole (state="full"), each deleted user as state="deleted". A
 * subscriber at version - 1 applies it; any other gets a full document.
 * Output and errors as confinfo_build_full().
 */
CC_MUST_USE enum cc_err confinfo_build_partial(const struct confinfo *ci,
					       char *buf, size_t cap,
					       size_t *len);

/* ---- focus side: from the conference core ----------------------------- */

/** Lets the caller decorate a user built from a member: trust (KMS or
 *  SDES: the core does not know how a leg was keyed) and display text. */
typedef void(confinfo_member_h)(const struct conf_member_info *m,
				struct confinfo_user *u, void *arg);

/**
 * Reconcile the roster with the conference core: every joined member
 * (JOIN_DONE seen) is put as connected, with its via as joining-method,
 * its SSRCs as audio media (id 1..n), its newest held epoch and
 * trust = default_trust (then h may change the user); several dialogs
 * of one identity are one user with all their SSRCs (media ids 1..n,
 * at most CONFINFO_MEDIA_MAX) and the lowest epoch; the conference
 * epoch and <active> follow the core; connected users no longer members
 * are disconnected as "departed" (call confinfo_note_removal() from the
 * NOTIFY action first for the exact reason). Call it after conf_handle()
 * returned, never from inside the action handler. An identity that XML
 * cannot carry is listed as sip:member-<id>@unrepresentable.invalid
 * (RFC 4575 §5.6: the .invalid TLD for a URI not revealed) so that the
 * count stays honest. Changes are recorded, not committed.
 */
CC_MUST_USE enum cc_err confinfo_sync_conf(struct confinfo *ci,
					   const struct conf *c,
					   enum confinfo_trust default_trust,
					   confinfo_member_h *h, void *arg);

/** Record a removal from the core's NOTIFY action (safe inside the
 *  action handler): the user is disconnected with the method matching
 *  why. An unknown identity is CC_OK (it was never listed). */
CC_MUST_USE enum cc_err confinfo_note_removal(struct confinfo *ci,
					      const char *identity,
					      enum conf_removal why);

/** departed (LEFT), failed (LOST, REKEY_FAILED, JOIN_FAILED), booted
 *  (NO_ACK, COMPROMISED, DISALLOWED, ENDED). */
enum confinfo_disconnection confinfo_disconnection_of(enum conf_removal why);

/* ---- participant side: parse and apply ------------------------------- */

/** What confinfo_apply() did with a document. */
enum confinfo_result {
	CONFINFO_APPLIED = 1, /* the view now has the document's version */
	CONFINFO_STALE,       /* version <= the view's: ignored (§4.6) */
	CONFINFO_NEED_FULL,   /* partial with a version gap, or no full
			       * document yet: refresh the subscription */
	CONFINFO_ENDED,       /* state="deleted": the conference is gone */
};

/**
 * Parse a document into doc (a roster from confinfo_new(&doc, NULL),
 * emptied first). Accepts UTF-8 XML 1.0 without DOCTYPE: the subset of
 * RFC 4575 in struct confinfo_user, any namespace prefixes, unknown
 * elements and attributes skipped, comments, PIs, CDATA, the five
 * predefined entities and character references. Refuses (doc left
 * empty, diag says where and why): CC_ERR_FULL for more than
 * CONFINFO_DOC_MAX bytes, CONFINFO_USERS_MAX users, CONFINFO_MEDIA_MAX
 * media or CONFINFO_DEPTH_MAX levels; CC_ERR_TRUNCATED when the input
 * ends inside the document; CC_ERR_TRAILING for content after it;
 * CC_ERR_MISSING without version or entity; CC_ERR_UNSUPPORTED for a
 * DOCTYPE; CC_ERR_MALFORMED for anything else that is not well-formed or
 * out of range (bad UTF-8, control characters, undefined entities,
 * mismatched tags, duplicate attributes or user keys, too long text,
 * bad numbers). Linear in len; no recursion.
 */
CC_MUST_USE enum cc_err confinfo_parse(struct confinfo *doc, const char *xml,
				       size_t len, struct confinfo_diag *diag);

/** The parsed document's root state (full / partial / deleted). */
enum confinfo_state confinfo_doc_state(const struct confinfo *doc);

/**
 * Apply a parsed document to a view (RFC 4575 §4.6): version <= the
 * view's -> STALE; full -> replace; deleted -> ENDED (users cleared);
 * partial with version = view + 1 -> merge (users: full replaces,
 * partial merges the elements present, deleted removes); partial
 * otherwise, or before any full one -> NEED_FULL. The view is changed
 * only on APPLIED/ENDED, all or nothing (CC_ERR_FULL if the merge would
 * exceed CONFINFO_USERS_MAX, CC_ERR_NOMEM).
 */
CC_MUST_USE enum cc_err confinfo_apply(struct confinfo *view,
				       const struct confinfo *doc,
				       enum confinfo_result *res);

/** confinfo_parse() into a scratch roster, then confinfo_apply(). */
CC_MUST_USE enum cc_err confinfo_update(struct confinfo *view, const char *xml,
					size_t len, enum confinfo_result *res,
					struct confinfo_diag *diag);

/* ---- names ------------------------------------------------------------ */

/** The RFC 4575 token of a value ("connected", "dialed-in", "kms", ...);
 *  "" for NONE/OTHER. */
const char *confinfo_status_name(enum confinfo_status s);
const char *confinfo_joining_name(enum confinfo_joining j);
const char *confinfo_disconnection_name(enum confinfo_disconnection d);
const char *confinfo_trust_name(enum confinfo_trust t);
const char *confinfo_media_type_name(enum confinfo_media_type t);
const char *confinfo_result_name(enum confinfo_result r);

#endif
