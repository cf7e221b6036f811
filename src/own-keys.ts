// Records keyed by names a tenant chooses (rule names, a model schema's properties, a table's
// column names, analyzer names) hold `constructor`, `toString` or `__proto__` like any other name:
// "constructor" is a column of Formula 1 data. A plain `{}` answers such a name with a member of
// Object.prototype (`{}.constructor` is `Object`, whose `.map`/`.push` are not there), and an
// assignment to `__proto__` sets the prototype instead of adding a key. These two keep the
// records ordinary objects (for JSON, `deepEqual` and callers) and ask only for own keys.

/** `record[name]` when the record holds that key itself; never an inherited member. */
export function ownValue<T>(record: Readonly<Record<string, T>> | null | undefined, name: string): T | undefined {
  return record !== null && record !== undefined && Object.hasOwn(record, name) ? record[name] : undefined;
}

/** `record[name] = value` as an own key, `__proto__` included; answers `value`. */
export function setOwn<T, V extends T>(record: Record<string, T>, name: string, value: V): V {
  Object.defineProperty(record, name, { value, writable: true, enumerable: true, configurable: true });
  return value;
}
