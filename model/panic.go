package model

import (
	"fmt"
	"runtime/debug"
)

// PanicError is a panic recovered on a goroutine the caller did not start (a worker of
// parallelFor, a cross-validation fold), turned into an error so it reaches the caller's
// failure handling instead of ending the process. Stack is for the log, never for a
// failure reason.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("internal error: %v", e.Value) }

// Recover, deferred first in a goroutine, stores a panic in *err as a *PanicError.
func Recover(err *error) {
	if r := recover(); r != nil {
		*err = &PanicError{Value: r, Stack: debug.Stack()}
	}
}
