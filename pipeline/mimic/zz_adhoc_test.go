package mimic

import (
	"context"
	"os"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

func TestAdhoc(t *testing.T) {
	dir := os.Getenv("ADHOC_DIR")
	if dir == "" {
		t.Skip()
	}
	_, rep, err := Format{}.Read(context.Background(), []string{dir}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep.WriteText(os.Stdout)
}
