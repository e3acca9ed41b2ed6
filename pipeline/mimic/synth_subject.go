package mimic

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
)

// synthRx is one generated prescription, kept for the subject's lab values.
type synthRx struct {
	start int64
	drug  int
	dose  string
	hadm  int64
}

// subject writes one subject's admissions, ICU stays, prescriptions and labs.
func (g *synthGen) subject(s int, labRows float64) error {
	// admissions and prescriptions come from the subject's own stream, so that more lab
	// rows (LabRows) change only the labs
	r := rand.New(rand.NewPCG(uint64(g.opt.Seed), uint64(s)))
	sub := int64(10000000 + s)
	if !g.iv {
		sub = int64(100 + s)
	}
	nAdm := 1 + r.IntN(2)
	base := daysFromCivil(2110, 1, 1)*day + int64(r.IntN(60*365))*day
	panels := max(1, int(math.Round(labRows/float64(nAdm)/18.3))) // about 18.3 rows a panel
	kBase := 4.1 + r.NormFloat64()*0.3
	for a := 0; a < nAdm; a++ {
		g.hadm++
		hadm := int64(20000000 + g.hadm)
		admit := base + int64(a)*int64(120+r.IntN(300))*day + int64(r.IntN(24*60))*60
		disch := admit + int64(2+r.IntN(7))*day + int64(r.IntN(24*60))*60
		g.info.Admissions++
		g.admission(sub, hadm, admit, disch)
		// prescription groups
		var rxs []synthRx
		for k, n := 0, 3+r.IntN(6); k < n; k++ {
			start := admit + int64(r.IntN(int((disch-admit)/hour)))*hour
			if !g.iv {
				start -= start % day
			}
			for d, nd := 0, 1+r.IntN(5); d < nd; d++ {
				drug := r.IntN(len(synthDrugs))
				dr := synthDrugs[drug]
				rxs = append(rxs, synthRx{start: start, drug: drug, dose: dr.doses[r.IntN(len(dr.doses))], hadm: hadm})
			}
		}
		for _, x := range rxs {
			g.prescription(sub, x)
		}
		// lab panels: inside the admission, plus some outpatient ones before it
		times := make([]int64, panels)
		r := g.rng
		for k := range times {
			times[k] = admit + r.Int64N(disch-admit)
			if r.IntN(10) == 0 {
				times[k] = admit - int64(1+r.IntN(30))*day
			}
			times[k] -= times[k] % 60
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		for k, t := range times {
			h := hadm
			if t < admit {
				h = 0
			}
			g.panel(sub, h, t, k%4 == 0, kBase+kclEffect(rxs, t))
		}
	}
	return nil
}

// kclEffect is the potassium rise at t from potassium chloride given 1 to 24 h before.
func kclEffect(rxs []synthRx, t int64) float64 {
	e := 0.0
	for _, x := range rxs {
		if synthDrugs[x.drug].name != "Potassium Chloride" || t-x.start < hour || t-x.start > 24*hour {
			continue
		}
		v, _, ok := parseDose(x.dose)
		if ok {
			e += synthKClEffect * v / 20
		}
	}
	return e
}

func (g *synthGen) admission(sub, hadm, admit, disch int64) {
	b := g.buf[:0]
	if !g.iv {
		b = strconv.AppendInt(b, hadm-20000000, 10)
		b = append(b, ',')
	}
	b = strconv.AppendInt(b, sub, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, hadm, 10)
	b = append(b, ',')
	b = appendTime(b, admit, false, ' ')
	b = append(b, ',')
	b = appendTime(b, disch, false, ' ')
	b = append(b, ",,EMERGENCY\n"...)
	g.adm.w.Write(b)
	g.stay++
	b = b[:0]
	if !g.iv {
		b = strconv.AppendInt(b, g.stay, 10)
		b = append(b, ',')
	}
	b = strconv.AppendInt(b, sub, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, hadm, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, 30000000+g.stay, 10)
	if !g.iv {
		b = append(b, ",metavision"...)
	}
	b = append(b, ",MICU,MICU,"...)
	b = appendTime(b, admit+2*hour, false, ' ')
	b = append(b, ',')
	b = appendTime(b, admit+50*hour, false, ' ')
	b = append(b, ",2.0\n"...)
	g.icu.w.Write(b)
	g.buf = b
}

func (g *synthGen) prescription(sub int64, x synthRx) {
	d := synthDrugs[x.drug]
	g.rxID++
	g.info.Prescriptions++
	b := g.buf[:0]
	if g.iv {
		// subject_id,hadm_id,pharmacy_id,poe_id,poe_seq,order_provider_id,starttime,stoptime,drug_type,drug,
		// formulary_drug_cd,gsn,ndc,prod_strength,form_rx,dose_val_rx,dose_unit_rx,form_val_disp,form_unit_disp,doses_per_24_hrs,route
		b = strconv.AppendInt(b, sub, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, x.hadm, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, g.rxID, 10)
		b = append(b, ",,,P1,"...)
		b = rxCells(b, x, d, ",,,,,,", ",,,,")
	} else {
		// row_id,subject_id,hadm_id,icustay_id,startdate,enddate,drug_type,drug,drug_name_poe,drug_name_generic,
		// formulary_drug_cd,gsn,ndc,prod_strength,dose_val_rx,dose_unit_rx,form_val_disp,form_unit_disp,route
		b = strconv.AppendInt(b, g.rxID, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, sub, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, x.hadm, 10)
		b = append(b, ",,"...)
		b = rxCells(b, x, d, ",,,,,,,", ",,,")
	}
	b = append(b, '\n')
	g.rx.w.Write(b)
	g.buf = b
}

// rxCells appends a prescription's cells from its start time to its route: a day's
// order of drug, dose and unit; toDose and toRoute are the empty columns each version
// has before the dose and the route.
func rxCells(b []byte, x synthRx, d synthDrug, toDose, toRoute string) []byte {
	b = appendTime(b, x.start, false, ' ')
	b = append(b, ',')
	b = appendTime(b, x.start+day, false, ' ')
	b = append(b, ",MAIN,"...)
	b = csvText(b, d.name)
	b = append(b, toDose...)
	b = csvText(b, x.dose)
	b = append(b, ',')
	b = append(b, d.unit...)
	b = append(b, toRoute...)
	return append(b, d.route...)
}

// panel writes one blood draw: the chemistry panel and blood count, and with bloodGas
// an arterial blood gas (its specimen row has a text value only).
func (g *synthGen) panel(sub, hadm, t int64, bloodGas bool, potassium float64) {
	r := g.rng
	spec := int64(r.Int32())
	for _, l := range synthLabs {
		if (l.bloodGas && !bloodGas) || r.IntN(20) == 0 { // a twentieth of the values are not measured
			continue
		}
		v := l.mean + r.NormFloat64()*l.sd
		if l.id == 50971 || l.id == 50822 {
			v = potassium + r.NormFloat64()*0.25
		}
		if l.id != 50802 {
			v = math.Max(v, l.mean/20)
		}
		text := strconv.FormatFloat(v, 'f', l.decimals, 64)
		g.lab1(sub, hadm, spec, l.id, t, text, text, l.unit)
	}
	if bloodGas {
		g.lab1(sub, hadm, spec, 50800, t, "ART.", "", "")
		g.lab1(sub, hadm, spec, 50812, t, "INTUBATED", "", "")
	}
}

func (g *synthGen) lab1(sub, hadm, spec, item, t int64, value, valuenum, unit string) {
	g.labID++
	g.info.LabRows++
	b := g.buf[:0]
	b = strconv.AppendInt(b, g.labID, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, sub, 10)
	b = append(b, ',')
	if hadm != 0 {
		b = strconv.AppendInt(b, hadm, 10)
	}
	b = append(b, ',')
	if g.iv {
		b = strconv.AppendInt(b, spec, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, item, 10)
		b = append(b, ",P2,"...)
		b = appendTime(b, t, false, ' ')
		b = append(b, ',')
		b = appendTime(b, t+40*60, false, ' ')
	} else {
		b = strconv.AppendInt(b, item, 10)
		b = append(b, ',')
		b = appendTime(b, t, false, ' ')
	}
	b = append(b, ',')
	b = append(b, value...)
	b = append(b, ',')
	b = append(b, valuenum...)
	b = append(b, ',')
	b = append(b, unit...)
	if g.iv {
		b = append(b, ",,,,ROUTINE,"...)
		if g.labID%997 == 0 {
			b = csvText(b, "verified, \"repeat\"\nsee ___")
		}
	} else {
		b = append(b, ',')
	}
	b = append(b, '\n')
	g.lab.w.Write(b)
	g.buf = b
}
