/*
 * log.c -- one line per event on stderr, written with a single write(2) so
 * that lines never interleave. Callers never pass keys or bodies; strings
 * a client chose go through kmsd_log_clean first.
 */
#include "kmsd.h"

#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum kmsd_level log_level = KMSD_LOG_INFO;

static const char *const level_names[] = {
	[KMSD_LOG_ERROR] = "error",
	[KMSD_LOG_WARN] = "warn",
	[KMSD_LOG_INFO] = "info",
	[KMSD_LOG_DEBUG] = "debug",
};

void kmsd_log_set_level(enum kmsd_level level)
{
	log_level = level;
}

bool kmsd_log_enabled(enum kmsd_level level)
{
	return level <= log_level;
}

const char *kmsd_level_name(enum kmsd_level level)
{
	if ((unsigned)level > KMSD_LOG_DEBUG)
		return "?";
	return level_names[level];
}

bool kmsd_level_parse(const char *s, enum kmsd_level *level)
{
	unsigned i;

	for (i = 0; i <= KMSD_LOG_DEBUG; i++) {
		if (!strcasecmp(s, level_names[i])) {
			*level = (enum kmsd_level)i;
			return true;
		}
	}
	if (!strcasecmp(s, "warning")) {
		*level = KMSD_LOG_WARN;
		return true;
	}
	return false;
}

void kmsd_log_clean(char *out, size_t cap, const char *s, size_t len)
{
	size_t i, n = 0;

	if (!cap)
		return;
	for (i = 0; s && i < len && s[i] && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		out[n++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ?
				   (char)c :
				   '?';
	}
	if (!n && cap > 1)
		out[n++] = '-';
	out[n] = '\0';
}

static size_t stamp(char *buf, size_t cap)
{
	struct timeval tv;
	struct tm tm;
	size_t n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, cap - n, ".%03dZ",
			      (int)(tv.tv_usec / 1000));
	return n < cap ? n : cap - 1;
}

void kmsd_log(enum kmsd_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	size_t n, off = 0;
	int m;

	if (!kmsd_log_enabled(level))
		return;
	n = stamp(line, sizeof(line));
	m = snprintf(line + n, sizeof(line) - n, " %-5s ",
		     kmsd_level_name(level));
	n += (m > 0) ? (size_t)m : 0;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += (size_t)m;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2; /* truncated: keep the newline */
	line[n++] = '\n';
	while (off < n) {
		ssize_t w = write(STDERR_FILENO, line + off, n - off);

		if (w <= 0)
			break; /* nowhere to report a failing stderr */
		off += (size_t)w;
	}
}
