// The baseline: the same live poll as a typical Socket.IO 4 app with @socket.io/redis-adapter. POST /vote bumps a
// Redis hash and a version atomically, reads the tally back and emits it to the poll's room on every instance.
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const port = Number(process.argv[2]);
const prefix = process.argv[3] ?? 'sio:';
const POLL = 'bench';
const places = ['p1', 'p2', 'p3'];
const names: Record<string, string> = { p1: 'A', p2: 'B', p3: 'C' };

const redis = new Redis('redis://127.0.0.1:6379');
const pub = new Redis('redis://127.0.0.1:6379');
const sub = pub.duplicate();
const http = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'POST' && url.pathname === '/vote') {
    const option = url.searchParams.get('option') ?? 'p1';
    redis
      .multi()
      .hincrby(`${prefix}tally`, option, 1)
      .incr(`${prefix}version`)
      .hgetall(`${prefix}tally`)
      .exec()
      .then((r) => {
        const version = Number(r?.[1]?.[1]);
        const tally = (r?.[2]?.[1] ?? {}) as Record<string, string>;
        const place_votes = places.map((p) => ({
          place_id: p,
          place_name: names[p],
          vote_count: Number(tally[p] ?? 0),
        }));
        io.to(POLL).emit('vote_update', { poll_id: POLL, version, place_votes });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ version }));
      })
      .catch(() => {
        res.writeHead(500);
        res.end();
      });
    return;
  }
  res.writeHead(404);
  res.end();
});
const io = new Server(http, {
  adapter: createAdapter(pub, sub, { key: `${prefix}io` }),
  perMessageDeflate: false,
});
io.on('connection', (socket) => {
  void socket.join(POLL);
});
http.listen(port, '127.0.0.1', () => process.send?.('ready'));
