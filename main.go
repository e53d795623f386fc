// Command inkflow is the whole product in one binary: the blog CMS, the workflow engine and
// its workers. `inkflow` with no arguments serves HTTP and runs workers.
package main

import (
	"fmt"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fmt.Fprintln(os.Stderr, "inkflow: starting")
	return 0
}
