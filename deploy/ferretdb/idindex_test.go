package main

// Run by hand (`go test .` here): it guards idExpr against a FerretDB upgrade changing the SQL
// it pushes down, by asking FerretDB itself (`explain` shows SQLite's plan of its own query).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// serve runs FerretDB (and the indexer, if indexed) on dir until the test ends or stop is called.
func serve(t *testing.T, dir string, indexed bool) (db *mongo.Database, stop func()) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = f.Run(ctx); done <- struct{}{} }()
	if indexed {
		go func() { newIDIndexer(dir, logger).run(ctx, 20*time.Millisecond); done <- struct{}{} }()
	} else {
		done <- struct{}{}
	}
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(f.MongoDBURI()))
	if err != nil {
		t.Fatal(err)
	}
	stop = func() {
		_ = client.Disconnect(context.Background())
		cancel()
		<-done
		<-done
	}
	t.Cleanup(func() {
		if ctx.Err() == nil {
			stop()
		}
	})
	return client.Database("idx"), stop
}

// plan is SQLite's plan for FerretDB's `{_id: id}` query, after a real query of the same shape
// (EXPLAIN alone does not reload a connection's cached schema).
func plan(t *testing.T, coll *mongo.Collection, id string) string {
	t.Helper()
	ctx := context.Background()
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Err(); err != nil {
		t.Fatal(err)
	}
	var res bson.M
	cmd := bson.D{{Key: "explain", Value: bson.D{
		{Key: "find", Value: coll.Name()}, {Key: "filter", Value: bson.D{{Key: "_id", Value: id}}},
	}}}
	if err := coll.Database().RunCommand(ctx, cmd).Decode(&res); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(res["queryPlanner"])
}

func waitIndexed(t *testing.T, coll *mongo.Collection, id string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p := plan(t, coll, id)
		if strings.Contains(p, "USING INDEX "+idIndexPrefix) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: `_id` lookup does not use the index: %s", coll.Name(), p)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestIDLookupsUseIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, stop := serve(t, dir, true)

	people := db.Collection("people")
	docs := make([]any, 100)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("p%d", i)}, {Key: "n", Value: i}}
	}
	if _, err := people.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	waitIndexed(t, people, "p7")

	// A rename keeps the table and so the index.
	rename := bson.D{{Key: "renameCollection", Value: "idx.people"}, {Key: "to", Value: "idx.staff"}}
	if err := db.Client().Database("admin").RunCommand(ctx, rename).Err(); err != nil {
		t.Fatal(err)
	}
	staff := db.Collection("staff")
	if p := plan(t, staff, "p7"); !strings.Contains(p, "USING INDEX "+idIndexPrefix) {
		t.Fatalf("renamed collection lost the index: %s", p)
	}

	// A dropped and re-created collection gets a new table, indexed again.
	if err := staff.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := staff.InsertOne(ctx, bson.D{{Key: "_id", Value: "again"}}); err != nil {
		t.Fatal(err)
	}
	waitIndexed(t, staff, "again")

	// The index is kept in the SQLite file: a restart without the indexer still uses it.
	stop()
	db, _ = serve(t, dir, false)
	if p := plan(t, db.Collection("staff"), "again"); !strings.Contains(p, "USING INDEX "+idIndexPrefix) {
		t.Fatalf("index lost on restart: %s", p)
	}
	var names []string
	cur, err := db.Collection("staff").Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for cur.Next(ctx) {
		names = append(names, cur.Current.Lookup("name").StringValue())
	}
	if fmt.Sprint(names) != "[_id_]" {
		t.Fatalf("listIndexes = %v, want only FerretDB's own _id_", names)
	}
}
