// A read-only WebSocket viewer of one poll that behaves like the web client: on close it reconnects with the same
// backoff (0.5 s doubling to 30 s, each scaled by a random 50–100 %) and says which version it has. A connection
// its own instance refuses goes to the next one, as the load balancer does.
import { TestClient } from '../../realtime/test/cluster.ts';

const MAX_BACKOFF_MS = 30_000;
const backoff = (attempt: number) =>
  Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt) * (0.5 + Math.random() * 0.5);

export class Viewer {
  /** The newest version this viewer has seen, -1 before the first. */
  version = -1;
  /** Connections that closed under it. */
  closes = 0;
  private client?: TestClient;
  private attempt = 0;
  private stopped = false;
  private timer?: NodeJS.Timeout;

  /** `urls`: ws://host:port/ws/votes of every instance, its own first. */
  constructor(
    private readonly urls: string[],
    private readonly pollId: string,
  ) {}

  async start(): Promise<void> {
    if (!(await this.connect())) throw new Error(`viewer could not connect to ${this.urls[0]}`);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.client?.close();
  }

  private async connect(): Promise<boolean> {
    for (const base of this.urls) {
      const url = `${base}?poll_id=${this.pollId}${this.version >= 0 ? `&version=${this.version}` : ''}`;
      let c: TestClient;
      try {
        c = await TestClient.open(url);
      } catch {
        continue;
      }
      if (this.stopped) {
        c.close();
        return true;
      }
      this.attach(c);
      return true;
    }
    return false;
  }

  private attach(c: TestClient): void {
    this.client = c;
    this.attempt = 0;
    const seen = () => {
      const v = c.latest.get(this.pollId)?.version;
      if (v !== undefined && v > this.version) this.version = v;
    };
    seen();
    c.ws.on('message', seen); // after TestClient's own listener, so `latest` is already updated
    c.ws.on('close', () => {
      if (this.stopped || this.client !== c) return;
      this.closes++;
      this.schedule();
    });
  }

  private schedule(): void {
    this.timer = setTimeout(async () => {
      if (this.stopped) return;
      if (!(await this.connect())) {
        this.attempt++;
        this.schedule();
      }
    }, backoff(this.attempt));
  }
}
