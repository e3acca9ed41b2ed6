package optml

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// SageMaker Processing jobs use the same root as training but another tree:
//
//	<root>/config/processingjobconfig.json   the CreateProcessingJob request
//	<root>/config/resourceconfig.json        current_host, hosts
//	<root>/processing/input/<name>/          one folder per ProcessingInput (LocalPath)
//	<root>/processing/output/<name>/         one folder per ProcessingOutput (LocalPath)
//	<root>/output/message                    becomes the job's ExitMessage (1 KB)

// ProcessingConfig is config/processingjobconfig.json.
func (p Paths) ProcessingConfig() string { return p.join("config", "processingjobconfig.json") }

// ProcessingResourceConfig is config/resourceconfig.json of a processing job.
func (p Paths) ProcessingResourceConfig() string { return p.join("config", "resourceconfig.json") }

// ProcessingInput is the conventional LocalPath of the input name.
func (p Paths) ProcessingInput(name string) string { return p.join("processing", "input", name) }

// ProcessingOutput is the conventional LocalPath of the output name.
func (p Paths) ProcessingOutput(name string) string { return p.join("processing", "output", name) }

// ExitMessage is output/message, whose first MaxExitMessageBytes become ExitMessage.
func (p Paths) ExitMessage() string { return p.join("output", "message") }

// MaxExitMessageBytes is how much of output/message DescribeProcessingJob shows.
const MaxExitMessageBytes = 1024

// processingPrefix is where every processing LocalPath must start.
const processingPrefix = DefaultRoot + "/processing/"

// Local maps a LocalPath from processingjobconfig.json, which names the container's
// /opt/ml/processing/..., to the same place below this root (the two differ in tests
// and local runs). Anything outside /opt/ml/processing/ is refused, as the service does.
func (p Paths) Local(localPath string) (string, error) {
	clean := path.Clean(localPath)
	if !strings.HasPrefix(clean+"/", processingPrefix) || clean+"/" == processingPrefix {
		return "", fmt.Errorf("LocalPath %q: expected a folder below %s", localPath, processingPrefix)
	}
	rel := strings.TrimPrefix(clean, DefaultRoot+"/")
	return filepath.Join(p.Root, filepath.FromSlash(rel)), nil
}

// ProcessingJobConfig is the part of processingjobconfig.json (the whole
// CreateProcessingJob request) a processing container reads. Unknown fields are ignored.
type ProcessingJobConfig struct {
	ProcessingJobName      string                  `json:"ProcessingJobName"`
	AppSpecification       AppSpecification        `json:"AppSpecification"`
	Environment            map[string]string       `json:"Environment,omitempty"`
	ProcessingInputs       []ProcessingInput       `json:"ProcessingInputs,omitempty"`
	ProcessingOutputConfig *ProcessingOutputConfig `json:"ProcessingOutputConfig,omitempty"`
}

// AppSpecification is the image and how it is started.
type AppSpecification struct {
	ImageURI            string   `json:"ImageUri"`
	ContainerEntrypoint []string `json:"ContainerEntrypoint,omitempty"`
	ContainerArguments  []string `json:"ContainerArguments,omitempty"`
}

// ProcessingInput is one input folder.
type ProcessingInput struct {
	InputName string             `json:"InputName"`
	S3Input   *ProcessingS3Input `json:"S3Input,omitempty"`
}

// ProcessingS3Input says where an input comes from and where it lands.
type ProcessingS3Input struct {
	S3URI                  string `json:"S3Uri"`
	LocalPath              string `json:"LocalPath"`
	S3DataType             string `json:"S3DataType,omitempty"`
	S3InputMode            string `json:"S3InputMode,omitempty"`
	S3DataDistributionType string `json:"S3DataDistributionType,omitempty"`
	S3CompressionType      string `json:"S3CompressionType,omitempty"`
}

// ProcessingOutputConfig lists the output folders.
type ProcessingOutputConfig struct {
	Outputs []ProcessingOutput `json:"Outputs"`
}

// ProcessingOutput is one output folder, uploaded to S3Output.S3Uri.
type ProcessingOutput struct {
	OutputName string              `json:"OutputName"`
	S3Output   *ProcessingS3Output `json:"S3Output,omitempty"`
}

// ProcessingS3Output says which folder is uploaded where.
type ProcessingS3Output struct {
	S3URI        string `json:"S3Uri"`
	LocalPath    string `json:"LocalPath"`
	S3UploadMode string `json:"S3UploadMode,omitempty"`
}
