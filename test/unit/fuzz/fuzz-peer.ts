/**
 * The hostile end of an in-memory BLIP link: sends whatever bytes a script gives it, decodes what
 * the BlipConnection under test sends back, and can wait (bounded) for a reply or for the close.
 */
import { FrameDecoder, type DecodedFrame } from '../../../server/blip/frame-decoder';
import { MessageType } from '../../../server/blip/frame';
import { decodeMessagePayload } from '../../../server/blip/message';
import type { FrameTransport, TransportCloseInfo } from '../../../server/blip/transport';
import { withTimeout } from '../../helpers/wait';

export interface ReplySeen {
  readonly type: 'RPY' | 'ERR';
  readonly properties: Record<string, string>;
  readonly body: Uint8Array;
}

export class FuzzPeer {
  private readonly decoder = new FrameDecoder();
  private decodeTail: Promise<unknown> = Promise.resolve();
  private readonly replies = new Map<number, Uint8Array[]>();
  private readonly done = new Map<number, ReplySeen>();
  private readonly waiters = new Map<number, (r: ReplySeen) => void>();
  /** A frame the connection sent that this side could not decode: a bug on the sending side. */
  decodeError: Error | undefined;
  closeInfo: TransportCloseInfo | undefined;
  readonly closed: Promise<TransportCloseInfo>;

  /** `sendText` sends a text message, which BLIP forbids (a memory transport or a WebSocket can). */
  constructor(
    readonly transport: FrameTransport,
    private readonly textSender?: (text: string) => void,
  ) {
    transport.onFrame((frame) => {
      if (typeof frame === 'string') return;
      this.decodeTail = this.decodeTail.then(async () => {
        try {
          this.onFrame(this.decoder.decodeSync(frame) ?? (await this.decoder.decode(frame)));
        } catch (err) {
          this.decodeError ??= err instanceof Error ? err : new Error(String(err));
        }
      });
    });
    this.closed = new Promise((resolve) =>
      transport.onClose((info) => {
        this.closeInfo = info;
        resolve(info);
      }),
    );
  }

  send(bytes: Uint8Array): void {
    this.transport.send(bytes);
  }

  sendText(text: string): void {
    this.textSender?.(text);
  }

  /** The complete reply to request `msgNo`, or the close, whichever comes first (bounded). */
  async replyOrClose(msgNo: number, ms: number): Promise<ReplySeen | TransportCloseInfo> {
    const reply = new Promise<ReplySeen>((resolve) => {
      const seen = this.done.get(msgNo);
      if (seen) resolve(seen);
      else this.waiters.set(msgNo, resolve);
    });
    return withTimeout(Promise.race([reply, this.closed]), `the reply to request #${msgNo} or the close`, ms);
  }

  close(): void {
    this.transport.close(1000, 'fuzz peer done');
    this.decoder.close();
  }

  private onFrame(frame: DecodedFrame): void {
    if (frame.type !== MessageType.RPY && frame.type !== MessageType.ERR) return;
    let parts = this.replies.get(frame.msgNo);
    if (!parts) this.replies.set(frame.msgNo, (parts = []));
    parts.push(frame.payload);
    if (frame.moreComing) return;
    this.replies.delete(frame.msgNo);
    const { properties, body } = decodeMessagePayload(Buffer.concat(parts));
    const seen: ReplySeen = { type: frame.type === MessageType.ERR ? 'ERR' : 'RPY', properties: { ...properties }, body };
    this.done.set(frame.msgNo, seen);
    this.waiters.get(frame.msgNo)?.(seen);
    this.waiters.delete(frame.msgNo);
  }
}

export function isReply(outcome: ReplySeen | TransportCloseInfo): outcome is ReplySeen {
  return 'type' in outcome;
}
