/*
 * masterkey.c -- the master key file (kms_store.h): 64 hex digits
 * (whitespace ignored) or exactly 32 raw bytes, in a regular file that
 * neither group nor others may read or write. The mode is checked on the
 * opened descriptor (fstat), so the file checked is the file read.
 */
#include "store_sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string.h>

enum {
	KEYFILE_MAX = 256
};

static enum cc_err errno_err(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return CC_ERR_NOT_FOUND;
	case EACCES:
	case EPERM:
	case ELOOP: /* O_NOFOLLOW: a symlink is not accepted */
		return CC_ERR_NOT_AUTHORISED;
	case EEXIST:
		return CC_ERR_INVAL;
	case ENOMEM:
		return CC_ERR_NOMEM;
	default:
		return CC_ERR_STORE;
	}
}

/* 64 hex digits with any whitespace around or between them. */
static enum cc_err parse_hex(const uint8_t *buf, size_t len,
			     uint8_t key[KMS_MASTER_KEY_LEN])
{
	char text[4 * KMS_MASTER_KEY_LEN + 1];
	size_t n = 0;
	enum cc_err err;

	if (len >= sizeof(text))
		return CC_ERR_MALFORMED;
	memcpy(text, buf, len);
	text[len] = '\0';
	err = cc_hex_decode(text, key, KMS_MASTER_KEY_LEN, &n);
	cc_wipe(text, sizeof(text));
	if (err || n != KMS_MASTER_KEY_LEN)
		return CC_ERR_MALFORMED;
	return CC_OK;
}

static enum cc_err read_all(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	ssize_t r;

	*len = 0;
	for (;;) {
		if (*len == cap)
			return CC_ERR_MALFORMED; /* far longer than any key */
		r = read(fd, buf + *len, cap - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno_err(errno);
		if (r == 0)
			return CC_OK;
		*len += (size_t)r;
	}
}

enum cc_err kms_master_key_load(const char *path,
				uint8_t key[KMS_MASTER_KEY_LEN])
{
	uint8_t buf[KEYFILE_MAX];
	enum cc_err err;
	struct stat st;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno_err(errno);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		err = CC_ERR_NOT_AUTHORISED;
		goto out;
	}
	err = read_all(fd, buf, sizeof(buf), &len);
	if (err)
		goto out;
	err = parse_hex(buf, len, key);
	if (err && len == KMS_MASTER_KEY_LEN) {
		memcpy(key, buf, KMS_MASTER_KEY_LEN);
		err = CC_OK;
	}
	if (err)
		cc_wipe(key, KMS_MASTER_KEY_LEN);
out:
	cc_wipe(buf, sizeof(buf));
	close(fd);
	return err;
}

static enum cc_err write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return errno_err(errno);
		p += w;
		n -= (size_t)w;
	}
	return CC_OK;
}

enum cc_err kms_master_key_create(const char *path)
{
	uint8_t key[KMS_MASTER_KEY_LEN];
	char hex[2 * KMS_MASTER_KEY_LEN + 2];
	enum cc_err err;
	int fd;

	err = kdb_random(key, sizeof(key));
	if (err)
		return err;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		err = errno_err(errno);
		goto out;
	}
	cc_hex_encode(key, sizeof(key), hex);
	hex[2 * KMS_MASTER_KEY_LEN] = '\n';
	hex[2 * KMS_MASTER_KEY_LEN + 1] = '\0';
	/* 0600 whatever the umask left, before a secret byte is written. */
	if (fchmod(fd, 0600))
		err = errno_err(errno);
	if (!err)
		err = write_all(fd, hex, 2 * KMS_MASTER_KEY_LEN + 1);
	if (!err && fsync(fd))
		err = errno_err(errno);
	if (close(fd) && !err)
		err = errno_err(errno);
	if (err && unlink(path)) {
		/* nothing more to do: the error already says what failed */
	}
out:
	cc_wipe(key, sizeof(key));
	cc_wipe(hex, sizeof(hex));
	return err;
}
