// promql-metrics prints the metric names PromQL expressions select, parsed by Prometheus's
// own parser (github.com/prometheus/prometheus/promql/parser, pinned in go.mod).
//
// Input on stdin: a JSON array of expressions. Output on stdout: a JSON object mapping each
// expression to the sorted metric names its selectors name. An expression that does not
// parse, or a selector whose metric name is not one fixed name (`{__name__=~"..."}`), is an
// error: it goes to stderr, named, and the exit status is 1, so a dashboard cannot hide a
// metric from a check built on this.
//
// Grafana's variables are not PromQL: expand them (e.g. `$__rate_interval` to `5m`) first.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	var expressions []string
	if err := json.Unmarshal(input, &expressions); err != nil {
		fail("stdin is not a JSON array of strings: %v", err)
	}
	promql := parser.NewParser(parser.Options{})
	names := make(map[string][]string, len(expressions))
	bad := false
	for _, expression := range expressions {
		found, err := metricNames(promql, expression)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%q: %v\n", expression, err)
			bad = true
			continue
		}
		names[expression] = found
	}
	if bad {
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(names); err != nil {
		fail("writing stdout: %v", err)
	}
}

// metricNames: the distinct metric names of every vector selector in `expression`, sorted.
func metricNames(promql parser.Parser, expression string) ([]string, error) {
	expr, err := promql.ParseExpr(expression)
	if err != nil {
		return nil, err
	}
	found := []string{}
	var unnamed error
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		selector, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := selector.Name
		if name == "" {
			name = fixedName(selector.LabelMatchers)
		}
		if name == "" {
			unnamed = fmt.Errorf("selector %s names no single metric", selector)
			return nil
		}
		if !slices.Contains(found, name) {
			found = append(found, name)
		}
		return nil
	})
	if unnamed != nil {
		return nil, unnamed
	}
	slices.Sort(found)
	return found, nil
}

// fixedName: the metric name of `{__name__="x"}`; "" for none or a pattern.
func fixedName(matchers []*labels.Matcher) string {
	for _, matcher := range matchers {
		if matcher.Name == model.MetricNameLabel && matcher.Type == labels.MatchEqual {
			return matcher.Value
		}
	}
	return ""
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "promql-metrics: "+format+"\n", args...)
	os.Exit(2)
}
