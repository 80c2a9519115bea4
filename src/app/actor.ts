import type { Role } from './roles.js';

/** Who did something: a signed-in person, an API token, or Keepwarm itself. */
export interface Actor {
  type: 'user' | 'token' | 'system' | 'anonymous';
  id: string | null;
  name: string;
  role: Role;
  /** Source address of the request, when there was one. */
  ip: string | null;
  /** Present for console sessions: the CSRF token their forms must carry. */
  csrfToken?: string;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null, name: 'Keepwarm', role: 'admin', ip: null };
