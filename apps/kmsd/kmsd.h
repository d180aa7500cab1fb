/*
 * kmsd.h -- conclave-kmsd internals: configuration, log, HTTP request
 * parser, metrics and the server. The daemon is a thin shell (STYLE.md
 * habit 2): it moves bytes between sockets and kms_handle() and keeps
 * timers; every protocol decision is in src/kms.
 */
#ifndef CONCLAVE_KMSD_H
#define CONCLAVE_KMSD_H

#include <conclave/kms_store.h>

#include <stdarg.h>
#include <stdio.h>

#define KMSD_VERSION "0.1.0"

/* ---- log (log.c) -------------------------------------------------------- */

enum kmsd_level {
	KMSD_LOG_ERROR = 0,
	KMSD_LOG_WARN,
	KMSD_LOG_INFO,
	KMSD_LOG_DEBUG,
};

void kmsd_log_set_level(enum kmsd_level level);
bool kmsd_log_enabled(enum kmsd_level level);
/** One line on stderr: "<UTC time> <level> <message>". Never a key. */
void kmsd_log(enum kmsd_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** Copy s into out (cap bytes, NUL-terminated) with every byte that is
 *  not printable ASCII (space included), or is '"' or '\\', replaced by
 *  '?', so that a client-chosen string cannot forge a quoted log field or
 *  a log line. "" -> "-". */
void kmsd_log_clean(char *out, size_t cap, const char *s, size_t len);
const char *kmsd_level_name(enum kmsd_level level);
bool kmsd_level_parse(const char *s, enum kmsd_level *level);

/* ---- configuration (conf.c) --------------------------------------------- */

enum {
	KMSD_MAX_PATH = 1024,
	KMSD_MAX_ADDR = 128,
};

struct kmsd_conf {
	char listen[KMSD_MAX_ADDR];       /* HTTP "addr:port", "" = off */
	char https_listen[KMSD_MAX_ADDR]; /* HTTPS "addr:port", "" = off */
	char tls_cert[KMSD_MAX_PATH];     /* PEM: certificate chain + key */
	char store[KMSD_MAX_PATH];        /* "sqlite:PATH" */
	char master_key_file[KMSD_MAX_PATH];
	char identity[KMS_MAX_NAME]; /* IDRkms */
	uint32_t skew;               /* seconds */
	uint32_t max_lifetime;       /* seconds */
	uint32_t default_lifetime;   /* seconds */
	uint32_t replay_capacity;    /* entries */
	bool allow_reuse;
	uint32_t max_conns;
	uint32_t max_header_bytes;
	uint32_t max_body_bytes;
	uint32_t idle_timeout_ms;
	uint32_t request_timeout_ms;
	enum kmsd_level log_level;
};

/** The built-in defaults (docs/KMSD.md). */
void kmsd_conf_defaults(struct kmsd_conf *c);

/**
 * Apply one setting. key is a config-file key (e.g. "max_conns"). On a bad
 * key or value, returns false and writes why into err.
 */
bool kmsd_conf_set(struct kmsd_conf *c, const char *key, const char *val,
		   char *err, size_t errsz);

/** Is key one that SIGHUP re-reads (skew, lifetimes, log level)? */
bool kmsd_conf_reloadable(const char *key);

/**
 * Read a config file: `key value` lines, '#' comments, blank lines.
 * only_reloadable: skip every key kmsd_conf_reloadable() refuses.
 * skip(key, arg): when it returns true the key is left alone (a flag on
 * the command line overrides it). A missing file is not an error when
 * missing_ok. On failure, err holds "FILE:LINE: why".
 */
bool kmsd_conf_load(struct kmsd_conf *c, const char *path, bool missing_ok,
		    bool only_reloadable,
		    bool (*skip)(const char *key, void *arg), void *arg,
		    char *err, size_t errsz);

/** Check the settings together (e.g. a listener, a cert for HTTPS). */
bool kmsd_conf_check(const struct kmsd_conf *c, char *err, size_t errsz);

/** Print the keys with their meaning and default (for --help). */
void kmsd_conf_help(FILE *f);

/* ---- HTTP/1.1 request head parser (http.c) ------------------------------ */

enum kmsd_http_method {
	KMSD_M_OTHER = 0,
	KMSD_M_GET,
	KMSD_M_HEAD,
	KMSD_M_POST,
};

/** What the parser found in one request head. Slices point into the
 *  connection's input buffer and live until the request is answered. */
struct kmsd_http_req {
	enum kmsd_http_method method;
	struct cc_slice method_str;
	struct cc_slice path; /* target without the query */
	struct cc_slice ctype;
	bool has_clen;
	size_t clen;
	bool close; /* Connection: close, or HTTP/1.0 without keep-alive */
	bool expect_continue;
	size_t head_len; /* bytes up to and including the blank line */
};

enum kmsd_http_parse {
	KMSD_HTTP_NEED_MORE = 0, /* head incomplete */
	KMSD_HTTP_DONE,          /* head parsed into req */
	KMSD_HTTP_ERROR,         /* *status holds the status to answer */
};

/**
 * Parse a request head from p[0..len). Strict RFC 9112: CRLF line ends,
 * `method SP origin-form SP HTTP/1.1`, no obs-fold, no whitespace before
 * ':', one Content-Length of digits, no Transfer-Encoding, a Host header.
 * *scan: where the search for the blank line resumes (0 for a new
 * request). On ERROR, *status is 400, 411, 417, 431 or 505 and *why a
 * short static reason for the log.
 */
enum kmsd_http_parse kmsd_http_parse(const uint8_t *p, size_t len,
				     size_t max_head, size_t *scan,
				     struct kmsd_http_req *req,
				     unsigned *status, const char **why);

/** The reason phrase of a status code ("Unknown" if not one we send). */
const char *kmsd_http_reason(unsigned status);

/** Does a slice equal a C string (case-sensitive)? */
bool kmsd_slice_eq(struct cc_slice s, const char *str);

/* ---- metrics (metrics.c) ------------------------------------------------ */

struct mbuf;

void kmsd_metrics_init(void);
/** One kms_handle call: op (0 = unknown), err (CC_OK = answered
 *  normally), seconds spent in kms_handle. */
void kmsd_metrics_mikey(int op, enum cc_err err, double seconds);
void kmsd_metrics_http(unsigned status);
void kmsd_metrics_conn_open(void);
void kmsd_metrics_conn_close(void);
void kmsd_metrics_conn_rejected(void);
void kmsd_metrics_timeout(bool request_started);
void kmsd_metrics_reload(void);
/** Render the Prometheus text exposition into mb. */
int kmsd_metrics_render(struct mbuf *mb, size_t replay_size);
/** A short, label-safe name of an error ("bad_mac", "replay", ...). */
const char *kmsd_err_short(enum cc_err err);
const char *kmsd_op_name(int op);

/* ---- server (server.c) -------------------------------------------------- */

struct kmsd_server;

struct kmsd_server_deps {
	struct kms *kms;
	struct kms_db *db;
	const struct kmsd_conf *conf; /* read on every connection: live */
};

/** Start the listeners of conf (HTTP and/or HTTPS). Logs where. */
int kmsd_server_alloc(struct kmsd_server **srvp,
		      const struct kmsd_server_deps *deps);
/** Stop accepting, close every connection, free everything. */
void kmsd_server_free(struct kmsd_server *srv);

#endif
