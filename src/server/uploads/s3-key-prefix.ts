import type { S3Client } from '@aws-sdk/client-s3';

/** The object-key fields of the S3 calls @tus/s3-store makes (inputs and outputs). */
interface KeyedInput {
  Key?: string;
  Prefix?: string;
  Delete?: { Objects?: { Key?: string }[] };
}
interface KeyedOutput {
  Uploads?: { Key?: string }[];
}

/**
 * Puts every object a client reads or writes under `prefix`, so @tus/s3-store (which names
 * objects by bare upload id and has no prefix option) can share a bucket with the blob store:
 * keys gain the prefix on the way out, listings are limited to it and lose it on the way back.
 */
export function prefixObjectKeys(client: S3Client, prefix: string): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = { ...(args.input as KeyedInput) };
      if (typeof input.Key === 'string') input.Key = prefix + input.Key;
      if (context.commandName === 'ListMultipartUploadsCommand') input.Prefix = prefix + (input.Prefix ?? ''); // only our uploads
      if (input.Delete?.Objects) {
        input.Delete = { ...input.Delete, Objects: input.Delete.Objects.map((object) => ({ ...object, Key: prefix + (object.Key ?? '') })) };
      }
      const result = await next({ ...args, input });
      const output = result.output as KeyedOutput;
      for (const upload of output.Uploads ?? []) {
        if (upload.Key?.startsWith(prefix) === true) upload.Key = upload.Key.slice(prefix.length);
      }
      return result;
    },
    { step: 'initialize', name: 'reamObjectKeyPrefix' },
  );
}
