package supervise

import (
	"os"
	"os/signal"
	"slices"
	"sync"

	"github.com/graceful-sh/graceful/internal/startsignals"
)

// Ahead is a catch of signals begun before the Run that takes it over
// (Spec.Ahead), on a goroutine of its own.
//
// Catching a signal the process has not caught before is a round trip
// to the Go runtime's signal-mask thread: os/signal hands the signal to a
// goroutine locked to that thread and waits for its answer, two thread
// switches per signal, 10 to 100 µs each on a small VM. A run catches
// fifteen signals, nine of them with such a round trip, which made
// catching them one of the largest parts of graceful's own start-up. The
// round trips are waiting, not work: begun before the command line is
// even parsed, they overlap the rest of the start-up (flags, profile,
// the leaf cgroup), and the job's fork waits only for whatever is left
// of them (Ready, process.Options.Ready).
//
// Signals added with AddDuringStart are not waited for by the fork: their
// round trips overlap the job's exec as well, and Run waits for them
// before the engine starts. Until then they keep their default action:
// only signals that can wait that long (job control, whose default is to
// stop graceful) belong there.
type Ahead struct {
	ch chan os.Signal

	mu    sync.Mutex
	names []string        // everything asked for so far
	ready <-chan struct{} // closed once the signals of Add are caught
	done  <-chan struct{} // closed once all of names is caught
	taken bool
}

// CatchAhead begins catching names (as Catch does) and returns at once.
// The caller must either give the result to a Run (Spec.Ahead) or
// Release it. A catch begun during the program's initialisation (a run
// command line: internal/startsignals) is taken over as the first part.
func CatchAhead(names ...string) *Ahead {
	a := &Ahead{}
	if ch, asked, done, ok := startsignals.Take(); ok {
		a.ch, a.ready, a.done = ch, done, done
		for _, s := range asked {
			a.names = append(a.names, Name(s))
		}
	} else {
		a.ch = make(chan os.Signal, startsignals.Buffer)
	}
	a.Add(names...)
	return a
}

// Add begins catching names as well, after what a was already asked for
// (a command knows some of its signals before it has read its flags and
// profile), before the job's fork. It must come before the Run that takes
// a over.
func (a *Ahead) Add(names ...string) { a.add(names, true) }

// AddDuringStart begins catching names as well, after the rest, while
// the job starts (see Ahead).
func (a *Ahead) AddDuringStart(names ...string) { a.add(names, false) }

func (a *Ahead) add(names []string, beforeFork bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var more []string
	for _, name := range names {
		if !slices.Contains(a.names, name) && !slices.Contains(more, name) {
			more = append(more, name)
		}
	}
	if len(more) == 0 && a.done != nil {
		return
	}
	a.names = append(a.names, more...)
	prev, done := a.done, make(chan struct{})
	a.done = done
	if beforeFork || a.ready == nil {
		a.ready = done
	}
	go func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		Catch(a.ch, more...)
	}()
}

// Ready is closed once the signals a was asked for with Add (and
// CatchAhead) are caught: the job may then be forked.
func (a *Ahead) Ready() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ready
}

// Done is closed once every signal a was asked for is caught.
func (a *Ahead) Done() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.done
}

// take hands a's channel to Run, which needs want caught, and returns
// what a does not already catch. A signal a catches that Run does not
// want (a caller whose list and Plan disagree) is given back its default
// handling, as if it had never been caught.
func (a *Ahead) take(want []string) (chan os.Signal, []string) {
	a.mu.Lock()
	a.taken = true
	names, done := a.names, a.done
	a.mu.Unlock()
	var rest, extra []string
	for _, name := range want {
		if !slices.Contains(names, name) {
			rest = append(rest, name)
		}
	}
	for _, name := range names {
		if !slices.Contains(want, name) {
			extra = append(extra, name)
		}
	}
	if extra := catchable(extra); len(extra) > 0 {
		<-done
		signal.Reset(extra...)
	}
	return a.ch, rest
}

// Release undoes a catch that no Run took over (the command failed
// before its job, or was not a run after all): the signals get their
// previous handling back. After a Run took it, Release does nothing: the
// Run releases what it caught.
func (a *Ahead) Release() {
	if a == nil {
		return
	}
	a.mu.Lock()
	taken, done := a.taken, a.done
	a.taken = true
	a.mu.Unlock()
	if !taken {
		<-done
		signal.Stop(a.ch)
	}
}
