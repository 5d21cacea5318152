// Wire types of vetdesk's /api/v1 (and, later, of the desktop app's commands,
// which return the same values). Ids are UUID strings; instants are RFC 3339 UTC;
// `local_*` fields are the clinic's wall time without an offset.

export type Uuid = string;
export type Instant = string;
export type LocalDateTime = string;
export type LocalDate = string;

export type Role = 'admin' | 'front_desk' | 'vet';

export interface User {
  id: Uuid;
  username: string;
  display_name: string;
  role: Role;
  vet_id: Uuid | null;
}

export interface Session {
  token: string;
  expires_at: Instant;
  user: User;
}

export type Status =
  | 'scheduled'
  | 'confirmed'
  | 'checked_in'
  | 'in_progress'
  | 'completed'
  | 'cancelled'
  | 'no_show';

export type CalendarView = 'day' | 'week' | 'month';

export interface Meta {
  version: number;
  created_at: Instant;
  updated_at: Instant;
}

export interface ClinicRef {
  id: Uuid;
  name: string;
  time_zone: string;
}

export interface VetRef {
  id: Uuid;
  name: string;
}

export interface LocalSlot {
  start: Instant;
  end: Instant;
  local_start: LocalDateTime;
  local_end: LocalDateTime;
}

export interface CalendarAppointment extends LocalSlot {
  id: Uuid;
  vet_id: Uuid;
  status: Status;
  version: number;
  pet_name: string;
  client_name: string;
  type_name: string;
  colour: string;
  reason: string | null;
}

export interface FreeBlock extends LocalSlot {
  vet_id: Uuid;
}

export interface CalendarDay {
  date: LocalDate;
  appointments: CalendarAppointment[];
  free: FreeBlock[];
}

export interface Calendar {
  view: CalendarView;
  clinic: ClinicRef;
  first: LocalDate;
  last: LocalDate;
  vets: VetRef[];
  days: CalendarDay[];
}

export interface Availability {
  clinic: ClinicRef;
  first: LocalDate;
  last: LocalDate;
  duration_min: number;
  grid_min: number;
  vets: { vet: VetRef; slots: LocalSlot[] }[];
}

export interface Interval {
  start: Instant;
  end: Instant;
}

export interface Conflict {
  kind: string;
  [field: string]: unknown;
}

export interface ConflictReport {
  ok: boolean;
  conflicts: Conflict[];
  messages: string[];
}

export interface HistoryEntry {
  appointment_id: Uuid;
  version: number;
  action: string;
  from_status: Status | null;
  to_status: Status;
  slot: Interval;
  note: string | null;
  actor: string;
  at: Instant;
}

export interface AppointmentDetails {
  id: Uuid;
  clinic_id: Uuid;
  vet_id: Uuid;
  pet_id: Uuid;
  client_id: Uuid;
  type_id: Uuid;
  slot: Interval;
  status: Status;
  reason: string | null;
  notes: string | null;
  cancel_reason: string | null;
  meta: Meta;
  pet_name: string;
  client_name: string;
  vet_name: string;
  type_name: string;
  colour: string;
  time_zone: string;
  local: LocalSlot;
  history: HistoryEntry[];
}

export interface Clinic {
  id: Uuid;
  name: string;
  time_zone: string;
  meta: Meta;
}

export interface Vet {
  id: Uuid;
  name: string;
  email: string | null;
  clinics: Uuid[];
  meta: Meta;
}

export interface Client {
  id: Uuid;
  name: string;
  email: string | null;
  phone: string | null;
  meta: Meta;
}

export interface Pet {
  id: Uuid;
  owner: Uuid;
  name: string;
  species: string;
  breed: string | null;
  date_of_birth: LocalDate | null;
  meta: Meta;
}

export interface AppointmentType {
  id: Uuid;
  name: string;
  duration_min: number;
  colour: string;
  buffer_before_min: number;
  buffer_after_min: number;
  meta: Meta;
}

export interface WorkingHours {
  id: Uuid;
  vet_id: Uuid;
  clinic_id: Uuid;
  weekday: string;
  span: string;
  valid_from: LocalDate;
  valid_to: LocalDate | null;
  meta: Meta;
}

export interface TimeOff {
  id: Uuid;
  vet_id: Uuid;
  period: Interval;
  reason: string | null;
  meta: Meta;
}

export interface Deleted {
  id: Uuid;
  version: number;
}

/** A committed change, as `GET /events` announces it. */
export interface Change {
  seq?: number;
  entity: string;
  id: Uuid;
  clinic_id: Uuid | null;
  version: number;
  op: string;
  at?: Instant;
}

// ---------- notifications and users (management screens) ----------

export type MessageKind = 'confirmation' | 'reminder' | 'reschedule' | 'cancellation' | 'checked_in' | 'starting_soon';
export type MessageChannel = 'email' | 'sms' | 'desktop';
export type MessageStatus = 'pending' | 'sent' | 'failed' | 'skipped' | 'voided';

export interface Health {
  status: string;
  version: string;
  /** What the server's notification worker sends through; empty: nothing goes out (older servers: absent). */
  notification_channels?: MessageChannel[];
}

export interface OutboxMessage {
  id: Uuid;
  key: string;
  appointment_id: Uuid;
  clinic_id: Uuid;
  vet_id: Uuid;
  kind: MessageKind;
  channel: MessageChannel;
  appointment_start: Instant;
  due_at: Instant;
  status: MessageStatus;
  attempts: number;
  last_error: string | null;
  sent_to: string | null;
  updated_at: Instant;
}

export interface OutboxPage {
  items: OutboxMessage[];
  total: number;
  limit: number;
  offset: number;
}

export interface RenderedMessage {
  subject: string | null;
  text: string;
  html: string | null;
}

export type PreparedMessage =
  | { action: 'send'; to: { address: string; name: string }; rendered: RenderedMessage }
  | { action: 'defer'; until: Instant; why: string }
  | { action: 'skip'; reason: string };

export interface MessagePreview {
  message: OutboxMessage;
  prepared: PreparedMessage;
}

export interface MessageTemplate {
  kind: MessageKind;
  channel: MessageChannel;
  subject: string | null;
  body: string;
  custom: boolean;
  version: number | null;
  updated_by: string | null;
  updated_at: Instant | null;
}

export interface ManagedUser extends User {
  disabled: boolean;
  meta: { version: number; created_at: Instant; updated_at: Instant };
}
