//go:build !notapedirect && !cuda

package model

import (
	"errors"
	"math/rand/v2"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
	"testing"
	"unsafe"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestBuiltWithTapeDirectVersion: a binary built with another gorgonia, including one
// that replaces it with a fork or a local copy, does not take the direct path.
func TestBuiltWithTapeDirectVersion(t *testing.T) {
	g := func(v string, replace *debug.Module) []*debug.Module {
		return []*debug.Module{{Path: "gonum.org/v1/gonum", Version: "v0.16.0"},
			{Path: "gorgonia.org/gorgonia", Version: v, Replace: replace}}
	}
	for _, c := range []struct {
		name string
		deps []*debug.Module
		want bool
	}{
		{"pinned", g(tapeDirectVersion, nil), true},
		{"no gorgonia listed, outside a test", []*debug.Module{{Path: "gonum.org/v1/gonum", Version: "v0.16.0"}}, false},
		{"no dependency list, outside a test", nil, false},
		{"other version", g("v0.9.17", nil), false},
		{"replaced by a fork", g(tapeDirectVersion, &debug.Module{Path: "example.com/gorgonia", Version: "v0.9.19"}), false},
		{"replaced by a local copy", g(tapeDirectVersion, &debug.Module{Path: "../gorgonia"}), false},
		{"replaced by the same version", g(tapeDirectVersion, &debug.Module{Path: "gorgonia.org/gorgonia", Version: tapeDirectVersion}), true},
	} {
		if got := builtWithTapeDirectVersion(c.deps, false); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if !builtWithTapeDirectVersion(nil, true) {
		t.Error("a test binary (no dependency list) does not take the direct path")
	}
}

// TestRunTapeDirect: go.mod pins the gorgonia release whose runall tapeRunall declares,
// the graphs of both architectures take the direct path, and it gives RunAll's predictions,
// losses and gradients bit for bit.
func TestRunTapeDirect(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^\s*gorgonia\.org/gorgonia (\S+)`).FindSubmatch(mod); m == nil || string(m[1]) != tapeDirectVersion {
		t.Fatalf("go.mod requires gorgonia %q; tapeRunall declares %s's runall: check its signature and RunAll, then update tapeDirectVersion", m, tapeDirectVersion)
	}
	for _, arch := range []string{ArchPooledResidual, ArchSeed} {
		for _, train := range []bool{true, false} {
			cfg := tinyConfig(arch)
			specs := paramSpecs(cfg)
			params := initParams(cfg, specs, 3)
			key := graphKey{batch: 3, rows: (&Model{cfg: cfg}).rowBucket(3), train: train}
			var gs [2]*netGraph
			for i := range gs {
				if gs[i], err = buildGraph(cfg, specs, params, key, tensor.Float32); err != nil {
					t.Fatal(err)
				}
				defer gs[i].close()
			}
			if _, ok := directTape(gs[0].vm); !ok {
				t.Fatalf("%s train=%v: the tape machine does not take the direct path", arch, train)
			}
			r := rand.New(rand.NewPCG(9, 9))
			drop := make([]float32, key.batch*cfg.LSTMUnits)
			for step := 0; step < 3; step++ {
				batch := randomScaled(r, cfg, key.batch, 3)
				var grads [2][]float32
				var losses [2]float64
				var preds [2][]float32
				for i, ng := range gs {
					ng.fill(cfg, batch, drop)
					rewind(ng.vm, ng.reuse)
					run := runTape
					if i == 1 {
						run = func(vm G.VM) error { return vm.RunAll() }
					}
					if err := run(ng.vm); err != nil {
						t.Fatal(err)
					}
					preds[i] = slices.Clone((*ng.predV).Data().([]float32))
					if train {
						losses[i] = ng.loss()
						grads[i] = make([]float32, len(params))
						ng.copyGrads(grads[i])
					}
				}
				if losses[0] != losses[1] || !slices.Equal(grads[0], grads[1]) || !slices.Equal(preds[0], preds[1]) {
					t.Fatalf("%s train=%v step %d: direct run gives loss %v, RunAll %v (or other predictions or gradients)", arch, train, step, losses[0], losses[1])
				}
			}
		}
	}
}

// TestRunQueuedClosures: closures left in the machine's queue after the direct run are
// run in order, as RunAll runs them, and the first error is returned.
func TestRunQueuedClosures(t *testing.T) {
	g := G.NewGraph()
	x := G.NewScalar(g, G.Float32, G.WithName("x"))
	if _, err := G.Add(x, x); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	p, ok := directTape(vm)
	if !ok {
		t.Fatal("the machine does not take the direct path")
	}
	var ran []int
	queue := (*[]func() error)(unsafe.Add(p, tapeDirect.closures))
	boom := errors.New("closure failed")
	*queue = []func() error{
		func() error { ran = append(ran, 1); return nil },
		func() error { ran = append(ran, 2); return boom },
		func() error { ran = append(ran, 3); return nil },
	}
	defer func() { *queue = nil }()
	if err := runQueued(p); !errors.Is(err, boom) || !slices.Equal(ran, []int{1, 2}) {
		t.Fatalf("runQueued: %v after %v, want the second closure's error after closures 1 and 2", err, ran)
	}
}
