package diffusion

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// SchedulerConfig is a diffusers `scheduler/scheduler_config.json`. The JSON keys are diffusers'.
//
// Fields that every beta-based diffusers scheduler defaults the same way hold that default after
// [LoadSchedulerConfig] (see [DefaultSchedulerConfig]). Fields whose default depends on the scheduler class
// (timestep_spacing, clip_sample, set_alpha_to_one, lower_order_final) are left empty or nil when the file
// does not set them, and each sampler applies its own diffusers default, exactly as diffusers' `from_config`
// does when a config written for one class builds another.
type SchedulerConfig struct {
	// ClassName is the diffusers class that wrote the config, e.g. "PNDMScheduler" in SD 1.x folders. It
	// does not choose the sampler; see [SupportedSchedulerClasses].
	ClassName string `json:"_class_name"`
	// DiffusersVersion is the diffusers version that wrote the config (informative).
	DiffusersVersion string `json:"_diffusers_version,omitempty"`

	// NumTrainTimesteps is the number of DDPM training steps (1000 for Stable Diffusion).
	NumTrainTimesteps int `json:"num_train_timesteps"`
	// BetaStart and BetaEnd bound the beta schedule (SD: 0.00085 and 0.012).
	BetaStart float64 `json:"beta_start"`
	// BetaEnd is the last beta of the linear and scaled_linear schedules.
	BetaEnd float64 `json:"beta_end"`
	// BetaSchedule is one of [BetaSchedules]: "linear", "scaled_linear" (SD) or "squaredcos_cap_v2".
	BetaSchedule string `json:"beta_schedule"`
	// TrainedBetas, when set, replaces the beta schedule; it has NumTrainTimesteps values.
	TrainedBetas []float64 `json:"trained_betas"`
	// PredictionType is what the UNet predicts, one of [PredictionTypes]: "epsilon" (SD 1.x, SD 2.x base),
	// "v_prediction" (SD 2.x 768) or "sample".
	PredictionType string `json:"prediction_type"`
	// StepsOffset is added to "leading" timesteps (1 for SD).
	StepsOffset int `json:"steps_offset"`
	// TimestepSpacing is one of [TimestepSpacings]; "" means the sampler's own default ("leading" for DDIM,
	// "linspace" for Euler and DPM-Solver).
	TimestepSpacing string `json:"timestep_spacing"`

	// SetAlphaToOne (DDIM): the ᾱ after the last step is 1 instead of ᾱ_0; nil means DDIM's default, true.
	SetAlphaToOne *bool `json:"set_alpha_to_one"`
	// ClipSample (DDIM): clip the predicted x0 to ±ClipSampleRange; nil means DDIM's default, true.
	ClipSample *bool `json:"clip_sample"`
	// ClipSampleRange is the clipping bound of ClipSample (default 1).
	ClipSampleRange float64 `json:"clip_sample_range"`
	// Thresholding enables dynamic thresholding (not supported by the samplers here; unsuitable for latents).
	Thresholding bool `json:"thresholding"`
	// RescaleBetasZeroSNR rescales betas to zero terminal SNR (not supported by the samplers here).
	RescaleBetasZeroSNR bool `json:"rescale_betas_zero_snr"`

	// InterpolationType (Euler) is how sigmas are interpolated at the timesteps: "linear" (default,
	// supported) or "log_linear".
	InterpolationType string `json:"interpolation_type"`
	// UseKarrasSigmas (Euler, DPM-Solver) selects Karras sigmas (not supported by the samplers here).
	UseKarrasSigmas bool `json:"use_karras_sigmas"`
	// UseExponentialSigmas (Euler, DPM-Solver) selects exponential sigmas (not supported here).
	UseExponentialSigmas bool `json:"use_exponential_sigmas"`
	// UseBetaSigmas (Euler, DPM-Solver) selects beta sigmas (not supported here).
	UseBetaSigmas bool `json:"use_beta_sigmas"`
	// UseLuLambdas (DPM-Solver) selects Lu's lambda spacing (not supported here).
	UseLuLambdas bool `json:"use_lu_lambdas"`
	// UseFlowSigmas (DPM-Solver) selects flow-matching sigmas (not supported here).
	UseFlowSigmas bool `json:"use_flow_sigmas"`
	// TimestepType (Euler) is "discrete" (default, supported) or "continuous".
	TimestepType string `json:"timestep_type"`
	// FinalSigmasType (Euler, DPM-Solver) is the sigma after the last step: "zero" (default) or "sigma_min".
	FinalSigmasType string `json:"final_sigmas_type"`

	// AlgorithmType (DPM-Solver) is "dpmsolver++" (default; "deis" maps to it as in diffusers). The
	// "dpm++2m" sampler rejects the other diffusers values.
	AlgorithmType string `json:"algorithm_type"`
	// SolverOrder (DPM-Solver) is diffusers' solver_order (default 2). The "dpm++2m" sampler always runs
	// order 2, whatever this says.
	SolverOrder int `json:"solver_order"`
	// SolverType (DPM-Solver) is the second-order formula: "midpoint" (default) or "heun".
	SolverType string `json:"solver_type"`
	// LowerOrderFinal (DPM-Solver) uses first order for the last step when there are fewer than 15 steps;
	// nil means diffusers' default, true.
	LowerOrderFinal *bool `json:"lower_order_final"`
	// EulerAtFinal (DPM-Solver) uses first order for the last step always.
	EulerAtFinal bool `json:"euler_at_final"`
	// LambdaMinClipped (DPM-Solver) clips the smallest log-SNR; -Inf (default) clips nothing.
	LambdaMinClipped PyFloat `json:"lambda_min_clipped"`
	// VarianceType (DPM-Solver) is null for SD ("learned"/"learned_range" are not supported here).
	VarianceType *string `json:"variance_type"`
}

// BetaSchedules are the supported values of beta_schedule.
var BetaSchedules = []string{"linear", "scaled_linear", "squaredcos_cap_v2"}

// PredictionTypes are the supported values of prediction_type.
var PredictionTypes = []string{"epsilon", "v_prediction", "sample"}

// TimestepSpacings are the supported values of timestep_spacing.
var TimestepSpacings = []string{"leading", "trailing", "linspace"}

// SupportedSchedulerClasses are the diffusers scheduler classes whose configs describe the discrete
// beta-schedule diffusion that the samplers here run (diffusers' KarrasDiffusionSchedulers, less
// EDMEulerScheduler which has no betas). Any of them can drive any sampler, like diffusers' from_config.
var SupportedSchedulerClasses = []string{
	"DDIMScheduler", "DDPMScheduler", "PNDMScheduler", "LMSDiscreteScheduler", "EulerDiscreteScheduler",
	"HeunDiscreteScheduler", "EulerAncestralDiscreteScheduler", "DPMSolverMultistepScheduler",
	"DPMSolverSinglestepScheduler", "KDPM2DiscreteScheduler", "KDPM2AncestralDiscreteScheduler",
	"DEISMultistepScheduler", "UniPCMultistepScheduler", "DPMSolverSDEScheduler",
}

// DefaultSchedulerConfig returns the defaults that diffusers' beta-based schedulers share (their
// __init__ defaults): 1000 steps, linear betas 0.0001..0.02, epsilon prediction, no offset.
// Class-dependent fields stay unset (see [SchedulerConfig]).
func DefaultSchedulerConfig() SchedulerConfig {
	return SchedulerConfig{
		NumTrainTimesteps: 1000,
		BetaStart:         0.0001,
		BetaEnd:           0.02,
		BetaSchedule:      "linear",
		PredictionType:    "epsilon",
		ClipSampleRange:   1.0,
		InterpolationType: "linear",
		TimestepType:      "discrete",
		FinalSigmasType:   "zero",
		AlgorithmType:     "dpmsolver++",
		SolverOrder:       2,
		SolverType:        "midpoint",
		LambdaMinClipped:  PyFloat(negInf),
	}
}

// LoadSchedulerConfig reads and validates a diffusers scheduler_config.json. Keys the file omits take
// [DefaultSchedulerConfig]'s values; unknown keys are ignored, as diffusers does.
func LoadSchedulerConfig(path string) (SchedulerConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return SchedulerConfig{}, fmt.Errorf("load scheduler config: %w", err)
	}
	cfg, err := ParseSchedulerConfig(data)
	if err != nil {
		return SchedulerConfig{}, fmt.Errorf("load scheduler config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseSchedulerConfig parses and validates the JSON of a diffusers scheduler config (see
// [LoadSchedulerConfig]). Python's bare NaN/Infinity/-Infinity tokens, which diffusers writes for
// lambda_min_clipped, are accepted.
func ParseSchedulerConfig(data []byte) (SchedulerConfig, error) {
	cfg := DefaultSchedulerConfig()
	if err := json.Unmarshal(quotePythonFloats(data), &cfg); err != nil {
		return SchedulerConfig{}, fmt.Errorf("parse scheduler config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return SchedulerConfig{}, err
	}
	return cfg, nil
}

// Validate checks every field against the values diffusers accepts, naming the field and the allowed
// values. Options that diffusers accepts but the samplers here do not implement are reported by
// [NewSampler], not here.
func (c SchedulerConfig) Validate() error {
	if c.ClassName != "" && !slices.Contains(SupportedSchedulerClasses, c.ClassName) {
		return fmt.Errorf("scheduler config: _class_name %q is not a supported scheduler config; supported: %s "+
			"(the config only supplies the noise schedule; pick the sampler with NewSampler)",
			c.ClassName, strings.Join(SupportedSchedulerClasses, ", "))
	}
	if c.NumTrainTimesteps <= 0 {
		return fmt.Errorf("scheduler config: num_train_timesteps is %d; it must be positive (SD uses 1000)",
			c.NumTrainTimesteps)
	}
	if c.TrainedBetas != nil {
		if len(c.TrainedBetas) != c.NumTrainTimesteps {
			return fmt.Errorf("scheduler config: trained_betas has %d values; it must have num_train_timesteps=%d",
				len(c.TrainedBetas), c.NumTrainTimesteps)
		}
		for i, b := range c.TrainedBetas {
			if !(b >= 0 && b < 1) {
				return fmt.Errorf("scheduler config: trained_betas[%d] is %g; betas must be in [0, 1)", i, b)
			}
		}
	} else {
		if err := oneOf("beta_schedule", c.BetaSchedule, BetaSchedules); err != nil {
			return err
		}
		if c.BetaSchedule != "squaredcos_cap_v2" && !(c.BetaStart > 0 && c.BetaStart <= c.BetaEnd && c.BetaEnd < 1) {
			return fmt.Errorf("scheduler config: beta_start=%g and beta_end=%g must satisfy 0 < beta_start <= "+
				"beta_end < 1", c.BetaStart, c.BetaEnd)
		}
	}
	if err := oneOf("prediction_type", c.PredictionType, PredictionTypes); err != nil {
		return err
	}
	if c.TimestepSpacing != "" {
		if err := oneOf("timestep_spacing", c.TimestepSpacing, TimestepSpacings); err != nil {
			return err
		}
	}
	if c.StepsOffset < 0 || c.StepsOffset >= c.NumTrainTimesteps {
		return fmt.Errorf("scheduler config: steps_offset is %d; it must be in [0, num_train_timesteps=%d)",
			c.StepsOffset, c.NumTrainTimesteps)
	}
	checks := []struct {
		field, value string
		allowed      []string
	}{
		{"interpolation_type", c.InterpolationType, []string{"linear", "log_linear"}},
		{"timestep_type", c.TimestepType, []string{"discrete", "continuous"}},
		{"final_sigmas_type", c.FinalSigmasType, []string{"zero", "sigma_min"}},
		{"algorithm_type", c.AlgorithmType, []string{"dpmsolver++", "sde-dpmsolver++", "dpmsolver", "sde-dpmsolver", "deis"}},
		{"solver_type", c.SolverType, []string{"midpoint", "heun", "logrho", "bh1", "bh2"}},
	}
	for _, ch := range checks {
		if err := oneOf(ch.field, ch.value, ch.allowed); err != nil {
			return err
		}
	}
	if c.SolverOrder < 1 || c.SolverOrder > 3 {
		return fmt.Errorf("scheduler config: solver_order is %d; allowed: 1, 2, 3", c.SolverOrder)
	}
	return nil
}

// oneOf reports an error naming field when value is not in allowed.
func oneOf(field, value string, allowed []string) error {
	if slices.Contains(allowed, value) {
		return nil
	}
	return fmt.Errorf("scheduler config: %s is %q; allowed: %s", field, value, strings.Join(allowed, ", "))
}
