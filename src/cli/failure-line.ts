import type { Config } from '../config/schema.js';
import { KmsUnavailableError, RegionCallError } from '../kms/errors.js';
import { whatToCheck } from '../resilience/failures.js';
import { StoreUnavailableError } from '../store/store.js';

const CREDENTIALS_HINT =
  "RKMS signs its AWS calls with the SDK's default credential chain: set AWS_PROFILE, or " +
  'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an IAM role';

/** A command's failure as one line: what failed, then what to check when the failure tells. */
export function failureLine(err: unknown, config: Config): string {
  const message = err instanceof Error ? err.message : String(err);
  const hint = hintFor(err, config);
  return hint === undefined ? message : `${message}. ${hint}`;
}

function hintFor(err: unknown, config: Config): string | undefined {
  if (err instanceof StoreUnavailableError) {
    const check = whatToCheck(err.cause);
    if (check === 'credentials') return CREDENTIALS_HINT;
    if (check === 'endpoint') return storeEndpointHint(config);
    return undefined;
  }
  const failures =
    err instanceof KmsUnavailableError ? err.failures : err instanceof RegionCallError ? [err] : [];
  const checks = new Set(failures.map((failure) => whatToCheck(failure.cause)));
  if (checks.has('credentials') || whatToCheck(err) === 'credentials') return CREDENTIALS_HINT;
  if (checks.has('endpoint')) {
    return Object.keys(config.kms.endpoints).length > 0
      ? 'check [kms] endpoints: nothing answers at one of them'
      : 'check the network path to KMS in those regions (or set [kms] endpoints)';
  }
  return undefined;
}

function storeEndpointHint({ dynamodb }: Config): string {
  return dynamodb.endpoint === undefined
    ? `check the network path to DynamoDB in ${dynamodb.region} ([dynamodb] region), or set [dynamodb] endpoint`
    : `check [dynamodb] endpoint (${dynamodb.endpoint}): nothing answers there`;
}
