/* orphans N INTERVAL_MS SECONDS: the orphan churn of bench/run.sh's reaper
 * benchmark (issue #10, item 10). Every INTERVAL_MS, N children each fork
 * a grandchild and exit at once; the grandchild, re-parented to the
 * nearest subreaper (the supervisor), lives 1 ms and exits, so it is the
 * supervisor that must reap it. Runs for SECONDS, then prints the number
 * of orphans made and of failed forks. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	if (argc != 4)
		return 2;
	int n = atoi(argv[1]);
	useconds_t us = (useconds_t)atol(argv[2]) * 1000;
	double secs = atof(argv[3]), end = now() + secs;
	long made = 0, failed = 0;
	signal(SIGCHLD, SIG_IGN); /* the job's own children reap themselves */
	while (now() < end) {
		for (int i = 0; i < n; i++) {
			pid_t p = fork();
			if (p == 0) {
				signal(SIGCHLD, SIG_DFL);
				if (fork() == 0) {
					usleep(1000);
					_exit(0);
				}
				_exit(0);
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
