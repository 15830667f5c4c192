import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plural } from '../../../extension/plural';
import { explainReplicationError, shortReplicationError } from '../../../extension/replication-reason';

test('an unreachable peer is explained before the raw message', () => {
  const raw = 'cannot connect to ws://127.0.0.1:9/db: connect ECONNREFUSED 127.0.0.1:9';
  assert.match(explainReplicationError(raw), /^connection refused: .* — cannot connect to ws:\/\/127\.0\.0\.1:9\/db/);
  assert.equal(shortReplicationError(raw), 'connection refused');
  assert.equal(shortReplicationError('cannot connect to ws://nowhere.invalid:1/db: getaddrinfo ENOTFOUND nowhere.invalid'), 'host not found');
  assert.equal(shortReplicationError('server refused the WebSocket upgrade: HTTP 401 Unauthorized'), 'the peer asks for a username and password (401)');
  assert.equal(shortReplicationError('server refused the WebSocket upgrade: HTTP 403 Forbidden'), 'the peer refused access (403)');
});

test('the wrong scheme keeps the server’s own advice', () => {
  const raw = 'this listener speaks TLS: use wss://127.0.0.1:4984/db';
  assert.equal(explainReplicationError(raw), raw);
  assert.equal(shortReplicationError(raw), raw);
});

test('an unknown message is kept (shortened for a description)', () => {
  assert.equal(explainReplicationError('something odd'), 'something odd');
  assert.equal(shortReplicationError('x'.repeat(100)).length, 80);
});

test('counts read as English', () => {
  assert.equal(plural(1, 'document'), '1 document');
  assert.equal(plural(0, 'connection'), '0 connections');
  assert.equal(plural(1200, 'document'), '1,200 documents');
  assert.equal(plural(2, 'leaf', 'leaves'), '2 leaves');
});
