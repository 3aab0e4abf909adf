// A server message serialised once per broadcast, in every encoding a subscriber may need: the JSON text,
// a complete WebSocket text frame (header + payload), and an SSE event. Sockets then share the same bytes.
import type { ServerFrame } from '@livevote/core/protocol';
import { Sender } from 'ws';

// ws exports Sender and its static frame(), but @types/ws does not declare them: declare the one call made here,
// in the only shape made here (a Buffer in, unmasked, so Buffers out).
declare module 'ws' {
  interface FrameOptions {
    fin: boolean;
    rsv1: boolean;
    opcode: number;
    mask: boolean;
    readOnly: boolean;
  }
  class Sender {
    private constructor();
    static frame(data: Buffer, options: FrameOptions): Buffer[];
  }
}

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

  /**
   * An unmasked, final text frame: what ws.send(json) puts on the wire, byte for byte. Framed by ws itself so the
   * header can never disagree with the frames ws writes to the same socket.
   */
  get wsFrame(): Buffer {
    this.wsBuf ??= Buffer.concat(
      Sender.frame(this.payload, { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: true }),
    );
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
