//go:build !openblas

package main

// chooseBLASKernel has nothing to choose in the pure-Go build.
func chooseBLASKernel() {}
