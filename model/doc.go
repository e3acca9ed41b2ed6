// Package model is BlueBlood's network: a gorgonia expression graph (float32, gradients by
// gorgonia's autodiff) that predicts a patient's blood values after a set of
// prescriptions, its training loop, metrics and persistence.
//
// # Inputs
//
// A sample is scaled with the pipeline.Scaler fitted on the training split. With A
// analytes, per sample:
//
//	p   in R^A   scaled pre values, 0 where not observed
//	m   in {0,1}^A  1 where the pre value was observed (so the network knows what it saw)
//	r_k in R^F   scaled prescription rows k = 1..n (embedding, dose, unit; F = EmbeddingDim+2)
//	y   in R^A   scaled post values (the target), with observed mask q in {0,1}^A
//
// The post values are the target only; they never enter the input.
//
// # Architectures
//
// Both share one code path: two encoded input steps x_0, x_1 in R^E, an LSTM with U units
// over them, dropout, a dense output layer.
//
// pooled-residual (default):
//
//	x_0 = relu(W_p [p; m] + b_p)
//	x_1 = sum_{k=1..n} relu(W_r r_k + b_r + W_d (δ_k e_k))   one shared encoder for every row
//	ŷ   = W_o d + b_o + p                          residual: p is 0 where pre is missing,
//	                                               so there the output is a plain prediction
//
// where e_k is row k's embedding and δ_k its scaled dose: the bilinear term W_d (δ_k e_k)
// lets a unit's response to the dose differ per drug, a product that one relu layer over
// [embedding, dose, unit] cannot form (drug effects scale with the dose). The sum over
// rows makes the encoder order-invariant and lets a sample have any number of rows;
// batches are padded to a power-of-two row count with all-zero rows, which encode to
// relu(0) = 0 because their constant-1 bias column and δ_k e_k are 0 too.
//
// seed (the original network): every step is a BlockRows x BlockFeatures block, flattened
// to B_0, B_1 in R^(BlockRows*BlockFeatures); block 0 holds p in its first row(s) and m in
// the row(s) after, block 1 holds one prescription row per block row (at most BlockRows;
// longer groups are rejected: apply the overflow policy first).
//
//	x_t = W_td B_t + b_td                           shared over both steps (TimeDistributed)
//	o   = W_o d + b_o in R^(BlockRows*BlockFeatures) the output block; ŷ = o[0:A]
//
// LSTM (PyTorch's gate order i, f, g, o; h_0 = c_0 = 0; forget bias initialised to 1;
// weights stored gate-major, so each gate is its own contiguous matrix in the graph):
//
//	[i; f; g; o]_t = W_x x_t + W_h h_{t-1} + b
//	c_t = σ(f_t) ⊙ c_{t-1} + σ(i_t) ⊙ tanh(g_t)
//	h_t = σ(o_t) ⊙ tanh(c_t)
//	d   = h_2 ⊙ z / (1-ρ)   z ~ Bernoulli(1-ρ) in training (inverted dropout), d = h_2 otherwise
//
// # Loss and training
//
// Masked mean squared error over the observed targets of a batch only:
//
//	L = Σ_{i,j} c_ij q_ij (ŷ_ij - y_ij)² / Σ_{i,j} q_ij
//
// with c_ij = 1 for the seed and, for pooled-residual, c_ij = 1 where the pre value was
// observed and 0.1 where it was not (weighted least squares: such a target also carries
// the patient's unexplained level, roughly ten times the residual variance of one with a
// pre value, and at weight 1 its noise dominated the encoder's gradient). Missing targets,
// batch padding and (seed) the rest of the output block contribute nothing. Validation
// loss, early stopping and all metrics are unweighted. Adam (β1 0.9, β2 0.999, ε 1e-8) over one flat parameter buffer, optional
// global-norm clipping, optional L2 weight decay (TrainOptions.WeightDecay λ: after clipping,
// g += λ·w for every weight matrix; biases, including the forget-gate bias of 1, are not
// decayed, as is usual, since shrinking them only shifts the output), mini-batches shuffled per epoch from the seed, early stopping on
// validation loss with the best weights restored. The output layer starts at zero, so the
// untrained pooled-residual network predicts post = pre (the training mean where pre is
// missing), and early stopping weighs those untrained weights as epoch 0
// (History.Initial): a run never returns worse than that baseline on validation. Each
// batch runs as data-parallel shards laid out by the batch size alone (shard.go), one graph
// and tape machine per shard and shape, built once per Train call and reused, gradients
// summed in shard order; the same seed, data and options give bit-identical weights on any
// number of cores, and a Checkpoint resumes a run bit-identically.
//
// # Metrics
//
// Evaluate reports MSE, RMSE and MAE over observed targets in scaled units and, per
// analyte, RMSE and MAE in original units, beside two baselines scored on the same values:
// train_mean (the training split's mean post value) and post_equals_pre (the pre value
// where observed, the training mean where not).
//
// # Files
//
// Save writes model.json (format, version, config, scaler, hyperparameters, parameter
// table, checksum) and weights.bin (little-endian float32); see persist.go. Checkpoints
// are gob-encoded Checkpoint values.
//
// # Speed
//
// Without tags the package uses gonum's pure-Go BLAS. Build with -tags openblas (cgo,
// Debian's libopenblas-dev; the default image's build) to route gorgonia's matrix products
// through OpenBLAS; for a static binary add -ldflags '-linkmode external -extldflags
// -static' (and -tags osusergo,netgo so the standard library needs no glibc at run time).
// The OpenBLAS build uses one BLAS thread unless OPENBLAS_NUM_THREADS says otherwise: the
// cores run shards. The tape machine keeps its registers between runs instead of
// reallocating every intermediate and gradient tensor (vmreuse.go), activations and their
// gradients are single fused passes (activation.go), and Adam's element-wise step runs in
// SIMD lanes (internal/vecadam). BenchmarkTrainStep and testdata/bench_compare.py compare
// with PyTorch.
package model
