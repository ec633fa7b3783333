/* forkbomb MODE: a fork bomb that takes back every pid freed at its limit
 * at once, for the tests (which bound it with a pids cgroup). Every
 * process ignores SIGTERM and loops on fork() for ever, retrying at once
 * when the limit refuses it.
 *
 *   forkbomb exit   the job's leader starts the bomb and exits 0 300 ms
 *                   later: what is left is the orphans' (graceful's
 *                   cleanup)
 *   forkbomb stay   the leader stays; every bomb process leaves the
 *                   leader's session and group (setsid), so only a walk of
 *                   the tree reaches them (the timeline's SIGKILL step) */
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void bomb(int escape) {
	for (;;) {
		if (fork() == 0 && escape)
			setsid();
	}
}

int main(int argc, char **argv) {
	int stay = argc > 1 && strcmp(argv[1], "stay") == 0;
	signal(SIGTERM, SIG_IGN);
	pid_t p = fork();
	if (p == 0) {
		if (stay)
			setsid();
		bomb(stay);
	}
	write(1, "ready\n", 6);
	if (stay)
		for (;;)
			pause();
	usleep(300 * 1000); /* the bomb is at its limit by then */
	return 0;
}
