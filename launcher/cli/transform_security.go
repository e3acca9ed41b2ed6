package cli

import (
	"flag"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// transformSecurity is what transform's model and job get from the network and
// key flags and the SageMaker config file.
type transformSecurity struct {
	model, job *security
}

func (c *transformCmd) resolveSecurity() (*transformSecurity, error) {
	cfg, err := loadSDKConfig(c.e.Getenv)
	if err != nil {
		return nil, err
	}
	s := &transformSecurity{}
	if s.model, err = c.sec.resolve(cfg, reqModel); err != nil {
		return nil, err
	}
	if s.job, err = c.sec.resolve(cfg, reqTransform); err != nil {
		return nil, err
	}
	return s, c.join.check()
}

func (s *transformSecurity) apply(p *transformPlan, join *joinFlags) error {
	if m := p.createModel; m != nil {
		s.model.applyModel(m)
		m.ExecutionRoleArn = aws.String(s.model.withRole("", aws.ToString(m.ExecutionRoleArn)))
		m.Tags = s.model.withTags(m.Tags)
		if err := checkTagCount(m.Tags); err != nil {
			return err
		}
	}
	s.job.applyTransform(p.job)
	p.job.Tags = s.job.withTags(p.job.Tags)
	p.job.DataProcessing = join.dataProcessing()
	return checkTagCount(p.job.Tags)
}

// maxJSONPath is DataProcessing's filter length limit.
const maxJSONPath = 63

// joinFlags make each answer carry its input record (DataProcessing).
type joinFlags struct {
	join                   bool
	inputFilter, outFilter string
}

func (f *joinFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.join, "join-input", false, "write each answer joined to its input record (csv: the input row then the answer's columns; jsonlines: the input object with the answer under SageMakerOutput)")
	fs.StringVar(&f.inputFilter, "input-filter", "", "JSONPath `EXPR` choosing what of each input record is sent (e.g. $[1:] to drop a csv id column)")
	fs.StringVar(&f.outFilter, "output-filter", "", "JSONPath `EXPR` choosing what of each (joined) record is written (e.g. $[0,-1] for csv)")
}

func (f *joinFlags) check() error {
	for name, v := range map[string]string{"--input-filter": f.inputFilter, "--output-filter": f.outFilter} {
		if v == "" {
			continue
		}
		if len(v) > maxJSONPath || v[0] != '$' {
			return usagef("%s %q: expected a JSONPath expression starting with $, at most %d characters", name, v, maxJSONPath)
		}
	}
	return nil
}

func (f *joinFlags) dataProcessing() *types.DataProcessing {
	if !f.join && f.inputFilter == "" && f.outFilter == "" {
		return nil
	}
	dp := &types.DataProcessing{InputFilter: optString(f.inputFilter), OutputFilter: optString(f.outFilter), JoinSource: types.JoinSourceNone}
	if f.join {
		dp.JoinSource = types.JoinSourceInput
	}
	return dp
}
