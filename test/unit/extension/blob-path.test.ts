import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { blobPath, parseBlobPath } from '../../../extension/blobs/blob-path';

const digestOf = (s: string): string => `sha1-${createHash('sha1').update(s).digest('base64')}`;

test('blob paths round-trip, with document IDs that hold slashes and digests whose base64 holds / and +', () => {
  // Find a digest whose base64 form has both characters a path cannot carry as they are.
  let digest = '';
  for (let i = 0; !(digest.includes('/') && digest.includes('+')); i++) digest = digestOf(String(i));
  for (const docId of ['list', 'a/b/c', 'ünï cødé #1?']) {
    const target = { db: 'inventory', collection: '_default._default', docId, digest };
    const path = blobPath(target, 'list[0].image.svg');
    assert.match(path, /\/[0-9a-f]{40}\/list\[0\]\.image\.svg$/);
    assert.deepEqual(parseBlobPath(path), { ...target, fileName: 'list[0].image.svg' });
  }
});

test('malformed blob paths are refused', () => {
  assert.equal(parseBlobPath('/inventory/_default._default/list/image.svg'), undefined);
  assert.equal(parseBlobPath(`/inventory/_default._default/list/${'z'.repeat(40)}/image.svg`), undefined);
  assert.equal(parseBlobPath(`/inventory/_default._default/${'a'.repeat(40)}/image.svg`), undefined);
});
