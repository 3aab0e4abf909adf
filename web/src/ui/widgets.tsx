// Small shared pieces: connection badge, countdown, QR code, presence line.
import { useEffect, useMemo, useState } from 'react';
import { encode } from 'uqr';
import { useI18n } from '../i18n/i18n.tsx';
import type { Connection } from '../realtime/useLivePoll.ts';

export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}

export function ConnectionBadge({ connection }: { connection: Connection }) {
  const { t } = useI18n();
  const label = {
    live: t('connLive'),
    sse: t('connSse'),
    polling: t('connPolling'),
    offline: t('connOffline'),
  }[connection];
  return (
    <span className={`conn conn-${connection}`} data-connection={connection}>
      <span className="conn-dot" aria-hidden="true" />
      {label}
    </span>
  );
}

export function formatRemaining(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

export function Countdown({ closesAt }: { closesAt: string | null }) {
  const { t } = useI18n();
  const now = useNow();
  if (!closesAt) return null;
  const left = Date.parse(closesAt) - now;
  if (left <= 0) return <span className="countdown">{t('closedAt')}</span>;
  return (
    <span className={`countdown${left < 60_000 ? ' countdown-soon' : ''}`}>
      {t('closesIn', { t: formatRemaining(left) })}
    </span>
  );
}

export function Qr({ value, size = 280 }: { value: string; size?: number }) {
  const path = useMemo(() => {
    const { data, size: n } = encode(value, { ecc: 'M', border: 2 });
    let d = '';
    data.forEach((row, y) => {
      row.forEach((on, x) => {
        if (on) d += `M${x} ${y}h1v1h-1z`;
      });
    });
    return { d, n };
  }, [value]);
  return (
    <svg
      className="qr"
      width={size}
      height={size}
      viewBox={`0 0 ${path.n} ${path.n}`}
      role="img"
      aria-label={value}
    >
      <rect width={path.n} height={path.n} fill="#fff" />
      <path d={path.d} fill="#000" shapeRendering="crispEdges" />
    </svg>
  );
}

export function PresenceLine({ online, voting }: { online: number; voting: number }) {
  const { t } = useI18n();
  return (
    <span className="presence">
      <span>{t('online', { n: online })}</span>
      {voting > 0 && (
        <span className="voting-now">{voting === 1 ? t('votingOne') : t('voting', { n: voting })}</span>
      )}
    </span>
  );
}
