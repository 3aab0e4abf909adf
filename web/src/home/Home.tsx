// The list of the web workspace's polls, with their vote page and board.
import { useQuery } from '@tanstack/react-query';
import { listPolls } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useDocumentTitle } from '../ui/document-title.ts';

export function Home() {
  const { t, toggle } = useI18n();
  useDocumentTitle(t('home'));
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
