// The job list as last shown (its filters, search and order): a page that leaves for the list
// (a job deleted) goes back to that list, not to the unfiltered one. Kept for the tab's life, so
// a reload of the job page still knows it.
import { href, parseRoute, type Route } from './routes.ts';

const KEY = 'ream.jobList';
type JobListRoute = Extract<Route, { page: 'jobs' }>;

export function rememberJobList(route: JobListRoute): void {
  try {
    sessionStorage.setItem(KEY, href(route));
  } catch {
    // Storage refused (private mode, full): the list is then the unfiltered one.
  }
}

export function jobListRoute(): JobListRoute {
  let stored: string | null = null;
  try {
    stored = sessionStorage.getItem(KEY);
  } catch {
    // Storage refused: the unfiltered list.
  }
  // Read back through the link's own parser: only what a link to the list may carry survives.
  const route = stored === null ? undefined : parseRoute(stored);
  return route?.page === 'jobs' ? route : { page: 'jobs' };
}
