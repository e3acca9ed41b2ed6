package main

import (
	"context"
	"io"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/container/serve"
)

// runServe is the SageMaker hosting entrypoint (`trainer serve`): it loads the model from
// <root>/model (root /opt/ml or $SAGEMAKER_BASE_DIR) and listens on port 8080 or
// $SAGEMAKER_BIND_TO_PORT. ctx is cancelled on SIGTERM, which shuts the server down
// gracefully (SageMaker sends SIGKILL 30 s later). Settings come through getenv and the
// log goes to stderr, as run passes them.
func runServe(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	cfg, err := serve.ParseArgs(args, optml.RootFromEnv(getenv), getenv)
	if err != nil {
		return err
	}
	return serve.Run(ctx, cfg, stderr)
}
