package neti

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/nn"
	"github.com/org/neti/internal/tensortest"
)

// mapperTolerance: the mapper runs in float32 on both sides. The Fourier arguments W·x reach ~100 rad
// (t up to 999 × σ_t-scaled weights), where one float32 ulp of the argument is ~8e-6, so sin/cos (and
// the features, ÷√F) may differ by a few 1e-7; the LayerNorms and the final normalisation keep the outputs
// O(1), and the observed max |Δ| is about 1e-6, so 1e-5 has a margin while catching any real deviation
// (a wrong unit, sign, scale or ordering moves values by > 1e-2).
const mapperTolerance = 1e-5

var (
	netiFixtures      = filepath.Join("testdata", "reference", "neti")
	fixtureKs         = []int{32, 0, 1, 16, 31}
	fixtureModes      = []NormalizeMode{NormalizeWord, NormalizeConcat}
	mapperFixturePath = filepath.Join(netiFixtures, "mapper.safetensors")
)

// fixtureConfig is the reduced mapper of tools/reference/neti_reference.py (CFG there).
func fixtureConfig(t testing.TB, meta map[string]string, mode NormalizeMode, bypass bool) MapperConfig {
	t.Helper()
	var c struct {
		NumLayers    int     `json:"num_layers"`
		NumTimesteps int     `json:"num_timesteps"`
		TextWidth    int     `json:"text_width"`
		Hidden       int     `json:"hidden"`
		TimeAnchors  int     `json:"time_anchors"`
		NumFourier   int     `json:"num_fourier"`
		SigmaT       float64 `json:"sigma_t"`
		SigmaL       float64 `json:"sigma_l"`
		TargetNorm   float64 `json:"target_norm"`
	}
	require.NoError(t, json.Unmarshal([]byte(meta["config"]), &c))
	return MapperConfig{NumLayers: c.NumLayers, NumTimesteps: c.NumTimesteps, TextWidth: c.TextWidth,
		Hidden: c.Hidden, TimeAnchors: c.TimeAnchors, NumFourier: c.NumFourier, SigmaT: c.SigmaT,
		SigmaL: c.SigmaL, Bypass: bypass, Normalize: mode, TargetNorm: c.TargetNorm, Seed: 7}
}

// fixtureConcept builds a concept holding the Python reference's weights (with its no-bypass head when
// bypass is false).
func fixtureConcept(t testing.TB, ref map[string]*tensors.Tensor, meta map[string]string, mode NormalizeMode, bypass bool) *Concept {
	t.Helper()
	c, err := NewConcept(fixtureConfig(t, meta, mode, bypass))
	require.NoError(t, err)
	ws := make(map[string]*tensors.Tensor)
	for name := range expectedShapes(c.Mapper) {
		src := name
		if !bypass && strings.HasPrefix(name, "output_layer.") {
			src = "nobypass." + name
		}
		require.Contains(t, ref, src)
		ws[name] = ref[src]
	}
	require.NoError(t, c.SetWeights(ws))
	return c
}

// intsOf converts a float tensor of whole numbers to ints.
func intsOf(t testing.TB, x *tensors.Tensor) []int {
	t.Helper()
	v, err := tensortest.Float64s(x)
	require.NoError(t, err)
	out := make([]int, len(v))
	for i, f := range v {
		out[i] = int(f)
	}
	return out
}

// runMapper evaluates c's mapper with per-row truncations keep, returning word and bypass (nil without).
func runMapper(t testing.TB, c *Concept, ts, ls *tensors.Tensor, keep []int32) (word, bypass *tensors.Tensor) {
	t.Helper()
	ctx := context.New()
	require.NoError(t, c.loadInto(ctx, dtypes.Float32))
	cfg := c.Mapper
	exec, err := context.NewExec(testBackend(t), ctx.Reuse(), func(ctx *context.Context, ts, ls, keep *graph.Node) []*graph.Node {
		w, b := mapper(ctx, &cfg, ts, ls, keep)
		if b == nil {
			return []*graph.Node{w}
		}
		return []*graph.Node{w, b}
	})
	require.NoError(t, err)
	out, err := exec.Exec(ts, ls, tensors.FromFlatDataAndDimensions(keep, len(keep)))
	require.NoError(t, err)
	if len(out) == 2 {
		return out[0], out[1]
	}
	return out[0], nil
}

// TestMapperParity compares the mapper with the independent torch implementation on a (t, ℓ) grid for
// both normalisation modes, uniform truncations (through EmbedBatch) and per-row truncations.
func TestMapperParity(t *testing.T) {
	ref, meta := tensortest.LoadFixture(t, mapperFixturePath)
	ts, ls := intsOf(t, ref["inputs.t"]), intsOf(t, ref["inputs.l"])
	n := len(ts)
	for _, mode := range fixtureModes {
		c := fixtureConcept(t, ref, meta, mode, true)
		d := c.Mapper.TextWidth
		worst := 0.0
		for _, k := range fixtureKs {
			words, bypass, err := c.EmbedBatch(ts, ls, k)
			require.NoError(t, err)
			name := fmt.Sprintf("out.%s.k%d", mode, k)
			tensortest.AllClose(t, ref[name+".word"], tensors.FromFlatDataAndDimensions(words, n, d), mapperTolerance, name)
			tensortest.AllClose(t, ref[name+".bypass"], tensors.FromFlatDataAndDimensions(bypass, n, d), mapperTolerance, name)
			worst = math.Max(worst, maxAbs(t, ref[name+".word"], words))
			worst = math.Max(worst, maxAbs(t, ref[name+".bypass"], bypass))
		}
		keep := tensors.MustCopyFlatData[int32](ref["inputs.keep_rows"])
		word, bypass := runMapper(t, c, ref["inputs.t"], ref["inputs.l"], keep)
		tensortest.AllClose(t, ref["out."+string(mode)+".rows.word"], word, mapperTolerance, "per-row truncations")
		tensortest.AllClose(t, ref["out."+string(mode)+".rows.bypass"], bypass, mapperTolerance, "per-row truncations")
		t.Logf("mode %s: max |Δ| over %d rows × %d truncations = %.3g", mode, n, len(fixtureKs), worst)
	}
}

// TestMapperNoBypassParity checks the mapper without the bypass head (word only, TextWidth outputs).
func TestMapperNoBypassParity(t *testing.T) {
	ref, meta := tensortest.LoadFixture(t, mapperFixturePath)
	ts, ls := intsOf(t, ref["inputs.t"]), intsOf(t, ref["inputs.l"])
	c := fixtureConcept(t, ref, meta, NormalizeWord, false)
	for _, k := range fixtureKs {
		words, bypass, err := c.EmbedBatch(ts, ls, k)
		require.NoError(t, err)
		assert.Nil(t, bypass, "no bypass output without the bypass head")
		name := fmt.Sprintf("out.nobypass.k%d.word", k)
		tensortest.AllClose(t, ref[name], tensors.FromFlatDataAndDimensions(words, len(ts), c.Mapper.TextWidth),
			mapperTolerance, name)
	}
}

// maxAbs is max |want - got| for logging.
func maxAbs(t testing.TB, want *tensors.Tensor, got []float32) float64 {
	w, err := tensortest.Float64s(want)
	require.NoError(t, err)
	m := 0.0
	for i := range w {
		m = math.Max(m, math.Abs(w[i]-float64(got[i])))
	}
	return m
}

// TestAnchorInitParity checks the plain-Go anchor initialisation, the in-graph Fourier features and the
// input layer net.0 against the reference: anchor rows v(t_i, ℓ) for W from the fixture.
func TestAnchorInitParity(t *testing.T) {
	ref, meta := tensortest.LoadFixture(t, mapperFixturePath)
	cfg := fixtureConfig(t, meta, NormalizeWord, true)
	w := tensors.MustCopyFlatData[float32](ref[EncoderWeightName])
	got := make([]float32, cfg.InputWidth()*2*cfg.NumFourier)
	anchorInit(cfg, w, got)
	// Go computes the anchors in float64 and rounds once; torch in float32: differences of a few ulp of
	// the arguments (~1e-5 rad at t = 900) divided by √F.
	tensortest.AllClose(t, ref["net.0.weight"], tensors.FromFlatDataAndDimensions(got, cfg.InputWidth(), 2*cfg.NumFourier),
		2e-6, "anchor init")

	c := fixtureConcept(t, ref, meta, NormalizeWord, true)
	ctx := context.New()
	require.NoError(t, c.loadInto(ctx, dtypes.Float32))
	exec, err := context.NewExec(testBackend(t), ctx.Reuse(), func(ctx *context.Context, ts, ls *graph.Node) []*graph.Node {
		v := fourierFeatures(ctx, &cfg, ts, ls)
		return []*graph.Node{v, nn.Linear(ctx.In("net").In("0"), v, cfg.InputWidth(), true)}
	})
	require.NoError(t, err)
	out, err := exec.Exec(ref["inputs.t"], ref["inputs.l"])
	require.NoError(t, err)
	tensortest.AllClose(t, ref["net0.out"], out[1], mapperTolerance, "net.0 output on the grid")
	// The anchor rows' features: the grid holds t = 0, 100 and 500 (anchors) at every layer.
	anchors := cfg.AnchorTimesteps()
	features, err := tensortest.Float64s(out[0])
	require.NoError(t, err)
	table, err := tensortest.Float64s(ref["anchor.features"])
	require.NoError(t, err)
	ts, ls := intsOf(t, ref["inputs.t"]), intsOf(t, ref["inputs.l"])
	checked := 0
	f2 := 2 * cfg.NumFourier
	for row := range ts {
		for i, a := range anchors {
			if ts[row] != a {
				continue
			}
			r := i*cfg.NumLayers + ls[row]
			for j := range f2 {
				require.InDelta(t, table[r*f2+j], features[row*f2+j], mapperTolerance, "features at (t, ℓ) = (%d, %d)", a, ls[row])
			}
			checked++
		}
	}
	assert.Equal(t, 3*cfg.NumLayers, checked, "grid rows at an anchor")
}

// TestAnchorCosine checks the anchor initialisation of the default mapper (1024 frequencies, 160 anchors):
// at anchor r, output r of net.0 less its bias is ‖v‖² = 1 (cosine 1), and no other output exceeds it.
func TestAnchorCosine(t *testing.T) {
	cfg := DefaultMapperConfig(32, 0.4, 3)
	c, err := NewConcept(cfg)
	require.NoError(t, err)
	ctx := context.New()
	require.NoError(t, c.loadInto(ctx, dtypes.Float32))
	exec, err := context.NewExec(testBackend(t), ctx.Reuse(), func(ctx *context.Context, ts, ls *graph.Node) *graph.Node {
		v := fourierFeatures(ctx, &cfg, ts, ls)
		return nn.Linear(ctx.In("net").In("0"), v, cfg.InputWidth(), true) // [160, 160]
	})
	require.NoError(t, err)
	var ts, ls []float32
	for _, a := range cfg.AnchorTimesteps() {
		for l := range cfg.NumLayers {
			ts, ls = append(ts, float32(a)), append(ls, float32(l))
		}
	}
	n := len(ts)
	require.Equal(t, cfg.InputWidth(), n)
	out, err := exec.Exec1(tensors.FromFlatDataAndDimensions(ts, n), tensors.FromFlatDataAndDimensions(ls, n))
	require.NoError(t, err)
	y := tensors.MustCopyFlatData[float32](out)
	bias := tensors.MustCopyFlatData[float32](c.Weights()["net.0.bias"])
	for r := range n {
		diag := float64(y[r*n+r] - bias[r])
		require.InDelta(t, 1, diag, 1e-5, "anchor %d (t=%v, ℓ=%v): cosine with itself", r, ts[r], ls[r])
		for j := range n {
			if j != r {
				require.Less(t, float64(y[r*n+j]-bias[j]), 0.9999, "anchor %d vs %d", r, j)
			}
		}
	}
	// Neighbouring layers are nearly orthogonal (spec §3: E[cos] = exp(-σ_ℓ²/2) ≈ 0.135 for Δℓ = 1).
	assert.Less(t, math.Abs(float64(y[0*n+1]-bias[1])), 0.4, "anchor (0, 0) vs (0, 1)")
}

// TestMapperParamCount checks the parameter counts of the default mapper at width 768 (spec §3) and that
// the graph declares exactly the tensors the concept holds.
func TestMapperParamCount(t *testing.T) {
	for _, tc := range []struct {
		bypass bool
		want   int
	}{{true, 563616}, {false, 464544}} {
		cfg := DefaultMapperConfig(768, 0.4, 1)
		cfg.Bypass = tc.bypass
		assert.Equal(t, tc.want, cfg.ParamCount(), "bypass %v", tc.bypass)

		// Declare the variables by building the graph on a fresh context with no values.
		ctx := context.New()
		g := graph.NewGraph(testBackend(t), "declare")
		ts := graph.Parameter(g, "t", shapesOfF32(1))
		mapper(ctx, &cfg, ts, ts, nil)
		g.Finalize()
		total, names := 0, 0
		for v := range ctx.IterVariables() {
			if v.Scope() == "/encoder" {
				assert.Equal(t, []int{1024, 2}, v.Shape().Dimensions, "W")
				continue
			}
			total += v.Shape().Size()
			names++
		}
		assert.Equal(t, tc.want, total, "trainable parameters declared by mapper, bypass %v", tc.bypass)
		assert.Equal(t, len(cfg.params()), names, "declared tensors")
	}
}

// TestInitDeterministic checks that the initialisation depends only on the seed and follows PyTorch's
// defaults: W columns with standard deviations σ_t and σ_ℓ, Linear values within ±1/√fan_in, LayerNorm 1/0.
func TestInitDeterministic(t *testing.T) {
	cfg := DefaultMapperConfig(32, 0.4, 42)
	a, b := initMapperWeights(cfg), initMapperWeights(cfg)
	for name, w := range a {
		require.Equal(t, w, b[name], "%s differs between two initialisations with seed 42", name)
	}
	cfg.Seed = 43
	c := initMapperWeights(cfg)
	assert.NotEqual(t, a[EncoderWeightName], c[EncoderWeightName], "W with seeds 42 and 43")
	assert.NotEqual(t, a["net.1.weight"], c["net.1.weight"], "net.1.weight with seeds 42 and 43")

	w := a[EncoderWeightName]
	var s0, s1 float64
	for i := range cfg.NumFourier {
		s0 += float64(w[2*i]) * float64(w[2*i])
		s1 += float64(w[2*i+1]) * float64(w[2*i+1])
	}
	assert.InDelta(t, cfg.SigmaT, math.Sqrt(s0/float64(cfg.NumFourier)), 0.1*cfg.SigmaT, "std of W's time column")
	assert.InDelta(t, cfg.SigmaL, math.Sqrt(s1/float64(cfg.NumFourier)), 0.1*cfg.SigmaL, "std of W's layer column")

	for _, p := range cfg.params() {
		values := a[p.name]
		switch {
		case p.name == "net.0.weight":
		case isNorm(p.name):
			want := float32(0)
			if strings.HasSuffix(p.name, "weight") {
				want = 1
			}
			for _, v := range values {
				require.Equal(t, want, v, p.name)
			}
		default:
			fanIn := p.shape.Dimensions[len(p.shape.Dimensions)-1]
			if p.shape.Rank() == 1 {
				fanIn = prevFanIn(cfg, p.name)
			}
			bound := 1 / math.Sqrt(float64(fanIn))
			maxAbs := 0.0
			for _, v := range values {
				maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
			}
			assert.LessOrEqual(t, maxAbs, bound, "%s within ±1/√%d", p.name, fanIn)
			assert.Greater(t, maxAbs, 0.8*bound, "%s spans its range", p.name)
		}
	}
}

// TestMapperConfigValidate checks that each invalid field is named in the error.
func TestMapperConfigValidate(t *testing.T) {
	require.NoError(t, DefaultMapperConfig(768, 0.4, 0).Validate())
	for _, tc := range []struct {
		field  string
		change func(*MapperConfig)
	}{
		{"NumLayers", func(c *MapperConfig) { c.NumLayers = 0 }},
		{"TextWidth", func(c *MapperConfig) { c.TextWidth = -1 }},
		{"Hidden", func(c *MapperConfig) { c.Hidden = 0 }},
		{"TimeAnchors", func(c *MapperConfig) { c.TimeAnchors = 2000 }},
		{"SigmaT", func(c *MapperConfig) { c.SigmaT = 0 }},
		{"SigmaL", func(c *MapperConfig) { c.SigmaL = math.Inf(1) }},
		{"TargetNorm", func(c *MapperConfig) { c.TargetNorm = 0 }},
		{"Normalize", func(c *MapperConfig) { c.Normalize = "all" }},
	} {
		cfg := DefaultMapperConfig(768, 0.4, 0)
		tc.change(&cfg)
		err := cfg.Validate()
		if assert.Error(t, err, tc.field) {
			assert.Contains(t, err.Error(), tc.field)
		}
	}
	cfg := DefaultMapperConfig(768, 0, 0)
	cfg.Normalize = NormalizeNone
	assert.NoError(t, cfg.Validate(), "no target norm is needed without normalisation")
}

// BenchmarkEmbedBatch800 evaluates the default mapper (width 768) for the 50 × 16 (t, ℓ) pairs of a
// 50-step sampler in one EmbedBatch call on the CPU backend (graph compiled outside the loop).
func BenchmarkEmbedBatch800(b *testing.B) {
	c, err := NewConcept(DefaultMapperConfig(768, 0.4, 1))
	require.NoError(b, err)
	var ts, ls []int
	for s := range 50 {
		for l := range 16 {
			ts, ls = append(ts, 999-20*s), append(ls, l)
		}
	}
	_, _, err = c.EmbedBatch(ts, ls, 128)
	require.NoError(b, err)
	for b.Loop() {
		if _, _, err := c.EmbedBatch(ts, ls, 128); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ts))*float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}
