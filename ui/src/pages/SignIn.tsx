import type { SignInView } from '@client';
import { useEffect, useState } from 'preact/hooks';
import { ErrorText } from '../components/common.tsx';
import { isUnauthorized, messageOf } from '../format.ts';
import { clientFor } from '../session.ts';

/** What the server takes, in words: from `GET /v1/auth`, asked before anyone has a key. */
function methodsText(view: SignInView | undefined): string {
  if (view === undefined || !view.methods.includes('jwt')) return 'This server needs an API key (a key from ream keys create).';
  const issuer = view.jwt?.issuer;
  return `This server takes an API key (from ream keys create) or a JWT ${issuer === undefined ? 'signed with the key the server is configured with' : `issued by ${issuer}`}${view.jwt?.audience === undefined ? '' : ` for ${view.jwt.audience}`}.`;
}

/** Asks for an API key or a JWT (the screen says which the server takes) and checks it against the server before keeping it. */
export function SignIn({ onSignedIn, reason }: { onSignedIn: (key: string) => void; reason: string }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(reason);
  const [busy, setBusy] = useState(false);
  const [methods, setMethods] = useState<SignInView | undefined>(undefined);
  useEffect(() => {
    clientFor(undefined).signInInfo().then(setMethods, () => undefined);
  }, []);

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
      <p id="signin-methods">{methodsText(methods)}</p>
      <p>It is kept in this tab only, and forgotten when you sign out or close the tab.</p>
      <form onSubmit={(event) => void submit(event)}>
        <label for="api-key">{methods?.methods.includes('jwt') ? 'API key or JWT' : 'API key'}</label>
        <input id="api-key" type="password" autocomplete="off" spellcheck={false} value={key} onInput={(event) => setKey(event.currentTarget.value)} />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <ErrorText message={error} id="signin-error" />
    </section>
  );
}
