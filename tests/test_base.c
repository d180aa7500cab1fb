/*
 * test_base.c -- the bounds-checked cursors, errors, constant-time compare,
 * wipe, hex and base64 of src/base.
 */
#include "check.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void test_reader(void)
{
	static const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
	struct cc_rd rd, sub;
	struct cc_slice s;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	cc_rd_init(&rd, b, sizeof(b));
	CHECK_OK(cc_rd_u8(&rd, &u8));
	CHECK(u8 == 1);
	CHECK_OK(cc_rd_u16(&rd, &u16));
	CHECK(u16 == 0x0203);
	CHECK_OK(cc_rd_u64(&rd, &u64));
	CHECK(u64 == 0x0405060708090a0bull);
	CHECK(cc_rd_left(&rd) == 0);
	CHECK_OK(cc_rd_done(&rd));
	/* every read past the end says so and leaves the position alone */
	CHECK_ERR(cc_rd_u8(&rd, &u8), CC_ERR_TRUNCATED);
	cc_rd_init(&rd, b, 3);
	CHECK_ERR(cc_rd_u32(&rd, &u32), CC_ERR_TRUNCATED);
	CHECK(rd.pos == 0);
	CHECK_ERR(cc_rd_u64(&rd, &u64), CC_ERR_TRUNCATED);
	CHECK(rd.pos == 0);
	CHECK_ERR(cc_rd_slice(&rd, 4, &s), CC_ERR_TRUNCATED);
	CHECK_ERR(cc_rd_done(&rd), CC_ERR_TRAILING);
	/* a sub-reader sees only its bytes */
	CHECK_OK(cc_rd_sub(&rd, 2, &sub));
	CHECK(rd.pos == 2 && sub.len == 2);
	CHECK_OK(cc_rd_u16(&sub, &u16));
	CHECK_ERR(cc_rd_u8(&sub, &u8), CC_ERR_TRUNCATED);
	CHECK_ERR(cc_rd_sub(&rd, 2, &sub), CC_ERR_TRUNCATED);
	/* SIZE_MAX lengths do not wrap */
	CHECK_ERR(cc_rd_slice(&rd, (size_t)-1, &s), CC_ERR_TRUNCATED);
}

static void test_writer(void)
{
	uint8_t b[8];
	struct cc_wr wr;
	size_t off;

	cc_wr_init(&wr, b, sizeof(b));
	cc_wr_u8(&wr, 0xaa);
	off = cc_wr_skip(&wr, 2);
	cc_wr_u32(&wr, 0x01020304);
	cc_wr_put_u16_at(&wr, off, 0xbeef);
	CHECK_OK(cc_wr_status(&wr));
	CHECK_HEX(b, wr.pos, "aabeef01020304");
	cc_wr_u16(&wr, 1); /* one byte left: fails, and stays failed */
	CHECK_ERR(cc_wr_status(&wr), CC_ERR_SPACE);
	cc_wr_u8(&wr, 1);
	CHECK_ERR(cc_wr_status(&wr), CC_ERR_SPACE);
	CHECK(wr.pos == 7);
}

static void test_errors(void)
{
	int e;

	for (e = 0; e < CC_ERR__COUNT; e++)
		CHECK(strcmp(cc_strerror((enum cc_err)e), "unknown error"));
	CHECK(!strcmp(cc_strerror((enum cc_err)999), "unknown error"));
	CHECK(!strcmp(cc_strerror(CC_ERR_BAD_MAC), "bad MAC"));
}

static void test_ct_wipe(void)
{
	uint8_t a[32], b[32];
	size_t i;

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	CHECK(cc_ct_equal(a, b, sizeof(a)));
	for (i = 0; i < sizeof(a) * 8; i++) {
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		CHECK(!cc_ct_equal(a, b, sizeof(a)));
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	cc_wipe(a, sizeof(a));
	for (i = 0; i < sizeof(a); i++)
		CHECK(a[i] == 0);
}

static void test_b64(void)
{
	static const struct {
		const char *plain, *b64;
	} v[] = { /* RFC 4648 §10 */
		  { "", "" },
		  { "f", "Zg==" },
		  { "fo", "Zm8=" },
		  { "foo", "Zm9v" },
		  { "foob", "Zm9vYg==" },
		  { "fooba", "Zm9vYmE=" },
		  { "foobar", "Zm9vYmFy" }
	};
	static const char *const bad[] = { "Zg=",  "Z===", "Zm9v=Zm9",
					   "Zm9*", "=Zm9", "Zg==Zg==" };
	char out[32];
	uint8_t dec[32];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK_OK(cc_b64_encode((const uint8_t *)v[i].plain,
				       strlen(v[i].plain), out, sizeof(out)));
		CHECK(!strcmp(out, v[i].b64));
		CHECK_OK(cc_b64_decode(v[i].b64, strlen(v[i].b64), dec,
				       sizeof(dec), &n));
		CHECK(n == strlen(v[i].plain) && !memcmp(dec, v[i].plain, n));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(cc_b64_decode(bad[i], strlen(bad[i]), dec, sizeof(dec),
				    &n) != CC_OK);
	CHECK_ERR(cc_b64_decode("Zm9vYmFy", 8, dec, 5, &n), CC_ERR_SPACE);
	CHECK_ERR(cc_b64_encode((const uint8_t *)"foo", 3, out, 4),
		  CC_ERR_SPACE);
}

static void test_hex(void)
{
	uint8_t b[4];
	size_t n;

	CHECK_OK(cc_hex_decode("de:ad BE ef", b, sizeof(b), &n));
	CHECK(n == 4 && b[0] == 0xde && b[3] == 0xef);
	CHECK_ERR(cc_hex_decode("abc", b, sizeof(b), &n), CC_ERR_MALFORMED);
	CHECK_ERR(cc_hex_decode("zz", b, sizeof(b), &n), CC_ERR_MALFORMED);
	CHECK_ERR(cc_hex_decode("0011223344", b, sizeof(b), &n), CC_ERR_SPACE);
}

struct seen {
	int n;
	char last[32];
};

static bool conf_key(const char *k, const char *v, void *arg)
{
	struct seen *s = arg;

	if (!strcmp(k, "bad"))
		return false;
	s->n++;
	snprintf(s->last, sizeof(s->last), "%s=%s", k, v);
	return true;
}

/* cc_conf_file: comments, blanks, a missing value or a refused key is
 * exit status 2 with nothing after it applied; a missing file only if
 * must. */
static void test_conf_file(void)
{
	char path[] = "/tmp/conclave-conf-XXXXXX";
	struct seen s = { 0 };
	FILE *f;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	fputs("# comment\n\n  a 1  # tail\n\tb\tx y\r\n", f);
	fclose(f);
	CHECK(cc_conf_file("t", path, true, conf_key, &s) == 0);
	CHECK(s.n == 2 && !strcmp(s.last, "b=x y"));
	f = fopen(path, "a");
	fputs("novalue\nc 3\n", f);
	fclose(f);
	s.n = 0;
	CHECK(cc_conf_file("t", path, true, conf_key, &s) == 2);
	CHECK(s.n == 2); /* c was not applied */
	f = fopen(path, "w");
	fputs("a 1\nbad 2\nc 3\n", f);
	fclose(f);
	s.n = 0;
	CHECK(cc_conf_file("t", path, true, conf_key, &s) == 2);
	CHECK(s.n == 1);
	unlink(path);
	CHECK(cc_conf_file("t", path, false, conf_key, &s) == 0);
	CHECK(cc_conf_file("t", path, true, conf_key, &s) == 2);
}

int main(void)
{
	test_conf_file();
	test_reader();
	test_writer();
	test_errors();
	test_ct_wipe();
	test_b64();
	test_hex();
	CHECK_DONE();
}
