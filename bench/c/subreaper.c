/* subreaper CMD [ARGS...]: the minimal waitpid(-1) subreaper that
 * bench/run.sh measures graceful's orphan reaper against. It becomes a
 * child subreaper, runs CMD, and reaps every child (the job and each
 * orphan re-parented to it) in one blocking waitpid(-1) loop until none is
 * left; it exits with the job's status. */
#include <errno.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid_t job = fork();
	if (job < 0)
		return 125;
	if (job == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	int st, code = 0;
	pid_t p;
	while ((p = waitpid(-1, &st, 0)) > 0 || (p < 0 && errno == EINTR))
		if (p == job)
			code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return code;
}
