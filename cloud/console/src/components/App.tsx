/**
 * The shell: sign-in until a token works, then header + the routed page.
 *
 *   load / hashchange ─▶ #token=? ─▶ keep in sessionStorage, drop from URL ─▶ store.start()
 *                                      (refused ─▶ sign-in form with the reason)
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, setToken } from '../api.js';
import { onLangChange, t } from '../i18n/index.js';
import { savedToken, saveToken, takeTokenFromUrl } from '../session.js';
import { store, useTopic } from '../store.js';
import { useRoute } from '../route.js';
import { Header } from './Header.js';
import { SignIn } from './SignIn.js';
import { Overview } from './Overview.js';
import { lazyPage } from './lazy.js';

// Loaded when first opened: the overview's code is what a page load needs first (uPlot, the device
// view and the gateway config editor are not in it).
const AlarmsPage = lazyPage(() => import('./AlarmsPage.js').then((m) => m.AlarmsPage));
const DeviceView = lazyPage(() => import('./DeviceView.js').then((m) => m.DeviceView));
const GatewaysView = lazyPage(() => import('./GatewaysView.js').then((m) => m.GatewaysView));

export function App() {
  const [, setLangTick] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useTopic('session');
  useEffect(() => onLangChange(() => setLangTick((n) => n + 1)), []);

  const signIn = async (token: string) => {
    setBusy(true);
    setError(null);
    setToken(token);
    // Kept before the first answer: the console shows itself as soon as store.info is set.
    saveToken(token);
    try {
      await store.start();
    } catch (e) {
      setToken(null);
      saveToken(null);
      store.stop();
      setError(e instanceof ApiError && e.status === 401 ? t('signin.refused') : `${t('common.error')}: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    const fromUrl = takeTokenFromUrl();
    const token = fromUrl ?? savedToken();
    if (token) void signIn(token);
    // A #token= link pasted into an open tab signs in with that token.
    const onHash = () => {
      const next = takeTokenFromUrl();
      if (next) {
        store.stop();
        void signIn(next);
      }
    };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const signOut = () => {
    saveToken(null);
    setToken(null);
    store.stop();
  };

  if (!store.info) return <SignIn busy={busy} error={error} onSubmit={signIn} />;
  return (
    <div class="shell">
      <Header onSignOut={signOut} />
      <main class="page">
        <Page />
      </main>
    </div>
  );
}

function Page() {
  const route = useRoute();
  switch (route.page) {
    case 'alarms':
      return <AlarmsPage selected={route.alarm} />;
    case 'device':
      return <DeviceView key={`${route.gateway}/${route.device}`} gateway={route.gateway} device={route.device} />;
    case 'gateways':
      return <GatewaysView selected={route.gateway} />;
    default:
      return <Overview />;
  }
}
