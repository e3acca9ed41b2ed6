package model

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Activations as fused graph operations.
//
// gorgonia's Sigmoid, Tanh and Rectify allocate a new tensor on every run (sigmoid and tanh
// through math32's software exp, a function call per element); their gradients are two or
// three more element-wise instructions each (1-y, y·(1-y), ·dy; x>=0, ·dy). In a B128 step
// these were the largest element-wise cost after the matrix products. actOp computes the
// activation in one pass into the machine's kept register (UsePreallocDo), and its gradient
// is one actGradOp pass: dy·y·(1-y) for sigmoid, dy·(1-y²) for tanh, dy·[y>0] for relu
// (PyTorch's choice at 0; padded rows, the only exact zeros, carry no weight gradient either
// way). Checked like the rest of the graph by the finite-difference test (float64) and the
// PyTorch goldens (float32).

type activation int

const (
	actSigmoid activation = iota
	actTanh
	actReLU
)

func (a activation) String() string { return [...]string{"sigmoid", "tanh", "relu"}[a] }

// opTemplates are gorgonia operations whose type and shape inference the fused operations
// reuse (same-shaped matrices in, the same shape out).
var opTemplates struct {
	once          sync.Once
	unary, binary G.Op
	err           error
}

func templates() (unary, binary G.Op, err error) {
	t := &opTemplates
	t.once.Do(func() {
		g := G.NewGraph()
		x := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 2), G.WithName("x"))
		var u, b *G.Node
		if u, t.err = G.Sigmoid(x); t.err != nil {
			return
		}
		if b, t.err = G.HadamardProd(x, x); t.err != nil {
			return
		}
		t.unary, t.binary = u.Op(), b.Op()
	})
	return t.unary, t.binary, t.err
}

// applyActivation returns the node act(x).
func applyActivation(act activation, x *G.Node) (*G.Node, error) {
	unary, _, err := templates()
	if err != nil {
		return nil, err
	}
	return G.ApplyOp(actOp{Op: unary, act: act}, x)
}

// actOp is y = act(x), element-wise.
type actOp struct {
	G.Op // type and shape inference only
	act  activation
}

func (o actOp) Arity() int            { return 1 }
func (o actOp) ReturnsPtr() bool      { return false }
func (o actOp) CallsExtern() bool     { return false }
func (o actOp) OverwritesInput() int  { return -1 }
func (o actOp) String() string        { return "fused." + o.act.String() }
func (o actOp) WriteHash(h hash.Hash) { fmt.Fprint(h, o.String()) }
func (o actOp) Hashcode() uint32      { return opHash(o) }
func (o actOp) DiffWRT(int) []bool    { return []bool{true} }

func (o actOp) Do(in ...G.Value) (G.Value, error) {
	x, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%v: input is %T, expected a dense tensor", o, in[0])
	}
	return o.UsePreallocDo(tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(x.Shape().Clone()...)), in...)
}

func (o actOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	x, y, err := denseSameShape(o, prealloc, in[0])
	if err != nil {
		return nil, err
	}
	switch xs := x.Data().(type) {
	case []float32:
		ys := y.Data().([]float32)[:len(xs)]
		switch o.act {
		case actSigmoid:
			for i, v := range xs {
				ys[i] = float32(1 / (1 + math.Exp(-float64(v))))
			}
		case actTanh:
			for i, v := range xs {
				// 1 - 2/(e^2x + 1): one exp (math.Tanh costs several); in float64, so exact
				// to float32 rounding near 0 too
				ys[i] = float32(1 - 2/(math.Exp(2*float64(v))+1))
			}
		case actReLU:
			for i, v := range xs {
				ys[i] = max(v, 0)
			}
		}
	case []float64:
		ys := y.Data().([]float64)[:len(xs)]
		for i, v := range xs {
			switch o.act {
			case actSigmoid:
				ys[i] = 1 / (1 + math.Exp(-v))
			case actTanh:
				ys[i] = math.Tanh(v)
			case actReLU:
				ys[i] = max(v, 0)
			}
		}
	default:
		return nil, fmt.Errorf("%v: dtype %v is not supported", o, x.Dtype())
	}
	return y, nil
}

func (o actOp) SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	_, binary, err := templates()
	if err != nil {
		return nil, err
	}
	d, err := G.ApplyOp(actGradOp{Op: binary, act: o.act}, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}

// actGradOp is dx = dy·act'(x) from y = act(x): dy·y·(1-y) or dy·(1-y²).
type actGradOp struct {
	G.Op // type and shape inference only
	act  activation
}

func (o actGradOp) Arity() int            { return 2 }
func (o actGradOp) ReturnsPtr() bool      { return false }
func (o actGradOp) CallsExtern() bool     { return false }
func (o actGradOp) OverwritesInput() int  { return -1 }
func (o actGradOp) String() string        { return "fused." + o.act.String() + "'" }
func (o actGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, o.String()) }
func (o actGradOp) Hashcode() uint32      { return opHash(o) }

func (o actGradOp) Do(in ...G.Value) (G.Value, error) {
	y, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%v: input is %T, expected a dense tensor", o, in[0])
	}
	return o.UsePreallocDo(tensor.New(tensor.Of(y.Dtype()), tensor.WithShape(y.Shape().Clone()...)), in...)
}

func (o actGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	y, dx, err := denseSameShape(o, prealloc, in[0])
	if err != nil {
		return nil, err
	}
	dy, _, err := denseSameShape(o, prealloc, in[1])
	if err != nil {
		return nil, err
	}
	switch ys := y.Data().(type) {
	case []float32:
		actGrad(o.act, ys, dy.Data().([]float32)[:len(ys)], dx.Data().([]float32)[:len(ys)])
	case []float64:
		actGrad(o.act, ys, dy.Data().([]float64)[:len(ys)], dx.Data().([]float64)[:len(ys)])
	default:
		return nil, fmt.Errorf("%v: dtype %v is not supported", o, y.Dtype())
	}
	return dx, nil
}

func actGrad[T float32 | float64](act activation, y, dy, dx []T) {
	switch act {
	case actSigmoid:
		for i, v := range y {
			dx[i] = dy[i] * (v * (1 - v))
		}
	case actTanh:
		for i, v := range y {
			dx[i] = dy[i] * (1 - v*v)
		}
	case actReLU:
		for i, v := range y {
			if v > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = 0
			}
		}
	}
}

// denseSameShape checks that in and out are dense tensors of one dtype and size.
func denseSameShape(op fmt.Stringer, out, in G.Value) (x, y *tensor.Dense, err error) {
	x, ok1 := in.(*tensor.Dense)
	y, ok2 := out.(*tensor.Dense)
	if !ok1 || !ok2 || x.Dtype() != y.Dtype() || x.Size() != y.Size() || !x.IsNativelyAccessible() {
		return nil, nil, fmt.Errorf("%v: values %T and %T do not match", op, in, out)
	}
	return x, y, nil
}

// opHash is the fused operations' Hashcode: gorgonia compares operations by it when two
// nodes' hashes collide, so each activation and its gradient must hash apart (the
// embedded template's Hashcode would make sigmoid, tanh and relu one operation).
func opHash(op G.Op) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
