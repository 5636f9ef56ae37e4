package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/fieldworkhq/fieldwork/internal/buildinfo"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/wirecodec"
)

// Credentials is what `fieldwork login` saves (0600) under the home dir.
type Credentials struct {
	Server string `json:"server"`
	Token  string `json:"token"`
	User   string `json:"user"`
	// CAFile (an absolute path) verifies the server's certificate; TLS says
	// to use TLS with the system roots when there is no CA file.
	CAFile string `json:"ca_file,omitempty"`
	TLS    bool   `json:"tls,omitempty"`
	// Insecure asked for plaintext to a non-loopback server. Older versions
	// stored it; Dial now refuses it off loopback (the token would travel
	// in clear) and plaintext to loopback needs no flag.
	Insecure bool `json:"insecure,omitempty"`
}

// Home returns the client's directory: $FIELDWORK_HOME, else
// <user config dir>/fieldwork.
func Home() (string, error) {
	if h := os.Getenv("FIELDWORK_HOME"); h != "" {
		return h, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config directory (set FIELDWORK_HOME): %w", err)
	}
	return filepath.Join(dir, "fieldwork"), nil
}

func credentialsPath(home string) string { return filepath.Join(home, "credentials.json") }

// LoadCredentials reads the saved login.
func LoadCredentials(home string) (Credentials, error) {
	var c Credentials
	data, err := os.ReadFile(credentialsPath(home))
	if errors.Is(err, os.ErrNotExist) {
		return c, framework.Errorf(framework.CodeUnauthorized, "not logged in: run fieldwork login --server ADDR --token TOKEN")
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("read %s: %w", credentialsPath(home), err)
	}
	// A relative CA path would resolve from whatever folder a command runs
	// in; logins now store it absolute, older ones must be redone.
	if c.CAFile != "" && !filepath.IsAbs(c.CAFile) {
		return c, framework.Errorf(framework.CodeInvalid, "the saved login names the CA file %q by a relative path: run fieldwork login --server %s --ca FILE again (the path is now stored absolute)", c.CAFile, c.Server)
	}
	return c, nil
}

// IsLoopback reports whether host (a name or an IP, without port) is this
// machine: the only place the client talks plaintext to.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SaveCredentials writes the login readable by its owner only.
func SaveCredentials(home string, c Credentials) error {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(c, "", "  ")
	tmp := credentialsPath(home) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, credentialsPath(home))
}

// bearer sends the token on every call, and with it the protocol this
// client speaks (buildinfo.Protocol), by which the server refuses a client
// older than it serves with "update fieldwork" (docs/releases.md).
type bearer string

func (b bearer) md(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+string(b), buildinfo.ProtocolKey, strconv.Itoa(buildinfo.Protocol))
}

func (b bearer) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return invoker(b.md(ctx), method, req, reply, cc, opts...)
}

func (b bearer) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return streamer(b.md(ctx), desc, cc, method, opts...)
}

// Dial connects to the server in c, sending its token on every call.
// Without a CA file or TLS, plaintext is used on loopback addresses and TLS
// with the system roots elsewhere; Insecure (plaintext off loopback) is
// refused, so the token never travels in clear across a network. Extra
// options come after the client's own (tests add interceptors with them).
func Dial(c Credentials, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	host, _, err := net.SplitHostPort(c.Server)
	if err != nil {
		return nil, fmt.Errorf("server address %q: %w", c.Server, err)
	}
	var creds credentials.TransportCredentials
	switch {
	case c.CAFile != "":
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", c.CAFile)
		}
		creds = credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	case c.TLS:
		creds = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	case IsLoopback(host):
		creds = insecure.NewCredentials()
	case c.Insecure:
		return nil, framework.Errorf(framework.CodeInvalid, "refusing plaintext to %s: the token would travel in clear; use --tls or --ca FILE (plaintext is for loopback addresses only), then run fieldwork login again", c.Server)
	default:
		creds = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	b := bearer(c.Token)
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUnaryInterceptor(b.unary),
		grpc.WithStreamInterceptor(b.stream),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(16<<20), grpc.ForceCodecV2(wirecodec.Codec())),
	}
	return grpc.NewClient(c.Server, append(opts, extra...)...)
}
