/* churn N INTERVAL_US: a job whose tree never holds still. It ignores
 * SIGTERM, starts N processes that ignore SIGTERM too, and each of them,
 * every INTERVAL_US microseconds, forks its replacement and exits: the
 * pids of the tree change all the time, as in a build that runs many
 * short compilers. Prints "ready" once the N are started. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* A test that fails may leave the tree behind; it must not churn on for
 * ever on the machine, so every process gives up after LIFETIME seconds. */
#define LIFETIME 60

int main(int argc, char **argv) {
	if (argc != 3)
		return 2;
	int n = atoi(argv[1]);
	useconds_t us = (useconds_t)atol(argv[2]);
	time_t start = time(NULL);
	signal(SIGTERM, SIG_IGN);
	signal(SIGCHLD, SIG_IGN); /* the leader's exited children reap themselves */
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0) {
			for (;;) {
				usleep(us);
				if (time(NULL) - start > LIFETIME)
					_exit(0);
				pid_t q = fork();
				if (q > 0)
					_exit(0);
			}
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (time(NULL) - start <= LIFETIME)
		sleep(1);
	return 0;
}
