import { ReamHttpError } from '@client';

/** What to tell a user about a failed call: the server's message, with its stable code. */
export function messageOf(error: unknown): string {
  if (error instanceof ReamHttpError) return `${error.message} (${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function isUnauthorized(error: unknown): boolean {
  return error instanceof ReamHttpError && error.httpStatus === 401;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ReamHttpError && error.httpStatus === 404;
}

export function isForbidden(error: unknown): boolean {
  return error instanceof ReamHttpError && error.httpStatus === 403;
}

export function bytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} kB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

export function when(iso: string | number | null): string {
  if (iso === null) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleString();
}

/** `3 pages`, `1 page`: a count with its noun, plural unless it is one. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

const COUNT = new Intl.NumberFormat('en-US');

/** `61,500`: a count with its thousands apart. */
export function count(n: number): string {
  return COUNT.format(n);
}

export { usd } from './money.ts';
