// Following the hash route (routes.ts says what each hash means).
import { useEffect, useState } from 'preact/hooks';
import { href, parseRoute, type Route } from './routes.ts';

export { href, parseRoute, type Route } from './routes.ts';

/** Goes to the route; `replace`: in place of the current entry (typing a search is not a step Back undoes one letter at a time). */
export function navigate(route: Route, { replace = false }: { replace?: boolean } = {}): void {
  if (replace) window.location.replace(href(route));
  else window.location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = (): void => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
