// What the realtime edge limits by client address, and how it tells the address. The limiters are built in server/
// (over Redis when there is one, so every instance counts together); the per-voter vote limit lives in core's
// castVote, where the chat edges' votes pass too.
import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import type { RateLimit } from '@livevote/core';

export interface AddressLimits {
  /** New WebSocket connections (an upgrade request to /ws/votes). */
  connect: RateLimit;
  /** POST /api/polls. */
  createPoll: RateLimit;
}

/**
 * The client's address: the socket's peer, or, behind `trustedProxies` proxies, the address the outermost of them
 * saw (the entry it appended to X-Forwarded-For). Entries further left are whatever the client wrote, so they are
 * never believed. The same rule as Express's numeric `trust proxy`.
 */
export function clientAddress(req: IncomingMessage, trustedProxies = 0): string {
  const peer = req.socket.remoteAddress ?? '';
  if (trustedProxies <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const chain = [peer, ...forwarded.reverse()]; // nearest first
  return chain[Math.min(trustedProxies, chain.length - 1)] ?? peer;
}

/**
 * The key an address is counted under. IPv4 inside IPv6 (`::ffff:10.0.0.1`) is the IPv4 address; an IPv6 address
 * counts as its /64, because one site or subscriber is usually handed a whole /64 and could otherwise rotate
 * through it past any limit (the same way an office shares one IPv4 address behind NAT).
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  const bare = address.split('%')[0] ?? address; // drop a zone id (fe80::1%eth0)
  if (!isIPv6(bare)) return address;
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (…:1.2.3.4) fills two groups.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - width(left) - width(right)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
