/** Errors of the key service, raised where the situation is detected. */

export class KeyNotFoundError extends Error {
  override name = 'KeyNotFoundError';
  constructor(readonly id: string) {
    super(`no key exists for id ${JSON.stringify(id)}`);
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

/** The id's key was destroyed. A new one is made only on an explicit POST /key. */
export class KeyDeletedError extends Error {
  override name = 'KeyDeletedError';
  constructor(
    readonly id: string,
    readonly deletionDate: string | undefined,
  ) {
    super(
      `the key for id ${JSON.stringify(id)} was deleted` +
        (deletionDate ? ` on ${deletionDate}` : '') +
        '; data encrypted under it cannot be decrypted. POST /key?id=... creates a new key for the id',
    );
  }
}

/** POST /key for an id that has a key (enabled or pending deletion). */
export class KeyExistsError extends Error {
  override name = 'KeyExistsError';
  constructor(readonly id: string) {
    super(`the id ${JSON.stringify(id)} already has a key; GET /key?id=... returns it`);
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
