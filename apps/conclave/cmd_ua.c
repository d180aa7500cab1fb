/*
 * cmd_ua.c -- `conclave ua`: a conference participant (issue 5 §2) that
 * people and tests can both drive. `create` and `join` run the
 * participant in the foreground; while it runs, it takes the lines
 * `status`, `report` and `leave` on stdin, SIGUSR1 (status + report) and
 * SIGTERM/SIGINT (leave: BYE, then exit). `leave --pid P` and
 * `status --pid P` send those signals to a running participant.
 */
#include <re.h>

#include "cmds.h"
#include "ua.h"

#include <conclave/mix.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ua U;
volatile sig_atomic_t ua_sig_status;
/* SIGTERM / SIGINT seen: acted on from the main loop, not in the handler */
static volatile sig_atomic_t sig_leave;

static struct tmr tick_tmr, end_tmr;
static bool stdin_on;

int64_t ua_now(void)
{
	return (int64_t)tmr_jiffies() - U.t0;
}

void ua_say(const char *fmt, ...)
{
	va_list ap;

	if (U.o.quiet)
		return;
	va_start(ap, fmt);
	printf("[%6.3f] ", (double)ua_now() / 1000.0);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

static void usage(FILE *f)
{
	fputs("usage: conclave ua --cred FILE [options] create --factory URI "
	      "[--allow A,B,...]\n"
	      "       conclave ua --cred FILE [options] join FOCUS-URI\n"
	      "       conclave ua --cred FILE [options] listen   (wait for a "
	      "focus to call:\n"
	      "                                                   dial-out, or "
	      "a REFER to join)\n"
	      "       conclave ua leave --pid PID\n"
	      "       conclave ua status --pid PID\n"
	      "\n"
	      "A conference participant: KMS ticket, SIP INVITE with MIKEY-"
	      "TICKET in a=key-mgmt,\nSRTP group media by MKI, rekey by "
	      "re-INVITE. create/join run until --duration\nends, `leave` is "
	      "typed on stdin, or SIGTERM/SIGINT arrives (then BYE).\n"
	      "\n"
	      "options:\n"
	      "  --cred FILE        credential (`conclave kms credential "
	      "export`)\n"
	      "  --server HOST:PORT where confd listens (default: the URI's "
	      "host)\n"
	      "  --tcp              SIP over TCP (default UDP)\n"
	      "  --tls              SIP over TLS (--server is the focus's "
	      "TLS port)\n"
	      "  --ca FILE          with --tls: verify the focus's "
	      "certificate against FILE\n"
	      "  --sip-listen ADDR  local IP[:port] for SIP and RTP "
	      "(127.0.0.1)\n"
	      "  --rtp-port P       local RTP port (default: any)\n"
	      "  --codec C          offer and send pcmu (default), pcma or "
	      "opus\n"
	      "                     (8 kHz narrowband, PT 96); any of them "
	      "is decoded\n"
	      "  --tone HZ          send a sine at HZ (default: from the "
	      "identity, 450..3300 Hz)\n"
	      "  --wav FILE         send FILE instead (PCM 16-bit mono 8 kHz, "
	      "looped)\n"
	      "  --record DIR       write what is heard, DIR/ssrc-XXXXXXXX.wav "
	      "per source\n"
	      "  --report FILE      JSON at the end (and on `report`/SIGUSR1)\n"
	      "  --duration S       leave after S seconds (default: stay)\n"
	      "  --focus-out FILE   write the focus URI once joined\n"
	      "  --skew N           MIKEY timestamp window, s (300)\n"
	      "  --grace MS         keep an old epoch this long after the "
	      "switch (3000)\n"
	      "  --switch-after MS  send under a new epoch MS after its CSB "
	      "update was\n"
	      "                     answered if the focus has not said so "
	      "by then (10000)\n"
	      "  --ssrc HEX         offer this SSRC (default random; the "
	      "focus replaces\n"
	      "                     one that another member holds)\n"
	      "  --seq-start N      first RTP sequence number (default "
	      "random)\n"
	      "  --roc-start N      first ROC, as if the stream had wrapped N "
	      "times (0)\n"
	      "  --keepalive S      in-dialog INFO every S s; no answer, 481 "
	      "or 408 = focus\n"
	      "                     lost (10; 0 = off)\n"
	      "  --timeout S        give up a call not answered in S s (30; "
	      "0 = SIP's 32 s)\n"
	      "  --quiet            no progress lines\n"
	      "  --export-keys FILE TEST ONLY: append each epoch's MKI, SRTP "
	      "master key and\n"
	      "                     salt (hex) to FILE (0600) as installed, "
	      "for checking a\n"
	      "                     capture; whoever reads FILE can decrypt "
	      "the call\n"
	      "\n"
	      "stdin commands while running: status, report, leave,\n"
	      "  watch [URI]        print the live roster (conference event "
	      "package)\n"
	      "  invite URI         ask the focus to dial URI out (REFER, RFC "
	      "4579 §5.5)\n"
	      "  refer URI --to-focus|--to-user  REFER to the focus (= invite) "
	      "or to URI\n"
	      "                     (it then joins our focus, §5.6)\n"
	      "  allow URI,URI,...  (the owner) replace the allowed set; "
	      "\"allow\" "
	      "alone: a ticket\n"
	      "                     naming only the focus (set unchanged)\n"
	      "Exit status: 0 joined and left cleanly (or the focus hung up), "
	      "1 call failed,\n2 usage, 3 focus lost (no answer to the "
	      "keepalive, or 481).\n",
	      f);
}

static int signal_pid(const char *what, int argc, char **argv)
{
	long pid = 0;
	int sig = !strcmp(what, "leave") ? SIGTERM : SIGUSR1;

	if (argc == 2 && !strcmp(argv[0], "--pid"))
		pid = strtol(argv[1], NULL, 10);
	if (pid <= 1) {
		fprintf(stderr,
			"conclave ua %s: need --pid PID of a running "
			"participant\n",
			what);
		return 2;
	}
	if (kill((pid_t)pid, sig)) {
		fprintf(stderr, "conclave ua %s: pid %ld: %s\n", what, pid,
			strerror(errno));
		return 1;
	}
	return 0;
}

static int parse_cmd(int argc, char **argv, int i)
{
	const char *c = argv[i];

	if (!strcmp(c, "join") && i + 2 == argc) {
		U.o.join = argv[i + 1];
		return 0;
	}
	if (!strcmp(c, "listen") && i + 1 == argc) {
		U.o.listen = true;
		return 0;
	}
	if (strcmp(c, "create"))
		return -1;
	for (i++; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--factory"))
			U.o.factory = argv[i + 1];
		else if (!strcmp(argv[i], "--allow"))
			U.o.allow = argv[i + 1];
		else
			return -1;
	}
	return i == argc && U.o.factory ? 0 : -1;
}

static int parse_num(const char *v, double lo, double hi, double *out)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || *end || d < lo || d > hi)
		return -1;
	*out = d;
	return 0;
}

static int parse_hex32(const char *v, uint32_t *out)
{
	char *end;
	unsigned long x = strtoul(v, &end, 16);

	if (end == v || *end || !x || x > 0xffffffffUL)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

/* One "--name value" option at argv[i]; returns the args used, or -1. */
static int parse_opt(int argc, char **argv, int i)
{
	const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
	double d = 0;

	if (!strcmp(a, "--tcp"))
		return U.o.tcp = true, 1;
	if (!strcmp(a, "--tls"))
		return U.o.tls = true, 1;
	if (!strcmp(a, "--quiet"))
		return U.o.quiet = true, 1;
	if (!v)
		return -1;
	if (!strcmp(a, "--cred"))
		U.o.cred = v;
	else if (!strcmp(a, "--server"))
		U.o.server = v;
	else if (!strcmp(a, "--ca"))
		U.o.ca = v;
	else if (!strcmp(a, "--sip-listen"))
		U.o.sip_listen = v;
	else if (!strcmp(a, "--wav"))
		U.o.wav_in = v;
	else if (!strcmp(a, "--record"))
		U.o.record = v;
	else if (!strcmp(a, "--report"))
		U.o.report = v;
	else if (!strcmp(a, "--focus-out"))
		U.o.focus_out = v;
	else if (!strcmp(a, "--export-keys"))
		U.o.export_keys = v;
	else if (!strcmp(a, "--rtp-port") && !parse_num(v, 0, 65535, &d))
		U.o.rtp_port = (uint16_t)d;
	else if (!strcmp(a, "--tone") && !parse_num(v, 100, 3900, &d))
		U.o.tone = d;
	else if (!strcmp(a, "--codec") && !strcmp(v, "pcmu"))
		U.o.codec = UA_CODEC_PCMU;
	else if (!strcmp(a, "--codec") && !strcmp(v, "pcma"))
		U.o.codec = UA_CODEC_PCMA;
	else if (!strcmp(a, "--codec") && !strcmp(v, "opus") &&
		 media_mix_has_opus())
		U.o.codec = UA_CODEC_OPUS;
	else if (!strcmp(a, "--duration") && !parse_num(v, 0, 86400, &d))
		U.o.duration = (uint32_t)d;
	else if (!strcmp(a, "--skew") && !parse_num(v, 1, 86400, &d))
		U.o.skew = (uint32_t)d;
	else if (!strcmp(a, "--grace") && !parse_num(v, 0, 600000, &d))
		U.o.grace_ms = (uint32_t)d;
	else if (!strcmp(a, "--switch-after") && !parse_num(v, 0, 600000, &d))
		U.o.switch_ms = (uint32_t)d;
	else if (!strcmp(a, "--seq-start") && !parse_num(v, 0, 65535, &d))
		U.o.seq_start = (int32_t)d;
	else if (!strcmp(a, "--roc-start") && !parse_num(v, 0, 65535, &d))
		U.o.roc_start = (uint32_t)d;
	else if (!strcmp(a, "--ssrc") && !parse_hex32(v, &U.o.ssrc))
		return 2;
	else if (!strcmp(a, "--keepalive") && !parse_num(v, 0, 3600, &d) &&
		 (d == 0 || d >= 0.2))
		U.o.keepalive_ms = (uint32_t)(d * 1000);
	else if (!strcmp(a, "--timeout") && !parse_num(v, 0, 3600, &d))
		U.o.timeout_s = (uint32_t)d;
	else
		return -1;
	return 2;
}

static int parse(int argc, char **argv)
{
	int i, n;

	U.o.sip_listen = "127.0.0.1";
	U.o.skew = KMSC_SKEW;
	U.o.grace_ms = 3000;
	U.o.switch_ms = 10000;
	U.o.seq_start = -1;
	U.o.keepalive_ms = 10000;
	U.o.timeout_s = 30;
	for (i = 1; i < argc; i += n) {
		if (argv[i][0] != '-')
			break;
		n = parse_opt(argc, argv, i);
		if (n < 0) {
			fprintf(stderr, "conclave ua: bad option %s\n",
				argv[i]);
			return -1;
		}
	}
	if (i >= argc || parse_cmd(argc, argv, i)) {
		fprintf(stderr, "conclave ua: need create --factory URI, "
				"join URI or listen\n");
		return -1;
	}
	if (!U.o.cred) {
		fprintf(stderr, "conclave ua: --cred FILE is required\n");
		return -1;
	}
	if (U.o.wav_in && U.o.tone > 0) {
		fprintf(stderr, "conclave ua: --tone or --wav, not both\n");
		return -1;
	}
	return 0;
}

/* ---- running ------------------------------------------------------------- */

static void report_now(void)
{
	int err = ua_report_write(U.o.report);

	if (err)
		ua_say("report %s: %s", U.o.report, strerror(err));
}

/* Leaving: the report is written first, so it holds the final figures
 * even if the BYE exchange is slow (e.g. it crosses a rekey re-INVITE). */
static void leave(const char *why)
{
	report_now();
	ua_sip_leave(why);
}

static void tick_h(void *arg)
{
	(void)arg;
	if (sig_leave) {
		int sig = sig_leave;

		sig_leave = 0;
		leave(sig == SIGINT ? "SIGINT" : "SIGTERM");
	}
	if (ua_sig_status) {
		ua_sig_status = 0;
		ua_status_print();
		report_now();
	}
	ua_media_tick();
	tmr_start(&tick_tmr, 100, tick_h, NULL);
}

static void end_h(void *arg)
{
	(void)arg;
	leave("duration over");
}

static void stdin_h(int flags, void *arg)
{
	char line[128];
	ssize_t n;

	(void)flags;
	(void)arg;
	n = read(STDIN_FILENO, line, sizeof(line) - 1);
	if (n <= 0) { /* EOF: keep running, just stop listening */
		fd_close(STDIN_FILENO);
		stdin_on = false;
		return;
	}
	line[n] = '\0';
	if (strstr(line, "status"))
		ua_status_print();
	if (strstr(line, "report") || strstr(line, "status"))
		report_now();
	if (!strncmp(line, "invite ", 7) || !strncmp(line, "refer ", 6)) {
		char *u = line + (line[0] == 'i' ? 7 : 6), *sp;
		bool to_user = strstr(u, "--to-user") != NULL;

		line[strcspn(line, "\r\n")] = '\0';
		sp = strchr(u, ' ');
		if (sp)
			*sp = '\0';
		ua_sip_refer(u, line[0] == 'i' || !to_user);
	}
	if (!strncmp(line, "watch", 5)) {
		line[strcspn(line, "\r\n")] = '\0';
		ua_watch(line[5] == ' ' ? line + 6 : "");
	}
	if (!strncmp(line, "allow", 5)) {
		line[strcspn(line, "\r\n")] = '\0';
		ua_owner_allow(line[5] == ' ' ? line + 6 : "");
	}
	if (strstr(line, "leave"))
		leave("leave command");
}

/* libre calls this from the signal handler: only note it */
static void signal_h(int sig)
{
	sig_leave = sig;
}

static void usr1_h(int sig)
{
	(void)sig;
	ua_sig_status = 1;
}

static bool stdin_pollable(void)
{
	struct stat st;

	if (isatty(STDIN_FILENO))
		return true;
	if (fstat(STDIN_FILENO, &st))
		return false;
	return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
}

static int run(void)
{
	int err;

	U.t0 = (int64_t)tmr_jiffies();
	err = ua_sip_start();
	if (err) {
		ua_say("setup FAIL %s", strerror(err));
		return 1;
	}
	ua_live_calling();
	signal(SIGUSR1, usr1_h);
	/* commands on stdin only from a terminal, pipe or socket: epoll
	 * refuses regular files and /dev/null */
	if (stdin_pollable() &&
	    !fd_listen(STDIN_FILENO, FD_READ, stdin_h, NULL))
		stdin_on = true;
	tmr_start(&tick_tmr, 100, tick_h, NULL);
	if (U.o.duration)
		tmr_start(&end_tmr, (uint64_t)U.o.duration * 1000, end_h, NULL);
	(void)re_main(signal_h);
	tmr_cancel(&tick_tmr);
	tmr_cancel(&end_tmr);
	if (stdin_on)
		fd_close(STDIN_FILENO);
	ua_media_stop();
	report_now();
	ua_say("exit %d: sent %llu, received %llu, decrypted %llu, failed "
	       "%llu",
	       U.rc, (unsigned long long)U.tx, (unsigned long long)U.rx,
	       (unsigned long long)U.rx_ok, (unsigned long long)U.rx_failed);
	return U.rc;
}

int cmd_ua(int argc, char **argv)
{
	int rc;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "leave") || !strcmp(argv[1], "status"))
		return signal_pid(argv[1], argc - 2, argv + 2);
	memset(&U, 0, sizeof(U));
	U.rc = 1;
	if (parse(argc, argv)) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (kmsc_cred_load(U.o.cred, &U.cred) != CC_OK) {
		fprintf(stderr, "conclave ua: cannot load credential %s\n",
			U.o.cred);
		return 2;
	}
	if (U.o.export_keys &&
	    ua_keyexport_open(U.o.export_keys, U.cred.identity)) {
		kmsc_cred_wipe(&U.cred);
		return 2;
	}
	if (kmsc_net_init() != CC_OK || media_init() != CC_OK) {
		ua_keyexport_close();
		kmsc_cred_wipe(&U.cred);
		return 1;
	}
	rc = run();
	ua_sip_close();
	ua_media_free();
	ua_keyexport_close();
	kmsc_cred_wipe(&U.cred);
	return rc;
}
