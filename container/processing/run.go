package processing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	pathpkg "path"
	"path/filepath"
	"strings"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/pipeline"
	"github.com/blueblood/blueblood/pipeline/atomicfile"
	_ "github.com/blueblood/blueblood/pipeline/formats" // every registered input format
)

// Options configures Run. Everything that touches the outside is injected.
type Options struct {
	Root   string              // the /opt/ml tree; "" means optml.DefaultRoot
	Args   []string            // the arguments after Command
	Getenv func(string) string // the job's Environment (read limits); nil means none
	Stdout io.Writer           // the summary
	Stderr io.Writer           // the log
}

// stagingName is the folder inside the output where the dataset is assembled. The
// output folder may be a mount point, which cannot be renamed, so the dataset is built
// inside it and its entries are moved up when complete.
const stagingName = ".blueblood-staging"

// Run prepares the job's inputs into its output. On failure (including a cancelled ctx:
// SIGINT or SIGTERM) the output holds nothing of this run and output/message says why.
func Run(ctx context.Context, o Options) error {
	o.Root, o.Stdout, o.Stderr = optml.Defaults(o.Root, o.Stdout, o.Stderr)
	p := optml.Paths{Root: o.Root}
	err := run(ctx, p, o)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("stopped: %w", err)
		}
		if werr := atomicfile.WriteFile(p.ExitMessage(), []byte(optml.Reason(err, optml.MaxExitMessageBytes)+"\n")); werr != nil {
			fmt.Fprintf(o.Stderr, "prepare: cannot write %s: %v\n", p.Rel(p.ExitMessage()), werr)
		}
	}
	return err
}

// job is what Run reads from the contract before preparing.
type job struct {
	opt      pipeline.PrepareOptions
	out      string            // the output folder (local)
	outURI   string            // where the service uploads it
	s3ByPath map[string]string // local input folder -> its S3 URI, for the summary
}

func run(ctx context.Context, p optml.Paths, o Options) error {
	j, err := load(p, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Stderr, "prepare: %d inputs -> %s (%s)\n", len(j.opt.Inputs), p.Rel(j.out), j.outURI)
	if err := checkEmpty(j.out); err != nil {
		return err
	}
	staging := filepath.Join(j.out, stagingName)
	defer os.RemoveAll(staging)
	j.opt.Output = filepath.Join(staging, OutputName)
	sum, err := pipeline.Prepare(ctx, j.opt)
	if err != nil {
		return err
	}
	// summary.json names where the dataset is read from after the job: S3, not the
	// container's folders.
	j.rewriteSummary(sum)
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(j.opt.Output, "summary.json"), append(b, '\n')); err != nil {
		return err
	}
	if err := moveUp(j.opt.Output, j.out); err != nil {
		return err
	}
	return sum.WriteText(o.Stdout)
}

// load reads processingjobconfig.json and the arguments into PrepareOptions whose inputs
// and output are the job's folders.
func load(p optml.Paths, o Options) (*job, error) {
	opt, err := decodeOptions(o.Args)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p.ProcessingConfig())
	if err != nil {
		return nil, fmt.Errorf("%s: %w (is this a SageMaker Processing job?)", p.Rel(p.ProcessingConfig()), unwrapPath(err))
	}
	var cfg optml.ProcessingJobConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %v", p.Rel(p.ProcessingConfig()), err)
	}
	j := &job{opt: opt, s3ByPath: map[string]string{}}
	j.opt.Inputs = nil
	for _, in := range cfg.ProcessingInputs {
		if in.S3Input == nil {
			return nil, fmt.Errorf("input %s: expected an S3Input", in.InputName)
		}
		if in.S3Input.S3InputMode == "Pipe" {
			return nil, fmt.Errorf("input %s: S3InputMode Pipe: expected File (prepare reads folders)", in.InputName)
		}
		split, err := splitOf(in.InputName)
		if err != nil {
			return nil, err
		}
		local, err := p.Local(in.S3Input.LocalPath)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", in.InputName, err)
		}
		j.s3ByPath[local] = in.S3Input.S3URI
		if split != "" {
			local = split + "=" + local
		}
		j.opt.Inputs = append(j.opt.Inputs, local)
	}
	if len(j.opt.Inputs) == 0 {
		return nil, fmt.Errorf("%s: no ProcessingInputs: expected at least one S3 input", p.Rel(p.ProcessingConfig()))
	}
	if cfg.ProcessingOutputConfig != nil {
		for _, out := range cfg.ProcessingOutputConfig.Outputs {
			if out.OutputName != OutputName || out.S3Output == nil {
				continue
			}
			if j.out, err = p.Local(out.S3Output.LocalPath); err != nil {
				return nil, fmt.Errorf("output %s: %w", out.OutputName, err)
			}
			j.outURI = out.S3Output.S3URI
		}
	}
	if j.out == "" {
		return nil, fmt.Errorf("%s: no ProcessingOutput named %q with an S3Output", p.Rel(p.ProcessingConfig()), OutputName)
	}
	if j.opt.Read.Limits == (pipeline.Limits{}) {
		getenv := o.Getenv
		if getenv == nil {
			getenv = func(string) string { return "" }
		}
		if j.opt.Read.Limits, err = pipeline.LimitsFromEnv(getenv); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// checkEmpty refuses an output folder that holds anything: the run must not mix its
// dataset with files it did not write, nor delete them.
func checkEmpty(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return fmt.Errorf("output %s: %w", dir, unwrapPath(err))
	}
	if len(ents) > 0 {
		return fmt.Errorf("output %s: expected an empty folder, found %s", dir, ents[0].Name())
	}
	return nil
}

// moveUp renames every entry of src into dst (same file system: src is inside dst).
func moveUp(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.Rename(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// rewriteSummary replaces the job's local folders in the summary by their S3 URIs.
func (j *job) rewriteSummary(sum *pipeline.Summary) {
	sum.Inputs = make([]string, len(j.opt.Inputs))
	for i, in := range j.opt.Inputs {
		sum.Inputs[i] = j.toS3(in)
	}
	sum.Output = j.outURI
	for i := range sum.Splits {
		sum.Splits[i].Path = strings.TrimRight(j.outURI, "/") + "/" + sum.Splits[i].Name
	}
	for i := range sum.Sources {
		sum.Sources[i].Path = j.toS3(sum.Sources[i].Path)
	}
}

// toS3 maps a path below an input folder (with or without a "split=" prefix) to S3.
func (j *job) toS3(path string) string {
	prefix := ""
	if split, rest, ok := strings.Cut(path, "="); ok && !strings.Contains(split, "/") {
		prefix, path = split+"=", rest
	}
	for local, uri := range j.s3ByPath {
		if path == local {
			return prefix + uri
		}
		if rel, ok := strings.CutPrefix(path, local+string(filepath.Separator)); ok {
			rel = filepath.ToSlash(rel)
			if !strings.HasSuffix(uri, "/") && rel == pathpkg.Base(uri) {
				return prefix + uri // the input named one object, which lands under its base name
			}
			return prefix + strings.TrimRight(uri, "/") + "/" + rel
		}
	}
	return prefix + path
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
