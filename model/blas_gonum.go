//go:build !openblas

package model

// BLASBackend names the BLAS implementation this binary was built with: gonum's pure-Go
// BLAS by default, OpenBLAS with -tags openblas.
const BLASBackend = "gonum"

// BLASInfo describes the BLAS in use.
func BLASInfo() string { return "gonum (pure Go)" }
