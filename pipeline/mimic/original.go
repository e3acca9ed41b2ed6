package mimic

import "errors"

// pairOriginal reproduces the original final table's rule (see original_rule.go).
func (rd *reader) pairOriginal() ([]slot, error) {
	return nil, errors.New("pairing original: not implemented yet")
}
