/*
 * cmds.h -- the conclave CLI is a table of subcommands, one file each
 * (STYLE.md habit 13). Each returns a process exit status.
 */
#ifndef CONCLAVE_APP_CMDS_H
#define CONCLAVE_APP_CMDS_H

int cmd_mikey(int argc, char **argv); /* cmd_mikey.c: decode, vectors */
int cmd_bench(int argc, char **argv); /* cmd_bench.c: bench mikey */
int cmd_kms(int argc, char **argv);
int cmd_ua(int argc, char **argv);   /* cmd_ua.c: a participant */
int cmd_srtp(int argc, char **argv); /* cmd_srtp.c: srtp check (tests) */
/* cmd_demo.c: the README demo */
int cmd_demo(int argc, char **argv);

#endif
