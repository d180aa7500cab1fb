/*
 * demo.h -- `conclave demo` (issue 5 §3): the scripted conference on
 * loopback. cmd_demo.c runs the script, demo_proc.c owns the child
 * processes and the temp dir, demo_report.c reads the participants'
 * --report JSON and computes the verdict.
 */
#ifndef CONCLAVE_APP_DEMO_H
#define CONCLAVE_APP_DEMO_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DEMO_REALM "example.org"
#define DEMO_FACTORY "sip:factory.conf1@" DEMO_REALM
#define DEMO_MAX_MKI 32
#define DEMO_MAX_SRC 8

enum demo_member {
	DM_ALICE,
	DM_BOB,
	DM_CAROL,
	DM_DAVE,
	DM_MALLORY,
	DM_N
};
#define DEMO_MEMBERS 4 /* alice..dave: the conference; mallory is refused */

/* One participant: a `conclave ua` child and what its output showed. */
struct demo_ua {
	const char *name;
	int tone;
	pid_t pid;
	int in_fd; /* its stdin (a pipe): "leave", "status" */
	bool started, exited;
	int status; /* waitpid status once exited */
	char out[PATH_MAX], report[PATH_MAX], rec[PATH_MAX];
	size_t out_off;        /* how much of out the pump has read */
	double t_start;        /* demo clock when spawned */
	uint32_t last_install; /* newest "install mki" seen */
	uint32_t join_mki;     /* newest MKI held when "joined" */
	bool joined, refused, left, hung_up; /* hung_up: BYE from the focus */
	int sip_status;                      /* final status of the INVITE */
	double bye_ms;                       /* its own clock: "bye 200" */
	uint32_t mkis[DEMO_MAX_MKI];         /* installed, in order */
	size_t n_mkis;
};

struct demo {
	bool keep, verbose;
	double step_s;
	char self[PATH_MAX], kmsd[PATH_MAX], confd[PATH_MAX];
	char dir[128];        /* /tmp/conclave-demo.XXXXXX */
	char export_dir[128]; /* TEST ONLY --export-keys DIR; "" = off */
	double t0;
	pid_t kmsd_pid, confd_pid;
	unsigned kport, sport;
	char focus[256];
	struct demo_ua ua[DM_N];
	uint32_t max_mki;              /* newest epoch any member installed */
	uint32_t e_dave_old, e_dave;   /* around Dave's join rekey */
	uint32_t e_leave_old, e_leave; /* around Carol's leave rekey */
};

/* demo_proc.c */
extern volatile int demo_interrupted;
double demo_now(void);
void demo_log(const struct demo *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void demo_signals(void);
pid_t demo_spawn(char *const argv[], const char *out, int *in_fd);
int demo_run(char *const argv[], const char *out);
int demo_free_port(unsigned *port);
bool demo_tcp_ready(unsigned port);
char *demo_slurp(const char *path, size_t *lenp);
bool demo_file_has(const char *path, const char *needle);
bool demo_sleep(struct demo *d, double s);
bool demo_wait(struct demo *d, double timeout_s,
	       bool (*cond)(struct demo *d, void *arg), void *arg);
void demo_pump(struct demo *d);
int demo_ua_send(struct demo_ua *u, const char *line);
void demo_reap(struct demo *d);
void demo_stop_confd(struct demo *d);
void demo_cleanup(struct demo *d);

/* demo_report.c */
int demo_verdict(struct demo *d);

static inline uint32_t demo_epoch(uint32_t mki)
{
	return mki & 0x7fffffffu;
}

#endif
