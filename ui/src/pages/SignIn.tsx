import { useState } from 'preact/hooks';
import { ErrorText } from '../components/common.tsx';
import { isUnauthorized, messageOf } from '../format.ts';
import { clientFor } from '../session.ts';

/** Asks for an API key and checks it against the server before keeping it. */
export function SignIn({ onSignedIn, reason }: { onSignedIn: (key: string) => void; reason: string }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(reason);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const trimmed = key.trim();
    if (trimmed === '') {
      setError('Enter an API key.');
      return;
    }
    setBusy(true);
    try {
      await clientFor(trimmed).listJobs({ limit: 1 });
      onSignedIn(trimmed);
    } catch (failure) {
      setError(isUnauthorized(failure) ? `The key was refused: ${messageOf(failure)}` : messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="page signin" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      <p>This server needs an API key (a key from <code>ream keys create</code>, or a token from the configured issuer). It is kept in this tab only, and forgotten when you sign out or close the tab.</p>
      <form onSubmit={(event) => void submit(event)}>
        <label for="api-key">API key</label>
        <input id="api-key" type="password" autocomplete="off" spellcheck={false} value={key} onInput={(event) => setKey(event.currentTarget.value)} />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <ErrorText message={error} id="signin-error" />
    </section>
  );
}
