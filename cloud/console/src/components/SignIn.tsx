/** The sign-in form: a token, kept in this tab (sessionStorage), never put in a URL. */
import { useState } from 'preact/hooks';
import { currentLang, setLang, t } from '../i18n/index.js';

export function SignIn(p: { busy: boolean; error: string | null; onSubmit(token: string): void }) {
  const [token, setTokenText] = useState('');
  return (
    <div class="signin">
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) p.onSubmit(token.trim());
        }}
      >
        <h1>{t('app.title')}</h1>
        <h2>{t('signin.title')}</h2>
        <label>
          {t('signin.token')}
          <input name="token" type="password" autocomplete="off" value={token} onInput={(e) => setTokenText((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" class="primary" disabled={p.busy}>
          {t('signin.submit')}
        </button>
        {p.error && (
          <p class="error" role="alert">
            {p.error}
          </p>
        )}
        <p class="hint">{t('signin.hint')}</p>
        <button type="button" class="link" onClick={() => setLang(currentLang() === 'zh-CN' ? 'en' : 'zh-CN')}>
          {t('lang.switch')}
        </button>
      </form>
    </div>
  );
}
