package main

// Why this file exists: FerretDB v1.24's SQLite backend creates each collection's unique `_id_`
// index on the expression `_ferretdb_sjson->"_id"`, but pushes `{_id: x}` filters (find, update,
// delete) down as `WHERE _ferretdb_sjson->'$._id' = ?` (metadata.IDColumn). SQLite uses an
// expression index only for an identical expression, so every `_id` lookup scans the table
// (≈35 ms at 10k documents, ≈400 ms at 100k). FerretDB has no option for this and we may not
// patch it, so we add, next to its own index, a plain index on exactly the queried expression.
//
// It is done from outside FerretDB's registry, through our own short-lived connections to the
// same files: the index is invisible to FerretDB's metadata (listIndexes, dropIndexes don't see
// it), is dropped with its table, and survives restarts and renames (a rename keeps the table).

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB itself uses, registered as "sqlite"
)

const (
	// idExpr must stay the expression FerretDB's queries use (metadata.IDColumn in v1.24.2);
	// idindex_test.go checks it against FerretDB's own `explain` after an upgrade.
	idExpr = `_ferretdb_sjson->'$._id'`
	// FerretDB names its indexes "<table>_<index>" and never makes a table name starting with
	// its reserved prefix, so this name cannot collide with one of its objects.
	idIndexPrefix = "_ferretdb_idpath_"
	// FerretDB's collection tables (those still existing) that lack our index.
	missingIndexesQuery = `
		SELECT c.table_name
		FROM "_ferretdb_collections" AS c
		JOIN sqlite_master AS t ON t.type = 'table' AND t.name = c.table_name
		WHERE NOT EXISTS (
			SELECT 1 FROM sqlite_master AS i
			WHERE i.type = 'index' AND i.name = '` + idIndexPrefix + `' || c.table_name
		)`
)

// fileState tells whether a database file may have changed since it was last checked: WAL
// commits change the -wal file, checkpoints the main file.
type fileState struct {
	mainSize, mainMod, walSize, walMod int64 // sizes and modification times (ns)
}

// idIndexer adds the `_id` lookup index to every collection table in one SQLite directory.
type idIndexer struct {
	dir    string
	logger *slog.Logger
	seen   map[string]fileState // files whose tables all had the index when last checked
}

func newIDIndexer(dir string, logger *slog.Logger) *idIndexer {
	return &idIndexer{dir: dir, logger: logger, seen: map[string]fileState{}}
}

// run checks at once and then every interval until ctx is done. Polling is the only signal
// available: collections are created by FerretDB on first insert, behind its API.
func (x *idIndexer) run(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		x.pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// pass checks each database file that changed since it was last found complete.
func (x *idIndexer) pass(ctx context.Context) {
	files, err := filepath.Glob(filepath.Join(x.dir, "*.sqlite"))
	if err != nil {
		x.logger.WarnContext(ctx, "id index: listing databases", "error", err)
		return
	}
	present := make(map[string]bool, len(files))
	for _, file := range files {
		if ctx.Err() != nil {
			return
		}
		present[file] = true
		state, ok := statFile(file)
		if !ok {
			continue // dropped meanwhile
		}
		// Skipping unchanged files keeps idle databases closed and passes cheap. (A connection
		// of ours open during a dropDatabase only leaves that file's -wal/-shm behind: SQLite
		// deletes such a WAL when a database of that name is created again.)
		if prev, known := x.seen[file]; known && prev == state {
			continue
		}
		if err := x.indexFile(ctx, file); err != nil {
			// Retried on the next pass, e.g. after a busy timeout or a half-created database.
			x.logger.DebugContext(ctx, "id index: database not checked", "file", file, "error", err)
			delete(x.seen, file)
			continue
		}
		x.seen[file] = state // stat taken before reading, so a later change is seen next pass
	}
	for file := range x.seen {
		if !present[file] {
			delete(x.seen, file)
		}
	}
}

// indexFile creates the missing indexes of one database file.
func (x *idIndexer) indexFile(ctx context.Context, file string) error {
	// mode=rw: never create a file FerretDB just removed (a phantom database). The busy timeout
	// bounds our wait for FerretDB's writers; theirs (10 s) covers our index builds.
	dsn := (&url.URL{
		Scheme:   "file",
		Path:     file,
		OmitHost: true,
		RawQuery: "mode=rw&_pragma=busy_timeout(2000)",
	}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	tables, err := missingIndexTables(ctx, db)
	if err != nil {
		return err
	}
	for _, table := range tables {
		q := fmt.Sprintf(
			"CREATE INDEX IF NOT EXISTS %s ON %s (%s)",
			quoteIdent(idIndexPrefix+table), quoteIdent(table), idExpr,
		)
		start := time.Now()
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("table %s: %w", table, err) // e.g. dropped since the query
		}
		x.logger.InfoContext(ctx, "id index created", "file", file, "table", table,
			"took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func missingIndexTables(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, missingIndexesQuery)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil, nil // FerretDB creates its metadata table right after the file
		}
		return nil, err
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var table string
		if err := rows.Scan(&table); err != nil {
			return nil, err
		}
		tables = append(tables, table)
	}
	return tables, rows.Err()
}

func statFile(file string) (fileState, bool) {
	main, err := os.Stat(file)
	if err != nil {
		return fileState{}, false
	}
	s := fileState{mainSize: main.Size(), mainMod: main.ModTime().UnixNano()}
	if wal, err := os.Stat(file + "-wal"); err == nil {
		s.walSize, s.walMod = wal.Size(), wal.ModTime().UnixNano()
	}
	return s, true
}

// quoteIdent quotes an SQLite identifier (table names hold user collection names).
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
