/** Pure helpers for certificates in the extension: the read-only certificate document and PEM → DER. */
import type * as P from '../../server/rpc/protocol';

const NAME_PARTS: readonly [keyof P.CertificateName, string][] = [
  ['commonName', 'CN'],
  ['organizationalUnit', 'OU'],
  ['organization', 'O'],
  ['locality', 'L'],
  ['state', 'ST'],
  ['country', 'C'],
  ['emailAddress', 'emailAddress'],
];

/** "CN=peer.example, O=Example" (the attributes the server reports, most specific first). */
export function formatName(name: P.CertificateName | undefined): string {
  if (!name) return '';
  return NAME_PARTS.filter(([k]) => name[k] !== undefined && name[k] !== '')
    .map(([k, short]) => `${short}=${name[k]!}`)
    .join(', ');
}

export interface CertificateContext {
  /** e.g. "the listener on notes :4984". */
  readonly title: string;
  readonly urls?: readonly string[] | undefined;
}

/** The text of the read-only certificate document: a summary, then the PEM (so the file is still a valid PEM). */
export function renderCertificate(cert: P.CertificateInfo, context: CertificateContext): string {
  const rows: [string, string][] = [
    ['Subject CN', cert.subject.commonName ?? '(none)'],
    ['Subject', formatName(cert.subject) || '(empty)'],
    ['Issuer', cert.selfSigned ? 'self-signed' : formatName(cert.issuer) || '(unknown)'],
    ['Valid from', cert.notBefore],
    ['Valid until', cert.notAfter],
    ['SHA-256', cert.fingerprintSha256],
  ];
  if (cert.serialNumber) rows.push(['Serial number', cert.serialNumber]);
  if (cert.subjectAltNames && cert.subjectAltNames.length > 0) rows.push(['Alt names', cert.subjectAltNames.join(', ')]);
  if (cert.label) rows.push(['Keystore label', cert.label]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const lines = [
    `TLS certificate of ${context.title}`,
    ...(context.urls && context.urls.length > 0 ? [`URLs: ${context.urls.join('  ')}`] : []),
    '',
    ...rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`),
    '',
    'To pin it on another peer: Save Certificate… (PEM or DER), then on that peer choose',
    '"Pin a certificate file…" in Start Replication (or compare the SHA-256 fingerprint).',
    '',
    cert.pem.trimEnd(),
    '',
  ];
  return lines.join('\n');
}

/** The DER bytes of the first certificate in PEM text. */
export function pemToDer(pem: string): Uint8Array {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!m?.[1]) throw new Error('no "BEGIN CERTIFICATE" block in the PEM text');
  return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}
