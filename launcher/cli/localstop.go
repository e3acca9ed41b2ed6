package cli

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long SageMaker waits between SIGTERM and SIGKILL when it stops a
// training job; a local run gives the trainer as long to save its model.
const stopGrace = 120 * time.Second

// stopOnCancel makes a cancelled context (Ctrl-C, SIGTERM) stop cmd as SageMaker stops a
// job: SIGTERM, then SIGKILL after stopGrace, instead of exec.CommandContext's immediate
// SIGKILL, which would kill the trainer mid-save. With a container (stopper not nil),
// docker stop sends the signal to it: killing only the docker CLI would leave the
// container running on a deleted /opt/ml.
func stopOnCancel(cmd *exec.Cmd, stopper *containerStop) {
	cmd.Cancel = func() error {
		if stopper != nil && stopper.start() {
			return nil
		}
		return cmd.Process.Signal(syscall.SIGTERM)
	}
	// after the grace: the docker CLI, or the trainer, is killed
	cmd.WaitDelay = stopGrace + 10*time.Second
}

// containerStop stops the container that docker run --cidfile named.
type containerStop struct {
	docker, cidFile string
	env             []string // docker run's environment (DOCKER_HOST)
	cmd             *exec.Cmd
}

// start runs docker stop in the background; false when the container has no id yet.
func (s *containerStop) start() bool {
	id, err := os.ReadFile(s.cidFile)
	if err != nil || strings.TrimSpace(string(id)) == "" {
		return false
	}
	s.cmd = exec.Command(s.docker, "stop", "--time", strconv.Itoa(int(stopGrace.Seconds())), strings.TrimSpace(string(id)))
	s.cmd.Env = s.env
	return s.cmd.Start() == nil
}

// wait waits for a docker stop that start began.
func (s *containerStop) wait() {
	if s != nil && s.cmd != nil {
		s.cmd.Wait()
	}
}
