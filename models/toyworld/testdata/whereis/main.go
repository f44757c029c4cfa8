// Command whereis prints toyworld.DirErr's folder; TestTrimpathBuildFindsModel builds it with -trimpath
// and runs it outside the repository.
package main

import (
	"fmt"
	"os"

	"github.com/org/neti/models/toyworld"
)

func main() {
	dir, err := toyworld.DirErr()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(dir)
}
