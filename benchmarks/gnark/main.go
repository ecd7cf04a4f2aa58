// Command gnarkprove proves a circom-format R1CS (.r1cs) with a .wtns witness using gnark's
// Groth16 over BN254: the peer of benchmarks/gnark_bench.py.
//
// The .r1cs and .wtns binary formats (iden3) are read here directly. Every R1CS row
// A·z × B·z = C·z becomes one gnark constraint (constraint.R1C) added to gnark's R1CS with
// the generic R1C blueprint; every circom wire becomes a gnark variable with the same index
// (wire 0 = gnark's constant-one public variable, public wires next, then the private ones as
// secret variables), so the system gnark proves has exactly the rows, wires and public inputs
// of ours. All wires are witness inputs: gnark's solver only checks the rows.
//
// Usage: gnarkprove -r1cs C.r1cs -wtns W.wtns
// It sets up (gnark's own Groth16 setup), proves once and verifies (warm-up), prints
// "ready <constraints> <wires>", then reads commands on stdin: "prove" proves once and prints a
// JSON line {"wall_s", "cpu_s"} (process CPU time: user + system, all threads); "quit" exits.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"syscall"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/constraint"
	cs_bn254 "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/logger"
	"github.com/rs/zerolog"
)

type section struct {
	kind uint32
	data []byte
}

// container reads an iden3 binary file: magic, u32 version, u32 count, sections (u32 type,
// u64 size, bytes).
func container(path, magic string) ([]section, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) < 12 || string(raw[:4]) != magic {
		return nil, fmt.Errorf("%s: not a %s file", path, magic)
	}
	n := binary.LittleEndian.Uint32(raw[8:12])
	off := 12
	var out []section
	for i := uint32(0); i < n; i++ {
		if off+12 > len(raw) {
			return nil, fmt.Errorf("%s: truncated section header", path)
		}
		kind := binary.LittleEndian.Uint32(raw[off:])
		size := int(binary.LittleEndian.Uint64(raw[off+4:]))
		off += 12
		if off+size > len(raw) {
			return nil, fmt.Errorf("%s: truncated section %d", path, kind)
		}
		out = append(out, section{kind, raw[off : off+size]})
		off += size
	}
	return out, nil
}

func find(secs []section, kind uint32) ([]byte, error) {
	for _, s := range secs {
		if s.kind == kind {
			return s.data, nil
		}
	}
	return nil, fmt.Errorf("section %d missing", kind)
}

// leInt reads an n8-byte little-endian integer.
func leInt(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(be)
}

type header struct {
	n8, nWires, nPubOut, nPubIn, nPrvIn, nConstraints int
}

func loadR1CS(path string) (*cs_bn254.R1CS, header, error) {
	var h header
	secs, err := container(path, "r1cs")
	if err != nil {
		return nil, h, err
	}
	hd, err := find(secs, 1)
	if err != nil {
		return nil, h, err
	}
	h.n8 = int(binary.LittleEndian.Uint32(hd))
	if h.n8 != 32 || leInt(hd[4:36]).Cmp(fr.Modulus()) != 0 {
		return nil, h, errors.New("not a BN254 scalar-field R1CS")
	}
	p := hd[36:]
	h.nWires = int(binary.LittleEndian.Uint32(p))
	h.nPubOut = int(binary.LittleEndian.Uint32(p[4:]))
	h.nPubIn = int(binary.LittleEndian.Uint32(p[8:]))
	h.nPrvIn = int(binary.LittleEndian.Uint32(p[12:]))
	h.nConstraints = int(binary.LittleEndian.Uint32(p[24:]))
	body, err := find(secs, 2)
	if err != nil {
		return nil, h, err
	}
	cs := cs_bn254.NewR1CS(h.nConstraints)
	nPub := h.nPubOut + h.nPubIn
	cs.AddPublicVariable("1")
	for i := 1; i <= nPub; i++ {
		cs.AddPublicVariable(fmt.Sprintf("w%d", i))
	}
	for i := nPub + 1; i < h.nWires; i++ {
		cs.AddSecretVariable(fmt.Sprintf("w%d", i))
	}
	bID := cs.AddBlueprint(&constraint.BlueprintGenericR1C{})
	off := 0
	lc := func() (constraint.LinearExpression, error) {
		if off+4 > len(body) {
			return nil, errors.New("truncated constraints section")
		}
		n := int(binary.LittleEndian.Uint32(body[off:]))
		off += 4
		out := make(constraint.LinearExpression, 0, n)
		for k := 0; k < n; k++ {
			if off+4+h.n8 > len(body) {
				return nil, errors.New("truncated constraints section")
			}
			wire := int(binary.LittleEndian.Uint32(body[off:]))
			if wire >= h.nWires {
				return nil, fmt.Errorf("wire %d out of range", wire)
			}
			var e fr.Element
			e.SetBigInt(leInt(body[off+4 : off+4+h.n8]))
			off += 4 + h.n8
			out = append(out, cs.MakeTerm(cs.FromInterface(e), wire))
		}
		return out, nil
	}
	for c := 0; c < h.nConstraints; c++ {
		var r constraint.R1C
		if r.L, err = lc(); err != nil {
			return nil, h, err
		}
		if r.R, err = lc(); err != nil {
			return nil, h, err
		}
		if r.O, err = lc(); err != nil {
			return nil, h, err
		}
		cs.AddR1C(r, bID)
	}
	return cs, h, nil
}

func loadWitness(path string, h header) (witness.Witness, error) {
	secs, err := container(path, "wtns")
	if err != nil {
		return nil, err
	}
	hd, err := find(secs, 1)
	if err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(hd[36:]))
	if n != h.nWires {
		return nil, fmt.Errorf("witness has %d values, the R1CS %d wires", n, h.nWires)
	}
	vals, err := find(secs, 2)
	if err != nil || len(vals) != 32*n {
		return nil, errors.New("bad witness values section")
	}
	w, err := witness.New(ecc.BN254.ScalarField())
	if err != nil {
		return nil, err
	}
	nPub := h.nPubOut + h.nPubIn
	ch := make(chan any, n)
	for i := 1; i < n; i++ { // wire 0 (the constant one) is not part of a gnark witness
		var e fr.Element
		e.SetBigInt(leInt(vals[32*i : 32*i+32]))
		ch <- e
	}
	close(ch)
	if err := w.Fill(nPub, n-1-nPub, ch); err != nil {
		return nil, err
	}
	return w, nil
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gnarkprove:", err)
	os.Exit(1)
}

func main() {
	r1csPath := flag.String("r1cs", "", "circom-format .r1cs file")
	wtnsPath := flag.String("wtns", "", ".wtns witness of it")
	flag.Parse()
	if *r1csPath == "" || *wtnsPath == "" {
		fail(errors.New("usage: gnarkprove -r1cs C.r1cs -wtns W.wtns"))
	}
	logger.Set(zerolog.New(io.Discard))
	cs, h, err := loadR1CS(*r1csPath)
	if err != nil {
		fail(err)
	}
	w, err := loadWitness(*wtnsPath, h)
	if err != nil {
		fail(err)
	}
	pk, vk, err := groth16.Setup(cs)
	if err != nil {
		fail(err)
	}
	pub, err := w.Public()
	if err != nil {
		fail(err)
	}
	proof, err := groth16.Prove(cs, pk, w)
	if err != nil {
		fail(err)
	}
	if err := groth16.Verify(proof, vk, pub); err != nil {
		fail(fmt.Errorf("gnark's proof does not verify: %w", err))
	}
	fmt.Printf("ready %d %d\n", cs.GetNbConstraints(), h.nWires)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "prove":
			c0, t0 := cpuSeconds(), time.Now()
			if _, err := groth16.Prove(cs, pk, w); err != nil {
				fail(err)
			}
			out, _ := json.Marshal(map[string]float64{
				"wall_s": time.Since(t0).Seconds(), "cpu_s": cpuSeconds() - c0})
			fmt.Println(string(out))
		case "quit":
			return
		default:
			fail(fmt.Errorf("unknown command %q", in.Text()))
		}
	}
}
