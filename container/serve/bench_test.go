package serve_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/serve"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// The original tables' 25 analytes, so the benchmark model has the production shape.
var fullAnalytes = []string{"ph", "pco2", "po2", "bicarbonate", "baseexcess", "totalco2", "hematocrit",
	"hemoglobin", "sodium", "potassium", "chloride", "glucose", "lactate", "so2", "spo2", "fio2_chartevents",
	"aado2_calc", "pao2fio2", "temperature", "fio2", "aado2", "carboxyhemoglobin", "methemoglobin", "calcium", "intubated"}

// fullUnits are unit codes as the final table writes them.
var fullUnits = []string{"3", "7", "12"}

// productionModel saves an untrained model of the default size (25 analytes, 128-wide
// embeddings, 64 LSTM and encoder units): prediction costs the same trained or not.
func productionModel(b testing.TB, arch string) string {
	b.Helper()
	layout := pipeline.Layout{Analytes: fullAnalytes, EmbeddingDim: 128, BlockRows: 20, BlockFeatures: 130}
	r := rand.New(rand.NewPCG(5, 5))
	var samples []pipeline.Sample
	for i := 0; i < 16; i++ {
		s := pipeline.Sample{Subject: fmt.Sprint(i)}
		for range fullAnalytes {
			s.Pre = append(s.Pre, float32(r.NormFloat64()))
			s.PreObserved = append(s.PreObserved, true)
			s.Post = append(s.Post, float32(r.NormFloat64()))
			s.PostObserved = append(s.PostObserved, true)
		}
		s.Embeddings = [][]float32{make([]float32, 128)}
		s.Doses = []float32{float32(r.IntN(100))}
		s.Units = []string{fullUnits[i%len(fullUnits)]}
		samples = append(samples, s)
	}
	sc, err := pipeline.FitScaler(samples, layout)
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.New(model.Config{Architecture: arch, LSTMUnits: 64, EncoderUnits: 64, DropoutRate: 0.2, Layout: layout}, sc, 1)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := m.Save(dir); err != nil {
		b.Fatal(err)
	}
	return dir
}

// requestBody is a JSON request of n cases, each with rx prescriptions and every pre value.
func requestBody(n, rx int) []byte {
	r := rand.New(rand.NewPCG(9, 9))
	type rxJSON struct {
		Embedding []float32 `json:"embedding"`
		Dose      float32   `json:"dose"`
		Unit      string    `json:"unit"`
	}
	type caseJSON struct {
		ID            string             `json:"id"`
		Pre           map[string]float32 `json:"pre"`
		Prescriptions []rxJSON           `json:"prescriptions"`
	}
	var cases []caseJSON
	for i := 0; i < n; i++ {
		c := caseJSON{ID: fmt.Sprint(i), Pre: map[string]float32{}}
		for _, a := range fullAnalytes {
			c.Pre[a] = float32(r.NormFloat64())
		}
		for k := 0; k < rx; k++ {
			e := make([]float32, 128)
			for d := range e {
				e[d] = float32(r.NormFloat64())
			}
			c.Prescriptions = append(c.Prescriptions, rxJSON{Embedding: e, Dose: float32(r.IntN(500)), Unit: "7"})
		}
		cases = append(cases, c)
	}
	b, _ := json.Marshal(map[string]any{"cases": cases})
	return b
}

// BenchmarkInvocations is the loopback load test: clients post JSON invocations to a
// server holding a production-size model (one client at a time, and 8 at once on this
// 2-CPU machine). It reports requests and cases per second and latency percentiles over
// all requests of the run.
//
//	go test -run '^$' -bench Invocations -benchtime 5s ./container/serve/
func BenchmarkInvocations(b *testing.B) {
	for _, arch := range []string{model.ArchPooledResidual, model.ArchSeed} {
		dir := productionModel(b, arch)
		for _, bc := range []struct {
			name             string
			cases, rx, conns int
		}{
			{"1case-6rx-1client", 1, 6, 1},
			{"1case-6rx-8clients", 1, 6, 8},
			{"32cases-6rx-8clients", 32, 6, 8},
		} {
			b.Run(arch+"/"+bc.name, func(b *testing.B) {
				ts := startServer(b, serve.LoadDir(dir))
				waitReady(b, ts.url)
				body := requestBody(bc.cases, bc.rx)
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: bc.conns}}
				defer client.CloseIdleConnections()
				lat := make([]time.Duration, b.N)
				var next atomic.Int64
				var wg sync.WaitGroup
				b.SetBytes(int64(len(body)))
				b.ResetTimer()
				start := time.Now()
				for range bc.conns {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := int(next.Add(1)) - 1
							if i >= b.N {
								return
							}
							t0 := time.Now()
							resp, err := client.Post(ts.url+"/invocations", "application/json", bytes.NewReader(body))
							if err != nil {
								b.Error(err)
								return
							}
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != http.StatusOK {
								b.Errorf("status %d", resp.StatusCode)
								return
							}
							lat[i] = time.Since(t0)
						}
					}()
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				pct := func(p float64) float64 {
					return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
				b.ReportMetric(float64(b.N*bc.cases)/elapsed.Seconds(), "cases/s")
				b.ReportMetric(pct(0.50), "p50-ms")
				b.ReportMetric(pct(0.99), "p99-ms")
			})
		}
	}
}
