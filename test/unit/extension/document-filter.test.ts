import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocumentFilter } from '../../../extension/views/document-filter';

test('the filter box takes an ID prefix, or a condition once it compares or tests something', () => {
  assert.deepEqual(parseDocumentFilter('  order-2024 '), { prefix: 'order-2024' });
  assert.deepEqual(parseDocumentFilter('ANDROID-'), { prefix: 'ANDROID-' }, 'a keyword inside a word is still a prefix');
  assert.deepEqual(parseDocumentFilter('type = "list"'), { where: 'type = "list"' });
  assert.deepEqual(parseDocumentFilter('qty>2'), { where: 'qty>2' });
  assert.deepEqual(parseDocumentFilter('name like "A%"'), { where: 'name like "A%"' });
  assert.deepEqual(parseDocumentFilter('tags is not missing'), { where: 'tags is not missing' });
  assert.equal(parseDocumentFilter('   '), undefined);
});
