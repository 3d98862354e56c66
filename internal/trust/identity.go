package trust

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Identity is Signet's extension of a trusted-signer entry: it trusts a
// certificate by who it names rather than by its fingerprint, so that a
// renewed or short-lived certificate (Azure Trusted Signing issues three-day
// ones, each with a new fingerprint) stays trusted.
//
// In nuget.config it is a <certificateIdentity> child of <author> or
// <repository>:
//
//	<author name="contoso">
//	  <certificate fingerprint="…" hashAlgorithm="SHA256" allowUntrustedRoot="false" />
//	  <certificateIdentity subject="CN=Contoso, O=Contoso" issuer="CN=Contoso CA, O=Contoso" />
//	  <certificateIdentity eku="1.3.6.1.4.1.311.97.990309390.766961637" />
//	</author>
//
// Subject and Issuer go together and are whole distinguished names: every
// attribute of the certificate's name must be listed, in any order (both
// "CN=x, O=y" as Windows prints it and "O=y,CN=x" as OpenSSL does are
// accepted); values compare case-insensitively with runs of spaces folded,
// as X.520 caseIgnoreMatch does. EKU is a dotted OID the certificate must
// carry in its extended key usage; generic purposes (code signing, any
// purpose, …) are refused because every code-signing certificate has them.
// When several are given, all must match.
//
// An identity only vouches for a signature whose chain Signet built to a
// trusted root: names can be copied into a self-made certificate, and
// fingerprints cannot. allowUntrustedRoot never applies to identities.
//
// Plain NuGet parses <certificateIdentity> as an unknown item and ignores
// it (NuGet.Configuration's SettingFactory turns unknown element names into
// UnknownItem, and TrustedSignerItem keeps only CertificateItem children).
// NuGet does, however, refuse a signer with no <certificate> at all, so a
// file that must also work with plain NuGet keeps at least one certificate
// in every signer.
type Identity struct {
	Subject string // distinguished name of the certificate's subject
	Issuer  string // distinguished name of the certificate's issuer
	EKU     string // dotted OID of an extended key usage
}

// String describes the identity for messages and listings.
func (id Identity) String() string {
	var parts []string
	if id.Subject != "" {
		parts = append(parts, fmt.Sprintf("subject %q", id.Subject))
	}
	if id.Issuer != "" {
		parts = append(parts, fmt.Sprintf("issuer %q", id.Issuer))
	}
	if id.EKU != "" {
		parts = append(parts, "EKU "+id.EKU)
	}
	return strings.Join(parts, ", ")
}

// compiledIdentity is an Identity with its names parsed.
type compiledIdentity struct {
	Identity
	subject, issuer []string // canonical "oid=value" attributes, sorted
}

// genericEKUs are purposes that whole classes of certificates share; an
// identity naming only one of them would trust any certificate of the class.
var genericEKUs = map[string]string{
	"2.5.29.37.0":             "any purpose",
	"1.3.6.1.5.5.7.3.1":       "server authentication",
	"1.3.6.1.5.5.7.3.2":       "client authentication",
	"1.3.6.1.5.5.7.3.3":       "code signing",
	"1.3.6.1.5.5.7.3.4":       "email protection",
	"1.3.6.1.5.5.7.3.8":       "timestamping",
	"1.3.6.1.5.5.7.3.9":       "OCSP signing",
	"1.3.6.1.4.1.311.2.1.21":  "Microsoft individual code signing",
	"1.3.6.1.4.1.311.2.1.22":  "Microsoft commercial code signing",
	"1.3.6.1.4.1.311.10.3.13": "Microsoft lifetime signing",
}

// compile validates id and parses its names.
func (id Identity) compile() (compiledIdentity, error) {
	c := compiledIdentity{Identity: id}
	if (id.Subject == "") != (id.Issuer == "") {
		return c, errors.New("subject and issuer must be given together")
	}
	if id.Subject == "" && id.EKU == "" {
		return c, errors.New("give subject and issuer, or eku")
	}
	var err error
	if id.Subject != "" {
		if c.subject, err = parseDN(id.Subject); err != nil {
			return c, fmt.Errorf("subject %q: %w", id.Subject, err)
		}
		if c.issuer, err = parseDN(id.Issuer); err != nil {
			return c, fmt.Errorf("issuer %q: %w", id.Issuer, err)
		}
	}
	if id.EKU != "" {
		if !isDottedOID(id.EKU) {
			return c, fmt.Errorf("eku %q is not a dotted OID", id.EKU)
		}
		if what, ok := genericEKUs[id.EKU]; ok {
			return c, fmt.Errorf("eku %s (%s) is shared by whole classes of certificates and identifies no one; name a specific EKU or the subject and issuer", id.EKU, what)
		}
	}
	return c, nil
}

// matches reports whether cert has the identity. The caller checks that the
// chain is trusted.
func (c compiledIdentity) matches(cert *x509.Certificate) bool {
	if cert == nil {
		return false
	}
	if c.subject != nil {
		if !slices.Equal(c.subject, certName(cert.Subject.Names)) || !slices.Equal(c.issuer, certName(cert.Issuer.Names)) {
			return false
		}
	}
	if c.EKU != "" && !slices.Contains(certEKUs(cert), c.EKU) {
		return false
	}
	return true
}

func isDottedOID(s string) bool {
	arcs := strings.Split(s, ".")
	if len(arcs) < 2 {
		return false
	}
	for _, a := range arcs {
		if a == "" || strings.Trim(a, "0123456789") != "" || (len(a) > 1 && a[0] == '0') {
			return false
		}
	}
	return true
}

// certEKUs returns the extended key usage OIDs of cert as dotted strings,
// read from the extension itself so that unknown purposes are included.
func certEKUs(cert *x509.Certificate) []string {
	var out []string
	for _, e := range cert.Extensions {
		if !e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) {
			continue
		}
		s := cryptobyte.String(e.Value)
		var seq cryptobyte.String
		if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
			return nil
		}
		for !seq.Empty() {
			var oid asn1.ObjectIdentifier
			if !seq.ReadASN1ObjectIdentifier(&oid) {
				return nil
			}
			out = append(out, oid.String())
		}
	}
	return out
}

// attributeNames maps the short names Windows, OpenSSL and Go print in
// distinguished names to their OIDs.
var attributeNames = map[string]string{
	"CN": "2.5.4.3", "SN": "2.5.4.4", "SURNAME": "2.5.4.4", "SERIALNUMBER": "2.5.4.5",
	"C": "2.5.4.6", "L": "2.5.4.7", "S": "2.5.4.8", "ST": "2.5.4.8", "STREET": "2.5.4.9",
	"O": "2.5.4.10", "OU": "2.5.4.11", "T": "2.5.4.12", "TITLE": "2.5.4.12",
	"POSTALCODE": "2.5.4.17", "G": "2.5.4.42", "GN": "2.5.4.42", "GIVENNAME": "2.5.4.42",
	"I": "2.5.4.43", "INITIALS": "2.5.4.43",
	"DC": "0.9.2342.19200300.100.1.25", "UID": "0.9.2342.19200300.100.1.1",
	"E": "1.2.840.113549.1.9.1", "EMAIL": "1.2.840.113549.1.9.1", "EMAILADDRESS": "1.2.840.113549.1.9.1",
}

// maxDNAttributes bounds the attributes of one configured name; real
// certificate names have fewer than ten.
const maxDNAttributes = 64

// parseDN parses a distinguished name written as RFC 4514 or Windows print
// it ("CN=Contoso, O=\"Contoso, Inc.\"", "O=y,CN=x", "OID.2.5.4.3=x",
// "1.2.840.113549.1.9.1=#160b…") into sorted canonical attributes.
func parseDN(s string) ([]string, error) {
	var out []string
	for rest := s; ; {
		if len(out) == maxDNAttributes {
			return nil, fmt.Errorf("more than %d attributes", maxDNAttributes)
		}
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			return nil, fmt.Errorf("%q is not type=value", strings.TrimSpace(rest))
		}
		typ := strings.TrimSpace(rest[:eq])
		oid, err := attributeOID(typ)
		if err != nil {
			return nil, err
		}
		val, tail, more, err := readDNValue(rest[eq+1:])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", typ, err)
		}
		out = append(out, canonicalATV(oid, val))
		if !more {
			break
		}
		rest = tail
	}
	slices.Sort(out)
	return out, nil
}

func attributeOID(typ string) (string, error) {
	if oid, ok := attributeNames[strings.ToUpper(typ)]; ok {
		return oid, nil
	}
	t := typ
	if len(t) > 4 && strings.EqualFold(t[:4], "OID.") {
		t = t[4:]
	}
	if isDottedOID(t) {
		return t, nil
	}
	return "", fmt.Errorf("unknown attribute type %q", typ)
}

// readDNValue reads one attribute value up to an unescaped separator (',',
// ';' or '+') and returns it with what follows the separator; more is false
// at the end of the name.
func readDNValue(s string) (val, tail string, more bool, err error) {
	s = strings.TrimLeft(s, " ")
	if strings.HasPrefix(s, "#") {
		end := strings.IndexAny(s, ",;+")
		if end < 0 {
			end = len(s)
		}
		v, err := decodeHexValue(strings.TrimSpace(s[1:end]))
		if err != nil {
			return "", "", false, err
		}
		if end == len(s) {
			return v, "", false, nil
		}
		return v, s[end+1:], true, nil
	}
	var b strings.Builder
	quoted := strings.HasPrefix(s, `"`)
	i := 0
	if quoted {
		i = 1
	}
	trailing := 0 // unescaped trailing spaces, trimmed at the end
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return "", "", false, errors.New("value ends with a backslash")
			}
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				h, _ := hex.DecodeString(s[i+1 : i+3])
				b.WriteByte(h[0])
				i += 3
			} else {
				b.WriteByte(s[i+1])
				i += 2
			}
			trailing = 0
			continue
		case quoted && c == '"':
			rest := strings.TrimLeft(s[i+1:], " ")
			if rest == "" {
				return b.String(), "", false, nil
			}
			if !strings.ContainsRune(",;+", rune(rest[0])) {
				return "", "", false, errors.New("text after a quoted value")
			}
			return b.String(), rest[1:], true, nil
		case !quoted && (c == ',' || c == ';' || c == '+'):
			v := b.String()
			return v[:len(v)-trailing], s[i+1:], true, nil
		}
		if c == ' ' {
			trailing++
		} else {
			trailing = 0
		}
		b.WriteByte(c)
		i++
	}
	if quoted {
		return "", "", false, errors.New("unterminated quoted value")
	}
	v := b.String()
	return v[:len(v)-trailing], "", false, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// decodeHexValue decodes a "#…" value: the hex of a DER string.
func decodeHexValue(h string) (string, error) {
	der, err := hex.DecodeString(h)
	if err != nil {
		return "", fmt.Errorf("bad hex value: %w", err)
	}
	var v string
	rest, err := asn1.Unmarshal(der, &v)
	if err != nil || len(rest) > 0 {
		return "", errors.New("the hex value is not a DER string")
	}
	return v, nil
}

// certName returns a certificate name's attributes in canonical form.
func certName(atvs []pkix.AttributeTypeAndValue) []string {
	out := make([]string, 0, len(atvs))
	for _, a := range atvs {
		out = append(out, canonicalATV(a.Type.String(), fmt.Sprint(a.Value)))
	}
	slices.Sort(out)
	return out
}

// canonicalATV folds case and runs of spaces, as caseIgnoreMatch does.
func canonicalATV(oid, val string) string {
	return oid + "=" + strings.ToLower(strings.Join(strings.Fields(val), " "))
}
