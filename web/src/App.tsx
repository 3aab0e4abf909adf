// Routes by path: /board/:id (TV), /p/:id (vote page), /admin, /admin/places, /history and / (the list of polls). Each page is a chunk of
// its own, loaded when its route is opened: the TV and the phones never download the admin's code.
import { lazy, Suspense } from 'react';

const Board = lazy(() => import('./board/Board.tsx').then((m) => ({ default: m.Board })));
const VotePage = lazy(() => import('./vote/VotePage.tsx').then((m) => ({ default: m.VotePage })));
const AdminPage = lazy(() => import('./admin/AdminPage.tsx').then((m) => ({ default: m.AdminPage })));
const Home = lazy(() => import('./home/Home.tsx').then((m) => ({ default: m.Home })));
const CatalogPage = lazy(() => import('./lunch/CatalogPage.tsx').then((m) => ({ default: m.CatalogPage })));
const HistoryPage = lazy(() => import('./lunch/HistoryPage.tsx').then((m) => ({ default: m.HistoryPage })));

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
  return <Suspense fallback={null}>{page(r)}</Suspense>;
}

function page(r: ReturnType<typeof route>) {
  if (r.page === 'board' && r.pollId) return <Board pollId={r.pollId} />;
  if (r.page === 'vote' && r.pollId) return <VotePage pollId={r.pollId} />;
  if (r.page === 'admin') return <AdminPage />;
  if (r.page === 'places') return <CatalogPage />;
  if (r.page === 'history') return <HistoryPage />;
  return <Home />;
}
