package processing

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// The prepare options travel to the job as ContainerArguments "Path=value", one per
// option that differs from its zero value: Path is the field's Go path in
// pipeline.PrepareOptions ("Seed", "Read.MaxGapHours"), strings are sent as they are and
// everything else as JSON. Deriving them from the struct keeps PrepareOptions the one
// declaration: an option added there (an input format, pairing windows) reaches the job
// without a change here.

// maxArgLen is the API's bound on one ContainerArguments entry.
const maxArgLen = 256

// notSent are the options the job sets itself: its inputs and output are folders of
// the processing contract, and it reads local files only.
var notSent = map[string]bool{"Inputs": true, "Output": true, "Read.S3": true}

// encodeOptions renders the options that differ from the zero value.
func encodeOptions(opt pipeline.PrepareOptions) ([]string, error) {
	var out []string
	err := walk(reflect.ValueOf(opt), "", func(path string, v reflect.Value) error {
		if v.IsZero() {
			return nil
		}
		switch v.Kind() {
		case reflect.Func, reflect.Interface, reflect.Chan, reflect.Pointer, reflect.UnsafePointer:
			return fmt.Errorf("prepare option %s cannot be sent to a processing job", path)
		}
		s, err := encodeValue(v)
		if err != nil {
			return fmt.Errorf("prepare option %s: %w", path, err)
		}
		arg := path + "=" + s
		if len(arg) > maxArgLen {
			return fmt.Errorf("prepare option %s: %d characters, a processing job argument holds at most %d", path, len(arg), maxArgLen)
		}
		out = append(out, arg)
		return nil
	})
	return out, err
}

// walk calls fn for every exported leaf field of v (a struct) not in notSent; nested
// structs are walked, their paths joined with ".".
func walk(v reflect.Value, prefix string, fn func(path string, v reflect.Value) error) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		path := prefix + f.Name
		if notSent[path] {
			continue
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			if err := walk(fv, path+".", fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(path, fv); err != nil {
			return err
		}
	}
	return nil
}

func encodeValue(v reflect.Value) (string, error) {
	if v.Kind() == reflect.String {
		return v.String(), nil
	}
	b, err := json.Marshal(v.Interface())
	return string(b), err
}

// decodeOptions is the inverse of encodeOptions. An unknown path (an image older than
// the launcher) or a value of the wrong type is an error naming the argument.
func decodeOptions(args []string) (pipeline.PrepareOptions, error) {
	var opt pipeline.PrepareOptions
	root := reflect.ValueOf(&opt).Elem()
	for _, arg := range args {
		path, val, ok := strings.Cut(arg, "=")
		if !ok || path == "" {
			return opt, fmt.Errorf("argument %q: expected OPTION=VALUE", arg)
		}
		f, err := field(root, path)
		if err != nil {
			return opt, fmt.Errorf("argument %q: %w", arg, err)
		}
		if f.Kind() == reflect.String {
			f.SetString(val)
			continue
		}
		if err := json.Unmarshal([]byte(val), f.Addr().Interface()); err != nil {
			return opt, fmt.Errorf("argument %q: expected a %s value: %v", arg, f.Type(), err)
		}
	}
	return opt, nil
}

// field finds the settable leaf field at a dotted path.
func field(root reflect.Value, path string) (reflect.Value, error) {
	if notSent[path] {
		return reflect.Value{}, fmt.Errorf("%s is set by the job itself", path)
	}
	v := root
	for _, name := range strings.Split(path, ".") {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, fmt.Errorf("unknown prepare option %s", path)
		}
		sf, ok := v.Type().FieldByName(name)
		if !ok || !sf.IsExported() || len(sf.Index) != 1 {
			return reflect.Value{}, fmt.Errorf("unknown prepare option %s (is the image older than the launcher?)", path)
		}
		v = v.Field(sf.Index[0])
	}
	switch v.Kind() {
	case reflect.Struct, reflect.Func, reflect.Interface, reflect.Chan, reflect.Pointer, reflect.UnsafePointer:
		return reflect.Value{}, fmt.Errorf("prepare option %s cannot be set by an argument", path)
	}
	return v, nil
}
