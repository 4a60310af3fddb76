/** Errors of the key service, raised where the situation is detected. */

export class KeyNotFoundError extends Error {
  override name = 'KeyNotFoundError';
  constructor(
    readonly id: string,
    detail = 'no key exists for this id',
  ) {
    super(`${detail}: ${JSON.stringify(id)}`);
  }
}

/** GET on a key scheduled for deletion: never answered with a new key. */
export class KeyPendingDeletionError extends Error {
  override name = 'KeyPendingDeletionError';
  constructor(
    readonly id: string,
    readonly deletionDate: string | undefined,
  ) {
    super(
      `the key for id ${JSON.stringify(id)} is pending deletion` +
        (deletionDate ? ` on ${deletionDate}` : '') +
        `; POST /key/restore?id=... cancels the deletion`,
    );
  }
}

/**
 * The stored item cannot be turned into this id's key: its ciphertexts were copied
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
