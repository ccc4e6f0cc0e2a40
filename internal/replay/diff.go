package replay

import "strings"

// Diff operations.
const (
	DiffEqual  = "equal"
	DiffInsert = "insert"
	DiffDelete = "delete"
)

// DiffOp is one run of words that the replay kept, inserted or deleted.
type DiffOp struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// maxDiffCells bounds the LCS table (words × words) of a diff: past it, the differing
// middle is shown as one deletion and one insertion.
const maxDiffCells = 4_000_000

// WordDiff is the word-level diff from a to b: the longest common subsequence of their
// words after trimming the common prefix and suffix. Words are split on white space and
// joined back with single spaces.
func WordDiff(a, b string) []DiffOp {
	wa, wb := strings.Fields(a), strings.Fields(b)
	pre := 0
	for pre < len(wa) && pre < len(wb) && wa[pre] == wb[pre] {
		pre++
	}
	suf := 0
	for suf < len(wa)-pre && suf < len(wb)-pre && wa[len(wa)-1-suf] == wb[len(wb)-1-suf] {
		suf++
	}
	var ops []DiffOp
	add := func(op string, words []string) {
		if len(words) == 0 {
			return
		}
		text := strings.Join(words, " ")
		if n := len(ops); n > 0 && ops[n-1].Op == op {
			ops[n-1].Text += " " + text
			return
		}
		ops = append(ops, DiffOp{Op: op, Text: text})
	}
	add(DiffEqual, wa[:pre])
	ma, mb := wa[pre:len(wa)-suf], wb[pre:len(wb)-suf]
	if len(ma)*len(mb) > maxDiffCells {
		add(DiffDelete, ma)
		add(DiffInsert, mb)
	} else {
		lcsDiff(ma, mb, add)
	}
	add(DiffEqual, wa[len(wa)-suf:])
	return ops
}

// lcsDiff emits the diff of a and b through add, from an LCS length table.
func lcsDiff(a, b []string, add func(op string, words []string)) {
	n, m := len(a), len(b)
	// l[i][j] is the LCS length of a[i:] and b[j:], in one flat slice.
	l := make([]int32, (n+1)*(m+1))
	at := func(i, j int) int32 { return l[i*(m+1)+j] }
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i*(m+1)+j] = at(i+1, j+1) + 1
			} else {
				l[i*(m+1)+j] = max(at(i+1, j), at(i, j+1))
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			add(DiffEqual, a[i:i+1])
			i, j = i+1, j+1
		case at(i+1, j) >= at(i, j+1):
			add(DiffDelete, a[i:i+1])
			i++
		default:
			add(DiffInsert, b[j:j+1])
			j++
		}
	}
	add(DiffDelete, a[i:])
	add(DiffInsert, b[j:])
}
