// Which address a request is counted under: the peer, or behind trusted proxies the address the outermost one saw;
// never an entry the client wrote itself. IPv6 counts by /64.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { addressKey, clientAddress } from './limits.ts';

const req = (peer: string, forwarded?: string) =>
  ({
    socket: { remoteAddress: peer },
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
  }) as unknown as IncomingMessage;

describe('clientAddress', () => {
  it('is the peer unless proxies are trusted', () => {
    expect(clientAddress(req('10.0.0.5', '1.2.3.4'))).toBe('10.0.0.5');
    expect(clientAddress(req('10.0.0.5', '1.2.3.4'), 0)).toBe('10.0.0.5');
  });

  it('behind one trusted proxy is the entry it appended, whatever the client wrote before it', () => {
    expect(clientAddress(req('10.0.0.5', '203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientAddress(req('10.0.0.5', '6.6.6.6, 203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientAddress(req('10.0.0.5', '6.6.6.6, 203.0.113.9, 10.0.0.7'), 2)).toBe('203.0.113.9');
    // Fewer hops than trusted (or no header): the furthest one there is.
    expect(clientAddress(req('10.0.0.5'), 1)).toBe('10.0.0.5');
    expect(clientAddress(req('10.0.0.5', '203.0.113.9'), 3)).toBe('203.0.113.9');
  });
});

describe('addressKey', () => {
  it('counts IPv4, also inside IPv6, as itself', () => {
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
  });

  it('counts an IPv6 address as its /64', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('leaves anything else as it is', () => {
    expect(addressKey('unknown')).toBe('unknown');
    expect(addressKey('')).toBe('');
  });
});
