/** The shipped defaults: departments and 事项清单. A city replaces the JSON files in `config/`. */
import departmentsFile from '../../config/departments.json' with { type: 'json' };
import taxonomyFile from '../../config/taxonomy.json' with { type: 'json' };
import type { Department, Taxonomy } from './types.ts';

export const defaultDepartments: Department[] = departmentsFile.departments as Department[];
export const defaultTaxonomy: Taxonomy = taxonomyFile as Taxonomy;

const namesById = new Map(defaultDepartments.map((d) => [d.id, d.name]));

/** The Chinese name of a department id (undefined for an unknown or missing id). */
export function departmentName(id: string | undefined): string | undefined {
  return id === undefined ? undefined : namesById.get(id);
}
