//go:build notapedirect || cuda

package model

import G "gorgonia.org/gorgonia"

// The plain path, without tapedirect.go's linkname into gorgonia: built with the tag
// notapedirect (when a gorgonia upgrade breaks the linkname) and with cuda.

// TapeInfo says how graphs are run, for the trainer's startup line.
func TapeInfo() string { return "tapes run through gorgonia's RunAll (built without the direct path)" }

// runTape runs vm's whole program once.
func runTape(vm G.VM) error { return vm.RunAll() }
