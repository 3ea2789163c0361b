// Command note_interop is the Go side of the interoperability test of engine/core/note: it runs
// Go's own golang.org/x/mod/sumdb/note and sumdb/tlog on what the C++ side hands it. Messages are
// read from standard input; results go to standard output; any failure exits with status 1.
//
//	note_interop verify <vkey>   a signed note on stdin must verify with the verifier key
//	note_interop sign <skey>     signs the note text on stdin, writes the signed note
//	note_interop keygen <name>   writes a new private key and its verifier key, one a line
//	note_interop tree            parses the checkpoint text on stdin, writes its size and root
//
// Build it in GOPATH mode from the distribution's packages (nothing is downloaded):
// GO111MODULE=off GOPATH=<the packages' gocode folder> go build.
package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "note_interop: "+format+"\n", args...)
	os.Exit(1)
}

func stdin() []byte {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	return data
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: note_interop verify <vkey> | sign <skey> | keygen <name> | tree")
	}
	switch cmd := os.Args[1]; {
	case cmd == "verify" && len(os.Args) == 3:
		v, err := note.NewVerifier(os.Args[2])
		if err != nil {
			fail("verifier key: %v", err)
		}
		n, err := note.Open(stdin(), note.VerifierList(v))
		if err != nil {
			fail("open: %v", err)
		}
		for _, sig := range n.Sigs {
			fmt.Printf("verified %s %08x\n", sig.Name, sig.Hash)
		}
	case cmd == "sign" && len(os.Args) == 3:
		s, err := note.NewSigner(os.Args[2])
		if err != nil {
			fail("signer key: %v", err)
		}
		msg, err := note.Sign(&note.Note{Text: string(stdin())}, s)
		if err != nil {
			fail("sign: %v", err)
		}
		os.Stdout.Write(msg)
	case cmd == "keygen" && len(os.Args) == 3:
		skey, vkey, err := note.GenerateKey(rand.Reader, os.Args[2])
		if err != nil {
			fail("keygen: %v", err)
		}
		fmt.Printf("%s\n%s\n", skey, vkey)
	case cmd == "tree" && len(os.Args) == 2:
		tree, err := tlog.ParseTree(stdin())
		if err != nil {
			fail("tree: %v", err)
		}
		fmt.Printf("%d\n%s\n", tree.N, tree.Hash)
	default:
		fail("unknown command or wrong arguments: %q", os.Args[1:])
	}
}
