/**
 * A page whose code is loaded when it is first shown (a dynamic import: its own chunk).
 * Until then a "loading" line; if the chunk cannot be loaded, the error in its place.
 * Once loaded, the component is kept: showing the page again renders at once.
 */
import type { ComponentType, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';

export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>): (props: P) => JSX.Element {
  let loaded: ComponentType<P> | null = null;
  let loading: Promise<ComponentType<P>> | null = null;
  return function LazyPage(props: P) {
    const [, setTick] = useState(0);
    const [error, setError] = useState<string | null>(null);
    useEffect(() => {
      if (loaded) return;
      loading ??= load();
      let live = true;
      loading.then(
        (c) => {
          loaded = c;
          if (live) setTick((n) => n + 1);
        },
        (e) => {
          loading = null;
          if (live) setError((e as Error).message);
        },
      );
      return () => {
        live = false;
      };
    }, []);
    if (error) return <p class="error">{`${t('common.error')}: ${error}`}</p>;
    if (!loaded) return <p class="empty">{t('common.loading')}</p>;
    const C = loaded;
    return <C {...props} />;
  };
}
