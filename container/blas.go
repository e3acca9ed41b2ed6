package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/blueblood/blueblood/model"
)

// OpenBLAS kernels by CPU feature. OpenBLAS chooses its kernel when the library
// initialises, before main, from the CPU's model; a hypervisor that hides the model makes
// it fall back to a generic kernel (2.2x slower at batch 128 on an AVX-512 Xeon). The
// OpenBLAS build therefore decides from the features the CPU reports instead
// (blas_openblas.go).

// coreTypeFor maps CPU feature flags, as /proc/cpuinfo lists them, to an
// OPENBLAS_CORETYPE; "" leaves the choice to OpenBLAS.
func coreTypeFor(flags map[string]bool) string {
	switch {
	case flags["avx512f"] && flags["avx512bw"] && flags["avx512vl"] && flags["avx512dq"] && flags["avx512cd"]:
		if flags["avx512_bf16"] {
			return "Cooperlake" // SkylakeX's kernels plus bfloat16
		}
		return "SkylakeX"
	case flags["avx2"] && flags["fma"]:
		return "Haswell"
	case flags["avx"]:
		return "Sandybridge"
	case flags["sse4_2"]:
		return "Nehalem"
	}
	return ""
}

// cpuFlags returns the feature flags of the first processor in a /proc/cpuinfo text.
func cpuFlags(cpuinfo string) map[string]bool {
	flags := map[string]bool{}
	for _, line := range strings.Split(cpuinfo, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) != "flags" {
			continue
		}
		for _, f := range strings.Fields(value) {
			flags[f] = true
		}
		break
	}
	return flags
}

// logStartup writes the trainer's first log line: cores, data-parallel shards, how tapes
// run and BLAS.
func logStartup(w io.Writer) {
	blas := model.BLASInfo()
	if v, ok := os.LookupEnv("OPENBLAS_CORETYPE"); ok && model.BLASBackend == "openblas" {
		blas += " (OPENBLAS_CORETYPE=" + v + ")"
	}
	fmt.Fprintf(w, "trainer: %d cores (GOMAXPROCS); %s; %s; BLAS %s\n",
		runtime.GOMAXPROCS(0), model.ShardInfo(), model.TapeInfo(), blas)
}
