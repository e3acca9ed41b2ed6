package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
)

type statusCmd struct {
	e      *Env
	tuning bool
}

func newStatus(e *Env, fs *flag.FlagSet) unit {
	c := &statusCmd{e: e}
	fs.BoolVar(&c.tuning, "tuning", false, "NAME is a hyperparameter tuning job")
	return c
}

func (c *statusCmd) Exec(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usageError("usage: launcher status JOB_NAME [--tuning]")
	}
	if err := checkName("job name", args[0], c.tuning); err != nil {
		return err
	}
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	if c.tuning {
		out, err := c.e.describeTuning(ctx, cl, args[0])
		if err != nil {
			return err
		}
		writeTuningSummary(c.e.Stdout, out)
		return nil
	}
	out, err := c.e.describeJob(ctx, cl, args[0])
	if errors.Is(err, errNoJob) {
		return c.e.processingStatus(ctx, cl, args[0], err)
	}
	if err != nil {
		return err
	}
	writeSummary(c.e.Stdout, out)
	if out.TuningJobArn != nil {
		fmt.Fprintf(c.e.Stdout, "tuning    %s\n", aws.ToString(out.TuningJobArn))
	}
	for k, v := range sortedMap(out.HyperParameters) {
		fmt.Fprintf(c.e.Stdout, "hp        %s=%s\n", k, v)
	}
	return nil
}

func (e *Env) describeTuning(ctx context.Context, c *Clients, name string) (*sagemaker.DescribeHyperParameterTuningJobOutput, error) {
	var out *sagemaker.DescribeHyperParameterTuningJobOutput
	err := e.newBackoff().do(ctx, name, func() error {
		var err error
		out, err = c.SageMaker.DescribeHyperParameterTuningJob(ctx, &sagemaker.DescribeHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("describe tuning job %s: %w", name, err)
	}
	return out, nil
}
