import { ResponseError } from 'vscode-languageserver-protocol';
import { AppError } from '../../../server/app/app-error';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlipError } from '../../../server/blip';
import { StoreError } from '../../../server/store';
import { ExitCode, exitCodeFor, rpcCodeFor, storeToBlip, toReplicatorError } from '../../../server/error-mapping';
import { ReplicatorError } from '../../../server/replication/replicator-types';
import { RpcErrorCode } from '../../../server/rpc/protocol';
import { ConnectionError, classifyConnectError, httpStatusError } from '../../../server/transport/connection-error';

test('store errors become the BLIP statuses a sender understands', () => {
  assert.equal(storeToBlip(new StoreError('INVALID_DOCUMENT', 'bad')).code, 400);
  assert.equal(storeToBlip(new StoreError('INVALID_DOC_ID', 'bad')).code, 400);
  assert.equal(storeToBlip(new StoreError('CONFLICT', 'no')).code, 409);
  assert.equal(storeToBlip(new StoreError('NOT_FOUND', 'gone')).code, 404);
  assert.equal(storeToBlip(new StoreError('IO', 'disk full')).code, 500);
  assert.equal(storeToBlip(new Error('anything else')).code, 500);
  const blip = new BlipError('HTTP', 403, 'read-only');
  assert.equal(storeToBlip(blip), blip);
});

test('connection and peer failures become replicator errors, transient or permanent by class and code', () => {
  assert.equal(toReplicatorError(new BlipError('HTTP', 503, 'busy')).transient, true);
  assert.equal(toReplicatorError(new BlipError('HTTP', 429, 'slow down')).transient, true);
  const refused = toReplicatorError(new BlipError('HTTP', 403, 'no'));
  assert.deepEqual([refused.transient, refused.code], [false, 403]);
  const unauthorized = toReplicatorError(httpStatusError(401, 'Unauthorized'));
  assert.deepEqual([unauthorized.transient, unauthorized.code], [false, 401]);
  const unreachable = toReplicatorError(classifyConnectError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
  assert.deepEqual([unreachable.transient, unreachable.code], [true, 'ECONNREFUSED']);
  // A plain object that merely looks like an error with a verdict is not trusted as one.
  const lookalike = toReplicatorError({ transient: false, message: 'pretend' });
  assert.equal(lookalike.transient, true);
  const own = new ReplicatorError('x', false);
  assert.equal(toReplicatorError(own), own);
  assert.equal(toReplicatorError(new ConnectionError('y', { transient: false })).transient, false);
});

test('invalid URLs are recognised by their code, not their text', () => {
  const nodeUrl = Object.assign(new TypeError('whatever the runtime says'), { code: 'ERR_INVALID_URL' });
  assert.equal(classifyConnectError(nodeUrl).code, 'INVALID_URL');
  assert.equal(classifyConnectError(new SyntaxError('any text')).transient, false);
  assert.notEqual(classifyConnectError(new Error('Invalid URL')).code, 'INVALID_URL');
});

test('RPC codes and CLI exit codes', () => {
  assert.equal(rpcCodeFor(new StoreError('NOT_FOUND', '')), RpcErrorCode.notFound);
  assert.equal(rpcCodeFor(new StoreError('FAILED_STATE', '')), RpcErrorCode.io);
  assert.equal(rpcCodeFor(new StoreError('INVALID_REV_ID', '')), RpcErrorCode.invalid);
  assert.equal(rpcCodeFor(new ReplicatorError('', false)), RpcErrorCode.replication);
  assert.equal(rpcCodeFor(new ReplicatorError('', true)), RpcErrorCode.replicationTransient);
  assert.equal(rpcCodeFor(new AppError('EXISTS', '')), RpcErrorCode.exists);
  assert.equal(rpcCodeFor(new AppError('CONFLICT', '')), RpcErrorCode.conflict);
  assert.equal(rpcCodeFor(new Error('')), RpcErrorCode.internal);
  assert.equal(exitCodeFor(new StoreError('NOT_IN_CONFLICT', '')), ExitCode.conflict);
  assert.equal(exitCodeFor(new StoreError('LOCKED', '')), 5);
  assert.equal(exitCodeFor(new ReplicatorError('', false)), 10);
  assert.equal(exitCodeFor(new ReplicatorError('', true)), 11);
  assert.equal(exitCodeFor(new Error('')), 1);
});

test('the CLI maps what crossed JSON-RPC back to the same exit code the error would have in process', () => {
  const errors = [
    new StoreError('NOT_FOUND', ''),
    new StoreError('NOT_IN_CONFLICT', ''),
    new StoreError('EXISTS', ''),
    new StoreError('LOCKED', ''),
    new StoreError('CORRUPT', ''),
    new StoreError('IO', ''),
    new StoreError('INVALID_DOC_ID', ''),
    new ReplicatorError('', false),
    new ReplicatorError('', true),
    new AppError('NOT_FOUND', ''),
    new AppError('INVALID', ''),
  ];
  for (const e of errors) assert.equal(exitCodeFor(new ResponseError(rpcCodeFor(e), e.message)), exitCodeFor(e), `${e.name} ${(e as { code?: unknown }).code}`);
});
