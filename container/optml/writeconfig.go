package optml

import (
	"encoding/json"
	"os"
)

// WriteConfig writes a training job's config files as SageMaker does before the container
// starts: hyperparameters.json, inputdataconfig.json and resourceconfig.json in
// input/config (created).
func (p Paths) WriteConfig(hp map[string]string, channels map[string]ChannelConfig, res ResourceConfig) error {
	if err := os.MkdirAll(p.ConfigDir(), 0o755); err != nil {
		return err
	}
	for path, v := range map[string]any{p.Hyperparameters(): hp, p.InputDataConfig(): channels, p.ResourceConfig(): res} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
