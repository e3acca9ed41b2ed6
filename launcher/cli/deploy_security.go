package cli

import (
	"flag"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// deploySecurity is what deploy's model and endpoint configuration get from the
// network and key flags and the SageMaker config file.
type deploySecurity struct {
	model, config *security
	packageArn    string // set when deploying a registered model package
}

func (c *deployCmd) resolveSecurity() (*deploySecurity, error) {
	cfg, err := loadSDKConfig(c.e.Getenv)
	if err != nil {
		return nil, err
	}
	s := &deploySecurity{}
	if s.model, err = c.sec.resolve(cfg, reqModel); err != nil {
		return nil, err
	}
	if s.config, err = c.sec.resolve(cfg, reqEndpointConfig); err != nil {
		return nil, err
	}
	if c.pkg.name != "" && c.image != "" {
		return nil, usageError("--image does not apply with --package: the package names its image")
	}
	return s, c.capture.check()
}

// apply sets the plan's network, keys, capture and config-file tags.
func (s *deploySecurity) apply(p *deployPlan, capture *captureFlags) error {
	m := p.createModel
	if s.packageArn != "" {
		env := m.PrimaryContainer.Environment
		m.PrimaryContainer = nil
		m.Containers = []types.ContainerDefinition{{ModelPackageName: aws.String(s.packageArn), Environment: env}}
	}
	s.model.applyModel(m)
	m.Tags = s.model.withTags(m.Tags)
	p.createConfig.DataCaptureConfig = capture.config()
	s.config.applyEndpointConfig(p.createConfig)
	p.createConfig.Tags = s.config.withTags(p.createConfig.Tags)
	if err := checkTagCount(m.Tags); err != nil {
		return err
	}
	return checkTagCount(p.createConfig.Tags)
}

// captureFlags turn on endpoint data capture: requests and answers written to S3.
type captureFlags struct {
	fs      *flag.FlagSet
	dest    string
	percent int
}

func (f *captureFlags) register(fs *flag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.dest, "capture", "", "record requests and answers (with their inference ids) under this `s3://` prefix (endpoint data capture)")
	fs.IntVar(&f.percent, "capture-percent", 100, "with --capture: the share of requests recorded, 0-100")
}

func (f *captureFlags) check() error {
	if f.dest == "" {
		if flagSet(f.fs, "capture-percent") {
			return usageError("--capture-percent needs --capture s3://...")
		}
		return nil
	}
	if err := checkS3URI("--capture", f.dest); err != nil {
		return err
	}
	if f.percent < 0 || f.percent > 100 {
		return usagef("--capture-percent %d: expected 0 to 100", f.percent)
	}
	return nil
}

// capturedTypes are the content types the endpoint answers, by capture encoding.
var capturedTypes = struct{ csv, json []string }{
	csv:  []string{"text/csv"},
	json: []string{"application/json", "application/jsonlines"},
}

func (f *captureFlags) config() *types.DataCaptureConfig {
	if f.dest == "" {
		return nil
	}
	return &types.DataCaptureConfig{
		EnableCapture:             aws.Bool(true),
		InitialSamplingPercentage: aws.Int32(int32(f.percent)),
		DestinationS3Uri:          aws.String(strings.TrimRight(f.dest, "/")),
		CaptureOptions:            []types.CaptureOption{{CaptureMode: types.CaptureModeInput}, {CaptureMode: types.CaptureModeOutput}},
		CaptureContentTypeHeader:  &types.CaptureContentTypeHeader{CsvContentTypes: capturedTypes.csv, JsonContentTypes: capturedTypes.json},
	}
}
