package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
)

type undeployCmd struct {
	e         *Env
	keepModel bool
	wait      bool
	dryRun    bool
}

func newUndeploy(e *Env, fs *flag.FlagSet) unit {
	c := &undeployCmd{e: e}
	fs.BoolVar(&c.keepModel, "keep-model", false, "delete only the endpoint and its configuration, keep the SageMaker model")
	fs.BoolVar(&c.wait, "wait", false, "wait until the endpoint is gone (it stops billing once deleted)")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print the DeleteEndpoint, DeleteEndpointConfig and DeleteModel requests as JSON, say what would be looked up, and send nothing")
	return c
}

func (c *undeployCmd) Exec(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usageError("undeploy needs exactly one endpoint name")
	}
	name := args[0]
	if err := checkName("endpoint name", name, false); err != nil {
		return err
	}
	cl, err := c.e.awsOrDryRun(ctx, c.dryRun)
	if err != nil {
		return err
	}
	ep, err := c.e.describeEndpoint(ctx, cl, name)
	if errors.Is(err, errNoEndpoint) {
		return fmt.Errorf("endpoint %s does not exist (nothing to undeploy)", name)
	}
	if err != nil {
		return err
	}
	config := aws.ToString(ep.EndpointConfigName)
	var models []string
	if !c.keepModel {
		ec, err := cl.SageMaker.DescribeEndpointConfig(ctx, &sagemaker.DescribeEndpointConfigInput{EndpointConfigName: aws.String(config)})
		if err != nil {
			// the configuration may have been deleted by hand; the endpoint still goes
			fmt.Fprintf(c.e.Stderr, "endpoint config %s: %v; its model is left in place\n", config, err)
			config = ""
		} else {
			for _, v := range ec.ProductionVariants {
				models = append(models, aws.ToString(v.ModelName))
			}
		}
	}
	if c.dryRun {
		return printDryRun(ctx, c.e, func(sm *sagemaker.Client) error { return c.delete(ctx, sm, name, config, models) })
	}
	if err := c.delete(ctx, cl.SageMaker, name, config, models); err != nil {
		return err
	}
	if !c.wait {
		return nil
	}
	for {
		out, err := c.e.describeEndpoint(ctx, cl, name)
		if errors.Is(err, errNoEndpoint) {
			fmt.Fprintf(c.e.Stdout, "endpoint %s is gone\n", name)
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.e.Stderr, "%s  %s\n", fmtTime(aws.Time(c.e.Now())), out.EndpointStatus)
		if err := c.e.Sleep(ctx, c.e.pollInterval()); err != nil {
			return err
		}
	}
}

// say reports progress, except in a dry run, where nothing is deleted.
func (c *undeployCmd) say(format string, args ...any) {
	if !c.dryRun {
		fmt.Fprintf(c.e.Stderr, format, args...)
	}
}

// delete removes the endpoint first (it stops serving and billing), then its
// configuration and models, which the service lets go while the endpoint is deleting.
func (c *undeployCmd) delete(ctx context.Context, sm *sagemaker.Client, name, config string, models []string) error {
	b := c.e.newBackoff()
	if err := b.do(ctx, name, func() error {
		_, err := sm.DeleteEndpoint(ctx, &sagemaker.DeleteEndpointInput{EndpointName: aws.String(name)})
		return err
	}); err != nil {
		return fmt.Errorf("delete endpoint %s: %w", name, err)
	}
	c.say("deleting endpoint %s\n", name)
	if config != "" {
		if err := b.do(ctx, config, func() error {
			_, err := sm.DeleteEndpointConfig(ctx, &sagemaker.DeleteEndpointConfigInput{EndpointConfigName: aws.String(config)})
			return err
		}); err != nil {
			return fmt.Errorf("delete endpoint config %s: %w", config, err)
		}
		c.say("deleted endpoint config %s\n", config)
	}
	for _, m := range models {
		if err := b.do(ctx, m, func() error {
			_, err := sm.DeleteModel(ctx, &sagemaker.DeleteModelInput{ModelName: aws.String(m)})
			return err
		}); err != nil {
			return fmt.Errorf("delete model %s: %w", m, err)
		}
		c.say("deleted model %s\n", m)
	}
	return nil
}
