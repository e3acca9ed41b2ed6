package cli

import (
	"os/exec"
	"testing"
)

// W12: a launcher without a VCS stamp (a test binary has none) tags no commit, even
// standing in a git repository: that repository is the user's, not the launcher's.
func TestGitCommitNotFromTheWorkingFolder(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "--allow-empty", "-m", "x"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	t.Chdir(dir)
	if c := gitCommit(); c != "" {
		t.Errorf("gitCommit() = %q: the commit of the repository the user stands in", c)
	}
}
