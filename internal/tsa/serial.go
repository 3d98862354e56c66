package tsa

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/signet-nuget/signet/internal/atomicfile"
)

// SerialSource hands out TSTInfo serial numbers (RFC 3161 section 2.4.2:
// unique for each token a TSA issues).
//
// Contract: Next is safe for concurrent use and never returns a value it, or
// any earlier instance over the same storage, returned before, including
// across process restarts and crashes. A value is handed out only once it is
// durable. An error means no serial was issued and the request must fail.
type SerialSource interface {
	Next() (*big.Int, error)
}

// fileSerialBlock is how many serials one durable reservation covers: one
// fsync and rename per this many tokens, and at most this many values
// skipped when the process stops.
const fileSerialBlock = 1024

// maxSerialFileSize bounds the serial file; it holds one decimal number.
const maxSerialFileSize = 256

// FileSerials is a SerialSource backed by a file that holds the first value
// not yet reserved. Values are handed out from a block reserved in memory;
// before the first value of a block is handed out, the end of the block is
// written to the file durably (temporary file, fsync, atomic rename, directory
// fsync). After a restart counting resumes at the recorded value, so the
// unused rest of a block is skipped and nothing repeats. Serials start at 1.
//
// One file must serve one process at a time; on Unix an advisory lock on
// path+".lock" enforces it.
type FileSerials struct {
	path   string
	unlock func()

	mu       sync.Mutex
	next     *big.Int // next value to hand out
	reserved *big.Int // first value not covered by the file's reservation
}

// NewFileSerials opens (or creates) the serial file at path. Close releases
// the lock.
func NewFileSerials(path string) (*FileSerials, error) {
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, fmt.Errorf("tsa: serial file %q: %w", path, err)
	}
	start, err := readSerialFile(path)
	if err != nil {
		unlock()
		return nil, err
	}
	return &FileSerials{path: path, unlock: unlock, next: start, reserved: new(big.Int).Set(start)}, nil
}

// readSerialFile returns the recorded value, or 1 when the file is absent.
func readSerialFile(path string) (*big.Int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return big.NewInt(1), nil
	}
	if err != nil {
		return nil, fmt.Errorf("tsa: serial file: %w", err)
	}
	defer f.Close()
	buf := make([]byte, maxSerialFileSize+1)
	n, _ := f.Read(buf)
	if n > maxSerialFileSize {
		return nil, fmt.Errorf("tsa: serial file %q is too large", path)
	}
	text := strings.TrimSpace(string(buf[:n]))
	v, ok := new(big.Int).SetString(text, 10)
	if !ok || v.Sign() <= 0 {
		return nil, fmt.Errorf("tsa: serial file %q does not hold a positive number", path)
	}
	return v, nil
}

// Next returns the next serial, reserving a new block first when needed.
func (s *FileSerials) Next() (*big.Int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unlock == nil {
		return nil, errors.New("tsa: serial source is closed")
	}
	if s.next.Cmp(s.reserved) >= 0 {
		end := new(big.Int).Add(s.next, big.NewInt(fileSerialBlock))
		if err := atomicfile.WriteFile(s.path, []byte(end.String()+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("tsa: reserve serials: %w", err)
		}
		s.reserved = end
	}
	v := new(big.Int).Set(s.next)
	s.next.Add(s.next, big.NewInt(1))
	return v, nil
}

// Close releases the file lock. The unused part of the current block is
// skipped by the next instance.
func (s *FileSerials) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unlock != nil {
		s.unlock()
		s.unlock = nil
	}
	return nil
}

// RandomSerials is a SerialSource that needs no storage: each serial is 128
// bits, the first 64 the time in nanoseconds since 1970 (top bit cleared, so
// the INTEGER is positive and within RFC 3161's 160-bit bound) and the last
// 64 from crypto/rand. Within one process the time half strictly increases,
// so serials never repeat; across restarts or replicas two serials collide
// only with the same time half and the same 64 random bits, a chance of
// 2^-64 per pair even when a clock steps backwards. Use FileSerials where a
// guarantee rather than a probability is wanted.
type RandomSerials struct {
	mu   sync.Mutex
	last uint64 // last time prefix handed out, to keep prefixes increasing
	now  func() time.Time
}

// NewRandomSerials returns a RandomSerials using the system clock.
func NewRandomSerials() *RandomSerials { return &RandomSerials{now: time.Now} }

// Next returns a fresh serial.
func (r *RandomSerials) Next() (*big.Int, error) {
	var tail [8]byte
	if _, err := rand.Read(tail[:]); err != nil {
		return nil, fmt.Errorf("tsa: serial: %w", err)
	}
	r.mu.Lock()
	prefix := uint64(r.now().UnixNano()) & (1<<63 - 1)
	if prefix <= r.last {
		prefix = r.last + 1 // strictly increasing within this process
	}
	r.last = prefix
	r.mu.Unlock()
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, prefix)
	b.Write(tail[:])
	return new(big.Int).SetBytes(b.Bytes()), nil
}
