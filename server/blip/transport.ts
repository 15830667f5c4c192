/**
 * What BlipConnection needs from the layer below: ordered, reliable delivery of whole frames.
 * A WebSocket (one BLIP frame per binary message), an in-memory pair, or any other message
 * channel can implement it.
 */

/**
 * One message from the transport. Binary messages are frames; a string stands for a text
 * WebSocket message, which BLIP forbids — the connection treats it as a protocol error, so
 * adapters should pass text through rather than drop it.
 */
export type TransportFrame = Uint8Array | string;

export interface TransportCloseInfo {
  readonly code: number;
  readonly reason: string;
}

export interface FrameTransport {
  /** Queues one frame. Must not throw once the transport has closed (drop the frame instead). */
  send(frame: Uint8Array): void;
  /** Starts closing; `onClose` listeners run once it has closed. Safe to call repeatedly. */
  close(code: number, reason: string): void;
  /** Subscribes to incoming frames, in order. Returns an unsubscribe function. */
  onFrame(listener: (frame: TransportFrame) => void): () => void;
  /** Subscribes to the transport closing (either side). Returns an unsubscribe function. */
  onClose(listener: (info: TransportCloseInfo) => void): () => void;
}
