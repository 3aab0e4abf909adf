// A server message serialised once per broadcast, in every encoding a subscriber may need: the JSON text,
// a complete WebSocket text frame (header + payload), and an SSE event. Sockets then share the same bytes.
import type { ServerFrame } from '@livevote/core/protocol';

export class PreparedFrame {
  readonly json: string;
  private payloadBuf?: Buffer;
  private wsBuf?: Buffer;
  private sseBuf?: Buffer;

  constructor(
    readonly frame: ServerFrame,
    /** The SSE event id: the poll version the message belongs to, when it has one. */
    readonly version?: number,
  ) {
    this.json = JSON.stringify(frame);
  }

  get type(): ServerFrame['type'] {
    return this.frame.type;
  }

  get payload(): Buffer {
    this.payloadBuf ??= Buffer.from(this.json);
    return this.payloadBuf;
  }

  /** An unmasked, final text frame (RFC 6455 §5.2): what a server sends, byte for byte. */
  get wsFrame(): Buffer {
    if (!this.wsBuf) {
      const p = this.payload;
      let header: Buffer;
      if (p.length < 126) header = Buffer.from([0x81, p.length]);
      else if (p.length < 65_536) {
        header = Buffer.alloc(4);
        header[0] = 0x81;
        header[1] = 126;
        header.writeUInt16BE(p.length, 2);
      } else {
        header = Buffer.alloc(10);
        header[0] = 0x81;
        header[1] = 127;
        header.writeBigUInt64BE(BigInt(p.length), 2);
      }
      this.wsBuf = Buffer.concat([header, p]);
    }
    return this.wsBuf;
  }

  /** `id: <version>` / `event: <type>` / `data: <data as JSON>` (the SSE shape in docs/architecture.md). */
  get sse(): Buffer {
    this.sseBuf ??= Buffer.from(
      `${this.version === undefined ? '' : `id: ${this.version}\n`}event: ${this.frame.type}\ndata: ${JSON.stringify(this.frame.data)}\n\n`,
    );
    return this.sseBuf;
  }
}
