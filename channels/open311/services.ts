/**
 * Open311 services from the 事项清单: every leaf category is a service (service_code = category code), its
 * first-level parent is the group, its keywords are the keywords. Attributes (service definitions) come from
 * `config/open311.json`, so the taxonomy stays the one source of what CityLoop handles.
 */
import type { Category, Taxonomy } from '#core/taxonomy/types.ts';
import type { AttributeDefinition, Open311Config } from './config.ts';

export interface Open311Service {
  service_code: string;
  service_name: string;
  description: string;
  /** true when the service has attributes (a service definition worth fetching). */
  metadata: boolean;
  type: 'realtime';
  keywords: string;
  group: string;
}

export interface ServiceEntry {
  service: Open311Service;
  attributes: AttributeDefinition[];
  notice?: string;
}

export interface ServiceCatalog {
  list: Open311Service[];
  get(code: string): ServiceEntry | undefined;
}

export function buildCatalog(taxonomy: Taxonomy, config: Pick<Open311Config, 'services'>): ServiceCatalog {
  const byCode = new Map<string, Category>(taxonomy.categories.map((c) => [c.code, c]));
  const parents = new Set(taxonomy.categories.map((c) => c.parent).filter((p): p is string => p !== undefined));
  const entries = new Map<string, ServiceEntry>();
  for (const c of taxonomy.categories) {
    if (parents.has(c.code) || !c.department) continue;
    const override = Object.hasOwn(config.services, c.code) ? config.services[c.code] : undefined;
    const group = c.parent ? (byCode.get(c.parent)?.name ?? c.parent) : c.name;
    const attributes = (override?.attributes ?? [])
      .map((a, i) => ({ ...a, order: a.order ?? i + 1 }))
      .sort((a, b) => a.order - b.order);
    entries.set(c.code, {
      service: {
        service_code: c.code,
        service_name: c.name,
        description: override?.description ?? `${group} · ${c.name}`,
        metadata: attributes.length > 0,
        type: 'realtime',
        keywords: c.keywords.join(', '),
        group,
      },
      attributes,
      ...(override?.notice ? { notice: override.notice } : {}),
    });
  }
  const list = [...entries.values()].map((e) => e.service);
  return { list, get: (code) => entries.get(code) };
}

/** Configured services that are not in the taxonomy: a config mistake the tests and the loader report. */
export function unknownConfiguredServices(taxonomy: Taxonomy, config: Pick<Open311Config, 'services'>): string[] {
  const catalog = buildCatalog(taxonomy, config);
  return Object.keys(config.services).filter((code) => !catalog.get(code));
}
