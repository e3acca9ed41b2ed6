package processing

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/pipeline"
)

// Command is the image's argument that selects preparation (SageMaker starts a
// processing container with ContainerArguments and no "train").
const Command = "prepare"

// OutputName is the ProcessingOutput that receives the prepared dataset.
const OutputName = "prepared"

// plainInput names inputs that are not pre-split ("input-1", "input-2", ...).
const plainInput = "input"

// InputName names the n-th (1-based) ProcessingInput. split is "" for a plain input, or
// the channel a pre-split input ("train=s3://...") belongs to: its name then starts with
// the channel, which is how the container knows the split.
func InputName(split string, n int) string {
	if split == "" {
		split = plainInput
	}
	return split + "-" + strconv.Itoa(n)
}

// InputPath is the LocalPath the launcher gives an input of that name.
func InputPath(name string) string { return optml.Paths{Root: optml.DefaultRoot}.ProcessingInput(name) }

// OutputPath is the LocalPath of the output.
func OutputPath() string { return optml.Paths{Root: optml.DefaultRoot}.ProcessingOutput(OutputName) }

// splitOf returns the channel an input name marks, or "" for a plain input.
func splitOf(name string) (string, error) {
	base, n, ok := strings.Cut(name, "-")
	if _, err := strconv.Atoi(n); !ok || err != nil {
		return "", fmt.Errorf("input %q: expected a name like input-1 or train-1", name)
	}
	if base == plainInput {
		return "", nil
	}
	for _, ch := range pipeline.Channels {
		if base == ch {
			return ch, nil
		}
	}
	return "", fmt.Errorf("input %q: expected input-N or one of %s followed by -N", name, strings.Join(pipeline.Channels[:], ", "))
}

// Arguments are the ContainerArguments that run pipeline.Prepare with opt in the job:
// Command, then every option that differs from its zero value. opt's Inputs and Output
// are not sent (the job's inputs and output take their place) and its S3 store must be
// unset; an option that cannot travel as an argument is an error naming it.
func Arguments(opt pipeline.PrepareOptions) ([]string, error) {
	args, err := encodeOptions(opt)
	if err != nil {
		return nil, err
	}
	return append([]string{Command}, args...), nil
}
