package neti

import "fmt"

// usable says why p cannot run op (named in the message), or nil: a nil *Pipeline, or one closed by Close
// (or not made by LoadPipeline: its weights, tokenizer and backend are missing). Every exported method and
// function that uses a Pipeline checks it first, so such a call returns this error instead of panicking.
func (p *Pipeline) usable(op string) error {
	if p == nil {
		return fmt.Errorf("neti: %s: the Pipeline is nil: expected one from LoadPipeline (check the error it returned)", op)
	}
	if p.ctx == nil || p.backend == nil || p.tokenizer == nil || p.text == nil || p.unet == nil {
		name := p.Dir
		if name == "" {
			name = "with no model folder"
		}
		return fmt.Errorf("neti: %s: the Pipeline (%s) is closed, or was not made by LoadPipeline: expected an "+
			"open one; load the model again with LoadPipeline and call Close only when done with it", op, name)
	}
	return nil
}
