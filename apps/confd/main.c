/*
 * main.c -- conclave-confd: command line, config file, log, signals and
 * the libre main loop. The SIP side is sip.c.
 *
 * Exit status: 0 clean shutdown (SIGTERM/SIGINT: every member gets a
 * BYE), 1 start-up failure, 2 usage or configuration error.
 */
#include "confd.h"

#include <re.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONF "/etc/conclave/confd.conf"

static enum confd_level log_level = CONFD_LOG_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void confd_log(enum confd_level level, const char *fmt, ...)
{
	char line[1024];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	size_t n;
	int r;

	if (level > log_level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n,
		     ".%03dZ confd %s: ", (int)(tv.tv_usec / 1000),
		     level_names[level]);
	n += r > 0 ? (size_t)r : 0;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n += r > 0 ? (size_t)r : 0;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: conclave-confd [options]\n\n"
		"The Conclave conference server: SIP conference factory and "
		"focus\n(RFC 4579) with MIKEY-TICKET key management in SDP "
		"(RFC 4567, RFC 6043).\n\n"
		"options (flags override the config file; see "
		"etc/confd.conf):\n"
		"  -c, --config FILE        config file (default %s;\n"
		"                           a missing default file means "
		"defaults)\n"
		"  --udp ADDR:PORT|off      SIP over UDP\n"
		"  --tcp ADDR:PORT|off      SIP over TCP\n"
		"  --tls ADDR:PORT|off      SIP over TLS (default off; needs "
		"--tls-cert)\n"
		"  --tls-cert FILE          PEM: certificate chain + private "
		"key\n"
		"  --metrics ADDR:PORT|off  HTTP GET /metrics (Prometheus) and "
		"/healthz\n"
		"                           (default off)\n"
		"  --factory URI            factory URI, "
		"sip:factory.<conf>@<realm>\n"
		"  --node TAG               node tag behind a dispatcher: "
		"foci are\n"
		"                           focus<N>-TAG.<conf> (default "
		"none)\n"
		"  --credential FILE        the factory/focus KMS "
		"credential\n"
		"  --kms-url URL[,URL...]   KMS replica URLs, failover in "
		"turn\n"
		"                           (default: the credential's)\n"
		"  --kms-ca FILE            CA bundle for an https:// KMS\n"
		"  --skew SECONDS           MIKEY timestamp window\n"
		"  --idle-timeout SECONDS   end an empty conference after "
		"this\n"
		"  --rtp-timeout SECONDS    remove a member without SRTP this "
		"long\n"
		"                           (counted from its join; 0 = off; "
		"default 30)\n"
		"  --replay-capacity N      TRANSFER_INITs remembered\n"
		"  --strict-sdp-ids yes|no  require the SDP-IDs extension "
		"(A11)\n"
		"  --sdes-allow IDS         identities that may join by SDES "
		"a=crypto\n"
		"                           (comma list, * = any allowed; "
		"default none)\n"
		"  --sdes-insecure yes|no   TEST ONLY: SDES without SIP/TLS\n"
		"  --sdes-nomki-rekey reinvite|bye  rekey of an SDES leg "
		"without MKI\n"
		"  --log-level LEVEL        error|warn|info|debug\n"
		"  --policy NAME=VALUE      conference policy (conf.h "
		"names)\n"
		"  -h, --help               this text\n\n"
		"signals: SIGTERM/SIGINT end every conference with BYE and "
		"exit 0.\n",
		DEFAULT_CONF);
}

static void defaults(struct confd_conf *cf)
{
	memset(cf, 0, sizeof(*cf));
	snprintf(cf->udp, sizeof(cf->udp), "127.0.0.1:5060");
	snprintf(cf->tcp, sizeof(cf->tcp), "127.0.0.1:5060");
	snprintf(cf->tls, sizeof(cf->tls), "off");
	snprintf(cf->metrics, sizeof(cf->metrics), "off");
	cf->rtp_timeout = 30;
	snprintf(cf->factory, sizeof(cf->factory),
		 "sip:factory.conf1@example.org");
	snprintf(cf->credential, sizeof(cf->credential),
		 "/etc/conclave/confd.cred");
	cf->skew = KMSC_SKEW;
	cf->idle_timeout = 30;
	cf->replay_capacity = 65536;
	cf->log_level = CONFD_LOG_INFO;
	/* rekey-on join,leave; min-rekey-interval etc. from `policy` lines */
	conf_policy_default(&cf->policy);
}

static bool set_str(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

static bool set_u32(uint32_t *dst, const char *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || end == v || *end || x > 0xffffffffUL)
		return false;
	*dst = (uint32_t)x;
	return true;
}

static bool set_bool(bool *dst, const char *v)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*dst = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*dst = false;
	else
		return false;
	return true;
}

static bool set_level(enum confd_level *dst, const char *v)
{
	unsigned i;

	for (i = 0; i <= CONFD_LOG_DEBUG; i++)
		if (!strcasecmp(v, level_names[i])) {
			*dst = (enum confd_level)i;
			return true;
		}
	return false;
}

static bool set_policy(struct conf_policy *p, const char *v)
{
	char name[64];
	const char *eq = strchr(v, '=');

	if (!eq || (size_t)(eq - v) >= sizeof(name))
		return false;
	memcpy(name, v, (size_t)(eq - v));
	name[eq - v] = '\0';
	return conf_policy_set(p, name, eq + 1) == CC_OK;
}

/* key is spelled with underscores or dashes */
static bool set_key(struct confd_conf *cf, const char *key, const char *v)
{
	char k[64];
	size_t i;

	if (!set_str(k, sizeof(k), key))
		return false;
	for (i = 0; k[i]; i++)
		if (k[i] == '-')
			k[i] = '_';
	if (!strcmp(k, "udp"))
		return set_str(cf->udp, sizeof(cf->udp), v);
	if (!strcmp(k, "tcp"))
		return set_str(cf->tcp, sizeof(cf->tcp), v);
	if (!strcmp(k, "tls"))
		return set_str(cf->tls, sizeof(cf->tls), v);
	if (!strcmp(k, "tls_cert"))
		return set_str(cf->tls_cert, sizeof(cf->tls_cert), v);
	if (!strcmp(k, "metrics"))
		return set_str(cf->metrics, sizeof(cf->metrics), v);
	if (!strcmp(k, "rtp_timeout"))
		return set_u32(&cf->rtp_timeout, v);
	if (!strcmp(k, "factory"))
		return set_str(cf->factory, sizeof(cf->factory), v);
	if (!strcmp(k, "node"))
		return sipglue_node_check(v) &&
		       set_str(cf->node, sizeof(cf->node), v);
	if (!strcmp(k, "credential"))
		return set_str(cf->credential, sizeof(cf->credential), v);
	if (!strcmp(k, "kms_url"))
		return set_str(cf->kms_url, sizeof(cf->kms_url), v);
	if (!strcmp(k, "kms_ca"))
		return set_str(cf->kms_ca, sizeof(cf->kms_ca), v);
	if (!strcmp(k, "skew"))
		return set_u32(&cf->skew, v) && cf->skew > 0;
	if (!strcmp(k, "idle_timeout"))
		return set_u32(&cf->idle_timeout, v);
	if (!strcmp(k, "replay_capacity"))
		return set_u32(&cf->replay_capacity, v) &&
		       cf->replay_capacity > 0;
	if (!strcmp(k, "strict_sdp_ids"))
		return set_bool(&cf->strict_sdp_ids, v);
	if (!strcmp(k, "sdes_allow"))
		return set_str(cf->sdes_allow, sizeof(cf->sdes_allow), v);
	if (!strcmp(k, "sdes_insecure"))
		return set_bool(&cf->sdes_insecure, v);
	if (!strcmp(k, "sdes_nomki_rekey")) {
		cf->sdes_nomki_bye = !strcmp(v, "bye");
		return cf->sdes_nomki_bye || !strcmp(v, "reinvite");
	}
	if (!strcmp(k, "event_insecure"))
		return set_bool(&cf->event_insecure, v);
	if (!strcmp(k, "log_level"))
		return set_level(&cf->log_level, v);
	if (!strcmp(k, "policy"))
		return set_policy(&cf->policy, v);
	if (!strncmp(k, "media", 5)) /* media_remote.c */
		return confd_media_conf(k, v);
	return false;
}

static bool key_h(const char *k, const char *v, void *arg)
{
	return set_key(arg, k, v);
}

static int parse_args(int argc, char **argv, struct confd_conf *cf)
{
	const char *path = DEFAULT_CONF;
	bool must = false;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			exit(0);
		}
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) &&
		    i + 1 < argc) {
			path = argv[++i];
			must = true;
		}
	}
	rc = cc_conf_file("conclave-confd", path, must, key_h, cf);
	for (i = 1; !rc && i < argc; i++) {
		if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) {
			i++;
			continue;
		}
		if (strncmp(argv[i], "--", 2) || i + 1 >= argc ||
		    !set_key(cf, argv[i] + 2, argv[i + 1])) {
			fprintf(stderr, "conclave-confd: bad option %s\n",
				argv[i]);
			usage(stderr);
			return 2;
		}
		i++;
	}
	return rc;
}

static int check_conf(const struct confd_conf *cf)
{
	if (conf_policy_check(&cf->policy)) {
		fprintf(stderr, "conclave-confd: inconsistent policy\n");
		return 2;
	}
	if (strcmp(cf->tls, "off") && !cf->tls_cert[0]) {
		fprintf(stderr, "conclave-confd: tls needs tls_cert\n");
		return 2;
	}
	if (cf->policy.keys == CONF_KEYS_KMS) {
		fprintf(stderr, "conclave-confd: group-keys=kms is not "
				"implemented yet\n");
		return 2;
	}
	return 0;
}

static volatile int got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
	re_cancel();
}

int main(int argc, char **argv)
{
	static struct confd_conf cf;
	static struct kmsc_cred cred;
	enum cc_err cerr;
	int rc;

	defaults(&cf);
	rc = parse_args(argc, argv, &cf);
	if (!rc)
		rc = check_conf(&cf);
	if (rc)
		return rc;
	log_level = cf.log_level;
	cerr = kmsc_cred_load(cf.credential, &cred);
	if (cerr) {
		confd_log(CONFD_LOG_ERROR, "credential %s: %s", cf.credential,
			  cc_strerror(cerr));
		return 1;
	}
	/* the credential's URL, or confd's list of replicas (kms.c) */
	if (confd_kms_urls(cf.kms_url[0] ? cf.kms_url : cred.kms_url,
			   cred.kms_url, sizeof(cred.kms_url))) {
		confd_log(CONFD_LOG_ERROR, "kms_url: not a list of URLs");
		kmsc_cred_wipe(&cred);
		return 1;
	}
	if (libre_init()) {
		kmsc_cred_wipe(&cred);
		return 1;
	}
	rc = confd_media_setup() || confd_metrics_start(cf.metrics) ||
			     confd_sip_start(&cf, &cred) ?
		     1 :
		     0;
	if (!rc) {
		(void)re_main(on_signal);
		if (got_signal) {
			confd_log(CONFD_LOG_INFO,
				  "signal %d: ending every "
				  "conference",
				  got_signal);
			confd_sip_shutdown();
			(void)re_main(NULL);
		}
	}
	confd_sip_free();
	confd_media_close();
	confd_metrics_stop();
	kmsc_cred_wipe(&cred);
	libre_close();
	confd_log(CONFD_LOG_INFO, "exit %d", rc);
	return rc;
}
