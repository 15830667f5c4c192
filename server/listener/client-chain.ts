import type { X509Certificate } from 'node:crypto';

/** id-kp-clientAuth and anyExtendedKeyUsage (RFC 5280 §4.2.1.12). */
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';

/** CA certificates allowed between the client's certificate and a trust anchor. */
export const MAX_INTERMEDIATES = 4;

export type ChainVerdict = { readonly ok: true; readonly path: readonly X509Certificate[] } | { readonly ok: false; readonly reason: string };

/**
 * Whether the certificates a client presented (its own first) lead to one of `anchors`.
 *
 * Each link is judged by OpenSSL through Node's X509Certificate: `checkIssued` (issuer name, key
 * identifiers, and the issuer's keyCertSign usage), `verify` (the signature), `ca`
 * (basicConstraints CA:TRUE); then every certificate of the path must be within its dates and, if
 * it has an extendedKeyUsage, allow clientAuth. An anchor may be a root or an intermediate: the
 * path stops at the first certificate an anchor issued, or at an anchor itself. Node exposes no
 * path-length or name constraints, so those are not enforced; the number of intermediates is capped.
 *
 * Why not the TLS handshake's own verification (`ca` on the server): OpenSSL leaves a failed
 * signature check on its error queue while the handshake goes on, and for a TLS 1.2 client that
 * sends its certificate in a record of its own (Couchbase Lite's mbedTLS does) the next read
 * turns that leftover into a fatal handshake error — the client sees a reset instead of a 403,
 * and nothing reaches the listener's refusal log.
 */
export function verifyClientChain(presented: readonly X509Certificate[], anchors: readonly X509Certificate[], now: number): ChainVerdict {
  const leaf = presented[0];
  if (!leaf) return { ok: false, reason: 'no client certificate was presented' };
  const path: X509Certificate[] = [leaf];
  const unused = presented.slice(1);
  for (;;) {
    const current = path[path.length - 1]!;
    if (anchors.some((a) => a.raw.equals(current.raw))) break;
    // A name shared with an anchor means that anchor is the only acceptable issuer: a presented
    // certificate of the same name must not stand in for it.
    const fromAnchors = anchors.filter((a) => current.checkIssued(a));
    const candidates = fromAnchors.length > 0 ? fromAnchors : unused.filter((c) => current.checkIssued(c));
    if (candidates.length === 0) return { ok: false, reason: `${describe(current)} is not issued by a trusted certificate` };
    const issuer = candidates.find((c) => current.verify(c.publicKey));
    if (!issuer) return { ok: false, reason: `${describe(current)} does not carry a valid signature of ${describe(candidates[0]!)}` };
    if (!issuer.ca) return { ok: false, reason: `${describe(issuer)} is not a CA certificate (basicConstraints CA:FALSE) and may not sign ${describe(current)}` };
    const anchor = fromAnchors.includes(issuer);
    path.push(issuer);
    if (anchor) break;
    unused.splice(unused.indexOf(issuer), 1);
    if (path.length - 1 > MAX_INTERMEDIATES) return { ok: false, reason: `the chain has more than ${MAX_INTERMEDIATES} intermediate certificates` };
  }
  for (const cert of path) {
    if (Date.parse(cert.validFrom) > now) return { ok: false, reason: `${describe(cert)} is not valid before ${cert.validFrom}` };
    if (Date.parse(cert.validTo) < now) return { ok: false, reason: `${describe(cert)} expired on ${cert.validTo}` };
    // Node names the extendedKeyUsage list `keyUsage`; absent means any use is allowed.
    const eku = cert.keyUsage;
    if (eku && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EKU)) return { ok: false, reason: `${describe(cert)} is not allowed for client authentication (extendedKeyUsage ${eku.join(', ')})` };
  }
  return { ok: true, path };
}

export function subjectCommonName(cert: X509Certificate): string {
  const m = /^CN=(.*)$/m.exec(cert.subject);
  return m ? m[1]! : cert.subject.replace(/\n/g, ', ');
}

function describe(cert: X509Certificate): string {
  return `"${subjectCommonName(cert)}"`;
}
