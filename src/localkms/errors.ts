/**
 * The errors the local KMS answers with, by AWS's names.
 *
 * AWS KMS sends HTTP 400 for every client error, although its Smithy model
 * declares 404 for NotFoundException and 409 for DisabledException and
 * KMSInvalidStateException: the SDK reads the error name from `__type`, so
 * the status only decides whether a client retries, and we send what the
 * service sends.
 */
export type KmsErrorType =
  | 'AlreadyExistsException'
  | 'DisabledException'
  | 'DryRunOperationException'
  | 'IncorrectKeyException'
  | 'IncompleteSignatureException'
  | 'InvalidAliasNameException'
  | 'InvalidArnException'
  | 'InvalidCiphertextException'
  | 'InvalidKeyUsageException'
  | 'InvalidMarkerException'
  | 'InvalidSignatureException'
  | 'KMSInternalException'
  | 'KMSInvalidMacException'
  | 'KMSInvalidSignatureException'
  | 'KMSInvalidStateException'
  | 'LimitExceededException'
  | 'MissingAuthenticationTokenException'
  | 'NotFoundException'
  | 'SerializationException'
  | 'TagException'
  | 'ThrottlingException'
  | 'UnknownOperationException'
  | 'UnrecognizedClientException'
  | 'UnsupportedOperationException'
  | 'ValidationException';

const SERVER_ERROR_STATUS: Partial<Record<KmsErrorType, number>> = {
  KMSInternalException: 500,
};

export class KmsError extends Error {
  readonly status: number;

  constructor(
    readonly type: KmsErrorType,
    message: string,
  ) {
    super(message);
    this.name = type;
    this.status = SERVER_ERROR_STATUS[type] ?? 400;
  }
}

export function isKmsError(error: unknown): error is KmsError {
  return error instanceof KmsError;
}
