package model

import (
	"fmt"
	"strconv"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// scaled is one sample after scaling: what the network sees and what it is scored on.
type scaled struct {
	pre      []float32 // scaled pre values, 0 where missing (len A)
	preObs   []float32 // 1 where the pre value was observed, else 0
	post     []float32 // scaled targets, 0 where missing
	postMask []float32 // 1 where the target was observed, else 0
	// Prescription rows: the sample's embedding rows themselves (shared, read-only, not
	// copied: a million samples of a few hundred drugs) and per row the scaled dose and
	// unit feature, du[2r] and du[2r+1]. rxRow assembles row r's RxFeatures values.
	emb [][]float32
	du  []float32
	n   int // prescription rows
	// drugs is each row's index in Config.Drugs, -1 for others; nil: none
	drugs []int32

	buf []float32 // backs pre, preObs, post, postMask and du (see scaleInto)
}

// rxRow writes prescription row r's scaled features (embedding, dose, unit feature) into
// dst[:len(emb[r])+2].
func (s *scaled) rxRow(r int, dst []float32) {
	d := copy(dst, s.emb[r])
	dst[d], dst[d+1] = s.du[2*r], s.du[2*r+1]
}

// graphKey identifies one compiled graph: graphs are built once per batch shape and reused.
type graphKey struct {
	batch, rows int
	train       bool
}

// paramBlock is where one graph node's parameter matrix, rows x cols, lies in the flat
// parameter buffer: row r at off + r*stride. stride == cols is a contiguous range (a weight
// matrix, or a weight matrix and the bias stored right after it) that the node's tensor
// shares; stride > cols is the leading columns of a wider matrix, gathered into a buffer
// of the node's own before each run (gathered).
type paramBlock struct{ off, rows, cols, stride int }

func (b paramBlock) gathered() bool { return b.stride != b.cols }

// forRows calls fn for each row: its offset in the flat buffer and in the node's data.
func (b paramBlock) forRows(fn func(flat, node int)) {
	if !b.gathered() {
		fn(b.off, 0) // one contiguous range
		return
	}
	for r := 0; r < b.rows; r++ {
		fn(b.off+r*b.stride, r*b.cols)
	}
}

// rowLen is how many values each forRows call covers.
func (b paramBlock) rowLen() int {
	if !b.gathered() {
		return b.rows * b.cols
	}
	return b.cols
}

// netGraph is one compiled expression graph with its tape machine and the host buffers
// its input tensors are backed by. For float32 graphs the parameter tensors share memory
// with the model's flat parameter buffer, so an optimiser step needs no copying.
type netGraph struct {
	key   graphKey
	dt    tensor.Dtype
	g     *G.ExprGraph
	vm    G.VM
	reuse tapeReuse // whether and how run may keep the machine's registers
	batch int
	rows  int

	// inputs: host staging buffers (float32) and, for float64 graphs, their float64 twins
	in    map[string][]float32
	in64  map[string][]float64
	nodes map[string]*G.Node

	params   []*G.Node    // parameter blocks
	blocks   []paramBlock // where each block lies in the flat buffer
	flat     []float32    // float32 graphs: the model's flat parameter buffer
	params64 []float64    // float64 graphs only: the parameter backing

	grads []*G.Node
	// Read targets are separate allocations: a read target held in the same struct as
	// the machine forms a cycle through the machine's finalizer and leaks.
	lossV  *G.Value
	predV  *G.Value
	gradVs []*G.Value
}

// missingPreWeight is the pooled-residual loss weight of a target whose pre value was
// not observed. Without the pre value a target carries the patient's whole unexplained
// level (on the synthetic data ~10x the residual variance of a target with one), so at
// weight 1 those targets dominate the gradient and the encoder fits their noise; weighting
// by roughly the inverse variance (weighted least squares) trains the drug effect on the
// informative targets. Validation loss, early stopping and all metrics stay unweighted.
const missingPreWeight = 0.1

// buildMu serialises graph construction: gorgonia's builders update package-level state
// (operation group counters), which concurrent Predict calls would race on. Running
// built graphs needs no lock.
var buildMu sync.Mutex

// buildGraph builds the network for cfg. params is the flat float32 parameter buffer
// (shared with float32 graphs); for dt == Float64 the graph gets its own float64 copy.
func buildGraph(cfg Config, specs []paramSpec, params []float32, key graphKey, dt tensor.Dtype) (ng *netGraph, err error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	defer func() {
		// gorgonia reports some shape problems by panicking; never let one escape
		if r := recover(); r != nil {
			ng, err = nil, fmt.Errorf("model: building graph: %v", r)
		}
	}()
	l := cfg.Layout
	a := len(l.Analytes)
	b := key.batch
	u := cfg.LSTMUnits
	e := cfg.EncoderUnits
	g := G.NewGraph()
	ng = &netGraph{key: key, dt: dt, g: g, batch: b, rows: key.rows,
		in: map[string][]float32{}, in64: map[string][]float64{}, nodes: map[string]*G.Node{}}

	input := func(name string, rows, cols int) *G.Node {
		n := rows * cols
		buf := make([]float32, n)
		ng.in[name] = buf
		var t *tensor.Dense
		if dt == tensor.Float64 {
			b64 := make([]float64, n)
			ng.in64[name] = b64
			t = tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(b64))
		} else {
			t = tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(buf))
		}
		node := G.NewMatrix(g, dt, G.WithShape(rows, cols), G.WithName(name), G.WithValue(t))
		ng.nodes[name] = node
		return node
	}

	if dt == tensor.Float64 {
		ng.params64 = make([]float64, len(params))
		for i, v := range params {
			ng.params64[i] = float64(v)
		}
	}
	// A dense layer on a graph input folds its bias in: the input carries a constant-1
	// column and the weight block is [W; b], which is exactly how W and b lie next to each
	// other in the flat buffer. Other biases are added as ones[B,1]·b[1,N], a rank-1
	// product, which is cheaper in gorgonia than a broadcasting add.
	ng.flat = params
	// view is a rows x cols node over the flat buffer at off (stride == cols), or, for the
	// leading cols columns of a matrix stride wide, over a buffer of its own (stride > cols)
	view := func(name string, rows, cols, stride, off int) *G.Node {
		var t *tensor.Dense
		switch {
		case dt == tensor.Float64 && stride == cols:
			t = tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(ng.params64[off:off+rows*cols]))
		case dt == tensor.Float64:
			t = tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(make([]float64, rows*cols)))
		case stride == cols:
			t = tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(params[off:off+rows*cols]))
		default:
			t = tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(make([]float32, rows*cols)))
		}
		return G.NewMatrix(g, dt, G.WithShape(rows, cols), G.WithName(name), G.WithValue(t))
	}
	// strided is view for a parameter: the optimiser's blocks and gradients follow it
	strided := func(name string, rows, cols, stride, off int) *G.Node {
		n := view(name, rows, cols, stride, off)
		ng.params = append(ng.params, n)
		ng.blocks = append(ng.blocks, paramBlock{off: off, rows: rows, cols: cols, stride: stride})
		return n
	}
	param := func(name string, rows, cols, off int) *G.Node { return strided(name, rows, cols, cols, off) }
	spec := map[string]paramSpec{}
	for _, s := range specs {
		spec[s.Name] = s
	}
	folded := func(w string) *G.Node { // [W; b] for W named w and its bias right after it
		s := spec[w]
		return param(w+"+b", s.Rows+1, s.Cols, s.Off)
	}
	plain := func(name string) *G.Node {
		s := spec[name]
		return param(name, s.Rows, s.Cols, s.Off)
	}

	must := func(n *G.Node, err error) *G.Node {
		if err != nil {
			panic(err)
		}
		return n
	}
	ones := input("ones", b, 1)
	biased := func(x *G.Node, b *G.Node) *G.Node {
		return must(G.Add(x, must(G.Mul(ones, b))))
	}

	// the two encoded input steps, [B, E] each
	var z0, z1 *G.Node
	if cfg.Architecture == ArchSeed {
		f := l.BlockRows * l.BlockFeatures
		td := folded("td_w")
		z0 = must(G.Mul(input("x0", b, f+1), td))
		z1 = must(G.Mul(input("x1", b, f+1), td))
	} else {
		z0 = must(applyActivation(actReLU, must(G.Mul(input("x0", b, 2*a+1), folded("pre_w")))))
		// rows are staged row-slot-major (slot r of sample i at r*B+i) so the sum over slots
		// is a reduction over the leading axis; padded slots are all zero, bias column
		// included, so they encode to relu(0) = 0 and drop out of the sum without a mask
		// the dose-weighted embedding d_k e_k enters the same layer as a bilinear term, so a
		// unit's response to the dose can differ per drug (a product one relu layer over
		// [embedding, dose, unit] cannot form); padded rows are all zero here too
		enc := must(G.Add(must(G.Mul(input("rx", key.rows*b, l.RxFeatures()+1), folded("rx_w"))),
			must(G.Mul(input("rxde", key.rows*b, l.EmbeddingDim), plain("rx_dose_w")))))
		enc = must(applyActivation(actReLU, enc))
		enc = must(G.Reshape(enc, tensor.Shape{key.rows, b * e}))
		z1 = must(G.Reshape(must(G.Sum(enc, 0)), tensor.Shape{b, e}))
	}
	outW, outB := plain("out_w"), plain("out_b")
	if cfg.Architecture == ArchSeed {
		// only row 0, columns 0..A-1 of the seed's output block reach the prediction: take
		// those columns of out_w and out_b instead of computing the whole block (2600
		// columns at the production shape) and slicing it; the other columns' gradient is
		// zero either way
		ow, ob := spec["out_w"], spec["out_b"]
		ng.params, ng.blocks = ng.params[:len(ng.params)-2], ng.blocks[:len(ng.blocks)-2]
		outW, outB = strided("out_w[:A]", ow.Rows, a, ow.Cols, ow.Off), strided("out_b[:A]", 1, a, ob.Cols, ob.Off)
	}

	// LSTM over [z0, z1] from h = c = 0; gates in PyTorch order (i, f, g, o). The
	// weights are stored gate-major (four [in, U] blocks back to back) so each gate is a
	// contiguous matrix of its own: no slicing of a [B, 4U] product, whose strided views
	// were slow and, as column ranges, unsafe (they can hash alike and merge).
	gateBlock := func(name string, k int) *G.Node {
		s := spec[name]
		per := s.Rows * s.Cols / 4
		return param(name+"["+strconv.Itoa(k)+"]", per/u, u, s.Off+k*per)
	}
	var wxk, whk, bk [4]*G.Node
	for k := 0; k < 4; k++ {
		wxk[k], whk[k], bk[k] = gateBlock("lstm_wx", k), gateBlock("lstm_wh", k), gateBlock("lstm_b", k)
	}
	preAct := func(z, h *G.Node, k int) *G.Node {
		x := biased(must(G.Mul(z, wxk[k])), bk[k])
		if h != nil {
			x = must(G.Add(x, must(G.Mul(h, whk[k]))))
		}
		return x
	}
	i0 := must(applyActivation(actSigmoid, preAct(z0, nil, 0)))
	g0 := must(applyActivation(actTanh, preAct(z0, nil, 2)))
	o0 := must(applyActivation(actSigmoid, preAct(z0, nil, 3)))
	c1 := must(G.HadamardProd(i0, g0)) // the forget term vanishes at t=0 (c0 = 0)
	h1 := must(G.HadamardProd(o0, must(applyActivation(actTanh, c1))))

	i1 := must(applyActivation(actSigmoid, preAct(z1, h1, 0)))
	f1 := must(applyActivation(actSigmoid, preAct(z1, h1, 1)))
	g1 := must(applyActivation(actTanh, preAct(z1, h1, 2)))
	o1 := must(applyActivation(actSigmoid, preAct(z1, h1, 3)))
	c2 := must(G.Add(must(G.HadamardProd(f1, c1)), must(G.HadamardProd(i1, g1))))
	h := must(G.HadamardProd(o1, must(applyActivation(actTanh, c2))))

	if key.train {
		// our own inverted-dropout mask (0 or 1/(1-p)) from the run's seeded RNG: G.Dropout
		// has a wrong backward pass and seeds itself from the clock
		h = must(G.HadamardProd(h, input("drop", b, u)))
	}
	pred := biased(must(G.Mul(h, outW)), outB)
	if cfg.linear() {
		// the linear base: a view of the flat buffer like a parameter's, but not in
		// ng.params, so no gradient reaches it and the optimiser never moves it
		s := spec["lin_w"]
		lin := view("lin_w", s.Rows, s.Cols, s.Cols, s.Off)
		pred = must(G.Add(pred, must(G.Mul(input("lx", b, s.Rows), lin))))
	}
	if cfg.residual() {
		// residual head: pv is the scaled pre value where observed and 0 elsewhere, so
		// the output is a change where pre was seen and a plain prediction where not
		pred = must(G.Add(pred, input("pv", b, a)))
	}
	ng.predV = new(G.Value)
	roots := G.Nodes{G.Read(pred, ng.predV)}

	if key.train {
		y := input("y", b, a)
		w := input("w", b, a) // observed mask divided by the batch's observed count
		diff := must(G.Sub(pred, y))
		loss := must(G.Sum(must(G.HadamardProd(w, must(G.Square(diff))))))
		ng.grads, err = G.Grad(loss, ng.params...)
		if err != nil {
			return nil, fmt.Errorf("model: differentiating graph: %w", err)
		}
		ng.lossV = new(G.Value)
		roots = append(roots, G.Read(loss, ng.lossV))
		for _, gn := range ng.grads {
			v := new(G.Value)
			ng.gradVs = append(ng.gradVs, v)
			roots = append(roots, G.Read(gn, v))
		}
	}
	// compile only what the reads need: unused input gradients cost ~40% more
	sub := g.ExactSubgraphRoots(roots...)
	ng.vm = G.NewTapeMachine(sub)
	ng.reuse = planReuse(sub)
	return ng, nil
}

// run executes the graph once on the staged inputs.
func (ng *netGraph) run() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("model: running graph: %v", r)
		}
	}()
	if ng.dt == tensor.Float64 {
		for name, src := range ng.in {
			dst := ng.in64[name]
			for i, v := range src {
				dst[i] = float64(v)
			}
		}
	}
	for k, blk := range ng.blocks {
		if !blk.gathered() {
			continue
		}
		switch d := ng.params[k].Value().Data().(type) {
		case []float32:
			blk.forRows(func(flat, node int) { copy(d[node:node+blk.cols], ng.flat[flat:]) })
		case []float64:
			blk.forRows(func(flat, node int) { copy(d[node:node+blk.cols], ng.params64[flat:]) })
		}
	}
	rewind(ng.vm, ng.reuse)
	return runTape(ng.vm)
}

// loss returns the last run's loss.
func (ng *netGraph) loss() float64 { return valueScalar(*ng.lossV) }

func valueScalar(v G.Value) float64 {
	switch x := v.Data().(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	case []float32:
		return float64(x[0])
	case []float64:
		return x[0]
	}
	return 0
}

// copyPred copies the last run's predictions, [batch, A] row-major, into dst.
func (ng *netGraph) copyPred(dst []float32) {
	switch d := (*ng.predV).Data().(type) {
	case []float32:
		copy(dst, d)
	case []float64:
		for i := range dst {
			dst[i] = float32(d[i])
		}
	}
}

// copyGrads writes the last run's parameter gradients into the flat buffer dst (zero
// where no node reads the parameter).
func (ng *netGraph) copyGrads(dst []float32) {
	clear(dst)
	for k, blk := range ng.blocks {
		switch d := (*ng.gradVs[k]).Data().(type) {
		case []float32:
			blk.forRows(func(flat, node int) { copy(dst[flat:flat+blk.rowLen()], d[node:]) })
		case []float64:
			blk.forRows(func(flat, node int) {
				for i := range blk.rowLen() {
					dst[flat+i] = float32(d[node+i])
				}
			})
		}
	}
}

// grads64 returns the last run's gradients as float64 (gradient checks).
func (ng *netGraph) grads64(n int) []float64 {
	out := make([]float64, n)
	for k, blk := range ng.blocks {
		switch d := (*ng.gradVs[k]).Data().(type) {
		case []float32:
			blk.forRows(func(flat, node int) {
				for i := range blk.rowLen() {
					out[flat+i] = float64(d[node+i])
				}
			})
		case []float64:
			blk.forRows(func(flat, node int) { copy(out[flat:flat+blk.rowLen()], d[node:]) })
		}
	}
	return out
}

func (ng *netGraph) close() {
	if c, ok := ng.vm.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}

// fill stages a batch. Slots past len(batch) are padding: all-zero inputs and zero loss
// weight. drop, when non-nil, is the dropout mask [batch, U]. It returns the number of
// observed targets in the batch.
func (ng *netGraph) fill(cfg Config, batch []*scaled, drop []float32) int {
	count := observedCount(batch)
	inv := float32(0)
	if count > 0 {
		inv = 1 / float32(count)
	}
	ng.fillWeighted(cfg, batch, drop, inv)
	return count
}

// fillWeighted is fill with each observed target weighted by inv: one over the observed
// count of the whole batch when this graph runs one shard of it.
func (ng *netGraph) fillWeighted(cfg Config, batch []*scaled, drop []float32, inv float32) {
	l := cfg.Layout
	a := len(l.Analytes)
	rxf := l.RxFeatures()
	for _, buf := range ng.in {
		clear(buf)
	}
	y, w := ng.in["y"], ng.in["w"]
	if pv := ng.in["pv"]; pv != nil {
		for bi, s := range batch {
			copy(pv[bi*a:], s.pre)
		}
	}
	ones := ng.in["ones"]
	for i := range ones {
		ones[i] = 1
	}
	if cfg.Architecture == ArchSeed {
		f := l.BlockRows*l.BlockFeatures + 1 // + the bias column
		x0, x1 := ng.in["x0"], ng.in["x1"]
		for bi, s := range batch {
			copy(x0[bi*f:], s.pre)
			copy(x0[bi*f+seedPreRows(l)*l.BlockFeatures:], s.preObs)
			x0[bi*f+f-1] = 1
			for r := 0; r < s.n; r++ {
				s.rxRow(r, x1[bi*f+r*l.BlockFeatures:])
			}
			x1[bi*f+f-1] = 1
		}
	} else {
		x0, rx, rxde := ng.in["x0"], ng.in["rx"], ng.in["rxde"]
		w0 := 2*a + 1
		dim := l.EmbeddingDim
		for bi, s := range batch {
			copy(x0[bi*w0:], s.pre)
			copy(x0[bi*w0+a:], s.preObs)
			x0[bi*w0+2*a] = 1
			for r := 0; r < s.n; r++ {
				row := rx[(r*ng.batch+bi)*(rxf+1):]
				s.rxRow(r, row)
				row[rxf] = 1
				de := rxde[(r*ng.batch+bi)*dim : (r*ng.batch+bi+1)*dim]
				for c, v := range row[:dim] {
					de[c] = row[dim] * v // scaled dose × embedding
				}
			}
		}
	}
	if lx := ng.in["lx"]; lx != nil {
		w := len(lx) / ng.batch
		for bi, s := range batch {
			linearFeatures(cfg, s, lx[bi*w:(bi+1)*w])
		}
	}
	if y != nil {
		for bi, s := range batch {
			copy(y[bi*a:], s.post)
			for j, m := range s.postMask {
				w[bi*a+j] = m * inv
				if cfg.Architecture != ArchSeed && s.preObs[j] == 0 {
					w[bi*a+j] *= missingPreWeight
				}
			}
		}
	}
	if d := ng.in["drop"]; d != nil {
		if drop != nil {
			copy(d, drop)
		} else {
			for i := range d {
				d[i] = 1
			}
		}
	}
}
