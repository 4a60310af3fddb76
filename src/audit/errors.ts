/** The audit trail cannot be written: no key operation is answered until it can. */
export class AuditUnavailableError extends Error {
  override name = 'AuditUnavailableError';
  constructor(options?: ErrorOptions) {
    super('the audit trail cannot be written, so no key operation is answered; retry later', options);
  }
}
