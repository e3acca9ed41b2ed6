package cli

import (
	"flag"
	"fmt"
)

// maxRetryAttempts is RetryStrategy.MaximumRetryAttempts' upper bound.
const maxRetryAttempts = 30

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	if fs != nil {
		fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	}
	return found
}

// configDefault fills *dst from the config file when its flag was not given, and
// notes where the value came from.
func configDefault(fs *flag.FlagSet, name string, dst *string, value, from string, origins *[]string) {
	if flagSet(fs, name) || value == "" {
		return
	}
	*dst = value
	*origins = append(*origins, fmt.Sprintf("--%s = %s  (%s)", name, value, from))
}

// defaults resolves a training job's network, keys, role and tags, and the
// launcher's own defaults (image, bucket, instance type), from the SageMaker
// config file where no flag gives them.
func (f *jobFlags) defaults(s *jobSpec) error {
	getenv := func(string) string { return "" }
	if f.e != nil && f.e.Getenv != nil {
		getenv = f.e.Getenv
	}
	cfg, err := loadSDKConfig(getenv)
	if err != nil {
		return err
	}
	if s.sec, err = f.sec.resolve(cfg, reqTraining); err != nil {
		return err
	}
	if !flagSet(f.fs, "role") {
		f.role = s.sec.withRole("", f.role)
	}
	for _, d := range []struct {
		flag, name string
		dst        *string
	}{{"image", "Image", &f.image}, {"instance-type", "InstanceType", &f.instanceType}} {
		v, file, err := cfg.custom(d.name)
		if err != nil {
			return err
		}
		configDefault(f.fs, d.flag, d.dst, v, file+": CustomParameters."+customParamsPrefix+d.name, &s.origins)
	}
	bucket, file, err := cfg.str("SageMaker.PythonSDK.Modules.Session.DefaultS3Bucket")
	if err != nil {
		return err
	}
	if bucket != "" {
		prefix, _, err := cfg.str("SageMaker.PythonSDK.Modules.Session.DefaultS3ObjectKeyPrefix")
		if err != nil {
			return err
		}
		configDefault(f.fs, "bucket", &f.bucket, "s3://"+joinKey(bucket, prefix), file+": SageMaker.PythonSDK.Modules.Session.DefaultS3Bucket", &s.origins)
	}
	return nil
}

// allOrigins is every "where from" line of a spec, for --dry-run.
func (s *jobSpec) allOrigins() []string {
	return append(append([]string(nil), s.origins...), s.sec.origins...)
}
