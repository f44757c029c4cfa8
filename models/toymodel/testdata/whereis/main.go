// Command whereis prints toymodel.DirErr's folder; TestTrimpathBuildFindsModel builds it with -trimpath
// and runs it outside the repository.
package main

import (
	"fmt"
	"os"

	"github.com/org/neti/models/toymodel"
)

func main() {
	dir, err := toymodel.DirErr()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(dir)
}
