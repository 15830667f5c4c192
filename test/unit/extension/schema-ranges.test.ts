import assert from 'node:assert/strict';
import { test } from 'node:test';
import { problemRanges } from '../../../extension/documents/schema-ranges';

const text = `{
  "name": "milk",
  "qty": "two",
  "tags": ["a", 7],
  "shop": { "city": 1 }
}
`;
const at = (r: { start: number; end: number }): string => text.slice(r.start, r.end);

test('a wrong value is underlined where it is, in objects and arrays', () => {
  const [qty, tag, city] = problemRanges(text, [
    { path: '/qty', segments: ['qty'], message: 'must be number' },
    { path: '/tags/1', segments: ['tags', '1'], message: 'must be string' },
    { path: '/shop/city', segments: ['shop', 'city'], message: 'must be string' },
  ]);
  assert.equal(at(qty!), '"two"');
  assert.equal(qty!.message, 'must be number');
  assert.equal(at(tag!), '7');
  assert.equal(at(city!), '1');
});

test('a missing property points at the key of the object lacking it, or the opening brace of the document', () => {
  const [inner, top] = problemRanges(text, [
    { path: '/shop', segments: ['shop'], message: "must have required property 'zip'", missingProperty: 'zip' },
    { path: '', segments: [], message: "must have required property 'id'", missingProperty: 'id' },
  ]);
  assert.equal(at(inner!), '"shop"');
  assert.equal(at(top!), '{');
});

test('a path the text no longer has falls back to its deepest existing part', () => {
  const [r] = problemRanges(text, [{ path: '/shop/street/no', segments: ['shop', 'street', 'no'], message: 'x' }]);
  assert.equal(at(r!), '"shop"');
});
