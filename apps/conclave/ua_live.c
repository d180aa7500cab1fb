/*
 * ua_live.c -- is the focus still there? (issue 5 §4: "focus restarted
 * mid-conference: members see a clean failure and can rejoin; nothing
 * hangs").
 *
 * Once joined, an in-dialog INFO without a body (RFC 6086 §2, legacy
 * usage) goes to the focus every --keepalive seconds. The focus answers it
 * while it holds our dialog: 200, or 501 when it has no INFO handler
 * (libre's sipsess still checks the dialog first). The focus has lost the
 * dialog when the answer is 481 (RFC 3261 §12.2.2: no such dialog, e.g. a
 * restarted focus), when the transaction fails (TCP connection refused or
 * reset), or when LIVE_MISSES probes in a row got a 408 (a proxy on the
 * way gave up) or no answer within one interval each (over UDP a dead
 * focus answers nothing: the ICMP port-unreachable never reaches libre's
 * unconnected socket, and the transaction's own timeout is 64*T1 = 32 s).
 * One miss alone is a busy moment, not a lost focus.
 *
 * Then the participant says "focus lost: <reason>" once, stops media,
 * records "ended": "focus-lost" in its report and ends with exit status
 * UA_EXIT_FOCUS_LOST, without BYE (there is no dialog left to end).
 *
 * Before that, --timeout bounds the call set-up: an INVITE that has no
 * final answer by then is cancelled and the call fails (exit 1), so a
 * join while the focus is down does not wait for libre's Timer B.
 */
#include <re.h>

#include "ua.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static struct {
	struct sip *sip;
	struct sipsess *sess;
	struct sip_request *probe; /* pending INFO (libre clears it) */
	struct tmr tmr, setup;
	uint64_t sent_at; /* jiffies of the pending probe */
	unsigned probes;
	unsigned misses; /* consecutive probes unanswered or 408 */
	bool answered;   /* the first answer was reported */
} L;

/* One unanswered probe (or a 408 from a proxy on the way) can be a busy
 * moment; this many in a row is a lost focus. A 481 or a failed
 * transaction is final at once. */
enum {
	LIVE_MISSES = 3
};

static void lost(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void lost(const char *fmt, ...)
{
	va_list ap;

	if (U.done || U.leaving)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(U.ended_why, sizeof(U.ended_why), fmt, ap);
	va_end(ap);
	U.ended = "focus-lost";
	if (U.o.quiet)
		fprintf(stderr, "conclave ua: focus lost: %s\n", U.ended_why);
	else
		ua_say("focus lost: %s", U.ended_why);
	tmr_cancel(&L.tmr);
	ua_media_stop();
	/* no BYE: the focus no longer holds the dialog */
	U.done = true;
	U.rc = UA_EXIT_FOCUS_LOST;
	re_cancel();
}

static void probe_resp(int err, const struct sip_msg *msg, void *arg)
{
	(void)arg;
	if (U.done || U.leaving)
		return;
	if (err) {
		lost("keepalive INFO failed: %s", strerror(err));
		return;
	}
	if (!msg || msg->scode < 200)
		return;
	if (msg->scode == 481 ||
	    (msg->scode == 408 && ++L.misses >= LIVE_MISSES)) {
		lost("keepalive INFO answered %u %.*s", msg->scode,
		     (int)msg->reason.l, msg->reason.p);
		return;
	}
	if (msg->scode != 408)
		L.misses = 0;
	if (!L.answered) {
		L.answered = true;
		ua_say("keepalive: focus answers INFO with %u", msg->scode);
	}
}

static void probe_send(void)
{
	int err;

	err = sip_drequestf(&L.probe, L.sip, true, "INFO",
			    sipsess_dialog(L.sess), 0, NULL, NULL, probe_resp,
			    NULL, "Content-Length: 0\r\n\r\n");
	if (err) {
		lost("keepalive INFO not sent: %s", strerror(err));
		return;
	}
	L.sent_at = tmr_jiffies();
	L.probes++;
}

static void tick_h(void *arg)
{
	(void)arg;
	if (U.done || U.leaving)
		return;
	if (L.probe && tmr_jiffies() - L.sent_at >= U.o.keepalive_ms) {
		if (++L.misses >= LIVE_MISSES) {
			lost("no answer to %u keepalive INFOs in a row, %u ms "
			     "apart",
			     L.misses, U.o.keepalive_ms);
			return;
		}
		L.probe = mem_deref(L.probe); /* a late answer is ignored */
	}
	if (!L.probe)
		probe_send();
	if (!U.done)
		tmr_start(&L.tmr, U.o.keepalive_ms, tick_h, NULL);
}

static void setup_h(void *arg)
{
	(void)arg;
	if (U.joined || U.done || U.leaving)
		return;
	U.ended = "timeout";
	(void)snprintf(U.ended_why, sizeof(U.ended_why),
		       "no final answer to INVITE in %u s", U.o.timeout_s);
	ua_say("call timed out: %s", U.ended_why);
	ua_sip_leave("call set-up timed out");
}

void ua_live_calling(void)
{
	if (U.o.timeout_s)
		tmr_start(&L.setup, (uint64_t)U.o.timeout_s * 1000, setup_h,
			  NULL);
}

void ua_live_start(struct sip *sip, struct sipsess *sess)
{
	tmr_cancel(&L.setup);
	L.sip = sip;
	L.sess = sess;
	if (U.o.keepalive_ms)
		tmr_start(&L.tmr, U.o.keepalive_ms, tick_h, NULL);
}

void ua_live_stop(void)
{
	tmr_cancel(&L.tmr);
	tmr_cancel(&L.setup);
}
