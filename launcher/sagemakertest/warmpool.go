package sagemakertest

import (
	"encoding/json"
	"time"
)

// Warm pools: a Completed job whose ResourceConfig has KeepAlivePeriodInSeconds > 0
// keeps its instances Available for that long. A later job with a keep-alive too and
// the same role, instance type and count, volume, KMS key, VPC and network isolation
// takes the pool over (the older job's pool becomes Reused, ReusedByJob naming the
// newer one, which is InUse) and starts in the warm startup time instead of the cold
// one (WithStartup). Startup time is the only modelled duration: it is added to the
// job's timestamps from the moment it leaves Starting, so TrainingStartTime minus
// CreationTime is the startup.

// WithStartup sets how long provisioning takes for a job on new instances (cold) and
// on a warm pool (warm); both are 0 by default.
func WithStartup(cold, warm time.Duration) Option {
	return func(s *Server) { s.coldStart, s.warmStart = cold, warm }
}

type warmPool struct {
	keepAlive time.Duration
	status    string // InUse, Available, Reused, Terminated
	reusedBy  string
	key       string // what a matching job must share
	released  time.Time
}

// poolKey is what warm pool matching compares.
func poolKey(req map[string]any) string {
	rc := obj(req["ResourceConfig"])
	b, _ := json.Marshal([]any{req["RoleArn"], rc["InstanceType"], rc["InstanceCount"], rc["VolumeSizeInGB"],
		rc["VolumeKmsKeyId"], req["VpcConfig"], req["EnableNetworkIsolation"]})
	return string(b)
}

// claimPool gives a new job with a keep-alive a matching Available pool, if any;
// the caller holds s.mu.
func (s *Server) claimPool(j *trainingJob) {
	keep, _ := obj(j.req["ResourceConfig"])["KeepAlivePeriodInSeconds"].(float64)
	j.startup = s.coldStart
	if keep <= 0 {
		return
	}
	j.pool = &warmPool{keepAlive: time.Duration(keep) * time.Second, status: "InUse", key: poolKey(j.req)}
	now := s.now()
	for _, name := range s.jobOrder {
		p := s.jobs[name].pool
		if name == j.name || p == nil || p.status != "Available" || p.key != j.pool.key {
			continue
		}
		if now.Sub(p.released) > p.keepAlive {
			p.status = "Terminated"
			continue
		}
		p.status, p.reusedBy = "Reused", j.name
		j.startup, j.reused = s.warmStart, name
		return
	}
}

// releasePool makes a finished job's pool Available (Completed) or ends it.
func (s *Server) releasePool(j *trainingJob, now time.Time) {
	if j.pool == nil {
		return
	}
	j.pool.released = now
	j.pool.status = "Terminated"
	if j.status == "Completed" {
		j.pool.status = "Available"
	}
}

// warmPoolStatus is DescribeTrainingJob's WarmPoolStatus, or nil.
func (s *Server) warmPoolStatus(j *trainingJob) map[string]any {
	p := j.pool
	if p == nil {
		return nil
	}
	if p.status == "Available" && s.now().Sub(p.released) > p.keepAlive {
		p.status = "Terminated"
	}
	out := map[string]any{"Status": p.status}
	var retained time.Duration
	switch p.status {
	case "Available":
		retained = s.now().Sub(p.released)
	case "Reused":
		retained = s.jobs[p.reusedBy].created.Sub(p.released)
	case "Terminated":
		if j.status == "Completed" {
			retained = p.keepAlive
		}
	}
	if p.status != "InUse" {
		out["ResourceRetainedBillableTimeInSeconds"] = int(max(0, retained.Seconds()))
	}
	if p.reusedBy != "" {
		out["ReusedByJob"] = p.reusedBy
	}
	return out
}
