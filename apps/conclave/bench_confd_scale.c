/*
 * bench_confd_scale.c -- `conclave bench confd --scale` (issue 7 §5):
 * joins/s and rekey times with one focus node, then two behind Kamailio,
 * in one run. Three phases, each on fresh daemons (kmsd and its store
 * stay):
 *
 *   1. 1 confd node (`node n1`), the joiners send to it directly;
 *   2. the same node behind Kamailio (etc/kamailio-dispatch.cfg, a
 *      dispatcher list of one node);
 *   3. 2 nodes (`node n1`, `node n2`) behind Kamailio: the conferences
 *      are created through Kamailio (factory URI, round-robin over the
 *      nodes), each stays on its node (the focus URI's tag), and the
 *      joins of every conference run at once, --conc in flight in all,
 *      taken from the conferences in turn.
 *
 * Each phase creates --confs conferences, requests the joiners' tickets
 * (not timed), joins --scale-members joiners into each (timed), then one
 * member of each conference leaves: a rekey of --scale-members members,
 * timed here (BYE sent -> last 200 OK) and in its node's log (BYE ->
 * SWITCH_MKI). The machine's CPU use (/proc/stat) during the joins is
 * reported: every process (the nodes, Kamailio, kmsd and this load)
 * shares the same cores.
 */
#include "bench_confd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	PHASES = 3
};

struct phase {
	const char *what;
	unsigned nodes;
	bool kam;
	unsigned on_node[3]; /* conferences on n1, n2 */
	struct bcd_join_res join;
	struct bcd_rekey_res rekey[BCD_SCALE_CONFS_MAX];
	unsigned nrekey;
	double rate, busy; /* joins/s; CPU busy share during the joins */
	double kam_cpu_s;  /* Kamailio and its workers during the joins */
	long long drops;   /* UDP RcvbufErrors during the joins */
	size_t timers;     /* in the load's libre when the phase began */
};

/* user+nice+system+irq+softirq+steal and all jiffies of /proc/stat. */
static bool cpu_jiffies(unsigned long long *busy, unsigned long long *all)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return false;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 8)
		return false;
	*busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	*all = *busy + v[3] + v[4];
	return true;
}

/* UDP RcvbufErrors of /proc/net/snmp: datagrams dropped on a full
 * receive buffer (each costs a SIP retransmission, 500 ms on). */
static long long udp_drops(void)
{
	char line[512];
	long long v[5];
	bool head = false;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Udp:", 4))
			continue;
		if (!head) {
			head = true;
			continue;
		}
		fclose(f);
		return sscanf(line + 4, "%lld %lld %lld %lld %lld", &v[0],
			      &v[1], &v[2], &v[3], &v[4]) == 5 ?
			       v[4] :
			       -1;
	}
	fclose(f);
	return -1;
}

/* CPU of Kamailio: the main process and its children (the workers). */
static double kam_cpu(pid_t kam)
{
	char path[64], buf[512];
	double sum;
	FILE *f;
	long c;

	if (!kam)
		return 0;
	sum = bcd_cpu_of(kam);
	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)kam,
		 (long)kam);
	f = fopen(path, "r");
	if (!f)
		return sum;
	if (fgets(buf, sizeof(buf), f)) {
		char *p = buf, *end;

		while ((c = strtol(p, &end, 10)) > 0 && end != p) {
			double x = bcd_cpu_of(c);

			sum += x > 0 ? x : 0;
			p = end;
		}
	}
	fclose(f);
	return sum;
}

static bool is_file(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISREG(st.st_mode);
}

/* etc/kamailio-dispatch.cfg: --dispatch-cfg, near the binary, or in the
 * current directory; absolute (Kamailio runs in the temp dir). */
static bool find_dispatch(const struct bcd_opts *o, char *out)
{
	static const char *const rel[] = { "/../etc/kamailio-dispatch.cfg",
					   "/../../etc/kamailio-dispatch.cfg" };
	char exe[PATH_MAX / 2], cand[PATH_MAX], *slash;
	ssize_t n;
	size_t i;

	if (o->dispatch_cfg)
		return is_file(o->dispatch_cfg) &&
		       realpath(o->dispatch_cfg, out);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(cand, sizeof(cand), "%s%s", exe, rel[i]);
			if (is_file(cand) && realpath(cand, out))
				return true;
		}
	}
	return is_file("etc/kamailio-dispatch.cfg") &&
	       realpath("etc/kamailio-dispatch.cfg", out);
}

static bool log_has(const struct bcd_env *e, const char *name,
		    const char *needle)
{
	static char buf[65536];
	char p[PATH_MAX + 64];
	size_t n;
	FILE *f;

	bcd_path(e, name, p, sizeof(p));
	f = fopen(p, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, needle) != NULL;
}

/* Kamailio with the shipped dispatcher config over the nodes (as
 * tests/confd_nodes.sh starts it, but the config's FR_TIMER of 2 s: the
 * test's 1 s makes a node that is slow under this load a failure, 408). */
static int start_kamailio(struct bcd_env *e, const struct bcd_opts *o,
			  unsigned nodes)
{
	char cfg[PATH_MAX], list[PATH_MAX + 32], listen[64],
		ds_list[PATH_MAX + 48], dir[PATH_MAX], kam[PATH_MAX];
	const char *argv[] = { kam,         "-f",   cfg,   "-DD",   "-E",
			       "-l",        listen, "-A",  ds_list, "-A",
			       "DS_PING=1", "-m",   "256", "-M",    "16",
			       "-w",        dir,    "-Y",  dir,     NULL };
	unsigned k, i;
	FILE *f;
	int status;

	if (access("/usr/sbin/kamailio", X_OK) == 0)
		snprintf(kam, sizeof(kam), "/usr/sbin/kamailio");
	else
		snprintf(kam, sizeof(kam), "kamailio");
	if (!find_dispatch(o, cfg)) {
		fprintf(stderr, "bench confd: etc/kamailio-dispatch.cfg not "
				"found (--dispatch-cfg)\n");
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", e->dir);
	bcd_path(e, "dispatcher.list", list, sizeof(list));
	f = fopen(list, "w");
	if (!f)
		return -1;
	fprintf(f, "# set 1: every node (new conferences); set 100+K: "
		   "node nK (its foci)\n");
	for (k = 0; k < nodes; k++)
		fprintf(f, "1 sip:127.0.0.1:%d 0 0 duid=n%u\n", e->node_port[k],
			k + 1);
	for (k = 0; k < nodes; k++)
		fprintf(f, "%u sip:127.0.0.1:%d 0 0 duid=n%u\n", 101 + k,
			e->node_port[k], k + 1);
	if (fclose(f))
		return -1;
	e->kam_port = bcd_free_port();
	snprintf(listen, sizeof(listen), "udp:127.0.0.1:%d", e->kam_port);
	snprintf(ds_list, sizeof(ds_list), "DS_LIST=\"%s\"", list);
	e->kam = bcd_spawn(e, argv, "kamailio.log");
	for (i = 0; e->kam && i < 200 && !bcd_signal; i++) {
		if (log_has(e, "kamailio.log", "Listening on"))
			break;
		if (waitpid(e->kam, &status, WNOHANG) == e->kam) {
			e->kam = 0;
			break;
		}
		usleep(50000);
	}
	if (!e->kam || i == 200) {
		fprintf(stderr, "bench confd: kamailio did not start\n");
		bcd_show_log(e, "kamailio.log");
		return -1;
	}
	usleep(500000); /* its workers, the first OPTIONS probes */
	return 0;
}

void bcd_scale_stop(struct bcd_env *e)
{
	bcd_stop_child(&e->kam, 2000);
	bcd_stop_child(&e->confd2, 300);
}

/* Fresh nodes (and Kamailio) for phase p; the joiners' target port. */
static int phase_env(struct bcd_env *e, const struct bcd_opts *o,
		     const struct phase *p)
{
	unsigned k;

	bcd_scale_stop(e);
	bcd_stop_child(&e->confd, 300);
	for (k = 0; k < p->nodes; k++) {
		e->node_port[k] = bcd_free_port();
		if (bcd_start_node(e, o, k + 1, e->node_port[k],
				   k ? &e->confd2 : &e->confd))
			return -1;
	}
	if (p->kam && start_kamailio(e, o, p->nodes))
		return -1;
	e->sip_port = p->kam ? e->kam_port : e->node_port[0];
	fprintf(stderr,
		"bench confd: --scale: %s (node ports %d %d, joiners send "
		"to %d)\n",
		p->what, e->node_port[0], p->nodes > 1 ? e->node_port[1] : 0,
		e->sip_port);
	return 0;
}

static int run_phase(struct bcd_load *l, struct bcd_env *e,
		     const struct bcd_opts *o, struct bcd_hist *h,
		     struct phase *p, unsigned base)
{
	unsigned confs[BCD_SCALE_CONFS_MAX], k;
	unsigned long long b0 = 0, a0 = 0, b1 = 0, a1 = 0;
	double kc0;

	if (phase_env(e, o, p))
		return -1;
	for (k = 0; k < o->scale_confs; k++) {
		confs[k] = base + k;
		if (bcd_create(l, base + k, false))
			return -1;
		p->on_node[strstr(bcd_focus(l, base + k), "-n2.") ? 1 : 0]++;
	}
	for (k = 0; k < o->scale_confs; k++) {
		fprintf(stderr, "bench confd: %u tickets for %s (not timed)\n",
			o->scale_members, bcd_focus(l, base + k));
		if (bcd_prepare(l, base + k, o->scale_members, false))
			return -1;
	}
	bcd_hist_free(h);
	if (!bcd_hist_init(h))
		return -1;
	fprintf(stderr,
		"bench confd: %u joins into %u conference(s), %u in "
		"flight\n",
		o->scale_confs * o->scale_members, o->scale_confs, o->conc);
	kc0 = kam_cpu(e->kam);
	p->drops = udp_drops();
	if (!cpu_jiffies(&b0, &a0))
		b0 = a0 = 0;
	if (bcd_join_multi(l, confs, o->scale_confs, h, &p->join))
		return -1;
	if (cpu_jiffies(&b1, &a1) && a1 > a0)
		p->busy = (double)(b1 - b0) / (double)(a1 - a0);
	p->kam_cpu_s = kam_cpu(e->kam) - kc0;
	if (p->drops >= 0 && udp_drops() >= 0)
		p->drops = udp_drops() - p->drops;
	p->join.conc = o->conc;
	p->join.p50_ms = bcd_hist_q(h, 0.5);
	p->join.p99_ms = bcd_hist_q(h, 0.99);
	p->join.max_ms = h->max_us / 1000.0;
	p->rate = p->join.wall_s > 0 ? (double)p->join.ok / p->join.wall_s : 0;
	fprintf(stderr, "bench confd: %s: %.0f joins/s\n", p->what, p->rate);
	for (k = 0; k < o->scale_confs && !bcd_signal; k++) {
		if (bcd_rekey(l, base + k, &p->rekey[k]))
			return -1;
		p->nrekey++;
	}
	return bcd_signal ? -1 : 0;
}

static void report(FILE *f, const struct bcd_opts *o, const struct phase *ph,
		   double total_s)
{
	double la[3] = { -1, -1, -1 };
	double e2 = ph[1].rate > 0 ? ph[2].rate / (2 * ph[1].rate) : 0;
	double ed = ph[0].rate > 0 ? ph[2].rate / (2 * ph[0].rate) : 0;
	unsigned i, k;

	if (getloadavg(la, 3) < 0)
		la[0] = la[1] = la[2] = -1;
	if (o->json) {
		fprintf(f, "{\"scale\":[");
		for (i = 0; i < PHASES; i++) {
			fprintf(f,
				"%s{\"phase\":\"%s\",\"nodes\":%u,"
				"\"kamailio\":%s,\"confs_n1\":%u,"
				"\"confs_n2\":%u,\"joins_ok\":%llu,"
				"\"joins_failed\":%llu,\"joins_per_s\":%.1f,"
				"\"p50_ms\":%.2f,\"p99_ms\":%.2f,"
				"\"cpu_busy\":%.3f,\"confd_cpu_s\":%.2f,"
				"\"kmsd_cpu_s\":%.2f,\"kamailio_cpu_s\":%.2f,"
				"\"load_cpu_s\":%.2f,\"udp_drops\":%lld,"
				"\"rekey\":[",
				i ? "," : "", ph[i].what, ph[i].nodes,
				ph[i].kam ? "true" : "false", ph[i].on_node[0],
				ph[i].on_node[1],
				(unsigned long long)ph[i].join.ok,
				(unsigned long long)ph[i].join.fail, ph[i].rate,
				ph[i].join.p50_ms, ph[i].join.p99_ms,
				ph[i].busy, ph[i].join.confd_cpu_s,
				ph[i].join.kmsd_cpu_s, ph[i].kam_cpu_s,
				ph[i].join.load_cpu_s, ph[i].drops);
			for (k = 0; k < ph[i].nrekey; k++)
				fprintf(f,
					"%s{\"members\":%u,\"done\":%s,"
					"\"load_ms\":%.1f,\"confd_ms\":%.1f}",
					k ? "," : "", ph[i].rekey[k].members,
					ph[i].rekey[k].done ? "true" : "false",
					ph[i].rekey[k].load_ms,
					ph[i].rekey[k].confd_ms);
			fprintf(f, "]}");
		}
		fprintf(f,
			"],\"confs\":%u,\"members\":%u,\"conc\":%u,"
			"\"efficiency\":%.3f,\"efficiency_vs_direct\":%.3f,"
			"\"cpus\":%ld,\"loadavg\":[%.2f,%.2f,%.2f],"
			"\"total_s\":%.1f}\n",
			o->scale_confs, o->scale_members, o->conc, e2, ed,
			sysconf(_SC_NPROCESSORS_ONLN), la[0], la[1], la[2],
			total_s);
		return;
	}
	fprintf(f,
		"confd nodes (issue 7 §5): %u conferences x %u joiners per "
		"phase, %u joins in flight, %ld CPU(s)\n",
		o->scale_confs, o->scale_members, o->conc,
		sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(f, "  %-22s %8s %8s %8s %6s %9s %9s  %s\n", "phase", "joins/s",
		"p50 ms", "p99 ms", "fail", "confs n1/n2", "cpu busy",
		"udp drops  cpu s: confd kmsd kamailio load  load timers");
	for (i = 0; i < PHASES; i++)
		fprintf(f,
			"  %-22s %8.0f %8.2f %8.2f %6llu %6u/%-4u %8.0f%%  "
			"%9lld  %.1f %.1f %.1f %.1f  %zu\n",
			ph[i].what, ph[i].rate, ph[i].join.p50_ms,
			ph[i].join.p99_ms, (unsigned long long)ph[i].join.fail,
			ph[i].on_node[0], ph[i].on_node[1], ph[i].busy * 100,
			ph[i].drops, ph[i].join.confd_cpu_s,
			ph[i].join.kmsd_cpu_s, ph[i].kam_cpu_s,
			ph[i].join.load_cpu_s, ph[i].timers);
	fprintf(f,
		"  rekey of %u members, ms (BYE sent -> last 200 OK sent "
		"/ node log BYE -> SWITCH_MKI), per conference:\n",
		o->scale_members);
	for (i = 0; i < PHASES; i++) {
		fprintf(f, "  %-22s", ph[i].what);
		for (k = 0; k < ph[i].nrekey; k++)
			fprintf(f, " %s%.0f/%.0f",
				ph[i].rekey[k].done ? "" : "!",
				ph[i].rekey[k].load_ms,
				ph[i].rekey[k].confd_ms);
		fprintf(f, "\n");
	}
	fprintf(f,
		"  efficiency: 2 nodes / (2 x 1 node behind Kamailio) = %.2f; "
		"against 1 node direct %.2f\n",
		e2, ed);
	fprintf(f,
		"  load average after the run: %.2f %.2f %.2f; total %.1f s\n",
		la[0], la[1], la[2], total_s);
}

int bcd_scale_run(struct bcd_load *l, struct bcd_env *e,
		  const struct bcd_opts *o, struct bcd_hist *h)
{
	static struct phase ph[PHASES];
	uint64_t t0 = bcd_mono_ns();
	unsigned i;

	memset(ph, 0, sizeof(ph));
	ph[0] = (struct phase){ .what = "1 node, direct", .nodes = 1 };
	ph[1] = (struct phase){ .what = "1 node, Kamailio",
				.nodes = 1,
				.kam = true };
	ph[2] = (struct phase){ .what = "2 nodes, Kamailio",
				.nodes = 2,
				.kam = true };
	for (i = 0; i < PHASES; i++) {
		/* the load's libre keeps one sorted timer list: the finished
		 * transactions of a phase (timers M and J, 32 s) made every
		 * timer start of the next walk past them, and the load, not
		 * the nodes, limited the later phases. Let them expire. */
		if (i && o->scale_drain) {
			fprintf(stderr,
				"bench confd: --scale: %zu timers in the load; "
				"waiting %u s for the last phase's "
				"transactions "
				"to end\n",
				bcd_timers(), o->scale_drain);
			if (bcd_idle(l, o->scale_drain * 1000))
				return 1;
		}
		ph[i].timers = bcd_timers();
		if (run_phase(l, e, o, h, &ph[i], i * o->scale_confs))
			return 1;
	}
	report(stdout, o, ph, (double)(bcd_mono_ns() - t0) / 1e9);
	return fflush(stdout) ? 1 : 0;
}
