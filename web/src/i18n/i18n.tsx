import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';
import { type Lang, type MessageKey, messages } from './messages.ts';

export function detectLang(): Lang {
  const saved = typeof localStorage === 'undefined' ? null : localStorage.getItem('livevote.lang');
  if (saved === 'ko' || saved === 'en') return saved;
  const nav = typeof navigator === 'undefined' ? 'en' : navigator.language;
  return nav.toLowerCase().startsWith('ko') ? 'ko' : 'en';
}

interface I18n {
  lang: Lang;
  t: (key: MessageKey, vars?: Record<string, string | number>) => string;
  /** "1 vote" / "3 votes". */
  votes: (n: number) => string;
  toggle: () => void;
}

const Ctx = createContext<I18n | null>(null);

export function I18nProvider({ children, initial }: { children: ReactNode; initial?: Lang }) {
  const [lang, setLang] = useState<Lang>(initial ?? detectLang());
  const t = useCallback(
    (key: MessageKey, vars: Record<string, string | number> = {}) =>
      messages[lang][key].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? '')),
    [lang],
  );
  const toggle = useCallback(() => {
    setLang((l) => {
      const next = l === 'ko' ? 'en' : 'ko';
      localStorage.setItem('livevote.lang', next);
      document.documentElement.lang = next;
      return next;
    });
  }, []);
  const votes = useCallback((n: number) => (n === 1 ? t('voteOne') : t('votes', { n })), [t]);
  const value = useMemo(() => ({ lang, t, votes, toggle }), [lang, t, votes, toggle]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
