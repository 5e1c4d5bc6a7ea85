// Native app for tests/e2e/apps.sh: built with Debian's golang-go into one static binary,
// listening on HOST:PORT, writing into CACHE_DIRECTORY.
package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
)

func main() {
	cache := filepath.Join(os.Getenv("CACHE_DIRECTORY"), "goapp-probe")
	cacheErr := os.WriteFile(cache, []byte("ok"), 0o640)
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "go app %s pid %d cache-write-error %v\n", runtime.Version(), os.Getpid(), cacheErr)
	})
	addr := net.JoinHostPort(os.Getenv("HOST"), os.Getenv("PORT"))
	log.Printf("listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
