package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/blueblood/blueblood/container/optml"
)

type localCmd struct {
	e            *Env
	trainer      string
	image        string
	channelPaths [3]string
	output       string
	name         string
	instanceType string
	keep         bool
	force        bool
	env          kvFlag
	hp           hpValues
}

func newLocal(e *Env, fs *flag.FlagSet) unit {
	c := &localCmd{e: e}
	fs.StringVar(&c.trainer, "trainer", "", "trainer binary to run (default: trainer on PATH)")
	fs.StringVar(&c.image, "image", "", "run this Docker image instead of a binary (docker run --network none)")
	for i, ch := range channelNames {
		fs.StringVar(&c.channelPaths[i], ch, "", ch+" channel: a local file or folder")
	}
	fs.StringVar(&c.output, "output", "blueblood-run", "folder that receives model/ and output/ (must be empty or new, see --force)")
	fs.BoolVar(&c.force, "force", false, "write into a non-empty --output; model/ and output/ are replaced only if an earlier local run wrote them")
	fs.StringVar(&c.name, "name", "", "TRAINING_JOB_NAME for the run (default blueblood-local-<time>)")
	fs.StringVar(&c.instanceType, "instance-type", "ml.m5.xlarge", "instance type written to resourceconfig.json")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary /opt/ml tree and print where it is")
	fs.Var(&c.env, "env", "container environment `KEY=VALUE` (repeatable)")
	c.hp.register(fs)
	return c
}

func (c *localCmd) Exec(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("local: unexpected argument %q", args[0])
	}
	if c.channelPaths[0] == "" {
		return usagef("--train is required: a local file or folder with the training data")
	}
	for i, p := range c.channelPaths {
		if p == "" {
			continue
		}
		if strings.Contains(p, "://") {
			return usagef("--%s %q: local runs read local files; download the data first", channelNames[i], p)
		}
		if _, err := os.Stat(p); err != nil {
			return usagef("--%s %q: local path does not exist", channelNames[i], p)
		}
		// Regular files only: a device or FIFO (--train /dev/zero) would be copied forever.
		if _, err := listFiles(p); err != nil {
			return usagef("--%s %q: %v", channelNames[i], p, err)
		}
	}
	if c.output == "" {
		return usagef("--output: expected a folder")
	}
	if err := checkNotClaimed(c.output); err != nil {
		return err
	}
	if err := checkOutputDir(c.output, c.force); err != nil {
		return err
	}
	if !reInstance.MatchString(c.instanceType) {
		return usagef("--instance-type %q: expected an instance type like ml.m5.xlarge", c.instanceType)
	}
	name := c.name
	if name == "" {
		name = composeName("blueblood-local", jobStamp(c.e.Now()), maxJobName)
	} else if err := checkName("--name", name, false); err != nil {
		return err
	}
	if err := checkEnv(c.env.items, envLimits{}); err != nil {
		return err
	}
	env := map[string]string{}
	for _, kv := range c.env.items {
		env[kv[0]] = kv[1]
	}
	bin, err := findRunner(c.e, c.image, c.trainer)
	if err != nil {
		return err
	}
	runID := newRunID(name)
	if err := claimOutput(c.output, runID); err != nil {
		return err
	}
	defer releaseOutput(c.output, runID)

	tmp, err := os.MkdirTemp("", "blueblood-local-")
	if err != nil {
		return err
	}
	keepTmp := c.keep
	if c.keep {
		fmt.Fprintf(c.e.Stderr, "keeping the /opt/ml tree at %s\n", tmp)
	}
	defer func() {
		if !keepTmp {
			os.RemoveAll(tmp)
		}
	}()
	root := filepath.Join(tmp, "opt_ml")
	if err := c.buildTree(root); err != nil {
		return err
	}
	var cmd *exec.Cmd
	var stopper *containerStop
	if c.image != "" {
		// "-e NAME" takes the value from docker's own environment, so no value
		// shows in the arguments (printed below, and visible to ps).
		stopper = &containerStop{docker: bin, cidFile: filepath.Join(tmp, "container.id")}
		dargs := []string{"run", "--rm", "--network", "none", "--cidfile", stopper.cidFile, "-v", root + ":" + optml.DefaultRoot, "-e", "TRAINING_JOB_NAME=" + name}
		cmd = exec.CommandContext(ctx, bin)
		cmd.Env = c.baseEnv()
		for k, v := range sortedMap(env) {
			dargs = append(dargs, "-e", k)
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Args = append(cmd.Args, append(dargs, c.image, "train")...)
	} else {
		cmd = exec.CommandContext(ctx, bin, "train")
		cmd.Env = append(c.baseEnv(), optml.RootEnv+"="+root, "TRAINING_JOB_NAME="+name)
		for k, v := range sortedMap(env) {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	// The trainer's stdout and stderr are the job log, as in CloudWatch.
	cmd.Stdout, cmd.Stderr = c.e.Stdout, c.e.Stderr
	if stopper != nil {
		stopper.env = cmd.Env
	}
	stopOnCancel(cmd, stopper)
	fmt.Fprintf(c.e.Stderr, "running %s (%s)\n", name, strings.Join(cmd.Args, " "))
	runErr := cmd.Run()
	stopper.wait()
	// SageMaker uploads artifacts even when the job fails, and so do we.
	if err := copyArtifacts(root, c.output, runID); err != nil {
		// Never lose the finished run's only copy.
		where := keepBeside(root, c.output, runID)
		if where == "" {
			keepTmp, where = true, root
		}
		return fmt.Errorf("%w; this run's model/ and output/ are kept at %s", err, where)
	}
	printArtifacts(c.e.Stdout, c.output)
	if runErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("local job %s stopped: %w; what it saved was copied to %s", name, ctx.Err(), c.output)
		}
		var ee *exec.ExitError
		if !errors.As(runErr, &ee) {
			return fmt.Errorf("run trainer: %w", runErr)
		}
		reason, _ := os.ReadFile(optml.Paths{Root: root}.Failure())
		if len(reason) > 1024 {
			reason = reason[:1024]
		}
		msg := strings.TrimSpace(string(reason))
		if msg == "" {
			msg = "no output/failure written"
		}
		return &ExitError{Code: ExitJobFailed, Err: fmt.Errorf("local job %s failed (exit %d): %s", name, ee.ExitCode(), oneLine(msg))}
	}
	fmt.Fprintf(c.e.Stdout, "local job %s completed\n", name)
	return nil
}

// findRunner returns what runs the trainer: docker when an image is given (checked
// first), else the trainer binary (default: trainer on PATH).
func findRunner(e *Env, image, trainer string) (string, error) {
	if image != "" {
		if err := checkImage("--image", image); err != nil {
			return "", err
		}
		docker, err := e.LookPath("docker")
		if err != nil {
			return "", usagef("--image needs docker on PATH: %v", err)
		}
		return docker, nil
	}
	if trainer == "" {
		trainer = "trainer"
	}
	found, err := e.LookPath(trainer)
	if err != nil {
		return "", usagef("--trainer %q: not found (build it with: go build -o bin/trainer ./container)", trainer)
	}
	return found, nil
}

// baseEnv is the little of our environment a job would see: SageMaker starts
// containers with a clean environment.
func (c *localCmd) baseEnv() []string {
	var out []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "DOCKER_HOST"} {
		if v := c.e.Getenv(k); v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// buildTree writes the /opt/ml tree as the service does for a single-host File-mode job.
func (c *localCmd) buildTree(root string) error {
	tree := optml.Paths{Root: root}
	for _, d := range []string{tree.ConfigDir(), tree.DataDir(), tree.ModelDir(), tree.OutputDataDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	hp := map[string]string{}
	for k, v := range c.hp.values {
		hp[k] = v
	}
	channels := map[string]optml.ChannelConfig{}
	for i, p := range c.channelPaths {
		if p == "" {
			continue
		}
		ch := channelNames[i]
		channels[ch] = optml.ChannelConfig{RecordWrapperType: "None", S3DistributionType: "FullyReplicated", TrainingInputMode: "File"}
		if err := copyTree(p, tree.Channel(ch)); err != nil {
			return fmt.Errorf("--%s %q: %w", ch, p, err)
		}
	}
	resource := optml.ResourceConfig{
		CurrentHost: "algo-1", CurrentInstanceType: c.instanceType, CurrentGroupName: "homogeneousCluster",
		Hosts: []string{"algo-1"}, NetworkInterfaceName: "eth0",
		InstanceGroups: []optml.InstanceGroup{{InstanceGroupName: "homogeneousCluster", InstanceType: c.instanceType, Hosts: []string{"algo-1"}}},
	}
	return tree.WriteConfig(hp, channels, resource)
}

// copyTree copies a file (into dst/) or a folder's contents (to dst).
func copyTree(src, dst string) error {
	files, err := listFiles(src)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := copyFile(f.path, filepath.Join(dst, filepath.FromSlash(f.rel))); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// localMarker, in an --output folder, names the run that wrote its model/ and
// output/: only those are ever replaced (with --force).
const localMarker = ".blueblood-local"

var artifactDirs = []string{"model", "output"}

// checkOutputDir runs before any work: dir must be new or empty, or with force,
// hold no model/ or output/ that an earlier local run did not write. It creates
// dir, so a folder that cannot be written fails now, not after training.
func checkOutputDir(dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return usagef("--output %s: %v", dir, err)
		}
		return nil
	case err != nil:
		if info, serr := os.Stat(dir); serr == nil && !info.IsDir() {
			return usagef("--output %s: exists and is not a folder", dir)
		}
		return usagef("--output %s: %v", dir, err)
	case len(entries) == 0:
		return nil
	case !force:
		return usagef("--output %s: folder is not empty; choose a new folder, or give --force to write model/ and output/ into it", dir)
	}
	_, merr := os.Stat(filepath.Join(dir, localMarker))
	for _, sub := range artifactDirs {
		if _, err := os.Lstat(filepath.Join(dir, sub)); err == nil && merr != nil {
			return usagef("--output %s: %s/ exists and no earlier launcher local run wrote it; it is not replaced, choose another folder", dir, sub)
		}
	}
	return nil
}

// copyArtifacts puts the run's model/ and output/ into dir, each through a temp
// folder and a rename so a reader never sees a half-copied tree. An earlier
// run's folders (marked) are replaced; anything else there is left alone.
func copyArtifacts(root, dir, runID string) error {
	if err := ownsOutput(dir, runID); err != nil {
		return err
	}
	if err := checkOutputDir(dir, true); err != nil { // again: something may have appeared during the run
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, localMarker), []byte("model/ and output/ here were written by launcher local run "+runID+"\n"), 0o644); err != nil {
		return fmt.Errorf("--output %s: %w", dir, err)
	}
	for _, sub := range artifactDirs {
		tmp, err := os.MkdirTemp(dir, "."+sub+"-")
		if err != nil {
			return fmt.Errorf("--output %s: %w", dir, err)
		}
		if err := copyTree(filepath.Join(root, sub), tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.RemoveAll(tmp)
			return fmt.Errorf("copy %s: %w", sub, err)
		}
		final := filepath.Join(dir, sub)
		if err := os.RemoveAll(final); err != nil {
			os.RemoveAll(tmp)
			return err
		}
		if err := os.Rename(tmp, final); err != nil {
			return err
		}
		if err := os.Chmod(final, 0o755); err != nil {
			return err
		}
	}
	return nil
}
