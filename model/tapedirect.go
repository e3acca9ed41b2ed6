//go:build !notapedirect && !cuda

package model

import (
	"reflect"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"unsafe"

	G "gorgonia.org/gorgonia"
)

// Running the tape on the calling goroutine.
//
// gorgonia's RunAll locks the caller to its OS thread, starts a goroutine that executes
// the tape and waits for it on channels, so every run puts one thread to sleep and wakes
// another, twice, and shards running side by side slowed each other (the scaling lines of
// model/testdata/bench_compare.py: 1.26-1.44x from 2 cores that way, 1.70-1.83x with the
// tape run on the calling goroutine). For a CPU machine without batched BLAS or queued closures
// (ours: netlib's or gonum's BLAS, checked per machine below), RunAll does nothing but
// that hand-off around its unexported runall, so runTape calls runall itself.
//
// Build tags: notapedirect (if a gorgonia upgrade breaks the linkname) and cuda (whose
// machine queues GPU work that RunAll drives) build tapedirect_off.go instead, plain RunAll.
//
// runall is reached by go:linkname with gorgonia v0.9.18's signature. The direct path is
// taken only if the binary was not built with another version (go.mod pins it, and
// TestRunTapeDirect fails when go.mod changes it) and the machine has the fields that
// version has (found once by reflection); otherwise runTape calls RunAll.
// TestRunTapeDirect also checks both architectures take the path and match RunAll bit
// for bit.

//go:linkname tapeRunall gorgonia.org/gorgonia.(*tapeMachine).runall
func tapeRunall(m unsafe.Pointer, errChan chan error, doneChan chan struct{})

// tapeDirectVersion is the gorgonia release whose runall signature tapeRunall declares.
const tapeDirectVersion = "v0.9.18"

var tapeDirect struct {
	once     sync.Once
	typ      reflect.Type // *gorgonia.tapeMachine
	closures uintptr      // offset of closureQueue ([]func() error)
	blas     uintptr      // offset of ExternMetadata.b (an interface)
	ok       bool
}

func initTapeDirect() {
	g := G.NewGraph() // the smallest graph a tape machine compiles, to learn its type
	x := G.NewScalar(g, G.Float32, G.WithName("x"))
	if _, err := G.Add(x, x); err != nil {
		return
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	var deps []*debug.Module
	if info, ok := debug.ReadBuildInfo(); ok {
		deps = info.Deps
	}
	if !builtWithTapeDirectVersion(deps, testing.Testing()) {
		return
	}
	t := reflect.TypeOf(vm)
	if t.Kind() != reflect.Pointer || t.Elem().PkgPath() != "gorgonia.org/gorgonia" || t.Elem().Name() != "tapeMachine" {
		return
	}
	cq, ok1 := t.Elem().FieldByName("closureQueue")
	b, ok2 := t.Elem().FieldByName("b")
	if !ok1 || !ok2 || cq.Type != reflect.TypeOf([]func() error(nil)) || b.Type.Kind() != reflect.Interface || len(b.Index) != 2 {
		return
	}
	em := t.Elem().Field(b.Index[0]) // the embedded ExternMetadata, by value
	if em.Type.Kind() != reflect.Struct {
		return
	}
	tapeDirect.typ, tapeDirect.closures, tapeDirect.blas = t, cq.Offset, em.Offset+b.Offset
	tapeDirect.ok = true
}

// TapeInfo says how graphs are run, for the trainer's startup line.
func TapeInfo() string {
	tapeDirect.once.Do(initTapeDirect)
	if tapeDirect.ok {
		return "tapes run on the calling goroutine"
	}
	return "tapes run through gorgonia's RunAll"
}

// builtWithTapeDirectVersion reports whether the dependency list has gorgonia at
// tapeDirectVersion, after any replacement. A list without gorgonia fails closed, except
// in a test binary, which carries no dependency list (TestRunTapeDirect reads go.mod).
func builtWithTapeDirectVersion(deps []*debug.Module, inTest bool) bool {
	for _, d := range deps {
		if d.Path != "gorgonia.org/gorgonia" {
			continue
		}
		if d.Replace != nil {
			return d.Replace.Path == d.Path && d.Replace.Version == tapeDirectVersion
		}
		return d.Version == tapeDirectVersion
	}
	return inTest
}

// runTape runs vm's whole program once, as RunAll does.
func runTape(vm G.VM) error {
	p, ok := directTape(vm)
	if !ok {
		return vm.RunAll()
	}
	// A goroutine that runs tapes back to back never blocks, and the runtime's forced
	// preemption then interrupted it over and over (runtime.asyncPreempt was a tenth of a
	// batch-128 step's profile on one core); yielding once per run, as RunAll's hand-off
	// did, avoids it.
	runtime.Gosched()
	errc := make(chan error, 1)
	done := make(chan struct{}, 1)
	tapeRunall(p, errc, done)
	select {
	case err := <-errc:
		return err
	default:
	}
	return runQueued(p)
}

// runQueued runs the closures the run queued (gorgonia queues some when it binds dual
// values), in order, as RunAll does after runall; our graphs queue none, but a future
// graph or release that does must not lose them.
func runQueued(p unsafe.Pointer) error {
	for _, closure := range *(*[]func() error)(unsafe.Add(p, tapeDirect.closures)) {
		if err := closure(); err != nil {
			return err
		}
	}
	return nil
}

// directTape returns vm's tape machine if RunAll would do nothing for it but run runall.
func directTape(vm G.VM) (unsafe.Pointer, bool) {
	tapeDirect.once.Do(initTapeDirect)
	if !tapeDirect.ok || reflect.TypeOf(vm) != tapeDirect.typ {
		return nil, false
	}
	p := reflect.ValueOf(vm).UnsafePointer()
	closures := *(*[]func() error)(unsafe.Add(p, tapeDirect.closures))
	blasSet := *(*unsafe.Pointer)(unsafe.Add(p, tapeDirect.blas)) != nil // the interface's first word
	return p, len(closures) == 0 && !blasSet
}
