/** Roles and what each may do. Routes name a permission; this table is the only place roles appear. */
export const ROLES = ['admin', 'commander', 'marketing', 'sales', 'legal', 'viewer', 'agent'] as const;
export type Role = (typeof ROLES)[number];

const PEOPLE: readonly Role[] = ['admin', 'commander', 'marketing', 'sales', 'legal', 'viewer'];

export const PERMISSIONS = {
  'incidents.read': PEOPLE,
  'incidents.declare': ['admin', 'commander'],
  'incidents.update': ['admin', 'commander', 'marketing'],
  'incidents.note': ['admin', 'commander', 'marketing', 'sales', 'legal'],
  'components.read': [...PEOPLE, 'agent'],
  'components.write': ['admin', 'commander'],
  'users.read': ['admin', 'commander'],
  'users.manage': ['admin'],
  'tokens.manage': ['admin'],
  'audit.read': ['admin'],
  'jobs.read': ['admin', 'commander'],
  'jobs.manage': ['admin'],
  'templates.read': PEOPLE,
  'templates.write': ['admin', 'marketing', 'legal', 'commander'],
  'templates.approve': ['admin', 'legal'],
  'messages.read': ['admin', 'commander', 'marketing', 'legal'],
  'messages.send': ['admin', 'commander', 'marketing'],
  'suppressions.manage': ['admin', 'marketing', 'legal'],
  'monitors.read': [...PEOPLE, 'agent'],
  'monitors.write': ['admin', 'commander'],
  'probes.report': ['admin', 'agent'],
  'detections.decide': ['admin', 'commander'],
  'subscribers.read': ['admin', 'commander', 'marketing', 'legal'],
  'subscribers.manage': ['admin', 'commander'],
  'publications.read': ['admin', 'commander', 'viewer'],
  'leads.import': ['admin', 'marketing'],
  'catalog.import': ['admin', 'marketing'],
  'catalog.read': PEOPLE,
  'leads.read': ['admin', 'commander', 'marketing', 'sales', 'viewer'],
  'leads.write': ['admin', 'commander', 'marketing'],
  'tasks.work': ['admin', 'commander', 'sales'],
  /** Intent events from the showroom SDK's event buffer (a token of a marketing or admin role). */
  'events.write': ['admin', 'marketing'],
  'owners.read': PEOPLE,
  'owners.write': ['admin', 'commander', 'sales'],
  /** Offline purchase orders from the fallback mirror: the console list, and marking them acknowledged / converted. */
  'orders.read': ['admin', 'commander', 'sales', 'marketing'],
  'orders.write': ['admin', 'commander', 'sales'],
  /** Retention settings, and exporting or erasing everything held about a person (src/privacy). */
  'privacy.manage': ['admin'],
  /** SLA credits: the ledger and queue; computing proposals; policies and customer plans; the billing export. */
  'credits.read': ['admin', 'commander', 'sales', 'legal'],
  'credits.compute': ['admin', 'commander', 'legal'],
  'credits.configure': ['admin', 'legal'],
  'credits.export': ['admin', 'legal'],
  /** Approve or reject a proposed credit up to its policy's approval threshold… */
  'credits.approve': ['admin', 'sales', 'legal'],
  /** …and above it. */
  'credits.approve_above_threshold': ['admin', 'legal'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

export function rolesFor(permission: Permission): readonly Role[] {
  return PERMISSIONS[permission];
}
