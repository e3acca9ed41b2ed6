package cli

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blueblood/blueblood/pipeline"
)

// Constraints from the SageMaker API model (see sagemaker-api-constraints.md),
// checked before any call so bad input never reaches the service.
var (
	reRoleARN  = regexp.MustCompile(`^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	reS3URI    = regexp.MustCompile(`^s3://([^/]+)/?(.*)$`)
	reBucket   = regexp.MustCompile(`^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$`)
	reTagText  = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
	reEnvKey   = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	reInstance = regexp.MustCompile(`^ml\.[a-z0-9]+\.[a-z0-9]+$`)
)

const (
	maxHyperParameters = 100
	maxHPKeyLen        = 256
	maxHPValueLen      = 256 // the model allows 2500, the API prose says 256
	maxTags            = 50
	maxEnv             = 48
	maxS3URILen        = 1024
	maxImageLen        = 255
	maxRuntimeLimit    = 28 * 24 * 3600
	maxKeepAlive       = 3600 // ResourceConfig.KeepAlivePeriodInSeconds
)

func checkRole(flag, role string) error {
	if role == "" {
		return usagef("%s is required: the IAM role ARN SageMaker assumes (arn:aws:iam::<12-digit account>:role/<name>)", flag)
	}
	if n := len(role); n < 20 || n > 2048 || !reRoleARN.MatchString(role) {
		return usagef("%s %q: expected an IAM role ARN like arn:aws:iam::123456789012:role/NAME", flag, role)
	}
	return nil
}

// checkNotCredential refuses environment variables that carry AWS credentials: the
// container gets its role's credentials from SageMaker, and a value given here would
// be printed by --dry-run and stored in the job's or model's description.
func checkNotCredential(flag, key string) error {
	switch strings.ToUpper(key) {
	case "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN":
		return usagef("%s %s: credentials do not go into the container; it gets the --role's credentials from SageMaker", flag, key)
	}
	return nil
}

// envLimits are a request's bounds on container environment variables; 0 is no bound.
type envLimits struct{ vars, name, value int }

// checkEnv validates --env KEY=VALUE items: names a shell could export, lengths and the
// number of distinct names within the request's limits, and no credential variables.
func checkEnv(items [][2]string, l envLimits) error {
	names := map[string]bool{}
	for _, kv := range items {
		if !reEnvKey.MatchString(kv[0]) || (l.name > 0 && len(kv[0]) > l.name) {
			return usagef("--env %q: expected a variable name of letters, digits and _ not starting with a digit", kv[0])
		}
		if l.value > 0 && len(kv[1]) > l.value {
			return usagef("--env %s: value longer than %d characters", kv[0], l.value)
		}
		if err := checkNotCredential("--env", kv[0]); err != nil {
			return err
		}
		names[kv[0]] = true
	}
	if l.vars > 0 && len(names) > l.vars {
		return usagef("--env: %d variables, at most %d allowed", len(names), l.vars)
	}
	return nil
}

func checkS3URI(flag, uri string) error {
	if len(uri) > maxS3URILen || !reS3URI.MatchString(uri) {
		return usagef("%s %q: expected an S3 URI s3://bucket/prefix of at most %d characters", flag, uri, maxS3URILen)
	}
	if m := reS3URI.FindStringSubmatch(uri); !reBucket.MatchString(m[1]) {
		return usagef("%s %q: bucket %q is not a valid S3 bucket name", flag, uri, m[1])
	} else if why := bucketNameProblem(m[1]); why != "" {
		return usagef("%s %q: bucket %q is not a valid S3 bucket name: %s", flag, uri, m[1], why)
	}
	// "." and ".." segments: refused in one place for the trainer, pipeline and launcher
	if _, _, err := pipeline.ParseS3URI(uri); err != nil {
		return usagef("%s %v", flag, err)
	}
	return nil
}

func checkImage(flag, image string) error {
	if image == "" {
		return usagef("%s is required: the training image URI (account.dkr.ecr.region.amazonaws.com/repo:tag)", flag)
	}
	if len(image) > maxImageLen || strings.ContainsAny(image, " \t\n") {
		return usagef("%s %q: expected an image URI without spaces of at most %d characters", flag, image, maxImageLen)
	}
	return nil
}

func checkTag(flag, key, value string) error {
	if n := utf8.RuneCountInString(key); n < 1 || n > 128 || !reTagText.MatchString(key) {
		return usagef("%s %q: expected a key of 1-128 letters, digits, spaces or _.:/=+-@", flag, key)
	}
	if reservedTagKey(key) {
		return usagef("%s %q: keys starting with %s are reserved for AWS", flag, key, reservedTagPrefix)
	}
	if utf8.RuneCountInString(value) > 256 || !reTagText.MatchString(value) {
		return usagef("%s %s=%q: expected a value of at most 256 letters, digits, spaces or _.:/=+-@", flag, key, value)
	}
	return nil
}

// parseSeconds accepts "3600" or a Go duration such as "2h30m".
func parseSeconds(flag, s string) (int32, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > maxRuntimeLimit {
			return 0, usagef("%s %s: expected 1 to %d seconds (28 days)", flag, s, maxRuntimeLimit)
		}
		return int32(n), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second || d > maxRuntimeLimit*time.Second {
		return 0, usagef("%s %q: expected seconds or a duration like 2h30m, between 1s and 28 days", flag, s)
	}
	return int32(d / time.Second), nil
}
