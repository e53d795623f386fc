package sdkapps

import (
	"context"
	"testing"

	"github.com/inkflow/inkflow/bench"
	"github.com/inkflow/inkflow/internal/testdb"
)

// TestSDKBenchScenarios runs `inkflow bench`'s sdk-* scenarios once at small sizes, so the
// benchmark code itself is tested (the figures are the benchmark's business).
func TestSDKBenchScenarios(t *testing.T) {
	t.Parallel()
	bin := buildGoApp(t)
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var got []bench.Result
		sizes := bench.Sizes{OneStep: 40, TenStep: 10}
		if err := bench.RunSDK(context.Background(), db.DB, db.URL, []string{bin}, sizes, func(r bench.Result) { got = append(got, r) }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(bench.SDKScenarios) {
			t.Fatalf("%d results: %+v", len(got), got)
		}
		for i, r := range got {
			if r.Scenario != bench.SDKScenarios[i] || r.Runs == 0 || r.StepsPerS <= 0 {
				t.Errorf("result %d = %+v", i, r)
			}
		}
	})
}
