package lumina

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// sinkEnv, set in the environment of the test binary, makes it an OTLP/HTTP receiver instead
// of running tests: the benchmarks export to it in another process, so the process CPU they
// measure (getrusage) is the SDK's alone, not the receiver's.
const sinkEnv = "LUMINA_BENCH_OTLP_SINK"

// sinkURLEnv names a receiver already running (such as this binary started with sinkEnv=1),
// used instead of starting one: for runs under valgrind, which follows no child process.
const sinkURLEnv = "LUMINA_BENCH_OTLP_URL"

func TestMain(m *testing.M) {
	if os.Getenv(sinkEnv) == "1" {
		if err := runSink(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	stopSink()
	os.Exit(code)
}

// runSink serves OTLP/HTTP on a loopback port, prints its URL on out, and returns when in
// ends. It decodes every request (that costs this process, not the benchmark's) and answers
// GET /spans with the number of spans received so far.
func runSink(in io.Reader, out io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var spans atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" { // OTEL_EXPORTER_OTLP_COMPRESSION=gzip
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		var req coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(b, &req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				spans.Add(int64(len(ss.Spans)))
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /spans", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, spans.Load())
	})
	go func() { _ = http.Serve(ln, mux) }()
	fmt.Fprintf(out, "http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, in)
	return ln.Close()
}

// The receiver process, shared by every benchmark of the run.
var sink struct {
	once sync.Once
	cmd  *exec.Cmd
	in   io.WriteCloser
	url  string
	err  error
}

// externalSink returns the URL of an OTLP/HTTP receiver running in another process.
func externalSink(b *testing.B) string {
	b.Helper()
	sink.once.Do(func() {
		if u := os.Getenv(sinkURLEnv); u != "" {
			sink.url = u
			return
		}
		exe, err := os.Executable()
		if err != nil {
			sink.err = err
			return
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), sinkEnv+"=1")
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			sink.err = err
			return
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			sink.err = err
			return
		}
		if err := cmd.Start(); err != nil {
			sink.err = err
			return
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			sink.err = fmt.Errorf("read sink url: %w", err)
			_ = in.Close()
			_ = cmd.Wait()
			return
		}
		sink.cmd, sink.in, sink.url = cmd, in, strings.TrimSpace(line)
	})
	if sink.err != nil {
		b.Fatalf("start OTLP sink process: %v", sink.err)
	}
	return sink.url
}

// sinkSpans returns how many spans the receiver process has decoded.
func sinkSpans(b *testing.B) int64 {
	b.Helper()
	resp, err := http.Get(externalSink(b) + "/spans")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	s, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		b.Fatalf("sink span count %q: %v", s, err)
	}
	return n
}

func stopSink() {
	if sink.cmd != nil {
		_ = sink.in.Close()
		_ = sink.cmd.Wait()
	}
}
