import { StoreError } from './errors';

export type SqlParam = string | number | null | Uint8Array;

/** One committed transaction as journaled: its log sequence number and the statements it ran. */
export interface JournalRecord {
  readonly lsn: number;
  readonly sql: readonly string[];
  /** [index into sql, parameters] */
  readonly ops: readonly (readonly [number, readonly SqlParam[]])[];
}

/*
 * Binary layout (big-endian):
 *   u8 version (1) · u48 lsn · u16 #sql · (u32 len · utf8)* · u32 #ops ·
 *   (u16 sql index · u16 #params · (u8 tag · value)*)*
 *   tags: 0 null · 1 f64 · 2 u32 len + utf8 · 3 u32 len + bytes
 * Binary rather than JSON because document bodies are JSON strings already: escaping every quote
 * again cost more than the fsync.
 */
const VERSION = 1;
const T_NULL = 0;
const T_NUMBER = 1;
const T_STRING = 2;
const T_BYTES = 3;
const INITIAL_WRITER_BYTES = 64 * 1024;
/** A writer that grew past this (a bulk import) gives its buffer back after the record. */
const KEPT_WRITER_BYTES = 4 * 1024 * 1024;

class Writer {
  buf = Buffer.allocUnsafe(INITIAL_WRITER_BYTES);
  off = 0;

  ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.off++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.off = this.buf.writeUInt16BE(v, this.off);
  }

  u32(v: number): void {
    this.ensure(4);
    this.off = this.buf.writeUInt32BE(v, this.off);
  }

  bytes(b: Uint8Array): void {
    this.ensure(4 + b.length);
    this.off = this.buf.writeUInt32BE(b.length, this.off);
    this.buf.set(b, this.off);
    this.off += b.length;
  }

  str(s: string): void {
    this.ensure(4 + s.length * 3);
    const n = this.buf.write(s, this.off + 4, 'utf8');
    this.buf.writeUInt32BE(n, this.off);
    this.off += 4 + n;
  }
}

/**
 * One writer for every record: a replication batch's record is ~100 kB, and a fresh buffer grown by
 * doubling each time meant several large copies and allocations per batch.
 */
const shared = new Writer();

/** Encodes a record into a shared buffer: the result is valid until the next call (append it at once). */
export function encodeJournalRecord(lsn: number, ops: readonly (readonly [string, readonly SqlParam[]])[]): Buffer {
  const index = new Map<string, number>();
  const texts: string[] = [];
  for (const [sql] of ops) {
    if (!index.has(sql)) {
      index.set(sql, texts.length);
      texts.push(sql);
    }
  }
  const w = shared;
  if (w.buf.length > KEPT_WRITER_BYTES) w.buf = Buffer.allocUnsafe(INITIAL_WRITER_BYTES);
  w.off = 0;
  w.u8(VERSION);
  w.ensure(6);
  w.off = w.buf.writeUIntBE(lsn, w.off, 6);
  w.u16(texts.length);
  for (const t of texts) w.str(t);
  w.u32(ops.length);
  for (const [sql, params] of ops) {
    w.u16(index.get(sql)!);
    w.u16(params.length);
    for (const p of params) {
      if (p === null) w.u8(T_NULL);
      else if (typeof p === 'number') {
        w.u8(T_NUMBER);
        w.ensure(8);
        w.off = w.buf.writeDoubleBE(p, w.off);
      } else if (typeof p === 'string') {
        w.u8(T_STRING);
        w.str(p);
      } else {
        w.u8(T_BYTES);
        w.bytes(p);
      }
    }
  }
  return w.buf.subarray(0, w.off);
}

export function decodeJournalRecord(data: Buffer): JournalRecord {
  let off = 0;
  const need = (n: number): void => {
    if (off + n > data.length) throw new StoreError('CORRUPT', 'journal record is truncated inside its checksum');
  };
  const u16 = (): number => {
    need(2);
    const v = data.readUInt16BE(off);
    off += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = data.readUInt32BE(off);
    off += 4;
    return v;
  };
  const str = (): string => {
    const n = u32();
    need(n);
    const s = data.toString('utf8', off, off + n);
    off += n;
    return s;
  };
  need(7);
  if (data[0] !== VERSION) throw new StoreError('CORRUPT', `journal record has unknown version ${data[0]}`);
  const lsn = data.readUIntBE(1, 6);
  off = 7;
  const sql = Array.from({ length: u16() }, str);
  const opCount = u32();
  const ops: [number, SqlParam[]][] = [];
  for (let i = 0; i < opCount; i++) {
    const qi = u16();
    if (qi >= sql.length) throw new StoreError('CORRUPT', 'journal record refers to an unknown statement');
    const count = u16();
    const params: SqlParam[] = [];
    for (let j = 0; j < count; j++) {
      need(1);
      const tag = data[off++];
      if (tag === T_NULL) params.push(null);
      else if (tag === T_NUMBER) {
        need(8);
        params.push(data.readDoubleBE(off));
        off += 8;
      } else if (tag === T_STRING) params.push(str());
      else if (tag === T_BYTES) {
        const n = u32();
        need(n);
        params.push(data.subarray(off, off + n));
        off += n;
      } else throw new StoreError('CORRUPT', `journal record has an unknown value tag ${String(tag)}`);
    }
    ops.push([qi, params]);
  }
  return { lsn, sql, ops };
}
