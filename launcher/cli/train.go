package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/blueblood/blueblood/container/hparams"
)

type trainCmd struct {
	e        *Env
	job      jobFlags
	name     string
	baseName string
	dryRun   bool
	wait     bool
	logs     bool
	download bool
}

func newTrain(e *Env, fs *flag.FlagSet) unit {
	c := &trainCmd{e: e}
	c.job.register(e, fs)
	fs.StringVar(&c.name, "name", "", "training job name (default: generated from --base-name, hyperparameters and time)")
	fs.StringVar(&c.baseName, "base-name", "blueblood", "start of generated job names")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print the CreateTrainingJob request as JSON and call nothing")
	fs.BoolVar(&c.wait, "wait", false, "follow the job until it ends, then print a summary")
	fs.BoolVar(&c.logs, "logs", true, "with --wait, print the job's log as it comes")
	downloadFlag(fs, &c.download, "its model and output")
	return c
}

func (c *trainCmd) Exec(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("train: unexpected argument %q", args[0])
	}
	if c.download && !c.wait {
		return usageError("--download needs --wait")
	}
	spec, err := c.job.spec()
	if err != nil {
		return err
	}
	name := c.name
	if name != "" {
		if err := checkName("--name", name, false); err != nil {
			return err
		}
	} else {
		name = composeName(c.baseName+"-"+hpTag(spec.hp, hparams.Tunables()), jobStamp(c.e.Now()), maxJobName)
	}
	tags := c.e.defaultTags()
	if err := checkTagCount(append(tags, spec.tags...)); err != nil {
		return err
	}
	if err := checkHyperParameters("--hp", spec.hp); err != nil {
		return err
	}
	if err := spec.resolveChannels(ctx, c.e, c.dryRun); err != nil {
		return err
	}
	in := spec.trainingInput(name, spec.hp, tags)
	if c.dryRun {
		printOrigins(c.e.Stderr, spec.allOrigins())
		return printDryRun(ctx, c.e, func(cl *sagemaker.Client) error {
			_, err := cl.CreateTrainingJob(ctx, in)
			return err
		})
	}
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	var out *sagemaker.CreateTrainingJobOutput
	err = c.e.newBackoff().do(ctx, name, func() error {
		var err error
		out, err = cl.SageMaker.CreateTrainingJob(ctx, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("create training job %s: %w", name, err)
	}
	fmt.Fprintf(c.e.Stdout, "submitted %s\n  %s\n", name, aws.ToString(out.TrainingJobArn))
	if !c.wait {
		fmt.Fprintf(c.e.Stdout, "follow it with: launcher wait %s   (logs: launcher logs %s --follow)\n", name, name)
		return nil
	}
	final, err := c.e.follow(ctx, cl, name, c.logs)
	if err != nil {
		return err
	}
	writeSummary(c.e.Stdout, final)
	if c.download {
		if err := c.e.download(ctx, cl, name, "", defaultUntarLimits); err != nil {
			return err
		}
	}
	return jobResult(final)
}

// printDryRun runs call against a client that records instead of sending, then
// prints each request body on its own line.
func printDryRun(ctx context.Context, e *Env, call func(*sagemaker.Client) error) error {
	rec := &dryRunRecorder{}
	if err := call(dryRunClient(rec)); err != nil {
		return fmt.Errorf("dry run: %w", err)
	}
	for _, b := range rec.bodies {
		fmt.Fprintf(e.Stdout, "%s\n", b)
	}
	return nil
}
