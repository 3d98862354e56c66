//go:build cgo

package pkcs11

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/ThalesGroup/crypto11"
	p11 "github.com/miekg/pkcs11"
)

// Supported reports whether this build can load PKCS#11 modules (it needs
// cgo).
const Supported = true

// maxSessions bounds the sessions one Token opens: signing is one
// operation at a time per package, and the TSA's concurrent requests need
// only a few; tokens (USB ones especially) allow few sessions.
const maxSessions = 4

// maxTokenObjects bounds the certificate objects read from a token: a
// token holds a handful; the bound keeps a huge HSM partition from being
// read whole.
const maxTokenObjects = 256

// moduleMu serialises Open and Close: discovery initialises and finalises
// the module around crypto11's own initialisation, which must not
// interleave with another Open or Close of the same module.
var moduleMu sync.Mutex

// session is a crypto11 context: a pool of sessions logged in to one token.
type session struct {
	ctx *crypto11.Context
}

func openToken(u *URI, pin string) (*Token, error) {
	moduleMu.Lock()
	defer moduleMu.Unlock()
	desc, loginRequired, certs, err := discover(u)
	if err != nil {
		return nil, err
	}
	if pin == "" && loginRequired {
		return nil, fmt.Errorf("pkcs11: token %q needs a PIN: add pin-source=<file> or pin-source=env:<VARIABLE> to the URI's query", desc.Label)
	}
	slot := int(desc.Slot) // discover refused slots above MaxInt
	ctx, err := crypto11.Configure(&crypto11.Config{
		Path:              u.ModulePath,
		SlotNumber:        &slot,
		Pin:               pin,
		MaxSessions:       maxSessions,
		LoginNotSupported: pin == "",
	})
	if err != nil {
		var code p11.Error
		if errors.As(err, &code) {
			switch code {
			case p11.CKR_PIN_INCORRECT, p11.CKR_PIN_INVALID, p11.CKR_PIN_LEN_RANGE:
				return nil, fmt.Errorf("pkcs11: wrong PIN for token %q", desc.Label)
			case p11.CKR_PIN_LOCKED:
				return nil, fmt.Errorf("pkcs11: the PIN of token %q is locked (too many wrong PINs)", desc.Label)
			case p11.CKR_PIN_EXPIRED:
				return nil, fmt.Errorf("pkcs11: the PIN of token %q has expired", desc.Label)
			}
		}
		return nil, fmt.Errorf("pkcs11: token %q: opening a session: %w", desc.Label, err)
	}
	return &Token{desc: desc, uri: u, certs: certs, s: &session{ctx: ctx}}, nil
}

// discover loads the module on its own, lists its initialised tokens,
// picks the one u names, and reads the certificates on it (public objects:
// no login needed). It leaves the module as it found it.
func discover(u *URI) (desc tokenDesc, loginRequired bool, certs []tokenCertificate, err error) {
	if _, err := os.Stat(u.ModulePath); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return desc, false, nil, fmt.Errorf("pkcs11: module %q not found", u.ModulePath)
		}
		return desc, false, nil, fmt.Errorf("pkcs11: module %q cannot be read: %w", u.ModulePath, unwrapPath(err))
	}
	m := p11.New(u.ModulePath)
	if m == nil {
		return desc, false, nil, fmt.Errorf("pkcs11: module %q cannot be loaded: not a PKCS#11 library for this system", u.ModulePath)
	}
	defer m.Destroy()
	switch err := m.Initialize(); {
	case err == nil:
		defer m.Finalize()
	case errors.Is(err, p11.Error(p11.CKR_CRYPTOKI_ALREADY_INITIALIZED)):
		// Another Token of this process holds the module: use it as is.
	default:
		return desc, false, nil, fmt.Errorf("pkcs11: module %q cannot be initialised: %w", u.ModulePath, err)
	}
	slots, err := m.GetSlotList(true)
	if err != nil {
		return desc, false, nil, fmt.Errorf("pkcs11: module %q: listing slots: %w", u.ModulePath, err)
	}
	var seen []tokenDesc
	flags := map[uint]uint{}
	for _, slot := range slots {
		ti, err := m.GetTokenInfo(slot)
		if err != nil || ti.Flags&p11.CKF_TOKEN_INITIALIZED == 0 || uint64(slot) > uint64(^uint(0)>>1) {
			continue
		}
		seen = append(seen, tokenDesc{Label: ti.Label, Manufacturer: ti.ManufacturerID, Model: ti.Model, Serial: ti.SerialNumber, Slot: slot})
		flags[slot] = ti.Flags
	}
	if desc, err = selectToken(u, seen); err != nil {
		return desc, false, nil, err
	}
	certs, err = readCertificates(m, desc.Slot)
	if err != nil {
		return desc, false, nil, fmt.Errorf("pkcs11: token %q: reading certificates: %w", desc.Label, err)
	}
	return desc, flags[desc.Slot]&p11.CKF_LOGIN_REQUIRED != 0, certs, nil
}

// readCertificates returns the X.509 certificate objects on the token in
// slot that can be read without logging in; objects that do not parse are
// skipped.
func readCertificates(m *p11.Ctx, slot uint) ([]tokenCertificate, error) {
	sh, err := m.OpenSession(slot, p11.CKF_SERIAL_SESSION)
	if err != nil {
		return nil, err
	}
	defer m.CloseSession(sh)
	template := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_CERTIFICATE),
		p11.NewAttribute(p11.CKA_CERTIFICATE_TYPE, p11.CKC_X_509),
	}
	if err := m.FindObjectsInit(sh, template); err != nil {
		return nil, err
	}
	handles, _, err := m.FindObjects(sh, maxTokenObjects)
	if ferr := m.FindObjectsFinal(sh); err == nil {
		err = ferr
	}
	if err != nil {
		return nil, err
	}
	var out []tokenCertificate
	for _, h := range handles {
		attrs, err := m.GetAttributeValue(sh, h, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_VALUE, nil),
			p11.NewAttribute(p11.CKA_ID, nil),
			p11.NewAttribute(p11.CKA_LABEL, nil),
		})
		if err != nil {
			continue
		}
		c, err := x509.ParseCertificate(attrs[0].Value)
		if err != nil {
			continue
		}
		out = append(out, tokenCertificate{id: attrs[1].Value, label: string(attrs[2].Value), cert: c})
	}
	return out, nil
}

// findKeys returns the key pairs with the given label and id (either may
// be empty; both empty means all).
func (s *session) findKeys(label string, id []byte) ([]*Key, error) {
	attrs := crypto11.NewAttributeSet()
	if label != "" {
		if err := attrs.Set(crypto11.CkaLabel, []byte(label)); err != nil {
			return nil, err
		}
	}
	if len(id) > 0 {
		if err := attrs.Set(crypto11.CkaId, id); err != nil {
			return nil, err
		}
	}
	signers, err := s.ctx.FindKeyPairsWithAttributes(attrs)
	if err != nil {
		return nil, err
	}
	keys := make([]*Key, 0, len(signers))
	for _, sg := range signers {
		a, err := s.ctx.GetAttributes(sg, []crypto11.AttributeType{crypto11.CkaLabel, crypto11.CkaId})
		if err != nil {
			return nil, err
		}
		k := &Key{pub: sg.Public(), inner: sg}
		if v := a[crypto11.CkaLabel]; v != nil {
			k.Label = string(v.Value)
		}
		if v := a[crypto11.CkaId]; v != nil {
			k.ID = v.Value
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func (s *session) close() error {
	moduleMu.Lock()
	defer moduleMu.Unlock()
	return s.ctx.Close()
}
