// Package optml is SageMaker's training contract on disk: the /opt/ml tree (Paths) and
// the config files the service writes into it (ChannelConfig, ResourceConfig). The
// trainer reads it and `launcher local` builds it from these same declarations. It has
// no imports beyond the standard library, so the launcher links no trainer code.
package optml

import (
	"io"
	"path/filepath"
	"strings"
)

// DefaultRoot is where SageMaker mounts the training contract.
const DefaultRoot = "/opt/ml"

// RootEnv overrides DefaultRoot (the name the sagemaker-training toolkit uses), for tests
// and local runs against a mounted or copied tree.
const RootEnv = "SAGEMAKER_BASE_DIR"

// RootFromEnv returns $SAGEMAKER_BASE_DIR when set, else /opt/ml.
func RootFromEnv(getenv func(string) string) string {
	if getenv != nil {
		if r := strings.TrimSpace(getenv(RootEnv)); r != "" {
			return r
		}
	}
	return DefaultRoot
}

// Defaults fills what a container's options leave empty: root means DefaultRoot, a nil
// stdout or stderr discards.
func Defaults(root string, stdout, stderr io.Writer) (string, io.Writer, io.Writer) {
	if root == "" {
		root = DefaultRoot
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	return root, stdout, stderr
}

// Paths names the files and folders of the /opt/ml tree below one root.
type Paths struct{ Root string }

func (p Paths) join(elem ...string) string {
	return filepath.Join(append([]string{p.Root}, elem...)...)
}

// ConfigDir is input/config.
func (p Paths) ConfigDir() string { return p.join("input", "config") }

// Hyperparameters is input/config/hyperparameters.json.
func (p Paths) Hyperparameters() string { return p.join("input", "config", "hyperparameters.json") }

// InputDataConfig is input/config/inputdataconfig.json.
func (p Paths) InputDataConfig() string { return p.join("input", "config", "inputdataconfig.json") }

// ResourceConfig is input/config/resourceconfig.json.
func (p Paths) ResourceConfig() string { return p.join("input", "config", "resourceconfig.json") }

// CheckpointConfig is input/config/checkpointconfig.json (present only when
// CheckpointConfig was set on the job).
func (p Paths) CheckpointConfig() string { return p.join("input", "config", "checkpointconfig.json") }

// DataDir is input/data, which holds one folder per channel in File mode.
func (p Paths) DataDir() string { return p.join("input", "data") }

// Channel is the folder of one channel.
func (p Paths) Channel(name string) string { return p.join("input", "data", name) }

// ModelDir is model/, uploaded as model.tar.gz.
func (p Paths) ModelDir() string { return p.join("model") }

// OutputDir is output/.
func (p Paths) OutputDir() string { return p.join("output") }

// OutputDataDir is output/data/, uploaded as output.tar.gz.
func (p Paths) OutputDataDir() string { return p.join("output", "data") }

// Failure is output/failure, whose first 1024 characters become FailureReason.
func (p Paths) Failure() string { return p.join("output", "failure") }

// DefaultCheckpointDir is checkpoints/, CheckpointConfig.LocalPath's default.
func (p Paths) DefaultCheckpointDir() string { return p.join("checkpoints") }

// Rel returns path relative to the root for messages ("input/config/hyperparameters.json"),
// so failure reasons read the same in a container and in a test.
func (p Paths) Rel(path string) string {
	if r, err := filepath.Rel(p.Root, path); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return path
}

// ChannelConfig is one entry of inputdataconfig.json. Only TrainingInputMode matters to
// the trainer; the rest is logged. Local mode writes nothing but TrainingInputMode, so
// no field is required.
type ChannelConfig struct {
	ContentType        string `json:"ContentType,omitempty"`
	TrainingInputMode  string `json:"TrainingInputMode,omitempty"`
	S3DistributionType string `json:"S3DistributionType,omitempty"`
	RecordWrapperType  string `json:"RecordWrapperType,omitempty"`
}

// ResourceConfig is resourceconfig.json. Fields beyond current_host and hosts vary
// between real jobs and local mode, so none is required.
type ResourceConfig struct {
	CurrentHost          string          `json:"current_host"`
	Hosts                []string        `json:"hosts"`
	NetworkInterfaceName string          `json:"network_interface_name,omitempty"`
	CurrentInstanceType  string          `json:"current_instance_type,omitempty"`
	CurrentGroupName     string          `json:"current_group_name,omitempty"`
	InstanceGroups       []InstanceGroup `json:"instance_groups,omitempty"`
}

// InstanceGroup is one entry of resourceconfig.json's instance_groups.
type InstanceGroup struct {
	InstanceGroupName string   `json:"instance_group_name"`
	InstanceType      string   `json:"instance_type"`
	Hosts             []string `json:"hosts"`
}
