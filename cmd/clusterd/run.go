package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/admin"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/metrics"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/node"
	"github.com/snowmerak/clustering/cmd/internal/cliutil"
)

// shutdownTimeout bounds the graceful part of a shutdown: the leave
// announcement and the metrics server's last scrapes.
const shutdownTimeout = 10 * time.Second

func runNode(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := cliutil.NewFlagSet("clusterd run", "-config FILE",
		"Runs a node until SIGINT or SIGTERM, then leaves the cluster gracefully: it\nannounces its departure, waits for the announcement to spread, closes its\nsessions and exits 0. SIGHUP makes it read its trust roots and revocation\nlists again (as clusterd reload does). See README.md for the configuration file.", stderr)
	path := fs.String("config", "clusterd.yaml", "node configuration `file` (YAML)")
	if err := cliutil.ParseFlags(fs, args); err != nil {
		return err
	}
	c, err := config.Load(*path)
	if err != nil {
		return err
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1) // from now on, not the default (exit)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	opts, err := node.FromConfig(ctx, c, log)
	if err != nil {
		return err
	}
	n, err := node.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer n.Close()
	adm, err := admin.Listen(c.Admin.Socket, n.Admin(), log)
	if err != nil {
		return err
	}
	defer adm.Close()
	exp := metrics.New(n)
	sampling, stopSampling := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		exp.Run(sampling, opts.SWIM.ProbeInterval/2)
	}()
	defer wg.Wait()
	defer stopSampling()
	metricsAddr := "off"
	if c.Metrics.Listen != "" {
		srv, err := metrics.Serve(c.Metrics.Listen, exp.Handler(), log)
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			srv.Close(sctx)
		}()
		metricsAddr = "http://" + srv.Addr().String() + "/metrics"
	}
	log.Info("clusterd running", "id", n.ID().String(), "addr", n.Addr().String(),
		"admin", adm.Path(), "metrics", metricsAddr, "registry", opts.Registry.Kind())

	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-hup:
			_, _ = n.ReloadTrust(ctx) // logs what it did and what failed
		}
	}
	log.Info("shutting down: leaving the cluster")
	lctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := n.Leave(lctx); err != nil {
		log.Warn("leave not acknowledged; the others will detect the departure", "err", err)
	}
	n.Close()
	log.Info("stopped")
	return nil
}

// newLogger makes the logger c.Log asks for, writing to w.
func newLogger(c *config.Config, w io.Writer) (*slog.Logger, error) {
	level, err := c.LogLevel()
	if err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}
