/**
 * Where the token comes from and where it is kept.
 *
 *   #token=… in the URL (on load AND on every hashchange) ─┐
 *   the sign-in form ───────────────────────────────────────┴─▶ sessionStorage (this tab only) ─▶ api.setToken
 *
 * A token taken from the hash is removed from the URL at once (history.replaceState),
 * so it is not left in the address bar, the history or a bookmark. Never in a query string.
 */
const KEY = 'lifeline.token';

/** The token in `#token=…` (also `#/route&token=…`), or null. */
export function tokenFromHash(hash: string): string | null {
  const m = /(?:^#|[#&])token=([^&]+)/.exec(hash);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]).trim() || null;
  } catch {
    return null;
  }
}

/** The hash with the token removed (route kept). */
export function hashWithoutToken(hash: string): string {
  return hash.replace(/[#&]?token=[^&]*/, '').replace(/^&/, '#').replace(/^#?$/, '');
}

export function savedToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
  } catch {
    /* storage refused: the token lives in memory for this page only */
  }
}

/** Takes a token out of the current URL's hash, if there is one, and removes it from the URL. */
export function takeTokenFromUrl(): string | null {
  const token = tokenFromHash(location.hash);
  if (token) history.replaceState(null, '', location.pathname + location.search + hashWithoutToken(location.hash));
  return token;
}
