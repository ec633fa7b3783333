package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/graceful-sh/graceful/engine"
	"github.com/graceful-sh/graceful/policies"
)

// exitMargin is the time graceful is given after its deadline to report
// and exit before the platform's SIGKILL: the engine waits at most 250 ms
// for effects and cut commands, the outputs at most 250 ms more; the rest
// is slack for a loaded machine. Recommended grace periods are the
// deadline plus this, rounded up to whole seconds.
const exitMargin = time.Second

func newPlanCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plan --for PLATFORM [--profile NAME] [--policy FILE] [--set KEY=VALUE ...] [-json]",
		Short: "Print the platform settings a profile's timeline needs, and check given ones",
		Long: `Plan prints the settings of the system that stops graceful (the kubelet,
docker, compose, systemd, the Buildkite agent, Nomad) that make a profile's
timeline fit: which signal it must send first, and how long it must wait
before its own SIGKILL. Every such system sends one stop signal and kills
after a grace period; the grace period must cover the profile's deadline
plus a second for graceful to report and exit, and the first delivery of
the stop signal must cancel.

--set KEY=VALUE (repeatable) checks a setting you have (the platform's own
name, or "grace" for its grace period, "signal" for its stop signal). Where
a given grace period is too short, plan says which part of the timeline is
cut and by how much.

Platforms: ` + strings.Join(platformNames(), ", ") + `.

Exit status: 0 when the settings fit, 1 when a given setting does not, 2 on
usage errors. Without --profile: as explain.`,
		Example: `  graceful plan --for kubernetes --profile kubernetes
  graceful plan --for docker --set stop-timeout=5
  graceful plan --for systemd --set TimeoutStopSec=90s --set KillMode=control-group
  graceful plan --for buildkite-v4 --policy examples/policies -profile buildkite-v4 -json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if args := cmd.Flags().Args(); len(args) > 0 {
				return withStatus(exitUsage, fmt.Errorf("plan takes no arguments (got %q); name the platform with --for", args[0]))
			}
			return runPlan(cmd, v)
		},
	}
	cmd.Flags().String("for", "", "the platform: "+strings.Join(platformNames(), ", "))
	cmd.Flags().String("profile", "", `profile to plan for (default: the only profile of --policy if it defines one, else "process")`)
	cmd.Flags().String("policy", "", "policy file or directory (default: built-in profiles only)")
	cmd.Flags().StringArray("set", nil, "KEY=VALUE: a platform setting to check, e.g. terminationGracePeriodSeconds=30 (repeatable)")
	cmd.Flags().Bool("json", false, "print the plan as JSON (also -json)")
	goStyleFlags(cmd, v)
	_ = cmd.RegisterFlagCompletionFunc("for", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return platformNames(), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func runPlan(cmd *cobra.Command, v *viper.Viper) error {
	name := strings.ToLower(strings.TrimSpace(v.GetString("for")))
	if name == "" {
		return withStatus(exitUsage, fmt.Errorf("plan: --for is required (%s)", strings.Join(platformNames(), ", ")))
	}
	pf := findPlatform(name)
	if pf == nil {
		return withStatus(exitUsage, fmt.Errorf("plan: unknown platform %q (want %s)%s", name, strings.Join(platformNames(), ", "), suggestWord(name, platformNames())))
	}
	sets, _ := cmd.Flags().GetStringArray("set")
	given, err := pf.parseGiven(sets)
	if err != nil {
		return withStatus(exitUsage, err)
	}
	prof, err := findProfile(cmd, v)
	if err != nil {
		return err
	}
	r := pf.plan(prof, given)
	out := cmd.OutOrStdout()
	if v.GetBool("json") {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		planText(out, r)
	}
	if !r.Fits {
		return silentStatus(exitFindings)
	}
	return nil
}

// planReport is what plan prints; its JSON keys are stable.
type planReport struct {
	Profile  string        `json:"profile"`
	Platform string        `json:"platform"`
	Fits     bool          `json:"fits"`
	Settings []planSetting `json:"settings"`
	Timeline []planPoint   `json:"timeline"`
	Findings []planFinding `json:"findings"`
	Snippet  string        `json:"snippet"`

	who string // the platform's killer, for the text
}

// planSetting is one setting of the platform: what plan recommends, the
// platform's default, and the value given with --set (if any) and whether
// it fits.
type planSetting struct {
	Name        string `json:"name"`
	Recommended string `json:"recommended"`
	Default     string `json:"default"`
	Given       string `json:"given,omitempty"`
	OK          bool   `json:"ok"`
}

// planPoint is one point of the timeline from t0, the platform's stop
// signal: the profile's steps, its deadline, and the platform's SIGKILL
// under the settings checked (the given ones, else the recommended ones).
type planPoint struct {
	At   string `json:"at"`
	What string `json:"what"`
}

// planFinding says why a setting is what it is, or what a setting cuts.
// Severity "error" is a given setting that does not fit (exit status 1),
// "warning" a risk or a default that does not fit, "note" advice.
type planFinding struct {
	Severity string   `json:"severity"`
	Setting  string   `json:"setting,omitempty"`
	Message  string   `json:"message"`
	Details  []string `json:"details,omitempty"`
}

func (r *planReport) add(sev, setting, format string, args ...any) {
	r.Findings = append(r.Findings, planFinding{Severity: sev, Setting: setting, Message: fmt.Sprintf(format, args...)})
	if sev == "error" {
		r.Fits = false
	}
}

// detail adds a detail line to the last finding.
func (r *planReport) detail(format string, args ...any) {
	f := &r.Findings[len(r.Findings)-1]
	f.Details = append(f.Details, fmt.Sprintf(format, args...))
}

// planText writes r for a person.
func planText(w io.Writer, r *planReport) {
	verdict := "fits"
	if !r.Fits {
		verdict = "does not fit"
	}
	fmt.Fprintf(w, "profile %q under %s: %s\n", r.Profile, r.Platform, verdict)

	fmt.Fprintln(w, "\nSettings:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SETTING\tRECOMMENDED\tDEFAULT\tGIVEN")
	for _, s := range r.Settings {
		given := "-"
		if s.Given != "" {
			given = s.Given
			if !s.OK {
				given += " (does not fit)"
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.Name, s.Recommended, s.Default, given)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nTimeline from %s's stop signal (t0):\n", r.who)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, p := range r.Timeline {
		fmt.Fprintf(tw, "  %s\t%s\n", p.At, p.What)
	}
	tw.Flush()

	if len(r.Findings) > 0 {
		fmt.Fprintln(w)
		for _, f := range r.Findings {
			fmt.Fprintf(w, "%s: %s\n", f.Severity, f.Message)
			for _, d := range f.Details {
				fmt.Fprintf(w, "  - %s\n", d)
			}
		}
	}
	fmt.Fprintf(w, "\nFor %s:\n", r.Platform)
	for _, line := range strings.SplitAfter(strings.TrimSuffix(r.Snippet, "\n"), "\n") {
		fmt.Fprintf(w, "  %s", line)
	}
	fmt.Fprintln(w)
}

// platform is a system that stops what it runs: one stop signal, then a
// SIGKILL after a grace period.
type platform struct {
	name string
	who  string // who sends the signals, for sentences: "the kubelet"
	// keys are the settings --set accepts, canonical name first.
	keys []planKey
	// build fills in the report's settings, snippet and the outer kill.
	build func(pl *planner)
}

// planKey is one setting --set accepts.
type planKey struct {
	name    string
	aliases []string
	kind    keyKind
}

type keyKind int

const (
	keyDuration keyKind = iota // a number of seconds or a Go duration
	keySignal                  // a signal name
	keyWord                    // one of a fixed set of words (KillMode=)
	keyRelative                // seconds, negative meaning relative (Buildkite v3)
)

var platforms = []*platform{
	{name: "kubernetes", who: "the kubelet", build: planKubernetes, keys: []planKey{
		{name: "terminationGracePeriodSeconds", aliases: []string{"grace"}},
		{name: "preStop", aliases: []string{"prestop"}},
		{name: "stopSignal", aliases: []string{"signal", "STOPSIGNAL"}, kind: keySignal},
	}},
	{name: "docker", who: "docker stop", build: planDocker, keys: []planKey{
		{name: "stop-timeout", aliases: []string{"grace", "--stop-timeout", "timeout", "time"}},
		{name: "stop-signal", aliases: []string{"signal", "--stop-signal", "STOPSIGNAL"}, kind: keySignal},
	}},
	{name: "compose", who: "compose", build: planCompose, keys: []planKey{
		{name: "stop_grace_period", aliases: []string{"grace"}},
		{name: "stop_signal", aliases: []string{"signal"}, kind: keySignal},
	}},
	{name: "systemd", who: "systemd", build: planSystemd, keys: []planKey{
		{name: "TimeoutStopSec", aliases: []string{"grace"}},
		{name: "KillSignal", aliases: []string{"signal"}, kind: keySignal},
		{name: "KillMode", kind: keyWord},
		{name: "SendSIGKILL", kind: keyWord},
	}},
	{name: "buildkite-v3", who: "the Buildkite agent", build: planBuildkiteV3, keys: []planKey{
		{name: "BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS", aliases: []string{"grace", "signal-grace-period-seconds"}, kind: keyRelative},
		{name: "BUILDKITE_CANCEL_GRACE_PERIOD", aliases: []string{"cancel-grace-period"}},
		{name: "BUILDKITE_CANCEL_SIGNAL", aliases: []string{"signal", "cancel-signal"}, kind: keySignal},
	}},
	{name: "buildkite-v4", who: "the Buildkite agent", build: planBuildkiteV4, keys: []planKey{
		{name: "cancel-signal-timeout", aliases: []string{"grace", "BUILDKITE_CANCEL_SIGNAL_TIMEOUT"}},
		{name: "cancel-cleanup-timeout", aliases: []string{"BUILDKITE_CANCEL_CLEANUP_TIMEOUT"}},
		{name: "cancel-signal", aliases: []string{"signal", "BUILDKITE_CANCEL_SIGNAL"}, kind: keySignal},
	}},
	{name: "nomad", who: "Nomad", build: planNomad, keys: []planKey{
		{name: "kill_timeout", aliases: []string{"grace"}},
		{name: "kill_signal", aliases: []string{"signal"}, kind: keySignal},
		{name: "max_kill_timeout"},
	}},
}

func platformNames() []string {
	names := make([]string, len(platforms))
	for i, p := range platforms {
		names[i] = p.name
	}
	return names
}

func findPlatform(name string) *platform {
	for _, p := range platforms {
		if p.name == name {
			return p
		}
	}
	switch name { // what people also call them
	case "k8s", "kube", "pod":
		return platforms[0]
	case "docker-compose":
		return findPlatform("compose")
	}
	return nil
}

// given holds the --set values by canonical key, as typed.
type given map[string]string

// parseGiven reads the --set KEY=VALUE arguments. Keys match the
// platform's names case-insensitively; a repeated key is a usage error.
func (pf *platform) parseGiven(sets []string) (given, error) {
	g := given{}
	for _, s := range sets {
		k, val, ok := strings.Cut(s, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" || val == "" {
			return nil, fmt.Errorf("plan: --set %q: want KEY=VALUE", s)
		}
		key := pf.key(k)
		if key == nil {
			var names []string
			for _, pk := range pf.keys {
				names = append(names, pk.name)
			}
			return nil, fmt.Errorf("plan: --for %s has no setting %q (have: %s, and grace, signal)%s", pf.name, k, strings.Join(names, ", "), suggestWord(k, names))
		}
		if _, dup := g[key.name]; dup {
			return nil, fmt.Errorf("plan: --set %s given twice", key.name)
		}
		if err := key.check(val); err != nil {
			return nil, fmt.Errorf("plan: --set %s=%s: %w", key.name, val, err)
		}
		g[key.name] = val
	}
	return g, nil
}

func (pf *platform) key(k string) *planKey {
	for i := range pf.keys {
		pk := &pf.keys[i]
		if strings.EqualFold(k, pk.name) {
			return pk
		}
		for _, a := range pk.aliases {
			if strings.EqualFold(k, a) {
				return pk
			}
		}
	}
	return nil
}

func (pk *planKey) check(val string) error {
	switch pk.kind {
	case keySignal:
		if _, err := normSignal(val); err != nil {
			return err
		}
	case keyDuration:
		if _, err := parseGrace(val); err != nil {
			return err
		}
	case keyRelative:
		if _, err := strconv.Atoi(val); err != nil {
			return fmt.Errorf("not a whole number of seconds")
		}
	}
	return nil
}

// normSignal gives a signal's canonical name ("term" → "SIGTERM").
func normSignal(s string) (string, error) {
	n := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(n, "SIG") {
		n = "SIG" + n
	}
	if !slices.Contains(engine.SignalNames(), n) {
		return "", fmt.Errorf("unknown signal %q. %s", s, policies.SignalSuggestion(s))
	}
	return n, nil
}

// parseGrace reads a grace period: a bare number is seconds (as
// terminationGracePeriodSeconds, docker's --stop-timeout and systemd's
// TimeoutStopSec take it), anything else a Go duration. "infinity" (systemd)
// is no limit, returned as a negative duration.
func parseGrace(s string) (time.Duration, error) {
	if strings.EqualFold(s, "infinity") {
		return -1, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 {
			return 0, fmt.Errorf("negative")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("not a number of seconds nor a duration (30, 30s, 1m30s)")
	}
	if d < 0 {
		return 0, fmt.Errorf("negative")
	}
	return d, nil
}

// planner holds what every platform's plan needs: the profile, the given
// settings and the report being built.
type planner struct {
	pf    *platform
	p     *engine.Profile
	given given
	r     *planReport
	// need is the grace period graceful needs from the stop signal: the
	// deadline plus exitMargin, rounded up to whole seconds, or the
	// profile's budget when that is longer.
	need time.Duration
	// kill is the platform's SIGKILL from t0 under the settings checked;
	// negative when there is none.
	kill time.Duration
	// noDefault: grace does not check the default (another given
	// setting decides it).
	noDefault bool
}

func (pf *platform) plan(p *engine.Profile, g given) *planReport {
	pl := &planner{pf: pf, p: p, given: g, r: &planReport{Profile: p.Name, Platform: pf.name, Fits: true, who: pf.who}}
	pl.need = ceilSeconds(p.Deadline + exitMargin)
	if p.Budget > pl.need {
		pl.need = ceilSeconds(p.Budget)
	}
	pl.r.Settings, pl.r.Findings = []planSetting{}, []planFinding{}
	pf.build(pl)
	pl.timeline()
	if b := p.Budget; b > 0 && b < p.Deadline+exitMargin {
		pl.r.add("note", "", "the profile's budget, %s, is the grace period it was written for, but it leaves graceful %s after its deadline (+%s): give the grace period recommended here, or move the deadline to +%s", off(b), off(b-p.Deadline), off(p.Deadline), off(b-exitMargin))
	}
	switch {
	case p.Runner == engine.RunnerKubernetes && pf.name != "kubernetes":
		pl.r.add("note", "", "runner kubernetes: this profile is a pod's coordinator; its notify and abandon steps reach only join clients on its socket")
	case p.Runner != engine.RunnerKubernetes && pf.name == "kubernetes":
		pl.r.add("note", "", "this plan is for graceful as a container's entrypoint; as the local profile of a join, the profile starts on the coordinator's interrupt, not on the kubelet's signal, and the coordinator's profile (runner kubernetes) is the one to plan")
	}
	return pl.r
}

func ceilSeconds(d time.Duration) time.Duration {
	return time.Duration(math.Ceil(d.Seconds())) * time.Second
}

// seconds formats d as a whole number of seconds, rounded up ("11").
func seconds(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}

// dur formats d as the policy language does ("11s", "1m30s").
func dur(d time.Duration) string { return policies.FormatDuration(d) }

// value returns the given value of key, or "".
func (pl *planner) value(key string) string { return pl.given[key] }

// stopSignal adds the platform's stop-signal setting: the first delivery
// of it must cancel, because the platform sends it once. It returns the
// signal in effect (the given one, else the recommended one).
func (pl *planner) stopSignal(key, label, def string) string {
	p := pl.p
	rec := ""
	order := []string{def, "SIGTERM", "SIGINT", "SIGQUIT"}
	var rest []string
	for s := range p.Triggers {
		rest = append(rest, s)
	}
	slices.Sort(rest)
	for _, s := range append(order, rest...) {
		if first(p, s) == engine.ActionCancel {
			rec = s
			break
		}
	}
	st := planSetting{Name: label, Recommended: rec, Default: def, OK: true}
	if rec == "" {
		st.Recommended = "(none)"
		pl.r.add("error", label, "no signal's first delivery cancels under profile %q, and %s sends its stop signal once: give the profile an on block whose first action is cancel (the built-in container profile has one)", p.Name, pl.pf.who)
	} else if rec != def {
		pl.r.add("warning", label, "%s: the first %s (the default) %s under this profile; the first %s cancels", label, def, describeFirst(p, def), rec)
	}
	inEffect := rec
	if g := pl.value(key); g != "" {
		sig, _ := normSignal(g)
		st.Given, inEffect = sig, sig
		if a := first(p, sig); a != engine.ActionCancel {
			st.OK = false
			pl.r.add("error", label, "%s sends %s once; its first delivery %s under profile %q, so the timeline never starts and the job meets %s's SIGKILL: use %s", pl.pf.who, sig, describeFirst(p, sig), p.Name, pl.pf.who, st.Recommended)
		}
	}
	pl.r.Settings = append(pl.r.Settings, st)
	return inEffect
}

// first is the action of the first delivery of sig ("" when none).
func first(p *engine.Profile, sig string) engine.Action {
	if acts := p.Triggers[sig]; len(acts) > 0 {
		return acts[0]
	}
	return ""
}

func describeFirst(p *engine.Profile, sig string) string {
	switch first(p, sig) {
	case engine.ActionCancel:
		return "cancels"
	case engine.ActionDrain:
		return "only drains (waits for the job)"
	case engine.ActionExit:
		return "exits at once (no timeline)"
	case engine.ActionForward:
		return "is forwarded to the job (no timeline)"
	case engine.ActionIgnore:
		return "is ignored"
	}
	return "has no trigger (ignored)"
}

// grace adds a grace-period setting: rec is what plan recommends and def
// the platform's default, both in the platform's own spelling; kill maps
// such a value to the platform's SIGKILL from t0 (negative: none). The
// given value is checked (too short is an error), else the default (too
// short is a warning); the timeline shows the given or recommended one.
func (pl *planner) grace(key, label, rec, def string, kill func(raw string) time.Duration) {
	st := planSetting{Name: label, Recommended: rec, Default: def, OK: true}
	if g := pl.value(key); g != "" {
		st.Given = g
		pl.kill = kill(g)
		st.OK = pl.cuts(pl.kill, label, assign(label, g), "error")
	} else {
		pl.kill = kill(rec)
		if !pl.noDefault {
			pl.cuts(kill(def), label, "the default "+assign(label, def), "warning")
		}
	}
	pl.r.Settings = append(pl.r.Settings, st)
}

// assign writes a setting with its value: "TimeoutStopSec=90s",
// "--stop-timeout 10".
func assign(label, val string) string {
	if strings.HasSuffix(label, "=") {
		return label + val
	}
	return label + " " + val
}

// plainKill is the SIGKILL of a platform that kills the grace period
// after its stop signal.
func plainKill(raw string) time.Duration {
	d, err := parseGrace(raw)
	if err != nil {
		panic("plan: grace period " + raw + ": " + err.Error()) // parseGiven checked it
	}
	return d
}

// cuts reports what a SIGKILL from the platform at kill (from t0) cuts
// from the profile's timeline, with severity sev when it cuts anything.
// It reports whether the timeline fits; a negative kill never comes.
func (pl *planner) cuts(kill time.Duration, setting, what, sev string) bool {
	p, who := pl.p, pl.pf.who
	if kill < 0 {
		return true
	}
	d := p.Deadline
	switch {
	case kill >= d+exitMargin:
		return true
	case kill >= d:
		pl.r.add("warning", setting, "with %s, %s's SIGKILL at +%s leaves graceful %s after its deadline (+%s) to report and exit; give it %s", what, who, off(kill), off(kill-d), off(d), off(exitMargin))
		return true
	}
	pl.r.add(sev, setting, "with %s, %s's SIGKILL comes at +%s, %s before the profile's deadline (+%s)", what, who, off(kill), off(d-kill), off(d))
	esc := -1
	for i, s := range p.Steps {
		if s.Escalates() {
			esc = i
			break
		}
	}
	for _, s := range p.Steps {
		if s.At >= kill {
			pl.r.detail("step %q (%s) at +%s never runs", s.Name, stepWhat(s), off(s.At))
		}
	}
	final := p.Finalize != nil && len(p.Finalize.Command) > 0
	if esc < 0 {
		return false
	}
	e := p.Steps[esc]
	switch {
	case e.At < kill && final:
		pl.r.detail("the finalisation reserve after step %q (+%s) is cut by %s, from %s to %s; step %q at +%s still runs", e.Name, off(e.At), off(d-kill), off(d-e.At), off(kill-e.At), e.Name, off(e.At))
	case e.At < kill:
		pl.r.detail("the time between step %q (+%s) and the deadline is cut by %s, from %s to %s; step %q at +%s still runs", e.Name, off(e.At), off(d-kill), off(d-e.At), off(kill-e.At), e.Name, off(e.At))
	case len(p.Steps) > 0 && p.Steps[0].At >= kill:
		pl.r.detail("no step runs: the job gets nothing from the profile before %s's SIGKILL", who)
		if final {
			pl.r.detail("finalisation (%s) never runs", strings.Join(p.Finalize.Command, " "))
		}
	default:
		pl.r.detail("the job's time to stop before step %q (+%s) is cut by %s, from %s to %s", e.Name, off(e.At), off(e.At-kill), off(e.At), off(kill))
		if final {
			pl.r.detail("finalisation (%s) never runs", strings.Join(p.Finalize.Command, " "))
		}
	}
	return false
}

func off(d time.Duration) string { return engine.FormatOffset(d) }

func stepWhat(s engine.Step) string {
	action, target := stepColumns(s)
	if s.Kind == engine.StepSignal {
		return action + " to " + target
	}
	return action
}

// timeline lists the profile's steps, its deadline and the platform's
// SIGKILL under the settings checked, in time order.
func (pl *planner) timeline() {
	p := pl.p
	var pts []planPoint
	add := func(at time.Duration, what string) {
		pts = append(pts, planPoint{At: "+" + off(at), What: what})
	}
	killed := false
	addKill := func() {
		if !killed && pl.kill >= 0 {
			add(pl.kill, pl.pf.who+"'s SIGKILL")
			killed = true
		}
	}
	for _, s := range p.Steps {
		if pl.kill >= 0 && pl.kill <= s.At {
			addKill()
		}
		what := fmt.Sprintf("step %s: %s", s.Name, stepWhat(s))
		if killed {
			what += " (never runs)"
		}
		add(s.At, what)
	}
	if pl.kill >= 0 && pl.kill < p.Deadline {
		addKill()
	}
	what := "deadline: graceful abandons what is left and exits"
	if killed {
		what += " (never comes)"
	}
	add(p.Deadline, what)
	addKill()
	pl.r.Timeline = pts
}

func planKubernetes(pl *planner) {
	pre := time.Duration(0)
	if g := pl.value("preStop"); g != "" {
		pre = plainKill(g)
	}
	rec := seconds(pl.need + pre)
	sig := pl.stopSignal("stopSignal", "stop signal", "SIGTERM")
	pl.grace("terminationGracePeriodSeconds", "terminationGracePeriodSeconds", rec, "30", func(raw string) time.Duration {
		return max(plainKill(raw)-pre, 0) // a preStop longer than the grace period leaves none
	})
	if pre > 0 {
		pl.r.Settings = append(pl.r.Settings, planSetting{Name: "preStop", Recommended: "-", Default: "none", Given: pl.value("preStop"), OK: true})
		pl.r.add("note", "preStop", "the preStop hook runs before the stop signal and its %s count against terminationGracePeriodSeconds: t0 is %s into the grace period", off(pre), off(pre))
	} else {
		pl.r.add("warning", "preStop", "a preStop hook runs before the stop signal and its time counts against terminationGracePeriodSeconds: add its longest run to the grace period (check with --set preStop=DURATION)")
	}
	if sig != "SIGTERM" {
		pl.r.add("note", "stop signal", "the kubelet sends the image's STOPSIGNAL, or the container's lifecycle.stopSignal (Kubernetes 1.33+, feature gate ContainerStopSignals, needs spec.os.name)")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "spec:\n  terminationGracePeriodSeconds: %s\n", rec)
	if sig != "SIGTERM" {
		fmt.Fprintf(&b, "  os:\n    name: linux\n  containers:\n    - name: job\n      lifecycle:\n        stopSignal: %s # or STOPSIGNAL %s in the image\n", sig, sig)
	}
	pl.r.Snippet = b.String()
}

func planDocker(pl *planner) {
	sig := pl.stopSignal("stop-signal", "--stop-signal", "SIGTERM")
	rec := seconds(pl.need)
	pl.grace("stop-timeout", "--stop-timeout", rec, "10", plainKill)
	pl.r.add("note", "", "docker stop sends the stop signal once, then SIGKILL; docker stop -t and -s override the container's --stop-timeout and --stop-signal")
	pl.r.Snippet = fmt.Sprintf("docker run --stop-signal %s --stop-timeout %s IMAGE\n# or in the Dockerfile: STOPSIGNAL %s\n", sig, rec, sig)
}

func planCompose(pl *planner) {
	sig := pl.stopSignal("stop_signal", "stop_signal", "SIGTERM")
	rec := dur(pl.need)
	pl.grace("stop_grace_period", "stop_grace_period", rec, "10s", plainKill)
	pl.r.add("note", "", "compose sends stop_signal once, then SIGKILL after stop_grace_period; a --timeout given to docker compose stop, down or restart overrides it, and restart has been seen to ignore it and use 10s (docker/compose#10670)")
	pl.r.Snippet = fmt.Sprintf("services:\n  job:\n    stop_signal: %s\n    stop_grace_period: %s\n", sig, rec)
}

func planSystemd(pl *planner) {
	sig := pl.stopSignal("KillSignal", "KillSignal=", "SIGTERM")
	mode := planSetting{Name: "KillMode=", Recommended: "mixed", Default: "control-group", OK: true}
	switch g := pl.value("KillMode"); g {
	case "":
		pl.r.add("warning", "KillMode=", "the default KillMode=control-group sends KillSignal= to every process of the unit, the job too; KillMode=mixed sends it to graceful (the main process) only, so the job is signalled by the profile's steps alone, and the final SIGKILL still reaches every process")
	case "mixed":
		mode.Given = g
	case "control-group":
		mode.Given, mode.OK = g, false
		pl.r.add("error", "KillMode=", "KillMode=control-group sends KillSignal= to every process of the unit: the job gets it from systemd as well as from the profile's steps; use KillMode=mixed")
	case "process":
		mode.Given = g
		pl.r.add("warning", "KillMode=", "KillMode=process: systemd's SIGKILL after TimeoutStopSec= reaches graceful only, so a job graceful could not stop survives it; KillMode=mixed kills the whole unit")
	case "none":
		mode.Given, mode.OK = g, false
		pl.r.add("error", "KillMode=", "KillMode=none sends no signal: the timeline never starts; use KillMode=mixed")
	default:
		mode.Given, mode.OK = g, false
		pl.r.add("error", "KillMode=", "KillMode=%s is not a kill mode (control-group, mixed, process, none); use mixed", g)
	}
	pl.r.Settings = append(pl.r.Settings, mode)

	kill := planSetting{Name: "SendSIGKILL=", Recommended: "yes", Default: "yes", Given: pl.value("SendSIGKILL"), OK: true}
	noKill := false
	switch strings.ToLower(kill.Given) {
	case "", "yes", "true", "on", "1":
	case "no", "false", "off", "0":
		noKill = true
		pl.r.add("warning", "SendSIGKILL=", "SendSIGKILL=no: nothing kills what is left of the unit after TimeoutStopSec=; graceful's deadline is the only backstop")
	default:
		kill.OK = false
		pl.r.add("error", "SendSIGKILL=", "SendSIGKILL=%s is not a boolean (yes or no)", kill.Given)
	}

	rec := dur(pl.need)
	pl.grace("TimeoutStopSec", "TimeoutStopSec=", rec, "90s", func(raw string) time.Duration {
		if noKill {
			return -1
		}
		return plainKill(raw)
	})
	pl.r.Settings = append(pl.r.Settings, kill)
	pl.r.add("note", "", "leave ExecStop= unset: systemd runs it before KillSignal= and TimeoutStopSec= bounds it as well; a command step in the profile does that work inside the timeline")
	pl.r.Snippet = fmt.Sprintf("# /etc/systemd/system/UNIT.service.d/graceful.conf\n[Service]\nKillMode=mixed\nKillSignal=%s\nTimeoutStopSec=%s\nSendSIGKILL=yes\n", sig, rec)
}

func planBuildkiteV3(pl *planner) {
	sig := pl.stopSignal("BUILDKITE_CANCEL_SIGNAL", "BUILDKITE_CANCEL_SIGNAL", "SIGTERM")
	// The agent's defaults (10 and -1) leave it 1s of the cancel grace
	// after the job's SIGKILL; keep that share.
	signalRec := seconds(pl.need)
	cancelRec := seconds(pl.need + time.Second)
	cancel := 10 * time.Second
	if g := pl.value("BUILDKITE_CANCEL_GRACE_PERIOD"); g != "" {
		cancel = plainKill(g)
	}
	// A negative signal grace is relative to the cancel grace.
	signalGrace := func(raw string) time.Duration {
		if n, err := strconv.Atoi(raw); err == nil && n < 0 {
			return cancel + time.Duration(n)*time.Second
		}
		return plainKill(raw)
	}
	cg := planSetting{Name: "BUILDKITE_CANCEL_GRACE_PERIOD", Recommended: cancelRec, Default: "10", Given: pl.value("BUILDKITE_CANCEL_GRACE_PERIOD"), OK: true}
	given := pl.value("BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS")
	pl.noDefault = cg.Given != ""
	pl.grace("BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS", "BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS", signalRec, "-1", signalGrace)
	if given != "" || cg.Given != "" {
		if given == "" { // the default -1, relative to the given cancel grace
			pl.kill = signalGrace("-1")
			cg.OK = pl.cuts(pl.kill, cg.Name, "BUILDKITE_CANCEL_GRACE_PERIOD "+cg.Given+" (so a signal grace of "+off(pl.kill)+")", "error")
		}
		if sg := signalGrace(cmp.Or(given, "-1")); sg >= cancel || sg < 0 {
			cg.OK = false
			pl.r.add("error", cg.Name, "the agent requires the signal grace (%s) to be at least 0 and below BUILDKITE_CANCEL_GRACE_PERIOD (%s)", off(sg), off(cancel))
		}
	}
	pl.r.Settings = append(pl.r.Settings, cg)
	pl.r.add("note", "", "the agent sends the cancel signal to the job once and SIGKILLs it after the signal grace (BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS; negative: the cancel grace minus that); the rest of the cancel grace is the agent's own artifact and log upload")
	pl.r.Snippet = fmt.Sprintf("BUILDKITE_CANCEL_SIGNAL=%s\nBUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS=%s\nBUILDKITE_CANCEL_GRACE_PERIOD=%s\n", sig, signalRec, cancelRec)
}

func planBuildkiteV4(pl *planner) {
	sig := pl.stopSignal("cancel-signal", "--cancel-signal", "SIGTERM")
	rec := dur(pl.need)
	pl.grace("cancel-signal-timeout", "--cancel-signal-timeout", rec, "10s", plainKill)
	cl := planSetting{Name: "--cancel-cleanup-timeout", Recommended: "5s", Default: "5s", Given: pl.value("cancel-cleanup-timeout"), OK: true}
	cleanup := 5 * time.Second
	if cl.Given != "" {
		cleanup = plainKill(cl.Given)
	}
	pl.r.Settings = append(pl.r.Settings, cl)
	total := pl.kill + cleanup
	pl.r.add("note", "", "the agent sends the cancel signal once and SIGKILLs the job after --cancel-signal-timeout; --cancel-cleanup-timeout is the agent's own log and artifact upload after that; a cancellation takes up to their sum, %s", off(total))
	pl.r.Snippet = fmt.Sprintf("buildkite-agent start --cancel-signal %s --cancel-signal-timeout %s --cancel-cleanup-timeout %s\n# or BUILDKITE_CANCEL_SIGNAL=%s BUILDKITE_CANCEL_SIGNAL_TIMEOUT=%s BUILDKITE_CANCEL_CLEANUP_TIMEOUT=%s\n", sig, rec, dur(cleanup), sig, rec, dur(cleanup))
}

func planNomad(pl *planner) {
	sig := pl.stopSignal("kill_signal", "kill_signal", "SIGINT")
	rec := dur(pl.need)
	maxKill := 30 * time.Second
	if g := pl.value("max_kill_timeout"); g != "" {
		maxKill = plainKill(g)
	}
	pl.grace("kill_timeout", "kill_timeout", rec, "5s", func(raw string) time.Duration { return min(plainKill(raw), maxKill) })
	if g := pl.value("kill_timeout"); g != "" && plainKill(g) > maxKill {
		pl.r.add("note", "kill_timeout", "kill_timeout %s is capped at the client's max_kill_timeout, %s", g, off(maxKill))
	}
	mk := planSetting{Name: "max_kill_timeout (client)", Recommended: dur(max(pl.need, 30*time.Second)), Default: "30s", Given: pl.value("max_kill_timeout"), OK: true}
	if pl.need > maxKill {
		if mk.Given != "" {
			mk.OK = false
			pl.r.add("error", mk.Name, "the client's max_kill_timeout %s caps kill_timeout below the %s the profile needs", mk.Given, off(pl.need))
		} else {
			pl.r.add("warning", mk.Name, "a Nomad client caps kill_timeout at its max_kill_timeout (default 30s): raise it to %s on the clients that run this job", rec)
		}
	}
	pl.r.Settings = append(pl.r.Settings, mk)
	pl.r.add("note", "", "Nomad sends kill_signal once and SIGKILLs the task after kill_timeout (with the docker driver: docker stop with kill_timeout)")
	pl.r.Snippet = fmt.Sprintf("task \"job\" {\n  kill_signal  = %q\n  kill_timeout = %q\n}\n", sig, rec)
	if pl.need > 30*time.Second {
		pl.r.Snippet += fmt.Sprintf("# in the client agent's configuration:\nclient {\n  max_kill_timeout = %q\n}\n", rec)
	}
}
