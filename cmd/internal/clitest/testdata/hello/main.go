// Command hello prints its arguments; clitest's tests build it.
package main

import (
	"fmt"
	"os"
)

func main() { fmt.Println(os.Args[1:]) }
