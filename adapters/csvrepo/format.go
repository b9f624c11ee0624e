package csvrepo

import (
	"bytes"
	"crypto/x509"
	"encoding/csv"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/snowmerak/clustering/core"
)

// Columns are the CSV columns, in order. The seed's eight come first; Port and
// Labels are optional (a row has 8, 10 or 11 fields), and Revision is written
// only in the repository's own file. Labels is URL query encoding
// ("k=v&k2=v2"); an optional header row naming the columns is skipped.
var Columns = []string{"Region", "Zone", "Rack", "IP", "Domain", "Weight", "HashKey", "PEMData", "Port", "Labels", "Revision"}

const (
	seedColumns   = 8  // Region .. PEMData
	exportColumns = 10 // + Port, Labels
	fileColumns   = 11 // + Revision
	maxRowErrors  = 20 // row errors reported before the rest are counted
	// metaPrefix starts the repository file's first line, which records the
	// registry revision: "# clustering members v1 revision=N".
	metaPrefix = "# clustering members v1 revision="
)

// Import reads members from CSV (with or without a header row, 8, 10 or 11
// fields a row). It checks every row and loads nothing unless all are valid:
// the error lists each bad row by line number and wraps core.ErrInvalidInput.
func Import(r io.Reader) ([]core.Member, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("csvrepo: import: %w", err)
	}
	ms, _, err := decode(data)
	return ms, err
}

// Export writes members as CSV with a header row and the seed's eight
// columns followed by Port and Labels.
func Export(w io.Writer, members []core.Member) error {
	return encode(w, members, exportColumns)
}

// encode writes the header and one row per member with the first n columns.
func encode(w io.Writer, members []core.Member, n int) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns[:n]); err != nil {
		return fmt.Errorf("csvrepo: write header: %w", err)
	}
	for _, m := range members {
		if err := cw.Write(row(m)[:n]); err != nil {
			return fmt.Errorf("csvrepo: write member %s: %w", m.ID.Short(), err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("csvrepo: write: %w", err)
	}
	return nil
}

func row(m core.Member) []string {
	ip, port := "", ""
	if m.IP.IsValid() {
		ip = m.IP.String()
	}
	if m.Port != 0 {
		port = strconv.Itoa(int(m.Port))
	}
	labels := make(url.Values, len(m.Labels))
	for k, v := range m.Labels {
		labels.Set(k, v)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: m.Certificate})
	return []string{m.Region, m.Zone, m.Rack, ip, m.Domain, strconv.Itoa(m.Weight), m.ID.String(),
		string(certPEM), port, labels.Encode(), strconv.FormatInt(m.Revision, 10)}
}

// decode parses every row, returning the members in file order (Revision 0
// where the row has none) and the registry revision of the first line's
// metadata (0 without one), or all row errors joined.
func decode(data []byte) ([]core.Member, int64, error) {
	var (
		metaRev int64
		offset  int
	)
	if bytes.HasPrefix(data, []byte(metaPrefix)) {
		first, rest, _ := bytes.Cut(data, []byte("\n"))
		v, err := strconv.ParseInt(strings.TrimSpace(string(first[len(metaPrefix):])), 10, 64)
		if err != nil || v < 0 {
			return nil, 0, fmt.Errorf("csvrepo: line 1: bad revision in %q: %w", first, core.ErrInvalidInput)
		}
		metaRev, data, offset = v, rest, 1
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	var (
		members []core.Member
		errs    []error
		bad     int
		seen    = map[core.NodeID]int{}
	)
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// Broken quoting leaves the reader's position unreliable: stop here.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				pe.StartLine += offset
				pe.Line += offset
			}
			errs = append(errs, fmt.Errorf("%v: %w", err, core.ErrInvalidInput))
			bad++
			break
		}
		line, _ := cr.FieldPos(0)
		line += offset
		if first && isHeader(rec) {
			continue
		}
		m, err := parseRow(rec)
		if err == nil {
			if prev, dup := seen[m.ID]; dup {
				err = fmt.Errorf("HashKey %s already on line %d: %w", m.ID.Short(), prev, core.ErrInvalidInput)
			}
		}
		if err != nil {
			if bad++; bad <= maxRowErrors {
				errs = append(errs, fmt.Errorf("line %d: %w", line, err))
			}
			continue
		}
		seen[m.ID] = line
		members = append(members, m)
	}
	if bad > maxRowErrors {
		errs = append(errs, fmt.Errorf("%d more bad rows: %w", bad-maxRowErrors, core.ErrInvalidInput))
	}
	if len(errs) > 0 {
		return nil, 0, fmt.Errorf("csvrepo: %d bad rows, nothing loaded: %w", bad, errors.Join(errs...))
	}
	return members, metaRev, nil
}

func isHeader(rec []string) bool {
	if len(rec) < seedColumns || len(rec) > fileColumns {
		return false
	}
	for i, f := range rec {
		if !strings.EqualFold(strings.TrimSpace(f), Columns[i]) {
			return false
		}
	}
	return true
}

// parseRow checks one record; every error wraps core.ErrInvalidInput.
func parseRow(rec []string) (core.Member, error) {
	var m core.Member
	bad := func(format string, a ...any) (core.Member, error) {
		return core.Member{}, fmt.Errorf(format+": %w", append(a, core.ErrInvalidInput)...)
	}
	if n := len(rec); n != seedColumns && n != exportColumns && n != fileColumns {
		return bad("%d fields, want %d, %d or %d", n, seedColumns, exportColumns, fileColumns)
	}
	m.Region, m.Zone, m.Rack, m.Domain = rec[0], rec[1], rec[2], rec[4]
	if rec[3] != "" {
		ip, err := netip.ParseAddr(rec[3])
		if err != nil {
			return bad("IP %q: %v", rec[3], err)
		}
		m.IP = ip
	}
	w, err := strconv.Atoi(rec[5])
	if err != nil || w < 0 {
		return bad("Weight %q: want an integer ≥ 0", rec[5])
	}
	m.Weight = w
	id, err := core.ParseNodeID(rec[6])
	if err != nil {
		return bad("HashKey: %v", err)
	}
	m.ID = id
	if m.Certificate, err = parseCertificatePEM(rec[7], id); err != nil {
		return core.Member{}, err
	}
	if len(rec) >= exportColumns {
		if rec[8] != "" {
			p, err := strconv.ParseUint(rec[8], 10, 16)
			if err != nil || p == 0 {
				return bad("Port %q: want 1..65535 or empty", rec[8])
			}
			m.Port = uint16(p)
		}
		if m.Labels, err = parseLabels(rec[9]); err != nil {
			return core.Member{}, err
		}
	}
	if len(rec) == fileColumns {
		rev, err := strconv.ParseInt(rec[10], 10, 64)
		if err != nil || rev <= 0 {
			return bad("Revision %q: want an integer > 0", rec[10])
		}
		m.Revision = rev
	}
	return m, nil
}

// parseCertificatePEM decodes one CERTIFICATE block and checks that its key
// hashes to id.
func parseCertificatePEM(s string, id core.NodeID) ([]byte, error) {
	block, rest := pem.Decode([]byte(s))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("PEMData: no CERTIFICATE block: %w", core.ErrInvalidInput)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("PEMData: data after the certificate (a row holds one certificate, the member's own, not its chain): %w", core.ErrInvalidInput)
	}
	got, err := certificateID(block.Bytes)
	if err != nil {
		return nil, err
	}
	if got != id {
		return nil, fmt.Errorf("HashKey %s does not match the certificate's key (%s): %w", id.Short(), got.Short(), core.ErrInvalidInput)
	}
	return block.Bytes, nil
}

// certificateID returns the NodeID of a DER certificate's public key.
// crypto/x509 parses certificates whose key algorithm it does not know (ML-DSA)
// and still gives their SubjectPublicKeyInfo.
func certificateID(der []byte) (core.NodeID, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return core.NodeID{}, fmt.Errorf("certificate: %v: %w", err, core.ErrInvalidInput)
	}
	return core.NodeIDFromPublicKeyInfo(cert.RawSubjectPublicKeyInfo), nil
}

func parseLabels(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	v, err := url.ParseQuery(s)
	if err != nil {
		return nil, fmt.Errorf("Labels %q: %v: %w", s, err, core.ErrInvalidInput)
	}
	out := make(map[string]string, len(v))
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if k == "" {
			return nil, fmt.Errorf("Labels %q: empty key: %w", s, core.ErrInvalidInput)
		}
		if len(v[k]) != 1 {
			return nil, fmt.Errorf("Labels %q: key %q given %d times: %w", s, k, len(v[k]), core.ErrInvalidInput)
		}
		out[k] = v[k][0]
	}
	return out, nil
}

// validate reports why m cannot be stored as a row that loads back.
func validate(m core.Member) error {
	if m.Weight < 0 {
		return fmt.Errorf("weight %d < 0: %w", m.Weight, core.ErrInvalidInput)
	}
	id, err := certificateID(m.Certificate)
	if err != nil {
		return err
	}
	if id != m.ID {
		return fmt.Errorf("ID %s is not the certificate's NodeID %s: %w", m.ID.Short(), id.Short(), core.ErrInvalidInput)
	}
	for k := range m.Labels {
		if k == "" {
			return fmt.Errorf("empty label key: %w", core.ErrInvalidInput)
		}
	}
	return nil
}
