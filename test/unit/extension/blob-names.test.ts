import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blobFileName, fileExtensionFor, formatBytes, isImage } from '../../../extension/blobs/blob-names';

test('the file extension follows the content type, so VS Code picks the matching editor', () => {
  assert.equal(fileExtensionFor('image/png'), 'png');
  assert.equal(fileExtensionFor('IMAGE/JPEG'), 'jpg');
  assert.equal(fileExtensionFor('image/svg+xml'), 'svg');
  assert.equal(fileExtensionFor('text/plain; charset=utf-8'), 'txt');
  assert.equal(fileExtensionFor('text/x-log'), 'txt');
  assert.equal(fileExtensionFor('application/ld+json'), 'json');
  assert.equal(fileExtensionFor('application/octet-stream'), 'bin');
  assert.equal(fileExtensionFor(undefined), 'bin');
  assert.ok(isImage('image/webp'));
  assert.ok(!isImage('application/pdf'));
});

test('file names keep the JSON path readable and never hold a path separator', () => {
  assert.equal(blobFileName('list[0].image', 'image/svg+xml'), 'list[0].image.svg');
  assert.equal(blobFileName('photo.PNG', 'image/png'), 'photo.PNG');
  assert.equal(blobFileName('a/b\\c', 'text/plain'), 'a_b_c.txt');
  assert.equal(blobFileName('', undefined), 'blob.bin');
});

test('sizes', () => {
  assert.deepEqual([formatBytes(245), formatBytes(2048), formatBytes(5 * 1024 * 1024)], ['245 B', '2.0 KB', '5.0 MB']);
});
