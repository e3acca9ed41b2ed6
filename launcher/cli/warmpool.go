package cli

import (
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
)

// warmInfo is what a job's description tells about its startup and warm pool.
type warmInfo struct {
	startup  time.Duration // TrainingStartTime - CreationTime; 0 when unknown
	pool     string        // WarmPoolStatus.Status; "" without --keep-alive
	reusedBy string        // the job that took this job's warm pool over
	retained int32         // seconds the pool was kept (billed) after the job
	warm     bool          // this job started on another job's warm pool
}

func warmOf(out *sagemaker.DescribeTrainingJobOutput) warmInfo {
	var w warmInfo
	if out.CreationTime != nil && out.TrainingStartTime != nil {
		w.startup = out.TrainingStartTime.Sub(*out.CreationTime)
	}
	if p := out.WarmPoolStatus; p != nil {
		w.pool = string(p.Status)
		w.reusedBy = aws.ToString(p.ReusedByJob)
		w.retained = aws.ToInt32(p.ResourceRetainedBillableTimeInSeconds)
	}
	return w
}

// markWarmStarts sets warm on every job another job's pool was handed to.
func markWarmStarts(rs []trialResult) {
	reused := map[string]bool{}
	for _, r := range rs {
		if r.warm.reusedBy != "" {
			reused[r.warm.reusedBy] = true
		}
	}
	for i := range rs {
		rs[i].warm.warm = reused[rs[i].name]
	}
}

// warmSummary says how much startup time warm pools saved: for each job that
// started warm, the median cold startup minus its own. "" when no job asked for a
// warm pool.
func warmSummary(rs []trialResult) string {
	var cold, warm []time.Duration
	var retained int64
	pools := false
	for _, r := range rs {
		pools = pools || r.warm.pool != ""
		retained += int64(r.warm.retained)
		if r.warm.startup <= 0 {
			continue
		}
		if r.warm.warm {
			warm = append(warm, r.warm.startup)
		} else {
			cold = append(cold, r.warm.startup)
		}
	}
	if !pools {
		return ""
	}
	if len(warm) == 0 || len(cold) == 0 {
		return fmt.Sprintf("warm pools: %d of %d jobs started on a warm pool; nothing to compare, no time saved shown", len(warm), len(rs))
	}
	medCold, medWarm := median(cold), median(warm)
	var saved time.Duration
	for _, d := range warm {
		saved += max(0, medCold-d)
	}
	line := fmt.Sprintf("warm pools: %d of %d jobs started on a warm pool; median startup %s warm vs %s cold: %s of startup saved",
		len(warm), len(rs), medWarm.Round(time.Second), medCold.Round(time.Second), saved.Round(time.Second))
	if retained > 0 {
		line += fmt.Sprintf(" (pools kept %s after their jobs, billed)", time.Duration(retained)*time.Second)
	}
	return line
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// startupText is a job's startup in whole seconds, "-" when unknown.
func startupText(r trialResult) string {
	if r.warm.startup <= 0 {
		return "-"
	}
	return fmt.Sprint(int64(r.warm.startup.Round(time.Second) / time.Second))
}
