package testenv

import (
	"os"
	"strconv"
	"strings"
)

// WrittenBytes is write_bytes of /proc/self/io: the bytes this process has caused to be
// sent to storage, counted as it dirties pages of the page cache (not socket writes, and a
// page rewritten before it reaches the disk counts once). It reports false where there is
// no such file (systems other than Linux), for benchmarks to leave the figure out.
func WrittenBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
