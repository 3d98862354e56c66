-- Revocation re-checks: the issuer of each certificate (needed to ask its
-- OCSP responder or check its CRL), learnt from the chains of the packages
-- signed with it, and how many checks in a row could not tell.
ALTER TABLE certificates ADD COLUMN issuer_der BYTEA;
ALTER TABLE certificates ADD COLUMN unknown_checks BIGINT NOT NULL DEFAULT 0;
CREATE INDEX certificates_checked ON certificates (revocation_checked);
