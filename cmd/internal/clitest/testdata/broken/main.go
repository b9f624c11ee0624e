// Command broken does not compile; clitest's tests show the error it reports.
package main

func main() { var n int = "not a number"; _ = n }
