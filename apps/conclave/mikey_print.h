/*
 * mikey_print.h -- the printer behind `conclave mikey decode`: one set of
 * calls that writes either an annotated text tree ("offset  field = value
 * (meaning)", indented per nesting level) or a single JSON object.
 *
 * Private to apps/conclave (mikey_emit.c, mikey_print.c, cmd_mikey.c).
 */
#ifndef CONCLAVE_APP_MIKEY_PRINT_H
#define CONCLAVE_APP_MIKEY_PRINT_H

#include <conclave/mikey.h>

#include <stdbool.h>
#include <stdio.h>

enum {
	PR_NO_OFF = -1,
	PR_MAX_DEPTH = 24
};

struct pr {
	FILE *f;
	bool json;
	bool show_keys;   /* print key bytes (else "<n bytes hidden>") */
	bool ticket_tree; /* decode Ticket Data (--tpk given) */
	bool first;       /* JSON: no member written yet at this level */
	int depth;        /* open objects/arrays */
	int indent;       /* text indentation level */
	bool stk_arr[PR_MAX_DEPTH];
	bool stk_ind[PR_MAX_DEPTH];
	const uint8_t *msg; /* the message buffer (origin of offsets) */
	long base;          /* offset of the chain being printed in msg */
};

/* ---- mikey_emit.c: text / JSON emitter ------------------------------ */

void pr_init(struct pr *p, FILE *f, bool json, bool show_keys);
void pr_begin(struct pr *p);  /* JSON "{" */
void pr_finish(struct pr *p); /* JSON "}\n" */
/** Named object; text: a title line, then indented members. */
void pr_obj(struct pr *p, long off, const char *label);
/** Named array; text: title line and indent only if title. */
void pr_arr(struct pr *p, const char *label, bool title);
/** Anonymous object inside an array: text shows title, JSON gets
 *  "type": type (if type) and "offset" (if off >= 0). */
void pr_item(struct pr *p, long off, const char *title, const char *type);
void pr_end(struct pr *p);
/** Unsigned number with an optional meaning ("name = 1 (AES-CM)"). */
void pr_u(struct pr *p, long off, const char *label, unsigned long long v,
	  const char *meaning);
/** Number shown in hex in text (0x...), a number in JSON. */
void pr_x(struct pr *p, long off, const char *label, unsigned long long v,
	  int width);
void pr_s(struct pr *p, long off, const char *label, const char *s);
void pr_hex(struct pr *p, long off, const char *label, struct cc_slice s);
/** Key material: hex only with show_keys, else "<n bytes hidden>". */
void pr_secret(struct pr *p, long off, const char *label, struct cc_slice s);
/** ID data and the like: a quoted string when printable, else hex. */
void pr_text_or_hex(struct pr *p, long off, const char *label,
		    struct cc_slice s);
/** A result line: text "label: status", JSON "label": "status". */
void pr_status(struct pr *p, const char *label, const char *status);

/* ---- mikey_print.c: the MIKEY tree --------------------------------- */

/** The common header (buf = the message, for the next-payload byte). */
void pr_mikey_hdr(struct pr *p, const struct mikey_hdr *h);
/** A payload chain decoded from buf (offsets relative to buf). */
void pr_mikey_chain(struct pr *p, const char *label,
		    const struct mikey_chain *ch, const uint8_t *buf);
/** Decoded key-data sub-payloads (KEMAC plaintext). */
void pr_mikey_keys(struct pr *p, const char *label,
		   const struct mikey_keys *keys);

/** ISO-8601 UTC of a T/TR value into out (>= 32 bytes); false for
 *  COUNTER or an unknown type. */
bool mikey_ts_iso(const struct mikey_ts *ts, char *out, size_t cap);

#endif
