/**
 * Why a replication is offline or stopped, in words a person can act on. The server's message
 * stays the detail; this adds what it means and what to check. Pure (the dashboard uses it too).
 */

interface Rule {
  readonly test: RegExp;
  readonly reason: string;
}

const RULES: readonly Rule[] = [
  // The server's own message already names the fix ("use wss://host:port/db").
  { test: /this listener (?:speaks|does not speak) TLS: use wss?:\/\/\S+/i, reason: '' },
  { test: /ECONNREFUSED/, reason: 'connection refused: nothing listens at that address and port (is the peer’s listener running?)' },
  { test: /ENOTFOUND|EAI_AGAIN/, reason: 'host not found: the name does not resolve (DNS); check the address' },
  { test: /EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ENETDOWN/, reason: 'the peer’s network is unreachable from here' },
  { test: /ETIMEDOUT|timed out/i, reason: 'the peer does not answer: check the address and any firewall' },
  { test: /ECONNRESET|closed during the handshake/i, reason: 'the peer closed the connection while it was being set up' },
  { test: /HTTP 401\b/, reason: 'the peer asks for a username and password (401): edit the replication to sign in' },
  { test: /HTTP 403\b/, reason: 'the peer refused access (403): wrong credentials or not allowed' },
  { test: /HTTP 404\b/, reason: 'no such database at the peer (404): check the URL’s last part' },
  { test: /self[- ]signed|DEPTH_ZERO|UNABLE_TO_(?:GET|VERIFY)|certificate/i, reason: 'TLS: the peer’s certificate is not trusted with these settings' },
  { test: /TLS failure|SSL|EPROTO/i, reason: 'TLS: the secure connection failed' },
];

/** The message with, when known, what it means first: "connection refused: … — cannot connect to …". */
export function explainReplicationError(message: string): string {
  for (const rule of RULES) {
    if (!rule.test.test(message)) continue;
    if (rule.reason === '') return message.match(rule.test)![0];
    return `${rule.reason} — ${message}`;
  }
  return message;
}

/** The short form for a tree item's description: the meaning only (else the message). */
export function shortReplicationError(message: string): string {
  for (const rule of RULES) {
    if (!rule.test.test(message)) continue;
    if (rule.reason === '') return message.match(rule.test)![0];
    return rule.reason.replace(/:.*$/, '');
  }
  return message.length > 80 ? `${message.slice(0, 79)}…` : message;
}
