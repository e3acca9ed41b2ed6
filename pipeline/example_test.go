package pipeline_test

import (
	"fmt"

	"github.com/blueblood/blueblood/pipeline"
)

func ExampleParseEmbedding() {
	v, err := pipeline.ParseEmbedding("[ 0.35 -0.12\n  1e-3, 4 ]")
	fmt.Println(v, err)
	_, err = pipeline.ParseEmbedding("[0.1 x]")
	fmt.Println(err)
	// Output:
	// [0.35 -0.12 0.001 4] <nil>
	// embedding value 1: expected a number, got "x"
}

func ExampleLimitRows() {
	group := pipeline.Sample{Subject: "10013", Start: "2125-10-05",
		Doses: make([]float32, 42), Units: make([]string, 42), Embeddings: make([][]float32, 42)}
	truncated, n, _ := pipeline.LimitRows([]pipeline.Sample{group}, 20, pipeline.PolicyTruncate)
	fmt.Println(n, len(truncated), truncated[0].NumRx())
	parts, _, _ := pipeline.LimitRows([]pipeline.Sample{group}, 20, pipeline.PolicySplit)
	for _, p := range parts {
		fmt.Println(p.Start, p.NumRx())
	}
	// Output:
	// 1 1 20
	// 2125-10-05#1 14
	// 2125-10-05#2 14
	// 2125-10-05#3 14
}
