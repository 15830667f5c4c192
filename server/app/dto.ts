/** The store's and TLS layer's objects as the plain data every front end receives (rpc/protocol types). */
import type * as P from '../rpc/protocol';
import type { Database, Document, ResolutionRecord, RevisionInfo } from '../store';
import { exportCertificatePem, type TLSIdentity } from '../tls';
import { blobCount } from './document-blobs';

export function databaseSummary(db: Database): P.DatabaseSummary {
  return databaseInfo(db);
}

export function databaseInfo(db: Database): P.DatabaseInfo {
  const info = db.info();
  return {
    name: info.name,
    path: info.path,
    uuid: info.uuid,
    imageBytes: info.imageBytes,
    journalBytes: info.journalBytes,
    collections: info.collections.map((c) => ({ name: c.name, documents: c.documents, conflicts: c.conflicts, lastSequence: c.lastSequence })),
  };
}

export function documentSummary(d: Document): P.DocumentSummary {
  const blobs = blobCount(d.body);
  return { id: d.id, revId: d.revId, deleted: d.deleted, conflicted: d.conflicted, sequence: d.sequence, ...(blobs > 0 ? { blobs } : {}) };
}

export function documentData(d: Document): P.DocumentData {
  return { ...documentSummary(d), body: (d.body as Record<string, unknown> | undefined) ?? null };
}

export function revisionNode(r: RevisionInfo): P.RevisionNode {
  return { revId: r.revId, parentRevId: r.parentRevId, deleted: r.deleted, leaf: r.leaf, conflict: r.conflict, winner: r.winner, hasBody: r.hasBody, sequence: r.sequence };
}

export function certificateInfo(identity: TLSIdentity): P.CertificateInfo {
  return {
    pem: exportCertificatePem(identity),
    fingerprintSha256: identity.fingerprintSha256,
    subject: { ...identity.subject },
    notBefore: identity.notBefore.toISOString(),
    notAfter: identity.notAfter.toISOString(),
    selfSigned: identity.isSelfSigned,
    issuer: { ...identity.issuer },
    serialNumber: identity.serialNumber,
    subjectAltNames: [...identity.subjectAltNames],
    label: identity.label,
  };
}

export function resolvedConflict(db: string, r: ResolutionRecord): P.ResolvedConflict {
  return { ...r, db, competing: r.competing.map((c) => ({ ...c })), discarded: r.discarded.map((c) => ({ ...c })) };
}
