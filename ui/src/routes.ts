// Hash routes (`#/jobs/<id>`): deep links work without the server knowing the console's pages,
// and nothing secret ever goes in them. Read and written here; followed in router.ts.
import { filtersFromQuery, filtersToQuery, type SearchFilterState } from './search-filters.ts';

export type Route =
  | {
      page: 'jobs';
      /** The list's filters: a status, (admins) whose jobs, and a search text (id prefix or pipeline). */
      status?: string;
      tenant?: string;
      q?: string;
      /** `created`: oldest first; '' or absent: newest first. */
      sort?: string;
    }
  | { page: 'submit' }
  | { page: 'job'; jobId: string; /** The documents listed: those of this status only ('' or absent: all). */ documents?: string }
  | { page: 'document'; jobId: string; documentId: string; /** 1-based page to show first. */ at?: number }
  | { page: 'search'; q: string; filters?: Partial<SearchFilterState> }
  | { page: 'operate' };

/** The job list's filters, in the order its link spells them. */
const JOB_LIST_PARAMS = ['status', 'tenant', 'q', 'sort'] as const;

/** A path segment decoded; one that is not valid percent-encoding is kept as it is (a bad link, not a crash). */
function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter((part) => part !== '').map(decodePart);
  if (parts[0] === 'submit') return { page: 'submit' };
  if (parts[0] === 'operate') return { page: 'operate' };
  if (parts[0] === 'search') {
    const params = new URLSearchParams(query);
    return { page: 'search', q: params.get('q') ?? '', filters: filtersFromQuery(params) };
  }
  if (parts[0] === 'jobs' && parts[1] !== undefined) {
    if (parts[2] === 'documents' && parts[3] !== undefined) {
      const at = Number(new URLSearchParams(query).get('page'));
      return { page: 'document', jobId: parts[1], documentId: parts[3], ...(Number.isSafeInteger(at) && at >= 1 ? { at } : {}) };
    }
    const documents = new URLSearchParams(query).get('documents') ?? '';
    return { page: 'job', jobId: parts[1], ...(documents === '' ? {} : { documents }) };
  }
  const params = new URLSearchParams(query);
  const listed = Object.fromEntries(JOB_LIST_PARAMS.flatMap((name) => {
    const value = params.get(name) ?? '';
    return value === '' ? [] : [[name, value]];
  })) as Partial<Record<(typeof JOB_LIST_PARAMS)[number], string>>;
  return { page: 'jobs', ...listed };
}

export function href(route: Route): string {
  switch (route.page) {
    case 'jobs':
    {
      const query = new URLSearchParams(JOB_LIST_PARAMS.flatMap((name): Array<[string, string]> => {
        const value = route[name];
        return value === undefined || value === '' ? [] : [[name, value]];
      }));
      return query.size === 0 ? '#/jobs' : `#/jobs?${query.toString()}`;
    }
    case 'submit':
      return '#/submit';
    case 'operate':
      return '#/operate';
    case 'search':
    {
      const query = filtersToQuery(route.filters ?? {}, new URLSearchParams(route.q === '' ? {} : { q: route.q }));
      return query.size === 0 ? '#/search' : `#/search?${query.toString()}`;
    }
    case 'job':
      return `#/jobs/${encodeURIComponent(route.jobId)}${route.documents === undefined || route.documents === '' ? '' : `?${new URLSearchParams({ documents: route.documents }).toString()}`}`;
    case 'document':
      return `#/jobs/${encodeURIComponent(route.jobId)}/documents/${encodeURIComponent(route.documentId)}${route.at === undefined ? '' : `?page=${route.at}`}`;
  }
}

