import {
  ACK_INTERVAL_BYTES,
  BIG_FRAME_SIZE,
  CloseCode,
  DEFAULT_COMPRESSION_THRESHOLD,
  DEFAULT_FRAME_SIZE,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_MAX_OUTGOING_BYTES,
  DEFAULT_MAX_PENDING_INCOMING_BYTES,
  DEFAULT_MAX_PENDING_INCOMING_MESSAGES,
  DEFAULT_STALLED_MESSAGE_TIMEOUT_MS,
  MAX_PROPERTIES_SIZE,
  MAX_UNACKED_BYTES,
} from './constants';
import { TypedEmitter } from '../util/typed-emitter';
import { logger } from '../util/log';
import { BLIP_ERROR_DOMAIN, type BlipCloseInfo, BlipClosedError, BlipError, BlipErrorCode, BlipProtocolError, type BlipProtocolErrorCode } from './errors';
import { FrameDecoder, type DecodedFrame } from './frame-decoder';
import { FrameEncoder } from './frame-encoder';
import { FrameFlag, MessageType, isAckType, messageTypeName } from './frame';
import {
  type BlipReply,
  type BlipRequest,
  type IncomingKind,
  type IncomingReply,
  type IncomingRequest,
  IncomingMessage,
  blipErrorFromMessage,
  decodeMessagePayload,
  encodeMessagePayload,
  errorReplyContent,
  requestProperties,
} from './message';
import { Outbox, type Schedulable } from './outbox';
import { PendingIncoming } from './pending-incoming';
import { StallTimer } from './stall-timer';
import type { FrameTransport, TransportCloseInfo, TransportFrame } from './transport';
import { decodeVarint, tryDecodeVarint } from './varint';
import { decodeProperties, type BlipProperties } from './properties';

const log = logger('blip');

export interface BlipConnectionOptions {
  /** Label for diagnostics. */
  readonly name?: string | undefined;
  /** Largest incoming message (properties + body, uncompressed) accepted; larger is a protocol error. */
  readonly maxMessageSize?: number | undefined;
  /** Largest output one incoming compressed frame may inflate to; larger is a protocol error. */
  readonly maxInflatedFrameSize?: number | undefined;
  /** zlib level for outgoing compressed frames (0 = never compress; incoming ones are still accepted). */
  readonly compressionLevel?: number | undefined;
  /** Messages whose payload is smaller than this are sent uncompressed unless they ask otherwise. */
  readonly compressionThreshold?: number | undefined;
  /**
   * Incoming messages held at once: begun but not finished, or finished requests waiting for the
   * outgoing queue to drain. One more closes the connection with 1008.
   */
  readonly maxPendingIncomingMessages?: number | undefined;
  /** Bytes those messages may hold together; more closes the connection with 1008. */
  readonly maxPendingIncomingBytes?: number | undefined;
  /**
   * An incoming message with no new frame, or an outgoing one waiting for the peer's ACK, for this
   * long closes the connection with 1001. 0 disables the check.
   */
  readonly stalledMessageTimeoutMs?: number | undefined;
  /**
   * Outgoing bytes (messages not completely sent) at which incoming requests stop being handled
   * until the peer has taken enough of them: the peer cannot make this side queue replies forever.
   */
  readonly maxOutgoingBytes?: number | undefined;
}

/**
 * Answers a request. Return the reply (or nothing, for an empty reply); throw a BlipError to send
 * an ERR reply. Any other exception becomes ERR BLIP/501 and a 'handlerError' event. The return
 * value is ignored for no-reply requests.
 */
export type RequestHandler = (request: IncomingRequest) => BlipReply | undefined | void | Promise<BlipReply | undefined | void>;

/**
 * Takes a reply's body piece by piece as its frames arrive, so a large body (a blob) is never
 * assembled in memory and is not subject to the connection's message size limit.
 */
export interface ReplyBodySink {
  /** Each piece of the body, in order. Throwing fails the request; the rest of the reply is read and dropped. */
  data(chunk: Uint8Array): void;
}

export type BlipConnectionEvents = {
  /** The connection is failing (protocol violation by the peer, or an internal fault); 'close' follows. */
  error: [error: Error];
  /** Emitted exactly once. */
  close: [info: BlipCloseInfo];
  /** A request handler threw something other than a BlipError. */
  handlerError: [error: unknown, request: IncomingRequest];
};

export interface BlipConnectionStats {
  readonly framesSent: number;
  readonly bytesSent: number;
  readonly framesReceived: number;
  readonly bytesReceived: number;
  readonly messagesSent: number;
  readonly messagesReceived: number;
  /** Incoming messages held right now (unfinished, or waiting for the outgoing queue). */
  readonly pendingIncomingMessages: number;
  readonly pendingIncomingBytes: number;
  /** Payload bytes of outgoing messages not yet completely sent. */
  readonly outgoingBytes: number;
}

/**
 * Let the event loop breathe (socket I/O, timers) after this many bytes, or this many frames, in
 * a row. Counting bytes lets a burst of tiny frames (replies to `rev`) go out in one turn.
 */
const BYTES_PER_TURN = 128 * 1024;
const FRAMES_PER_TURN = 512;

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
const MAX_CLOSE_REASON_BYTES = 123;

/** A request or reply being sent. */
class OutgoingMessage implements Schedulable {
  readonly kind = 'message' as const;
  /** Payload bytes already framed. */
  offset = 0;
  /** Bytes after the frame headers sent so far; what the peer's ACKs count. */
  bytesSent = 0;
  unacked = 0;
  /** Runs while the message is paused for an ACK. */
  stall: StallTimer | undefined;

  constructor(
    readonly msgNo: number,
    readonly flags: number,
    readonly payload: Uint8Array,
    readonly onSent?: () => void,
  ) {}

  get urgent(): boolean {
    return (this.flags & FrameFlag.Urgent) !== 0;
  }

  get started(): boolean {
    return this.bytesSent > 0;
  }

  get isReply(): boolean {
    return (this.flags & FrameFlag.TypeMask) !== MessageType.MSG;
  }

  get needsAck(): boolean {
    return this.unacked >= MAX_UNACKED_BYTES;
  }

  acknowledge(byteCount: number): void {
    // A count beyond what was sent is bogus; ignore it rather than unfreeze on a lie.
    if (byteCount <= this.bytesSent) this.unacked = Math.min(this.unacked, this.bytesSent - byteCount);
  }
}

/** An ACK waiting for its turn in the outbox. */
interface OutgoingAck extends Schedulable {
  readonly kind: 'ack';
  readonly msgNo: number;
  readonly type: typeof MessageType.ACKMSG | typeof MessageType.ACKRPY;
  readonly bytesReceived: number;
}

type Outgoing = OutgoingMessage | OutgoingAck;

/** Frames of one incoming message, collected until the last one arrives. */
class IncomingAssembly {
  readonly chunks: Uint8Array[] = [];
  size = 0;
  wireBytes = 0;
  unackedWireBytes = 0;
  compressed = false;
  propertiesLengthChecked = false;
  /** Set while the message is counted in PendingIncoming (it spans several frames). */
  stall: StallTimer | undefined;

  constructor(
    readonly kind: IncomingKind,
    readonly msgNo: number,
    readonly first: DecodedFrame,
  ) {}

  /** The first bytes of the payload (enough for the properties-length varint). */
  head(max: number): Uint8Array {
    const first = this.chunks[0];
    if (first && first.length >= max) return first.subarray(0, max);
    const out = new Uint8Array(Math.min(max, this.size));
    let pos = 0;
    for (const chunk of this.chunks) {
      if (pos >= out.length) break;
      const part = chunk.subarray(0, out.length - pos);
      out.set(part, pos);
      pos += part.length;
    }
    return out;
  }

  finish(): IncomingMessage {
    const payload = this.chunks.length === 1 ? (this.chunks[0] as Uint8Array) : concat(this.chunks, this.size);
    const { properties, body } = decodeMessagePayload(payload);
    return new IncomingMessage(this.kind, this.msgNo, properties, body, {
      urgent: this.first.urgent,
      noReply: this.first.noReply,
      compressed: this.compressed,
    });
  }
}

interface PendingReply {
  readonly resolve: (reply: IncomingReply) => void;
  readonly reject: (error: Error) => void;
  assembly?: IncomingAssembly;
  readonly sink?: ReplyBodySink | undefined;
  /** A streamed reply's properties, once all their bytes have arrived. */
  properties?: BlipProperties;
  sinkError?: Error;
}

/**
 * One BLIP connection over a FrameTransport: multiplexes requests and replies in both
 * directions, with per-direction checksums and compression, urgent scheduling and flow control.
 */
export class BlipConnection extends TypedEmitter<BlipConnectionEvents> {
  readonly name: string;
  private readonly transport: FrameTransport;
  private readonly encoder: FrameEncoder;
  private readonly decoder: FrameDecoder;
  private readonly maxMessageSize: number;
  private readonly compressionThreshold: number;
  private readonly stalledMessageTimeoutMs: number;
  private readonly maxOutgoingBytes: number;
  private readonly pendingIncoming: PendingIncoming;
  /** Finished requests not yet handed to their handler because the outgoing queue is full. */
  private readonly waitingRequests: { readonly request: IncomingRequest; readonly size: number }[] = [];
  private outgoingBytes = 0;
  private readonly detach: (() => void)[];

  private readonly handlers = new Map<string, RequestHandler>();
  private readonly outbox = new Outbox<Outgoing>();
  /** Messages paused until the peer acknowledges enough of them. */
  private readonly frozen = new Set<OutgoingMessage>();
  /** Every message not yet completely sent, by "Q#" (our requests) / "R#" (our replies), for ACK lookup. */
  private readonly sending = new Map<string, OutgoingMessage>();
  private readonly pendingReplies = new Map<number, PendingReply>();
  private readonly incomingRequests = new Map<number, IncomingAssembly>();
  private readonly inbox: TransportFrame[] = [];
  private lastRequestSent = 0;
  private lastRequestReceived = 0;
  private pumping = false;
  private pumpScheduled = false;
  private receiving = false;
  private idleWaiters: (() => void)[] = [];
  private closed: BlipCloseInfo | undefined;
  private readonly counters = { framesSent: 0, bytesSent: 0, framesReceived: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 };

  constructor(transport: FrameTransport, options: BlipConnectionOptions = {}) {
    super();
    this.name = options.name ?? 'blip';
    this.transport = transport;
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.compressionThreshold = options.compressionThreshold ?? DEFAULT_COMPRESSION_THRESHOLD;
    this.stalledMessageTimeoutMs = options.stalledMessageTimeoutMs ?? DEFAULT_STALLED_MESSAGE_TIMEOUT_MS;
    this.maxOutgoingBytes = options.maxOutgoingBytes ?? DEFAULT_MAX_OUTGOING_BYTES;
    this.pendingIncoming = new PendingIncoming(options.maxPendingIncomingMessages ?? DEFAULT_MAX_PENDING_INCOMING_MESSAGES, options.maxPendingIncomingBytes ?? DEFAULT_MAX_PENDING_INCOMING_BYTES);
    this.encoder = new FrameEncoder({ compressionLevel: options.compressionLevel });
    this.decoder = new FrameDecoder({ maxInflatedFrameSize: options.maxInflatedFrameSize });
    this.detach = [transport.onFrame((frame) => this.onTransportFrame(frame)), transport.onClose((info) => this.onTransportClose(info))];
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  /** How the connection closed, once it has. */
  get closeInfo(): BlipCloseInfo | undefined {
    return this.closed;
  }

  get stats(): BlipConnectionStats {
    return {
      ...this.counters,
      pendingIncomingMessages: this.pendingIncoming.messages,
      pendingIncomingBytes: this.pendingIncoming.bytes,
      outgoingBytes: this.outgoingBytes,
    };
  }

  /** Handles incoming requests whose Profile is `profile` (replacing any previous handler). */
  onRequest(profile: string, handler: RequestHandler): () => void {
    this.handlers.set(profile, handler);
    return () => {
      if (this.handlers.get(profile) === handler) this.handlers.delete(profile);
    };
  }

  /**
   * Sends a request and resolves with the reply. Rejects with BlipError if the peer answers with
   * an ERR, with BlipClosedError if the connection closes first. With a `sink`, a successful
   * reply's body goes to the sink as it arrives and the resolved reply's body is empty.
   */
  request(message: BlipRequest, sink?: ReplyBodySink): Promise<IncomingReply> {
    if (message.noReply) return Promise.reject(new TypeError('request() expects a reply; use sendNoReply() for noReply messages'));
    if (this.closed) return Promise.reject(new BlipClosedError(this.closed));
    let outgoing: OutgoingMessage;
    try {
      outgoing = this.newRequest(message, false);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<IncomingReply>((resolve, reject) => {
      this.pendingReplies.set(outgoing.msgNo, { resolve, reject, sink });
      this.enqueue(outgoing);
    });
  }

  /** Sends a request the peer must not answer. Throws BlipClosedError if the connection is closed. */
  sendNoReply(message: BlipRequest): void {
    if (this.closed) throw new BlipClosedError(this.closed);
    this.enqueue(this.newRequest(message, true));
  }

  /**
   * Resolves once nothing is left that can be sent right now: every queued message has been
   * framed and handed to the transport, or is paused waiting for the peer's ACK.
   */
  whenOutboxIdle(): Promise<void> {
    if (this.closed || (!this.pumping && this.outbox.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Closes the connection and its transport. Requests awaiting replies reject with
   * BlipClosedError; frames not yet handed to the transport are dropped. Idempotent.
   */
  close(code: number = CloseCode.Normal, reason = 'closed'): void {
    if (this.closed) return;
    this.shutdown({ code, reason: truncateReason(reason), local: true }, true);
  }

  // ---- outgoing ----

  private newRequest(message: BlipRequest, noReply: boolean): OutgoingMessage {
    const payload = encodeMessagePayload(requestProperties(message.profile, message.properties), message.body);
    // Numbered only once the payload is known to be valid: a skipped number would make the peer
    // see requests out of order.
    const msgNo = this.lastRequestSent + 1;
    const outgoing = this.newOutgoing(MessageType.MSG, msgNo, payload, {
      urgent: message.urgent ?? false,
      noReply,
      compressed: message.compressed,
      onSent: message.onSent,
    });
    this.lastRequestSent = msgNo;
    return outgoing;
  }

  private newOutgoing(
    type: MessageType,
    msgNo: number,
    payload: Uint8Array,
    options: { urgent: boolean; noReply: boolean; compressed: boolean | undefined; onSent?: (() => void) | undefined },
  ): OutgoingMessage {
    let flags: number = type;
    if (options.urgent) flags |= FrameFlag.Urgent;
    if (options.noReply) flags |= FrameFlag.NoReply;
    const compress = options.compressed ?? payload.length >= this.compressionThreshold;
    if (compress && this.encoder.canCompress) flags |= FrameFlag.Compressed;
    return new OutgoingMessage(msgNo, flags, payload, options.onSent);
  }

  private enqueue(item: Outgoing): void {
    if (this.closed) return;
    if (item.kind === 'message') {
      this.sending.set(outgoingKey(item.isReply, item.msgNo), item);
      this.outgoingBytes += item.payload.length;
    }
    this.outbox.enqueue(item);
    this.schedulePump();
  }

  /**
   * Starts the pump after the current synchronous code: whatever else it enqueues (an urgent
   * message, say) is ordered before the first frame goes out.
   */
  private schedulePump(): void {
    if (this.pumping || this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      if (!this.pumping) void this.pump();
    });
  }

  /** Sends frames until nothing is sendable. Only one pump runs at a time, which keeps frame order. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      let framesThisTurn = 0;
      let bytesThisTurn = 0;
      for (;;) {
        if (this.closed) return;
        const item = this.outbox.shift();
        if (!item) return;
        if (item.kind === 'ack') {
          const ack = this.encoder.encodeAck(item.msgNo, item.type, item.bytesReceived);
          if (log.enabled('trace')) log.trace('frame sent', { connection: this.name, type: messageTypeName(item.type), msgNo: item.msgNo, bytes: ack.length });
          this.transmit(ack);
          bytesThisTurn += ack.length;
        } else {
          // Small frames for normal messages while something urgent waits, so it is not held up.
          const maxSize = item.urgent || !this.outbox.hasUrgent() ? BIG_FRAME_SIZE : DEFAULT_FRAME_SIZE;
          const frame =
            this.encoder.encodeSync(item.msgNo, item.flags, item.payload, item.offset, maxSize) ?? (await this.encoder.encodeFrame(item.msgNo, item.flags, item.payload, item.offset, maxSize));
          if (this.closed) return;
          if (log.enabled('trace'))
            log.trace('frame sent', {
              connection: this.name,
              type: messageTypeName((item.flags & FrameFlag.TypeMask) as MessageType),
              msgNo: item.msgNo,
              bytes: frame.bytes.length,
              more: frame.moreComing,
            });
          this.transmit(frame.bytes);
          bytesThisTurn += frame.bytes.length;
          item.offset += frame.consumed;
          item.bytesSent += frame.wireLength;
          item.unacked += frame.wireLength;
          if (!frame.moreComing) {
            this.sending.delete(outgoingKey(item.isReply, item.msgNo));
            this.counters.messagesSent++;
            this.outgoingBytes -= item.payload.length;
            item.onSent?.();
            this.resumeWaitingRequests();
          } else if (item.needsAck) {
            this.frozen.add(item);
            item.stall = new StallTimer(this.stalledMessageTimeoutMs, () =>
              this.fail(new BlipProtocolError('STALLED_MESSAGE', `peer sent no ACK for ${describeOutgoing(item)} in ${this.stalledMessageTimeoutMs} ms`)),
            );
          } else {
            this.outbox.enqueue(item);
          }
        }
        if (++framesThisTurn >= FRAMES_PER_TURN || bytesThisTurn >= BYTES_PER_TURN) {
          framesThisTurn = 0;
          bytesThisTurn = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.pumping = false;
      this.notifyIdle();
    }
  }

  private transmit(frame: Uint8Array): void {
    this.counters.framesSent++;
    this.counters.bytesSent += frame.length;
    this.transport.send(frame);
  }

  private notifyIdle(): void {
    if (this.pumping || (this.outbox.length > 0 && !this.closed)) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  // ---- incoming ----

  private onTransportFrame(frame: TransportFrame): void {
    if (this.closed) return;
    // Text messages go through the queue too, so frames before one are still handled in order.
    this.inbox.push(frame);
    if (!this.receiving) void this.receive();
  }

  private onTransportClose(info: TransportCloseInfo): void {
    if (this.closed) return;
    this.shutdown({ code: info.code, reason: info.reason, local: false }, false);
  }

  /** Decodes queued frames one at a time (decoding may wait for zlib) and acts on each. */
  private async receive(): Promise<void> {
    this.receiving = true;
    try {
      for (;;) {
        if (this.closed) return;
        const raw = this.inbox.shift();
        if (raw === undefined) return;
        if (typeof raw === 'string') {
          throw new BlipProtocolError('TEXT_FRAME', 'received a text WebSocket message; BLIP frames must be binary');
        }
        this.counters.framesReceived++;
        this.counters.bytesReceived += raw.length;
        const frame = this.decoder.decodeSync(raw) ?? (await this.decoder.decode(raw));
        if (this.closed) return;
        if (log.enabled('trace')) log.trace('frame received', { connection: this.name, type: messageTypeName(frame.type), msgNo: frame.msgNo, bytes: raw.length, more: frame.moreComing });
        this.handleFrame(frame);
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.receiving = false;
    }
  }

  private handleFrame(frame: DecodedFrame): void {
    if (isAckType(frame.type)) this.handleAck(frame);
    else if (frame.type === MessageType.MSG) this.handleRequestFrame(frame);
    else this.handleReplyFrame(frame);
  }

  private handleAck(frame: DecodedFrame): void {
    const byteCount = decodeVarint(frame.payload, 0, 'ACK byte count').value;
    // ACKMSG acknowledges one of our requests, ACKRPY one of our replies.
    const message = this.sending.get(outgoingKey(frame.type === MessageType.ACKRPY, frame.msgNo));
    // An ACK for a message that has finished sending is normal (it crossed our last frame).
    if (!message) return;
    message.acknowledge(byteCount);
    if (this.frozen.has(message) && !message.needsAck) {
      this.frozen.delete(message);
      message.stall?.stop();
      message.stall = undefined;
      this.outbox.enqueue(message);
      this.schedulePump();
    }
  }

  private handleRequestFrame(frame: DecodedFrame): void {
    let assembly = this.incomingRequests.get(frame.msgNo);
    if (!assembly) {
      // BLIP guarantees requests begin in number order, so only the next number may start one.
      const expected = this.lastRequestReceived + 1;
      if (frame.msgNo !== expected) {
        throw new BlipProtocolError(
          'UNKNOWN_MESSAGE',
          frame.msgNo < expected ? `frame for request #${frame.msgNo}, which already completed` : `request #${frame.msgNo} began before request #${expected}`,
        );
      }
      this.lastRequestReceived = frame.msgNo;
      assembly = new IncomingAssembly('request', frame.msgNo, frame);
      if (frame.moreComing) {
        this.incomingRequests.set(frame.msgNo, assembly);
        this.holdPartial(assembly);
      }
    }
    this.absorb(assembly, frame, MessageType.ACKMSG);
    if (frame.moreComing) return;
    this.incomingRequests.delete(frame.msgNo);
    this.releasePartial(assembly);
    const request = assembly.finish();
    this.counters.messagesReceived++;
    if (this.waitingRequests.length > 0 || this.outgoingBytes >= this.maxOutgoingBytes) {
      // Counted first: a peer that keeps sending while ignoring our replies hits the cap.
      this.pendingIncoming.add(1, assembly.size);
      this.waitingRequests.push({ request, size: assembly.size });
      return;
    }
    this.dispatchRequest(request);
  }

  /** Hands waiting requests to their handlers while the outgoing queue has room. */
  private resumeWaitingRequests(): void {
    while (!this.closed && this.outgoingBytes < this.maxOutgoingBytes) {
      const next = this.waitingRequests.shift();
      if (!next) return;
      this.pendingIncoming.release(1, next.size);
      this.dispatchRequest(next.request);
    }
  }

  /** Starts counting a message that spans frames, and watching that its frames keep coming. */
  private holdPartial(assembly: IncomingAssembly): void {
    assembly.stall = new StallTimer(this.stalledMessageTimeoutMs, () =>
      this.fail(new BlipProtocolError('STALLED_MESSAGE', `no frame of incoming ${assembly.kind === 'request' ? 'request' : 'reply'} #${assembly.msgNo} for ${this.stalledMessageTimeoutMs} ms`)),
    );
    this.pendingIncoming.add(1, 0);
  }

  private releasePartial(assembly: IncomingAssembly): void {
    if (!assembly.stall) return;
    assembly.stall.stop();
    assembly.stall = undefined;
    this.pendingIncoming.release(1, assembly.size);
  }

  private handleReplyFrame(frame: DecodedFrame): void {
    const pending = this.pendingReplies.get(frame.msgNo);
    if (!pending) {
      throw new BlipProtocolError(
        'UNKNOWN_REPLY',
        frame.msgNo > this.lastRequestSent ? `reply #${frame.msgNo} to a request that was never sent` : `reply #${frame.msgNo} to a request that is not awaiting one`,
      );
    }
    if (!pending.assembly) {
      pending.assembly = new IncomingAssembly(frame.type === MessageType.ERR ? 'error' : 'reply', frame.msgNo, frame);
      if (frame.moreComing) this.holdPartial(pending.assembly);
    }
    const assembly = pending.assembly;
    if (pending.sink && assembly.kind === 'reply') {
      this.streamReplyFrame(pending, pending.sink, assembly, frame);
      return;
    }
    this.absorb(assembly, frame, MessageType.ACKRPY);
    if (frame.moreComing) return;
    this.pendingReplies.delete(frame.msgNo);
    this.releasePartial(assembly);
    const reply = assembly.finish();
    this.counters.messagesReceived++;
    if (reply.kind === 'error') pending.reject(blipErrorFromMessage(reply));
    else pending.resolve(reply);
  }

  /** Hands a reply frame's body bytes to the sink, once the properties before them are complete. */
  private streamReplyFrame(pending: PendingReply, sink: ReplyBodySink, assembly: IncomingAssembly, frame: DecodedFrame): void {
    assembly.stall?.touch();
    this.countForAck(assembly, frame, MessageType.ACKRPY);
    if (frame.compressed) assembly.compressed = true;
    let body: Uint8Array | undefined = frame.payload;
    if (!pending.properties) {
      assembly.chunks.push(body);
      assembly.size += body.length;
      if (assembly.stall) this.pendingIncoming.add(0, body.length);
      body = undefined;
      const length = tryDecodeVarint(assembly.head(10));
      if (length !== undefined) {
        if (length.value > MAX_PROPERTIES_SIZE) {
          throw new BlipProtocolError('PROPERTIES_TOO_LARGE', `message #${frame.msgNo} declares ${length.value} bytes of properties; the limit is ${MAX_PROPERTIES_SIZE}`);
        }
        const end = length.length + length.value;
        if (assembly.size >= end) {
          const head = concat(assembly.chunks, assembly.size);
          pending.properties = decodeProperties(head.subarray(length.length, end));
          body = head.subarray(end);
          if (assembly.stall) this.pendingIncoming.release(0, assembly.size);
          assembly.chunks.length = 0;
          assembly.size = 0;
        }
      }
    }
    if (body && body.length > 0 && !pending.sinkError) {
      try {
        sink.data(body);
      } catch (err) {
        pending.sinkError = err instanceof Error ? err : new Error(String(err));
      }
    }
    if (frame.moreComing) return;
    this.pendingReplies.delete(frame.msgNo);
    this.releasePartial(assembly);
    this.counters.messagesReceived++;
    if (pending.sinkError) pending.reject(pending.sinkError);
    else if (!pending.properties) throw new BlipProtocolError('TRUNCATED_MESSAGE', `reply #${frame.msgNo} ends before its properties`);
    else pending.resolve(new IncomingMessage('reply', frame.msgNo, pending.properties, new Uint8Array(0), { urgent: assembly.first.urgent, noReply: false, compressed: assembly.compressed }));
  }

  /** Adds a frame's data to its message, enforcing limits and acknowledging as data arrives. */
  private absorb(assembly: IncomingAssembly, frame: DecodedFrame, ackType: OutgoingAck['type']): void {
    if (assembly.size + frame.payload.length > this.maxMessageSize) {
      throw new BlipProtocolError('MESSAGE_TOO_LARGE', `incoming message #${frame.msgNo} exceeds ${this.maxMessageSize} bytes`);
    }
    if (frame.payload.length > 0) {
      assembly.chunks.push(frame.payload);
      assembly.size += frame.payload.length;
      if (assembly.stall) this.pendingIncoming.add(0, frame.payload.length);
    }
    assembly.stall?.touch();
    if (frame.compressed) assembly.compressed = true;
    if (!assembly.propertiesLengthChecked) {
      // Reject oversized properties as soon as their length is known, not after buffering them.
      const length = tryDecodeVarint(assembly.head(10));
      if (length !== undefined) {
        if (length.value > MAX_PROPERTIES_SIZE) {
          throw new BlipProtocolError('PROPERTIES_TOO_LARGE', `message #${frame.msgNo} declares ${length.value} bytes of properties; the limit is ${MAX_PROPERTIES_SIZE}`);
        }
        assembly.propertiesLengthChecked = true;
      }
    }
    this.countForAck(assembly, frame, ackType);
  }

  private countForAck(assembly: IncomingAssembly, frame: DecodedFrame, ackType: OutgoingAck['type']): void {
    assembly.wireBytes += frame.wireLength;
    assembly.unackedWireBytes += frame.wireLength;
    if (frame.moreComing && assembly.unackedWireBytes >= ACK_INTERVAL_BYTES) {
      assembly.unackedWireBytes = 0;
      this.enqueue({ kind: 'ack', msgNo: frame.msgNo, type: ackType, bytesReceived: assembly.wireBytes, urgent: true, started: true });
    }
  }

  // ---- request handling ----

  private dispatchRequest(request: IncomingRequest): void {
    const profile = request.profile;
    const handler = profile === undefined ? undefined : this.handlers.get(profile);
    if (!handler) {
      const text = profile === undefined ? 'request has no Profile' : `no handler for profile '${profile}'`;
      this.replyWithError(request, new BlipError(BLIP_ERROR_DOMAIN, BlipErrorCode.NotFound, text));
      return;
    }
    let result: ReturnType<RequestHandler>;
    try {
      result = handler(request);
    } catch (err) {
      this.handlerFailed(request, err);
      return;
    }
    if (isPromiseLike(result)) {
      // Promise.resolve adopts foreign thenables and guarantees the callbacks' outcome is handled.
      Promise.resolve(result).then(
        (reply) => this.replyWith(request, reply ?? undefined),
        (err: unknown) => this.handlerFailed(request, err),
      );
    } else {
      this.replyWith(request, result ?? undefined);
    }
  }

  private replyWith(request: IncomingRequest, reply: BlipReply | undefined): void {
    if (this.closed || request.noReply) return;
    let outgoing: OutgoingMessage;
    try {
      const payload = encodeMessagePayload(reply?.properties ?? {}, reply?.body);
      outgoing = this.newOutgoing(MessageType.RPY, request.number, payload, {
        urgent: reply?.urgent ?? request.urgent,
        noReply: false,
        compressed: reply?.compressed,
        onSent: reply?.onSent,
      });
    } catch (err) {
      this.handlerFailed(request, err);
      return;
    }
    this.enqueue(outgoing);
  }

  private handlerFailed(request: IncomingRequest, err: unknown): void {
    if (err instanceof BlipError) {
      this.replyWithError(request, err);
      return;
    }
    this.emit('handlerError', err, request);
    // The peer gets a generic message: internal details stay on this side.
    this.replyWithError(request, new BlipError(BLIP_ERROR_DOMAIN, BlipErrorCode.HandlerFailed, 'request handler failed'));
  }

  private replyWithError(request: IncomingRequest, error: BlipError): void {
    if (this.closed || request.noReply) return;
    let payload: Uint8Array;
    try {
      const content = errorReplyContent(error);
      payload = encodeMessagePayload(content.properties, content.body);
    } catch {
      // The error's extra properties were unencodable; domain, code and message still go out.
      const content = errorReplyContent(new BlipError(error.domain, error.code, error.message));
      payload = encodeMessagePayload(content.properties, content.body);
    }
    this.enqueue(this.newOutgoing(MessageType.ERR, request.number, payload, { urgent: request.urgent, noReply: false, compressed: undefined }));
  }

  // ---- closing ----

  private fail(err: unknown): void {
    if (this.closed) return;
    const error = err instanceof Error ? err : new Error(String(err));
    const info: BlipCloseInfo =
      error instanceof BlipProtocolError
        ? { code: closeCodeFor(error.code), reason: truncateReason(`BLIP protocol error ${error.code}: ${error.message}`), local: true, error }
        : { code: CloseCode.InternalError, reason: truncateReason(`BLIP internal error: ${error.message}`), local: true, error };
    log.warn(error instanceof BlipProtocolError ? 'protocol error' : 'internal error', {
      connection: this.name,
      ...(error instanceof BlipProtocolError ? { code: error.code } : {}),
      message: error.message,
    });
    this.shutdown(info, true);
  }

  private shutdown(info: BlipCloseInfo, closeTransport: boolean): void {
    this.closed = info;
    // Orderly closes are routine; any other code is part of why a sync ended.
    const orderly = info.code === CloseCode.Normal || info.code === CloseCode.GoingAway;
    (orderly ? log.debug : log.info)('connection closed', { connection: this.name, by: info.local ? 'us' : 'peer', code: info.code, reason: info.reason, ...this.counters });
    for (const off of this.detach) off();
    if (closeTransport) {
      try {
        this.transport.close(info.code, info.reason);
      } catch {
        // Already closing or closed underneath us: the outcome is the same.
      }
    }
    for (const message of this.frozen) message.stall?.stop();
    for (const assembly of this.incomingRequests.values()) assembly.stall?.stop();
    for (const pending of this.pendingReplies.values()) pending.assembly?.stall?.stop();
    this.outbox.clear();
    this.frozen.clear();
    this.sending.clear();
    this.outgoingBytes = 0;
    this.inbox.length = 0;
    this.incomingRequests.clear();
    this.waitingRequests.length = 0;
    this.pendingIncoming.clear();
    this.encoder.close();
    this.decoder.close();
    const pending = [...this.pendingReplies.values()];
    this.pendingReplies.clear();
    const closedError = new BlipClosedError(info);
    for (const waiter of pending) waiter.reject(closedError);
    this.notifyIdle();
    if (info.error) this.emit('error', info.error);
    this.emit('close', info);
  }
}

function describeOutgoing(message: OutgoingMessage): string {
  return `${message.isReply ? 'reply' : 'request'} #${message.msgNo}`;
}

function outgoingKey(isReply: boolean, msgNo: number): string {
  return (isReply ? 'R' : 'Q') + msgNo;
}

function closeCodeFor(code: BlipProtocolErrorCode): number {
  switch (code) {
    case 'TEXT_FRAME':
      return CloseCode.UnsupportedData;
    case 'MESSAGE_TOO_LARGE':
    case 'INFLATE_LIMIT':
      return CloseCode.MessageTooBig;
    case 'PENDING_INCOMING_LIMIT':
      return CloseCode.PolicyViolation;
    case 'STALLED_MESSAGE':
      // Most likely a network that stopped moving: the client may retry.
      return CloseCode.GoingAway;
    default:
      return CloseCode.ProtocolError;
  }
}

/** Cuts `reason` to what a WebSocket close frame can carry, without splitting a character. */
export function truncateReason(reason: string): string {
  if (Buffer.byteLength(reason, 'utf8') <= MAX_CLOSE_REASON_BYTES) return reason;
  let out = '';
  let bytes = 0;
  for (const ch of reason) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > MAX_CLOSE_REASON_BYTES - 3) break;
    out += ch;
    bytes += size;
  }
  return out + '...';
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const chunk of chunks) {
    out.set(chunk, pos);
    pos += chunk.length;
  }
  return out;
}
