package model

import (
	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/pipeline"
)

// FromHyperparameters maps validated hyperparameters onto the model's configuration and
// training options (callbacks and Resume are left for the caller), so the trainer and any
// other caller agree on the mapping.
func FromHyperparameters(v hparams.Values, layout pipeline.Layout) (Config, TrainOptions) {
	cfg := Config{Architecture: v.Architecture, LSTMUnits: v.LSTMUnits, EncoderUnits: v.EncoderUnits,
		DropoutRate: v.DropoutRate, Layout: layout}
	opt := TrainOptions{Epochs: v.Epochs, BatchSize: v.BatchSize, Patience: v.Patience,
		CheckpointEvery: v.CheckpointEvery, LearningRate: v.LearningRate, ClipNorm: v.ClipNorm,
		WeightDecay: v.WeightDecay, Seed: v.Seed}
	return cfg, opt
}
