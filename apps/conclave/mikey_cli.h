/*
 * mikey_cli.h -- the parts of `conclave mikey` split out of cmd_mikey.c
 * (private to apps/conclave).
 */
#ifndef CONCLAVE_APP_MIKEY_CLI_H
#define CONCLAVE_APP_MIKEY_CLI_H

#include <conclave/base.h>

#include <stdbool.h>

/** `conclave mikey decode` (mikey_cmd_decode.c); argv[0] == "decode". */
int mikey_cmd_decode(int argc, char **argv);

/**
 * Read a MIKEY message (mikey_input.c). spec: NULL or "-" = stdin,
 * "@FILE" or is_file = a file, else the text itself. Text is auto-detected:
 * an `a=key-mgmt:mikey B64` / `key-mgmt:mikey B64` line anywhere, all hex
 * digits (and whitespace, ':'), base64; anything else is taken as binary.
 * *why names the problem on failure.
 */
CC_MUST_USE enum cc_err mikey_read_input(const char *spec, bool is_file,
					 uint8_t *out, size_t cap, size_t *len,
					 const char **why);

#endif
