// Command ferretdb-embedded serves the MongoDB wire protocol for local development and tests,
// backed by SQLite files in one directory. It embeds FerretDB v1 as a library because
// `go install` of FerretDB's own cmd/ferretdb panics without its generated version files.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on (host:port)")
	dir := flag.String("sqlite-dir", "data", "directory for the SQLite database files (created if missing)")
	level := flag.String("log-level", "info", "log level: debug, info, warn or error")
	flag.Parse()

	if err := run(*listen, *dir, *level); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-embedded:", err)
		os.Exit(1)
	}
}

func run(listen, dir, level string) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("bad -log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	// The SQLite backend refuses a directory that does not exist.
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}

	// Telemetry: the embedded package disables it itself (in-memory state, telemetry locked off).
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: listen},
		Logger:   logger,
		Handler:  "sqlite",
		// A SQLite URI naming a directory: the trailing slash matters, one file per database.
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		return err
	}

	// Run returns once ctx is cancelled and every listener, connection and the backend are closed.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// FerretDB's own `_id_` index does not serve its `_id` queries (full table scans); see
	// idindex.go. Added within a second of a collection's creation, kept in the SQLite files.
	var indexer sync.WaitGroup
	indexer.Add(1)
	go func() {
		defer indexer.Done()
		newIDIndexer(abs, logger).run(ctx, time.Second)
	}()

	logger.Info("ferretdb-embedded starting", "listen", listen, "sqlite-dir", abs)
	err = f.Run(ctx)
	stop() // Run also returns on a listener error: end the indexer then too
	indexer.Wait()
	if err != nil {
		return err
	}
	logger.Info("ferretdb-embedded stopped")
	return nil
}
