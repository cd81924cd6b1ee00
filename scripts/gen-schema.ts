/** `npm run schema`: writes the JSON Schema of the one form for external users, from the zod schema. */
import { writeFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { IntakeRequest } from '#core/intake/schema.ts';

export function intakeJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(IntakeRequest, { io: 'input' }),
    $id: 'https://cityloop.example/schemas/intake-request.json',
    title: 'IntakeRequest',
    description: 'CityLoop 统一受理单: every channel turns its input into this form.',
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync('docs/intake-request.schema.json', `${JSON.stringify(intakeJsonSchema(), null, 2)}\n`);
  process.stdout.write('wrote docs/intake-request.schema.json\n');
}
