import { KMSServiceException } from '@aws-sdk/client-kms';

/** An error shaped as the SDK throws it for a service error the client has no class for. */
export function kmsError(name: string, message: string, fault: 'client' | 'server' = 'client') {
  return new KMSServiceException({
    name,
    message,
    $fault: fault,
    $metadata: { httpStatusCode: fault === 'client' ? 400 : 500 },
  });
}
