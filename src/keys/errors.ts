/** Errors of the key service, raised where the situation is detected. */

export class KeyNotFoundError extends Error {
  override name = 'KeyNotFoundError';
  constructor(readonly id: string) {
    super(`no key exists for id ${JSON.stringify(id)}`);
  }
}

/*
 * HTTP and gRPC answer these messages as they are, so the remedy names the call of
 * both transports: a caller of either knows what to send.
 */

/** A get of a key scheduled for deletion: never answered with a new key. */
export class KeyPendingDeletionError extends Error {
  override name = 'KeyPendingDeletionError';
  constructor(
    readonly id: string,
    readonly deletionDate: string | undefined,
  ) {
    super(
      `the key for id ${JSON.stringify(id)} is pending deletion` +
        (deletionDate ? ` on ${deletionDate}` : '') +
        '; restoring it cancels the deletion (POST /key/restore?id=..., or RestoreKey over gRPC)',
    );
  }
}

/** The id's key was destroyed. A new one is made only by an explicit create. */
export class KeyDeletedError extends Error {
  override name = 'KeyDeletedError';
  constructor(
    readonly id: string,
    readonly deletionDate: string | undefined,
  ) {
    super(
      `the key for id ${JSON.stringify(id)} was deleted` +
        (deletionDate ? ` on ${deletionDate}` : '') +
        '; data encrypted under it cannot be decrypted. Creating a key gives the id a new one ' +
        '(POST /key?id=..., or CreateKey over gRPC)',
    );
  }
}

/** A create for an id that has a key (enabled or pending deletion). */
export class KeyExistsError extends Error {
  override name = 'KeyExistsError';
  constructor(readonly id: string) {
    super(
      `the id ${JSON.stringify(id)} already has a key; get it instead (GET /key?id=..., or GetKey over gRPC)`,
    );
  }
}

/**
 * No copy of the stored key can be turned into this id's key: the ciphertexts were copied
 * from another id or altered, or the item is malformed. Needs an operator.
 */
export class KeyIntegrityError extends Error {
  override name = 'KeyIntegrityError';
  constructor(
    readonly id: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`the stored key for id ${JSON.stringify(id)} failed its integrity check: ${detail}`, options);
  }
}

/** The item kept changing under us; the caller may retry. */
export class KeyContentionError extends Error {
  override name = 'KeyContentionError';
  constructor(readonly id: string) {
    super(`the item for id ${JSON.stringify(id)} is being changed by other requests; retry`);
  }
}
