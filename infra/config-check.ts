/**
 * The shipped configuration the Lambdas trust at run time (they build it without the schema checks, to keep cold
 * starts short: `WorkingCalendar.trusted`, `SlaPolicyBook.trusted`), checked in full where a mistake should stop a
 * deployment: `npx cdk synth` (infra/create-app.ts) and the unit tests. A city that edits `config/calendar/*.json` or
 * `config/sla-policies.json` learns of a bad file when it synthesizes, not from a Lambda at 3 a.m.
 */
import officialFile from '#config/calendar/official-cn.json' with { type: 'json' };
import overridesFile from '#config/calendar/overrides.json' with { type: 'json' };
import policiesFile from '#config/sla-policies.json' with { type: 'json' };
import { WorkingCalendar } from '#core/calendar/working-calendar.ts';
import { SlaPolicyBook } from '#core/sla/policy.ts';

export interface ShippedConfig {
  official: unknown;
  overrides: unknown;
  policies: unknown;
}

/**
 * Validates the calendar documents and the SLA policy file (schemas, consistency, and every policy × nature × urgency
 * resolving to a complete policy). Throws the `CityLoopError` of the first problem, prefixed with the file's name.
 */
export function checkShippedConfig(
  config: ShippedConfig = { official: officialFile, overrides: overridesFile, policies: policiesFile },
): void {
  try {
    WorkingCalendar.create(config.official, config.overrides);
  } catch (e) {
    throw withFile('config/calendar/official-cn.json + overrides.json', e);
  }
  try {
    SlaPolicyBook.create(config.policies);
  } catch (e) {
    throw withFile('config/sla-policies.json', e);
  }
}

function withFile(file: string, e: unknown): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  err.message = `${file}: ${err.message}`;
  return err;
}
