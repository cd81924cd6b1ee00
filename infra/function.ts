/**
 * The house-default Lambda function: every CityLoop function is built here, so runtime, architecture, tracing,
 * logging and bundling are decided in one place, and each binding (table, queue, bus, blobs) sets its env var and
 * grants least privilege in one call.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  AssetHashType,
  DockerImage,
  type Duration,
  type ILocalBundling,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { buildTopology, queueEnvName } from '#core/topology.ts';
import { type BundlePorts, portsForEntry } from './bundling.ts';
import type { BundleRequest } from './bundling-build.ts';

/** The repository root: entries in the topology are relative to it, and its package-lock.json pins the bundle. */
export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

/** The bundler `infra/function.ts` runs for each function (see that module). */
const BUNDLER_SCRIPT = path.join(import.meta.dirname, 'bundling-build.ts');

/**
 * CDK local bundling (never Docker) through `infra/bundling-build.ts` in a child process: CDK's `tryBundle` is
 * synchronous, and esbuild runs plugins only in its asynchronous API. The same Node runs it (Node 24 strips types).
 * The request is a data field on purpose: CDK keys its asset cache on the bundling options serialized as JSON, so
 * two functions may share a staged asset only when entry, root and ports are all the same.
 */
class LocalBundler implements ILocalBundling {
  readonly request: Omit<BundleRequest, 'outfile'>;

  constructor(request: Omit<BundleRequest, 'outfile'>) {
    this.request = request;
  }

  tryBundle(outputDir: string): boolean {
    const req: BundleRequest = { ...this.request, outfile: path.join(outputDir, 'index.mjs') };
    const run = spawnSync(process.execPath, [BUNDLER_SCRIPT, JSON.stringify(req)], {
      cwd: this.request.projectRoot,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (run.status !== 0) {
      throw new Error(`bundling ${this.request.entry} failed: ${run.error?.message ?? `exit code ${run.status}`}`);
    }
    return true;
  }
}

/** `nodejs24.x`: the constant exists in aws-cdk-lib ≥ 2.2xx; built by name otherwise so an older lib still works. */
export const NODE_RUNTIME: lambda.Runtime =
  (lambda.Runtime as unknown as Record<string, lambda.Runtime | undefined>).NODEJS_24_X ??
  new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });

export interface CityLoopFunctionProps {
  /** Handler module, absolute or relative to `projectRoot`; it exports `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  timeout: Duration;
  /** Default: six months. China's Cybersecurity Law (网络安全法, art. 21) asks for network logs kept ≥ 6 months. */
  logRetention?: logs.RetentionDays;
  /** Default: RETAIN, logs are evidence (全要素留痕) and must outlive a stack deletion. */
  logRemovalPolicy?: RemovalPolicy;
  environment?: Record<string, string>;
  /** Default: the repository root. */
  projectRoot?: string;
  /**
   * The SDK clients the bundle keeps (see `infra/bundling.ts`): pass `bundlePortsOf(spec)`. Default: the union over
   * the topology's functions with this entry, or every client for an entry outside the topology.
   */
  ports?: BundlePorts;
}

export type TableAccess = 'read' | 'readwrite';
export type QueueAccess = 'send' | 'receive';
export type BlobAccess = 'read' | 'readwrite';

const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
/** Single-item writes only: no transactions (see the architecture brief), no Scan. */
const TABLE_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
/** The CMK actions a DynamoDB/S3 caller needs, spelled out instead of `kms:ReEncrypt*`/`kms:GenerateDataKey*`. */
const KMS_DECRYPT = ['kms:Decrypt', 'kms:DescribeKey'];
const KMS_ENCRYPT = [
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
];

/**
 * `NodejsFunction` with the house defaults: `nodejs24.x` on ARM64 (Graviton: ~20 % cheaper per GB-s), X-Ray active
 * tracing, a dedicated log group with retention (no `AWSLambdaBasicExecutionRole`: the role may write only to it),
 * JSON logs, source maps, and a local-esbuild ESM bundle (never Docker) built by `infra/bundling-build.ts` with the
 * options of `infra/bundling.ts`: env-only credentials, no event-stream codec, only the SDK clients the function's
 * spec uses, SDK schemas tree-shaken (`npm run bench -- coldstart` measures each cut).
 *
 * The AWS SDK v3 clients are BUNDLED, not taken from the runtime: the bundle carries the exact
 * client versions the tests ran against (package-lock), tree-shaken from the ESM builds and minified into one file, so
 * a runtime SDK update never changes behaviour under us, and a cold start reads one file instead of resolving many
 * (measured here: importing the web-requests bundle takes ~200 ms bundled vs ~310 ms with the SDK left external).
 */
export class CityLoopFunction extends NodejsFunction {
  /** The execution role, created with no managed policy. */
  public readonly executionRole: iam.Role;
  public readonly functionLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CityLoopFunctionProps) {
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    // The functions list of the topology does not depend on the departments.
    const ports = props.ports ?? portsForEntry(props.entry, buildTopology([]).functions, projectRoot);
    // Role and log group live beside the function (they must exist before `super`).
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `CityLoop ${id}: execution role`,
    });
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.SIX_MONTHS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    logGroup.grantWrite(role);

    super(scope, id, {
      // Bundled like NodejsFunction does (an asset of the project root, hashed by its output), by our bundler.
      code: lambda.Code.fromAsset(projectRoot, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never pulled: the local bundler builds or throws.
          image: DockerImage.fromRegistry('dummy'),
          local: new LocalBundler({ entry: props.entry, projectRoot, ports }),
        },
      }),
      handler: 'index.handler',
      description: props.description,
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout: props.timeout,
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // No `--enable-source-maps`: Node would read and index every loaded file's map at load, 10-30 ms of each cold
      // start. The maps ship in the asset and the logs map a failure's stack on the error path only
      // (functions/lib/stack-trace.ts via `failureFields`).
      environment: { ...props.environment },
    });
    this.executionRole = role;
    this.functionLogGroup = logGroup;

    // `tracing: ACTIVE` adds xray:PutTraceSegments/PutTelemetryRecords on `*` to the role's default policy.
    const defaultPolicy = role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) {
      Validations.of(defaultPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Only the X-Ray statement added by active tracing uses Resource "*": xray:PutTraceSegments and ' +
          'xray:PutTelemetryRecords support no resource-level permissions. Every other grant names its ARN.',
      });
    }
  }

  /** `TABLE_NAME` + item read (GetItem/BatchGetItem/Query) or read/write on the table and the named indexes only. */
  bindTable(table: dynamodb.ITable, access: TableAccess, indexNames: readonly string[] = []): this {
    this.addEnvironment('TABLE_NAME', table.tableName);
    const arns = [table.tableArn, ...indexNames.map((name) => `${table.tableArn}/index/${name}`)];
    this.executionRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: TABLE_READ, resources: arns }));
    if (access === 'readwrite') {
      this.executionRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: TABLE_WRITE, resources: [table.tableArn] }),
      );
    }
    if (table.encryptionKey) this.grantKey(table.encryptionKey, access === 'readwrite');
    return this;
  }

  /**
   * `QUEUE_URL_<ID>` (see `queueEnvName`) + send (SendMessage) or receive (Receive/Delete/ChangeVisibility) on this
   * queue only.
   */
  bindQueue(queueId: string, queue: sqs.IQueue, access: QueueAccess): this {
    this.addEnvironment(queueEnvName(queueId), queue.queueUrl);
    if (access === 'send') queue.grantSendMessages(this);
    else queue.grantConsumeMessages(this);
    return this;
  }

  /** `EVENT_BUS_NAME` + events:PutEvents on this bus only. */
  bindBus(bus: events.IEventBus): this {
    this.addEnvironment('EVENT_BUS_NAME', bus.eventBusName);
    bus.grantPutEventsTo(this);
    return this;
  }

  /**
   * `BLOB_BUCKET` + object read, or read and put (never delete: raw input is evidence and must not be lost; the
   * bucket is versioned as well). ListBucket lets a missing key answer 404 instead of 403.
   */
  /** Puts the secret's ARN in `env` and lets the function read that secret only (GetSecretValue + its KMS key). */
  bindSecret(secret: secretsmanager.ISecret, env: string): this {
    this.addEnvironment(env, secret.secretArn);
    secret.grantRead(this.executionRole);
    return this;
  }

  /** Lets the function send mail through SES v2 as `from` (an SES-verified identity of the city). */
  bindMailSender(from: string): this {
    this.addEnvironment('MAIL_FROM', from);
    const stack = Stack.of(this);
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        // The sending identity only: the verified address and its domain (SES authorizes either).
        resources: [from, from.slice(from.indexOf('@') + 1)].map((identity) =>
          stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
        ),
      }),
    );
    return this;
  }

  bindBlobs(bucket: s3.IBucket, access: BlobAccess): this {
    this.addEnvironment('BLOB_BUCKET', bucket.bucketName);
    const objects = bucket.arnForObjects('*');
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [objects] }),
    );
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    );
    if (access === 'readwrite') {
      this.executionRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [objects] }),
      );
    }
    if (bucket.encryptionKey) this.grantKey(bucket.encryptionKey, access === 'readwrite');
    const cfnBucket = bucket.node.defaultChild;
    const policy = this.executionRole.node.tryFindChild('DefaultPolicy');
    if (cfnBucket && policy) {
      const logicalId = Stack.of(bucket).resolve((cfnBucket as s3.CfnBucket).logicalId) as string;
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/*]`,
        reason:
          'Blob keys are generated per report/attachment, so object ARNs cannot be listed in advance; the grant is ' +
          'limited to objects of this one bucket, and to get/put (no delete).',
      });
    }
    return this;
  }

  private grantKey(key: kms.IKey, write: boolean): void {
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: write ? [...KMS_DECRYPT, ...KMS_ENCRYPT] : KMS_DECRYPT,
        resources: [key.keyArn],
      }),
    );
  }
}
