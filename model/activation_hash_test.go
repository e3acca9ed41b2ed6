package model

import "testing"

// TestFusedActivationsHashApart: sigmoid, tanh and relu, and their gradients, each have
// their own Hashcode, different from the gorgonia templates they borrow inference from.
func TestFusedActivationsHashApart(t *testing.T) {
	unary, binary, err := templates()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint32]string{unary.Hashcode(): "template " + unary.String(), binary.Hashcode(): "template " + binary.String()}
	for _, act := range []activation{actSigmoid, actTanh, actReLU} {
		for _, op := range []interface {
			Hashcode() uint32
			String() string
		}{actOp{Op: unary, act: act}, actGradOp{Op: binary, act: act}} {
			h := op.Hashcode()
			if other, dup := seen[h]; dup {
				t.Errorf("%s hashes like %s (%#x)", op.String(), other, h)
			}
			seen[h] = op.String()
		}
	}
}
