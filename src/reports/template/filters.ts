import { Drop, type Liquid } from 'liquidjs';

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

/**
 * The filters ream adds to Liquid's own (`date` is Liquid's, formatted in the template's locale
 * and time zone):
 * - `money: "EUR"`: `{{ 1234.5 | money: "EUR" }}` → `€1,234.50` in `en-US`, `1.234,50 €` in `de-DE`;
 * - `number: 2`: a plain number with that many decimals, grouped as the locale does.
 * An empty cell prints nothing.
 */
export function registerFilters(liquid: Liquid, locale: string): void {
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
