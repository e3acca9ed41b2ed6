package model

import (
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Reusing the tape machine's registers between runs.
//
// gorgonia's TapeMachine.Reset rewinds the program counter and also drops every register,
// so each run allocates all intermediate and gradient tensors afresh (~340 KB per step at
// batch 1, where the garbage collector then costs more than the arithmetic). Kept
// registers are what the machine itself does within a run: an Alloc finds a value of the
// right dtype and shape and keeps it, an operation whose register already holds a value
// writes into it (UsePreallocDo: matrix products and element-wise binary operations
// overwrite it; the other operations we use ignore it and return a new value), and loadArg
// rebinds the inputs every run. The one operation that adds into its preallocated value
// instead of overwriting it is the gradient of a slice (sliceIncrOp; no graph of ours
// slices since the seed's output layer computes only the columns it uses, but a slice stays
// safe): those values are zeroed before each run, as a fresh Alloc would be.
//
// A graph containing any other kind of operation keeps using Reset (correct, just slower);
// TestRewindMatchesReset checks bit-identity with Reset over many steps and that both
// architectures take the fast path.
//
// The program counter is unexported (gorgonia v0.9.18: tapeMachine.pc int). It is found
// once by reflection; if a gorgonia upgrade renames or retypes it, rewind falls back to
// Reset as well.

// reuseSafeOps are the operation types whose UsePreallocDo overwrites its value or that
// have none; sliceIncrOp is handled by zeroing.
var reuseSafeOps = map[string]bool{
	"gorgonia.linAlgBinOp": true, "gorgonia.elemBinOp": true, "gorgonia.elemUnaryOp": true,
	"gorgonia.sumOp": true, "gorgonia.reshapeOp": true, "*gorgonia.repeatOp": true,
	"gorgonia.sizeOp": true, "gorgonia.constantScalar": true, "gorgonia.readOp": true,
	"*gorgonia.sliceOp": true, "gorgonia.sliceIncrOp": true,
	"model.actOp": true, "model.actGradOp": true, // activation.go: UsePreallocDo overwrites
}

// tapeReuse is what rewinding one graph's machine needs.
type tapeReuse struct {
	ok   bool      // registers may be kept
	zero []*G.Node // accumulating nodes whose value is zeroed before each run
}

// planReuse decides whether g's machine may keep its registers between runs.
func planReuse(g *G.ExprGraph) tapeReuse {
	var r tapeReuse
	for _, n := range g.AllNodes() {
		if n.Op() == nil {
			continue
		}
		name := fmt.Sprintf("%T", n.Op())
		if !reuseSafeOps[name] {
			return tapeReuse{}
		}
		if name == "gorgonia.sliceIncrOp" {
			r.zero = append(r.zero, n)
		}
	}
	r.ok = true
	return r
}

var tapePC struct {
	once   sync.Once
	typ    reflect.Type // *gorgonia.tapeMachine
	offset uintptr      // of its pc field
	ok     bool
}

// rewind prepares vm for the next RunAll, keeping its registers when plan allows.
func rewind(vm G.VM, plan tapeReuse) {
	tapePC.once.Do(func() {
		t := reflect.TypeOf(vm)
		if t.Kind() != reflect.Pointer || t.Elem().PkgPath() != "gorgonia.org/gorgonia" || t.Elem().Name() != "tapeMachine" {
			return
		}
		f, ok := t.Elem().FieldByName("pc")
		tapePC.typ, tapePC.offset, tapePC.ok = t, f.Offset, ok && f.Type.Kind() == reflect.Int
	})
	if !plan.ok || !tapePC.ok || reflect.TypeOf(vm) != tapePC.typ {
		vm.Reset()
		return
	}
	for _, n := range plan.zero {
		if t, ok := n.Value().(*tensor.Dense); ok {
			t.Zero()
		}
	}
	*(*int)(unsafe.Add(reflect.ValueOf(vm).UnsafePointer(), tapePC.offset)) = 0
}
