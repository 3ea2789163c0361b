// Command tlogverify checks a running expertflow server's transparency log from the outside, with
// the Go checksum database's own code (golang.org/x/mod/sumdb/note and sumdb/tlog) and nothing
// of the server's: the signed checkpoint, every record against the tiles, inclusion proofs of
// sampled records and consistency proofs between tree sizes (docs/audit.md describes the API).
//
//	tlogverify -url http://HOST:PORT -token TOKEN -vkey VKEY [-old FILE] [-save FILE]
//
// The token must see the whole log (an auditor's). -old names a checkpoint note saved by an
// earlier run (-save): its signature is checked again and the latest checkpoint must be
// consistent with it. Any failure exits with status 1 and says what was asked, what was expected
// and what came; success prints a one-line summary.
//
// Build it in GOPATH mode from the distribution's packages (nothing is downloaded):
// GO111MODULE=off GOPATH=<the packages' gocode folder> go build.
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// The tile height of C2SP tlog-tiles: 256 hashes a tile.
const tileHeight = 8
const tileWidth = 1 << tileHeight

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogverify: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// problems are failures after which the other checks can still go on; any fails the run.
var problems []string

func problem(format string, args ...interface{}) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(os.Stderr, "tlogverify: FAIL: %s\n", msg)
	problems = append(problems, msg)
}

// ---- HTTP ---------------------------------------------------------------------------------------

type client struct {
	base     string // http://host:port
	token    string
	http     *http.Client
	requests int
}

// get returns the body and status of GET base+path.
func (c *client) get(path string) ([]byte, int, error) {
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		return nil, 0, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	c.requests++
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return body, resp.StatusCode, err
}

// must returns the body of GET base+path, which must answer 200.
func (c *client) must(path string) []byte {
	body, status, err := c.get(path)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	if status != http.StatusOK {
		fail("GET %s: expected 200, got %d: %.300s", path, status, body)
	}
	return body
}

func (c *client) mustJSON(path string, v interface{}) {
	body := c.must(path)
	if err := json.Unmarshal(body, v); err != nil {
		fail("GET %s: not the expected JSON (%v): %.300s", path, err, body)
	}
}

// ---- Tiles --------------------------------------------------------------------------------------

// c2spIndex writes a tile index as C2SP tlog-tiles path elements: groups of three digits, all but
// the last led by "x" (1234067 is x001/x234/067).
func c2spIndex(n int64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n /= 1000; n > 0; n /= 1000 {
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	return s
}

func c2spWidth(w int) string {
	if w == tileWidth {
		return ""
	}
	return fmt.Sprintf(".p/%d", w)
}

// tilePath maps a Go tlog.Tile to its C2SP path under /api/v1/log. Go's own Tile.Path is the
// checksum database's older layout (tile/H/L/NNN), which tlog-tiles does not use.
func tilePath(t tlog.Tile) string {
	if t.H != tileHeight {
		fail("a tile of height %d was asked for; tlog-tiles has height %d", t.H, tileHeight)
	}
	return fmt.Sprintf("/api/v1/log/tile/%d/%s%s", t.L, c2spIndex(t.N), c2spWidth(t.W))
}

func bundlePath(n int64, w int) string {
	return fmt.Sprintf("/api/v1/log/tile/entries/%s%s", c2spIndex(n), c2spWidth(w))
}

// tileReader is a tlog.TileReader over the server's tile paths. TileHashReader checks every tile
// it is handed against the tree it was made for, so what SaveTiles keeps is only what it
// authenticated.
type tileReader struct {
	c       *client
	saved   map[tlog.Tile][]byte
	fetched int
}

func (r *tileReader) Height() int { return tileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		if data, ok := r.saved[t]; ok {
			out[i] = data
			continue
		}
		path := tilePath(t)
		body, status, err := r.c.get(path)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %v", path, err)
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("GET %s: expected 200, got %d: %.300s", path, status, body)
		}
		if len(body) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("GET %s: expected %d bytes (%d hashes), got %d",
				path, t.W*tlog.HashSize, t.W, len(body))
		}
		r.fetched++
		out[i] = body
	}
	return out, nil
}

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {
	for i, t := range tiles {
		r.saved[t] = data[i]
	}
}

// bundle fetches the entry bundle of tile n of width w and splits it into its records (each
// after its length as a big-endian uint16); nil, after saying why, when it is not w records.
//
// A bundle holding a record longer than a uint16 length can say is refused by the server (500,
// naming the 65535-byte limit of tlog-tiles); its records are then read from the export instead
// and hashed against the same tile, so no leaf goes unchecked.
func bundle(c *client, n int64, w int) [][]byte {
	path := bundlePath(n, w)
	body, status, err := c.get(path)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	if status == http.StatusInternalServerError && bytes.Contains(body, []byte("65535")) {
		bundlesViaExport++
		return exportRecords(c, n*tileWidth, w)
	}
	if status != http.StatusOK {
		fail("GET %s: expected 200, got %d: %.300s", path, status, body)
	}
	var records [][]byte
	for rest := body; len(rest) > 0; {
		if len(rest) < 2 {
			problem("GET %s: a record's length is cut off after %d records", path, len(records))
			return nil
		}
		size := int(rest[0])<<8 | int(rest[1])
		if len(rest)-2 < size {
			problem("GET %s: record %d claims %d bytes, %d are left", path, len(records), size,
				len(rest)-2)
			return nil
		}
		records = append(records, rest[2:2+size])
		rest = rest[2+size:]
	}
	if len(records) != w {
		problem("GET %s: expected %d records (%d bytes came), got %d", path, w, len(body),
			len(records))
		return nil
	}
	return records
}

var bundlesViaExport int

// exportRecords reads the w records after seq `after` from the export (NDJSON {seq, hash, record}).
func exportRecords(c *client, after int64, w int) [][]byte {
	path := fmt.Sprintf("/api/v1/audit/export?after=%d&limit=%d", after, w)
	body := c.must(path)
	var records [][]byte
	for _, line := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
		var e struct {
			Seq    int64  `json:"seq"`
			Record string `json:"record"`
		}
		if err := json.Unmarshal(line, &e); err != nil {
			fail("GET %s: %v", path, err)
		}
		if e.Seq != after+int64(len(records))+1 {
			fail("GET %s: expected seq %d, got %d", path, after+int64(len(records))+1, e.Seq)
		}
		records = append(records, []byte(e.Record))
	}
	if len(records) != w {
		fail("GET %s: expected %d records, got %d", path, w, len(records))
	}
	return records
}

// ---- Checkpoints --------------------------------------------------------------------------------

type checkpoint struct {
	origin string
	tree   tlog.Tree
	note   []byte
}

// openCheckpoint verifies a signed checkpoint note with the log's key and parses its body.
// tlog.ParseTree reads the checksum database's checkpoints, whose origin line is always
// "go.sum database tree"; a C2SP checkpoint has the same body after its own origin line, so the
// origin is checked here and the rest handed to ParseTree behind the line it expects.
func openCheckpoint(what string, msg []byte, verifiers note.Verifiers, keyName string) checkpoint {
	n, err := note.Open(msg, verifiers)
	if err != nil {
		fail("%s: note.Open: %v\n%s", what, err, msg)
	}
	signed := false
	for _, s := range n.Sigs {
		signed = signed || s.Name == keyName
	}
	if !signed {
		fail("%s: no verified signature by %s", what, keyName)
	}
	lines := strings.SplitN(n.Text, "\n", 2)
	if len(lines) != 2 || lines[0] == "" {
		fail("%s: no origin line: %q", what, n.Text)
	}
	tree, err := tlog.ParseTree([]byte("go.sum database tree\n" + lines[1]))
	if err != nil {
		fail("%s: tlog.ParseTree of the body after the origin line: %v: %q", what, err, n.Text)
	}
	return checkpoint{origin: lines[0], tree: tree, note: msg}
}

// checkTampering: a note with one byte changed, in its text or in its signature, must not open.
func checkTampering(msg []byte, verifiers note.Verifiers) {
	sig := bytes.Index(msg, []byte("\n\n"))
	if sig < 0 {
		fail("the checkpoint note has no blank line before its signatures")
	}
	spots := map[string]int{
		"the size line": bytes.IndexByte(msg, '\n') + 1,
		"the root line": sig - 3,
		// Not the last base64 digit before the padding: some of its bits are padding.
		"the signature's base64": len(msg) - 20,
	}
	for where, i := range spots {
		bad := append([]byte(nil), msg...)
		switch c := bad[i]; {
		case c >= '0' && c <= '8', c >= 'A' && c <= 'Y', c >= 'a' && c <= 'y':
			bad[i] = c + 1
		default:
			bad[i] = 'A'
		}
		if _, err := note.Open(bad, verifiers); err == nil {
			fail("a checkpoint note with one byte changed in %s (offset %d) still opens:\n%s",
				where, i, bad)
		}
	}
}

type listedCheckpoint struct {
	Size   int64  `json:"size"`
	Root   string `json:"root"`
	MadeAt string `json:"made_at"`
	Note   string `json:"note"`
}

// keptCheckpoints pages through /log/checkpoints up to size n.
func keptCheckpoints(c *client, n int64) (string, []listedCheckpoint) {
	var all []listedCheckpoint
	origin := ""
	from := int64(0)
	for pages := 0; ; pages++ {
		if pages > 10000 {
			fail("/log/checkpoints does not end")
		}
		var page struct {
			Origin string             `json:"origin"`
			Items  []listedCheckpoint `json:"items"`
			Next   *int64             `json:"next_from_size"`
		}
		c.mustJSON(fmt.Sprintf("/api/v1/log/checkpoints?from_size=%d&to_size=%d&limit=1000", from, n),
			&page)
		origin = page.Origin
		all = append(all, page.Items...)
		if page.Next == nil {
			break
		}
		if *page.Next <= from {
			fail("/log/checkpoints?from_size=%d: next_from_size %d does not move on", from, *page.Next)
		}
		from = *page.Next
	}
	for i := 1; i < len(all); i++ {
		if all[i].Size <= all[i-1].Size {
			fail("/log/checkpoints: sizes not increasing: %d then %d", all[i-1].Size, all[i].Size)
		}
	}
	return origin, all
}

// ---- Proofs -------------------------------------------------------------------------------------

func parseHash(what, s string) tlog.Hash {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize || s != strings.ToLower(s) {
		fail("%s: not a lowercase hex SHA-256: %q", what, s)
	}
	var h tlog.Hash
	copy(h[:], b)
	return h
}

func parseHashes(what string, list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		out[i] = parseHash(fmt.Sprintf("%s[%d]", what, i), s)
	}
	return out
}

func sameHashes(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// hx writes a hash in lowercase hex, as the API does.
func hx(h tlog.Hash) string { return hex.EncodeToString(h[:]) }

func hexList(hs []tlog.Hash) string {
	s := make([]string, len(hs))
	for i, h := range hs {
		s[i] = hex.EncodeToString(h[:])
	}
	return "[" + strings.Join(s, " ") + "]"
}

// flipped returns a copy of the proof with one bit of hash i changed.
func flipped(p []tlog.Hash, i int) []tlog.Hash {
	q := append([]tlog.Hash(nil), p...)
	q[i][0] ^= 1
	return q
}

type inclusion struct {
	Seq       int64    `json:"seq"`
	LeafIndex int64    `json:"leaf_index"`
	TreeSize  int64    `json:"tree_size"`
	LeafHash  string   `json:"leaf_hash"`
	Root      string   `json:"root"`
	Proof     []string `json:"proof"`
}

// checkInclusion checks the server's inclusion proof of seq in the tree with Go's CheckRecord and
// against Go's own ProveRecord over the tiles; leaf is the record's hash from the tiles.
func checkInclusion(c *client, hr tlog.HashReader, tree tlog.Tree, seq int64, leaf tlog.Hash) {
	path := fmt.Sprintf("/api/v1/log/proof/inclusion?seq=%d&tree_size=%d", seq, tree.N)
	var p inclusion
	c.mustJSON(path, &p)
	if p.Seq != seq || p.LeafIndex != seq-1 || p.TreeSize != tree.N {
		fail("GET %s: expected seq %d, leaf_index %d, tree_size %d; got %d, %d, %d",
			path, seq, seq-1, tree.N, p.Seq, p.LeafIndex, p.TreeSize)
	}
	if got := parseHash(path+" leaf_hash", p.LeafHash); got != leaf {
		fail("GET %s: leaf_hash: expected %s (tlog.RecordHash of the record), got %s", path, hx(leaf), hx(got))
	}
	if got := parseHash(path+" root", p.Root); got != tree.Hash {
		fail("GET %s: root: expected %s, got %s", path, hx(tree.Hash), hx(got))
	}
	proof := tlog.RecordProof(parseHashes(path+" proof", p.Proof))
	if err := tlog.CheckRecord(proof, tree.N, tree.Hash, seq-1, leaf); err != nil {
		fail("GET %s: tlog.CheckRecord rejects the proof: %v: %s", path, err, hexList(proof))
	}
	ours, err := tlog.ProveRecord(tree.N, seq-1, hr)
	if err != nil {
		fail("tlog.ProveRecord(%d, %d) over the tiles: %v", tree.N, seq-1, err)
	}
	if !sameHashes(ours, proof) {
		fail("GET %s: the proof differs from tlog.ProveRecord over the tiles:\nexpected %s\ngot      %s",
			path, hexList(ours), hexList(proof))
	}
	for i := range proof {
		if tlog.CheckRecord(flipped(proof, i), tree.N, tree.Hash, seq-1, leaf) == nil {
			fail("tlog.CheckRecord accepts seq %d's proof in tree %d with hash %d flipped", seq, tree.N, i)
		}
	}
}

type consistency struct {
	FromSize int64    `json:"from_size"`
	ToSize   int64    `json:"to_size"`
	FromRoot string   `json:"from_root"`
	ToRoot   string   `json:"to_root"`
	Proof    []string `json:"proof"`
}

// checkConsistency checks the server's proof that the tree old is a prefix of the tree new with
// Go's CheckTree and against Go's ProveTree over new's tiles.
func checkConsistency(c *client, hr tlog.HashReader, old, new tlog.Tree) {
	path := fmt.Sprintf("/api/v1/log/proof/consistency?from_size=%d&to_size=%d", old.N, new.N)
	var p consistency
	c.mustJSON(path, &p)
	if p.FromSize != old.N || p.ToSize != new.N {
		fail("GET %s: expected from_size %d, to_size %d; got %d, %d", path, old.N, new.N, p.FromSize,
			p.ToSize)
	}
	if got := parseHash(path+" from_root", p.FromRoot); got != old.Hash {
		fail("GET %s: from_root: expected %s, got %s", path, hx(old.Hash), hx(got))
	}
	if got := parseHash(path+" to_root", p.ToRoot); got != new.Hash {
		fail("GET %s: to_root: expected %s, got %s", path, hx(new.Hash), hx(got))
	}
	proof := tlog.TreeProof(parseHashes(path+" proof", p.Proof))
	if err := tlog.CheckTree(proof, new.N, new.Hash, old.N, old.Hash); err != nil {
		fail("GET %s: tlog.CheckTree rejects the proof: %v: %s", path, err, hexList(proof))
	}
	ours, err := tlog.ProveTree(new.N, old.N, hr)
	if err != nil {
		fail("tlog.ProveTree(%d, %d) over the tiles: %v", new.N, old.N, err)
	}
	if !sameHashes(ours, proof) {
		fail("GET %s: the proof differs from tlog.ProveTree over the tiles:\nexpected %s\ngot      %s",
			path, hexList(ours), hexList(proof))
	}
	for i := range proof {
		if tlog.CheckTree(flipped(proof, i), new.N, new.Hash, old.N, old.Hash) == nil {
			fail("tlog.CheckTree accepts the proof from %d to %d with hash %d flipped", old.N, new.N, i)
		}
	}
}

// ---- Main ---------------------------------------------------------------------------------------

// samples picks the seqs whose inclusion is proved: the first and last, powers of two and their
// neighbours, tile edges, and some at random.
func samples(n int64, random int, rng *rand.Rand) []int64 {
	set := map[int64]bool{}
	add := func(s int64) {
		if s >= 1 && s <= n {
			set[s] = true
		}
	}
	add(1)
	add(n)
	add(n - 1)
	for p := int64(1); p <= n; p *= 2 {
		add(p - 1)
		add(p)
		add(p + 1)
	}
	for _, e := range []int64{tileWidth, tileWidth * tileWidth, (n - 1) / tileWidth * tileWidth} {
		add(e)
		add(e + 1)
	}
	for i := 0; i < random; i++ {
		add(1 + rng.Int63n(n))
	}
	out := make([]int64, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func main() {
	url := flag.String("url", "", "the server, http://HOST:PORT")
	token := flag.String("token", "", "a bearer token that sees the whole log (default $TLOG_TOKEN)")
	vkey := flag.String("vkey", "", "the log's verifier key (expertflow key show)")
	oldFile := flag.String("old", "", "a checkpoint note from an earlier run to prove consistency with")
	saveFile := flag.String("save", "", "write the latest checkpoint note here")
	random := flag.Int("random", 24, "how many seqs to sample at random")
	seed := flag.Int64("seed", 0, "random seed (default: the time)")
	flag.Parse()
	if *token == "" {
		*token = os.Getenv("TLOG_TOKEN")
	}
	if *url == "" || *token == "" || *vkey == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: tlogverify -url http://HOST:PORT -token TOKEN -vkey VKEY [-old FILE] [-save FILE]")
		os.Exit(2)
	}
	if *seed == 0 {
		*seed = time.Now().UnixNano()
	}
	rng := rand.New(rand.NewSource(*seed))
	c := &client{base: strings.TrimRight(*url, "/"), token: *token,
		http: &http.Client{Timeout: 60 * time.Second}}

	// The key: given out of band, and the server's own copy must agree.
	verifier, err := note.NewVerifier(*vkey)
	if err != nil {
		fail("note.NewVerifier(%q): %v", *vkey, err)
	}
	verifiers := note.VerifierList(verifier)
	if served := strings.TrimSpace(string(c.must("/api/v1/log/key"))); served != *vkey {
		fail("GET /api/v1/log/key: expected %q, got %q", *vkey, served)
	}

	// The latest checkpoint: signature, body, tampering.
	latestNote := c.must("/api/v1/log/checkpoint")
	latest := openCheckpoint("GET /api/v1/log/checkpoint", latestNote, verifiers, verifier.Name())
	checkTampering(latestNote, verifiers)
	tree := latest.tree
	if tree.N == 0 {
		fail("the latest checkpoint has an empty tree")
	}
	var ready struct {
		HeadSeq int64 `json:"head_seq"`
	}
	c.mustJSON("/readyz", &ready)
	if ready.HeadSeq < tree.N {
		fail("the checkpoint's size %d is past the log's head %d (/readyz)", tree.N, ready.HeadSeq)
	}

	// The tiles: TileHashReader authenticates every tile it reads against the checkpoint's root,
	// and TreeHash recomputes the root from them.
	tr := &tileReader{c: c, saved: map[tlog.Tile][]byte{}}
	hr := tlog.TileHashReader(tree, tr)
	th, err := tlog.TreeHash(tree.N, hr)
	if err != nil {
		fail("tlog.TreeHash(%d) over the tiles: %v", tree.N, err)
	}
	if th != tree.Hash {
		fail("tlog.TreeHash(%d) over the tiles: expected the checkpoint's root %s, got %s", tree.N,
			hx(tree.Hash), hx(th))
	}

	// Every record of every entry bundle must hash (tlog.RecordHash) to its level-0 tile hash.
	seqs := samples(tree.N, *random, rng)
	wanted := map[int64]bool{}
	for _, s := range seqs {
		wanted[s] = true
	}
	records := map[int64][]byte{} // seq -> record from its entry bundle, for the sampled seqs
	bundles, hashed := int64(0), int64(0)
	for n := int64(0); n*tileWidth < tree.N; n++ {
		w := tileWidth
		if rest := tree.N - n*tileWidth; rest < tileWidth {
			w = int(rest)
		}
		recs := bundle(c, n, w)
		bundles++
		if recs == nil {
			continue
		}
		indexes := make([]int64, w)
		for j := range indexes {
			indexes[j] = tlog.StoredHashIndex(0, n*tileWidth+int64(j))
		}
		hashes, err := hr.ReadHashes(indexes)
		if err != nil {
			fail("level-0 hashes of tile %d over the tiles: %v", n, err)
		}
		for j, rec := range recs {
			seq := n*tileWidth + int64(j) + 1
			if got := tlog.RecordHash(rec); got != hashes[j] {
				problem("GET %s: record %d (seq %d): tlog.RecordHash is %s, the level-0 tile has %s",
					bundlePath(n, w), j, seq, hx(got), hx(hashes[j]))
			}
			hashed++
			if wanted[seq] {
				records[seq] = rec
			}
		}
	}

	// The sampled records' hashes, from the level-0 tiles.
	indexes := make([]int64, len(seqs))
	for i, seq := range seqs {
		indexes[i] = tlog.StoredHashIndex(0, seq-1)
	}
	hashes, err := hr.ReadHashes(indexes)
	if err != nil {
		fail("the sampled records' level-0 hashes over the tiles: %v", err)
	}
	leaves := map[int64]tlog.Hash{}
	for i, seq := range seqs {
		leaves[seq] = hashes[i]
	}

	// Sampled records: the same bytes in the export, and inclusion proofs.
	for _, seq := range seqs {
		path := fmt.Sprintf("/api/v1/audit/export?after=%d&limit=1", seq-1)
		line, err := bufio.NewReader(bytes.NewReader(c.must(path))).ReadBytes('\n')
		if err != nil && err != io.EOF {
			fail("GET %s: %v", path, err)
		}
		var row struct {
			Seq    int64  `json:"seq"`
			Record string `json:"record"`
		}
		if err := json.Unmarshal(line, &row); err != nil {
			fail("GET %s: not an NDJSON line (%v): %.300s", path, err, line)
		}
		if row.Seq != seq {
			fail("GET %s: expected seq %d, got %d", path, seq, row.Seq)
		}
		if got := tlog.RecordHash([]byte(row.Record)); got != leaves[seq] {
			problem("GET %s: seq %d's record: tlog.RecordHash is %s, the level-0 tile has %s", path,
				seq, hx(got), hx(leaves[seq]))
		}
		if rec, ok := records[seq]; ok && row.Record != string(rec) {
			problem("GET %s: seq %d's record differs from its entry bundle's: %.200q, %.200q", path,
				seq, row.Record, rec)
		}
		checkInclusion(c, hr, tree, seq, leaves[seq])
	}
	inclusions := len(seqs)

	// Consistency: every earlier checkpoint the server kept (each signature checked again, its
	// root recomputed from the latest tree's tiles and from its own), then unsigned sizes.
	consistencies, signedConsistencies := 0, 0
	origin, kept := keptCheckpoints(c, tree.N)
	if origin != latest.origin {
		fail("/log/checkpoints: origin %q, the checkpoint's is %q", origin, latest.origin)
	}
	if len(kept) == 0 || kept[len(kept)-1].Size != tree.N ||
		kept[len(kept)-1].Note != string(latestNote) {
		fail("/log/checkpoints?to_size=%d: the latest checkpoint (size %d) is not the last kept", tree.N,
			tree.N)
	}
	checkOld := func(what string, old checkpoint) {
		if old.origin != latest.origin {
			fail("%s: origin %q, the latest checkpoint's is %q", what, old.origin, latest.origin)
		}
		if old.tree.N > tree.N {
			fail("%s: size %d is past the latest checkpoint's %d", what, old.tree.N, tree.N)
		}
		// Its own tiles (partial ones at its width) must give its root...
		oldHR := tlog.TileHashReader(old.tree, tr)
		if h, err := tlog.TreeHash(old.tree.N, oldHR); err != nil || h != old.tree.Hash {
			fail("%s: tlog.TreeHash(%d) over its tiles: expected %s, got %s (%v)", what, old.tree.N,
				hx(old.tree.Hash), hx(h), err)
		}
		// ...and so must the latest tree's.
		if h, err := tlog.TreeHash(old.tree.N, hr); err != nil || h != old.tree.Hash {
			fail("%s: tlog.TreeHash(%d) over the latest tree's tiles: expected %s, got %s (%v)", what,
				old.tree.N, hx(old.tree.Hash), hx(h), err)
		}
		if old.tree.N < tree.N {
			checkConsistency(c, hr, old.tree, tree)
			consistencies++
			signedConsistencies++
			// Its last record is in both trees.
			last, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, old.tree.N-1)})
			if err != nil {
				fail("%s: the hash of leaf %d: %v", what, old.tree.N-1, err)
			}
			checkInclusion(c, oldHR, old.tree, old.tree.N, last[0])
			inclusions++
		}
	}
	earlier := kept[:len(kept)-1]
	if len(earlier) > 40 { // the first, the last and some between
		pick := []listedCheckpoint{earlier[0], earlier[len(earlier)-1]}
		for i := 0; i < 38; i++ {
			pick = append(pick, earlier[rng.Intn(len(earlier))])
		}
		earlier = pick
	}
	for _, k := range earlier {
		what := fmt.Sprintf("/log/checkpoints item of size %d", k.Size)
		old := openCheckpoint(what, []byte(k.Note), verifiers, verifier.Name())
		if old.tree.N != k.Size || parseHash(what+" root", k.Root) != old.tree.Hash {
			fail("%s: size %d and root %s, its note says %d and %s", what, k.Size, k.Root, old.tree.N,
				hx(old.tree.Hash))
		}
		checkOld(what, old)
	}
	if *oldFile != "" {
		msg, err := os.ReadFile(*oldFile)
		if err != nil {
			fail("%v", err)
		}
		old := openCheckpoint("the earlier checkpoint "+*oldFile, msg, verifiers, verifier.Name())
		if old.tree.N >= tree.N {
			fail("the earlier checkpoint's size %d is not below the latest's %d: no newer checkpoint",
				old.tree.N, tree.N)
		}
		checkOld("the earlier checkpoint "+*oldFile, old)
	}
	sizes := map[int64]bool{}
	for _, m := range []int64{1, 2, 3, 7, 8, 9, 255, 256, 257, 65535, 65536, 65537, tree.N - 1,
		tree.N / 2, 1 + rng.Int63n(tree.N), 1 + rng.Int63n(tree.N)} {
		if m >= 1 && m < tree.N {
			sizes[m] = true
		}
	}
	for m := range sizes {
		h, err := tlog.TreeHash(m, hr)
		if err != nil {
			fail("tlog.TreeHash(%d) over the tiles: %v", m, err)
		}
		checkConsistency(c, hr, tlog.Tree{N: m, Hash: h}, tree)
		consistencies++
	}

	if len(problems) > 0 {
		fail("%d problems (above); the first: %s", len(problems), problems[0])
	}
	if *saveFile != "" {
		if err := os.WriteFile(*saveFile, latestNote, 0o644); err != nil {
			fail("%v", err)
		}
	}
	fmt.Printf("tlogverify: OK: %s size %d root %s: signature checked (tampered notes refused); "+
		"%d records in %d entry bundles hashed against %d tiles; %d inclusion proofs, %d consistency "+
		"proofs (%d from signed checkpoints) checked; flipped hashes refused; %d requests, seed %s\n",
		latest.origin, tree.N, hx(tree.Hash), hashed, bundles, tr.fetched, inclusions, consistencies,
		signedConsistencies, c.requests, strconv.FormatInt(*seed, 10))
	if bundlesViaExport > 0 {
		fmt.Printf("%d entry bundles hold a record over 65535 bytes; their records were read from "+
			"the export and hashed against the same tiles\n", bundlesViaExport)
	}
}
