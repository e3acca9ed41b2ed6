package trainer

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/model"
)

// TestLinearBaseSpecsMatchModel: the hyperparameter specs state the model's own bounds
// (hparams cannot import model: model's tests import hparams).
func TestLinearBaseSpecsMatchModel(t *testing.T) {
	ld, _ := hparams.Lookup("learned_drugs")
	if ld.Max != model.MaxDrugs || !strings.Contains(ld.Doc, "at least "+strconv.Itoa(model.MinDrugSubjects)+" each") {
		t.Errorf("learned_drugs: max %v, doc %q; the model allows %d drugs of %d subjects at least", ld.Max, ld.Doc, model.MaxDrugs, model.MinDrugSubjects)
	}
	lb, _ := hparams.Lookup("linear_base")
	if !slices.Equal(lb.Values, model.LinearBases) {
		t.Errorf("linear_base values %q, the model's %q", lb.Values, model.LinearBases)
	}
}
