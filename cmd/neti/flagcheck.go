package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// checkNumbers refuses numeric flags given on the command line with a value their command cannot use, before
// any work. The library reads a zero option as "the default", so an explicit 0 would silently run with the
// default (a 1000-step training for --max_train_steps 0): each flag of positive must be above 0 when given;
// each flag of nonZero must not be 0 (a negative value has a meaning there, such as "none"). Flags left out
// are not checked (their defaults apply). The error names the flag, the value, what is expected and the
// flag's help, which states its default.
func checkNumbers(cmd string, fs *flag.FlagSet, positive, nonZero []string) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err != nil {
			return
		}
		isPositive, isNonZero := slices.Contains(positive, f.Name), slices.Contains(nonZero, f.Name)
		if !isPositive && !isNonZero {
			return
		}
		g, ok := f.Value.(flag.Getter) // the flag package's own values all are
		if !ok {
			return
		}
		var v float64
		switch x := g.Get().(type) {
		case int:
			v = float64(x)
		case int64:
			v = float64(x)
		case uint:
			v = float64(x)
		case uint64:
			v = float64(x)
		case float64:
			v = x
		default:
			return // not a number
		}
		switch {
		case v == 0 && isNonZero:
			err = fmt.Errorf("%s: --%s is 0: expected a positive number, or a negative one where its help gives "+
				"that a meaning; leave the flag out to use its default (--%s: %s)", cmd, f.Name, f.Name, f.Usage)
		case v == 0:
			err = fmt.Errorf("%s: --%s is 0: expected a positive number; leave the flag out to use its default "+
				"(--%s: %s)", cmd, f.Name, f.Name, f.Usage)
		case v < 0 && isPositive:
			err = fmt.Errorf("%s: --%s is %s: expected a positive number (--%s: %s)", cmd, f.Name, f.Value, f.Name, f.Usage)
		}
	})
	return err
}

// checkOutputFile checks, before any work, that the file named by flag --name can be written at the end: its
// folder exists and takes a new file (one is created and removed), and path is not a folder. The error names
// the command, the flag, the path and the fix.
func checkOutputFile(cmd, name, path string) error {
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s: --%s %q: the folder %s does not exist: create it first (mkdir -p %s) or give a path "+
			"in an existing folder", cmd, name, path, dir, dir)
	case err != nil:
		return fmt.Errorf("%s: --%s %q: the folder %s cannot be read: %v", cmd, name, path, dir, err)
	case !info.IsDir():
		return fmt.Errorf("%s: --%s %q: %s is a file, not a folder: give a path in an existing folder", cmd, name, path, dir)
	}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return fmt.Errorf("%s: --%s %q is a folder: expected a file name in it, such as %s", cmd, name, path,
			filepath.Join(path, "neti.png"))
	}
	probe, err := os.CreateTemp(dir, ".neti-check-*")
	if err != nil {
		return fmt.Errorf("%s: --%s %q: cannot write in the folder %s: %v: choose a folder you can write to", cmd, name,
			path, dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// checkGuidance refuses a --guidance_scale the pipeline cannot use (below 1, NaN or infinite), before any
// work; the library would read an explicit 0 as its default.
func checkGuidance(cmd string, g float64) error {
	if !(g >= 1) || math.IsInf(g, 1) {
		return fmt.Errorf("%s: --guidance_scale is %g; expected a finite weight ≥ 1 (1 disables guidance), such as 7.5", cmd, g)
	}
	return nil
}
