//go:build linux

package main

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// pairs measures the commands cmds (argv lists) n times each with
// measure (milliseconds), interleaved: in every round each command once,
// in a random order, so that a slow minute of a shared machine weighs on
// all of them alike. It prints, for each command after the first, the
// median of the per-round ratios to the first with a bootstrap 95%
// interval: the comparison start-up and first-cancel targets are judged
// by, steadier than a ratio of two medians.
//
//	probe pairs N -- CMD A... ;; CMD B... [;; CMD C...]          (runOnce)
//	probe firstpairs N WAIT -- SUP A... ;; SUP B...             (firstOnce)
func pairs(n int, cmds [][]string, measure func([]string) float64) {
	if len(cmds) < 2 {
		fail("pairs needs at least two commands separated by ;;")
	}
	const warmup = 10
	times := make([][]float64, len(cmds))
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < n+warmup; round++ {
		for _, i := range rng.Perm(len(cmds)) {
			d := measure(cmds[i])
			if round >= warmup {
				times[i] = append(times[i], d)
			}
		}
	}
	fmt.Printf("pairs n=%d median_ms=%.3f\n", n, median(times[0]))
	for i := 1; i < len(cmds); i++ {
		ratios := make([]float64, n)
		for j := range ratios {
			ratios[j] = times[i][j] / times[0][j]
		}
		lo, hi := bootstrapMedian(ratios, rng)
		fmt.Printf("pair cmd=%d median_ms=%.3f ratio=%.3f lo=%.3f hi=%.3f\n", i, median(times[i]), median(ratios), lo, hi)
	}
}

// runOnce runs argv with its output discarded and returns its wall time
// in milliseconds; a command that fails ends the probe.
func runOnce(argv []string) float64 {
	cmd := exec.Command(argv[0], argv[1:]...)
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		fail(fmt.Sprintf("%s: %v", strings.Join(argv, " "), err))
	}
	return ms(time.Since(t0))
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// bootstrapMedian is the 95% percentile interval of the median of xs
// over 1000 resamples.
func bootstrapMedian(xs []float64, rng *rand.Rand) (lo, hi float64) {
	meds := make([]float64, 1000)
	sample := make([]float64, len(xs))
	for b := range meds {
		for j := range sample {
			sample[j] = xs[rng.IntN(len(xs))]
		}
		meds[b] = median(sample)
	}
	slices.Sort(meds)
	return meds[25], meds[974]
}

// splitCommands splits args at ";;" into command lines.
func splitCommands(args []string) [][]string {
	var cmds [][]string
	cur := []string{}
	for _, a := range args {
		if a == ";;" {
			cmds = append(cmds, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, a)
	}
	cmds = append(cmds, cur)
	for _, c := range cmds {
		if len(c) == 0 {
			fail("pairs: an empty command between ;;")
		}
	}
	return cmds
}
