// Routes by path: /board/:id (TV), /p/:id (vote page), /admin, and / (the list of polls).
import { useQuery } from '@tanstack/react-query';
import { AdminPage } from './admin/AdminPage.tsx';
import { listPolls } from './api.ts';
import { Board } from './board/Board.tsx';
import { useI18n } from './i18n/i18n.tsx';
import { CatalogPage } from './lunch/CatalogPage.tsx';
import { HistoryPage } from './lunch/HistoryPage.tsx';
import { VotePage } from './vote/VotePage.tsx';

export function route(pathname: string): {
  page: 'board' | 'vote' | 'admin' | 'places' | 'history' | 'home';
  pollId?: string;
} {
  const m = /^\/(board|p)\/([A-Za-z0-9_-]{1,64})\/?$/.exec(pathname);
  if (m?.[2]) return { page: m[1] === 'board' ? 'board' : 'vote', pollId: m[2] };
  if (/^\/admin\/?$/.test(pathname)) return { page: 'admin' };
  if (/^\/admin\/places\/?$/.test(pathname)) return { page: 'places' };
  if (/^\/history\/?$/.test(pathname)) return { page: 'history' };
  return { page: 'home' };
}

export function App() {
  const r = route(location.pathname);
  if (r.page === 'board' && r.pollId) return <Board pollId={r.pollId} />;
  if (r.page === 'vote' && r.pollId) return <VotePage pollId={r.pollId} />;
  if (r.page === 'admin') return <AdminPage />;
  if (r.page === 'places') return <CatalogPage />;
  if (r.page === 'history') return <HistoryPage />;
  return <Home />;
}

function Home() {
  const { t, toggle } = useI18n();
  const polls = useQuery({ queryKey: ['polls'], queryFn: listPolls });
  return (
    <main className="page">
      <header className="admin-head">
        <h1>livevote</h1>
        <button type="button" className="link" onClick={toggle}>
          {t('language')}
        </button>
      </header>
      <section className="card">
        <h2>{t('home')}</h2>
        <ul className="poll-list">
          {(polls.data?.polls ?? []).map((p) => (
            <li key={p.id}>
              <strong>{p.title}</strong>{' '}
              <span className={`pill pill-${p.status}`}>{p.status === 'open' ? t('live') : t('closed')}</span>
              <div className="row actions">
                <a href={`/p/${p.id}`}>{t('votePage')}</a>
                <a href={`/board/${p.id}`}>{t('board')}</a>
              </div>
            </li>
          ))}
        </ul>
        <p>
          <a href="/admin">{t('adminTitle')}</a>
        </p>
      </section>
    </main>
  );
}
