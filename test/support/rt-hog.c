/*
 * rt-hog: the lab's deliberate disturbance for the trace-at-breach tests. It pins itself to one
 * CPU at SCHED_FIFO <prio> and spins for <busy_ms>, sleeps <idle_ms>, and again, for <total_s>.
 * A measurement thread at the same FIFO priority woken while it spins waits until the burst ends,
 * so each burst is a latency of up to <busy_ms>. Each burst is printed as
 * "burst <start s> <length ms>" (CLOCK_MONOTONIC), the run time the trace summary must report.
 * Built by the test with gcc; the binary is never committed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	cpu_set_t set;
	struct sched_param sp;
	struct timespec idle;
	double end, start, t0, t1;
	int cpu, prio, busy_ms, idle_ms, total_s;

	if (argc != 6) {
		fprintf(stderr, "usage: %s CPU PRIO BUSY_MS IDLE_MS TOTAL_S\n", argv[0]);
		return 2;
	}
	cpu = atoi(argv[1]);
	prio = atoi(argv[2]);
	busy_ms = atoi(argv[3]);
	idle_ms = atoi(argv[4]);
	total_s = atoi(argv[5]);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fprintf(stderr, "sched_setaffinity(%d): %s\n", cpu, strerror(errno));
		return 1;
	}
	memset(&sp, 0, sizeof(sp));
	sp.sched_priority = prio;
	if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
		fprintf(stderr, "sched_setscheduler(FIFO %d): %s\n", prio, strerror(errno));
		return 1;
	}
	mlockall(MCL_CURRENT | MCL_FUTURE);
	idle.tv_sec = idle_ms / 1000;
	idle.tv_nsec = (idle_ms % 1000) * 1000000L;
	start = now_s();
	end = start + total_s;
	printf("rt-hog cpu %d fifo %d busy %d ms idle %d ms for %d s\n", cpu, prio, busy_ms, idle_ms, total_s);
	fflush(stdout);
	while (now_s() < end) {
		t0 = now_s();
		do
			t1 = now_s();
		while ((t1 - t0) * 1000 < busy_ms);
		printf("burst %.6f %.3f\n", t0, (t1 - t0) * 1000);
		fflush(stdout);
		nanosleep(&idle, NULL);
	}
	return 0;
}
