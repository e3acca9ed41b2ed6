//go:build openblas

package model

// Built with -tags openblas, gorgonia's matrix products go through OpenBLAS (cgo, Debian's
// libopenblas-dev) instead of gonum's pure-Go BLAS; see README "Speed" for the static
// link flags. OPENBLAS_NUM_THREADS controls its threads.

/*
#cgo LDFLAGS: -lopenblas -lm -lpthread
*/
import "C"

import (
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// BLASBackend names the BLAS implementation this binary was built with.
const BLASBackend = "openblas"

func init() {
	// a build-time choice made once before any graph exists, not mutable state
	G.Use(netlib.Implementation{})
}
