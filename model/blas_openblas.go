//go:build openblas

package model

// Built with -tags openblas, gorgonia's matrix products go through OpenBLAS (cgo, Debian's
// libopenblas-dev) instead of gonum's pure-Go BLAS; see README "Speed" for the static
// link flags. OPENBLAS_NUM_THREADS controls its threads and OPENBLAS_CORETYPE its kernel,
// both read when the library initialises, before main.

/*
#cgo LDFLAGS: -lopenblas -lm -lpthread
char* openblas_get_corename(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
*/
import "C"

import (
	"os"
	"strconv"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// BLASBackend names the BLAS implementation this binary was built with.
const BLASBackend = "openblas"

func init() {
	// a build-time choice made once before any graph exists, not mutable state
	G.Use(netlib.Implementation{})
	// gonum's matrices and LAPACK (the ridge baseline's Gram matrices and Cholesky
	// factorisations) through OpenBLAS as well
	blas64.Use(netlib.Implementation{})
	// The cores run data-parallel shards (shard.go), so each product gets one BLAS thread
	// unless the environment says otherwise: with GOMAXPROCS=2 on 2 cores, 2 OpenBLAS
	// threads measured 1.3-2.3x slower at batch 128 than 1, and no faster at batch 32
	// (README, "Speed").
	for _, v := range []string{"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"} {
		if _, set := os.LookupEnv(v); set {
			return
		}
	}
	C.openblas_set_num_threads(1)
}

// BLASInfo describes the BLAS in use: the backend, OpenBLAS's kernel and its threads.
func BLASInfo() string {
	return "openblas, kernel " + C.GoString(C.openblas_get_corename()) + ", " +
		strconv.Itoa(int(C.openblas_get_num_threads())) + " thread(s)"
}
