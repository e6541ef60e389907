//go:build linux && (amd64 || arm64)

package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quietPair returns a quietConn dialled to a loopback listener and the
// server's end of the connection.
func quietPair(t *testing.T) (*quietConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	qc, ok := quiet(nc).(*quietConn)
	if !ok {
		t.Fatalf("quiet(%T) is not a *quietConn", nc)
	}
	peer, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { qc.Close(); peer.Close() })
	return qc, peer.(*net.TCPConn)
}

func TestQuietConnReadsAndWrites(t *testing.T) {
	// Larger than the socket buffers, so writes meet EAGAIN and wait for
	// the netpoller, and reads come in many pieces.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	tests := []struct {
		name string
		data []byte
	}{
		{"small", []byte("hello")},
		{"4 MiB", big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qc, peer := quietPair(t)
			echoed := make(chan []byte, 1)
			go func() {
				got, _ := io.ReadAll(io.LimitReader(peer, int64(len(tt.data))))
				peer.Write(got)
				peer.CloseWrite()
				echoed <- got
			}()
			// Half through Write, half through ReadFrom (what bufio.Writer
			// calls for a large body); back through WriteTo.
			half := len(tt.data) / 2
			n, err := qc.Write(tt.data[:half])
			if err != nil || n != half {
				t.Fatalf("Write = %d, %v; want %d, nil", n, err, half)
			}
			m, err := qc.ReadFrom(bytes.NewReader(tt.data[half:]))
			if err != nil || int(m) != len(tt.data)-half {
				t.Fatalf("ReadFrom = %d, %v; want %d, nil", m, err, len(tt.data)-half)
			}
			var got bytes.Buffer
			if _, err := qc.WriteTo(&got); err != nil { // ends with the peer's FIN
				t.Fatalf("WriteTo: %v", err)
			}
			back := got.Bytes()
			if !bytes.Equal(back, tt.data) || !bytes.Equal(<-echoed, tt.data) {
				t.Fatalf("echo differs: sent %d bytes, peer got them back as %d", len(tt.data), len(back))
			}
			if n, err := qc.Read(make([]byte, 8)); n != 0 || err != io.EOF {
				t.Fatalf("Read after EOF = %d, %v; want 0, io.EOF", n, err)
			}
			if n, err := qc.Read(nil); n != 0 || err != nil {
				t.Fatalf("empty Read = %d, %v; want 0, nil", n, err)
			}
		})
	}
}

func TestQuietConnDeadlinesCloseAndErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(qc *quietConn, peer *net.TCPConn)
		check func(t *testing.T, err error)
	}{
		{"read deadline", func(qc *quietConn, _ *net.TCPConn) {
			qc.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
		}, func(t *testing.T, err error) {
			var ne net.Error
			if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("err = %v; want a timeout (os.ErrDeadlineExceeded)", err)
			}
		}},
		{"closed while reading", func(qc *quietConn, _ *net.TCPConn) {
			time.AfterFunc(30*time.Millisecond, func() { qc.Close() })
		}, func(t *testing.T, err error) {
			if !errors.Is(err, net.ErrClosed) {
				t.Fatalf("err = %v; want net.ErrClosed", err)
			}
		}},
		{"reset by the peer", func(_ *quietConn, peer *net.TCPConn) {
			peer.SetLinger(0) // close sends RST
			peer.Close()
		}, func(t *testing.T, err error) {
			var op *net.OpError
			if !errors.Is(err, syscall.ECONNRESET) || !errors.As(err, &op) || op.Op != "read" ||
				!strings.Contains(err.Error(), "read tcp") || !strings.Contains(err.Error(), "connection reset by peer") {
				t.Fatalf("err = %v; want net/http's form: read tcp …: connection reset by peer", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qc, peer := quietPair(t)
			tt.setup(qc, peer)
			done := make(chan error, 1)
			go func() {
				_, err := qc.Read(make([]byte, 16))
				done <- err
			}()
			select {
			case err := <-done:
				tt.check(t, err)
			case <-time.After(10 * time.Second):
				t.Fatal("Read did not return")
			}
		})
	}
}

func TestQuietConnWriteToClosedPeer(t *testing.T) {
	qc, peer := quietPair(t)
	peer.SetLinger(0)
	peer.Close()
	var err error
	for range 100 { // the RST arrives after the first write
		if _, err = qc.Write([]byte("x")); err != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var op *net.OpError
	if err == nil || !errors.As(err, &op) || op.Op != "write" {
		t.Fatalf("err = %v; want a write *net.OpError", err)
	}
}

func TestClosedByPeer(t *testing.T) {
	tests := []struct {
		name string
		peer func(*net.TCPConn)
		want bool
	}{
		{"open and quiet", func(*net.TCPConn) {}, false},
		{"closed", func(p *net.TCPConn) { p.Close() }, true},
		{"reset", func(p *net.TCPConn) { p.SetLinger(0); p.Close() }, true},
		{"sent bytes nobody asked for", func(p *net.TCPConn) { p.Write([]byte("?")) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qc, peer := quietPair(t)
			tt.peer(peer)
			if !tt.want {
				time.Sleep(20 * time.Millisecond)
				if closedByPeer(qc.rc) {
					t.Fatal("closedByPeer = true for an open, quiet connection")
				}
				return
			}
			// What the peer did reaches this end after a moment.
			for deadline := time.Now().Add(5 * time.Second); !closedByPeer(qc.rc); time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("closedByPeer = false; want true")
				}
			}
			// The peek consumed nothing.
			if tt.name == "sent bytes nobody asked for" {
				b := make([]byte, 1)
				if n, err := qc.Read(b); n != 1 || err != nil || b[0] != '?' {
					t.Fatalf("Read after peek = %d %q %v", n, b, err)
				}
			}
		})
	}
}

func TestQuietLeavesOtherConnsAlone(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if got := quiet(a); got != a {
		t.Fatalf("quiet(net.Pipe) = %T; want the conn unchanged", got)
	}
}

// The direct transport's plain-HTTP connections are quiet.
func TestDirectDialsQuietConns(t *testing.T) {
	srv := httptest.NewServer(bodiesHandler)
	defer srv.Close()
	d := newDirectForTest()
	defer d.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL+"/x", nil)
	c, err := d.conn(req.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer c.nc.Close()
	if _, ok := c.nc.(*quietConn); !ok {
		t.Fatalf("direct dialled a %T; want *quietConn", c.nc)
	}
}
