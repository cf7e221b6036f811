/** A value that survives JSON.stringify/parse unchanged: what crosses threads, processes and stores. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
