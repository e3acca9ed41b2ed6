// Command duckbench runs pair.sql (the windowed pairing of pipeline/mimic written in
// SQL) on a MIMIC-IV folder with DuckDB and prints the per-analyte counts and the time.
// It is its own module so the project does not link DuckDB; bench.sh builds it.
//
//	go run . -dir /tmp/mimic -threads 2
package main

import (
	"database/sql"
	_ "embed"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

//go:embed pair.sql
var pairSQL string

func main() {
	dir := flag.String("dir", "", "MIMIC-IV folder (hosp/prescriptions, hosp/labevents, hosp/admissions)")
	threads := flag.Int("threads", 2, "DuckDB threads")
	flag.Parse()
	if *dir == "" {
		log.Fatal("-dir is required")
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: temp tables live per connection
	var version string
	if err := db.QueryRow("SELECT version()").Scan(&version); err != nil {
		log.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("SET threads = %d", *threads)); err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	var stmts []string
	for _, s := range strings.Split(stripComments(strings.ReplaceAll(pairSQL, "{{DIR}}", *dir)), ";") {
		if strings.TrimSpace(s) != "" {
			stmts = append(stmts, s)
		}
	}
	last := stmts[len(stmts)-1]
	for _, s := range stmts[:len(stmts)-1] {
		if _, err := db.Exec(s); err != nil {
			log.Fatalf("%v\n%s", err, s)
		}
	}
	rows, err := db.Query(last)
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	fmt.Fprintf(os.Stdout, "duckdb %s, %d threads\n", version, *threads)
	for rows.Next() {
		var a string
		var pre, post, pair int
		if err := rows.Scan(&a, &pre, &post, &pair); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("  %-20s %6d / %6d / %6d\n", a, pre, post, pair)
	}
	if err := rows.Err(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("duckdb pairing: %.2f s\n", time.Since(start).Seconds())
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
