/*
 * kfn-softgen: the kvmfornfv traffic generator and receiver.
 *
 * One process sends Ethernet/IPv4/UDP frames on one interface (AF_PACKET, qdisc bypass)
 * and receives them on another, so that send and receive timestamps come from one clock
 * and the result is one JSON document. The payload starts with a kernel-pktgen header
 * extended with a stream id and a nanosecond timestamp (see README-softgen.md), so the
 * receiver also accepts frames from kernel pktgen.
 *
 * Build: gcc -Wall -Wextra -Werror -O2 -o kfn-softgen kfn-softgen.c   (libc only)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SOFTGEN_VERSION "1.0.0"
#define PKTGEN_MAGIC 0xbe9be955u
#define HDR_OFF 42u             /* Ethernet 14 + IPv4 20 + UDP 8: the payload starts here */
#define FULL_HDR_LEN 28u        /* pktgen 16 + be32 stream id + be64 tx ns */
#define COMPACT_HDR_LEN 18u     /* pktgen 16 + be16 stream id (sub-us ns in the IPv4 id) */
#define PKTGEN_HDR_LEN 16u
#define MAX_STREAMS 2
#define MAX_BATCH 256
#define SLOT_SIZE 2048u
#define WIN_BITS 20             /* sequence window: 1 Mi frames of reordering */
#define WIN (1u << WIN_BITS)
#define H_SUB_BITS 7            /* 128 sub-buckets per power of two: < 0.8 % relative error */
#define H_EXACT 256u            /* values below 256 ns get 1-ns buckets */
#define H_MAX_BITS 40           /* 2^40 ns (about 18 min) and above overflow */
#define H_BUCKETS (H_EXACT + (H_MAX_BITS - 8) * (1u << H_SUB_BITS))

/* Simple IMIX by frame count, 7 x 64 : 4 x 570 : 1 x 1518, interleaved per 12 frames. */
static const uint16_t IMIX_SIZES[3] = {64, 570, 1518};
static const uint8_t IMIX_PATTERN[12] = {0, 1, 0, 1, 0, 2, 0, 1, 0, 1, 0, 0};

struct hist {
    uint64_t counts[H_BUCKETS];
    uint64_t overflow;
};

struct rx_stats {
    uint64_t rx_frames, duplicate, out_of_order, gaps, recovered, no_timestamp;
    uint64_t expected;          /* next expected 64-bit sequence number */
    uint64_t *window;           /* seen-bits for the last WIN sequence numbers */
    uint64_t samples, negative, sum;
    int64_t min, max, last;
    uint64_t jitter_sum, jitter_n;
    int tsres_ns;               /* 1, or 1000 when a pktgen (us) timestamp was seen */
    struct hist h;
};

struct stream {
    uint32_t id;                /* 0 = plain kernel pktgen header (rx mode only) */
    char tx_if[IF_NAMESIZE], rx_if[IF_NAMESIZE];
    int tx_ifindex, rx_slot;    /* rx_slot: index into the rx socket table, -1 = none */
    uint8_t src_mac[6], dst_mac[6];
    uint32_t src_ip, dst_ip;    /* network order */
    /* tx results */
    uint64_t tx_frames, tx_retries, last_seq;
    double tx_seconds;
    int has_tx;
    struct rx_stats rx;
};

struct rx_sock {
    char ifname[IF_NAMESIZE];
    int fd;
    uint8_t *ring;
    size_t ring_len;
    unsigned block_size, block_nr, cur;
    uint64_t ring_packets, ring_drops;
    uint64_t not_ipv4_udp, no_magic, unknown_stream, malformed;
};

struct opts {
    const char *mode;
    const char *tx_if, *rx_if;
    int bidir, imix, pktgen, no_bypass, use_mmsg;
    unsigned size, flows, batch, drain_ms;
    uint32_t stream_id, rev_stream_id;
    uint64_t rate, count, first_seq;
    double duration;
    uint8_t dst_mac[6], rev_dst_mac[6], src_mac[6];
    int has_src_mac;
    uint32_t src_ip, dst_ip;
    uint16_t udp_src, udp_dst;
    uint64_t skip_seq, dup_seq, swap_seq;
    int tx_cpu, rx_cpu;
};

struct tx_ctx {
    struct stream *st;
    int fd;
    uint8_t *ring;
    size_t ring_len;
    unsigned ring_frames, idx;
    uint8_t *bufs;
    struct mmsghdr msgs[MAX_BATCH + 1];
    struct iovec iov[MAX_BATCH + 1];
    uint8_t *tmpl[3];
    uint16_t tmpl_len[3];
    uint16_t tmpl_csum[3];
    unsigned imix_pos, flow_pos;
    pthread_t thread;
};

static struct opts O;
static struct stream S[MAX_STREAMS];
static unsigned n_streams;
static struct rx_sock R[MAX_STREAMS];
static unsigned n_rx;
static struct tx_ctx T[MAX_STREAMS];
static atomic_int stop_tx, stop_rx;
static volatile sig_atomic_t interrupted;
static pthread_barrier_t start_barrier;

static void usage(FILE *f)
{
    fputs("usage: kfn-softgen trial --tx-if IF --rx-if IF (--duration S | --count N) [options]\n"
          "       kfn-softgen tx --if IF (--duration S | --count N) [options]\n"
          "       kfn-softgen rx --if IF (--stream-id N | --pktgen) --duration S [--first-seq N]\n"
          "       kfn-softgen --help | --version\n"
          "options:\n"
          "  --rate PPS         frames per second per stream, 0 = as fast as possible (default 0)\n"
          "  --size B           Ethernet frame size incl. FCS, 64..1518 (default 64)\n"
          "  --imix             simple IMIX 7x64:4x570:1x1518 instead of --size\n"
          "  --flows N          distinct UDP source ports, hence 5-tuples (default 1)\n"
          "  --bidirectional    also send rx-if -> tx-if as a second stream (trial)\n"
          "  --stream-id N      1..65535 (default 1); --rev-stream-id N (default id+1)\n"
          "  --src-mac M --dst-mac M --rev-dst-mac M --src-ip A --dst-ip A\n"
          "  --udp-src P --udp-dst P (default 1024 1024)\n"
          "  --drain-ms MS      keep receiving after TX stops (default 200)\n"
          "  --batch N          frames per send call, 1..256 (default 64)\n"
          "  --tx-method mmsg|ring  sendmmsg batches (default) or PACKET_TX_RING\n"
          "  --no-qdisc-bypass  send through the qdisc layer\n"
          "  --tx-cpu N --rx-cpu N  pin the sending / receiving threads\n"
          "  --skip-seq K --dup-seq K --swap-seq K  self-checks: omit, repeat, swap with K+1\n",
          f);
}

static void bad_args(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("kfn-softgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    usage(stderr);
    exit(2);
}

static void die(const char *fmt, ...)
{
    va_list ap;
    int e = errno;
    va_start(ap, fmt);
    fputs("kfn-softgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    if (e)
        fprintf(stderr, ": %s", strerror(e));
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static uint64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until_mono(uint64_t t)
{
    struct timespec ts = {(time_t)(t / 1000000000ull), (long)(t % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

/* ---------- argument parsing ---------- */

static uint64_t parse_u64(const char *name, const char *s, uint64_t lo, uint64_t hi)
{
    char *end;
    unsigned long long v;
    if (!*s || *s == '-')
        bad_args("--%s expects an integer in %" PRIu64 "..%" PRIu64 ", got \"%s\"", name, lo, hi, s);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        bad_args("--%s expects an integer in %" PRIu64 "..%" PRIu64 ", got \"%s\"", name, lo, hi, s);
    return v;
}

static void parse_mac(const char *name, const char *s, uint8_t *mac)
{
    unsigned b[6];
    char tail;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6 ||
        strlen(s) != 17)
        bad_args("--%s expects a MAC address like 02:00:00:00:00:01, got \"%s\"", name, s);
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
}

static uint32_t parse_ip(const char *name, const char *s)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        bad_args("--%s expects an IPv4 address, got \"%s\"", name, s);
    return a.s_addr;
}

static const char *parse_ifname(const char *name, const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= IF_NAMESIZE)
        bad_args("--%s expects an interface name of 1..%d characters, got \"%s\"", name, IF_NAMESIZE - 1, s);
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\\' || s[i] == '/')
            bad_args("--%s: invalid interface name \"%s\"", name, s);
    return s;
}

enum { OPT_TXIF = 256, OPT_RXIF, OPT_IF, OPT_RATE, OPT_DUR, OPT_COUNT, OPT_SIZE, OPT_IMIX, OPT_FLOWS,
       OPT_BIDIR, OPT_SID, OPT_RSID, OPT_SMAC, OPT_DMAC, OPT_RDMAC, OPT_SIP, OPT_DIP, OPT_USRC, OPT_UDST,
       OPT_DRAIN, OPT_BATCH, OPT_METHOD, OPT_NOBYP, OPT_TXCPU, OPT_RXCPU, OPT_SKIP, OPT_DUP, OPT_SWAP,
       OPT_PKTGEN, OPT_FIRST, OPT_HELP, OPT_VERSION };

static const struct option LONGOPTS[] = {
    {"tx-if", 1, 0, OPT_TXIF}, {"rx-if", 1, 0, OPT_RXIF}, {"if", 1, 0, OPT_IF}, {"rate", 1, 0, OPT_RATE},
    {"duration", 1, 0, OPT_DUR}, {"count", 1, 0, OPT_COUNT}, {"size", 1, 0, OPT_SIZE}, {"imix", 0, 0, OPT_IMIX},
    {"flows", 1, 0, OPT_FLOWS}, {"bidirectional", 0, 0, OPT_BIDIR}, {"stream-id", 1, 0, OPT_SID},
    {"rev-stream-id", 1, 0, OPT_RSID}, {"src-mac", 1, 0, OPT_SMAC}, {"dst-mac", 1, 0, OPT_DMAC},
    {"rev-dst-mac", 1, 0, OPT_RDMAC}, {"src-ip", 1, 0, OPT_SIP}, {"dst-ip", 1, 0, OPT_DIP},
    {"udp-src", 1, 0, OPT_USRC}, {"udp-dst", 1, 0, OPT_UDST}, {"drain-ms", 1, 0, OPT_DRAIN},
    {"batch", 1, 0, OPT_BATCH}, {"tx-method", 1, 0, OPT_METHOD}, {"no-qdisc-bypass", 0, 0, OPT_NOBYP},
    {"tx-cpu", 1, 0, OPT_TXCPU}, {"rx-cpu", 1, 0, OPT_RXCPU}, {"skip-seq", 1, 0, OPT_SKIP},
    {"dup-seq", 1, 0, OPT_DUP}, {"swap-seq", 1, 0, OPT_SWAP}, {"pktgen", 0, 0, OPT_PKTGEN},
    {"first-seq", 1, 0, OPT_FIRST}, {"help", 0, 0, OPT_HELP}, {"version", 0, 0, OPT_VERSION}, {0, 0, 0, 0}};

static void parse_args(int argc, char **argv)
{
    int c, has_size = 0, has_sid = 0, has_rsid = 0, has_rate = 0;
    uint8_t d1[6] = {0x02, 0x6b, 0x66, 0x6e, 0x00, 0x02}, d2[6] = {0x02, 0x6b, 0x66, 0x6e, 0x00, 0x01};
    memset(&O, 0, sizeof O);
    O.use_mmsg = 1; /* measured faster than PACKET_TX_RING on veth: see README-softgen.md */
    O.size = 64; O.flows = 1; O.batch = 64; O.drain_ms = 200; O.stream_id = 1; O.first_seq = 1;
    O.udp_src = 1024; O.udp_dst = 1024; O.tx_cpu = -1; O.rx_cpu = -1;
    O.src_ip = inet_addr("198.18.0.1"); O.dst_ip = inet_addr("198.19.0.1");
    memcpy(O.dst_mac, d1, 6); memcpy(O.rev_dst_mac, d2, 6);
    if (argc < 2)
        bad_args("missing mode: trial, tx or rx");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) { usage(stdout); exit(0); }
    if (!strcmp(argv[1], "--version")) { printf("kfn-softgen %s\n", SOFTGEN_VERSION); exit(0); }
    O.mode = argv[1];
    if (strcmp(O.mode, "trial") && strcmp(O.mode, "tx") && strcmp(O.mode, "rx"))
        bad_args("unknown mode \"%s\": expected trial, tx or rx", O.mode);
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", LONGOPTS, NULL)) != -1) {
        switch (c) {
        case OPT_TXIF: O.tx_if = parse_ifname("tx-if", optarg); break;
        case OPT_RXIF: O.rx_if = parse_ifname("rx-if", optarg); break;
        case OPT_IF: O.tx_if = O.rx_if = parse_ifname("if", optarg); break;
        case OPT_RATE: O.rate = parse_u64("rate", optarg, 0, 100000000); has_rate = 1; break;
        case OPT_DUR: {
            char *end;
            errno = 0;
            O.duration = strtod(optarg, &end);
            if (errno || *end || !(O.duration > 0 && O.duration <= 86400))
                bad_args("--duration expects seconds in (0, 86400], got \"%s\"", optarg);
            break;
        }
        case OPT_COUNT: O.count = parse_u64("count", optarg, 1, 1000000000000ull); break;
        case OPT_SIZE: O.size = (unsigned)parse_u64("size", optarg, 64, 1518); has_size = 1; break;
        case OPT_IMIX: O.imix = 1; break;
        case OPT_FLOWS: O.flows = (unsigned)parse_u64("flows", optarg, 1, 65535); break;
        case OPT_BIDIR: O.bidir = 1; break;
        case OPT_SID: O.stream_id = (uint32_t)parse_u64("stream-id", optarg, 1, 65535); has_sid = 1; break;
        case OPT_RSID: O.rev_stream_id = (uint32_t)parse_u64("rev-stream-id", optarg, 1, 65535); has_rsid = 1; break;
        case OPT_SMAC: parse_mac("src-mac", optarg, O.src_mac); O.has_src_mac = 1; break;
        case OPT_DMAC: parse_mac("dst-mac", optarg, O.dst_mac); break;
        case OPT_RDMAC: parse_mac("rev-dst-mac", optarg, O.rev_dst_mac); break;
        case OPT_SIP: O.src_ip = parse_ip("src-ip", optarg); break;
        case OPT_DIP: O.dst_ip = parse_ip("dst-ip", optarg); break;
        case OPT_USRC: O.udp_src = (uint16_t)parse_u64("udp-src", optarg, 1, 65535); break;
        case OPT_UDST: O.udp_dst = (uint16_t)parse_u64("udp-dst", optarg, 1, 65535); break;
        case OPT_DRAIN: O.drain_ms = (unsigned)parse_u64("drain-ms", optarg, 0, 60000); break;
        case OPT_BATCH: O.batch = (unsigned)parse_u64("batch", optarg, 1, MAX_BATCH); break;
        case OPT_METHOD:
            if (!strcmp(optarg, "ring")) O.use_mmsg = 0;
            else if (!strcmp(optarg, "mmsg")) O.use_mmsg = 1;
            else bad_args("--tx-method expects ring or mmsg, got \"%s\"", optarg);
            break;
        case OPT_NOBYP: O.no_bypass = 1; break;
        case OPT_TXCPU: O.tx_cpu = (int)parse_u64("tx-cpu", optarg, 0, 1023); break;
        case OPT_RXCPU: O.rx_cpu = (int)parse_u64("rx-cpu", optarg, 0, 1023); break;
        case OPT_SKIP: O.skip_seq = parse_u64("skip-seq", optarg, 2, UINT64_MAX / 2); break;
        case OPT_DUP: O.dup_seq = parse_u64("dup-seq", optarg, 1, UINT64_MAX / 2); break;
        case OPT_SWAP: O.swap_seq = parse_u64("swap-seq", optarg, 1, UINT64_MAX / 2); break;
        case OPT_PKTGEN: O.pktgen = 1; break;
        case OPT_FIRST: O.first_seq = parse_u64("first-seq", optarg, 0, UINT32_MAX); break;
        case OPT_HELP: usage(stdout); exit(0);
        case OPT_VERSION: printf("kfn-softgen %s\n", SOFTGEN_VERSION); exit(0);
        default:
            bad_args("unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind < argc)
        bad_args("unexpected argument \"%s\"", argv[optind]);
    if (has_size && O.imix)
        bad_args("--size and --imix exclude each other");
    if (!has_rsid)
        O.rev_stream_id = O.stream_id == 65535 ? 1 : O.stream_id + 1;
    if (!strcmp(O.mode, "rx")) {
        if (!O.rx_if) bad_args("rx needs --if");
        if (!O.duration) bad_args("rx needs --duration");
        if (O.pktgen == has_sid) bad_args("rx needs exactly one of --stream-id N and --pktgen");
        if (O.bidir || has_rsid || has_rate || O.count || has_size || O.imix || O.skip_seq || O.dup_seq || O.swap_seq)
            bad_args("rx takes only --if, --stream-id or --pktgen, --duration, --first-seq and --rx-cpu");
        return;
    }
    if (O.pktgen || O.first_seq != 1) bad_args("--pktgen and --first-seq are rx options");
    if (!O.duration && !O.count) bad_args("%s needs --duration or --count", O.mode);
    if (!strcmp(O.mode, "trial")) {
        if (!O.tx_if || !O.rx_if) bad_args("trial needs --tx-if and --rx-if");
        if (!strcmp(O.tx_if, O.rx_if)) bad_args("--tx-if and --rx-if must differ");
        if (O.bidir && O.rev_stream_id == O.stream_id) bad_args("--rev-stream-id must differ from --stream-id");
    } else {
        if (!O.tx_if) bad_args("tx needs --if");
        if (O.bidir) bad_args("tx takes no --bidirectional");
    }
    if ((uint32_t)O.udp_src + O.flows - 1 > 65535) bad_args("--udp-src + --flows exceeds port 65535");
    if (O.swap_seq && (O.swap_seq == O.skip_seq || O.swap_seq + 1 == O.skip_seq))
        bad_args("--swap-seq and --skip-seq must not overlap");
    if (O.rate && O.duration && !O.count)
        O.count = (uint64_t)(O.rate * O.duration + 0.5);
}

/* ---------- interfaces ---------- */

static int if_index_and_mac(const char *ifname, uint8_t *mac)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), idx;
    if (fd < 0) die("socket");
    idx = (int)if_nametoindex(ifname);
    if (!idx) die("interface %s", ifname);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) die("reading the MAC address of %s", ifname);
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    close(fd);
    return idx;
}

/* ---------- latency histogram ---------- */

static unsigned hist_index(uint64_t v)
{
    unsigned k, shift;
    if (v < H_EXACT) return (unsigned)v;
    k = 63u - (unsigned)__builtin_clzll(v);
    shift = k - H_SUB_BITS;
    return H_EXACT + (k - 8) * (1u << H_SUB_BITS) + (unsigned)((v >> shift) - (1u << H_SUB_BITS));
}

static void hist_bounds(unsigned i, uint64_t *lo, uint64_t *hi)
{
    unsigned k, sub;
    if (i < H_EXACT) { *lo = *hi = i; return; }
    k = 8 + (i - H_EXACT) / (1u << H_SUB_BITS);
    sub = (i - H_EXACT) % (1u << H_SUB_BITS);
    *lo = (uint64_t)((1u << H_SUB_BITS) + sub) << (k - H_SUB_BITS);
    *hi = *lo + (1ull << (k - H_SUB_BITS)) - 1;
}

static void record_latency(struct rx_stats *r, int64_t lat)
{
    if (lat < 0) { r->negative++; return; }
    if (r->samples == 0 || lat < r->min) r->min = lat;
    if (r->samples == 0 || lat > r->max) r->max = lat;
    if (r->samples) {
        r->jitter_sum += (uint64_t)(lat > r->last ? lat - r->last : r->last - lat);
        r->jitter_n++;
    }
    r->last = lat;
    r->samples++;
    r->sum += (uint64_t)lat;
    if ((uint64_t)lat >> H_MAX_BITS) r->h.overflow++;
    else r->h.counts[hist_index((uint64_t)lat)]++;
}

/* ---------- receive ---------- */

static int win_test_set(uint64_t *w, uint64_t seq)
{
    uint64_t bit = 1ull << (seq & 63), *word = &w[(seq & (WIN - 1)) >> 6];
    int was = (*word & bit) != 0;
    *word |= bit;
    return was;
}

static void win_clear(uint64_t *w, uint64_t from, uint64_t to)
{
    if (to - from >= WIN) { memset(w, 0, WIN / 8); return; }
    for (uint64_t s = from; s < to; s++)
        w[(s & (WIN - 1)) >> 6] &= ~(1ull << (s & 63));
}

/* Sequence accounting after TRex's counters: a gap counts its frames as dropped until they
 * turn up late (then out_of_order, no longer dropped); a sequence number seen twice within
 * the window is a duplicate. Returns 0 for a duplicate, whose latency is not recorded. */
static int account_seq(struct rx_stats *r, uint32_t seq32)
{
    uint64_t e = r->expected, seq = (e & ~0xffffffffull) | seq32;
    if (seq + 0x80000000ull < e) seq += 0x100000000ull;
    else if (seq > e + 0x80000000ull && seq >= 0x100000000ull) seq -= 0x100000000ull;
    r->rx_frames++;
    if (seq >= e) {
        if (seq > e) { r->gaps += seq - e; win_clear(r->window, e, seq); }
        win_test_set(r->window, seq);
        r->expected = seq + 1;
        return 1;
    }
    if (e - seq > WIN) { r->out_of_order++; return 1; } /* too late to tell: kept as dropped too */
    if (win_test_set(r->window, seq)) { r->duplicate++; return 0; }
    r->out_of_order++;
    r->recovered++;
    return 1;
}

/* cap: bytes captured (at most SNAP_LEN), len: length on the wire. */
static void rx_frame(struct rx_sock *rs, const uint8_t *p, uint32_t cap, uint32_t len, int64_t rx_ns)
{
    const uint8_t *ip = p + 14, *udp, *pl;
    unsigned ihl, plen;
    uint32_t sid, sec, usec;
    int64_t tx_ns;
    struct stream *st = NULL;
    if (cap < 14 + 20 + 8 || get16(p + 12) != ETH_P_IP || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_UDP) {
        rs->not_ipv4_udp++;
        return;
    }
    ihl = (ip[0] & 15u) * 4u;
    udp = ip + ihl;
    if (ihl < 20 || 14 + ihl + 8 > cap || get16(udp + 4) < 8 || 14 + ihl + get16(udp + 4) > len) {
        rs->malformed++;
        return;
    }
    plen = get16(udp + 4) - 8u;
    pl = udp + 8;
    if (14 + ihl + 8 + (plen < FULL_HDR_LEN ? plen : FULL_HDR_LEN) > cap) { rs->malformed++; return; }
    if (plen < PKTGEN_HDR_LEN || get32(pl) != PKTGEN_MAGIC) { rs->no_magic++; return; }
    sec = get32(pl + 8);
    usec = get32(pl + 12);
    if (plen >= FULL_HDR_LEN) sid = get32(pl + 16);
    else if (plen >= COMPACT_HDR_LEN) sid = get16(pl + 16);
    else sid = 0;
    for (unsigned i = 0; i < n_streams; i++)
        if (S[i].id == sid && S[i].rx_slot == (int)(rs - R)) { st = &S[i]; break; }
    if (!st) { rs->unknown_stream++; return; }
    if (sid == 0) {
        /* kernel pktgen: wall clock in microseconds, zero when pktgen has NO_TIMESTAMP */
        tx_ns = (sec || usec) ? (int64_t)sec * 1000000000ll + (int64_t)usec * 1000 : -1;
        st->rx.tsres_ns = 1000;
    } else if (plen >= FULL_HDR_LEN) {
        tx_ns = (int64_t)get64(pl + 20);
    } else {
        unsigned rem = get16(ip + 4);
        if (rem > 999) { rs->malformed++; return; }
        tx_ns = (int64_t)sec * 1000000000ll + (int64_t)usec * 1000 + rem;
    }
    if (!account_seq(&st->rx, get32(pl + 4))) return;
    if (tx_ns < 0) st->rx.no_timestamp++;
    else record_latency(&st->rx, rx_ns - tx_ns);
}

/* Keep only the first SNAP_LEN bytes of each frame in the ring: headers and the payload
 * header are all the receiver reads, and short ring slots make the ring last longer. */
#define SNAP_LEN 128u
static struct sock_filter snap_insn[] = {BPF_STMT(BPF_RET | BPF_K, SNAP_LEN)};
static struct sock_fprog snap_prog = {1, snap_insn};

static void rx_open(struct rx_sock *rs)
{
    struct tpacket_req3 req;
    struct sockaddr_ll sll;
    struct packet_mreq mr;
    struct tpacket_stats_v3 st;
    socklen_t sl = sizeof st;
    int v = TPACKET_V3, one = 1, idx;
    uint8_t mac[6];
    idx = if_index_and_mac(rs->ifname, mac);
    rs->fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (rs->fd < 0) die("AF_PACKET socket for %s (root or CAP_NET_RAW needed)", rs->ifname);
    if (setsockopt(rs->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) die("TPACKET_V3 on %s", rs->ifname);
    memset(&req, 0, sizeof req);
    req.tp_block_size = 1u << 21; /* 16 x 2 MiB: about 0.1 s of 64-byte frames at 1.6 Mpps */
    req.tp_block_nr = 16;
    req.tp_frame_size = SLOT_SIZE;
    req.tp_frame_nr = req.tp_block_size / req.tp_frame_size * req.tp_block_nr;
    req.tp_retire_blk_tov = 2; /* ms: a partly filled block reaches us within 2 ms */
    if (setsockopt(rs->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) die("PACKET_RX_RING on %s", rs->ifname);
    rs->block_size = req.tp_block_size;
    rs->block_nr = req.tp_block_nr;
    rs->ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
    rs->ring = mmap(NULL, rs->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, rs->fd, 0);
    if (rs->ring == MAP_FAILED) rs->ring = mmap(NULL, rs->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, rs->fd, 0);
    if (rs->ring == MAP_FAILED) die("mmap of the rx ring on %s", rs->ifname);
    if (setsockopt(rs->fd, SOL_SOCKET, SO_ATTACH_FILTER, &snap_prog, sizeof snap_prog) < 0)
        die("attaching the snap filter on %s", rs->ifname);
    if (setsockopt(rs->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0)
        die("PACKET_IGNORE_OUTGOING on %s", rs->ifname);
    memset(&mr, 0, sizeof mr);
    mr.mr_ifindex = idx;
    mr.mr_type = PACKET_MR_PROMISC; /* dropped by the kernel when the socket closes */
    if (setsockopt(rs->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) die("promiscuous mode on %s", rs->ifname);
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = idx;
    if (bind(rs->fd, (struct sockaddr *)&sll, sizeof sll) < 0) die("binding to %s", rs->ifname);
    getsockopt(rs->fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl); /* reading resets the counters */
}

static int rx_poll_once(struct rx_sock *rs)
{
    struct tpacket_block_desc *b = (void *)(rs->ring + (size_t)rs->cur * rs->block_size);
    struct tpacket3_hdr *h;
    if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) return 0;
    h = (void *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
    for (uint32_t i = 0; i < b->hdr.bh1.num_pkts; i++) {
        const struct sockaddr_ll *sll = (const void *)((uint8_t *)h + TPACKET_ALIGN(sizeof *h));
        if (sll->sll_pkttype != PACKET_OUTGOING)
            rx_frame(rs, (uint8_t *)h + h->tp_mac, h->tp_snaplen, h->tp_len,
                     (int64_t)h->tp_sec * 1000000000ll + h->tp_nsec);
        h = (void *)((uint8_t *)h + h->tp_next_offset);
    }
    __atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    rs->cur = (rs->cur + 1) % rs->block_nr;
    return 1;
}

static void pin_self(int cpu)
{
    cpu_set_t set;
    if (cpu < 0) return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set)) {
        fprintf(stderr, "kfn-softgen: cannot pin a thread to CPU %d\n", cpu);
        exit(1);
    }
}

static void *rx_main(void *arg)
{
    struct pollfd pfd[MAX_STREAMS];
    (void)arg;
    pin_self(O.rx_cpu);
    for (unsigned i = 0; i < n_rx; i++) pfd[i] = (struct pollfd){R[i].fd, POLLIN | POLLERR, 0};
    for (;;) {
        int any = 0, stopping = atomic_load(&stop_rx);
        for (unsigned i = 0; i < n_rx; i++)
            while (rx_poll_once(&R[i])) any = 1;
        if (stopping) break;  /* one last sweep after the stop request */
        if (!any) poll(pfd, n_rx, 10);
    }
    return NULL;
}

static void rx_close_stats(struct rx_sock *rs)
{
    struct tpacket_stats_v3 st;
    socklen_t sl = sizeof st;
    memset(&st, 0, sizeof st);
    if (getsockopt(rs->fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) < 0) die("PACKET_STATISTICS on %s", rs->ifname);
    rs->ring_packets = st.tp_packets;
    rs->ring_drops = st.tp_drops;
}

/* ---------- transmit ---------- */

static uint16_t ip_checksum(const uint8_t *h)
{
    uint32_t s = 0;
    for (int i = 0; i < 20; i += 2) s += get16(h + i);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static void build_template(struct tx_ctx *t, unsigned k, unsigned frame_size)
{
    struct stream *st = t->st;
    uint16_t len = (uint16_t)(frame_size - 4); /* the NIC appends the 4-byte FCS */
    uint8_t *f = calloc(1, SLOT_SIZE), *pl = f + HDR_OFF;
    if (!f) die("out of memory");
    memcpy(f, st->dst_mac, 6);
    memcpy(f + 6, st->src_mac, 6);
    put16(f + 12, ETH_P_IP);
    f[14] = 0x45;
    put16(f + 16, (uint16_t)(len - 14));
    f[22] = 64;
    f[23] = IPPROTO_UDP;
    memcpy(f + 26, &st->src_ip, 4);
    memcpy(f + 30, &st->dst_ip, 4);
    put16(f + 24, ip_checksum(f + 14));
    put16(f + 34, O.udp_src);
    put16(f + 36, O.udp_dst);
    put16(f + 38, (uint16_t)(len - 34)); /* UDP checksum 0: none, legal over IPv4 */
    put32(pl, PKTGEN_MAGIC);
    if (len - HDR_OFF >= FULL_HDR_LEN) put32(pl + 16, st->id);
    else put16(pl + 16, (uint16_t)st->id);
    t->tmpl[k] = f;
    t->tmpl_len[k] = len;
    t->tmpl_csum[k] = get16(f + 24);
}

/* Copies the header part of a prebuilt template and patches only what changes per frame.
 * Slot bytes past HDR_OFF + FULL_HDR_LEN are never written, so they stay zero. */
static uint16_t fill_frame(struct tx_ctx *t, uint8_t *dst, uint64_t seq, const struct timespec *tp)
{
    unsigned k = 0;
    uint16_t len;
    uint8_t *pl = dst + HDR_OFF;
    const struct timespec ts = *tp;
    if (O.imix) {
        k = IMIX_PATTERN[t->imix_pos];
        if (++t->imix_pos == 12) t->imix_pos = 0;
    }
    len = t->tmpl_len[k];
    memcpy(dst, t->tmpl[k], len < HDR_OFF + FULL_HDR_LEN ? len : HDR_OFF + FULL_HDR_LEN);
    if (O.flows > 1) {
        put16(dst + 34, (uint16_t)(O.udp_src + t->flow_pos));
        if (++t->flow_pos == O.flows) t->flow_pos = 0;
    }
    put32(pl + 4, (uint32_t)seq);
    put32(pl + 8, (uint32_t)ts.tv_sec);
    put32(pl + 12, (uint32_t)(ts.tv_nsec / 1000));
    if (len - HDR_OFF >= FULL_HDR_LEN) {
        put64(pl + 20, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
    } else {
        /* compact header: the sub-microsecond rest rides in the IPv4 id (RFC 1624 update) */
        uint32_t rem = (uint32_t)(ts.tv_nsec % 1000), s = (uint16_t)~t->tmpl_csum[k] + rem;
        s = (s & 0xffff) + (s >> 16);
        put16(dst + 18, (uint16_t)rem);
        put16(dst + 24, (uint16_t)~s);
    }
    return len;
}

static void tx_open(struct tx_ctx *t)
{
    struct sockaddr_ll sll;
    int one = 1, v = TPACKET_V2, sndbuf = 4 << 20;
    t->fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: this socket receives nothing */
    if (t->fd < 0) die("AF_PACKET socket for %s (root or CAP_NET_RAW needed)", t->st->tx_if);
    if (!O.no_bypass && setsockopt(t->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0)
        die("PACKET_QDISC_BYPASS on %s", t->st->tx_if);
    setsockopt(t->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
    if (!O.use_mmsg) {
        struct tpacket_req req = {1u << 16, 16, SLOT_SIZE, (1u << 16) / SLOT_SIZE * 16};
        if (setsockopt(t->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) die("TPACKET_V2 on %s", t->st->tx_if);
        if (setsockopt(t->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req) < 0) die("PACKET_TX_RING on %s", t->st->tx_if);
        t->ring_frames = req.tp_frame_nr;
        t->ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
        t->ring = mmap(NULL, t->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
        if (t->ring == MAP_FAILED) die("mmap of the tx ring on %s", t->st->tx_if);
    } else {
        t->bufs = calloc(MAX_BATCH + 1, SLOT_SIZE);
        if (!t->bufs) die("out of memory");
        for (unsigned i = 0; i <= MAX_BATCH; i++) {
            t->iov[i].iov_base = t->bufs + (size_t)i * SLOT_SIZE;
            t->msgs[i].msg_hdr.msg_iov = &t->iov[i];
            t->msgs[i].msg_hdr.msg_iovlen = 1;
        }
    }
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = t->st->tx_ifindex;
    if (bind(t->fd, (struct sockaddr *)&sll, sizeof sll) < 0) die("binding to %s", t->st->tx_if);
    if (O.imix) for (unsigned k = 0; k < 3; k++) build_template(t, k, IMIX_SIZES[k]);
    else build_template(t, 0, O.size);
}

static struct tpacket2_hdr *ring_slot(struct tx_ctx *t, unsigned i)
{
    return (struct tpacket2_hdr *)(t->ring + (size_t)(i % t->ring_frames) * SLOT_SIZE);
}

/* A refusal by the device (ENOBUFS: e.g. a veth peer's backlog full) leaves the frame in
 * place, and the next call sends it again; each one is counted as a retry. */
static void refused(struct tx_ctx *t, unsigned *fails)
{
    if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) die("sending on %s", t->st->tx_if);
    if (errno == ENOBUFS) t->st->tx_retries++;
    if (++*fails > 100000) { errno = 0; die("%s refused frames 100000 times in a row", t->st->tx_if); }
    if (*fails > 1000) usleep(10);
}

static void flush_ring(struct tx_ctx *t, unsigned first, unsigned m)
{
    unsigned fails = 0;
    for (;;) {
        unsigned pending = 0;
        if (send(t->fd, NULL, 0, 0) < 0) { refused(t, &fails); continue; }
        for (unsigned i = 0; i < m; i++) {
            uint32_t s = __atomic_load_n(&ring_slot(t, first + i)->tp_status, __ATOMIC_ACQUIRE);
            if (s == TP_STATUS_WRONG_FORMAT) { errno = 0; die("the kernel rejected a frame for %s", t->st->tx_if); }
            if (s != TP_STATUS_AVAILABLE) pending++;
        }
        if (!pending) return;
        if (++fails > 100000) { errno = 0; die("tx ring on %s does not drain", t->st->tx_if); }
    }
}

static void flush_mmsg(struct tx_ctx *t, unsigned m)
{
    unsigned off = 0, fails = 0;
    while (off < m) {
        int r = sendmmsg(t->fd, &t->msgs[off], m - off, 0);
        if (r > 0) {
            off += (unsigned)r;
            fails = 0;
            if (off < m) t->st->tx_retries++; /* the next message was refused; it goes again */
        } else {
            refused(t, &fails);
        }
    }
}

/* Sends n new sequence numbers (plus a repeated one for --dup-seq). */
static void tx_batch(struct tx_ctx *t, uint64_t *next_seq, unsigned n)
{
    uint64_t seqs[MAX_BATCH + 1];
    unsigned m = 0, self = t == &T[0];
    struct timespec ts;
    for (unsigned i = 0; i < n; i++) {
        uint64_t s = (*next_seq)++, e;
        if (self && s == O.skip_seq) s = (*next_seq)++;
        e = s;
        if (self && O.swap_seq && s == O.swap_seq) e = s + 1;
        else if (self && O.swap_seq && s == O.swap_seq + 1) e = s - 1;
        seqs[m++] = e;
        if (self && e == O.dup_seq) seqs[m++] = e;
    }
    /* One clock read per batch: every frame of it is written before the one send call, so
     * a read per frame would cost time without making the timestamps closer to the wire. */
    clock_gettime(CLOCK_REALTIME, &ts);
    if (O.use_mmsg) {
        for (unsigned i = 0; i < m; i++) t->iov[i].iov_len = fill_frame(t, t->iov[i].iov_base, seqs[i], &ts);
        flush_mmsg(t, m);
        return;
    }
    for (unsigned i = 0; i < m; i++) {
        struct tpacket2_hdr *h = ring_slot(t, t->idx + i);
        if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) {
            errno = 0;
            die("tx ring slot on %s still busy", t->st->tx_if);
        }
        h->tp_len = fill_frame(t, (uint8_t *)h + TPACKET2_HDRLEN - sizeof(struct sockaddr_ll), seqs[i], &ts);
        __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
    }
    flush_ring(t, t->idx, m);
    t->idx = (t->idx + m) % t->ring_frames;
}

static void *tx_main(void *arg)
{
    struct tx_ctx *t = arg;
    struct stream *st = t->st;
    uint64_t start, end, now, sent = 0, next_seq = 1, count = O.count;
    double secs;
    pin_self(O.tx_cpu);
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    pthread_barrier_wait(&start_barrier);
    start = now_ns(CLOCK_MONOTONIC);
    end = O.duration > 0 ? start + (uint64_t)(O.duration * 1e9) : UINT64_MAX;
    if (O.rate && O.duration > 0) {
        /* a paced run sends rate x duration frames: a sender late at the end may finish its
         * overdue frames within a grace; one that cannot keep up still stops there */
        uint64_t grace = (uint64_t)(O.duration * 1e8) + 50000000ull;
        end += grace < 1000000000ull ? grace : 1000000000ull;
    }
    while (!atomic_load_explicit(&stop_tx, memory_order_relaxed)) {
        uint64_t n = O.batch;
        now = now_ns(CLOCK_MONOTONIC);
        if (now >= end) break;
        if (count) {
            if (sent >= count) break;
            if (count - sent < n) n = count - sent;
        }
        if (O.rate) {
            /* absolute deadlines: frame k is due at start + k / rate, late frames go at once */
            uint64_t due = (uint64_t)((double)(now - start) * (double)O.rate / 1e9) + 1;
            if (due <= sent) {
                uint64_t next = start + (uint64_t)((double)sent * 1e9 / (double)O.rate);
                if (next > now + 10000000) next = now + 10000000;
                if (next > end) next = end;
                sleep_until_mono(next);
                continue;
            }
            if (due - sent < n) n = due - sent;
        }
        tx_batch(t, &next_seq, (unsigned)n);
        sent += n;
    }
    secs = (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e9;
    /* a paced stream spans sent/rate even though its last frame leaves at (sent-1)/rate */
    if (O.rate && !interrupted && (double)sent / (double)O.rate > secs) secs = (double)sent / (double)O.rate;
    st->tx_frames = sent;
    st->tx_seconds = secs;
    st->last_seq = next_seq - 1;
    st->has_tx = 1;
    return NULL;
}

/* ---------- output ---------- */

static uint64_t hist_percentile(const struct rx_stats *r, unsigned per10000)
{
    uint64_t rank = (r->samples * per10000 + 9999) / 10000, cum = 0, lo, hi;
    if (rank == 0) rank = 1;
    for (unsigned i = 0; i < H_BUCKETS; i++) {
        cum += r->h.counts[i];
        if (cum >= rank) {
            hist_bounds(i, &lo, &hi);
            return hi < (uint64_t)r->max ? hi : (uint64_t)r->max; /* upper bound: never flatters */
        }
    }
    return (uint64_t)r->max;
}

static void print_latency(const struct rx_stats *r)
{
    uint64_t lo, hi;
    int first = 1;
    printf("{\"samples\":%" PRIu64 ",\"negative\":%" PRIu64 ",\"no_timestamp\":%" PRIu64 ",\"overflow\":%" PRIu64
           ",\"timestamp_resolution_ns\":%d,",
           r->samples, r->negative, r->no_timestamp, r->h.overflow, r->tsres_ns);
    if (!r->samples) {
        printf("\"min\":null,\"avg\":null,\"max\":null,\"jitter\":null,\"p50\":null,\"p99\":null,\"p999\":null,"
               "\"p9999\":null,\"histogram\":[]}");
        return;
    }
    printf("\"min\":%" PRId64 ",\"avg\":%.1f,\"max\":%" PRId64 ",", r->min, (double)r->sum / (double)r->samples, r->max);
    if (r->jitter_n) printf("\"jitter\":%.1f,", (double)r->jitter_sum / (double)r->jitter_n);
    else printf("\"jitter\":null,");
    printf("\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"p999\":%" PRIu64 ",\"p9999\":%" PRIu64 ",\"histogram\":[",
           hist_percentile(r, 5000), hist_percentile(r, 9900), hist_percentile(r, 9990), hist_percentile(r, 9999));
    for (unsigned i = 0; i < H_BUCKETS; i++) {
        if (!r->h.counts[i]) continue;
        hist_bounds(i, &lo, &hi);
        printf("%s[%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", first ? "" : ",", lo, hi, r->h.counts[i]);
        first = 0;
    }
    if (r->h.overflow)
        printf("%s[%" PRIu64 ",%" PRId64 ",%" PRIu64 "]", first ? "" : ",", (uint64_t)1 << H_MAX_BITS, r->max, r->h.overflow);
    printf("]}");
}

static void print_stream(const struct stream *st, int has_rx, double rx_seconds)
{
    const struct rx_stats *r = &st->rx;
    printf("{\"stream_id\":%u,\"header\":\"%s\",", st->id, st->id ? "softgen" : "pktgen");
    if (st->has_tx) printf("\"tx_if\":\"%s\",", st->tx_if); else printf("\"tx_if\":null,");
    if (has_rx) printf("\"rx_if\":\"%s\",", st->rx_if); else printf("\"rx_if\":null,");
    if (st->has_tx)
        printf("\"tx_frames\":%" PRIu64 ",\"tx_retries\":%" PRIu64 ",\"first_seq\":1,\"last_seq\":%" PRIu64
               ",\"requested_pps\":%" PRIu64 ",\"achieved_tx_pps\":%.1f,\"duration_s\":%.6f,",
               st->tx_frames, st->tx_retries, st->last_seq, O.rate,
               st->tx_seconds > 0 ? (double)st->tx_frames / st->tx_seconds : 0.0, st->tx_seconds);
    else
        printf("\"tx_frames\":null,\"tx_retries\":null,\"first_seq\":%" PRIu64 ",\"last_seq\":null,"
               "\"requested_pps\":null,\"achieved_tx_pps\":null,\"duration_s\":%.6f,", O.first_seq, rx_seconds);
    if (!has_rx) {
        printf("\"rx_frames\":null,\"lost\":null,\"loss_ratio\":null,\"dropped\":null,\"duplicate\":null,"
               "\"out_of_order\":null,\"latency_ns\":null}");
        return;
    }
    {
        uint64_t dropped = r->gaps - r->recovered;
        if (st->has_tx && st->last_seq + 1 > r->expected) dropped += st->last_seq + 1 - r->expected; /* tail */
        printf("\"rx_frames\":%" PRIu64 ",", r->rx_frames);
        if (st->has_tx) {
            int64_t lost = (int64_t)st->tx_frames - (int64_t)(r->rx_frames - r->duplicate);
            printf("\"lost\":%" PRId64 ",", lost);
            if (st->tx_frames) printf("\"loss_ratio\":%.9g,", (double)lost / (double)st->tx_frames);
            else printf("\"loss_ratio\":null,");
        } else {
            printf("\"lost\":null,\"loss_ratio\":null,");
        }
        printf("\"dropped\":%" PRIu64 ",\"duplicate\":%" PRIu64 ",\"out_of_order\":%" PRIu64 ",\"latency_ns\":",
               dropped, r->duplicate, r->out_of_order);
        print_latency(r);
        printf("}");
    }
}

static void print_result(double rx_seconds)
{
    uint64_t nu = 0, nm = 0, us = 0, mf = 0;
    int has_tx = strcmp(O.mode, "rx") != 0;
    printf("{\"tool\":\"kfn-softgen\",\"version\":\"%s\",\"mode\":\"%s\",", SOFTGEN_VERSION, O.mode);
    if (has_tx)
        printf("\"tx_method\":\"%s\",\"qdisc_bypass\":%s,\"batch\":%u,", O.use_mmsg ? "sendmmsg" : "tx_ring",
               O.no_bypass ? "false" : "true", O.batch);
    else
        printf("\"tx_method\":null,\"qdisc_bypass\":null,\"batch\":null,");
    printf("\"clock\":\"CLOCK_REALTIME\",\"rx_timestamp\":\"kernel-software\",");
    if (has_tx && !O.imix) printf("\"frame_size\":%u,", O.size); else printf("\"frame_size\":null,");
    printf("\"imix\":%s,\"flows\":%u,\"drain_ms\":%u,\"interrupted\":%s,\"streams\":[", O.imix ? "true" : "false",
           O.flows, has_tx && n_rx ? O.drain_ms : 0, interrupted ? "true" : "false");
    for (unsigned i = 0; i < n_streams; i++) {
        if (i) printf(",");
        print_stream(&S[i], S[i].rx_slot >= 0, rx_seconds);
    }
    printf("],\"rx_interfaces\":[");
    for (unsigned i = 0; i < n_rx; i++) {
        const struct rx_sock *rs = &R[i];
        printf("%s{\"if\":\"%s\",\"ring_packets\":%" PRIu64 ",\"ring_drops\":%" PRIu64 ",\"strays\":{\"not_ipv4_udp\":%"
               PRIu64 ",\"no_magic\":%" PRIu64 ",\"unknown_stream\":%" PRIu64 ",\"malformed\":%" PRIu64 "}}",
               i ? "," : "", rs->ifname, rs->ring_packets, rs->ring_drops, rs->not_ipv4_udp, rs->no_magic,
               rs->unknown_stream, rs->malformed);
        nu += rs->not_ipv4_udp; nm += rs->no_magic; us += rs->unknown_stream; mf += rs->malformed;
    }
    printf("],\"strays\":{\"total\":%" PRIu64 ",\"not_ipv4_udp\":%" PRIu64 ",\"no_magic\":%" PRIu64
           ",\"unknown_stream\":%" PRIu64 ",\"malformed\":%" PRIu64 "}}\n",
           nu + nm + us + mf, nu, nm, us, mf);
    fflush(stdout);
}

/* ---------- main ---------- */

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
    atomic_store(&stop_tx, 1);
}

static int rx_slot_for(const char *ifname)
{
    for (unsigned i = 0; i < n_rx; i++)
        if (!strcmp(R[i].ifname, ifname)) return (int)i;
    snprintf(R[n_rx].ifname, IF_NAMESIZE, "%s", ifname);
    R[n_rx].fd = -1;
    return (int)n_rx++;
}

static void add_stream(uint32_t id, const char *tx_if, const char *rx_if, const uint8_t *dst_mac, uint32_t sip, uint32_t dip)
{
    struct stream *st = &S[n_streams++];
    memset(st, 0, sizeof *st);
    st->id = id;
    st->rx_slot = -1;
    st->rx.expected = O.first_seq;
    st->rx.tsres_ns = 1;
    if (tx_if) {
        snprintf(st->tx_if, IF_NAMESIZE, "%s", tx_if);
        st->tx_ifindex = if_index_and_mac(tx_if, st->src_mac);
        if (O.has_src_mac && n_streams == 1) memcpy(st->src_mac, O.src_mac, 6);
        memcpy(st->dst_mac, dst_mac, 6);
        st->src_ip = sip;
        st->dst_ip = dip;
    }
    if (rx_if) {
        snprintf(st->rx_if, IF_NAMESIZE, "%s", rx_if);
        st->rx_slot = rx_slot_for(rx_if);
        st->rx.window = calloc(WIN / 64, sizeof(uint64_t));
        if (!st->rx.window) die("out of memory");
    }
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    sigset_t block, old;
    pthread_t rx_thread;
    unsigned n_tx = 0;
    uint64_t rx_start, rx_end;
    parse_args(argc, argv);
    if (!strcmp(O.mode, "trial")) {
        add_stream(O.stream_id, O.tx_if, O.rx_if, O.dst_mac, O.src_ip, O.dst_ip);
        if (O.bidir) add_stream(O.rev_stream_id, O.rx_if, O.tx_if, O.rev_dst_mac, O.dst_ip, O.src_ip);
    } else if (!strcmp(O.mode, "tx")) {
        add_stream(O.stream_id, O.tx_if, NULL, O.dst_mac, O.src_ip, O.dst_ip);
    } else {
        add_stream(O.pktgen ? 0 : O.stream_id, NULL, O.rx_if, NULL, 0, 0);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old); /* workers inherit the mask; main takes signals */

    for (unsigned i = 0; i < n_rx; i++) rx_open(&R[i]);
    for (unsigned i = 0; i < n_streams; i++)
        if (S[i].tx_ifindex) { T[n_tx].st = &S[i]; tx_open(&T[n_tx]); n_tx++; }
    rx_start = now_ns(CLOCK_MONOTONIC);
    if (n_rx && pthread_create(&rx_thread, NULL, rx_main, NULL)) die("starting the receive thread");
    if (n_tx) {
        pthread_barrier_init(&start_barrier, NULL, n_tx);
        for (unsigned i = 0; i < n_tx; i++)
            if (pthread_create(&T[i].thread, NULL, tx_main, &T[i])) die("starting a send thread");
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    for (unsigned i = 0; i < n_tx; i++) pthread_join(T[i].thread, NULL);
    if (!n_tx) { /* rx mode: listen for the duration or until a signal */
        uint64_t until = rx_start + (uint64_t)(O.duration * 1e9);
        while (!interrupted && now_ns(CLOCK_MONOTONIC) < until) {
            uint64_t step = now_ns(CLOCK_MONOTONIC) + 10000000;
            sleep_until_mono(step < until ? step : until);
        }
    } else if (n_rx) {
        sleep_until_mono(now_ns(CLOCK_MONOTONIC) + (uint64_t)O.drain_ms * 1000000ull);
    }
    rx_end = now_ns(CLOCK_MONOTONIC);
    if (n_rx) {
        atomic_store(&stop_rx, 1);
        pthread_join(rx_thread, NULL);
        for (unsigned i = 0; i < n_rx; i++) rx_close_stats(&R[i]);
    }
    print_result((double)(rx_end - rx_start) / 1e9);
    return 0;
}
