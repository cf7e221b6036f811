import type { Redis } from 'ioredis';
import type { Upload } from '@tus/utils';
import type { TusStorage } from './storage.ts';

/**
 * Which uploads each tenant has in the tus store, so that its storage quota check reads the
 * metadata of its own unfinished uploads only (scanning every upload on the server made each
 * creation slower the more uploads other tenants left open).
 */
export interface TenantUploadIndex {
  add(tenantId: string, id: string): Promise<void>;
  delete(id: string): Promise<void>;
  ids(tenantId: string): Promise<string[]>;
}

/** One server (embedded mode): in memory, rebuilt from the store at each start (see `indexTenantUploads`). */
export function memoryTenantUploadIndex(): TenantUploadIndex {
  const byTenant = new Map<string, Set<string>>();
  const tenantOf = new Map<string, string>();
  return {
    add(tenantId, id) {
      tenantOf.set(id, tenantId);
      byTenant.set(tenantId, (byTenant.get(tenantId) ?? new Set()).add(id));
      return Promise.resolve();
    },
    delete(id) {
      const tenantId = tenantOf.get(id);
      tenantOf.delete(id);
      if (tenantId !== undefined) byTenant.get(tenantId)?.delete(id);
      return Promise.resolve();
    },
    ids: (tenantId) => Promise.resolve([...byTenant.get(tenantId) ?? []]),
  };
}

/**
 * Several instances: a Redis set of upload ids per tenant (`<prefix>:tus:tenant-uploads:<tenant>`)
 * and the tenant of each id (`<prefix>:tus:upload-tenant`), shared by every instance.
 */
export function redisTenantUploadIndex(redis: Redis, prefix: string): TenantUploadIndex {
  const setKey = (tenantId: string): string => `${prefix}:tus:tenant-uploads:${tenantId}`;
  const tenantsKey = `${prefix}:tus:upload-tenant`;
  return {
    async add(tenantId, id) {
      await redis.multi().sadd(setKey(tenantId), id).hset(tenantsKey, id, tenantId).exec();
    },
    async delete(id) {
      const tenantId = await redis.hget(tenantsKey, id);
      if (tenantId === null) return;
      await redis.multi().srem(setKey(tenantId), id).hdel(tenantsKey, id).exec();
    },
    ids: (tenantId) => redis.smembers(setKey(tenantId)),
  };
}

/**
 * Keeps `storage.tenantUploads` in step with the store: an upload's id is added (under the
 * tenant's creation lock) before it is created and taken out when it is removed (ended, deleted,
 * expired, or its creation failed). The uploads the store held before this process started are
 * added once, at the first count. Returns the ids of a tenant's uploads; one whose removal this
 * process did not see (a file removed by hand) is read as gone and costs a metadata read.
 */
export function indexTenantUploads(storage: TusStorage, tenantOf: (upload: Upload) => string | undefined): (tenantId: string) => Promise<string[]> {
  const { datastore, tenantUploads: index } = storage;
  const create = datastore.create.bind(datastore);
  const remove = datastore.remove.bind(datastore);
  datastore.create = async (upload) => {
    const tenantId = tenantOf(upload);
    if (tenantId !== undefined) await index.add(tenantId, upload.id);
    try {
      return await create(upload);
    } catch (error) {
      await index.delete(upload.id).catch(() => undefined);
      throw error;
    }
  };
  datastore.remove = async (id) => {
    await remove(id);
    await index.delete(id);
  };
  let filled: Promise<void> | undefined;
  const fill = async (): Promise<void> => {
    for await (const id of storage.listIds()) {
      const upload = await datastore.getUpload(id).catch(() => undefined);
      const tenantId = upload === undefined ? undefined : tenantOf(upload);
      if (tenantId !== undefined) await index.add(tenantId, id);
    }
  };
  return async (tenantId) => {
    filled ??= fill().catch((error: unknown) => {
      filled = undefined;
      throw error;
    });
    await filled;
    return index.ids(tenantId);
  };
}
