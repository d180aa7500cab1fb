/*
 * ua_watch.c -- `watch` (stdin): the conference event package (RFC 4575,
 * issue 6 §3) from the participant's side. A SUBSCRIBE (Event:
 * conference, Accept: application/conference-info+xml) to our focus, in
 * a dialog of its own, naming our INVITE dialog in Target-Dialog
 * (RFC 4538): that is how confd knows the subscriber is a member whose
 * identity the KMS authenticated (docs/CONFD.md). Each NOTIFY body goes
 * through confinfo_update(); the live roster is printed on each change,
 * one line per member (identity, status, epoch, trust). A version gap
 * (NEED_FULL) re-subscribes (RFC 4575 §4.6); a stale document is
 * ignored; state="deleted" ends the watch. A body we cannot parse is
 * answered 200, logged ("roster: unparsable NOTIFY: <reason>") and the
 * old roster is kept. Identities are printed with control characters
 * neutralised.
 */
#include <re.h>

#include <conclave/confinfo.h>

#include "ua.h"

#include <errno.h>
#include <string.h>

enum {
	WATCH_EXPIRES = 600
};

static struct {
	struct sipevent_sock *sock;
	struct sipsub *sub;
	struct confinfo *view;
	struct tmr tmr; /* re-subscribe / free outside libre's handlers */
	char uri[KMSC_MAX_ID];
	char callid[128], ltag[128], rtag[128]; /* our INVITE dialog */
	bool dialog_said, resubscribe;
} W;

void ua_watch_dialog(const struct sip_msg *msg)
{
	const struct pl *l = msg->req ? &msg->to.tag : &msg->from.tag;
	const struct pl *r = msg->req ? &msg->from.tag : &msg->to.tag;

	(void)re_snprintf(W.callid, sizeof(W.callid), "%r", &msg->callid);
	(void)re_snprintf(W.ltag, sizeof(W.ltag), "%r", l);
	(void)re_snprintf(W.rtag, sizeof(W.rtag), "%r", r);
}

/* Control characters (C0, DEL, and C1 as UTF-8 c2 80..9f) become '?'. */
static void printable(const char *in, char *out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; in[i] && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == 0xc2 && (unsigned char)in[i + 1] >= 0x80 &&
		    (unsigned char)in[i + 1] <= 0x9f) {
			out[n++] = '?';
			i++;
			continue;
		}
		out[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
}

static void print_roster(void)
{
	const struct confinfo_conf_state *cs = confinfo_conf_state(W.view);
	size_t i, n = confinfo_user_count(W.view);
	char id[CONFINFO_URI_MAX + 1];

	ua_say("roster v%u: %zu user(s), %u connected, conference epoch %u",
	       confinfo_version(W.view), n, cs->users, cs->epoch);
	for (i = 0; i < n; i++) {
		const struct confinfo_user *u = confinfo_user_at(W.view, i);

		printable(u->entity, id, sizeof(id));
		ua_say("roster:   %s %s%s%s%s epoch %u trust %s", id,
		       confinfo_status_name(u->status)[0] ?
			       confinfo_status_name(u->status) :
			       "unknown",
		       u->disconnection ? " (" : "",
		       confinfo_disconnection_name(u->disconnection),
		       u->disconnection ? ")" : "", u->epoch,
		       confinfo_trust_name(u->trust)[0] ?
			       confinfo_trust_name(u->trust) :
			       "none");
	}
}

static int subscribe(void);

static void watch_tmr_h(void *arg)
{
	(void)arg;
	W.sub = mem_deref(W.sub);
	if (!W.resubscribe)
		return;
	W.resubscribe = false;
	if (subscribe())
		ua_say("watch: re-subscribe failed");
}

static void later(bool resubscribe)
{
	W.resubscribe = resubscribe;
	tmr_start(&W.tmr, 0, watch_tmr_h, NULL);
}

static void apply(const char *body, size_t len)
{
	struct confinfo_diag diag = { 0 };
	enum confinfo_result res = CONFINFO_STALE;
	enum cc_err err;

	err = confinfo_update(W.view, body, len, &res, &diag);
	if (err) {
		ua_say("roster: unparsable NOTIFY: %s (%s at byte %zu); "
		       "roster kept",
		       diag.reason ? diag.reason : "-", cc_strerror(err),
		       diag.offset);
		return;
	}
	switch (res) {
	case CONFINFO_APPLIED:
		print_roster();
		break;
	case CONFINFO_STALE:
		ua_say("roster: stale NOTIFY ignored (have v%u)",
		       confinfo_version(W.view));
		break;
	case CONFINFO_NEED_FULL:
		ua_say("roster: version gap after v%u, re-subscribing",
		       confinfo_version(W.view));
		later(true);
		break;
	case CONFINFO_ENDED:
		ua_say("roster: conference ended");
		break;
	default:
		break;
	}
}

static void notify_h(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	size_t len = mbuf_get_left(msg->mb);

	(void)arg;
	(void)sip_treply(NULL, sip, msg, 200, "OK");
	if (!W.dialog_said) {
		W.dialog_said = true;
		ua_say("watch: subscription dialog call-id %.*s local-tag %.*s "
		       "remote-tag %.*s",
		       (int)msg->callid.l, msg->callid.p, (int)msg->to.tag.l,
		       msg->to.tag.p, (int)msg->from.tag.l, msg->from.tag.p);
	}
	if (!len)
		return;
	if (!msg_ctype_cmp(&msg->ctyp, "application", "conference-info+xml")) {
		ua_say("roster: unparsable NOTIFY: Content-Type is not %s; "
		       "roster kept",
		       CONFINFO_MIME);
		return;
	}
	apply((const char *)mbuf_buf(msg->mb), len);
}

static void close_h(int err, const struct sip_msg *msg,
		    const struct sipevent_substate *ss, void *arg)
{
	(void)arg;
	if (msg && !msg->req && msg->scode >= 300)
		ua_say("watch: refused: %u %.*s", msg->scode,
		       (int)msg->reason.l, msg->reason.p);
	else if (ss && ss->state == SIPEVENT_TERMINATED)
		ua_say("watch: subscription terminated (%s)",
		       sipevent_reason_name(ss->reason));
	else
		ua_say("watch: subscription ended: %s",
		       err ? strerror(err) : "-");
	later(false);
}

static int subscribe(void)
{
	char user[KMSC_MAX_ID], host[KMSC_MAX_ID], ruri[2 * KMSC_MAX_ID];
	char td[512] = "";
	int err;

	if (sipglue_uri_split(W.uri, strlen(W.uri), user, sizeof(user), host,
			      sizeof(host)))
		return EINVAL;
	(void)re_snprintf(ruri, sizeof(ruri), "sip:%s@%s%s", user,
			  U.o.server ? U.o.server : host, ua_transport_param());
	if (W.callid[0] && U.joined)
		(void)re_snprintf(td, sizeof(td),
				  "Target-Dialog: %s;local-tag=%s;"
				  "remote-tag=%s\r\n",
				  W.callid, W.ltag, W.rtag);
	confinfo_free(W.view);
	W.view = NULL;
	if (confinfo_new(&W.view, NULL))
		return ENOMEM;
	W.dialog_said = false;
	err = sipevent_subscribe(&W.sub, W.sock, ruri, NULL, U.cred.identity,
				 "conference", NULL, WATCH_EXPIRES, "ua", NULL,
				 0, NULL, NULL, false, NULL, notify_h, close_h,
				 NULL,
				 "Accept: " CONFINFO_MIME "\r\n"
				 "%s",
				 td);
	if (!err)
		ua_say("watch: SUBSCRIBE %s (Event: conference)%s", W.uri,
		       td[0] ? " for our dialog" : " outside any dialog");
	return err;
}

void ua_watch(const char *uri)
{
	int err = 0;

	if (!uri || !uri[0])
		uri = U.focus;
	if (!uri[0] || !ua_sip_stack()) {
		ua_say("watch: no focus (not joined; give a URI)");
		return;
	}
	(void)re_snprintf(W.uri, sizeof(W.uri), "%s", uri);
	if (!W.sock)
		err = sipevent_listen(&W.sock, ua_sip_stack(), 16, 16, NULL,
				      NULL);
	W.sub = mem_deref(W.sub);
	if (!err)
		err = subscribe();
	if (err)
		ua_say("watch: %s", strerror(err));
}

void ua_watch_close(void)
{
	tmr_cancel(&W.tmr);
	W.sub = mem_deref(W.sub);
	W.sock = mem_deref(W.sock);
	confinfo_free(W.view);
	W.view = NULL;
}
