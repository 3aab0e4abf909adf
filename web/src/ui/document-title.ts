// Each page names itself in the tab and the window list ("Lunch today · Board — livevote").
import { useEffect } from 'react';

export function pageTitle(...parts: (string | null | undefined)[]): string {
  const named = parts.filter((p): p is string => !!p?.trim());
  if (named.length === 0) return 'livevote';
  const title = named.join(' · ');
  return /livevote/i.test(title) ? title : `${title} — livevote`;
}

export function useDocumentTitle(...parts: (string | null | undefined)[]): void {
  const title = pageTitle(...parts);
  useEffect(() => {
    document.title = title;
  }, [title]);
}
