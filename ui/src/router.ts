// Following the hash route (routes.ts says what each hash means).
import { useEffect, useState } from 'preact/hooks';
import { href, parseRoute, type Route } from './routes.ts';

export { href, parseRoute, type Route } from './routes.ts';

export function navigate(route: Route): void {
  window.location.hash = href(route);
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
