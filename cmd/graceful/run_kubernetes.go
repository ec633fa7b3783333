//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/engine/kubernetes"
)

// addCoordinatorFlags adds the kubernetes coordinator's flags to run. They
// apply only when the profile's runner is kubernetes.
func addCoordinatorFlags(fs *pflag.FlagSet) {
	fs.String("socket", "", "kubernetes: path of the coordinator's Unix socket on the volume shared with the job containers")
	fs.String("token-file", "", "kubernetes: token file (default: \"token\" beside the socket, created 0600 if absent); GRACEFUL_TOKEN overrides it")
	fs.Int("jobs", 0, "kubernetes: number of job containers, started one after the other in the order they connect")
	fs.StringArray("job", nil, "kubernetes: name of a job container; repeat in start order (instead of --jobs)")
	fs.Bool("parallel", false, "kubernetes: start every job container as soon as it connects")
	fs.Duration("start-timeout", kubernetes.DefaultStartTimeout, "kubernetes: time every job container has to connect")
	fs.Duration("liveness-interval", kubernetes.DefaultInterval, "kubernetes: ping interval; a peer silent for "+strconv.Itoa(kubernetes.DefaultMisses)+" intervals is lost")
	fs.IntSlice("peer-uid", nil, "kubernetes: uids besides our own that may connect (-1: any); see docs/kubernetes.md")
}

// runCoordinator runs `graceful run` for a profile whose runner is
// kubernetes: it serves the socket and carries out the profile against the
// job containers.
func runCoordinator(cmd *cobra.Command, v *viper.Viper, prof *engine.Profile) error {
	socket := v.GetString("socket")
	if socket == "" {
		return withStatus(exitInternal, errors.New("the kubernetes runner needs --socket PATH (on a volume shared with the job containers)"))
	}
	jobs := v.GetStringSlice("job")
	count := v.GetInt("jobs")
	if len(jobs) > 0 && count > 0 && count != len(jobs) {
		return withStatus(exitInternal, fmt.Errorf("--jobs %d contradicts the %d --job names; give one or the other", count, len(jobs)))
	}
	if count < 0 {
		return withStatus(exitInternal, fmt.Errorf("--jobs %d: must be positive", count))
	}
	token, err := coordinatorToken(v, socket)
	if err != nil {
		return withStatus(exitInternal, err)
	}
	out := newOutputs()
	defer out.close()
	sinks, err := kubernetesSinks(v, out)
	if err != nil {
		return withStatus(exitInternal, err)
	}
	// The pod's receipt: the coordinator's timeline, and each job
	// container with the receipt its join reported.
	var rcpt *receiptFile
	if name := v.GetString("receipt"); name != "" {
		if rcpt, err = newReceiptFile(prof, name); err != nil {
			return withStatus(exitInternal, fmt.Errorf("--receipt: %w", err))
		}
		sinks = append(sinks, rcpt.sink)
	}
	res, err := kubernetes.RunCoordinator(cmd.Context(), kubernetes.CoordinatorRun{
		Coordinator: kubernetes.Config{
			Socket:       socket,
			Token:        token,
			Jobs:         jobs,
			Count:        count,
			Parallel:     v.GetBool("parallel"),
			StartTimeout: v.GetDuration("start-timeout"),
			Interval:     v.GetDuration("liveness-interval"),
			PeerUIDs:     v.GetIntSlice("peer-uid"),
			Output:       os.Stdout,
		},
		Profile: prof,
		Sinks:   sinks,
		Timeout: mustTimeout(v.GetString("timeout")),
		Stderr:  out.stderr,
		// graceful exits next: a late SIGTERM must not change its status.
		KeepSignals: true,
		OnSummary: func(st []kubernetes.ContainerStatus, receipts [][]byte) {
			if rcpt != nil {
				rcpt.containers = podContainers(st, receipts)
			}
		},
	})
	if err != nil {
		return withStatus(exitInternal, err)
	}
	if res.FinalizeErr != nil {
		fmt.Fprintf(out.stderr, "graceful: finalize: %v\n", res.FinalizeErr)
	}
	if err := rcpt.finish(res, out, nil); err != nil {
		fmt.Fprintf(out.stderr, "graceful: --receipt: %v\n", err)
	}
	if res.Status == 0 {
		return nil
	}
	return silentStatus(res.Status)
}

// tokenFile is --token-file, or "token" beside the socket.
func tokenFile(v *viper.Viper, socket string) string {
	if f := v.GetString("token-file"); f != "" {
		return f
	}
	return filepath.Join(filepath.Dir(socket), "token")
}

// coordinatorToken is GRACEFUL_TOKEN, else the token file, created with a
// fresh token if absent.
func coordinatorToken(v *viper.Viper, socket string) (string, error) {
	if t := strings.TrimSpace(os.Getenv(kubernetes.TokenEnv)); t != "" {
		return t, nil
	}
	return kubernetes.EnsureToken(tokenFile(v, socket))
}

// kubernetesSinks are the event sinks of the coordinator and of join: the
// human log on stderr (signals, cancellation and actions only, unless
// --verbose) and JSON lines to --events, each behind out's Outboxes.
func kubernetesSinks(v *viper.Viper, out *outputs) ([]engine.Sink, error) {
	text := engine.NewTextSink(out.stderr)
	sinks := []engine.Sink{text}
	if !v.GetBool("verbose") {
		sinks[0] = engine.SinkFunc(func(e engine.Event) {
			if noteworthy(e) {
				text.Emit(e)
			}
		})
	}
	if name := v.GetString("events"); name != "" {
		w, err := out.openEvents(name)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, engine.NewJSONSink(w))
	}
	return sinks, nil
}
