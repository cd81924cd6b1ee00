/**
 * Builds the CDK app from context, shared by `infra/app.ts` (the `cdk` entry) and the tests, so both synthesize the
 * same thing. Context (`-c key=value` or cdk.json):
 * - `partition` (`aws` | `aws-cn`) and/or `region` (e.g. `cn-northwest-1`); `account`. Without a region the stack is
 *   environment-agnostic (ARNs use `${AWS::Partition}`), except that `partition=aws-cn` alone picks cn-northwest-1.
 * - `stackName` (default `CityLoop`), `alarmEmail`, `blobExpiryDays`, `nag=false` (skip cdk-nag).
 * - `mailFrom` (the SES-verified sender), `mailDomain` (the domain SES receives for).
 * - Pages: `web=true|false` (default: on in aws, off in aws-cn), `webDomainName`, `webCertificateArn`, `webAclArn`,
 *   `webDistPath` (default `web/dist`).
 * - Staff sign-in: Cognito by default in aws; `staffJwtIssuer` + `staffJwtAudience` (comma-separated client ids) for an
 *   external OIDC provider, which is the way in aws-cn (no Cognito user pools there).
 */
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { AwsSolutionsChecks } from 'cdk-nag';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { buildTopology } from '#core/topology.ts';
import { checkShippedConfig } from './config-check.ts';
import { CityLoopStack, type StaffAuth, type WebOptions } from './stack.ts';

export type Partition = 'aws' | 'aws-cn';

/** Default region when only the partition is given: Ningxia is the larger of the two China regions. */
const PARTITION_DEFAULT_REGION: Record<Partition, string | undefined> = { aws: undefined, 'aws-cn': 'cn-northwest-1' };

/**
 * Feature flags this stack relies on. Passed as App context, the lowest precedence: cdk.json and `-c` still win.
 * - serverAccessLogsUseBucketPolicy/createDefaultLoggingPolicy: log delivery by bucket policy, not ACLs.
 * - enablePartitionLiterals: with a known region, ARNs carry the literal partition (`arn:aws-cn:`).
 * - minimizePolicies: one statement per resource set, smaller IAM policies.
 * - eventsTargetQueueSameAccount, requireEventBusPolicySid: tighter queue/bus policies for rule targets.
 * - defaultSecurityPolicyTLSv1.2_2021, defaultViewerProtocolPolicyRedirectToHttps: CloudFront TLS defaults.
 */
export const FEATURE_FLAGS: Record<string, boolean> = {
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
  '@aws-cdk/aws-s3:publicAccessBlockedByDefault': true,
  '@aws-cdk/core:enablePartitionLiterals': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/aws-events:eventsTargetQueueSameAccount': true,
  '@aws-cdk/aws-events:requireEventBusPolicySid': true,
  '@aws-cdk/aws-kms:reduceCrossAccountRegionPolicyScope': true,
  '@aws-cdk/aws-cloudfront:defaultSecurityPolicyTLSv1.2_2021': true,
  '@aws-cdk/aws-cloudfront:defaultViewerProtocolPolicyRedirectToHttps': true,
};

export interface Target {
  partition: Partition;
  region?: string;
  account?: string;
}

/**
 * Partition and region from context, then from the CLI's defaults (`CDK_DEFAULT_REGION`), which are ignored when they
 * belong to another partition than the one asked for. An explicit region of another partition is an error.
 */
export function resolveTarget(
  context: (key: string) => unknown,
  env: Record<string, string | undefined> = process.env,
): Target {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const asked = str(context('partition'));
  if (asked !== undefined && asked !== 'aws' && asked !== 'aws-cn') {
    throw new Error(`context partition must be "aws" or "aws-cn", got "${asked}"`);
  }
  const partitionOf = (region: string): string | undefined => RegionInfo.get(region).partition;
  const ctxRegion = str(context('region'));
  if (ctxRegion !== undefined && asked !== undefined && partitionOf(ctxRegion) !== asked) {
    throw new Error(`region ${ctxRegion} is not in partition ${asked}`);
  }
  const defaultRegion = str(env.CDK_DEFAULT_REGION);
  const region =
    ctxRegion ??
    (defaultRegion !== undefined && (asked === undefined || partitionOf(defaultRegion) === asked)
      ? defaultRegion
      : PARTITION_DEFAULT_REGION[asked ?? 'aws']);
  const partition = (region !== undefined ? (partitionOf(region) ?? asked) : asked) ?? 'aws';
  if (partition !== 'aws' && partition !== 'aws-cn') {
    throw new Error(`region ${region} is in partition ${partition}, which CityLoop does not target`);
  }
  const account = str(context('account')) ?? (region !== undefined ? str(env.CDK_DEFAULT_ACCOUNT) : undefined);
  return { partition, region, account };
}

export interface CreateAppOptions extends AppProps {
  /** Also read by `resolveTarget` (tests pass an empty env to be independent of the machine). */
  env?: Record<string, string | undefined>;
}

/** The app with the CityLoop stack and cdk-nag AwsSolutions as a validation plugin (synth fails on a finding). */
export function createApp(options: CreateAppOptions = {}): { app: App; stack: CityLoopStack; target: Target } {
  const { env, ...appProps } = options;
  // The Lambdas trust the shipped calendar and SLA policy files (no schema check at cold start): check them here.
  checkShippedConfig();
  const app = new App({ ...appProps, context: { ...FEATURE_FLAGS, ...appProps.context } });
  const ctx = (key: string): unknown => app.node.tryGetContext(key);
  const target = resolveTarget(ctx, env);
  const str = (key: string): string | undefined => {
    const v = ctx(key);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const flag = (key: string): boolean => {
    const v = ctx(key);
    return v !== false && v !== 'false';
  };
  const days = (key: string): number | undefined => {
    const v = ctx(key);
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`context ${key} must be a positive whole number of days`);
    return n;
  };

  const webOption = (): WebOptions | false | undefined => {
    const options = {
      domainName: str('webDomainName'),
      certificateArn: str('webCertificateArn'),
      webAclArn: str('webAclArn'),
    };
    const asked = ctx('web');
    if (asked === false || asked === 'false') return false;
    if (asked === true || asked === 'true' || Object.values(options).some((v) => v !== undefined)) return options;
    return undefined; // the stack's default for the partition
  };
  const staffAuth = (): StaffAuth | undefined => {
    const issuer = str('staffJwtIssuer');
    if (issuer === undefined) return undefined;
    const audience = (str('staffJwtAudience') ?? '')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    if (audience.length === 0) throw new Error('context staffJwtIssuer needs staffJwtAudience (the client id(s))');
    return { kind: 'oidc', issuer, audience };
  };

  const stack = new CityLoopStack(app, str('stackName') ?? 'CityLoop', {
    env: { account: target.account, region: target.region },
    description: 'CityLoop: 12345 citizen-request intake (一网统管)',
    topology: buildTopology(defaultDepartments),
    departments: defaultDepartments,
    alarmEmail: str('alarmEmail'),
    webDistPath: str('webDistPath'),
    blobExpiryDays: days('blobExpiryDays'),
    mailFrom: str('mailFrom'),
    mailDomain: str('mailDomain'),
    publicUrl: str('publicUrl'),
    connectInstanceArn: str('connectInstanceArn'),
    web: webOption(),
    staffAuth: staffAuth(),
  });
  if (flag('nag')) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, target };
}
