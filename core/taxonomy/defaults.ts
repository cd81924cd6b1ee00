/** The shipped defaults: departments and 事项清单. A city replaces the JSON files in `config/`. */
import departmentsFile from '../../config/departments.json' with { type: 'json' };
import taxonomyFile from '../../config/taxonomy.json' with { type: 'json' };
import type { Department, Taxonomy } from './types.ts';

export const defaultDepartments: Department[] = departmentsFile.departments as Department[];
export const defaultTaxonomy: Taxonomy = taxonomyFile as Taxonomy;
