import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionError, classifyClose, classifyConnectError, httpStatusError, isTransientCloseCode, isTransientHttpStatus } from '../../../server/transport/connection-error';
import { isLinkLocal, parseBlipsyncPath } from '../../../server/transport/blip-websocket-server';
import { pongTimeoutMs } from '../../../server/transport/websocket-client';

function systemError(code: string, message = code): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, syscall: 'connect' });
}

describe('connection error classification', () => {
  it('network errors', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']) {
      const err = classifyConnectError(systemError(code), 'ws://h/db/_blipsync');
      assert.equal(err.transient, true, code);
      assert.equal(err.code, code);
      assert.equal(err.url, 'ws://h/db/_blipsync');
    }
  });

  it('TLS certificate failures are permanent', () => {
    for (const code of ['ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']) {
      const err = classifyConnectError(Object.assign(new Error(code), { code }));
      assert.equal(err.transient, false, code);
      assert.equal(err.code, code);
    }
  });

  it('ws handshake failures', () => {
    assert.equal(classifyConnectError(new Error('Server sent no subprotocol')).code, 'WRONG_SUBPROTOCOL');
    assert.equal(classifyConnectError(new Error('Server sent an invalid subprotocol')).transient, false);
    const timeout = classifyConnectError(new Error('Opening handshake has timed out'));
    assert.equal(timeout.transient, true);
    assert.equal(timeout.code, 'HANDSHAKE_TIMEOUT');
    assert.equal(classifyConnectError(new Error('Invalid Sec-WebSocket-Accept header')).transient, false);
    const same = new ConnectionError('x', { transient: true });
    assert.equal(classifyConnectError(same), same);
  });

  it('HTTP statuses', () => {
    for (const status of [408, 429, 500, 502, 503, 504]) assert.equal(isTransientHttpStatus(status), true, String(status));
    for (const status of [301, 400, 401, 403, 404, 405, 409, 426, 501, 505]) assert.equal(isTransientHttpStatus(status), false, String(status));
    const err = httpStatusError(401, 'Unauthorized', { wwwAuthenticate: 'Basic realm="x"', responseBody: 'login' });
    assert.equal(err.transient, false);
    assert.equal(err.httpStatus, 401);
    assert.equal(err.wwwAuthenticate, 'Basic realm="x"');
    assert.equal(err.code, 'HTTP_STATUS');
  });

  it('close codes', () => {
    for (const code of [1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014, 4001]) assert.equal(isTransientCloseCode(code), true, String(code));
    for (const code of [1002, 1003, 1007, 1008, 1009, 1010, 1015, 4002, 4000, 4999, 3000]) assert.equal(isTransientCloseCode(code), false, String(code));

    assert.equal(classifyClose(1000, 'done', true), undefined, 'we closed normally');
    assert.equal(classifyClose(1001, 'app quitting', true), undefined, 'we went away');
    const peerNormal = classifyClose(1000, '');
    assert.equal(peerNormal?.transient, true, '1000 from the peer mid-replication is transient');
    assert.equal(classifyClose(1002, 'BLIP protocol error BAD_CHECKSUM', true)?.transient, false, 'peer broke the protocol');
    const heartbeat = classifyClose(1006, 'heartbeat timeout', true);
    assert.equal(heartbeat?.code, 'HEARTBEAT_TIMEOUT');
    assert.equal(heartbeat?.transient, true);
    const goingAway = classifyClose(1001, 'server is shutting down');
    assert.equal(goingAway?.transient, true);
    assert.equal(goingAway?.closeCode, 1001);
    assert.match(goingAway?.message ?? '', /closed by peer with 1001 \(going away\): server is shutting down/);
  });

  it('heartbeat pong timeout formula', () => {
    assert.equal(pongTimeoutMs(1), 1000);
    assert.equal(pongTimeoutMs(2), 1000);
    assert.equal(pongTimeoutMs(5), 4000);
    assert.equal(pongTimeoutMs(21), 20_000);
    assert.equal(pongTimeoutMs(300), 20_000);
  });

  it('path parsing and link-local detection', () => {
    assert.deepEqual(parseBlipsyncPath('/db/_blipsync'), { kind: 'ok', database: 'db' });
    assert.deepEqual(parseBlipsyncPath('/a%2Fb/_blipsync'), { kind: 'ok', database: 'a/b' });
    assert.deepEqual(parseBlipsyncPath('/db'), { kind: 'other' });
    assert.deepEqual(parseBlipsyncPath('/%E0%A4%A/_blipsync'), { kind: 'malformed' });
    for (const a of ['fe80::1', 'FE80::abcd:1', 'febf::1', '169.254.1.2']) assert.equal(isLinkLocal(a), true, a);
    for (const a of ['fec0::1', 'fd00::1', '2001:db8::1', '192.168.1.2', '127.0.0.1']) assert.equal(isLinkLocal(a), false, a);
  });
});
