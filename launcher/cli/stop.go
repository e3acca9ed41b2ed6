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
}

func newStop(e *Env, fs *flag.FlagSet) unit {
	c := &stopCmd{e: e}
	fs.BoolVar(&c.tuning, "tuning", false, "NAME is a hyperparameter tuning job")
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
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	for _, name := range args {
		err := c.e.newBackoff().do(ctx, name, func() error {
			if c.tuning {
				_, err := cl.SageMaker.StopHyperParameterTuningJob(ctx, &sagemaker.StopHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name)})
				return err
			}
			_, err := cl.SageMaker.StopTrainingJob(ctx, &sagemaker.StopTrainingJobInput{TrainingJobName: aws.String(name)})
			return err
		})
		if err != nil {
			return fmt.Errorf("stop %s: %w", name, err)
		}
		fmt.Fprintf(c.e.Stdout, "stopping %s\n", name)
	}
	return nil
}
