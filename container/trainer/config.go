package trainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/container/optml"
)

// Config is everything the trainer reads from input/config.
type Config struct {
	Hyperparameters Hyperparameters
	// RawHyperparameters is hyperparameters.json with every value as text, as received.
	RawHyperparameters map[string]string
	// Channels is inputdataconfig.json; nil when the file is absent.
	Channels map[string]optml.ChannelConfig
	// Resource is resourceconfig.json; nil when the file is absent.
	Resource *optml.ResourceConfig
	// CheckpointDir is checkpointconfig.json's LocalPath, or checkpoints/ under the root.
	CheckpointDir string
}

// loadConfig reads and validates input/config. hyperparameters.json is required
// (SageMaker always writes it, "{}" when empty); the other files are optional.
func loadConfig(p optml.Paths) (*Config, error) {
	cfg := &Config{CheckpointDir: p.DefaultCheckpointDir()}

	raw, err := readHyperparameters(p)
	if err != nil {
		return nil, err
	}
	cfg.RawHyperparameters = raw
	if cfg.Hyperparameters, err = parseHyperparameters(raw); err != nil {
		return nil, fmt.Errorf("%s: %w", p.Rel(p.Hyperparameters()), err)
	}

	var channels map[string]optml.ChannelConfig
	found, err := readJSON(p, p.InputDataConfig(), &channels)
	if err != nil {
		return nil, err
	}
	if found {
		if channels == nil {
			channels = map[string]optml.ChannelConfig{}
		}
		cfg.Channels = channels
	}

	var res optml.ResourceConfig
	if found, err = readJSON(p, p.ResourceConfig(), &res); err != nil {
		return nil, err
	}
	if found {
		cfg.Resource = &res
	}

	var ck struct {
		LocalPath string `json:"LocalPath"`
	}
	if found, err = readJSON(p, p.CheckpointConfig(), &ck); err != nil {
		return nil, err
	}
	if found && strings.TrimSpace(ck.LocalPath) != "" {
		cfg.CheckpointDir = rebase(p, ck.LocalPath)
	}
	return cfg, nil
}

// rebase maps an absolute /opt/ml/... path onto the configured root, so a fixture whose
// checkpointconfig.json says /opt/ml/checkpoints stays inside $SAGEMAKER_BASE_DIR.
func rebase(p optml.Paths, path string) string {
	clean := filepath.Clean(path)
	if p.Root != optml.DefaultRoot {
		if rel, err := filepath.Rel(optml.DefaultRoot, clean); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.Join(p.Root, rel)
		}
	}
	if !filepath.IsAbs(clean) {
		return filepath.Join(p.Root, clean)
	}
	return clean
}

// readHyperparameters reads hyperparameters.json into strings (see hparams.FromJSON).
func readHyperparameters(p optml.Paths) (map[string]string, error) {
	path := p.Hyperparameters()
	rel := p.Rel(path)
	data, found, err := readConfigFile(p, path)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%s: missing; SageMaker always writes it (use {} for all defaults)", rel)
	}
	// Decoding into a map first gives syntax and top-level errors their line and column.
	var obj map[string]json.RawMessage
	if err := decodeJSON(rel, data, &obj); err != nil {
		return nil, err
	}
	out, err := hparams.FromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return out, nil
}

// readJSON decodes one JSON file into v. A missing file returns found=false and no
// error; anything else unreadable is an error naming the file and, for syntax errors,
// the line and column.
func readJSON(p optml.Paths, path string, v any) (found bool, err error) {
	data, found, err := readConfigFile(p, path)
	if !found || err != nil {
		return found, err
	}
	return true, decodeJSON(p.Rel(path), data, v)
}

// readConfigFile reads one config file; a missing file returns found=false and no error.
func readConfigFile(p optml.Paths, path string) (data []byte, found bool, err error) {
	rel := p.Rel(path)
	data, err = os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: cannot read: %v", rel, errors.Unwrap(err))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, true, fmt.Errorf("%s: empty file; expected a JSON object", rel)
	}
	return data, true, nil
}

func decodeJSON(rel string, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return jsonError(rel, data, err)
	}
	return nil
}

func jsonError(rel string, data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := lineCol(data, syn.Offset)
		return fmt.Errorf("%s: line %d column %d: invalid JSON: %v", rel, line, col, syn)
	case errors.As(err, &typ):
		line, col := lineCol(data, typ.Offset)
		where := "a value"
		switch {
		case typ.Field != "":
			where = "field " + typ.Field
		case typ.Offset-1 <= int64(len(data)-len(bytes.TrimLeft(data, " \t\r\n"))):
			where = "the top level"
		}
		return fmt.Errorf("%s: line %d column %d: %s is a JSON %s; expected %s", rel, line, col, where, typ.Value, describeType(typ.Type.String()))
	default:
		return fmt.Errorf("%s: invalid JSON: %v", rel, err)
	}
}

func describeType(t string) string {
	switch {
	case strings.HasPrefix(t, "map["):
		return "a JSON object"
	case strings.HasPrefix(t, "[]"):
		return "a JSON array"
	case t == "string":
		return "a string"
	case strings.Contains(t, "Config") || strings.HasPrefix(t, "struct"):
		return "a JSON object"
	default:
		return t
	}
}

// lineCol converts encoding/json's error offset (bytes read, so the offending byte is
// the one before it) into a 1-based line and column.
func lineCol(data []byte, offset int64) (int, int) {
	pos := min(max(offset-1, 0), int64(len(data)))
	before := data[:pos]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(pos) - bytes.LastIndexByte(before, '\n')
	return line, col
}
