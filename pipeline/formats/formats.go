// Package formats registers every whole-input format (pipeline.Format) with the pipeline.
// Each format lives in its own package and registers itself in its init(); the import
// block below blank-imports them, so adding a format is its package plus one import line
// here. The trainer, the launcher and anything else that calls pipeline.ReadTables or
// pipeline.Prepare import this package once.
package formats

// One line per format package.
import (
	_ "github.com/blueblood/blueblood/pipeline/mimic"
)
