package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/devcluster"
	"github.com/snowmerak/clustering/cmd/internal/cliutil"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cliutil.NewFlagSet("clusterd dev", "[flags]",
		"Starts three nodes in this process on 127.0.0.1 with a throwaway root ->\nintermediate -> leaf PKI (ML-DSA-65) in a temporary directory, joins them,\nshows the membership and where a few keys are placed, crashes one node and\nshows it declared dead and its keys moving, then shuts down cleanly and\nremoves the directory. \"make demo\" runs it.", stderr)
	var o devcluster.Options
	fs.BoolVar(&o.Verbose, "v", false, "also print the nodes' logs (to stderr)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (PKI and configs) and print its path")
	if err := cliutil.ParseFlags(fs, args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	o.Log = stderr
	return devcluster.Run(ctx, stdout, o)
}
