package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Environment variables SageMaker (or its local mode) may set for the serving container.
const (
	EnvBindToPort = "SAGEMAKER_BIND_TO_PORT"      // port to listen on (inference pipelines)
	EnvMaxPayload = "SAGEMAKER_MAX_PAYLOAD_IN_MB" // batch transform's payload limit
	EnvWorkers    = "SAGEMAKER_MODEL_SERVER_WORKERS"
	DefaultPort   = 8080
	// Ours, for a model's Environment (SageMaker passes no arguments to serve).
	EnvMaxInflight  = "BLUEBLOOD_SERVE_MAX_INFLIGHT"
	EnvMemoryBudget = "BLUEBLOOD_SERVE_MEMORY_MB"
)

const usage = "serve [--model DIR] [--host HOST] [--port N] [--workers N] [--max-inflight N] [--memory-budget-mb N]"

// Config is how `trainer serve` runs.
type Config struct {
	ModelDir       string // the model folder, <root>/model by default
	Addr           string // host:port to listen on
	MaxBodyBytes   int64
	MaxConcurrency int   // 0: GOMAXPROCS
	MaxInflight    int   // 0: DefaultMaxInflight
	MemoryBudget   int64 // bytes; 0: DefaultMemoryBudget
	Batch          bool  // batch transform: CSV answered one line per row
	// RequestTimeout bounds one invocation (SAGEMAKER_MODEL_SERVER_TIMEOUT); 0: DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Note is an adjustment made to the environment's values, logged at start.
	Note string
}

// ParseArgs reads `serve` flags and the SageMaker environment. root is the /opt/ml root
// ($SAGEMAKER_BASE_DIR in tests and local runs). Flags win over the environment.
func ParseArgs(args []string, root string, getenv func(string) string) (Config, error) {
	cfg := Config{ModelDir: filepath.Join(root, "model"), MaxBodyBytes: DefaultMaxBodyBytes}
	port := DefaultPort
	if v := strings.TrimSpace(getenv(EnvBindToPort)); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return Config{}, fmt.Errorf("serve: %s=%q: expected a port number in [1, 65535]", EnvBindToPort, v)
		}
		port = p
	}
	if v := strings.TrimSpace(getenv(EnvMaxPayload)); v != "" {
		mb, err := strconv.Atoi(v)
		if err != nil || mb < 1 || mb > 1024 {
			return Config{}, fmt.Errorf("serve: %s=%q: expected megabytes in [1, 1024]", EnvMaxPayload, v)
		}
		cfg.MaxBodyBytes = int64(mb) << 20
	}
	if v := strings.TrimSpace(getenv(EnvWorkers)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1024 {
			return Config{}, fmt.Errorf("serve: %s=%q: expected an integer in [1, 1024]", EnvWorkers, v)
		}
		cfg.MaxConcurrency = n
	}
	if v := strings.TrimSpace(getenv(EnvMaxInflight)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return Config{}, fmt.Errorf("serve: %s=%q: expected an integer in [1, 100000]", EnvMaxInflight, v)
		}
		cfg.MaxInflight = n
	}
	if v := strings.TrimSpace(getenv(EnvBatch)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("serve: %s=%q: expected true or false", EnvBatch, v)
		}
		cfg.Batch = b
	}
	budgetMB := 0
	if v := strings.TrimSpace(getenv(EnvMemoryBudget)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1<<20 {
			return Config{}, fmt.Errorf("serve: %s=%q: expected megabytes in [1, 1048576]", EnvMemoryBudget, v)
		}
		budgetMB = n
	}

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.ModelDir, "model", cfg.ModelDir, "model folder")
	host := fs.String("host", "", "interface to listen on (empty: all, as SageMaker needs)")
	fs.IntVar(&port, "port", port, "port to listen on")
	fs.IntVar(&cfg.MaxConcurrency, "workers", cfg.MaxConcurrency, "predictions run at once (0: one per CPU)")
	fs.IntVar(&cfg.MaxInflight, "max-inflight", cfg.MaxInflight, "requests admitted at once (0: default)")
	fs.IntVar(&budgetMB, "memory-budget-mb", budgetMB, "memory for admitted requests' bodies, in MB (0: default)")
	if err := fs.Parse(args); err != nil {
		return Config{}, fmt.Errorf("serve: %w; usage: %s", err, usage)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("serve: unexpected arguments %q; usage: %s", fs.Args(), usage)
	}
	if cfg.MaxInflight < 0 || budgetMB < 0 {
		return Config{}, errors.New("serve: --max-inflight and --memory-budget-mb: expected 0 or more")
	}
	cfg.MemoryBudget = int64(budgetMB) << 20
	if err := applySageMakerEnv(&cfg, getenv, cfg.MaxInflight > 0, budgetMB > 0); err != nil {
		return Config{}, err
	}
	if port < 0 || port > 65535 {
		return Config{}, fmt.Errorf("serve: --port %d: expected a port number in [0, 65535]", port)
	}
	if cfg.MaxConcurrency < 0 {
		return Config{}, fmt.Errorf("serve: --workers %d: expected 0 or more", cfg.MaxConcurrency)
	}
	cfg.Addr = net.JoinHostPort(*host, strconv.Itoa(port))
	return cfg, nil
}

// Run loads the model from cfg.ModelDir and serves until ctx is cancelled (SIGTERM),
// logging to logw. A model that fails to load ends Run with that error.
func Run(ctx context.Context, cfg Config, logw io.Writer) error {
	logger := slog.New(slog.NewTextHandler(logw, nil))
	opts := []Option{WithLogger(logger), WithMaxBodyBytes(cfg.MaxBodyBytes), WithBatch(cfg.Batch)}
	if cfg.MaxConcurrency > 0 {
		opts = append(opts, WithMaxConcurrency(cfg.MaxConcurrency))
	}
	if cfg.MaxInflight > 0 {
		opts = append(opts, WithMaxInflight(cfg.MaxInflight))
	}
	if cfg.MemoryBudget > 0 {
		opts = append(opts, WithMemoryBudget(cfg.MemoryBudget))
	}
	if cfg.RequestTimeout > 0 {
		opts = append(opts, WithRequestTimeout(cfg.RequestTimeout))
	}
	if cfg.Note != "" {
		logger.Warn(cfg.Note)
	}
	err := New(LoadDir(cfg.ModelDir), opts...).ListenAndServe(ctx, cfg.Addr)
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
