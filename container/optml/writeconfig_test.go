package optml

import (
	"os"
	"testing"
)

// TestWriteConfig: the three files land under input/config with SageMaker's field names.
func TestWriteConfig(t *testing.T) {
	p := Paths{Root: t.TempDir()}
	err := p.WriteConfig(map[string]string{"epochs": "2"}, map[string]ChannelConfig{"train": {TrainingInputMode: "File"}},
		ResourceConfig{CurrentHost: "algo-1", Hosts: []string{"algo-1"}})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		p.Hyperparameters(): `{"epochs":"2"}`,
		p.InputDataConfig(): `{"train":{"TrainingInputMode":"File"}}`,
		p.ResourceConfig():  `{"current_host":"algo-1","hosts":["algo-1"]}`,
	} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("%s: %s, want %s", p.Rel(path), b, want)
		}
	}
}
