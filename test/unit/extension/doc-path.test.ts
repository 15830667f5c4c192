import assert from 'node:assert/strict';
import { test } from 'node:test';
import { docPath, parseBody, parseDocPath, renderBody } from '../../../extension/documents/doc-path';

test('document paths round-trip, including IDs with slashes and dots', () => {
  for (const ref of [
    { db: 'notes', collection: '_default._default', docId: 'hello' },
    { db: 'inv.v2', collection: 'store.items', docId: 'a/b/c.json' },
    { db: 'x', collection: 's.c', docId: 'ünï cødé #1?' },
  ]) {
    assert.deepEqual(parseDocPath(docPath(ref)), { kind: 'document', ...ref });
  }
});

test('folders and malformed paths', () => {
  assert.deepEqual(parseDocPath('/'), { kind: 'root' });
  assert.deepEqual(parseDocPath('/notes'), { kind: 'database', db: 'notes' });
  assert.deepEqual(parseDocPath('/notes/_default._default'), { kind: 'collection', db: 'notes', collection: '_default._default' });
  assert.equal(parseDocPath('/notes/_default._default/hello.txt'), undefined);
  assert.equal(parseDocPath('/notes/_default._default/.json'), undefined);
  assert.equal(parseDocPath('//x/y.json'), undefined);
});

test('bodies render as 2-space JSON with a final newline', () => {
  assert.equal(renderBody({ a: 1, b: [true] }), '{\n  "a": 1,\n  "b": [\n    true\n  ]\n}\n');
  assert.equal(renderBody(null), '{}\n');
});

test('saving requires a JSON object and explains what is wrong', () => {
  assert.deepEqual(parseBody('{"x": 1}'), { x: 1 });
  assert.throws(() => parseBody('{"x": '), /not valid JSON/);
  assert.throws(() => parseBody('[1]'), /must be a JSON object, not an array/);
  assert.throws(() => parseBody('null'), /not null/);
  assert.throws(() => parseBody('"s"'), /not string/);
});
