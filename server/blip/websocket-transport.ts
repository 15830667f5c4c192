import type WebSocket from 'ws';
import type { FrameTransport, TransportCloseInfo, TransportFrame } from './transport';

// Standard WebSocket readyState values (kept local so this module needs only ws's types).
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/** How long a received message may go without anything sent back before a ping acknowledges it. */
const SILENT_ACK_DELAY_MS = 2;

/**
 * Adapts a `ws` WebSocket (client or server side, already open) to FrameTransport: one BLIP frame
 * per binary message. Text messages are passed on as strings so the connection can reject them.
 */
export function createWebSocketTransport(socket: WebSocket): FrameTransport {
  // ws emits 'error' before 'close' on socket failures; an unhandled 'error' would crash the
  // process, and the 'close' that follows is what the connection acts on.
  socket.on('error', ignore);
  // Frames sent in the same tick go out in one socket write (cork until the next tick) instead
  // of one system call each; the BLIP outbox sends bursts of frames.
  const raw = (socket as unknown as { _socket?: { cork(): void; uncork(): void; destroyed?: boolean } })._socket;
  let corked = false;
  // Peers that leave Nagle's algorithm on (LiteCore's client sockets do) hold each small reply
  // until the previous one is acknowledged, and a receiver with nothing to send back delays that
  // acknowledgement by up to 40 ms: pulls from a Couchbase Lite client stalled that long every
  // few batches. When a message arrives and nothing is sent within a couple of milliseconds, a
  // WebSocket ping (two bytes, answered by the peer's stack) carries the acknowledgement.
  let sentSinceMessage = true;
  let ackTimer: NodeJS.Timeout | undefined;
  const acknowledgeIfSilent = (): void => {
    ackTimer = undefined;
    if (!sentSinceMessage && socket.readyState === OPEN) socket.ping();
  };
  socket.once('close', () => clearTimeout(ackTimer));
  const uncork = (): void => {
    corked = false;
    if (raw && !raw.destroyed) raw.uncork();
  };
  return {
    send(frame: Uint8Array): void {
      if (socket.readyState !== OPEN) return;
      if (raw && !corked) {
        corked = true;
        raw.cork();
        process.nextTick(uncork);
      }
      sentSinceMessage = true;
      socket.send(frame, { binary: true }, ignore);
    },
    close(code: number, reason: string): void {
      if (socket.readyState === OPEN) socket.close(code, reason);
      else if (socket.readyState === CONNECTING) socket.terminate();
    },
    onFrame(listener: (frame: TransportFrame) => void): () => void {
      const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
        const bytes = rawDataToBytes(data);
        sentSinceMessage = false;
        ackTimer ??= setTimeout(acknowledgeIfSilent, SILENT_ACK_DELAY_MS);
        listener(isBinary ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
      };
      socket.on('message', onMessage);
      return () => socket.off('message', onMessage);
    },
    onClose(listener: (info: TransportCloseInfo) => void): () => void {
      let active = true;
      const onClose = (code: number, reason: Buffer): void => listener({ code, reason: reason.toString('utf8') });
      if (socket.readyState === CLOSED) {
        // Its 'close' event is already past; without this, a late subscriber would wait forever.
        queueMicrotask(() => {
          if (active) listener({ code: 1006, reason: 'socket was already closed' });
        });
      } else {
        socket.on('close', onClose);
      }
      return () => {
        active = false;
        socket.off('close', onClose);
      };
    },
  };
}

function rawDataToBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

function ignore(): void {}
