package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxModelArchive bounds what local-serve extracts from a model.tar.gz.
const maxModelArchive = 4 << 30

type localServeCmd struct {
	e       *Env
	model   string
	port    int
	trainer string
	image   string
}

func newLocalServe(e *Env, fs *flag.FlagSet) unit {
	c := &localServeCmd{e: e}
	fs.StringVar(&c.model, "model", "", "the model: a folder (a job's model/), a model.tar.gz, or s3://.../model.tar.gz (required)")
	fs.IntVar(&c.port, "port", 8080, "port on 127.0.0.1 to answer on")
	fs.StringVar(&c.trainer, "trainer", "", "trainer binary to run (default: trainer on PATH)")
	fs.StringVar(&c.image, "image", "", "run this Docker image instead (docker run -p 127.0.0.1:PORT:8080)")
	return c
}

func (c *localServeCmd) Exec(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("local-serve: unexpected argument %q", args[0])
	}
	if c.model == "" {
		return usageError("--model is required: a model folder, a model.tar.gz or s3://.../model.tar.gz")
	}
	if c.port < 1 || c.port > 65535 {
		return usagef("--port %d: expected 1 to 65535", c.port)
	}
	bin, err := findRunner(c.e, c.image, c.trainer)
	if err != nil {
		return err
	}

	dir, cleanup, err := c.modelDir(ctx)
	if err != nil {
		return err
	}
	defer cleanup()

	port := strconv.Itoa(c.port)
	cmd := exec.CommandContext(ctx, bin, c.serveArgs(dir)...)
	// Ctrl-C becomes SIGTERM, as SageMaker stops a container; the docker CLI passes it
	// on to the container. SIGKILL follows 30 s later, as on SageMaker.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	cmd.Stdout, cmd.Stderr = c.e.Stderr, c.e.Stderr
	url := "http://127.0.0.1:" + port
	fmt.Fprintf(c.e.Stdout, "serving %s on %s (Ctrl-C stops)\n  curl -s %s/ping\n  curl -s -X POST %s/invocations -H 'Content-Type: application/json' -d @cases.json\n",
		c.model, url, url, url)
	err = cmd.Run()
	if ctx.Err() != nil {
		// stopped on purpose: the server shut down gracefully or was killed after the grace
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s exited: %w", filepath.Base(bin), err)
	}
	return nil
}

// serveArgs are the arguments of the trainer binary, or of docker running the image the
// way SageMaker hosting does (the model mounted at /opt/ml/model, `serve`), published on
// loopback only.
func (c *localServeCmd) serveArgs(dir string) []string {
	port := strconv.Itoa(c.port)
	if c.image != "" {
		return []string{"run", "--rm", "--name", "blueblood-serve-" + jobStamp(c.e.Now()), "-p", "127.0.0.1:" + port + ":8080",
			"-v", dir + ":/opt/ml/model:ro", c.image, "serve"}
	}
	return []string{"serve", "--model", dir, "--host", "127.0.0.1", "--port", port}
}

// modelDir returns a folder holding the model, extracting an archive (local or on S3)
// into a temporary folder the way SageMaker extracts model.tar.gz into /opt/ml/model.
func (c *localServeCmd) modelDir(ctx context.Context) (string, func(), error) {
	none := func() {}
	var archive io.Reader
	switch {
	case strings.HasPrefix(c.model, "s3://"):
		if err := checkS3URI("--model", c.model); err != nil {
			return "", none, err
		}
		m := reS3URI.FindStringSubmatch(c.model)
		cl, err := c.e.aws(ctx)
		if err != nil {
			return "", none, err
		}
		out, err := cl.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(m[1]), Key: aws.String(m[2])})
		if err != nil {
			return "", none, fmt.Errorf("--model %s: %w", c.model, err)
		}
		defer out.Body.Close()
		archive = out.Body
	default:
		st, err := os.Stat(c.model)
		if err != nil {
			return "", none, usagef("--model %q: %v", c.model, errors.Unwrap(err))
		}
		if st.IsDir() {
			abs, err := filepath.Abs(c.model)
			return abs, none, err
		}
		if !strings.HasSuffix(c.model, ".tar.gz") && !strings.HasSuffix(c.model, ".tgz") {
			return "", none, usagef("--model %q: expected a folder or a .tar.gz archive", c.model)
		}
		f, err := os.Open(c.model)
		if err != nil {
			return "", none, err
		}
		defer f.Close()
		archive = f
	}
	dir, err := os.MkdirTemp("", "blueblood-model-")
	if err != nil {
		return "", none, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	if err := untarGzip(archive, dir, "--model "+c.model, untarLimits{bytes: maxModelArchive, entries: defaultDownloadEntries}); err != nil {
		cleanup()
		return "", none, err
	}
	return dir, cleanup, nil
}
