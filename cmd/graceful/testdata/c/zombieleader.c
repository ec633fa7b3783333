/* zombieleader SECONDS: leaves the job as a process whose main thread has
 * exited while another thread lives on: setsid, start a thread that sleeps
 * SECONDS, then pthread_exit in the main thread. /proc then says "Z" for
 * the process, yet it is alive (systemd#12262). The parent returns at
 * once, so the job itself exits while this process escapes it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *sleeper(void *arg) {
	sleep((unsigned)(long)arg);
	return NULL;
}

int main(int argc, char **argv) {
	long secs = argc > 1 ? atol(argv[1]) : 20;
	pid_t p = fork();
	if (p != 0) {
		printf("escaped %d\n", p);
		fflush(stdout);
		return 0;
	}
	setsid();
	pthread_t t;
	pthread_create(&t, NULL, sleeper, (void *)secs);
	pthread_exit(NULL);
}
