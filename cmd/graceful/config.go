package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/graceful-sh/graceful/engine/process"
)

// This file is the configuration of run and join besides their flags:
// GRACEFUL_* variables and a YAML settings file that --config or
// GRACEFUL_CONFIG names (docs/configuration.md). No other command reads
// either, and no file is read unless named: what a checkout or a job's
// working directory holds cannot change how graceful stops things.
//
// Every value goes through its flag's own parser (pflag's Set), so "600"
// is refused as a duration wherever it comes from, and an error names the
// variable or the file and line it came from.

// configEnv names the settings file when --config does not.
const configEnv = "GRACEFUL_CONFIG"

// maxConfigSize bounds the settings file: a few lines of key: value.
const maxConfigSize = 1 << 20

// setting is a flag of run or join that the environment or the settings
// file may give too. Its key in the file is the flag's name.
type setting struct {
	key string
	// env is its variable, "" for none. None is named like an outcome
	// variable (GRACEFUL_PROFILE, GRACEFUL_OUTCOME, ... given to
	// finalisation and command steps), or a graceful run from a
	// finalisation would take the outer run's outcome as its settings.
	env       string
	run, join bool
	// check, if set, vets a value the flag's parser accepted.
	check func(value string) error
}

// settings is every setting, in the order docs/configuration.md lists them.
var settings = []setting{
	{key: "policy", env: "GRACEFUL_POLICY", run: true, join: true},
	{key: "profile", env: "GRACEFUL_USE_PROFILE", run: true, join: true},
	{key: "timeout", env: "GRACEFUL_TIMEOUT", run: true},
	{key: "events", env: "GRACEFUL_EVENTS", run: true, join: true},
	{key: "receipt", env: "GRACEFUL_RECEIPT_FILE", run: true},
	{key: "reraise", env: "GRACEFUL_RERAISE", run: true},
	{key: "cgroup", env: "GRACEFUL_CGROUP", run: true, join: true, check: checkCgroup},
	{key: "foreground", env: "GRACEFUL_FOREGROUND", run: true},
	{key: "verbose", env: "GRACEFUL_VERBOSE", run: true, join: true},
	{key: "socket", env: "GRACEFUL_SOCKET", run: true, join: true},
	{key: "token-file", env: "GRACEFUL_TOKEN_FILE", run: true, join: true},
	{key: "jobs", env: "GRACEFUL_JOBS", run: true, check: checkNotNegative},
	{key: "job", run: true}, // a list of names: the file only
	{key: "parallel", env: "GRACEFUL_PARALLEL", run: true},
	{key: "start-timeout", env: "GRACEFUL_START_TIMEOUT", run: true, join: true},
	{key: "liveness-interval", env: "GRACEFUL_LIVENESS_INTERVAL", run: true},
	{key: "peer-uid", env: "GRACEFUL_PEER_UID", run: true, join: true},
	{key: "name", env: "GRACEFUL_NAME", join: true},
	{key: "oom-score-adj", env: "GRACEFUL_OOM_SCORE_ADJ", join: true},
}

func (s setting) appliesTo(cmd string) bool {
	return (cmd == "run" && s.run) || (cmd == "join" && s.join)
}

// commands names the commands s applies to, for messages.
func (s setting) commands() string {
	switch {
	case s.run && s.join:
		return "graceful run and join"
	case s.run:
		return "graceful run"
	}
	return "graceful join"
}

// settingFor returns the setting whose key is key.
func settingFor(key string) (setting, bool) {
	for _, s := range settings {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// configurable reports whether cmd reads the environment and a settings
// file: run and join do, the others take flags only.
func configurable(cmd *cobra.Command) bool {
	return cmd.Name() == "run" || cmd.Name() == "join"
}

// addConfigFlag adds --config to a configurable command.
func addConfigFlag(cmd *cobra.Command) {
	cmd.Flags().String("config", "", "settings file (YAML, see docs/configuration.md; default: $"+configEnv+", else none)")
}

// applySettings gives every flag of cmd that the command line left unset
// its value from the environment (lookup) or else from the settings file.
// It does nothing for commands that are not configurable.
func applySettings(cmd *cobra.Command, lookup func(string) (string, bool)) error {
	if !configurable(cmd) {
		return nil
	}
	name, flags := cmd.Name(), cmd.Flags()
	file, err := readSettingsFile(flags, lookup)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range file.entries {
		s, ok := settingFor(e.key)
		switch {
		case !ok:
			keys := make([]string, len(settings))
			for i, s := range settings {
				keys[i] = s.key
			}
			hint := suggestWord(e.key, keys)
			if hint == "" {
				hint = " (the keys are listed in docs/configuration.md)"
			}
			errs = append(errs, fmt.Errorf("%s:%d: unknown key %q%s", file.name, e.line, e.key, hint))
		case !s.appliesTo(name):
			errs = append(errs, fmt.Errorf("%s:%d: %q is a setting of %s, not of graceful %s", file.name, e.line, e.key, s.commands(), name))
		}
	}
	for _, s := range settings {
		f := flags.Lookup(s.key)
		if !s.appliesTo(name) || f == nil || f.Changed {
			continue // the command line has the last word
		}
		if v := envValue(s.env, lookup); v != "" {
			errs = append(errs, setFlag(flags, f, s, []string{v}, false, func(string) string { return s.env + "=" + v }))
			continue
		}
		if e, ok := file.get(s.key); ok {
			errs = append(errs, setFlag(flags, f, s, e.values, e.list, func(v string) string {
				return fmt.Sprintf("%s:%d: %s: %s", file.name, e.line, s.key, v)
			}))
		}
	}
	return errors.Join(errs...)
}

// envValue is the value of the variable name, "" when it is unset or
// empty (or name is ""): an empty variable is no setting.
func envValue(name string, lookup func(string) (string, bool)) string {
	if name == "" {
		return ""
	}
	v, _ := lookup(name)
	return v
}

// forgetSettings removes graceful's setting variables from its own
// environment once they are read, so that neither the job nor the
// finalisation or command steps inherit them: a graceful nested in the job
// is configured by its own command line, not by the outer one's (which
// would, for one, have it truncate the outer run's --events file).
// GRACEFUL_TOKEN is left to the kubernetes runner, which reads it later
// and keeps it from the job itself.
func forgetSettings() {
	for _, s := range settings {
		if s.env != "" {
			os.Unsetenv(s.env)
		}
	}
	os.Unsetenv(configEnv)
}

// setFlag sets f (of flags) to values with the flag's own parser. source
// describes a value for messages ("GRACEFUL_TIMEOUT=600").
func setFlag(flags *pflag.FlagSet, f *pflag.Flag, s setting, values []string, list bool, source func(string) string) error {
	multi := strings.HasSuffix(f.Value.Type(), "Slice") || strings.HasSuffix(f.Value.Type(), "Array")
	if list && !multi {
		return fmt.Errorf("%s: takes one value, not a list", source(strings.Join(values, ", ")))
	}
	for _, v := range values {
		if err := flags.Set(f.Name, v); err != nil {
			return fmt.Errorf("%s: %s", source(v), valueProblem(f.Value.Type(), v, err))
		}
		if d, err := time.ParseDuration(v); err == nil && f.Value.Type() == "duration" && d < 0 {
			return fmt.Errorf("%s: must not be negative", source(v))
		}
		if s.check != nil {
			if err := s.check(v); err != nil {
				return fmt.Errorf("%s: %v", source(v), err)
			}
		}
	}
	return nil
}

// valueProblem says what is wrong with value, which a flag of type typ
// refused with err.
func valueProblem(typ, value string, err error) string {
	switch typ {
	case "duration":
		if strings.HasPrefix(strings.TrimSpace(value), "-") {
			return "must not be negative"
		}
		if _, perr := strconv.ParseFloat(value, 64); perr == nil {
			return "a duration needs a unit, e.g. " + value + "s"
		}
		return "not a duration: give a number and a unit (ns, us, ms, s, m, h), e.g. 90s, 10m or 1h30m"
	case "int":
		return "not a whole number"
	case "intSlice":
		return "not a whole number, or a comma-separated list of them (1000,1001)"
	case "bool":
		return "neither true nor false"
	}
	var iv *pflag.InvalidValueError
	if errors.As(err, &iv) && errors.Unwrap(iv) != nil {
		return errors.Unwrap(iv).Error()
	}
	return err.Error()
}

func checkCgroup(v string) error {
	_, err := process.ParseCgroupMode(v)
	return err
}

func checkNotNegative(v string) error {
	if n, err := strconv.Atoi(v); err == nil && n < 0 {
		return errors.New("must not be negative")
	}
	return nil
}

// settingsFile is the settings file's keys, in file order.
type settingsFile struct {
	name    string // as given
	entries []fileEntry
}

type fileEntry struct {
	key    string
	line   int
	values []string
	list   bool // a YAML sequence
}

func (f *settingsFile) get(key string) (fileEntry, bool) {
	for _, e := range f.entries {
		if e.key == key {
			return e, true
		}
	}
	return fileEntry{}, false
}

// readSettingsFile reads the file --config or else GRACEFUL_CONFIG names;
// none named is an empty file.
func readSettingsFile(flags *pflag.FlagSet, lookup func(string) (string, bool)) (*settingsFile, error) {
	var name, origin string
	if f := flags.Lookup("config"); f != nil && f.Changed {
		name, origin = f.Value.String(), "--config "+f.Value.String()
	} else if v := envValue(configEnv, lookup); v != "" {
		name, origin = v, configEnv+"="+v
	}
	if name == "" {
		return &settingsFile{}, nil
	}
	data, err := readSmallRegular(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", origin, err)
	}
	return parseSettings(name, data)
}

// readSmallRegular reads a regular file of at most maxConfigSize bytes.
// It opens without blocking, so a FIFO is refused instead of waited on.
func readSmallRegular(name string) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("larger than %d KiB: a settings file is a few lines of key: value", maxConfigSize>>10)
	}
	return data, nil
}

// parseSettings decodes a settings file: one YAML mapping of keys to a
// value or a list of values.
func parseSettings(name string, data []byte) (*settingsFile, error) {
	file := &settingsFile{name: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err == io.EOF {
		return file, nil
	} else if err != nil {
		return nil, yamlError(name, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); err != io.EOF {
		if err != nil {
			return nil, yamlError(name, err)
		}
		return nil, fmt.Errorf("%s:%d: a second YAML document; the settings file holds one mapping", name, more.Line)
	}
	top := &doc
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return file, nil // comments only
	}
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: the settings file is a mapping of key: value lines (docs/configuration.md)", name, top.Line)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], deref(top.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%s:%d: a key must be a word like timeout", name, k.Line)
		}
		if first, dup := seen[k.Value]; dup {
			return nil, fmt.Errorf("%s:%d: %s given twice (also on line %d)", name, k.Line, k.Value, first)
		}
		seen[k.Value] = k.Line
		e := fileEntry{key: k.Value, line: k.Line}
		switch v.Kind {
		case yaml.ScalarNode:
			if v.Tag == "!!null" {
				return nil, fmt.Errorf("%s:%d: %s: no value", name, k.Line, k.Value)
			}
			e.values = []string{v.Value}
		case yaml.SequenceNode:
			e.list = true
			for _, item := range v.Content {
				item = deref(item)
				if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
					return nil, fmt.Errorf("%s:%d: %s: a list holds plain values", name, item.Line, k.Value)
				}
				e.values = append(e.values, item.Value)
			}
		default:
			return nil, fmt.Errorf("%s:%d: %s: a value or a list of values, not a mapping", name, k.Line, k.Value)
		}
		file.entries = append(file.entries, e)
	}
	return file, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// yamlError turns the YAML parser's "yaml: line 3: ..." into
// "name:3: ...".
func yamlError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			if _, err := strconv.Atoi(n); err == nil {
				return fmt.Errorf("%s:%s: %s", name, n, tail)
			}
		}
	}
	return fmt.Errorf("%s: %s", name, msg)
}
