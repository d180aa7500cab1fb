/*
 * conffile.c -- the `key value` config files of conclave-confd and
 * conclave-mediad (one reader for both).
 */
#include <conclave/base.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Cut the comment and the surrounding blanks; *key and *value point into
 * line. false for a blank line. */
static bool split_line(char *line, char **key, char **value)
{
	char *p = line, *e;

	if ((e = strchr(p, '#')))
		*e = '\0';
	e = p + strlen(p);
	while (e > p && (e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t' ||
			 e[-1] == '\r'))
		*--e = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return false;
	*key = p;
	p += strcspn(p, " \t");
	if (*p)
		*p++ = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	*value = p;
	return true;
}

int cc_conf_file(const char *prog, const char *path, bool must,
		 cc_conf_key_h *h, void *arg)
{
	char line[1024], *k, *v;
	unsigned no = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		if (!must && errno == ENOENT)
			return 0;
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		no++;
		if (!split_line(line, &k, &v))
			continue;
		if (!*v || !h(k, v, arg)) {
			fprintf(stderr, "%s: %s:%u: bad line for \"%s\"\n",
				prog, path, no, k);
			fclose(f);
			return 2;
		}
	}
	fclose(f);
	return 0;
}
