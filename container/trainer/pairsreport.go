package trainer

import "github.com/blueblood/blueblood/pipeline"

// writePairs adds report.md's lines on how native MIMIC tables were paired: the
// settings, then per analyte the groups with a value before and after and their gaps.
func writePairs(pf func(string, ...any), p *pipeline.PairReport) {
	if p == nil {
		return
	}
	w := p.Pairing
	adm := "the prescription's admission"
	if w.AnyAdmission {
		adm = "any admission"
	}
	if w.Mode == pipeline.PairingOriginal {
		pf("- native %s tables paired by the original rule (first-day arterial blood gases, the latest before and the first after the date, any distance)\n", p.Format)
	} else {
		pf("- native %s tables paired within windows: pre within %g h before the start, post %g to %g h after, from %s; %d of %d groups had a pair\n",
			p.Format, w.PreWindowHours, w.MinLagHours, w.PostWindowHours, adm, p.GroupsFormed-p.GroupsDropped, p.GroupsFormed)
	}
	pf("\n| analyte | unit | groups with a pair | subjects | pre gap h (median / 90%% / max) | post gap h (median / 90%% / max) |\n|---|---|---|---|---|---|\n")
	for _, a := range p.Analytes {
		pf("| %s | %s | %d | %d | %.1f / %.1f / %.1f | %.1f / %.1f / %.1f |\n", a.Analyte, a.Unit, a.Pairs, a.PairSubjects,
			a.PreHours.Median, a.PreHours.P90, a.PreHours.Max, a.PostHours.Median, a.PostHours.P90, a.PostHours.Max)
	}
	pf("\n")
}
