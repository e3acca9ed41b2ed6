package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Default bounds on what download extracts from one archive; maxDownloadMB
// (1 TiB) keeps the byte count far from overflowing.
const (
	defaultDownloadMB      = 4096
	maxDownloadMB          = 1 << 20
	defaultDownloadEntries = 100000
)

var defaultUntarLimits = untarLimits{bytes: defaultDownloadMB << 20, entries: defaultDownloadEntries}

type downloadCmd struct {
	e     *Env
	to    string
	maxMB int64
}

func newDownload(e *Env, fs *flag.FlagSet) unit {
	c := &downloadCmd{e: e}
	fs.StringVar(&c.to, "to", "", "folder to extract into, new or empty (default ./JOB_NAME)")
	fs.Int64Var(&c.maxMB, "max-mb", defaultDownloadMB, "refuse an archive holding more than this many MB")
	return c
}

func (c *downloadCmd) Exec(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usageError("usage: launcher download JOB_NAME [--to DIR]")
	}
	if err := checkName("job name", args[0], false); err != nil {
		return err
	}
	if c.maxMB < 1 || c.maxMB > maxDownloadMB {
		return usagef("--max-mb %d: expected 1 to %d", c.maxMB, maxDownloadMB)
	}
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	lim := defaultUntarLimits
	lim.bytes = c.maxMB << 20
	return c.e.download(ctx, cl, args[0], c.to, lim)
}

// downloadFlag is the --download flag of train and sweep.
func downloadFlag(fs *flag.FlagSet, p *bool, what string) {
	fs.BoolVar(p, "download", false, "with --wait: then fetch and extract "+what+" into ./JOB_NAME (as launcher download)")
}

// download fetches a finished job's model.tar.gz and output.tar.gz and extracts
// them into dir/model and dir/output. dir must be new or empty; each archive is
// extracted into a temp folder inside dir and renamed into place, so an error
// leaves no half-extracted folder.
func (e *Env) download(ctx context.Context, cl *Clients, job, dir string, lim untarLimits) error {
	if dir == "" {
		dir = job
	}
	out, err := e.describeJob(ctx, cl, job)
	if err != nil {
		return err
	}
	if !terminal(out.TrainingJobStatus) {
		return fmt.Errorf("training job %s is %s; download after it ends (launcher wait %s)", job, out.TrainingJobStatus, job)
	}
	model := ""
	if out.ModelArtifacts != nil {
		model = aws.ToString(out.ModelArtifacts.S3ModelArtifacts)
	}
	if model == "" {
		// a failed job has no ModelArtifacts; its output.tar.gz sits where the model would
		if out.OutputDataConfig == nil {
			return fmt.Errorf("training job %s names no output location", job)
		}
		model = strings.TrimSuffix(aws.ToString(out.OutputDataConfig.S3OutputPath), "/") + "/" + job + "/output/model.tar.gz"
	}
	m := reS3URI.FindStringSubmatch(model)
	if m == nil || !strings.HasSuffix(m[2], "/model.tar.gz") {
		return fmt.Errorf("training job %s: unexpected model location %s", job, model)
	}
	bucket, folder := m[1], strings.TrimSuffix(m[2], "model.tar.gz")
	created, err := checkDownloadDir(dir)
	if err != nil {
		return err
	}
	if err := e.fetchArtifacts(ctx, cl, bucket, folder, dir, lim); err != nil {
		if created {
			os.Remove(dir) // made above and left empty: each archive cleans up after itself
		}
		return fmt.Errorf("download %s: %w", job, err)
	}
	fmt.Fprintf(e.Stdout, "downloaded %s (%s) into %s\n", job, out.TrainingJobStatus, dir)
	printArtifacts(e.Stdout, dir)
	return nil
}

// fetchArtifacts extracts model.tar.gz and output.tar.gz from s3://bucket/folder
// into dir/model and dir/output; one of them may be missing. Both are extracted
// into temp folders first and renamed into place only when both succeeded, so a
// refused archive leaves nothing of the other behind.
func (e *Env) fetchArtifacts(ctx context.Context, cl *Clients, bucket, folder, dir string, lim untarLimits) error {
	type done struct{ tmp, final string }
	var got []done
	defer func() {
		for _, d := range got {
			os.RemoveAll(d.tmp) // ours; gone already once renamed
		}
	}()
	for _, a := range []struct{ key, sub string }{{folder + "model.tar.gz", "model"}, {folder + "output.tar.gz", "output"}} {
		uri := "s3://" + bucket + "/" + a.key
		final := filepath.Join(dir, a.sub)
		tmp, err := e.fetchArchive(ctx, cl, bucket, a.key, final, lim)
		if errors.Is(err, errNoObject) {
			fmt.Fprintf(e.Stderr, "%s: not there (the job wrote no %s)\n", uri, a.sub)
			continue
		}
		if err != nil {
			return err
		}
		got = append(got, done{tmp, final})
	}
	if len(got) == 0 {
		return fmt.Errorf("neither model.tar.gz nor output.tar.gz under s3://%s/%s", bucket, folder)
	}
	for i, d := range got {
		if err := os.Rename(d.tmp, d.final); err != nil {
			for _, prev := range got[:i] {
				os.RemoveAll(prev.final) // renamed by this download just above
			}
			return fmt.Errorf("--to %s: %s/ appeared during the download (another download?); nothing of this one is kept", dir, filepath.Base(d.final))
		}
	}
	return nil
}

// checkDownloadDir creates dir (created reports it) or accepts it empty:
// download never mixes its files with others, or replaces them.
func checkDownloadDir(dir string) (created bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, usagef("--to %s: %v", dir, err)
		}
		return true, nil
	case err != nil:
		return false, usagef("--to %s: %v (expected a new or empty folder)", dir, err)
	case len(entries) > 0:
		return false, usagef("--to %s: folder is not empty; choose a new one", dir)
	}
	return false, nil
}

var errNoObject = errors.New("no such object")

// fetchArchive extracts one archive into a new temp folder beside final and
// returns it; the caller renames it into place.
func (e *Env) fetchArchive(ctx context.Context, cl *Clients, bucket, key, final string, lim untarLimits) (string, error) {
	uri := "s3://" + bucket + "/" + key
	var obj *s3.GetObjectOutput
	err := e.newBackoff().do(ctx, key, func() error {
		var err error
		obj, err = cl.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		return err
	})
	var nsk *s3types.NoSuchKey
	if errors.As(err, &nsk) || apiErrorCode(err) == "NoSuchKey" || apiErrorCode(err) == "NotFound" {
		return "", errNoObject
	}
	if err != nil {
		return "", fmt.Errorf("get %s: %w", uri, err)
	}
	defer obj.Body.Close()
	tmp, err := os.MkdirTemp(filepath.Dir(final), "."+filepath.Base(final)+"-")
	if err != nil {
		return "", err
	}
	err = untarGzip(obj.Body, tmp, uri, lim)
	if err == nil {
		err = os.Chmod(tmp, 0o755)
	}
	if err != nil {
		os.RemoveAll(tmp) // ours: made just above
		return "", err
	}
	return tmp, nil
}
