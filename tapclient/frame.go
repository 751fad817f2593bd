package tapclient

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxFrameSize caps one frame of the tap stream. Real events are a few
// hundred bytes (a few KiB with headers); a larger length prefix means a
// corrupt or hostile stream, and must not become a huge allocation.
const MaxFrameSize = 4 << 20

// ErrFrameTooLarge is wrapped by ReadFrame when a length prefix exceeds the cap.
var ErrFrameTooLarge = errors.New("tap frame too large")

// ReadFrame reads one frame: a 4-byte little-endian length, then that many
// bytes of payload (linkerd's protohttp framing, not gRPC's). It returns
// io.EOF only when the stream ends cleanly between frames; a frame cut short
// gives an error wrapping io.ErrUnexpectedEOF.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	return readFrame(r, max, nil)
}

// readFrame is ReadFrame reusing buf's storage when it is big enough; the
// stream reader uses it because decoding copies everything it keeps.
func readFrame(r io.Reader, max int, buf []byte) ([]byte, error) {
	var hdr [4]byte
	n, err := io.ReadFull(r, hdr[:])
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("reading tap frame length (%d of 4 bytes): %w", n, err)
	}
	size := binary.LittleEndian.Uint32(hdr[:])
	if max < 0 || uint64(size) > uint64(max) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d: the stream is corrupt or not a tap stream", ErrFrameTooLarge, size, max)
	}
	if uint32(cap(buf)) >= size {
		buf = buf[:size]
	} else {
		buf = make([]byte, size)
	}
	if n, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading tap frame payload (%d of %d bytes): %w", n, size, err)
	}
	return buf, nil
}
