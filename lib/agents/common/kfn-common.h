/*
 * kfn-common.h: what kfn-irqgen and kfn-irqrecv share, included by each with
 * `#include "../common/kfn-common.h"`, so that each agent still builds from its
 * own folder with exactly `gcc -Wall -Wextra -Werror -O2 -o <name> <name>.c`.
 *
 * Header only, all functions static inline: no second translation unit, no
 * extra gcc flag, and an agent that does not use a helper gets no
 * -Wunused-function error. The frame layout and the histogram are the wire
 * and output contracts of both agents (lib/agents/README.md), which is why
 * they live in one place: the two sides can no longer drift apart.
 *
 * The including file defines _GNU_SOURCE before any #include (for
 * sched_setaffinity, CPU_SET and sched_getcpu).
 */
#ifndef KFN_COMMON_H
#define KFN_COMMON_H

#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE before any #include, then include kfn-common.h"
#endif

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>


/* Frame layout, all fields big-endian, 40 bytes:
 *   0 u32 magic 'KFNI'   4 u8 version   5 u8 kind (0 data, 1 end)
 *   6 u8 clock (0 CLOCK_REALTIME, 1 CLOCK_MONOTONIC)   7 u8 zero
 *   8 u32 stream id   12 u32 zero   16 u64 seq (data: from 1; end: last seq)
 *  24 u64 send time ns   32 u64 period ns */
#define KFN_MAGIC 0x4B464E49u
#define KFN_WIRE_VERSION 1
#define KFN_FRAME_LEN 40
#define KFN_KIND_DATA 0
#define KFN_KIND_END 1
#define KFN_CLOCK_REALTIME 0
#define KFN_CLOCK_MONOTONIC 1

/* Log-linear histogram: exact below 2^10 ns, then 2^7 sub-buckets per power
 * of two (relative error < 0.8 %), up to 2^33 ns (8.59 s); above is overflow,
 * with the true max still tracked. Negative values (clocks out of step) are
 * counted apart and never bucketed. */
#define H_EXACT_BITS 10
#define H_SUB_BITS 7
#define H_TOP_BITS 33
#define H_EXACT (1u << H_EXACT_BITS)
#define H_SUB (1u << H_SUB_BITS)
#define H_BUCKETS (H_EXACT + (H_TOP_BITS - H_EXACT_BITS) * H_SUB)

struct hist {
	uint64_t count, overflow, negative;
	int64_t min, max;
	__int128 sum;
	uint64_t b[H_BUCKETS];
};

static inline int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static inline int64_t now_ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return ts_ns(&t);
}

static inline void hist_add(struct hist *h, int64_t v)
{
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (h->count == 0 || v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
	if (v < 0) {
		h->negative++;
		return;
	}
	uint64_t u = (uint64_t)v;
	if (u < H_EXACT) {
		h->b[u]++;
		return;
	}
	int p = 63 - __builtin_clzll(u);
	if (p >= H_TOP_BITS) {
		h->overflow++;
		return;
	}
	uint64_t sub = (u >> (p - H_SUB_BITS)) - H_SUB;
	h->b[H_EXACT + (uint64_t)(p - H_EXACT_BITS) * H_SUB + sub]++;
}

static inline void bucket_range(unsigned i, uint64_t *lo, uint64_t *hi)
{
	if (i < H_EXACT) {
		*lo = *hi = i;
		return;
	}
	unsigned k = (i - H_EXACT) / H_SUB, s = (i - H_EXACT) % H_SUB;
	int shift = (int)k + H_EXACT_BITS - H_SUB_BITS;
	*lo = ((uint64_t)H_SUB + s) << shift;
	*hi = *lo + (1ULL << shift) - 1;
}

/* Upper bound of the bucket holding the ceil(count*ppm/1e6)-th value,
 * clamped to [min, max]: the conservative choice for a latency threshold. */
static inline int64_t hist_pct(const struct hist *h, uint64_t ppm)
{
	uint64_t rank = (uint64_t)(((unsigned __int128)h->count * ppm + 999999) / 1000000);
	if (rank == 0)
		rank = 1;
	uint64_t cum = h->negative;
	int64_t v = h->max;
	if (rank <= cum) {
		v = h->max < 0 ? h->max : 0;
	} else {
		for (unsigned i = 0; i < H_BUCKETS; i++) {
			cum += h->b[i];
			if (cum >= rank) {
				uint64_t lo, hi;
				bucket_range(i, &lo, &hi);
				v = (int64_t)hi;
				break;
			}
		}
	}
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return v;
}

static inline void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static inline void hist_json(FILE *f, const struct hist *h)
{
	fprintf(f, "{\"count\":%" PRIu64 ",\"overflow\":%" PRIu64 ",\"negative\":%" PRIu64,
		h->count, h->overflow, h->negative);
	if (h->count == 0) {
		fputs(",\"min\":null,\"avg\":null,\"max\":null,\"p50\":null,\"p99\":null,"
		      "\"p99_9\":null,\"p99_99\":null,\"buckets\":[]}", f);
		return;
	}
	fprintf(f, ",\"min\":%" PRId64 ",\"avg\":%.1f,\"max\":%" PRId64, h->min,
		(double)h->sum / (double)h->count, h->max);
	fprintf(f, ",\"p50\":%" PRId64 ",\"p99\":%" PRId64 ",\"p99_9\":%" PRId64
		",\"p99_99\":%" PRId64, hist_pct(h, 500000), hist_pct(h, 990000),
		hist_pct(h, 999000), hist_pct(h, 999900));
	fputs(",\"buckets\":[", f);
	int first = 1;
	for (unsigned i = 0; i < H_BUCKETS; i++) {
		if (!h->b[i])
			continue;
		uint64_t lo, hi;
		bucket_range(i, &lo, &hi);
		fprintf(f, "%s[%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", first ? "" : ",", lo, hi, h->b[i]);
		first = 0;
	}
	fputs("]}", f);
}

static inline void hist_layout_json(FILE *f)
{
	fprintf(f, "{\"exact_below_ns\":%u,\"sub_buckets_per_power_of_two\":%u,\"top_ns\":%llu}",
		H_EXACT, H_SUB, 1ULL << H_TOP_BITS);
}

static inline const char *clock_name(int c)
{
	return c == KFN_CLOCK_MONOTONIC ? "CLOCK_MONOTONIC" : "CLOCK_REALTIME";
}

/* Strict unsigned parse: digits only, within [min, max]. */
static inline int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Seconds with up to 9 decimals ("2", "0.5"), to ns, at most one day. */
static inline int parse_seconds(const char *s, uint64_t *out)
{
	uint64_t whole = 0, frac = 0;
	int digits = 0, seen = 0;
	const char *p = s;
	if (!s || !*s)
		return -1;
	for (; *p >= '0' && *p <= '9'; p++, seen = 1)
		if ((whole = whole * 10 + (uint64_t)(*p - '0')) > 86400)
			return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, seen = 1)
			if (digits < 9) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				digits++;
			}
	}
	if (*p || !seen)
		return -1;
	for (; digits < 9; digits++)
		frac *= 10;
	*out = whole * 1000000000ULL + frac;
	return *out > 0 && *out <= 86400000000000ULL ? 0 : -1;
}

static volatile sig_atomic_t g_stop;

static inline void on_signal(int signo)
{
	g_stop = signo;
}

/* No SA_RESTART: blocking calls return EINTR so the loop sees the flag. */
static inline void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static inline const char *signal_name(int s)
{
	return s == SIGINT ? "SIGINT" : s == SIGTERM ? "SIGTERM" : "signal";
}

struct rt_setup {
	int cpu;        /* -1: not pinned */
	int priority;   /* 0: not SCHED_FIFO */
	int mlocked;
	char mlock_error[128];
};

/* Pinning or priority that was asked for but refused is fatal: a figure
 * measured at the wrong priority would be read as the right one. */
static inline int apply_rt(struct rt_setup *rt, char *err, size_t errlen)
{
	rt->mlocked = mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
	if (!rt->mlocked)
		snprintf(rt->mlock_error, sizeof rt->mlock_error, "%s", strerror(errno));
	if (rt->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(rt->cpu, &set);
		if (sched_setaffinity(0, sizeof set, &set) != 0) {
			snprintf(err, errlen, "cannot pin to CPU %d: %s", rt->cpu, strerror(errno));
			return -1;
		}
	}
	if (rt->priority > 0) {
		struct sched_param sp = { .sched_priority = rt->priority };
		if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
			snprintf(err, errlen, "cannot set SCHED_FIFO priority %d: %s", rt->priority,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

static inline void rt_json(FILE *f, const struct rt_setup *rt)
{
	if (rt->cpu >= 0)
		fprintf(f, "\"cpu\":%d", rt->cpu);
	else
		fputs("\"cpu\":null", f);
	fprintf(f, ",\"ran_on_cpu\":%d", sched_getcpu());
	if (rt->priority > 0)
		fprintf(f, ",\"policy\":\"SCHED_FIFO\",\"priority\":%d", rt->priority);
	else
		fputs(",\"policy\":\"SCHED_OTHER\",\"priority\":null", f);
	fprintf(f, ",\"mlockall\":%s,\"mlockall_error\":", rt->mlocked ? "true" : "false");
	json_str(f, rt->mlocked ? NULL : rt->mlock_error);
}

#endif /* KFN_COMMON_H */
