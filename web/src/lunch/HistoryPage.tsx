// /history: what the team ate when (the visits the lunch polls decided), wins per place, days since the last visit.
import { useQuery } from '@tanstack/react-query';
import { fetchVisits } from './lunch-api.ts';
import { useLunchText } from './text.ts';

export function HistoryPage() {
  const tx = useLunchText();
  const q = useQuery({ queryKey: ['visits'], queryFn: fetchVisits });
  const visits = q.data?.visits ?? [];
  const places = [...(q.data?.places ?? [])].sort((a, b) => b.wins - a.wins || a.name.localeCompare(b.name));
  return (
    <main className="page admin">
      <header className="admin-head">
        <h1>{tx('history')}</h1>
        <a href="/admin">{tx('back')}</a>
      </header>
      {q.error && <p role="alert">{String((q.error as Error).message)}</p>}
      <section className="card">
        {visits.length === 0 ? (
          <p>{tx('noVisits')}</p>
        ) : (
          <table className="lunch-table" aria-label={tx('history')}>
            <thead>
              <tr>
                <th>{tx('date')}</th>
                <th>{tx('place')}</th>
                <th>{tx('votes')}</th>
              </tr>
            </thead>
            <tbody>
              {visits.map((v) => (
                <tr key={v.poll_id}>
                  <td>{v.date}</td>
                  <td>
                    <a href={`/board/${v.poll_id}`}>{v.name}</a>
                  </td>
                  <td>{v.votes}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card">
        <table className="lunch-table" aria-label={tx('places')}>
          <thead>
            <tr>
              <th>{tx('place')}</th>
              <th>{tx('wins')}</th>
              <th>{tx('lastVisit')}</th>
              <th>{tx('daysSince')}</th>
            </tr>
          </thead>
          <tbody>
            {places.map((p) => (
              <tr key={p.place_id} data-place={p.place_id}>
                <td>{p.name}</td>
                <td>{p.wins}</td>
                <td>{p.last_visit ?? tx('never')}</td>
                <td>{p.days_since ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}
