import type { ColumnType, Insertable, Selectable } from 'kysely';

/** Epoch milliseconds (bigint in both dialects). */
export type Millis = number;
/** Boolean column: PostgreSQL boolean, SQLite integer. Decode with fromDbBool. */
export type DbBool = ColumnType<boolean | number, number, number>;
/** JSON column: PostgreSQL jsonb, SQLite text; always handled as text. Decode with fromDbJson. */
export type DbJson = ColumnType<string, string, string>;

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: Millis;
}

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  role: string;
  password_hash: string | null;
  created_at: Millis;
  updated_at: Millis;
  disabled_at: Millis | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: Millis;
  last_seen_at: Millis;
  expires_at: Millis;
  ip: string | null;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  role: string;
  token_hash: string;
  prefix: string;
  created_by: string | null;
  created_at: Millis;
  last_used_at: Millis | null;
  revoked_at: Millis | null;
}

export interface AuditLogTable {
  id: string;
  at: Millis;
  actor_type: string;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: DbJson;
}

export interface ComponentsTable {
  id: string;
  name: string;
  kind: string;
  group_name: string | null;
  description: string | null;
  position: number;
  status: string;
  only_show_if_degraded: DbBool;
  created_at: Millis;
  updated_at: Millis;
}

export interface IncidentsTable {
  id: string;
  name: string;
  status: string;
  impact: string;
  commander_id: string | null;
  scope: DbJson;
  drill: DbBool;
  started_at: Millis;
  detected_at: Millis;
  declared_at: Millis;
  acknowledged_at: Millis | null;
  monitoring_at: Millis | null;
  resolved_at: Millis | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface IncidentComponentsTable {
  incident_id: string;
  component_id: string;
  status: string;
  added_at: Millis;
}

export interface IncidentEventsTable {
  id: string;
  incident_id: string;
  at: Millis;
  type: string;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  public: DbBool;
  data: DbJson;
}

export interface JobsTable {
  id: string;
  kind: string;
  payload: DbJson;
  idempotency_key: string;
  state: string;
  run_at: Millis;
  /** 1: bulk work (a delivery per message), claimed after every due job of the other lane. */
  bulk: ColumnType<number, number | undefined, number>;
  attempts: number;
  max_attempts: number;
  lease_token: string | null;
  lease_expires_at: Millis | null;
  locked_by: string | null;
  last_error: string | null;
  created_at: Millis;
  updated_at: Millis;
  finished_at: Millis | null;
}

export interface TemplatesTable {
  id: string;
  key: string;
  locale: string;
  channel: string;
  purpose: string;
  name: string;
  description: string | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface TemplateVersionsTable {
  id: string;
  template_id: string;
  version: number;
  state: string;
  subject: string | null;
  body: string;
  created_by: string | null;
  created_at: Millis;
  updated_at: Millis;
  submitted_by: string | null;
  submitted_at: Millis | null;
  approved_by: string | null;
  approved_at: Millis | null;
  retired_by: string | null;
  retired_at: Millis | null;
  review_note: string | null;
}

export interface MessagesTable {
  id: string;
  idempotency_key: string;
  incident_id: string | null;
  channel: string;
  purpose: string;
  template_key: string | null;
  template_version_id: string | null;
  recipient: string;
  recipient_name: string | null;
  recipient_ref: string | null;
  timezone: string | null;
  drill: DbBool;
  subject: string | null;
  body_text: string;
  body_html: string | null;
  status: string;
  status_reason: string | null;
  provider: string | null;
  provider_message_id: string | null;
  attempts: number;
  metadata: DbJson;
  created_at: Millis;
  updated_at: Millis;
  sent_at: Millis | null;
  delivered_at: Millis | null;
  provider_status_at: Millis | null;
  /** When the body and recipient were removed (retention purge or erasure; 015-privacy). */
  redacted_at: Millis | null;
}

export interface MessageAttemptsTable {
  id: string;
  message_id: string;
  at: Millis;
  provider: string;
  outcome: string;
  code: string | null;
  detail: string | null;
  duration_ms: number;
}

export interface SuppressionsTable {
  channel: string;
  address: string;
  reason: string;
  source: string | null;
  created_at: Millis;
}

/** SMS (and later other channels) received from people: see src/messaging/inbound. */
export interface InboundMessagesTable {
  id: string;
  channel: string;
  provider_message_id: string;
  from_address: string;
  to_address: string;
  body: string;
  /** stop | start | help | conversation */
  kind: string;
  received_at: Millis;
  /** Every parameter the provider sent, as received. */
  params: DbJson;
  handled_at: Millis | null;
  outcome: string | null;
}

export interface MonitorsTable {
  id: string;
  component_id: string;
  name: string;
  type: string;
  config: DbJson;
  interval_ms: number;
  regions: DbJson;
  failures_to_down: number;
  successes_to_up: number;
  enabled: DbBool;
  created_at: Millis;
  updated_at: Millis;
}

export interface MonitorStatesTable {
  monitor_id: string;
  region: string;
  state: string;
  fail_streak: number;
  ok_streak: number;
  degraded: DbBool;
  first_failure_at: Millis | null;
  changed_at: Millis;
  last_result_at: Millis;
  last_latency_ms: number | null;
  last_error: string | null;
  flaps: DbJson;
}

export interface ProbeResultsTable {
  monitor_id: string;
  region: string;
  minute: Millis;
  ok: number;
  degraded: number;
  failed: number;
  latency_sum: number;
  latency_max: number;
}

export interface SignalsTable {
  id: string;
  source: string;
  fingerprint: string;
  component_id: string | null;
  region: string | null;
  state: string;
  severity: string;
  summary: string;
  first_at: Millis;
  last_at: Millis;
  resolved_at: Millis | null;
  details: DbJson;
}

export interface ComponentHealthTable {
  component_id: string;
  status: string;
  scope: DbJson;
  reasons: DbJson;
  since: Millis;
  evaluated_at: Millis;
}

export interface DetectionsTable {
  id: string;
  state: string;
  components: DbJson;
  scope: DbJson;
  summary: string;
  first_failure_at: Millis;
  created_at: Millis;
  confirm_by: Millis | null;
  incident_id: string | null;
  decided_by: string | null;
  decided_at: Millis | null;
}

/** Static status targets: what each last received (005-status-publish). */
export interface PublicationsTable {
  target: string;
  revision: string | null;
  published_at: Millis | null;
  duration_ms: number | null;
  files: number | null;
  error: string | null;
  attempted_at: Millis | null;
  lease_owner: string | null;
  lease_expires_at: Millis | null;
}

/** CRM (007-crm). Money is whole dollars. */
export interface AccountsTable {
  id: string;
  name: string;
  domain: string | null;
  external_id: string | null;
  arr: number | null;
  owner_id: string | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface LeadsTable {
  id: string;
  external_id: string | null;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  title: string | null;
  company: string | null;
  account_id: string | null;
  owner_id: string | null;
  owner_ref: string | null;
  lifecycle: string;
  crm_status: string | null;
  source: string | null;
  arr_potential: number | null;
  cart_value: number | null;
  demo_scheduled_at: Millis | null;
  last_activity_at: Millis | null;
  timezone: string | null;
  consent_email: string;
  consent_sms: string;
  attributes: DbJson;
  outage_status: string | null;
  outage_channel: string | null;
  outage_priority: string | null;
  fallback_sent: DbBool;
  outage_incident_id: string | null;
  tier: string | null;
  tier_rule: string | null;
  tagged_at: Millis | null;
  re_engaged_at: Millis | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface OwnerProfilesTable {
  user_id: string;
  phone: string | null;
  calendar_link: string | null;
  timezone: string;
  working_hours: DbJson;
  updated_at: Millis;
}

export interface IntentEventsTable {
  id: string;
  message_id: string;
  lead_id: string | null;
  type: string;
  email: string | null;
  anonymous_id: string | null;
  product: string | null;
  value: number | null;
  properties: DbJson;
  at: Millis;
  received_at: Millis;
  /** `api` (an API token) or `site:<name>` (a showroom site's public key). */
  source: ColumnType<string, string | undefined, string>;
  /** The incident whose window (started_at..resolved_at, open: until now) covers `at`. */
  incident_id: string | null;
  incident_drill: ColumnType<boolean | number | null, number | null | undefined, number | null>;
}

export interface TasksTable {
  id: string;
  incident_id: string | null;
  lead_id: string;
  owner_id: string | null;
  kind: string;
  title: string;
  script: string | null;
  due_at: Millis;
  state: string;
  outcome: string | null;
  outcome_note: string | null;
  assigned_reason: string | null;
  created_at: Millis;
  updated_at: Millis;
  done_at: Millis | null;
}

export interface EnrollmentsTable {
  id: string;
  incident_id: string;
  lead_id: string;
  sequence: string;
  step: number;
  state: string;
  stop_reason: string | null;
  next_at: Millis | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface ConversationsTable {
  id: string;
  channel: string;
  address: string;
  lead_id: string | null;
  incident_id: string | null;
  state: string;
  last_choice: string | null;
  turns: number;
  created_at: Millis;
  updated_at: Millis;
}

export interface CatalogSnapshotsTable {
  id: string;
  version: number;
  created_at: Millis;
  source: string;
  format: string;
  actor: string | null;
  product_count: number;
  content_hash: string;
  categories: DbJson;
  issues: DbJson;
}

export interface CatalogProductsTable {
  snapshot_id: string;
  sku: string;
  position: number;
  hash: string;
  data: DbJson;
}

/** A drill: the entry point broken, the milestones, the scorecard (017-drills). */
export interface DrillsTable {
  id: string;
  scenario: string;
  target: string;
  state: string;
  component_ids: DbJson;
  actor_name: string | null;
  started_at: Millis;
  broken_at: Millis | null;
  hold_ms: number;
  incident_id: string | null;
  detected_at: Millis | null;
  declared_at: Millis | null;
  acknowledged_at: Millis | null;
  fallback_live_at: Millis | null;
  tier_a_task_at: Millis | null;
  restored_at: Millis | null;
  finished_at: Millis | null;
  scorecard: DbJson | null;
  error: string | null;
}

/** A fallback mirror build (incremental unless full). */
export interface MirrorBuildsTable {
  id: string;
  snapshot_id: string | null;
  trigger: string;
  started_at: Millis;
  finished_at: Millis | null;
  full: DbBool;
  files: number | null;
  rendered: number | null;
  reused: number | null;
  removed: number | null;
  bytes: number | null;
  duration_ms: number | null;
  /** JSON array of strings. */
  warnings: string | null;
  error: string | null;
}

/** A build published to one target. */
export interface MirrorPublicationsTable {
  id: string;
  build_id: string;
  target: string;
  type: string;
  started_at: Millis;
  finished_at: Millis | null;
  written: number | null;
  reused: number | null;
  deleted: number | null;
  verified: number | null;
  bytes: number | null;
  version: string | null;
  duration_ms: number | null;
  error: string | null;
}

/** Offline purchase orders posted from the fallback mirror. */
export interface OrdersTable {
  id: string;
  /** What the buyer is told: KW-XXXX-XXXX. */
  reference: string;
  created_at: Millis;
  updated_at: Millis;
  company: string;
  contact_name: string;
  email: string;
  phone: string | null;
  /** JSON array of {sku, name, quantity, known}. */
  lines: DbJson;
  notes: string | null;
  /** The mirror page (or Referer) the order came from. */
  source: string | null;
  /** The catalog snapshot the SKUs were checked against (null: no catalog imported yet). */
  snapshot_id: string | null;
  unknown_skus: number;
  incident_id: string | null;
  state: string;
  /** When the sales email was queued to the outbox (null: not emailed). */
  emailed_at: Millis | null;
  /** Why the sales email was not queued (no address configured, template not approved, …). */
  email_problem: string | null;
  ip_hash: string | null;
}

/** SLA credits (013-credits). Money is integer cents. */
export interface SlaPoliciesTable {
  plan: string;
  body: DbJson;
  updated_at: Millis;
  updated_by: string | null;
}

export interface AccountPlansTable {
  account_id: string;
  plan: string;
  monthly_fee_cents: number;
  currency: string;
  components: DbJson;
  regions: DbJson;
  created_at: Millis;
  updated_at: Millis;
}

export interface CreditsTable {
  id: string;
  account_id: string;
  month: string;
  state: string;
  plan: string;
  currency: string;
  fee_cents: number;
  availability_ppm: number;
  downtime_ms: number;
  credit_bp: number;
  capped: DbBool;
  amount_cents: number;
  threshold_cents: number;
  policy: DbJson;
  incidents: DbJson;
  computed_at: Millis;
  decided_at: Millis | null;
  decided_by: string | null;
  decided_by_name: string | null;
  decided_role: string | null;
  decision_note: string | null;
  created_at: Millis;
  updated_at: Millis;
}

/** The playbook engine (014-playbook): each incident's checklist and the automatic actions taken. */
export interface IncidentChecklistTable {
  incident_id: string;
  item_id: string;
  position: number;
  title: string;
  role: string;
  due_after: Millis | null;
  due_from: string;
  due_at: Millis | null;
  complete_on: DbJson;
  state: string;
  done_at: Millis | null;
  done_by_type: string | null;
  done_by_id: string | null;
  done_by_name: string | null;
  done_event_id: string | null;
  note: string | null;
  overdue_at: Millis | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface PlaybookActionsTable {
  incident_id: string;
  rule: string;
  action_index: number;
  trigger_event_id: string;
  action: string;
  outcome: string;
  detail: string;
  at: Millis;
}

/** Incident reports (016-reports): what people wrote; the figures are computed when rendered. */
export interface IncidentReportsTable {
  incident_id: string;
  state: string;
  summary: string | null;
  root_cause: string;
  actions: DbJson;
  revision: number;
  created_at: Millis;
  updated_at: Millis;
  updated_by: string | null;
  published_at: Millis | null;
  published_by: string | null;
}

/** The incident room's roles besides the commander (018-incident-roles). */
export interface IncidentRolesTable {
  incident_id: string;
  /** communications | sales */
  role: string;
  user_id: string;
  assigned_at: Millis;
  assigned_by: string | null;
}

/** The tier each lead would get on a drill incident (the leads themselves are left alone). */
export interface DrillLeadsTable {
  incident_id: string;
  lead_id: string;
  tier: string;
  rule: string;
  created_at: Millis;
}

export interface DB {
  settings: SettingsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
  components: ComponentsTable;
  incidents: IncidentsTable;
  incident_components: IncidentComponentsTable;
  incident_events: IncidentEventsTable;
  jobs: JobsTable;
  templates: TemplatesTable;
  template_versions: TemplateVersionsTable;
  messages: MessagesTable;
  message_attempts: MessageAttemptsTable;
  suppressions: SuppressionsTable;
  monitors: MonitorsTable;
  monitor_states: MonitorStatesTable;
  probe_results: ProbeResultsTable;
  signals: SignalsTable;
  component_health: ComponentHealthTable;
  detections: DetectionsTable;
  inbound_messages: InboundMessagesTable;
  publications: PublicationsTable;
  accounts: AccountsTable;
  leads: LeadsTable;
  owner_profiles: OwnerProfilesTable;
  intent_events: IntentEventsTable;
  tasks: TasksTable;
  enrollments: EnrollmentsTable;
  conversations: ConversationsTable;
  catalog_snapshots: CatalogSnapshotsTable;
  catalog_products: CatalogProductsTable;
  orders: OrdersTable;
  mirror_builds: MirrorBuildsTable;
  drills: DrillsTable;
  mirror_publications: MirrorPublicationsTable;
  sla_policies: SlaPoliciesTable;
  account_plans: AccountPlansTable;
  credits: CreditsTable;
  incident_checklist: IncidentChecklistTable;
  playbook_actions: PlaybookActionsTable;
  incident_reports: IncidentReportsTable;
  incident_roles: IncidentRolesTable;
  drill_leads: DrillLeadsTable;
}

export type Row<T extends keyof DB> = Selectable<DB[T]>;
export type NewRow<T extends keyof DB> = Insertable<DB[T]>;
