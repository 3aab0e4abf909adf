// The encodings a broadcast is serialised into once: checked against the formats themselves (JSON, RFC 6455 frame
// layout, SSE lines), not against the code that builds them.
import type { ServerFrame } from '@livevote/core/protocol';
import { describe, expect, it } from 'vitest';
import { PreparedFrame } from './prepared-frame.ts';

const pong: ServerFrame = { type: 'pong', data: { server_time: '2026-12-01T10:00:00.000Z' } };

/** An error frame whose JSON text is exactly `bytes` long (ASCII only, so characters are bytes). */
function frameOfLength(bytes: number): PreparedFrame {
  const empty = JSON.stringify({ type: 'error', data: { code: 'x', message: '' } }).length;
  return new PreparedFrame({ type: 'error', data: { code: 'x', message: 'm'.repeat(bytes - empty) } });
}

/** Reads a server-to-client frame header as a client would (RFC 6455 §5.2). */
function parseHeader(b: Buffer) {
  const byte0 = b[0] as number;
  const byte1 = b[1] as number;
  const len7 = byte1 & 0x7f;
  let length: number;
  let headerLength: number;
  if (len7 < 126) {
    length = len7;
    headerLength = 2;
  } else if (len7 === 126) {
    length = b.readUInt16BE(2);
    headerLength = 4;
  } else {
    length = Number(b.readBigUInt64BE(2));
    headerLength = 10;
  }
  return {
    fin: (byte0 & 0x80) !== 0,
    rsv: byte0 & 0x70,
    opcode: byte0 & 0x0f,
    masked: (byte1 & 0x80) !== 0,
    len7,
    length,
    headerLength,
  };
}

describe('PreparedFrame', () => {
  it('holds the frame as JSON text, and its type', () => {
    const f = new PreparedFrame(pong);
    expect(f.json).toBe(JSON.stringify(pong));
    expect(JSON.parse(f.json)).toEqual(pong);
    expect(f.type).toBe('pong');
  });

  it('encodes the payload as UTF-8 bytes, once', () => {
    const f = new PreparedFrame({ type: 'error', data: { code: 'x', message: '점심 메뉴' } });
    expect(f.payload.equals(Buffer.from(f.json, 'utf8'))).toBe(true);
    expect(f.payload.length).toBeGreaterThan(f.json.length); // multi-byte characters counted as bytes
    expect(f.payload).toBe(f.payload);
  });

  it.each([
    { bytes: 125, len7: 125, headerLength: 2 }, // the largest length that fits the 7-bit field
    { bytes: 126, len7: 126, headerLength: 4 }, // from here on a 16-bit length follows
    { bytes: 65_535, len7: 126, headerLength: 4 },
    { bytes: 65_536, len7: 127, headerLength: 10 }, // from here on a 64-bit length follows
    { bytes: 100_000, len7: 127, headerLength: 10 },
  ])('frames a $bytes-byte payload as one final, unmasked text frame', ({ bytes, len7, headerLength }) => {
    const f = frameOfLength(bytes);
    expect(f.payload.length).toBe(bytes);
    const b = f.wsFrame;
    expect(parseHeader(b)).toEqual({
      fin: true,
      rsv: 0,
      opcode: 1,
      masked: false,
      len7,
      length: bytes,
      headerLength,
    });
    expect(b.length).toBe(headerLength + bytes);
    expect(b.subarray(headerLength).equals(f.payload)).toBe(true);
  });

  it('frames a short payload with the 7-bit length', () => {
    const f = new PreparedFrame(pong);
    expect(f.payload.length).toBeLessThan(126);
    expect(parseHeader(f.wsFrame)).toMatchObject({ len7: f.payload.length, headerLength: 2 });
    expect(f.wsFrame.subarray(2).toString()).toBe(f.json);
  });

  it('builds the WebSocket frame once, however many sockets take it', () => {
    const f = new PreparedFrame(pong);
    expect(f.wsFrame).toBe(f.wsFrame);
  });

  it('writes an SSE event with the version as its id', () => {
    const f = new PreparedFrame(pong, 7);
    expect(f.sse.toString()).toBe(`id: 7\nevent: pong\ndata: ${JSON.stringify(pong.data)}\n\n`);
  });

  it('writes no id line without a version (version 0 is still an id)', () => {
    expect(new PreparedFrame(pong).sse.toString()).toBe(
      `event: pong\ndata: ${JSON.stringify(pong.data)}\n\n`,
    );
    expect(new PreparedFrame(pong, 0).sse.toString()).toMatch(/^id: 0\nevent: pong\n/);
  });
});
