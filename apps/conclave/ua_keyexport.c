/*
 * ua_keyexport.c -- TEST ONLY: `conclave ua --export-keys FILE`.
 *
 * Appends one line per SRTP epoch as it is installed (MKI, profile,
 * master key and master salt in hex) and one per retire, each with the
 * wall-clock time, so that a capture of the call can be checked packet by
 * packet against the keys (`conclave srtp check`, tests/demo_capture.sh).
 * Anyone holding the file can decrypt the call: it is never written
 * unless asked for, the option prints a warning line on stderr, the file
 * is created (or forced to) 0600, and the keys go to that file only,
 * never to stdout, stderr or a report.
 *
 *   # conclave ua TEST ONLY SRTP key export: sip:alice@example.org pid 42
 *   install 1712345678.123456 mki=80000001 profile=AES_CM_128_HMAC_SHA1_80
 *           key=<32 hex> salt=<28 hex>           (one line in the file)
 *   retire 1712345680.523456 mki=80000001 ssrc=1a2b3c4d
 */
#include "ua.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int export_fd = -1;

static void now_str(char *buf, size_t cap)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, cap, "%lld.%06ld", (long long)ts.tv_sec,
		 ts.tv_nsec / 1000);
}

static void put_line(char *line, size_t n)
{
	ssize_t w;

	if (export_fd < 0)
		return;
	w = write(export_fd, line, n);
	if (w < 0 || (size_t)w != n)
		ua_say("export-keys: write failed: %s",
		       w < 0 ? strerror(errno) : "short write");
}

int ua_keyexport_open(const char *path, const char *identity)
{
	char line[KMSC_MAX_ID + 96];
	int n;

	export_fd = open(path,
			 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
			 0600);
	if (export_fd < 0 || fchmod(export_fd, 0600)) {
		int err = errno;

		fprintf(stderr, "conclave ua: --export-keys %s: %s\n", path,
			strerror(err));
		if (export_fd >= 0)
			close(export_fd);
		export_fd = -1;
		return err;
	}
	fprintf(stderr,
		"conclave ua: WARNING: TEST ONLY: exporting SRTP keys to %s "
		"(whoever reads it can decrypt this call)\n",
		path);
	n = snprintf(line, sizeof(line),
		     "# conclave ua TEST ONLY SRTP key export: %s pid %ld\n",
		     identity, (long)getpid());
	if (n > 0 && (size_t)n < sizeof(line))
		put_line(line, (size_t)n);
	return 0;
}

static const char *profile_name(enum media_profile p)
{
	return p == MEDIA_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM" :
					     "AES_CM_128_HMAC_SHA1_80";
}

void ua_keyexport_install(uint32_t mki, enum media_profile p,
			  const uint8_t *key, size_t key_len,
			  const uint8_t *salt, size_t salt_len)
{
	char line[256], t[32], khex[2 * 32 + 1], shex[2 * 32 + 1];
	int n;

	if (export_fd < 0 || key_len > 32 || salt_len > 32)
		return;
	now_str(t, sizeof(t));
	cc_hex_encode(key, key_len, khex);
	cc_hex_encode(salt, salt_len, shex);
	n = snprintf(line, sizeof(line),
		     "install %s mki=%08x profile=%s key=%s salt=%s\n", t, mki,
		     profile_name(p), khex, shex);
	if (n > 0 && (size_t)n < sizeof(line))
		put_line(line, (size_t)n);
	cc_wipe(line, sizeof(line));
	cc_wipe(khex, sizeof(khex));
	cc_wipe(shex, sizeof(shex));
}

void ua_keyexport_retire(uint32_t mki, uint32_t ssrc)
{
	char line[96], t[32];
	int n;

	if (export_fd < 0)
		return;
	now_str(t, sizeof(t));
	n = snprintf(line, sizeof(line), "retire %s mki=%08x ssrc=%08x\n", t,
		     mki, ssrc);
	if (n > 0 && (size_t)n < sizeof(line))
		put_line(line, (size_t)n);
}

void ua_keyexport_close(void)
{
	if (export_fd >= 0)
		close(export_fd);
	export_fd = -1;
}
