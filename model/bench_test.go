package model

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/blueblood/blueblood/pipeline"
)

// benchConfig is the production shape: 25 analytes, 128-dim embeddings, 20x130 blocks,
// 64 LSTM and encoder units.
func benchConfig(arch string) Config {
	names := make([]string, 25)
	for j := range names {
		names[j] = "a" + strconv.Itoa(j)
	}
	return Config{Architecture: arch, LSTMUnits: 64, EncoderUnits: 64, DropoutRate: 0.2,
		Layout: pipeline.Layout{Analytes: names, EmbeddingDim: 128, BlockRows: 20, BlockFeatures: 130}}
}

// BenchmarkTrainStep measures one optimiser step (fill, forward, backward, Adam) as
// Train runs it (data-parallel shards on GOMAXPROCS cores), in samples per second. Pooled batches have 1..12 prescription rows
// (mean ~6, like the data), padded to 16.
func BenchmarkTrainStep(b *testing.B) {
	for _, arch := range []string{ArchPooledResidual, ArchSeed} {
		for _, bs := range []int{1, 32, 128} {
			b.Run(arch+"/batch="+strconv.Itoa(bs), func(b *testing.B) {
				cfg := benchConfig(arch)
				specs := paramSpecs(cfg)
				m := &Model{cfg: cfg, specs: specs, params: initParams(cfg, specs, 1)}
				r := rand.New(rand.NewPCG(1, 2))
				batch := randomScaled(r, cfg, bs, 12)
				batch[0].n = 12 // fix the row bucket
				batch[0].emb, batch[0].du = randomRx(nil, 12, cfg.Layout.EmbeddingDim)
				sh := newShardedStep(m, bs)
				defer sh.close()
				a := newAdam(len(m.params), 1e-3)
				grads := make([]float32, len(m.params))
				drop := make([]float32, bs*cfg.LSTMUnits)
				m.dropoutMask(r, drop)
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					if _, _, err := sh.step(context.Background(), batch, drop, grads, a, 0, 0); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(bs*b.N)/time.Since(start).Seconds(), "samples/s")
			})
		}
	}
}
