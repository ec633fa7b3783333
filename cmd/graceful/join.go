//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/kubernetes"
	"github.com/graceful-sh/graceful/engine/process"
	"github.com/graceful-sh/graceful/engine/supervise"
)

// newJoinCmd builds `graceful join`, the entrypoint of a job container in a
// pod coordinated by `graceful run --profile kubernetes`.
func newJoinCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "join --socket PATH [flags] -- command [args...]",
		Short: "Run a job container's command under a kubernetes coordinator",
		Long: `Connect to the coordinator's socket, wait for this container's turn, run the
command under the process runner, stream its output to the coordinator (and to
this container's own stdout/stderr), and report its exit status.

join ignores SIGTERM, SIGINT, SIGHUP and SIGQUIT: the kubelet sends them to every
container at once, and the job must be signalled exactly once, by its local
timeline (the "process" profile unless --profile says otherwise), when the
coordinator says interrupt or disappears. See docs/kubernetes.md.

Exit status: the job's (126 or 127 when the command cannot be run); 122 when
the coordinator said to skip this container; 125 for join's own failures:
bad flags, could not connect, refused, coordinator gone before our turn.`,
		Example: `  graceful join --socket /graceful/socket --name build -- make test`,
		// Like run, join reports its own failures, usage errors included,
		// as 125, so they cannot be mistaken for the job's status.
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return withStatus(exitInternal, errors.New("join: no command given\nUsage: graceful join --socket PATH [flags] -- command [args...]"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			// The threads kept for a job that uses up its pids limit
			// are made while the policy loads; the job's start waits
			// for them (engine/process/nproc.go).
			process.ReserveThreads()
			return runJoin(cmd, v, args)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withStatus(exitInternal, fmt.Errorf("join: %w%s\nRun 'graceful join --help' for usage", err, flagSuggestion(c.Flags(), err)))
	})
	cmd.Flags().SetInterspersed(false)
	fs := cmd.Flags()
	fs.String("socket", "", "the coordinator's socket on the shared volume (required)")
	fs.String("name", "", "this job container's name, as the coordinator's --job expects it")
	fs.String("token-file", "", "token file (default: \"token\" beside the socket); GRACEFUL_TOKEN overrides it")
	fs.String("policy", "", "policy file or directory, loaded with the built-in profiles")
	fs.String("profile", "", `local profile run against the job when interrupted (default: the only profile of --policy if it defines one, else "process")`)
	fs.Duration("start-timeout", kubernetes.DefaultStartTimeout, "time to wait for the coordinator's socket and token")
	fs.IntSlice("peer-uid", nil, "uids besides our own the coordinator may run as (-1: any)")
	fs.String("cgroup", "auto", "tree tracking: auto, on or off (see graceful run)")
	fs.Int("oom-score-adj", 1000, "the job's oom_score_adj, so the OOM killer picks it before join (-1: leave it)")
	fs.String("events", "", `write the local engine's events as JSON lines to FILE ("-": stdout)`)
	fs.BoolP("verbose", "v", false, "log every event of the local engine")
	return cmd
}

func runJoin(cmd *cobra.Command, v *viper.Viper, args []string) error {
	supervise.SurviveEPIPE()
	socket := v.GetString("socket")
	if socket == "" {
		return withStatus(exitInternal, fmt.Errorf("join needs --socket PATH, the coordinator's socket"))
	}
	prof, err := findForRun(v.GetString("policy"), v.GetString("profile"))
	if err != nil {
		return withStatus(exitInternal, err)
	}
	if prof.Runner == engine.RunnerKubernetes {
		return withStatus(exitInternal, fmt.Errorf("profile %q is for the coordinator; join runs the job under a process profile", prof.Name))
	}
	mode, err := process.ParseCgroupMode(v.GetString("cgroup"))
	if err != nil {
		return withStatus(exitInternal, err)
	}
	adj := v.GetInt("oom-score-adj")
	if adj == 0 {
		adj = -1 // 0 is the kernel default: nothing to raise
	}
	timeout := v.GetDuration("start-timeout")
	// The token file, if needed, is waited for inside RunJoin: within the
	// same start timeout as the socket, and with the kubelet's signals
	// already swallowed.
	token := strings.TrimSpace(os.Getenv(kubernetes.TokenEnv))
	out := newOutputs()
	defer out.close()
	sinks, err := kubernetesSinks(v, out)
	if err != nil {
		return withStatus(exitInternal, err)
	}
	status, err := kubernetes.RunJoin(cmd.Context(), kubernetes.JoinRun{
		Client: kubernetes.ClientConfig{
			Socket:       socket,
			Token:        token,
			TokenFile:    tokenFile(v, socket),
			Name:         v.GetString("name"),
			StartTimeout: timeout,
			PeerUIDs:     v.GetIntSlice("peer-uid"),
		},
		Profile:     prof,
		Args:        args,
		Sinks:       sinks,
		Cgroup:      mode,
		OOMScoreAdj: adj,
		// graceful exits next: a late SIGTERM must not change its status.
		KeepSignals: true,
	})
	if err != nil {
		return withStatus(status, fmt.Errorf("join: %w", err))
	}
	if status == 0 {
		return nil
	}
	return silentStatus(status)
}
