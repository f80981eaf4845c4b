// Records the S3 operations a client sends (CopyObject, UploadPartCopy, ...), so tests can show
// which path the driver took, e.g. that bytes moved server-side.
import type { S3Client } from '@aws-sdk/client-s3';

export function commandLog(client: S3Client): string[] {
  const names: string[] = [];
  client.middlewareStack.add((next, context) => async (args) => {
    names.push(String(context.commandName ?? '').replace(/Command$/, ''));
    return next(args);
  }, { step: 'initialize', name: `berthCommandLog${Math.random()}` });
  return names;
}
