import { experimental, ServerCredentials } from '@grpc/grpc-js';
import type { TlsCredentials, TlsPems } from '../../http/security/tls.js';

type IdentityListener = experimental.IdentityCertificateUpdateListener;
type CaListener = experimental.CaCertificateUpdateListener;

/**
 * The gRPC server's credentials: plaintext without `[server.tls]`; otherwise TLS with
 * HTTP's certificate, key and client CAs. A client certificate is asked for, not required
 * (a token works too), and identifies a client only once verified against the CAs, as on
 * HTTP. When HTTP's credentials reload (a file change, SIGHUP), the gRPC server gets the
 * new ones too: grpc-js gives a certificate provider's updates to `setSecureContext`, so
 * new connections get the new certificate and open ones keep theirs.
 */
export function grpcCredentials(tls: TlsCredentials | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const provider = new ReloadingProvider(tls);
  // grpc-js's declaration names the first argument the CA provider, but its code takes it
  // as the identity provider (and the second as the CA one): the same object serves both.
  return experimental.createCertificateProviderServerCredentials(
    provider,
    tls.mutual ? provider : null,
    false,
  );
}

/** A grpc-js certificate provider fed by TlsCredentials: what HTTP serves now, then every reload. */
class ReloadingProvider implements experimental.CertificateProvider {
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly caListeners = new Set<CaListener>();
  private pems: TlsPems;

  constructor(tls: TlsCredentials) {
    this.pems = tls.pems;
    tls.attach(this);
  }

  /** Called by TlsCredentials with files that loaded; broken files never get here. */
  setSecureContext(pems: TlsPems): void {
    this.pems = pems;
    for (const listener of this.identityListeners) listener(this.identity());
    for (const listener of this.caListeners) listener(this.ca());
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    // Later, as grpc-js's own providers do: it registers its watcher after this returns.
    process.nextTick(() => {
      listener(this.identity());
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    process.nextTick(() => {
      listener(this.ca());
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  private identity() {
    return { certificate: this.pems.cert, privateKey: this.pems.key };
  }

  private ca() {
    return this.pems.ca ? { caCertificate: this.pems.ca } : null;
  }
}
