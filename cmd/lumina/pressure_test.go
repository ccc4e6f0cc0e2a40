//go:build alertbench

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/testenv"
)

// pressure is a reading of how contended the machine is, from Linux's pressure stall
// information and the CPU time the hypervisor gave other guests (steal). The alert
// benchmarks print the difference of two readings with their results: the same build at the
// same load gave p99s up to 3× apart in quiet and in slow spells of a shared machine, and these
// figures tell the spells apart. Steal comes from outside; the CPU and I/O pressure include
// the benchmark's own threads, so they compare runs at one load.
type pressure struct {
	at      time.Time
	cpuSome float64 // µs during which some runnable task waited for a CPU
	ioSome  float64 // µs during which some task waited for I/O
	steal   float64 // clock ticks of steal, summed over the CPUs
	written float64 // bytes this process has sent to storage (testenv.WrittenBytes)
	ok      bool
}

// readPressure reads /proc/pressure and /proc/stat; on a system without them the reading
// reports "unavailable".
func readPressure() pressure {
	p := pressure{at: time.Now()}
	var cpuOK, ioOK, stealOK bool
	p.cpuSome, cpuOK = psiSomeTotal("/proc/pressure/cpu")
	p.ioSome, ioOK = psiSomeTotal("/proc/pressure/io")
	p.steal, stealOK = stealTicks()
	written, writtenOK := testenv.WrittenBytes()
	p.written = float64(written)
	p.ok = cpuOK && ioOK && stealOK && writtenOK
	return p
}

// since formats the share of the time from q to p that tasks waited for a CPU, for I/O, and
// that the hypervisor stole, in percent (steal of all CPUs together, so 2 CPUs can reach
// 200), and what the process wrote to storage: per second, and per span when spans (the
// spans stored meanwhile) is positive. On PostgreSQL the database's writes are the server's,
// not the process's: there this is the queue's alone.
func (p pressure) since(q pressure, spans float64) string {
	if !p.ok || !q.ok {
		return "machine pressure unavailable"
	}
	el := p.at.Sub(q.at)
	us := float64(el.Microseconds())
	ticks := el.Seconds() * clockTicks
	out := fmt.Sprintf("machine over %s: CPU pressure %.1f%%, I/O pressure %.1f%%, steal %.1f%%; the process wrote %.0f MB/s to storage",
		el.Round(time.Second), 100*(p.cpuSome-q.cpuSome)/us, 100*(p.ioSome-q.ioSome)/us, 100*(p.steal-q.steal)/ticks,
		(p.written-q.written)/el.Seconds()/1e6)
	if spans > 0 {
		out += fmt.Sprintf(" (%.1f KB per span stored)", (p.written-q.written)/spans/1e3)
	}
	return out
}

// clockTicks is USER_HZ, the unit of /proc/stat: 100 on every Linux architecture Go supports.
const clockTicks = 100

// psiSomeTotal is the total= of the "some" line of a /proc/pressure file.
func psiSomeTotal(path string) (float64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "some ") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "total="); ok {
				n, err := strconv.ParseFloat(v, 64)
				return n, err == nil
			}
		}
	}
	return 0, false
}

// stealTicks is the steal column (the eighth value) of /proc/stat's cpu line.
func stealTicks() (float64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	n, err := strconv.ParseFloat(f[8], 64)
	return n, err == nil
}
