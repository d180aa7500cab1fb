/*
 * main.c -- `conclave`: the command-line entry point.
 */
#include "cmds.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "demo", cmd_demo,
	  "run the scripted secure conference on loopback (start here)" },
	{ "mikey", cmd_mikey,
	  "decode MIKEY / MIKEY-TICKET messages, print the worked examples" },
	{ "bench", cmd_bench, "benchmarks (bench mikey)" },
	{ "kms", cmd_kms, "KMS administration: users, identities, policies" },
	{ "ua", cmd_ua,
	  "a conference participant: create, join, leave, status" },
	{ "srtp", cmd_srtp,
	  "TEST ONLY: check captured SRTP against exported keys" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: conclave <command> [options]\n\n"
		   "Conclave: secure multiparty conferencing for SIP/IMS "
		   "(3GPP TR 33.829).\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\n`conclave <command> --help` describes each command.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "conclave: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
