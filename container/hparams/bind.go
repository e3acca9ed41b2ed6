package hparams

import (
	"fmt"
	"reflect"
	"strconv"
)

// Decode sets, for every spec, the field of the struct dst points to that Spec.Field
// names (promoted fields of embedded structs count) from plain, a complete set as Parse
// returns it. Int specs need an integer field, Float specs a float field and Enum specs
// a string field; a missing or mistyped field is a programming error reported here.
func Decode(plain map[string]string, dst any) error {
	return decode(Specs, plain, dst)
}

// Encode reads every spec's field from the struct src points to (or is) and returns the
// values in plain form, the flat map hyperparameters.json holds.
func Encode(src any) map[string]string {
	out, err := encode(Specs, src)
	if err != nil {
		panic(err) // the same binding Decode checked; only a programming error gets here
	}
	return out
}

func decode(specs []Spec, plain map[string]string, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("hparams: Decode needs a pointer to a struct, got %T", dst)
	}
	for _, s := range specs {
		f, err := bound(rv.Elem(), s)
		if err != nil {
			return err
		}
		v, ok := plain[s.Name]
		if !ok {
			return fmt.Errorf("hyperparameter %s: no value", s.Name)
		}
		switch s.Kind {
		case Int:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || f.OverflowInt(n) {
				return fmt.Errorf("hyperparameter %s=%q: expected an integer", s.Name, v)
			}
			f.SetInt(n)
		case Float:
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Errorf("hyperparameter %s=%q: expected a number", s.Name, v)
			}
			f.SetFloat(x)
		default:
			f.SetString(v)
		}
	}
	return nil
}

func encode(specs []Spec, src any) (map[string]string, error) {
	rv := reflect.Indirect(reflect.ValueOf(src))
	if rv.Kind() != reflect.Struct {
		return nil, fmt.Errorf("hparams: Encode needs a struct, got %T", src)
	}
	out := make(map[string]string, len(specs))
	for _, s := range specs {
		f, err := bound(rv, s)
		if err != nil {
			return nil, err
		}
		switch s.Kind {
		case Int:
			out[s.Name] = strconv.FormatInt(f.Int(), 10)
		case Float:
			out[s.Name] = strconv.FormatFloat(f.Float(), 'g', -1, f.Type().Bits())
		default:
			out[s.Name] = f.String()
		}
	}
	return out, nil
}

// bound finds s's field in v and checks that its type fits s.Kind.
func bound(v reflect.Value, s Spec) (reflect.Value, error) {
	sf, ok := v.Type().FieldByName(s.Field)
	if s.Field == "" || !ok || !sf.IsExported() {
		return reflect.Value{}, fmt.Errorf("hparams: %s binds to field %q, which %s lacks", s.Name, s.Field, v.Type())
	}
	f := v.FieldByIndex(sf.Index)
	var fits bool
	switch s.Kind {
	case Int:
		fits = f.CanInt()
	case Float:
		fits = f.CanFloat()
	default:
		fits = f.Kind() == reflect.String
	}
	if !fits {
		return reflect.Value{}, fmt.Errorf("hparams: %s is %s but field %s.%s is %s", s.Name, s.Kind, v.Type(), s.Field, f.Type())
	}
	return f, nil
}
