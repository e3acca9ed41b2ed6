//go:build openblas

package main

import (
	"os"
	"syscall"
)

// chooseBLASKernel re-executes the trainer with OPENBLAS_CORETYPE set from the CPU's
// features when it is unset (see coreTypeFor): OpenBLAS has already initialised by the
// time any Go code runs, so only a fresh start can change its kernel. A value set by the
// user is kept. If the exec fails the trainer carries on with OpenBLAS's own choice.
func chooseBLASKernel() {
	if _, set := os.LookupEnv("OPENBLAS_CORETYPE"); set {
		return
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return
	}
	core := coreTypeFor(cpuFlags(string(info)))
	if core == "" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	_ = syscall.Exec(exe, os.Args, append(os.Environ(), "OPENBLAS_CORETYPE="+core))
}
