package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
)

type stopCmd struct {
	e      *Env
	tuning bool
	dryRun bool
}

func newStop(e *Env, fs *flag.FlagSet) unit {
	c := &stopCmd{e: e}
	fs.BoolVar(&c.tuning, "tuning", false, "NAME is a hyperparameter tuning job")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print the stop requests, one JSON per line, and call nothing")
	return c
}

func (c *stopCmd) Exec(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("stop needs at least one job name")
	}
	for _, name := range args {
		if err := checkName("job name", name, c.tuning); err != nil {
			return err
		}
	}
	if c.dryRun {
		return printDryRun(ctx, c.e, func(sm *sagemaker.Client) error { return c.stop(ctx, sm, args, false) })
	}
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	return c.stop(ctx, cl.SageMaker, args, true)
}

func (c *stopCmd) stop(ctx context.Context, sm *sagemaker.Client, names []string, report bool) error {
	for _, name := range names {
		err := c.e.newBackoff().do(ctx, name, func() error {
			if c.tuning {
				_, err := sm.StopHyperParameterTuningJob(ctx, &sagemaker.StopHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name)})
				return err
			}
			_, err := sm.StopTrainingJob(ctx, &sagemaker.StopTrainingJobInput{TrainingJobName: aws.String(name)})
			return err
		})
		if !c.tuning && notFound(err) {
			err = stopProcessing(ctx, c.e, sm, name, err)
		}
		if err != nil {
			return fmt.Errorf("stop %s: %w", name, err)
		}
		if report {
			fmt.Fprintf(c.e.Stdout, "stopping %s\n", name)
		}
	}
	return nil
}
