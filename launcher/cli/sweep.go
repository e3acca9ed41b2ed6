package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/blueblood/blueblood/container/metricdef"
)

var reSweepID = regexp.MustCompile(`^[0-9]{14}$`)

// rangeList is a repeatable --range flag.
type rangeList struct{ items []string }

func (r *rangeList) String() string     { return strings.Join(r.items, " ") }
func (r *rangeList) Set(s string) error { r.items = append(r.items, s); return nil }

type sweepCmd struct {
	e           *Env
	job         jobFlags
	grid        string
	random      int
	ranges      rangeList
	seed        uint64
	maxParallel int
	manifest    string
	baseName    string
	dryRun      bool
	wait        bool
	quotaWait   time.Duration
	objective   string
	results     string
	download    bool
}

func newSweep(e *Env, fs *flag.FlagSet) unit {
	c := &sweepCmd{e: e}
	c.job.register(e, fs)
	fs.StringVar(&c.grid, "grid", "", "grid `'NAME=V1,V2 NAME=V1,V2 ...'`: one job per combination")
	fs.IntVar(&c.random, "random", 0, "instead of --grid: this many jobs sampled from --range")
	fs.Var(&c.ranges, "range", "with --random: `NAME=MIN:MAX[:log]` or NAME=V1,V2,... (repeatable)")
	fs.Uint64Var(&c.seed, "seed", 1, "with --random: sampling seed")
	fs.IntVar(&c.maxParallel, "max-parallel", 4, "concurrent CreateTrainingJob calls")
	fs.StringVar(&c.manifest, "manifest", "", "manifest file recording submissions (default ./<base-name>-sweep-<hash>.json); re-run to resume")
	fs.StringVar(&c.baseName, "base-name", "blueblood", "start of generated job names")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print every CreateTrainingJob request, one JSON per line, and call nothing")
	fs.BoolVar(&c.wait, "wait", false, "follow all jobs, then write the leaderboard (table, CSV, PNG)")
	fs.DurationVar(&c.quotaWait, "quota-wait", time.Minute, "on ResourceLimitExceeded (account quota), wait this long and retry")
	fs.StringVar(&c.objective, "objective", metricdef.Objective, "metric the leaderboard sorts by (lowest first)")
	fs.StringVar(&c.results, "results", "", "leaderboard file prefix (default: the manifest path without .json)")
	downloadFlag(fs, &c.download, "the best job's model and output")
	return c
}

// plan is the sweep's trials before names are given.
func (c *sweepCmd) plan(spec *jobSpec) ([]map[string]string, []string, error) {
	var trials []map[string]string
	var keys []string
	switch {
	case c.grid != "" && c.random > 0:
		return nil, nil, usagef("--grid and --random: give one of them")
	case c.grid != "":
		if len(c.ranges.items) > 0 {
			return nil, nil, usagef("--range applies to --random (or launcher tune), not --grid")
		}
		axes, err := parseGrid("--grid", c.grid, maxSweepJobs)
		if err != nil {
			return nil, nil, err
		}
		for _, a := range axes {
			if f, ok := c.job.hp.by[a.name]; ok {
				return nil, nil, usagef("--grid: %s is also set by %s; give it in one place", a.name, f)
			}
			keys = append(keys, a.name)
		}
		trials = combinations(axes)
	case c.random > 0:
		if c.random > maxSweepJobs {
			return nil, nil, usagef("--random %d: at most %d jobs", c.random, maxSweepJobs)
		}
		if len(c.ranges.items) == 0 {
			return nil, nil, usagef("--random needs at least one --range NAME=MIN:MAX[:log]")
		}
		var rs []hpRange
		for _, t := range c.ranges.items {
			r, err := parseRange("--range", t)
			if err != nil {
				return nil, nil, err
			}
			if f, ok := c.job.hp.by[r.name]; ok {
				return nil, nil, usagef("--range: %s is also set by %s; give it in one place", r.name, f)
			}
			for _, k := range keys {
				if k == r.name {
					return nil, nil, usagef("--range: %s appears twice", r.name)
				}
			}
			rs = append(rs, r)
			keys = append(keys, r.name)
		}
		rng := rand.New(rand.NewPCG(c.seed, c.seed^0x9e3779b97f4a7c15))
		for range c.random {
			m := map[string]string{}
			for _, r := range rs {
				m[r.name] = r.sample(rng)
			}
			trials = append(trials, m)
		}
	default:
		return nil, nil, usagef("sweep needs --grid 'NAME=V1,V2 ...' or --random N with --range")
	}
	for i, t := range trials {
		full := map[string]string{}
		for k, v := range spec.hp {
			full[k] = v
		}
		for k, v := range t {
			full[k] = v
		}
		trials[i] = full
	}
	if len(trials) > 0 {
		if err := checkHyperParameters("--hp", trials[0]); err != nil {
			return nil, nil, err
		}
	}
	return trials, keys, nil
}

// fingerprint identifies a sweep by what it would submit (apart from names) and
// where: every request field comes from one template request, so a flag that
// changes the jobs changes the fingerprint without being listed here.
func fingerprint(spec *jobSpec, data [3]string, baseName string, trials []map[string]string, where string) string {
	template := spec.trainingInput("", nil, nil) // channels are not resolved yet: data stands for them
	h := sha256.New()
	_ = json.NewEncoder(h).Encode([]any{baseName, data, spec.bucket, spec.prefix, template, trials, where})
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// target says where jobs go: the region and endpoint of the clients, and the
// account of the role (SageMaker runs a job with a role of the caller's account).
func target(ctx context.Context, e *Env, role string) string {
	where := "account " + strings.SplitN(role, ":", 6)[4]
	if cl, err := e.awsConfig(ctx); err == nil { // no credentials: dry runs stay offline
		o := cl.SageMaker.Options()
		where += " region " + o.Region + " endpoint " + aws.ToString(o.BaseEndpoint)
	}
	return where
}

func (c *sweepCmd) Exec(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("sweep: unexpected argument %q", args[0])
	}
	if c.download && !c.wait {
		return usageError("--download needs --wait")
	}
	spec, err := c.job.spec()
	if err != nil {
		return err
	}
	if c.maxParallel < 1 || c.maxParallel > 100 {
		return usagef("--max-parallel %d: expected 1 to 100", c.maxParallel)
	}
	if c.quotaWait <= 0 {
		return usagef("--quota-wait %s: expected a positive duration", c.quotaWait)
	}
	if sanitizeBase(c.baseName) == "" {
		return usagef("--base-name %q: expected some letters or digits", c.baseName)
	}
	trials, keys, err := c.plan(spec)
	if err != nil {
		return err
	}
	data, err := spec.dataIdentity()
	if err != nil {
		return err
	}
	fp := fingerprint(spec, data, c.baseName, trials, target(ctx, c.e, spec.role))
	if c.manifest == "" {
		c.manifest = fmt.Sprintf("%s-sweep-%s.json", sanitizeBase(c.baseName), fp[:8])
	}
	m, err := loadManifest(c.manifest)
	if err != nil {
		return usageError(err.Error())
	}
	if m != nil && m.Fingerprint != fp {
		return usagef("--manifest %s belongs to another sweep (id %s, different settings); choose another --manifest", c.manifest, m.SweepID)
	}
	tags := c.e.defaultTags()
	if err := checkTagCount(append(tags, append(spec.tags, types.Tag{}, types.Tag{})...)); err != nil {
		return err
	}
	if m == nil {
		m = &manifest{manifestPlan: manifestPlan{Version: manifestVersion, SweepID: jobStamp(c.e.Now()), Fingerprint: fp, Created: c.e.Now().UTC()}, path: c.manifest}
		for i, hp := range trials {
			base := c.baseName + "-" + hpTag(hp, keys)
			m.Trials = append(m.Trials, trial{Index: i + 1, HyperParameters: hp,
				Name: composeName(base, trialSuffix(m.SweepID, i+1, len(trials)), maxJobName)})
		}
	}
	if err := spec.resolveChannels(ctx, c.e, c.dryRun); err != nil {
		return err
	}
	inputs := make([]*sagemaker.CreateTrainingJobInput, len(m.Trials))
	for i, t := range m.Trials {
		tt := append(append([]types.Tag(nil), tags...),
			types.Tag{Key: aws.String("blueblood:sweep-id"), Value: aws.String(m.SweepID)},
			types.Tag{Key: aws.String("blueblood:trial"), Value: aws.String(fmt.Sprint(t.Index))})
		inputs[i] = spec.trainingInput(t.Name, t.HyperParameters, tt)
	}
	if c.dryRun {
		printOrigins(c.e.Stderr, spec.allOrigins())
		return printDryRun(ctx, c.e, func(cl *sagemaker.Client) error {
			for _, in := range inputs {
				if _, err := cl.CreateTrainingJob(ctx, in); err != nil {
					return err
				}
			}
			return nil
		})
	}
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	err = m.save()
	m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := c.submit(ctx, cl, m, inputs); err != nil {
		return err
	}
	if !c.wait {
		fmt.Fprintf(c.e.Stdout, "follow it with: launcher list --sweep %s   (or re-run with --wait for the leaderboard)\n", m.SweepID)
		return nil
	}
	results, err := c.e.waitAll(ctx, cl, m)
	if err != nil {
		return err
	}
	prefix := c.results
	if prefix == "" {
		prefix = strings.TrimSuffix(c.manifest, filepath.Ext(c.manifest))
	}
	if err := writeLeaderboardFiles(c.e, prefix, c.objective, keys, results); err != nil {
		return err
	}
	if c.download {
		best := results[0] // sorted by the objective
		if _, ok := best.metrics[c.objective]; !ok {
			return fmt.Errorf("no job reported %s; nothing to download", c.objective)
		}
		return c.e.download(ctx, cl, best.name, "", defaultUntarLimits)
	}
	return nil
}

// submit creates every pending trial with a bounded worker pool, backing off on
// throttling and waiting out the account quota.
func (c *sweepCmd) submit(ctx context.Context, cl *Clients, m *manifest, inputs []*sagemaker.CreateTrainingJobInput) error {
	pending := m.pending()
	total := len(m.Trials)
	fmt.Fprintf(c.e.Stderr, "sweep %s: %d jobs, %d already submitted, manifest %s\n", m.SweepID, total, total-len(pending), m.path)
	start := time.Now()
	var throttled, quota, existed, done atomic.Int64
	b := c.e.newBackoff()
	b.quotaWait = c.quotaWait
	b.onWait = func(key, code string, attempt int, d time.Duration) {
		if code == "ResourceLimitExceeded" {
			quota.Add(1)
		} else {
			throttled.Add(1)
		}
	}
	work := make(chan int)
	errs := make(chan error, c.maxParallel)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var outMu sync.Mutex
	for range c.maxParallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				in := inputs[i]
				var arn string
				err := b.do(ctx, *in.TrainingJobName, func() error {
					out, err := cl.SageMaker.CreateTrainingJob(ctx, in)
					if err == nil {
						arn = aws.ToString(out.TrainingJobArn)
					}
					return err
				})
				if apiErrorCode(err) == "ResourceInUse" {
					// Submitted by an earlier, interrupted run: the name carries this
					// sweep's id, so the job is ours; record it instead of failing.
					out, derr := c.e.describeJob(ctx, cl, *in.TrainingJobName)
					switch {
					case derr != nil:
					case !maps.Equal(out.HyperParameters, in.HyperParameters):
						// same name, other settings: another sweep started in the same second
						err = fmt.Errorf("a job of this name exists with other hyperparameters; rerun later for a new sweep id")
					default:
						err, arn = nil, aws.ToString(out.TrainingJobArn)
						existed.Add(1)
					}
				}
				if err == nil {
					err = m.markSubmitted(i, arn, c.e.Now().UTC())
				}
				if err != nil {
					errs <- fmt.Errorf("submit %s: %w", *in.TrainingJobName, err)
					cancel()
					return
				}
				outMu.Lock() // workers share stderr
				fmt.Fprintf(c.e.Stderr, "[%d/%d] %s\n", done.Add(1), len(pending), *in.TrainingJobName)
				outMu.Unlock()
			}
		}()
	}
feed:
	for _, i := range pending {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fmt.Fprintf(c.e.Stdout, "sweep %s: %d jobs submitted (%d found already submitted), %d throttled retries, %d quota waits, in %s\n",
		m.SweepID, done.Load(), existed.Load(), throttled.Load(), quota.Load(), time.Since(start).Round(time.Millisecond))
	return nil
}

// waitAll polls every trial until all have ended.
func (e *Env) waitAll(ctx context.Context, cl *Clients, m *manifest) ([]trialResult, error) {
	results := make([]trialResult, len(m.Trials))
	ended := make([]bool, len(m.Trials))
	for {
		left, failed := 0, 0
		for i, t := range m.Trials {
			if ended[i] {
				if results[i].status != string(types.TrainingJobStatusCompleted) {
					failed++
				}
				continue
			}
			out, err := e.describeJob(ctx, cl, t.Name)
			if err != nil {
				return nil, err
			}
			results[i] = resultOf(t.Name, t.HyperParameters, out)
			if terminal(out.TrainingJobStatus) {
				ended[i] = true
				if out.TrainingJobStatus != types.TrainingJobStatusCompleted {
					failed++
				}
			} else {
				left++
			}
		}
		fmt.Fprintf(e.Stderr, "%d of %d jobs ended (%d not completed)\n", len(m.Trials)-left, len(m.Trials), failed)
		if left == 0 {
			return results, nil
		}
		if err := e.Sleep(ctx, e.pollInterval()); err != nil {
			return nil, err
		}
	}
}
