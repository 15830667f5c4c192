import type { FrameTransport, TransportCloseInfo, TransportFrame } from './transport';

/**
 * Two connected in-process transports, for tests and for wiring peers together in one process.
 * Frames are copied (so the sender may reuse its buffer) and delivered on microtasks: delivery is
 * asynchronous like a socket, in order, yet needs no timers.
 */
export class MemoryTransport implements FrameTransport {
  private peer: MemoryTransport | undefined;
  private readonly frameListeners = new Set<(frame: TransportFrame) => void>();
  private readonly closeListeners = new Set<(info: TransportCloseInfo) => void>();
  /** Set as soon as close() is called on either side: later sends are dropped. */
  private closing = false;
  /** Set when the close is delivered; frames sent before close() are delivered before it. */
  private closedInfo: TransportCloseInfo | undefined;

  /** Frames and bytes this side has sent (binary only), for tests and benchmarks. */
  framesSent = 0;
  bytesSent = 0;

  /** Same as createMemoryTransportPair(). */
  static pair(): [MemoryTransport, MemoryTransport] {
    const a = new MemoryTransport();
    const b = new MemoryTransport();
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  get isClosed(): boolean {
    return this.closedInfo !== undefined;
  }

  get closeInfo(): TransportCloseInfo | undefined {
    return this.closedInfo;
  }

  send(frame: Uint8Array): void {
    if (this.closing) return;
    this.framesSent++;
    this.bytesSent += frame.length;
    this.post(new Uint8Array(frame)); // a copy, as a socket gives (frames may be pooled Buffers, whose slice() is a view)
  }

  /** Sends a text message, which a real WebSocket could carry but BLIP forbids. For tests. */
  sendText(text: string): void {
    if (this.closing) return;
    this.post(text);
  }

  close(code: number, reason: string): void {
    const peer = this.peer;
    if (this.closing || !peer) return;
    this.closing = true;
    peer.closing = true;
    const info: TransportCloseInfo = { code, reason };
    queueMicrotask(() => {
      this.finish(info);
      peer.finish(info);
    });
  }

  onFrame(listener: (frame: TransportFrame) => void): () => void {
    const wrapped = (frame: TransportFrame): void => listener(frame);
    this.frameListeners.add(wrapped);
    return () => this.frameListeners.delete(wrapped);
  }

  onClose(listener: (info: TransportCloseInfo) => void): () => void {
    const wrapped = (info: TransportCloseInfo): void => listener(info);
    const already = this.closedInfo;
    if (already) {
      // Late subscribers still hear about the close, as they would have had they come earlier.
      let active = true;
      queueMicrotask(() => {
        if (active) wrapped(already);
      });
      return () => {
        active = false;
      };
    }
    this.closeListeners.add(wrapped);
    return () => this.closeListeners.delete(wrapped);
  }

  private post(frame: TransportFrame): void {
    const peer = this.peer;
    if (!peer) return;
    queueMicrotask(() => peer.deliver(frame));
  }

  private deliver(frame: TransportFrame): void {
    if (this.closedInfo) return;
    for (const listener of [...this.frameListeners]) listener(frame);
  }

  private finish(info: TransportCloseInfo): void {
    if (this.closedInfo) return;
    this.closedInfo = info;
    for (const listener of [...this.closeListeners]) listener(info);
    this.frameListeners.clear();
    this.closeListeners.clear();
  }
}

/** Returns two transports connected to each other. */
export function createMemoryTransportPair(): [MemoryTransport, MemoryTransport] {
  return MemoryTransport.pair();
}
