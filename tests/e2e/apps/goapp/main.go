// Native app for tests/e2e/apps.sh: built with Debian's golang-go into one static binary,
// listening on HOST:PORT, writing into CACHE_DIRECTORY, and serving Prometheus metrics (the
// text format, by hand: the standard library only) on HOST:METRICS_PORT.
package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
)

func main() {
	cache := filepath.Join(os.Getenv("CACHE_DIRECTORY"), "goapp-probe")
	cacheErr := os.WriteFile(cache, []byte("ok"), 0o640)
	var served atomic.Int64
	if port := os.Getenv("METRICS_PORT"); port != "" {
		metrics := http.NewServeMux()
		metrics.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "# TYPE goapp_requests_total counter\ngoapp_requests_total %d\n", served.Load())
		})
		addr := net.JoinHostPort(os.Getenv("HOST"), port)
		log.Printf("metrics on %s", addr)
		go func() { log.Fatal(http.ListenAndServe(addr, metrics)) }()
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		fmt.Fprintf(w, "go app %s pid %d cache-write-error %v\n", runtime.Version(), os.Getpid(), cacheErr)
	})
	addr := net.JoinHostPort(os.Getenv("HOST"), os.Getenv("PORT"))
	log.Printf("listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
