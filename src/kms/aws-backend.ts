import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { KmsConfig } from '../config/schema.js';
import { awsRequestHandler } from '../resilience/aws-http.js';
import { MalformedReplyError, type KmsBackend } from './backend.js';

export interface AwsKmsOptions {
  region: string;
  endpoint?: string | undefined;
  kms: Pick<KmsConfig, 'timeout_ms' | 'connect_timeout_ms' | 'max_attempts'>;
  credentials?: AwsCredentialIdentity | undefined;
}

export function createKmsClient({ region, endpoint, kms, credentials }: AwsKmsOptions): KMSClient {
  return new KMSClient({
    region,
    maxAttempts: kms.max_attempts,
    requestHandler: awsRequestHandler(kms),
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
}

/** One region of AWS KMS (or of anything that speaks its protocol, such as the local KMS). */
export class AwsKmsBackend implements KmsBackend {
  private readonly client: KMSClient;

  constructor(options: AwsKmsOptions) {
    this.client = createKmsClient(options);
  }

  async generateDataKey(
    input: Parameters<KmsBackend['generateDataKey']>[0],
    abortSignal?: AbortSignal,
  ): ReturnType<KmsBackend['generateDataKey']> {
    const reply = await this.client.send(
      new GenerateDataKeyCommand({
        KeyId: input.keyId,
        NumberOfBytes: input.numberOfBytes,
        EncryptionContext: input.context,
      }),
      { abortSignal },
    );
    const { Plaintext: plaintext, CiphertextBlob: ciphertext } = reply;
    if (plaintext?.length !== input.numberOfBytes || !ciphertext?.length) {
      plaintext?.fill(0);
      throw new MalformedReplyError('GenerateDataKey returned no key of the requested size');
    }
    return { plaintext, ciphertext };
  }

  async encrypt(
    input: Parameters<KmsBackend['encrypt']>[0],
    abortSignal?: AbortSignal,
  ): ReturnType<KmsBackend['encrypt']> {
    const reply = await this.client.send(
      new EncryptCommand({
        KeyId: input.keyId,
        Plaintext: input.plaintext,
        ...(input.context ? { EncryptionContext: input.context } : {}),
      }),
      { abortSignal },
    );
    if (!reply.CiphertextBlob?.length) throw new MalformedReplyError('Encrypt returned no ciphertext');
    return { ciphertext: reply.CiphertextBlob, keyArn: reply.KeyId };
  }

  async decrypt(
    input: Parameters<KmsBackend['decrypt']>[0],
    abortSignal?: AbortSignal,
  ): ReturnType<KmsBackend['decrypt']> {
    const reply = await this.client.send(
      new DecryptCommand({
        CiphertextBlob: input.ciphertext,
        ...(input.keyId ? { KeyId: input.keyId } : {}),
        ...(input.context ? { EncryptionContext: input.context } : {}),
      }),
      { abortSignal },
    );
    if (!reply.Plaintext?.length) throw new MalformedReplyError('Decrypt returned no plaintext');
    return { plaintext: reply.Plaintext, keyArn: reply.KeyId };
  }

  async describeKey(keyId: string, abortSignal?: AbortSignal): Promise<{ arn: string }> {
    const reply = await this.client.send(new DescribeKeyCommand({ KeyId: keyId }), { abortSignal });
    const arn = reply.KeyMetadata?.Arn;
    if (!arn) throw new MalformedReplyError('DescribeKey returned no key ARN');
    return { arn };
  }

  close(): void {
    this.client.destroy();
  }
}
