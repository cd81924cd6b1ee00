/**
 * Staff sign-in of the pages on AWS: the Cognito hosted UI (user pool domain + a public OAuth 2.0 client for the
 * authorization code grant with PKCE) and the runtime config the stack writes next to the pages; in aws-cn (no Cognito
 * user pools) the city's OIDC issuer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, type CfnElement, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { buildTopology } from '#core/topology.ts';
import { FEATURE_FLAGS } from '#infra/create-app.ts';
import { CityLoopStack, type CityLoopStackProps } from '#infra/stack.ts';

type Json = Record<string, unknown>;
const FAST = { 'aws:cdk:bundling-stacks': [] as string[] };

interface Synth {
  stack: CityLoopStack;
  template: Template;
  resources: Record<string, { Type: string; Properties?: Json }>;
  nag: string[];
}

function synth(id: string, props: Partial<CityLoopStackProps>): Synth {
  const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'cityloop-dist-'));
  fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>12345</title>');
  fs.writeFileSync(path.join(dist, 'config.json'), '{"auth":{"mode":"apikey"}}');
  const app = new App({ context: { ...FEATURE_FLAGS, ...FAST }, builtinCloudFormationValidation: false });
  const stack = new CityLoopStack(app, id, {
    topology: buildTopology(defaultDepartments),
    departments: defaultDepartments,
    webDistPath: dist,
    ...props,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const template = Template.fromStack(stack);
  const nag = new AwsSolutionsChecks()
    .validateScope(stack)
    .violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`);
  return { stack, template, resources: template.toJSON().Resources, nag };
}

const ofType = (s: Synth, type: string) => Object.entries(s.resources).filter(([, r]) => r.Type === type);
const logicalId = (s: Synth, c: { node: { defaultChild?: unknown } } | undefined) => {
  if (!c) throw new Error('construct not found');
  return s.stack.getLogicalId(c.node.defaultChild as CfnElement);
};

describe('Class: CityLoopStack (staff sign-in of the pages)', () => {
  let aws: Synth;
  let cn: Synth;

  beforeAll(() => {
    aws = synth('CityLoopSignIn', { staffDomainPrefix: 'pingshan-12345-staff' });
    cn = synth('CityLoopSignInCn', {
      env: { account: '123456789012', region: 'cn-northwest-1' },
      web: {
        domainName: '12345.pingshan.gov.cn',
        certificateArn: 'arn:aws-cn:acm:us-east-1:123456789012:certificate/x',
      },
      staffAuth: { kind: 'oidc', issuer: 'https://sso.pingshan.gov.cn/oidc', audience: ['cityloop-pages'] },
    });
  });

  it('should create the hosted sign-in domain of the staff pool', () => {
    // Assess
    aws.template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: 'pingshan-12345-staff',
      UserPoolId: { Ref: logicalId(aws, aws.stack.userPool) },
    });
  });

  it('should give the pages a public client for the authorization code grant, redirecting to the three consoles', () => {
    // Act
    const client = aws.resources[logicalId(aws, aws.stack.pagesClient)]?.Properties ?? {};
    const dist = logicalId(aws, aws.stack.distribution);
    const consoleUrl = (page: string) => ({
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [dist, 'DomainName'] }, `/${page}/`]],
    });
    // Assess
    expect(client).toMatchObject({
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: expect.arrayContaining(['openid', 'email', 'profile']),
      GenerateSecret: false,
      SupportedIdentityProviders: ['COGNITO'],
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED',
    });
    expect(client.AllowedOAuthFlows).not.toContain('implicit');
    expect(client.CallbackURLs).toEqual(['agent', 'dept', 'supervisor'].map(consoleUrl));
    expect(client.LogoutURLs).toEqual(client.CallbackURLs);
  });

  it('should accept the pages client’s tokens at the API', () => {
    // Act
    const [, authorizer] = ofType(aws, 'AWS::ApiGatewayV2::Authorizer')[0] ?? [];
    // Assess
    expect((authorizer?.Properties?.JwtConfiguration as Json | undefined)?.Audience).toContainEqual({
      Ref: logicalId(aws, aws.stack.pagesClient),
    });
  });

  it('should write the sign-in endpoints to config.json with the pages, after the built ones', () => {
    // Act
    const deployment = ofType(aws, 'Custom::CDKBucketDeployment')[0]?.[1].Properties ?? {};
    const markers = JSON.stringify(deployment.SourceMarkers);
    // Assess
    expect(deployment.SourceObjectKeys).toHaveLength(2);
    expect(aws.stack.pagesConfig).toMatchObject({
      auth: { mode: 'oauth', oauth: { scopes: ['openid', 'email', 'profile'] } },
    });
    expect(markers).toContain(logicalId(aws, aws.stack.pagesClient));
    expect(markers).toContain(logicalId(aws, aws.stack.staffDomain));
    const config = JSON.stringify(aws.stack.resolve(aws.stack.pagesConfig));
    for (const endpoint of ['/oauth2/authorize', '/oauth2/token', '/logout']) expect(config).toContain(endpoint);
    expect(config).toContain('.auth.');
    expect(config).toContain('.amazoncognito.com');
  });

  it('should let the pages PUT photos to the blob bucket from their own origin only', () => {
    // Act
    const blobs = aws.resources[logicalId(aws, aws.stack.blobs)]?.Properties ?? {};
    // Assess
    expect(blobs.CorsConfiguration).toEqual({
      CorsRules: [
        {
          AllowedMethods: ['PUT'],
          AllowedHeaders: ['content-type'],
          AllowedOrigins: [
            {
              'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(aws, aws.stack.distribution), 'DomainName'] }]],
            },
          ],
          MaxAge: 300,
        },
      ],
    });
  });

  it('should pass cdk-nag with the sign-in resources, in aws and aws-cn', () => {
    // Assess
    expect(aws.nag).toEqual([]);
    expect(cn.nag).toEqual([]);
  });

  it('should point the aws-cn pages at the city’s OIDC issuer, with no Cognito and no hard-coded aws partition', () => {
    // Act
    const types = new Set(Object.values(cn.resources).map((r) => r.Type));
    const deployment = ofType(cn, 'Custom::CDKBucketDeployment')[0]?.[1].Properties ?? {};
    // Assess
    expect([...types].filter((t) => t.startsWith('AWS::Cognito::'))).toEqual([]);
    expect(cn.stack.pagesConfig).toEqual({
      auth: {
        mode: 'oauth',
        oauth: {
          issuer: 'https://sso.pingshan.gov.cn/oidc',
          clientId: 'cityloop-pages',
          scopes: ['openid', 'profile'],
        },
      },
    });
    expect(deployment.SourceObjectKeys).toHaveLength(2);
    expect(JSON.stringify(cn.template.toJSON())).not.toContain('arn:aws:');
  });
});
