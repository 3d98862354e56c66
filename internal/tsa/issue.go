package tsa

import (
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/signet-nuget/signet/internal/tsp"
)

// defaultSerials backs Servers whose Serials field is nil.
var (
	defaultSerialsOnce sync.Once
	defaultSerials     *RandomSerials
)

func (s *Server) serials() SerialSource {
	if s.Serials != nil {
		return s.Serials
	}
	defaultSerialsOnce.Do(func() { defaultSerials = NewRandomSerials() })
	return defaultSerials
}

// issue makes a token answering req, which the caller has already accepted.
func (s *Server) issue(req *tsp.Request) ([]byte, *big.Int, error) {
	if s.Certificate == nil || s.Signer == nil {
		return nil, nil, errors.New("tsa: server has no certificate or signer (call Validate)")
	}
	now := s.now().UTC()
	c := s.Certificate
	if now.Before(c.NotBefore) || !now.Before(c.NotAfter) {
		return nil, nil, fmt.Errorf("tsa: the TSA certificate is not valid at %s (valid %s to %s)",
			now.Format(time.RFC3339), c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	}
	precision := s.Precision
	if precision <= 0 {
		precision = DefaultPrecision
	}
	serial, err := s.serials().Next()
	if err != nil {
		return nil, nil, err
	}
	info := &tsp.TSTInfo{
		Version:        1,
		Policy:         s.policy(),
		Hash:           req.Hash,
		HashParamsNull: req.HashParamsNull,
		HashedMessage:  req.Digest,
		SerialNumber:   serial,
		GenTime:        now.Truncate(precision),
		Nonce:          req.Nonce,
	}
	switch {
	case s.Accuracy == 0:
		info.HasAccuracy, info.Accuracy = true, DefaultAccuracy
	case s.Accuracy > 0:
		info.HasAccuracy, info.Accuracy = true, s.Accuracy
	}
	signer := &tsp.TokenSigner{
		Signer:              s.Signer,
		Certificate:         c,
		Chain:               s.Chain,
		Hash:                req.Hash, // the imprint's strength for the signature too
		IncludeCertificates: req.CertReq,
		IncludeESSv1:        true,
	}
	token, err := signer.Sign(info, now)
	if err != nil {
		return nil, nil, err
	}
	return token, serial, nil
}
