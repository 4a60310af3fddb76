import {
  status as Code,
  type Server,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { service as healthDefinition } from 'grpc-health-check';
import { RKMS_SERVICE } from './proto.js';

type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
interface CheckRequest {
  service: string;
}
interface CheckResponse {
  status: ServingStatus;
}

/** The overall status ("") and rkms.v1.Rkms: both mean "this replica can serve keys". */
const SERVICES = ['', RKMS_SERVICE];

export interface HealthOptions {
  /** Whether this replica serves (the rule of HTTP's /readyz: not while starting or draining, nor while no KMS key is usable). */
  serving: () => boolean | Promise<boolean>;
  /** How often an open Watch re-checks readiness. */
  watchIntervalMs?: number;
}

/**
 * grpc.health.v1.Health (the standard proto, from grpc-health-check), answering with the
 * readiness of HTTP's /readyz: SERVING while this replica serves; NOT_SERVING while it
 * starts or drains, or while none of its KMS keys is usable. An outage of the table or of KMS leaves it SERVING, as /readyz does:
 * calls then get UNAVAILABLE with retry info, or a cached key, rather than no replica.
 */
export class GrpcHealth {
  private readonly serving: () => boolean | Promise<boolean>;
  private readonly watchIntervalMs: number;
  /** Open watches, each with what stops its re-checks. */
  private readonly watches = new Map<ServerWritableStream<CheckRequest, CheckResponse>, () => void>();
  private stopping = false;

  constructor({ serving, watchIntervalMs = 5_000 }: HealthOptions) {
    this.serving = serving;
    this.watchIntervalMs = watchIntervalMs;
  }

  addToServer(server: Server): void {
    server.addService(healthDefinition, {
      check: (call: ServerUnaryCall<CheckRequest, CheckResponse>, callback: sendUnaryData<CheckResponse>) => {
        if (!SERVICES.includes(call.request.service)) {
          callback({
            code: Code.NOT_FOUND,
            details: `unknown service ${JSON.stringify(call.request.service)}`,
          });
          return;
        }
        void this.status().then((status) => {
          callback(null, { status });
        });
      },
      watch: (call: ServerWritableStream<CheckRequest, CheckResponse>) => {
        this.watch(call);
      },
      list: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        void this.status().then((status) => {
          callback(null, { statuses: Object.fromEntries(SERVICES.map((name) => [name, { status }])) });
        });
      },
    });
  }

  /** From now on NOT_SERVING; open watches get it and end, so they do not hold up the shutdown. */
  stop(): void {
    this.stopping = true;
    for (const [call, stopChecking] of this.watches) {
      stopChecking();
      call.write({ status: 'NOT_SERVING' });
      call.end();
    }
    this.watches.clear();
  }

  async status(): Promise<'SERVING' | 'NOT_SERVING'> {
    return !this.stopping && (await this.serving()) ? 'SERVING' : 'NOT_SERVING';
  }

  /** Sends the status now, then whenever it changes; an unknown service stays SERVICE_UNKNOWN. */
  private watch(call: ServerWritableStream<CheckRequest, CheckResponse>): void {
    if (this.stopping) {
      call.write({ status: 'NOT_SERVING' });
      call.end();
      return;
    }
    let stopChecking: () => void = () => undefined;
    if (SERVICES.includes(call.request.service)) stopChecking = this.recheck(call);
    else call.write({ status: 'SERVICE_UNKNOWN' });
    this.watches.set(call, stopChecking);
    call.on('cancelled', () => {
      stopChecking();
      this.watches.delete(call);
    });
  }

  /** Sends the status now and then whenever a re-check finds it changed; returns what stops the re-checks. */
  private recheck(call: ServerWritableStream<CheckRequest, CheckResponse>): () => void {
    let last: ServingStatus | undefined;
    let checking = false;
    const send = () => {
      if (checking) return;
      checking = true;
      void this.status().then((status) => {
        checking = false;
        if (status === last || !this.watches.has(call)) return;
        last = status;
        call.write({ status });
      });
    };
    const timer = setInterval(send, this.watchIntervalMs);
    timer.unref();
    send();
    return () => {
      clearInterval(timer);
    };
  }
}
