/*
 * client_cred.c -- the participant credential file that `conclave kms
 * credential export` writes: `key = value` lines (identity, psk_id, psk
 * in hex, kms_url, kms_identity). The one place in src/kms/client*.c that
 * reads a file. Like the KMS master key, it must be readable by its owner
 * only.
 */
#include <conclave/kmsc.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	CRED_MAX_FILE = 8192
};

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static enum cc_err set_str(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (!n || n >= cap)
		return CC_ERR_MALFORMED;
	memcpy(dst, v, n + 1);
	return CC_OK;
}

/* One `key = value` line; unknown keys are ignored (newer exporters). */
static enum cc_err cred_line(char *line, struct kmsc_cred *c, unsigned *seen)
{
	char *eq = strchr(line, '='), *k, *v;
	enum cc_err err;

	line = trim(line);
	if (!*line || *line == '#')
		return CC_OK;
	if (!eq)
		return CC_ERR_MALFORMED;
	*eq = 0;
	k = trim(line);
	v = trim(eq + 1);
	if (!strcmp(k, "identity")) {
		*seen |= 1;
		return set_str(c->identity, sizeof(c->identity), v);
	}
	if (!strcmp(k, "psk_id")) {
		*seen |= 2;
		return set_str(c->psk_id, sizeof(c->psk_id), v);
	}
	if (!strcmp(k, "psk")) {
		*seen |= 4;
		err = cc_hex_decode(v, c->psk, sizeof(c->psk), &c->psk_len);
		if (err || (c->psk_len != 16 && c->psk_len != 32))
			return CC_ERR_MALFORMED;
		return CC_OK;
	}
	if (!strcmp(k, "kms_url")) {
		*seen |= 8;
		return set_str(c->kms_url, sizeof(c->kms_url), v);
	}
	if (!strcmp(k, "kms_identity")) {
		*seen |= 16;
		return set_str(c->kms_identity, sizeof(c->kms_identity), v);
	}
	return CC_OK;
}

static enum cc_err read_all(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t n;

	*len = 0;
	while ((n = read(fd, buf + *len, cap - 1 - *len)) > 0)
		*len += (size_t)n;
	if (n < 0)
		return CC_ERR_NOT_FOUND;
	if (*len >= cap - 1)
		return CC_ERR_SPACE;
	buf[*len] = 0;
	return CC_OK;
}

static enum cc_err cred_parse(char *buf, struct kmsc_cred *cred)
{
	char *line, *save = NULL;
	unsigned seen = 0;
	enum cc_err err = CC_OK;

	for (line = strtok_r(buf, "\n", &save); line && !err;
	     line = strtok_r(NULL, "\n", &save))
		err = cred_line(line, cred, &seen);
	if (!err && seen != 31)
		err = CC_ERR_MISSING;
	return err;
}

enum cc_err kmsc_cred_load(const char *path, struct kmsc_cred *cred)
{
	char buf[CRED_MAX_FILE];
	struct stat sb;
	size_t len = 0;
	enum cc_err err;
	int fd;

	if (!path || !cred)
		return CC_ERR_INVAL;
	memset(cred, 0, sizeof(*cred));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? CC_ERR_NOT_AUTHORISED :
					CC_ERR_NOT_FOUND;
	/* a PSK readable by others is a leaked PSK: refuse to use it */
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & (S_IRWXG | S_IRWXO))) {
		close(fd);
		return CC_ERR_NOT_AUTHORISED;
	}
	err = read_all(fd, buf, sizeof(buf), &len);
	close(fd);
	if (!err)
		err = cred_parse(buf, cred);
	cc_wipe(buf, sizeof(buf));
	if (err)
		kmsc_cred_wipe(cred);
	return err;
}

void kmsc_cred_wipe(struct kmsc_cred *cred)
{
	if (cred)
		cc_wipe(cred, sizeof(*cred));
}
