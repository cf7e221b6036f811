import { ReamError } from '../errors.ts';

/** Resolves when `probe` does within `ms`; else rejects with `unavailable` naming the service. */
export async function answersWithin(name: string, probe: () => Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([probe(), late]);
  } catch (error) {
    throw new ReamError('unavailable', `${name} does not answer: ${error instanceof Error ? error.message : String(error)}`, { retryable: true, cause: error, details: { service: name } });
  } finally {
    clearTimeout(timer);
  }
}
