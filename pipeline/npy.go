package pipeline

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// npy dtypes the prepared format uses.
const (
	dtF4 = "<f4"
	dtI4 = "<i4"
	dtI8 = "<i8"
	dtB1 = "|b1"
)

// encodeNpy writes a version 1.0 .npy file (C order, little endian) that numpy.load reads.
func encodeNpy(descr string, shape []int, data []byte) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	sh := strings.Join(dims, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, sh)
	// magic(6) + version(2) + header length(2) + header + '\n', padded to 64 bytes
	total := 10 + len(header) + 1
	pad := (64 - total%64) % 64
	header += strings.Repeat(" ", pad) + "\n"
	var b bytes.Buffer
	b.Grow(10 + len(header) + len(data))
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

var (
	npyDescr   = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	npyFortran = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// decodeNpy parses a .npy file and returns its dtype, shape and raw data.
func decodeNpy(b []byte) (descr string, shape []int, data []byte, err error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return "", nil, nil, errors.New("not a .npy file (bad magic)")
	}
	var hlen, off int
	switch b[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return "", nil, nil, errors.New("truncated .npy header")
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return "", nil, nil, fmt.Errorf("unsupported .npy version %d", b[6])
	}
	if off+hlen > len(b) {
		return "", nil, nil, errors.New("truncated .npy header")
	}
	h := string(b[off : off+hlen])
	m := npyDescr.FindStringSubmatch(h)
	if m == nil {
		return "", nil, nil, errors.New(".npy header without descr")
	}
	descr = m[1]
	if f := npyFortran.FindStringSubmatch(h); f == nil || f[1] != "False" {
		return "", nil, nil, errors.New(".npy array must be in C order")
	}
	s := npyShape.FindStringSubmatch(h)
	if s == nil {
		return "", nil, nil, errors.New(".npy header without shape")
	}
	for _, part := range strings.Split(s[1], ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return "", nil, nil, fmt.Errorf(".npy shape %q", s[1])
		}
		shape = append(shape, n)
	}
	return descr, shape, b[off+hlen:], nil
}

func itemSize(descr string) int {
	switch descr {
	case dtF4, dtI4:
		return 4
	case dtI8:
		return 8
	case dtB1:
		return 1
	}
	return 0
}

func appendF32(b []byte, v []float32) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func appendBools(b []byte, v []bool) []byte {
	for _, x := range v {
		if x {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	return b
}

func bytesF32(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func bytesI32(b []byte) []int32 {
	v := make([]int32, len(b)/4)
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func bytesI64(b []byte) []int64 {
	v := make([]int64, len(b)/8)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v
}
