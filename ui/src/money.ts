// Costs in US dollars, as the console shows them everywhere (a job's usage, a tenant's, Operate's).

const DOLLARS = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const SMALL = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumSignificantDigits: 3 });

/**
 * `$12.35`, `$0.10`, and under a dollar three significant digits (`$0.123`, `$0.00123`): never
 * fewer than two decimals (`$0.1` reads as a typo), never `$0.00` for a cost that is not nothing.
 */
export function usd(amount: number): string {
  if (amount === 0 || Math.abs(amount) >= 1) return DOLLARS.format(amount);
  // Three significant digits may leave one decimal (`$0.1`) or none (0.9996 rounds to `$1`).
  return SMALL.format(amount).replace(/^(-?\$\d+)(?:\.(\d*))?$/, (_all, whole: string, fraction: string | undefined) => `${whole}.${(fraction ?? '').padEnd(2, '0')}`);
}
