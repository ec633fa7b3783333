/* orphans N INTERVAL_MS SECONDS [fork]: the orphan churn of bench/run.sh's
 * reaper benchmark (issue #10, item 10). Every INTERVAL_MS, N children each
 * start a grandchild and exit at once; the grandchild, re-parented to the
 * nearest subreaper (the supervisor), lives 1 ms and exits, so it is the
 * supervisor that must reap it. Runs for SECONDS, then prints the number
 * of orphans made and of failed starts.
 *
 * Children and grandchildren are processes made by clone(CLONE_VM): they
 * share the job's memory, so making one costs no page-table copy. On the
 * virtual machines this is measured on, fork() costs ~770 us (vfork ~30
 * us), and a fork() churn reached ~450 orphans/s, a twentieth of the
 * issue's 100 per 10 ms; the reaper was then measured against a trickle.
 * For the reaper nothing differs: each is a process of its own, in the
 * job's cgroup, re-parented to the subreaper, a zombie until reaped. The
 * optional "fork" argument uses fork() as before. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define STACK (16 * 1024)
/* Stacks are reused round robin. A grandchild lives ~1 ms, a child less;
 * a slot comes back after SLOTS/N intervals (~400 ms at 100 per 10 ms). */
#define SLOTS 4096

static char *stacks;
static unsigned next;

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *stack(void) {
	return stacks + (size_t)(__atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % SLOTS + 1) * STACK;
}

static int grandchild(void *arg) {
	(void)arg;
	struct timespec ms = {0, 1000000};
	nanosleep(&ms, NULL);
	_exit(0);
}

static int child(void *arg) {
	(void)arg;
	signal(SIGCHLD, SIG_DFL); /* a grandchild that ends first waits for us */
	/* The grandchild's exit signal is SIGCHLD: once re-parented, the
	 * subreaper is told of its end as of any child's. */
	clone(grandchild, stack(), CLONE_VM | SIGCHLD, NULL);
	_exit(0);
}

int main(int argc, char **argv) {
	if (argc != 4 && argc != 5)
		return 2;
	int n = atoi(argv[1]);
	useconds_t us = (useconds_t)atol(argv[2]) * 1000;
	double secs = atof(argv[3]), end = now() + secs;
	int usefork = argc == 5 && strcmp(argv[4], "fork") == 0;
	long made = 0, failed = 0;
	stacks = mmap(NULL, (size_t)(SLOTS + 1) * STACK, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (stacks == MAP_FAILED)
		return 1;
	signal(SIGCHLD, SIG_IGN); /* the job's own children reap themselves */
	while (now() < end) {
		for (int i = 0; i < n; i++) {
			pid_t p;
			if (usefork) {
				p = fork();
				if (p == 0) {
					signal(SIGCHLD, SIG_DFL);
					if (fork() == 0) {
						usleep(1000);
						_exit(0);
					}
					_exit(0);
				}
			} else {
				p = clone(child, stack(), CLONE_VM | SIGCHLD, NULL);
			}
			if (p < 0)
				failed++;
			else
				made++;
		}
		usleep(us);
	}
	printf("orphans=%ld fork_failures=%ld\n", made, failed);
	fflush(stdout);
	return 0;
}
