import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { detectLang, I18nProvider } from './i18n/i18n.tsx';
import '@fontsource-variable/noto-sans-kr/wght.css';
import './styles.css';

const client = new QueryClient({ defaultOptions: { queries: { refetchOnWindowFocus: false } } });
document.documentElement.lang = detectLang();
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={client}>
        <I18nProvider>
          <App />
        </I18nProvider>
      </QueryClientProvider>
    </StrictMode>,
  );
}
