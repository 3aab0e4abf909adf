// Links from the admin page to the lunch pages.
import { useLunchText } from './text.ts';

export function LunchLinks() {
  const tx = useLunchText();
  return (
    <nav className="row actions" aria-label="lunch">
      <a href="/admin/places">{tx('places')}</a>
      <a href="/history">{tx('history')}</a>
    </nav>
  );
}
