package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCoreTypeFromCPUFeatures(t *testing.T) {
	tests := []struct {
		name, flags, want string
	}{
		// a cloud Xeon whose model name the hypervisor hides: the features still say AVX-512
		{"avx-512", "fpu sse4_2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl", "SkylakeX"},
		{"avx-512 with bfloat16", "sse4_2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16", "Cooperlake"},
		{"avx-512 foundation only", "sse4_2 avx avx2 fma avx512f", "Haswell"},
		{"avx2", "sse4_2 avx avx2 fma", "Haswell"},
		{"avx2 without fma", "sse4_2 avx avx2", "Sandybridge"},
		{"avx", "sse4_2 avx", "Sandybridge"},
		{"sse4.2", "sse sse2 sse4_1 sse4_2", "Nehalem"},
		{"older", "sse sse2", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: " + tc.flags + "\nbugs\t\t: spectre_v1\n\nprocessor\t: 1\nflags\t\t: sse\n"
			if got := coreTypeFor(cpuFlags(info)); got != tc.want {
				t.Errorf("flags %q: core type %q, want %q", tc.flags, got, tc.want)
			}
		})
	}
	if got := cpuFlags("model name\t: x\n"); len(got) != 0 {
		t.Errorf("no flags line gave %v", got)
	}
}

func TestStartupLine(t *testing.T) {
	var b bytes.Buffer
	logStartup(&b)
	line := b.String()
	for _, want := range []string{"cores (GOMAXPROCS)", "data-parallel shards", "tapes run on the calling goroutine", "BLAS "} {
		if !strings.Contains(line, want) {
			t.Errorf("startup line %q lacks %q", line, want)
		}
	}
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Errorf("startup line %q is not one line", line)
	}
}
