package sagemakertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/pipeline"
)

// StopGrace is how long a runner waits after SIGINT before it kills the container
// (the service waits longer; tests should not).
const StopGrace = 10 * time.Second

// BinaryRunner runs a container's entrypoint binary on this machine with
// SAGEMAKER_BASE_DIR pointing at the job's tree, the job's Environment and nothing of
// this process's environment but PATH.
func BinaryRunner(bin string) ContainerRunner {
	return func(ctx context.Context, r ContainerRun) (int, error) {
		argv := r.Arguments
		if len(r.Entrypoint) > 0 {
			// the entrypoint names a path inside the image; here the binary stands for it
			argv = append(append([]string(nil), r.Entrypoint[1:]...), r.Arguments...)
		}
		cmd := exec.CommandContext(ctx, bin, argv...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), optml.RootEnv + "=" + r.Root}
		for _, k := range sortedKeys(r.Env) {
			cmd.Env = append(cmd.Env, k+"="+r.Env[k])
		}
		return runCmd(cmd, r.Log)
	}
}

// DockerRunner runs the job's image under Docker with its tree mounted as /opt/ml and
// no network. The docker CLI passes the SIGINT on to the container (--sig-proxy).
func DockerRunner(docker string) ContainerRunner {
	return func(ctx context.Context, r ContainerRun) (int, error) {
		args := []string{"run", "--rm", "--network", "none", "--sig-proxy=true", "-v", r.Root + ":" + optml.DefaultRoot}
		for _, k := range sortedKeys(r.Env) {
			args = append(args, "-e", k+"="+r.Env[k])
		}
		if len(r.Entrypoint) > 0 {
			args = append(args, "--entrypoint", r.Entrypoint[0])
		}
		args = append(args, r.Image)
		if len(r.Entrypoint) > 1 {
			args = append(args, r.Entrypoint[1:]...)
		}
		args = append(args, r.Arguments...)
		return runCmd(exec.CommandContext(ctx, docker, args...), r.Log)
	}
}

// runCmd runs cmd with its output to log; a cancelled context sends SIGINT and, after
// StopGrace, SIGKILL.
func runCmd(cmd *exec.Cmd, log io.Writer) (int, error) {
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = StopGrace
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

// download copies every object under an S3 prefix into dir, keeping the key's path
// below the prefix (an object named exactly by the URI lands under its base name). A key
// that would leave dir is refused.
func download(ctx context.Context, store pipeline.ObjectStore, uri, dir string) error {
	bucket, prefix, err := pipeline.ParseS3URI(uri)
	if err != nil {
		return err
	}
	keys, err := store.List(ctx, bucket, prefix)
	if err != nil {
		return fmt.Errorf("list %s: %w", uri, err)
	}
	sort.Strings(keys)
	n := 0
	for _, key := range keys {
		rel := strings.TrimPrefix(strings.TrimPrefix(key, prefix), "/")
		if strings.HasSuffix(key, "/") {
			continue // a folder marker
		}
		if rel == "" {
			rel = path.Base(key)
		}
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("s3://%s/%s: key leaves the input folder", bucket, key)
		}
		if err := getObject(ctx, store, bucket, key, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no S3 objects found under S3 URL %q", uri)
	}
	return nil
}

func getObject(ctx context.Context, store pipeline.ObjectStore, bucket, key, dst string) error {
	rc, err := store.Get(ctx, bucket, key)
	if err != nil {
		return fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return f.Close()
}

// upload puts every regular file below dir under the S3 prefix; symbolic links are not
// followed, as the service does not.
func upload(ctx context.Context, store pipeline.ObjectStore, dir, uri string) error {
	bucket, prefix, err := pipeline.ParseS3URI(uri)
	if err != nil {
		return err
	}
	prefix = strings.TrimSuffix(prefix, "/")
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if prefix != "" {
			key = prefix + "/" + key
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if err := store.Put(ctx, bucket, key, f, st.Size()); err != nil {
			return fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
		}
		return nil
	})
}
