/*
 * kfn-qmp: one QMP conversation with a QEMU that the harness launched, run on the node
 * through the harness's ordinary remote command (sudo -n where the user is not root),
 * so that QMP needs no extra tool (socat, python) and no SSH stream forwarding.
 *
 *   kfn-qmp SOCKET TIMEOUT_MS COMMAND_JSON...
 *
 * It connects to the QMP unix socket, reads the greeting, sends qmp_capabilities, then
 * each COMMAND_JSON (one JSON object, sent as given plus a newline). It prints every
 * line QEMU sends, as received, and moves to the next command once the reply to the
 * current one has arrived. QMP (docs/interop/qmp-spec.txt, QEMU 7.2) answers every
 * command with exactly one `{"return": ...}` or `{"error": ...}` line; asynchronous
 * events, objects with a top-level "event" key, may come in between and are printed
 * as well. QEMU prints a QDict's keys in hash-bucket order, not insertion order
 * (qobject/qdict.c; qapi/qmp-event.c inserts "event" before "timestamp", yet 7.2 prints
 * "timestamp" first), so the top-level keys are scanned, never assumed at a position.
 * The JSON itself is parsed by the harness (lib/tools/qemu/qmp.ts), not here.
 *
 * Exit: 0 all replies received; 2 bad usage; 3 cannot connect; 4 timeout; 5 QEMU
 * closed the socket before a reply (expected after "quit" only).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (1 << 20)

static char buf[LINE_MAX_BYTES];
static size_t used;
/* Bytes of the line last returned by read_line, its newline included. */
static size_t line_len;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads one line (without its newline) into out; 0 ok, 4 timeout, 5 closed. */
static int read_line(int fd, long long deadline, char **out)
{
	for (;;) {
		char *nl = memchr(buf, '\n', used);
		if (nl) {
			line_len = (size_t)(nl - buf) + 1;
			*nl = '\0';
			/* QEMU ends its lines with CRLF. */
			if (nl > buf && nl[-1] == '\r')
				nl[-1] = '\0';
			*out = buf;
			return 0;
		}
		if (used == sizeof(buf) - 1) {
			fprintf(stderr, "kfn-qmp: a QMP line is longer than %d bytes\n", LINE_MAX_BYTES);
			return 5;
		}
		long long left = deadline - now_ms();
		if (left <= 0)
			return 4;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? 4 : 5;
		ssize_t n = read(fd, buf + used, sizeof(buf) - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 5;
		used += (size_t)n;
	}
}

/* Drops the line just returned by read_line from the buffer. */
static void consume_line(void)
{
	memmove(buf, buf + line_len, used - line_len);
	used -= line_len;
}

static int send_all(int fd, const char *text)
{
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return write(fd, "\n", 1) == 1 ? 0 : -1;
}

/* 1 when the object on this line has a top-level "return" or "error" key: a reply. */
static int is_reply(const char *line)
{
	int depth = 0, in_string = 0, escaped = 0, expect_key = 0;
	const char *key = NULL;
	for (const char *c = line; *c; c++) {
		if (in_string) {
			if (escaped)
				escaped = 0;
			else if (*c == '\\')
				escaped = 1;
			else if (*c == '"') {
				in_string = 0;
				if (key) {
					size_t len = (size_t)(c - key);
					if ((len == 6 && !strncmp(key, "return", 6)) || (len == 5 && !strncmp(key, "error", 5)))
						return 1;
					key = NULL;
				}
			}
			continue;
		}
		switch (*c) {
		case '"':
			in_string = 1;
			if (depth == 1 && expect_key)
				key = c + 1;
			expect_key = 0;
			break;
		case '{':
		case '[':
			depth++;
			expect_key = depth == 1;
			break;
		case '}':
		case ']':
			depth--;
			break;
		case ',':
			expect_key = depth == 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* Prints lines until the reply to the command just sent; events are printed and passed. */
static int await_reply(int fd, long long deadline)
{
	for (;;) {
		char *line;
		int rc = read_line(fd, deadline, &line);
		if (rc != 0)
			return rc;
		printf("%s\n", line);
		fflush(stdout);
		int reply = is_reply(line);
		consume_line();
		if (reply)
			return 0;
	}
}

static const char *describe(int rc)
{
	return rc == 4 ? "timed out waiting for QEMU" : "QEMU closed the QMP socket";
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: kfn-qmp SOCKET TIMEOUT_MS COMMAND_JSON...\n");
		return 2;
	}
	char *end;
	long timeout = strtol(argv[2], &end, 10);
	if (*end != '\0' || timeout <= 0) {
		fprintf(stderr, "kfn-qmp: TIMEOUT_MS: expected a positive number of milliseconds, got %s\n", argv[2]);
		return 2;
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "kfn-qmp: socket path longer than %zu bytes: %s\n", sizeof(addr.sun_path) - 1, argv[1]);
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		fprintf(stderr, "kfn-qmp: cannot connect to %s: %s\n", argv[1], strerror(errno));
		return 3;
	}
	long long deadline = now_ms() + timeout;
	char *greeting;
	int rc = read_line(fd, deadline, &greeting);
	if (rc != 0) {
		fprintf(stderr, "kfn-qmp: no QMP greeting: %s\n", describe(rc));
		return rc;
	}
	printf("%s\n", greeting);
	consume_line();
	if (send_all(fd, "{\"execute\": \"qmp_capabilities\"}") != 0 || (rc = await_reply(fd, deadline)) != 0) {
		fprintf(stderr, "kfn-qmp: qmp_capabilities: %s\n", rc ? describe(rc) : strerror(errno));
		return rc ? rc : 5;
	}
	for (int i = 3; i < argc; i++) {
		if (send_all(fd, argv[i]) != 0) {
			fprintf(stderr, "kfn-qmp: cannot send command %d: %s\n", i - 2, strerror(errno));
			return 5;
		}
		rc = await_reply(fd, deadline);
		if (rc != 0) {
			fprintf(stderr, "kfn-qmp: command %d: %s\n", i - 2, describe(rc));
			return rc;
		}
	}
	close(fd);
	return 0;
}
