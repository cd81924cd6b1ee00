/**
 * The CDK app (`cdk.json`: `npx tsx infra/app.ts`): the CityLoop stack from `buildTopology(defaultDepartments)`, checked
 * by cdk-nag AwsSolutions. Offline for both partitions:
 *   npx cdk synth -q                              # aws, environment-agnostic (or the CLI's default region)
 *   npx cdk synth -q -c partition=aws-cn          # aws-cn, cn-northwest-1
 *   npx cdk synth -q -c region=cn-north-1         # aws-cn, Beijing
 * Other context keys: see `infra/create-app.ts`.
 */
import { createApp } from './create-app.ts';

createApp();
