/*
 * kfn-irqrecv: the receiving half of the KVM-for-NFV "Device Interrupt Test".
 *
 * Runs in the guest (the VNF). Every frame that kfn-irqgen sends makes the
 * guest's NIC raise an interrupt; the blocking recvmsg() returning is the
 * "handler" in user space. Right after it returns the clock is read, and two
 * figures are kept per frame in log-linear histograms:
 *   wire-to-handler    = handler time - send time in the payload
 *                        (only when both ends share a clock domain)
 *   receive-to-handler = handler time - SO_TIMESTAMPING receive timestamp
 *                        (software: taken in the network stack, after the
 *                        interrupt; hardware: taken by the NIC)
 * Nothing is printed during the measurement. A one-line JSON summary goes to
 * stdout on SIGINT, SIGTERM, the end of --duration or after an end frame
 * (--exit-on-end).
 *
 * Build: gcc -Wall -Wextra -Werror -O2 -o kfn-irqrecv kfn-irqrecv.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>

#define PROG "kfn-irqrecv"
#define VERSION "1.0.0"

#include "../common/kfn-common.h"

static int parse_i64(const char *s, int64_t *out)
{
	if (!s || !*s)
		return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

#define SEQ_WINDOW (1u << 20) /* frames a late one may trail the highest seq by */
#define EXIT_ON_END_LINGER_NS 100000000LL

enum domain { DOM_SAME_HOST, DOM_PTP, DOM_UNSYNC };
static const char *const domain_names[] = { "same-host", "ptp", "unsynchronised" };

struct opts {
	const char *bind_addr, *hw_iface;
	uint64_t port, stream_id, duration_ns, expect, late_ns;
	int64_t clock_offset_ns;
	int offset_given, late_given, exit_on_end;
	enum domain domain;
	struct rt_setup rt;
};

struct stats {
	struct hist wire, rx;
	uint64_t received, unique, duplicate, out_of_order, too_old, late, stray, end_frames;
	uint64_t rx_ts_missing, wire_skipped_monotonic, first_seq, highest_seq, announced_last;
	uint64_t frame_period_ns; /* period carried by the first measured frame */
	int wire_clock; /* -1 none yet, 0/1 clock id, 2 mixed */
};

static struct stats g_st;
static uint8_t g_seen[SEQ_WINDOW / 8];

static void usage(FILE *f)
{
	fputs("usage: " PROG " --port N [options]\n"
	      "  --port N                 UDP port to listen on (0: any free port, printed on the ready line)\n"
	      "  --bind ADDR              local address (default 0.0.0.0; IPv6 allowed)\n"
	      "  --stream-id N            accept only this stream (default 1); others count as stray\n"
	      "  --clock-domain D         same-host | ptp | unsynchronised (default same-host)\n"
	      "  --clock-offset-ns N      receiver clock minus sender clock, subtracted from wire-to-handler\n"
	      "  --late-ns N              wire-to-handler above N counts as late (default: the frames' period)\n"
	      "  --expect N               the generator sends seqs 1..N (its --count): finds misses at the end\n"
	      "  --duration S             stop after S seconds (decimals allowed)\n"
	      "  --exit-on-end            stop 100 ms after the generator's end frame\n"
	      "  --cpu N                  pin to CPU N\n"
	      "  --priority N             SCHED_FIFO priority 1..99\n"
	      "  --hw-timestamps IFACE    try NIC receive timestamps on IFACE, else fall back to software\n"
	      "  --help, --version\n"
	      "Prints '" PROG ": ready <addr>:<port>' on stderr once bound, and one JSON line on stdout\n"
	      "at SIGINT, SIGTERM, the end of --duration or after the end frame.\n", f);
}

static void bad_usage(const char *what, const char *value)
{
	fprintf(stderr, PROG ": %s%s%s\n", what, value ? ": " : "", value ? value : "");
	usage(stderr);
	exit(2);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int port_given = 0;
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
		if (!strcmp(a, "--exit-on-end")) {
			o->exit_on_end = 1;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			bad_usage("unexpected argument", a);
		if (i + 1 >= argc)
			bad_usage("option needs a value", a);
		const char *val = argv[++i];
		if (!strcmp(a, "--port")) {
			if (parse_u64(val, 0, 65535, &o->port))
				bad_usage("--port expects 0..65535, got", val);
			port_given = 1;
		} else if (!strcmp(a, "--bind")) {
			o->bind_addr = val;
		} else if (!strcmp(a, "--stream-id")) {
			if (parse_u64(val, 0, UINT32_MAX, &o->stream_id))
				bad_usage("--stream-id expects 0..4294967295, got", val);
		} else if (!strcmp(a, "--clock-domain")) {
			int d = -1;
			for (int k = 0; k < 3; k++)
				if (!strcmp(val, domain_names[k]))
					d = k;
			if (d < 0)
				bad_usage("--clock-domain expects same-host, ptp or unsynchronised, got", val);
			o->domain = (enum domain)d;
		} else if (!strcmp(a, "--clock-offset-ns")) {
			if (parse_i64(val, &o->clock_offset_ns))
				bad_usage("--clock-offset-ns expects an integer, got", val);
			o->offset_given = 1;
		} else if (!strcmp(a, "--late-ns")) {
			if (parse_u64(val, 1, INT64_MAX, &o->late_ns))
				bad_usage("--late-ns expects a positive integer, got", val);
			o->late_given = 1;
		} else if (!strcmp(a, "--expect")) {
			if (parse_u64(val, 1, INT64_MAX, &o->expect))
				bad_usage("--expect expects a positive integer, got", val);
		} else if (!strcmp(a, "--duration")) {
			if (parse_seconds(val, &o->duration_ns))
				bad_usage("--duration expects seconds in (0, 86400], got", val);
		} else if (!strcmp(a, "--cpu")) {
			if (parse_u64(val, 0, CPU_SETSIZE - 1, &v))
				bad_usage("--cpu expects a CPU number, got", val);
			o->rt.cpu = (int)v;
		} else if (!strcmp(a, "--priority")) {
			if (parse_u64(val, 1, 99, &v))
				bad_usage("--priority expects 1..99, got", val);
			o->rt.priority = (int)v;
		} else if (!strcmp(a, "--hw-timestamps")) {
			if (!*val || strlen(val) >= IFNAMSIZ)
				bad_usage("--hw-timestamps expects an interface name, got", val);
			o->hw_iface = val;
		} else {
			bad_usage("unknown option", a);
		}
	}
	if (!port_given)
		bad_usage("--port is required", NULL);
	if (o->domain == DOM_UNSYNC && o->offset_given)
		bad_usage("--clock-offset-ns makes no sense with --clock-domain unsynchronised", NULL);
}

/* NIC timestamping state, restored at exit so the pod is left as found. */
static int g_hw_fd = -1, g_hw_changed;
static struct ifreq g_hw_ifr;
static struct hwtstamp_config g_hw_saved;

static void restore_hw(void)
{
	if (!g_hw_changed)
		return;
	g_hw_ifr.ifr_data = (char *)&g_hw_saved;
	if (ioctl(g_hw_fd, SIOCSHWTSTAMP, &g_hw_ifr) != 0)
		fprintf(stderr, PROG ": could not restore timestamping on %s: %s\n", g_hw_ifr.ifr_name,
			strerror(errno));
	g_hw_changed = 0;
}

/* Returns 1 when the NIC delivers receive timestamps, 0 with a reason if not. */
static int enable_hw(int fd, const char *iface, char *why, size_t whylen)
{
	struct hwtstamp_config cur, want;
	memset(&g_hw_ifr, 0, sizeof g_hw_ifr);
	snprintf(g_hw_ifr.ifr_name, sizeof g_hw_ifr.ifr_name, "%s", iface);
	memset(&cur, 0, sizeof cur);
	g_hw_ifr.ifr_data = (char *)&cur;
	if (ioctl(fd, SIOCGHWTSTAMP, &g_hw_ifr) != 0) {
		snprintf(why, whylen, "SIOCGHWTSTAMP on %s: %s (not changed, as it could not be restored)",
			 iface, strerror(errno));
		return 0;
	}
	if (cur.rx_filter != HWTSTAMP_FILTER_NONE)
		return 1; /* already on, e.g. for ptp4l: leave it alone */
	want = cur;
	want.rx_filter = HWTSTAMP_FILTER_ALL;
	g_hw_ifr.ifr_data = (char *)&want;
	if (ioctl(fd, SIOCSHWTSTAMP, &g_hw_ifr) != 0) {
		snprintf(why, whylen, "SIOCSHWTSTAMP on %s: %s", iface, strerror(errno));
		return 0;
	}
	g_hw_saved = cur;
	g_hw_fd = fd;
	g_hw_changed = 1;
	atexit(restore_hw);
	if (want.rx_filter == HWTSTAMP_FILTER_NONE) {
		restore_hw();
		snprintf(why, whylen, "%s accepted SIOCSHWTSTAMP but kept rx_filter NONE", iface);
		return 0;
	}
	return 1;
}

static int open_socket(const struct opts *o, char *bound, size_t boundlen)
{
	struct addrinfo hints, *ai;
	char port[8];
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_DGRAM;
	snprintf(port, sizeof port, "%" PRIu64, o->port);
	int rc = getaddrinfo(o->bind_addr, port, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, PROG ": bad --bind address %s: %s\n", o->bind_addr, gai_strerror(rc));
		exit(2);
	}
	int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		fprintf(stderr, PROG ": cannot bind UDP %s port %s: %s\n", o->bind_addr, port, strerror(errno));
		exit(1);
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char host[INET6_ADDRSTRLEN], serv[8];
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, serv, sizeof serv,
		    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(bound, boundlen, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 }; /* wake to check flags */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
		fprintf(stderr, PROG ": SO_RCVTIMEO: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static int seen_get(uint64_t s) { return g_seen[(s % SEQ_WINDOW) / 8] >> (s % 8) & 1; }
static void seen_set(uint64_t s) { g_seen[(s % SEQ_WINDOW) / 8] |= (uint8_t)(1u << (s % 8)); }
static void seen_clear(uint64_t s) { g_seen[(s % SEQ_WINDOW) / 8] &= (uint8_t)~(1u << (s % 8)); }

/* Returns 1 when the frame is new (to be measured), 0 for a duplicate or a
 * frame too far behind the window to tell. */
static int track_seq(struct stats *st, uint64_t s)
{
	if (st->unique == 0) {
		st->first_seq = st->highest_seq = s;
	} else if (s > st->highest_seq) {
		if (s - st->highest_seq >= SEQ_WINDOW)
			memset(g_seen, 0, sizeof g_seen);
		else
			for (uint64_t k = st->highest_seq + 1; k <= s; k++)
				seen_clear(k);
		st->highest_seq = s;
	} else if (st->highest_seq - s >= SEQ_WINDOW) {
		st->too_old++;
		return 0;
	} else if (seen_get(s)) {
		st->duplicate++;
		return 0;
	} else {
		st->out_of_order++;
	}
	seen_set(s);
	st->unique++;
	return 1;
}

struct frame_times {
	int64_t handler_real, handler_mono, rx_ts; /* rx_ts < 0: none */
};

static void handle_frame(const struct opts *o, const uint8_t *buf, const struct frame_times *t)
{
	struct stats *st = &g_st;
	if (get_be(buf, 4) != KFN_MAGIC || buf[4] != KFN_WIRE_VERSION || buf[5] > KFN_KIND_END ||
	    buf[6] > KFN_CLOCK_MONOTONIC || get_be(buf + 8, 4) != o->stream_id) {
		st->stray++;
		return;
	}
	uint64_t seq = get_be(buf + 16, 8);
	if (buf[5] == KFN_KIND_END) {
		if (seq > INT64_MAX) {
			st->stray++;
			return;
		}
		st->end_frames++;
		if (seq > st->announced_last)
			st->announced_last = seq;
		return;
	}
	uint64_t period = get_be(buf + 32, 8);
	if (seq == 0 || seq > INT64_MAX || period == 0 || period > 10000000000ULL) {
		st->stray++;
		return;
	}
	st->received++;
	if (!track_seq(st, seq))
		return;
	int clock = buf[6];
	if (!st->frame_period_ns)
		st->frame_period_ns = period;
	st->wire_clock = st->wire_clock < 0 || st->wire_clock == clock ? clock : 2;
	if (t->rx_ts >= 0)
		hist_add(&st->rx, t->handler_real - t->rx_ts);
	else
		st->rx_ts_missing++;
	if (o->domain == DOM_UNSYNC)
		return;
	if (o->domain == DOM_PTP && clock == KFN_CLOCK_MONOTONIC) {
		st->wire_skipped_monotonic++;
		return;
	}
	int64_t handler = clock == KFN_CLOCK_MONOTONIC ? t->handler_mono : t->handler_real;
	/* Unsigned arithmetic wraps instead of overflowing on a nonsense send time. */
	int64_t wire = (int64_t)((uint64_t)handler - (uint64_t)o->clock_offset_ns - get_be(buf + 24, 8));
	hist_add(&st->wire, wire);
	if (wire > (int64_t)(o->late_given ? o->late_ns : period))
		st->late++;
}

static void print_summary(const struct opts *o, const char *bound, const char *rx_kind,
			  const char *hw_why, const char *stopped_by, int64_t start, int64_t end)
{
	const struct stats *st = &g_st;
	/* Sequence alone cannot see frames lost at the end: the generator's end
	 * frame announces its last seq, and --expect gives it up front. */
	uint64_t last = st->highest_seq;
	const char *source = "highest-seen";
	if (o->expect && o->expect >= last) {
		last = o->expect;
		source = "expect";
	}
	if (st->announced_last && st->announced_last >= last) {
		last = st->announced_last;
		source = "announced";
	}
	FILE *f = stdout;
	fprintf(f, "{\"tool\":\"" PROG "\",\"version\":\"" VERSION "\",\"format\":1,\"listen\":");
	json_str(f, bound);
	fprintf(f, ",\"stream_id\":%" PRIu64 ",\"stopped_by\":\"%s\",\"start_realtime_ns\":%" PRId64
		",\"end_realtime_ns\":%" PRId64 ",", o->stream_id, stopped_by, start, end);
	rt_json(f, &o->rt);
	fprintf(f, ",\"clock_domain\":\"%s\",\"clock_offset_ns\":", domain_names[o->domain]);
	if (o->domain == DOM_UNSYNC)
		fputs("null", f);
	else
		fprintf(f, "%" PRId64, o->clock_offset_ns);
	fputs(",\"wire_clock\":", f);
	json_str(f, st->wire_clock < 0 ? NULL : st->wire_clock == 2 ? "mixed" : clock_name(st->wire_clock));
	fprintf(f, ",\"rx_timestamp\":\"%s\",\"hw_timestamp_iface\":", rx_kind);
	json_str(f, o->hw_iface);
	fputs(",\"hw_fallback_reason\":", f);
	json_str(f, hw_why && *hw_why ? hw_why : NULL);
	fputs(",\"late_ns\":", f);
	if (o->late_given || st->frame_period_ns)
		fprintf(f, "%" PRIu64, o->late_given ? o->late_ns : st->frame_period_ns);
	else
		fputs("null", f);
	fprintf(f, ",\"late_ns_source\":\"%s\",\"histogram_layout\":", o->late_given ? "option" : "frame-period");
	hist_layout_json(f);
	fprintf(f, ",\"frames\":{\"received\":%" PRIu64 ",\"unique\":%" PRIu64 ",\"missed\":%" PRIu64
		",\"duplicate\":%" PRIu64 ",\"out_of_order\":%" PRIu64 ",\"too_old\":%" PRIu64
		",\"stray\":%" PRIu64 ",\"end_frames\":%" PRIu64 ",\"rx_timestamp_missing\":%" PRIu64,
		st->received, st->unique, last - st->unique, st->duplicate, st->out_of_order,
		st->too_old, st->stray, st->end_frames, st->rx_ts_missing);
	fputs(",\"late\":", f);
	int wire_ok = o->domain != DOM_UNSYNC && st->wire_skipped_monotonic == 0;
	if (wire_ok)
		fprintf(f, "%" PRIu64, st->late);
	else
		fputs("null", f);
	fprintf(f, ",\"first_seq\":%" PRIu64 ",\"highest_seq\":%" PRIu64 ",\"expect\":",
		st->first_seq, st->highest_seq);
	if (o->expect)
		fprintf(f, "%" PRIu64, o->expect);
	else
		fputs("null", f);
	fputs(",\"announced_last_seq\":", f);
	if (st->announced_last)
		fprintf(f, "%" PRIu64, st->announced_last);
	else
		fputs("null", f);
	fprintf(f, ",\"last_seq\":%" PRIu64 ",\"last_seq_source\":\"%s\",\"tail_known\":%s}", last, source,
		o->expect || st->announced_last ? "true" : "false");
	fputs(",\"wire_to_handler\":", f);
	if (wire_ok) {
		hist_json(f, &st->wire);
		fputs(",\"wire_to_handler_reason\":null", f);
	} else {
		fputs("null,\"wire_to_handler_reason\":", f);
		json_str(f, o->domain == DOM_UNSYNC
				    ? "clock domain unsynchronised: the sender's clock is not the receiver's, "
				      "so handler time minus send time would be meaningless"
				    : "frames carry CLOCK_MONOTONIC, which PTP does not synchronise between hosts");
	}
	fputs(",\"receive_to_handler\":", f);
	hist_json(f, &st->rx);
	fputs(",\"receive_to_handler_source\":", f);
	json_str(f, strcmp(rx_kind, "hardware")
			    ? "SO_TIMESTAMPING software receive timestamp (ts[0]), taken in the network stack "
			      "after the interrupt: excludes interrupt entry and the driver"
			    : "SO_TIMESTAMPING raw hardware receive timestamp (ts[2]), taken by the NIC; valid "
			      "only when the NIC clock is synchronised to CLOCK_REALTIME (phc2sys)");
	fputs("}\n", f);
	fflush(f);
}

int main(int argc, char **argv)
{
	struct opts o = { .bind_addr = "0.0.0.0", .stream_id = 1,
			  .domain = DOM_SAME_HOST, .rt = { .cpu = -1 } };
	char err[256], bound[64], hw_why[256] = "";
	parse_args(argc, argv, &o);
	g_st.wire_clock = -1;

	int fd = open_socket(&o, bound, sizeof bound);
	if (apply_rt(&o.rt, err, sizeof err) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	int hw = o.hw_iface && enable_hw(fd, o.hw_iface, hw_why, sizeof hw_why);
	int flags = hw ? SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE
		       : SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) != 0) {
		fprintf(stderr, PROG ": SO_TIMESTAMPING: %s\n", strerror(errno));
		return 1;
	}
	install_signals();

	uint8_t buf[2048];
	union {
		char b[CMSG_SPACE(sizeof(struct scm_timestamping)) + 256];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
	struct msghdr msg;
	int64_t start_real = now_ns(CLOCK_REALTIME), start_mono = now_ns(CLOCK_MONOTONIC);
	int64_t linger_until = 0;
	const char *stopped_by = NULL;
	fprintf(stderr, PROG ": ready %s\n", bound);

	while (!stopped_by) {
		memset(&msg, 0, sizeof msg);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.b;
		msg.msg_controllen = sizeof ctl.b;
		ssize_t n = recvmsg(fd, &msg, 0);
		struct frame_times t = { .handler_real = now_ns(CLOCK_REALTIME),
					 .handler_mono = now_ns(CLOCK_MONOTONIC), .rx_ts = -1 };
		if (n >= 0) {
			if (n != KFN_FRAME_LEN || (msg.msg_flags & MSG_TRUNC)) {
				g_st.stray++;
			} else {
				for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
					if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPING)
						continue;
					struct scm_timestamping tss;
					memcpy(&tss, CMSG_DATA(c), sizeof tss);
					const struct timespec *ts = &tss.ts[hw ? 2 : 0];
					if (ts->tv_sec || ts->tv_nsec)
						t.rx_ts = ts_ns(ts);
				}
				handle_frame(&o, buf, &t);
				if (o.exit_on_end && g_st.end_frames && !linger_until)
					linger_until = t.handler_mono + EXIT_ON_END_LINGER_NS;
			}
		} else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
			fprintf(stderr, PROG ": recvmsg: %s\n", strerror(errno));
			return 1;
		}
		if (g_stop)
			stopped_by = signal_name(g_stop);
		else if (o.duration_ns && t.handler_mono - start_mono >= (int64_t)o.duration_ns)
			stopped_by = "duration";
		else if (linger_until && t.handler_mono >= linger_until)
			stopped_by = "end-frame";
	}
	restore_hw();
	print_summary(&o, bound, hw ? "hardware" : "software", hw_why, stopped_by, start_real,
		      now_ns(CLOCK_REALTIME));
	close(fd);
	return 0;
}
