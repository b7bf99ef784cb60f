package mapstore

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
)

// A snapshot is the whole FleetState, written so that any later version
// can read it:
//
//	header:  "MOXIFLEET"  version uint16 (big-endian)  Index uint64 (big-endian)
//	records: type byte  length uvarint  payload (JSON object)
//	end:     type 0     length 4        CRC-32C (big-endian) of every byte before it
//
// One recSource record (if a source is set) precedes the recConfig
// records, which come in increasing Section order. A reader skips a record
// whose type it does not know when the type has recIgnoreUnknown set, and
// refuses it otherwise, as Apply does with commands. The CRC is there for
// local state files: raft checks its own snapshots, but nothing else would
// catch a flipped bit in a config body.
const (
	snapshotMagic   = "MOXIFLEET"
	snapshotVersion = 1
	// maxRecordSize bounds one record so that a damaged length cannot
	// make a reader wait for, or buffer, gigabytes. Real configs are a few
	// MB at most.
	maxRecordSize = 256 << 20
)

// recordType numbers are never reused: a retired type stays listed,
// marked Deprecated, and readers keep discarding it.
type recordType uint8

const (
	recEnd           recordType = 0
	recSource        recordType = 1 // payload: SourceRecord
	recConfig        recordType = 2 // payload: ConfigRecord
	recIgnoreUnknown recordType = 0x80
)

// ErrBadSnapshot wraps every reason a snapshot cannot be read other than
// an I/O error of the underlying reader: wrong magic or version, a
// truncated or damaged stream, inconsistent records.
var ErrBadSnapshot = errors.New("mapstore: bad snapshot")

// snapshotCRC returns the checksum used by the end record.
func snapshotCRC() hash.Hash32 { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }

// WriteSnapshot writes st to w in the snapshot format. It buffers its
// writes and flushes before returning; it does not close w.
func WriteSnapshot(w io.Writer, st *FleetState) error {
	sw := &snapWriter{w: bufio.NewWriter(w), crc: snapshotCRC()}
	var hdr [len(snapshotMagic) + 2 + 8]byte
	copy(hdr[:], snapshotMagic)
	binary.BigEndian.PutUint16(hdr[len(snapshotMagic):], snapshotVersion)
	binary.BigEndian.PutUint64(hdr[len(snapshotMagic)+2:], st.Index)
	sw.write(hdr[:])
	if st.Source != nil {
		sw.record(recSource, st.Source)
	}
	for i := range st.Configs {
		sw.record(recConfig, &st.Configs[i])
	}
	sw.writeRecordHeader(recEnd, 4)
	sw.write(binary.BigEndian.AppendUint32(nil, sw.crc.Sum32()))
	if sw.err == nil {
		sw.err = sw.w.Flush()
	}
	if sw.err != nil {
		return fmt.Errorf("write snapshot: %w", sw.err)
	}
	return nil
}

// snapWriter keeps the first error so WriteSnapshot can check once.
type snapWriter struct {
	w   *bufio.Writer
	crc hash.Hash32
	err error
}

func (sw *snapWriter) write(p []byte) {
	if sw.err != nil {
		return
	}
	sw.crc.Write(p) // hash.Hash never fails
	_, sw.err = sw.w.Write(p)
}

func (sw *snapWriter) writeRecordHeader(t recordType, n int) {
	sw.write(binary.AppendUvarint([]byte{byte(t)}, uint64(n)))
}

func (sw *snapWriter) record(t recordType, v any) {
	payload, err := json.Marshal(v)
	if err != nil {
		// Only a time outside years 0-9999 can fail.
		sw.err = fmt.Errorf("encode record type %d: %w", t, err)
		return
	}
	sw.writeRecordHeader(t, len(payload))
	sw.write(payload)
}

// ReadSnapshot reads a snapshot that WriteSnapshot wrote. It reads r to
// its end: bytes after the end record are an error, as is a short stream.
func ReadSnapshot(r io.Reader) (*FleetState, error) {
	sr := &snapReader{r: bufio.NewReader(r), crc: snapshotCRC()}
	st, err := sr.read()
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	return st, nil
}

// snapReader checksums every byte it hands out, so the end record can be
// checked against exactly what was parsed.
type snapReader struct {
	r       *bufio.Reader
	crc     hash.Hash32
	readErr error   // the last error ReadByte returned
	one     [1]byte // ReadByte's hashing buffer, to avoid an allocation per byte
}

func (sr *snapReader) ReadByte() (byte, error) {
	b, err := sr.r.ReadByte()
	if err != nil {
		sr.readErr = truncated(err)
		return 0, sr.readErr
	}
	sr.one[0] = b
	sr.crc.Write(sr.one[:])
	return b, nil
}

// readN reads n bytes, growing the buffer only as data arrives so that a
// damaged length in a short stream costs nothing.
func (sr *snapReader) readN(n uint64) ([]byte, error) {
	buf, err := io.ReadAll(io.LimitReader(sr.r, int64(n)))
	if err != nil {
		return nil, err
	}
	if uint64(len(buf)) != n {
		return nil, truncated(io.ErrUnexpectedEOF)
	}
	sr.crc.Write(buf)
	return buf, nil
}

// truncated turns an early end of input into ErrBadSnapshot; other reader
// errors pass through unchanged.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated: %w", ErrBadSnapshot, io.ErrUnexpectedEOF)
	}
	return err
}

func (sr *snapReader) read() (*FleetState, error) {
	st, err := sr.header()
	if err != nil {
		return nil, err
	}
	for {
		t, n, err := sr.recordHeader()
		if err != nil {
			return nil, err
		}
		if t == recEnd {
			return st, sr.end(n)
		}
		payload, err := sr.readN(n)
		if err != nil {
			return nil, err
		}
		if err := addRecord(st, t, payload); err != nil {
			return nil, err
		}
	}
}

func (sr *snapReader) header() (*FleetState, error) {
	hdr, err := sr.readN(uint64(len(snapshotMagic) + 2 + 8))
	if err != nil {
		return nil, err
	}
	if string(hdr[:len(snapshotMagic)]) != snapshotMagic {
		return nil, fmt.Errorf("%w: not a moxi fleet snapshot", ErrBadSnapshot)
	}
	if v := binary.BigEndian.Uint16(hdr[len(snapshotMagic):]); v != snapshotVersion {
		return nil, fmt.Errorf("%w: unsupported format version %d", ErrBadSnapshot, v)
	}
	return &FleetState{Index: binary.BigEndian.Uint64(hdr[len(snapshotMagic)+2:])}, nil
}

func (sr *snapReader) recordHeader() (recordType, uint64, error) {
	t, err := sr.ReadByte()
	if err != nil {
		return 0, 0, err
	}
	n, err := binary.ReadUvarint(sr)
	switch {
	case err != nil && sr.readErr != nil:
		return 0, 0, err // from ReadByte: a short stream or an I/O error
	case err != nil: // a length of more than 64 bits
		return 0, 0, fmt.Errorf("%w: record length: %w", ErrBadSnapshot, err)
	case n > maxRecordSize:
		return 0, 0, fmt.Errorf("%w: record type %d of %d bytes", ErrBadSnapshot, t, n)
	}
	return recordType(t), n, nil
}

// end checks the end record's checksum and that nothing follows it.
func (sr *snapReader) end(n uint64) error {
	if n != 4 {
		return fmt.Errorf("%w: end record of %d bytes", ErrBadSnapshot, n)
	}
	want := sr.crc.Sum32()
	sum, err := sr.readN(4)
	if err != nil {
		return err
	}
	if got := binary.BigEndian.Uint32(sum); got != want {
		return fmt.Errorf("%w: checksum %08x, want %08x", ErrBadSnapshot, got, want)
	}
	if _, err := sr.r.ReadByte(); err != io.EOF {
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: data after end record", ErrBadSnapshot)
	}
	return nil
}

// addRecord adds one record to st, checking the invariants Apply keeps:
// one source, set before any config; sections in increasing order; no
// record newer than the state's Index.
func addRecord(st *FleetState, t recordType, payload []byte) error {
	switch t {
	case recSource:
		if st.Source != nil || len(st.Configs) > 0 {
			return fmt.Errorf("%w: source record out of place", ErrBadSnapshot)
		}
		var rec SourceRecord
		if err := decodeRecord(t, payload, &rec); err != nil {
			return err
		}
		st.Source = &rec
		return checkRecordIndex(t, rec.Index, st.Index)
	case recConfig:
		if st.Source == nil {
			return fmt.Errorf("%w: config record without a source", ErrBadSnapshot)
		}
		var rec ConfigRecord
		if err := decodeRecord(t, payload, &rec); err != nil {
			return err
		}
		if n := len(st.Configs); n > 0 && st.Configs[n-1].Section >= rec.Section {
			return fmt.Errorf("%w: config section %d out of order", ErrBadSnapshot, rec.Section)
		}
		st.Configs = append(st.Configs, rec)
		return checkRecordIndex(t, rec.Index, st.Index)
	}
	if t&recIgnoreUnknown == 0 {
		return fmt.Errorf("%w: unknown record type %d", ErrBadSnapshot, t)
	}
	return nil // a newer writer's optional record
}

func decodeRecord(t recordType, payload []byte, v any) error {
	if err := decodePayload(payload, v); err != nil {
		return fmt.Errorf("%w: record type %d: %w", ErrBadSnapshot, t, err)
	}
	return nil
}

func checkRecordIndex(t recordType, rec, state uint64) error {
	if rec > state {
		return fmt.Errorf("%w: record type %d at index %d, after the state's %d",
			ErrBadSnapshot, t, rec, state)
	}
	return nil
}

// SaveStateFile writes st to path atomically: a crash leaves either the
// old file or the new one, never a mix. The file is created mode 0600
// because bucket configs carry SASL passwords. Calls for one path must not
// overlap: they share path+".tmp".
func SaveStateFile(path string, st *FleetState) (err error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("save state file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close() // may be closed already; only the first error matters
			os.Remove(tmp)
		}
	}()
	if err := WriteSnapshot(f, st); err != nil {
		return fmt.Errorf("save state file %s: %w", path, err)
	}
	// Sync before rename: otherwise a crash can leave the new name
	// pointing at a file whose data never reached the disk.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("save state file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save state file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save state file: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename in dir durable. Windows cannot open a directory
// for syncing and orders renames itself.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync state dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync state dir: %w", err)
	}
	return nil
}

// LoadStateFile reads a state file SaveStateFile wrote. A missing file
// returns an error for which errors.Is(err, os.ErrNotExist) holds, which a
// first start expects.
func LoadStateFile(path string) (*FleetState, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load state file: %w", err)
	}
	defer f.Close()
	st, err := ReadSnapshot(f)
	if err != nil {
		return nil, fmt.Errorf("load state file %s: %w", path, err)
	}
	return st, nil
}
