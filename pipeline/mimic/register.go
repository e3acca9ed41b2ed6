package mimic

import "github.com/blueblood/blueblood/pipeline"

// The format registers itself; package pipeline/formats imports this package.
func init() { pipeline.RegisterFormat(Format{}) }
