// Each page names itself in the tab and the window list ("Lunch today · Board — livevote").
import { useEffect } from 'react';

export function pageTitle(...parts: (string | null | undefined)[]): string {
  const named = parts.filter((p): p is string => !!p?.trim());
  return named.length > 0 ? `${named.join(' · ')} — livevote` : 'livevote';
}

export function useDocumentTitle(...parts: (string | null | undefined)[]): void {
  const title = pageTitle(...parts);
  useEffect(() => {
    document.title = title;
  }, [title]);
}
