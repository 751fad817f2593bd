package testenv

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// keyPair is a certificate with its key, kept both parsed and as PEM.
type keyPair struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte
}

// newCA makes a self-signed CA. ECDSA P-256 keeps generation instant.
func newCA(name string) (*keyPair, error) {
	return newCert(name, nil, nil, nil, nil)
}

// newCert makes a certificate signed by ca (self-signed CA when ca is nil).
// usage is the extended key usage of a leaf; hosts become DNS or IP SANs.
func newCert(cn string, ca *keyPair, usage []x509.ExtKeyUsage, hosts []string, orgs []string) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:    now.Add(-time.Hour), // tolerate small clock skew
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usage,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	parent, signer := tmpl, crypto.Signer(key)
	if ca == nil {
		tmpl.IsCA = true
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	} else {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("testenv: creating certificate %q: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &keyPair{
		cert:    cert,
		key:     key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

func (kp *keyPair) tlsCertificate() (tls.Certificate, error) {
	return tls.X509KeyPair(kp.certPEM, kp.keyPEM)
}

// publicKeyPEM is what --service-account-key-file wants.
func (kp *keyPair) publicKeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(kp.key.Public())
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// certSet is every key and certificate one Env needs.
type certSet struct {
	serverCA    *keyPair // signs the apiserver serving cert and test servers' certs
	serving     *keyPair // kube-apiserver's serving cert for 127.0.0.1/localhost
	frontCA     *keyPair // front-proxy CA (--requestheader-client-ca-file)
	proxyClient *keyPair // what the aggregator presents to extension servers
	saKey       *keyPair // service-account token signing key (only the key is used)
}

var loopbackHosts = []string{"127.0.0.1", "::1", "localhost"}

func newCertSet() (*certSet, error) {
	var cs certSet
	var err error
	if cs.serverCA, err = newCA("testenv-server-ca"); err != nil {
		return nil, err
	}
	if cs.serving, err = newCert("kube-apiserver", cs.serverCA, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		append([]string{"kubernetes", "kubernetes.default", "kubernetes.default.svc"}, loopbackHosts...), nil); err != nil {
		return nil, err
	}
	if cs.frontCA, err = newCA("testenv-front-proxy-ca"); err != nil {
		return nil, err
	}
	// The CN must match --requestheader-allowed-names.
	if cs.proxyClient, err = newCert(frontProxyClientName, cs.frontCA, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil, nil); err != nil {
		return nil, err
	}
	if cs.saKey, err = newCA("testenv-service-accounts"); err != nil {
		return nil, err
	}
	return &cs, nil
}

const frontProxyClientName = "front-proxy-client"
