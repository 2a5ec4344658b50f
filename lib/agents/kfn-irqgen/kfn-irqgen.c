/*
 * kfn-irqgen: the device side of the KVM-for-NFV "Device Interrupt Test".
 *
 * The device is the NIC: this program, on another node, sends one small UDP
 * frame every period to the guest's data interface, and each arrival makes
 * the guest's NIC raise an interrupt that kfn-irqrecv measures. Frames are
 * paced by absolute CLOCK_MONOTONIC deadlines (clock_nanosleep TIMER_ABSTIME),
 * so one late send does not shift the later ones; the pacing error (send
 * time - deadline) is kept in a histogram. Each frame carries its send time
 * on the chosen clock (CLOCK_REALTIME by default). At the end, three end
 * frames announce the last sequence number so the receiver can count frames
 * lost at the tail. A one-line JSON summary goes to stdout.
 *
 * Build: gcc -Wall -Wextra -Werror -O2 -o kfn-irqgen kfn-irqgen.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "kfn-irqgen"
#define VERSION "1.0.0"

#include "../common/kfn-common.h"

#define MAX_SKIPS 1024
#define END_FRAME_COPIES 3

struct opts {
	const char *dest, *iface;
	uint64_t port, period_ns, duration_ns, count, stream_id;
	int clock, end_frames, nskips;
	uint64_t skips[MAX_SKIPS];
	struct rt_setup rt;
};

static struct hist g_pacing;

static void usage(FILE *f)
{
	fputs("usage: " PROG " --dest IP --port N [options]\n"
	      "  --dest IP               receiver address (IPv4 or IPv6)\n"
	      "  --port N                receiver UDP port\n"
	      "  --period-us N           one frame every N us (default 1000)\n"
	      "  --period-ns N           one frame every N ns (at least 1000)\n"
	      "  --duration S            stop after S seconds of deadlines (decimals allowed)\n"
	      "  --count N               stop after N sequence numbers (withheld ones included)\n"
	      "  --stream-id N           stream id in every frame (default 1)\n"
	      "  --clock C               realtime | monotonic: clock of the send time (default realtime)\n"
	      "  --iface IFACE           send through IFACE (SO_BINDTODEVICE)\n"
	      "  --skip-seq N[,N...]     withhold these seqs (repeatable): the missed-interrupt self-check\n"
	      "  --no-end-frames         do not announce the last seq at the end\n"
	      "  --cpu N                 pin to CPU N\n"
	      "  --priority N            SCHED_FIFO priority 1..99\n"
	      "  --help, --version\n"
	      "Without --duration or --count it runs until SIGINT or SIGTERM. Prints '" PROG ": ready'\n"
	      "on stderr before the first frame and one JSON line on stdout at the end.\n", f);
}

static void bad_usage(const char *what, const char *value)
{
	fprintf(stderr, PROG ": %s%s%s\n", what, value ? ": " : "", value ? value : "");
	usage(stderr);
	exit(2);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void add_skips(struct opts *o, const char *list)
{
	char tmp[4096];
	if (strlen(list) >= sizeof tmp)
		bad_usage("--skip-seq list too long", NULL);
	strcpy(tmp, list);
	char *save = NULL;
	for (char *tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->nskips >= MAX_SKIPS)
			bad_usage("--skip-seq takes at most 1024 seqs", NULL);
		if (parse_u64(tok, 1, INT64_MAX, &o->skips[o->nskips]))
			bad_usage("--skip-seq expects seqs >= 1, got", tok);
		o->nskips++;
	}
	if (list[0] == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,"))
		bad_usage("--skip-seq expects a comma-separated list, got", list);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int port_given = 0, period_given = 0;
	uint64_t v;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(a, "--version")) {
			printf(PROG " " VERSION "\n");
			exit(0);
		}
		if (!strcmp(a, "--no-end-frames")) {
			o->end_frames = 0;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			bad_usage("unexpected argument", a);
		if (i + 1 >= argc)
			bad_usage("option needs a value", a);
		const char *val = argv[++i];
		if (!strcmp(a, "--dest")) {
			o->dest = val;
		} else if (!strcmp(a, "--port")) {
			if (parse_u64(val, 1, 65535, &o->port))
				bad_usage("--port expects 1..65535, got", val);
			port_given = 1;
		} else if (!strcmp(a, "--period-us") || !strcmp(a, "--period-ns")) {
			int us = a[9] == 'u';
			if (period_given++)
				bad_usage("give the period once", a);
			if (parse_u64(val, us ? 1 : 1000, us ? 10000000 : 10000000000ULL, &v))
				bad_usage(us ? "--period-us expects 1..10000000, got"
					     : "--period-ns expects 1000..10000000000, got", val);
			o->period_ns = us ? v * 1000 : v;
		} else if (!strcmp(a, "--duration")) {
			if (parse_seconds(val, &o->duration_ns))
				bad_usage("--duration expects seconds in (0, 86400], got", val);
		} else if (!strcmp(a, "--count")) {
			if (parse_u64(val, 1, INT64_MAX, &o->count))
				bad_usage("--count expects a positive integer, got", val);
		} else if (!strcmp(a, "--stream-id")) {
			if (parse_u64(val, 0, UINT32_MAX, &o->stream_id))
				bad_usage("--stream-id expects 0..4294967295, got", val);
		} else if (!strcmp(a, "--clock")) {
			if (!strcmp(val, "realtime"))
				o->clock = KFN_CLOCK_REALTIME;
			else if (!strcmp(val, "monotonic"))
				o->clock = KFN_CLOCK_MONOTONIC;
			else
				bad_usage("--clock expects realtime or monotonic, got", val);
		} else if (!strcmp(a, "--iface")) {
			if (!*val || strlen(val) >= IFNAMSIZ)
				bad_usage("--iface expects an interface name, got", val);
			o->iface = val;
		} else if (!strcmp(a, "--skip-seq")) {
			add_skips(o, val);
		} else if (!strcmp(a, "--cpu")) {
			if (parse_u64(val, 0, CPU_SETSIZE - 1, &v))
				bad_usage("--cpu expects a CPU number, got", val);
			o->rt.cpu = (int)v;
		} else if (!strcmp(a, "--priority")) {
			if (parse_u64(val, 1, 99, &v))
				bad_usage("--priority expects 1..99, got", val);
			o->rt.priority = (int)v;
		} else {
			bad_usage("unknown option", a);
		}
	}
	if (!o->dest)
		bad_usage("--dest is required", NULL);
	if (!port_given)
		bad_usage("--port is required", NULL);
	if (o->count > (uint64_t)INT64_MAX / 2 / o->period_ns)
		bad_usage("--count times the period exceeds the clock's range", NULL);
	qsort(o->skips, (size_t)o->nskips, sizeof o->skips[0], cmp_u64);
}

static int open_socket(const struct opts *o, struct sockaddr_storage *dst, socklen_t *dstlen)
{
	struct addrinfo hints, *ai;
	char port[8];
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_DGRAM;
	snprintf(port, sizeof port, "%" PRIu64, o->port);
	int rc = getaddrinfo(o->dest, port, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, PROG ": --dest expects a numeric IP address, got %s: %s\n", o->dest,
			gai_strerror(rc));
		usage(stderr);
		exit(2);
	}
	memcpy(dst, ai->ai_addr, ai->ai_addrlen);
	*dstlen = ai->ai_addrlen;
	int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	freeaddrinfo(ai);
	if (fd < 0) {
		fprintf(stderr, PROG ": socket: %s\n", strerror(errno));
		exit(1);
	}
	if (o->iface && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->iface,
				   (socklen_t)strlen(o->iface) + 1) != 0) {
		fprintf(stderr, PROG ": cannot bind to device %s: %s\n", o->iface, strerror(errno));
		exit(1);
	}
	return fd;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void fill_frame(uint8_t *b, const struct opts *o, int kind, uint64_t seq, int64_t sent)
{
	memset(b, 0, KFN_FRAME_LEN);
	put_be(b, KFN_MAGIC, 4);
	b[4] = KFN_WIRE_VERSION;
	b[5] = (uint8_t)kind;
	b[6] = (uint8_t)o->clock;
	put_be(b + 8, o->stream_id, 4);
	put_be(b + 16, seq, 8);
	put_be(b + 24, (uint64_t)sent, 8);
	put_be(b + 32, o->period_ns, 8);
}

static struct timespec to_ts(int64_t ns)
{
	struct timespec t = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };
	return t;
}

/* Sleeps until the absolute deadline; returns nonzero when a signal asks to stop. */
static int sleep_until(int64_t deadline)
{
	struct timespec t = to_ts(deadline);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		if (g_stop)
			return 1;
	return g_stop != 0;
}

int main(int argc, char **argv)
{
	static struct opts o = { .period_ns = 1000000, .stream_id = 1, .clock = KFN_CLOCK_REALTIME,
				 .end_frames = 1, .rt = { .cpu = -1 } };
	char err[256], last_error[128] = "";
	parse_args(argc, argv, &o);
	struct sockaddr_storage dst;
	socklen_t dstlen;
	int fd = open_socket(&o, &dst, &dstlen);
	if (apply_rt(&o.rt, err, sizeof err) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	install_signals();
	clockid_t wire_clock = o.clock == KFN_CLOCK_MONOTONIC ? CLOCK_MONOTONIC : CLOCK_REALTIME;
	uint8_t frame[KFN_FRAME_LEN];
	uint64_t sent = 0, skipped = 0, send_errors = 0, overruns = 0, seq = 0;
	int skip_i = 0;
	const char *stopped_by = NULL;
	fprintf(stderr, PROG ": ready\n");

	int64_t start_real = now_ns(CLOCK_REALTIME);
	int64_t first = now_ns(CLOCK_MONOTONIC) + 1000000; /* first deadline 1 ms ahead */
	for (uint64_t k = 0;; k++) {
		int64_t deadline = first + (int64_t)(k * o.period_ns);
		if (o.count && k >= o.count) {
			stopped_by = "count";
			break;
		}
		if (o.duration_ns && k * o.period_ns >= o.duration_ns) {
			stopped_by = "duration";
			break;
		}
		if (sleep_until(deadline)) {
			stopped_by = signal_name(g_stop);
			break;
		}
		int64_t woke = now_ns(CLOCK_MONOTONIC);
		seq = k + 1;
		while (skip_i < o.nskips && o.skips[skip_i] < seq)
			skip_i++;
		if (skip_i < o.nskips && o.skips[skip_i] == seq) {
			skipped++;
			continue;
		}
		fill_frame(frame, &o, KFN_KIND_DATA, seq, now_ns(wire_clock));
		if (sendto(fd, frame, sizeof frame, 0, (struct sockaddr *)&dst, dstlen) != (ssize_t)sizeof frame) {
			send_errors++;
			snprintf(last_error, sizeof last_error, "%s", strerror(errno));
			continue;
		}
		sent++;
		hist_add(&g_pacing, woke - deadline);
		if (woke - deadline > (int64_t)o.period_ns)
			overruns++;
	}
	uint64_t end_sent = 0;
	for (int i = 0; o.end_frames && i < END_FRAME_COPIES; i++) {
		if (i) {
			struct timespec gap = { .tv_sec = 0, .tv_nsec = 1000000 };
			nanosleep(&gap, NULL);
		}
		fill_frame(frame, &o, KFN_KIND_END, seq, now_ns(wire_clock));
		if (sendto(fd, frame, sizeof frame, 0, (struct sockaddr *)&dst, dstlen) == (ssize_t)sizeof frame)
			end_sent++;
	}
	int64_t end_real = now_ns(CLOCK_REALTIME);
	close(fd);

	FILE *f = stdout;
	fprintf(f, "{\"tool\":\"" PROG "\",\"version\":\"" VERSION "\",\"format\":1,\"dest\":");
	json_str(f, o.dest);
	fprintf(f, ",\"port\":%" PRIu64 ",\"iface\":", o.port);
	json_str(f, o.iface);
	fprintf(f, ",\"stream_id\":%" PRIu64 ",\"clock\":\"%s\",\"pacing_clock\":\"CLOCK_MONOTONIC\""
		",\"period_ns\":%" PRIu64 ",\"stopped_by\":\"%s\",\"start_realtime_ns\":%" PRId64
		",\"end_realtime_ns\":%" PRId64 ",", o.stream_id, clock_name(o.clock), o.period_ns,
		stopped_by, start_real, end_real);
	rt_json(f, &o.rt);
	fprintf(f, ",\"last_seq\":%" PRIu64 ",\"frames_sent\":%" PRIu64 ",\"frames_skipped\":%" PRIu64
		",\"send_errors\":%" PRIu64 ",\"last_send_error\":", seq, sent, skipped, send_errors);
	json_str(f, send_errors ? last_error : NULL);
	fprintf(f, ",\"end_frames_sent\":%" PRIu64 ",\"overruns\":%" PRIu64 ",\"histogram_layout\":",
		end_sent, overruns);
	hist_layout_json(f);
	fputs(",\"pacing_error_ns\":", f);
	hist_json(f, &g_pacing);
	fputs("}\n", f);
	fflush(f);
	return 0;
}
