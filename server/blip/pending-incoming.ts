import { BlipProtocolError } from './errors';

/**
 * What the peer makes this side hold on the receiving side: messages begun but not finished, and
 * finished requests waiting for the outgoing queue to drain. Each one is bounded on its own by the
 * message size limit; this bounds them together, so many half-sent messages cannot add up.
 */
export class PendingIncoming {
  private heldMessages = 0;
  private heldBytes = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {}

  get messages(): number {
    return this.heldMessages;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** Counts more held data; throws PENDING_INCOMING_LIMIT once either cap is passed. */
  add(messages: number, bytes: number): void {
    this.heldMessages += messages;
    this.heldBytes += bytes;
    if (this.heldMessages > this.maxMessages) {
      throw new BlipProtocolError('PENDING_INCOMING_LIMIT', `peer has more than ${this.maxMessages} incoming messages pending at once`);
    }
    if (this.heldBytes > this.maxBytes) {
      throw new BlipProtocolError('PENDING_INCOMING_LIMIT', `peer's pending incoming messages exceed ${this.maxBytes} bytes`);
    }
  }

  release(messages: number, bytes: number): void {
    this.heldMessages -= messages;
    this.heldBytes -= bytes;
  }

  clear(): void {
    this.heldMessages = 0;
    this.heldBytes = 0;
  }
}
