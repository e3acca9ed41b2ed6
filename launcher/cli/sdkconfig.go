package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// The SageMaker Python SDK's defaults file: the admin file, then the user file
// (whose values win), each replaceable by an override variable naming a file or
// a folder holding config.yaml. Keys follow the API (SageMaker.TrainingJob.VpcConfig,
// ...). The launcher's own defaults live under CustomParameters, the only place
// the SDK's schema allows keys of its own, so the file stays valid for the SDK.
const (
	sdkConfigFile      = "config.yaml"
	sdkAdminOverride   = "SAGEMAKER_ADMIN_CONFIG_OVERRIDE"
	sdkUserOverride    = "SAGEMAKER_USER_CONFIG_OVERRIDE"
	customParamsPrefix = "BlueBlood."
	maxSDKConfigBytes  = 1 << 20
)

// sdkConfig is the merged document with, for each leaf path, the file it came from.
type sdkConfig struct {
	doc  map[string]any
	from map[string]string // dotted path → file
}

// sdkConfigPaths lists the files to read, admin first, with whether each was
// named by an override variable (then it must exist, as in the SDK).
func sdkConfigPaths(getenv func(string) string) (paths []string, explicit []bool) {
	admin := getenv(sdkAdminOverride)
	if admin == "" {
		dir := "/etc/xdg"
		if d := getenv("XDG_CONFIG_DIRS"); d != "" {
			dir = strings.Split(d, ":")[0]
		}
		paths, explicit = append(paths, filepath.Join(dir, "sagemaker", sdkConfigFile)), append(explicit, false)
	} else {
		paths, explicit = append(paths, admin), append(explicit, true)
	}
	user := getenv(sdkUserOverride)
	switch {
	case user != "":
		paths, explicit = append(paths, user), append(explicit, true)
	case getenv("XDG_CONFIG_HOME") != "":
		paths, explicit = append(paths, filepath.Join(getenv("XDG_CONFIG_HOME"), "sagemaker", sdkConfigFile)), append(explicit, false)
	case getenv("HOME") != "":
		paths, explicit = append(paths, filepath.Join(getenv("HOME"), ".config", "sagemaker", sdkConfigFile)), append(explicit, false)
	}
	return paths, explicit
}

// loadSDKConfig reads and merges the files; a missing default file is skipped.
func loadSDKConfig(getenv func(string) string) (*sdkConfig, error) {
	cfg := &sdkConfig{doc: map[string]any{}, from: map[string]string{}}
	paths, explicit := sdkConfigPaths(getenv)
	for i, p := range paths {
		if strings.HasPrefix(p, "s3://") {
			return nil, usagef("%s: %s: config files on S3 are not supported; copy it to a local file", overrideName(i), p)
		}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			p = filepath.Join(p, sdkConfigFile)
		}
		b, err := readLimited(p, maxSDKConfigBytes)
		if errors.Is(err, fs.ErrNotExist) && !explicit[i] {
			continue
		}
		if err != nil {
			return nil, usagef("SageMaker config %s: %v", p, err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, usagef("SageMaker config %s: %v", p, err)
		}
		if v, ok := doc["SchemaVersion"]; ok && fmt.Sprint(v) != "1.0" {
			return nil, usagef("SageMaker config %s: SchemaVersion %v: expected \"1.0\"", p, v)
		}
		merge(cfg.doc, doc, "", p, cfg.from)
	}
	return cfg, nil
}

func overrideName(i int) string {
	if i == 0 {
		return sdkAdminOverride
	}
	return sdkUserOverride
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%d bytes, at most %d expected", st.Size(), limit)
	}
	// Read the file already open, bounded: it may have grown since the Stat.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("more than %d bytes, at most %d expected", limit, limit)
	}
	return b, nil
}

// merge copies src into dst; maps merge key by key, anything else (lists
// included) replaces, as the SDK's deep merge does.
func merge(dst, src map[string]any, prefix, file string, from map[string]string) {
	for k, v := range src {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		if sm, ok := v.(map[string]any); ok {
			dm, ok := dst[k].(map[string]any)
			if !ok {
				dm = map[string]any{}
				dst[k] = dm
			}
			merge(dm, sm, path, file, from)
			continue
		}
		dst[k] = v
		from[path] = file
	}
}

// lookup returns the value at a dotted path ("SageMaker.TrainingJob.RoleArn") and
// the file it came from.
func (c *sdkConfig) lookup(path string) (any, string, bool) {
	if c == nil {
		return nil, "", false
	}
	var cur any = c.doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, "", false
		}
		if cur, ok = m[k]; !ok {
			return nil, "", false
		}
	}
	// files are recorded per leaf (lists are leaves); a map has none of its own
	return cur, c.from[path], true
}

// str reads a string at path; a value of another type is an error naming the file.
func (c *sdkConfig) str(path string) (string, string, error) {
	v, file, ok := c.lookup(path)
	if !ok {
		return "", "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", "", usagef("SageMaker config %s: %s: expected a string, got %v", file, path, v)
	}
	return s, file, nil
}

func (c *sdkConfig) boolean(path string) (bool, string, bool, error) {
	v, file, ok := c.lookup(path)
	if !ok {
		return false, "", false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, "", false, usagef("SageMaker config %s: %s: expected true or false, got %v", file, path, v)
	}
	return b, file, true, nil
}

func (c *sdkConfig) strings(path string) ([]string, string, error) {
	v, file, ok := c.lookup(path)
	if !ok {
		return nil, "", nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, "", usagef("SageMaker config %s: %s: expected a list, got %v", file, path, v)
	}
	var out []string
	for i, x := range l {
		s, ok := x.(string)
		if !ok {
			return nil, "", usagef("SageMaker config %s: %s[%d]: expected a string, got %v", file, path, i, x)
		}
		out = append(out, s)
	}
	return out, file, nil
}

// tags reads a Tags list ([{Key, Value}, ...]).
func (c *sdkConfig) tags(path string) ([][2]string, string, error) {
	v, file, ok := c.lookup(path)
	if !ok {
		return nil, "", nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, "", usagef("SageMaker config %s: %s: expected a list of {Key, Value}", file, path)
	}
	var out [][2]string
	for i, x := range l {
		m, ok := x.(map[string]any)
		k, kok := m["Key"].(string)
		val, vok := m["Value"].(string)
		if !ok || !kok || !vok {
			return nil, "", usagef("SageMaker config %s: %s[%d]: expected Key and Value strings", file, path, i)
		}
		out = append(out, [2]string{k, val})
	}
	return out, file, nil
}

// custom reads the launcher's own default NAME from CustomParameters.BlueBlood.NAME.
func (c *sdkConfig) custom(name string) (string, string, error) {
	v, _, ok := c.lookup("CustomParameters")
	if !ok {
		return "", "", nil
	}
	m, _ := v.(map[string]any)
	raw, ok := m[customParamsPrefix+name]
	if !ok {
		return "", "", nil
	}
	s, ok := raw.(string)
	if !ok {
		return "", "", usagef("SageMaker config: CustomParameters.%s%s: expected a string, got %v", customParamsPrefix, name, raw)
	}
	return s, c.from["CustomParameters."+customParamsPrefix+name], nil
}
