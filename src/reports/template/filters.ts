import { Drop, type FilterImplOptions, type Liquid } from 'liquidjs';

/** What a filter runs as (`this`): liquidjs exports the filter types but not this one by name. */
type FilterImpl = ThisParameterType<Extract<FilterImplOptions, (...args: never[]) => unknown>>;

/**
 * A number from a cell: numbers as they are, numeric strings ("1234.5", " 12 ") read, anything
 * else refused, so that a report never prints "NaN €" for a cell that held a word.
 */
function amount(value: unknown, filter: string): number | undefined {
  // Liquid hands a missing or null cell over as its nil/empty drop.
  if (value === null || value === undefined || value === '' || value instanceof Drop) return undefined;
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (!Number.isFinite(number)) throw new Error(`${filter}: ${JSON.stringify(value)} is not a number`);
  return number;
}

/** `2024-07-01`: a calendar day, with no time and no zone. */
const CALENDAR_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Liquid's filters that read a value as a date, in the template's time zone. */
const DATE_FILTERS = ['date', 'date_to_xmlschema', 'date_to_rfc822', 'date_to_string', 'date_to_long_string'] as const;

/** `filter` as it would run in a template whose time zone is UTC. */
function inUtc(filter: FilterImpl): FilterImpl {
  const context = Object.create(filter.context, { opts: { value: { ...filter.context.opts, timezoneOffset: 0 } } }) as FilterImpl['context'];
  return Object.create(filter, { context: { value: context } }) as FilterImpl;
}

/**
 * JavaScript reads `2024-07-01` as midnight UTC, so in a time zone west of UTC it printed as
 * 30 June. A date-only value is a day on the calendar, not an instant: it is formatted in UTC,
 * where that midnight is on its own day, whatever the time zone (the template's, or one given to
 * `date` as its second argument). Date-times (`2024-07-01T22:00:00Z`) keep converting.
 */
function keepCalendarDays(liquid: Liquid): void {
  for (const name of DATE_FILTERS) {
    const original = liquid.filters[name];
    if (typeof original !== 'function') throw new Error(`liquidjs has no "${name}" filter to wrap`);
    liquid.registerFilter(name, function (this: FilterImpl, value: unknown, ...args: unknown[]): unknown {
      if (typeof value !== 'string' || !CALENDAR_DAY.test(value)) return original.call(this, value, ...args);
      return original.call(inUtc(this), value, ...(name === 'date' ? args.slice(0, 1) : args));
    });
  }
}

/**
 * The filters ream adds to Liquid's own (`date` is Liquid's, formatted in the template's locale
 * and time zone):
 * - `money: "EUR"`: `{{ 1234.5 | money: "EUR" }}` → `€1,234.50` in `en-US`, `1.234,50 €` in `de-DE`;
 * - `number: 2`: a plain number with that many decimals, grouped as the locale does.
 * An empty cell prints nothing. A date-only value prints as its own day in any time zone.
 */
export function registerFilters(liquid: Liquid, locale: string): void {
  keepCalendarDays(liquid);
  liquid.registerFilter('money', (value: unknown, currency: unknown = 'EUR') => {
    const number = amount(value, 'money');
    if (number === undefined) return '';
    if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) throw new Error(`money: ${JSON.stringify(currency)} is not a currency code such as "EUR"`);
    return new Intl.NumberFormat(locale, { style: 'currency', currency: currency.toUpperCase() }).format(number);
  });
  liquid.registerFilter('number', (value: unknown, decimals: unknown = 0) => {
    const number = amount(value, 'number');
    if (number === undefined) return '';
    const digits = typeof decimals === 'number' && Number.isInteger(decimals) && decimals >= 0 && decimals <= 20 ? decimals : 0;
    return new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(number);
  });
}
