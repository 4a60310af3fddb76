// The host policy lives in shared/ (the local KMS uses it too); this path is kept for metrics/server.ts.
export { hostAllowed, hostPolicyFor, isLoopbackName, type HostPolicy } from '../shared/hosts.js';
