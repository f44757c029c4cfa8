package diffusion

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sd15SchedulerConfig is stable-diffusion-v1-5's scheduler/scheduler_config.json, verbatim: a PNDM config
// without timestep_spacing, so each sampler applies its own default as diffusers' from_config does.
const sd15SchedulerConfig = `{
  "_class_name": "PNDMScheduler",
  "_diffusers_version": "0.6.0",
  "beta_end": 0.012,
  "beta_schedule": "scaled_linear",
  "beta_start": 0.00085,
  "num_train_timesteps": 1000,
  "set_alpha_to_one": false,
  "skip_prk_steps": true,
  "steps_offset": 1,
  "trained_betas": null,
  "clip_sample": false
}`

func TestLoadSchedulerConfigTinyModels(t *testing.T) {
	sd1, err := LoadSchedulerConfig("../testdata/tiny-sd1/scheduler/scheduler_config.json")
	require.NoError(t, err)
	assert.Equal(t, "PNDMScheduler", sd1.ClassName)
	assert.Equal(t, 1000, sd1.NumTrainTimesteps)
	assert.Equal(t, 0.00085, sd1.BetaStart)
	assert.Equal(t, 0.012, sd1.BetaEnd)
	assert.Equal(t, "scaled_linear", sd1.BetaSchedule)
	assert.Equal(t, "epsilon", sd1.PredictionType)
	assert.Equal(t, 1, sd1.StepsOffset)
	assert.Equal(t, "leading", sd1.TimestepSpacing)
	require.NotNil(t, sd1.ClipSample)
	assert.False(t, *sd1.ClipSample)
	require.NotNil(t, sd1.SetAlphaToOne)
	assert.False(t, *sd1.SetAlphaToOne)
	assert.Nil(t, sd1.TrainedBetas)

	sd2, err := LoadSchedulerConfig("../testdata/tiny-sd2/scheduler/scheduler_config.json")
	require.NoError(t, err)
	assert.Equal(t, "DDIMScheduler", sd2.ClassName)
	assert.Equal(t, "v_prediction", sd2.PredictionType)
}

func TestParseSchedulerConfigDefaults(t *testing.T) {
	cfg, err := ParseSchedulerConfig([]byte(sd15SchedulerConfig))
	require.NoError(t, err)
	assert.Equal(t, "", cfg.TimestepSpacing, "absent timestep_spacing must stay unset (per-sampler default)")
	assert.Equal(t, "epsilon", cfg.PredictionType, "absent prediction_type defaults to epsilon")
	assert.Nil(t, cfg.LowerOrderFinal)
	assert.Equal(t, 2, cfg.SolverOrder)
	assert.True(t, math.IsInf(float64(cfg.LambdaMinClipped), -1))

	// Empty JSON: diffusers' shared __init__ defaults.
	cfg, err = ParseSchedulerConfig([]byte(`{}`))
	require.NoError(t, err)
	assert.Equal(t, DefaultSchedulerConfig().BetaSchedule, cfg.BetaSchedule)
	assert.Equal(t, 0.0001, cfg.BetaStart)
	assert.Equal(t, 0.02, cfg.BetaEnd)
}

func TestParseSchedulerConfigPythonFloats(t *testing.T) {
	// diffusers writes Python's bare -Infinity for DPMSolverMultistepScheduler's lambda_min_clipped.
	cfg, err := ParseSchedulerConfig([]byte(`{"_class_name": "DPMSolverMultistepScheduler",
		"lambda_min_clipped": -Infinity, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
		"beta_end": 0.012, "variance_type": null, "_note": "a string with -Infinity and NaN inside"}`))
	require.NoError(t, err)
	assert.True(t, math.IsInf(float64(cfg.LambdaMinClipped), -1), "got %v", cfg.LambdaMinClipped)

	cfg, err = ParseSchedulerConfig([]byte(`{"lambda_min_clipped": -5.1}`))
	require.NoError(t, err)
	assert.Equal(t, -5.1, float64(cfg.LambdaMinClipped))
}

func TestSchedulerConfigErrors(t *testing.T) {
	cases := []struct {
		name, json string
		wants      []string // substrings of the error
	}{
		{"unknown class", `{"_class_name": "FlowMatchEulerDiscreteScheduler"}`,
			[]string{"_class_name", "FlowMatchEulerDiscreteScheduler", "PNDMScheduler", "DDIMScheduler",
				"EulerDiscreteScheduler", "DPMSolverMultistepScheduler", "LMSDiscreteScheduler"}},
		{"beta schedule", `{"beta_schedule": "cosine"}`,
			[]string{"beta_schedule", `"cosine"`, "linear, scaled_linear, squaredcos_cap_v2"}},
		{"prediction type", `{"prediction_type": "flow_prediction"}`,
			[]string{"prediction_type", "flow_prediction", "epsilon, v_prediction, sample"}},
		{"spacing", `{"timestep_spacing": "uniform"}`,
			[]string{"timestep_spacing", "uniform", "leading, trailing, linspace"}},
		{"train steps", `{"num_train_timesteps": 0}`, []string{"num_train_timesteps", "0"}},
		{"trained betas length", `{"num_train_timesteps": 3, "trained_betas": [0.1, 0.2]}`,
			[]string{"trained_betas", "2 values", "3"}},
		{"beta range", `{"beta_start": 0.02, "beta_end": 0.01}`, []string{"beta_start", "beta_end"}},
		{"steps offset", `{"steps_offset": -1}`, []string{"steps_offset", "-1"}},
		{"final sigmas", `{"final_sigmas_type": "one"}`, []string{"final_sigmas_type", "zero, sigma_min"}},
		{"bad json", `{"beta_start": "x"}`, []string{"parse scheduler config"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSchedulerConfig([]byte(c.json))
			require.Error(t, err, "config %s", c.json)
			for _, w := range c.wants {
				assert.Contains(t, err.Error(), w, "config %s", c.json)
			}
		})
	}
}

func TestLoadSchedulerConfigNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scheduler_config.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"beta_schedule": "quadratic"}`), 0o644))
	_, err := LoadSchedulerConfig(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "beta_schedule")
	assert.Contains(t, err.Error(), "scaled_linear")

	_, err = LoadSchedulerConfig(filepath.Join(t.TempDir(), "missing.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.json")
}
