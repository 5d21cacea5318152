// Every operation the UI may call, by the name it has in the HTTP API's OpenAPI
// document (its operationId). A desktop (Tauri) transport invokes commands of
// the same names with the same arguments, so the UI never knows which it talks to.

import type * as T from './types';

export interface CalendarArgs {
  view: T.CalendarView;
  date: T.LocalDate;
  clinic_id: T.Uuid;
  vet_id?: T.Uuid;
  include_cancelled?: boolean;
}

export interface CheckConflictsArgs {
  clinic_id: T.Uuid;
  vet_id: T.Uuid;
  start: T.LocalDateTime;
  end: T.LocalDateTime;
  type_id?: T.Uuid;
  /** The appointment being moved: its own time does not count against it. */
  appointment_id?: T.Uuid;
}

export interface AvailabilityArgs {
  clinic_id: T.Uuid;
  vet_id?: T.Uuid;
  start_date: T.LocalDate;
  end_date: T.LocalDate;
  type_id?: T.Uuid;
  duration_minutes?: number;
}

export interface BookArgs {
  clinic_id: T.Uuid;
  vet_id: T.Uuid;
  pet_id: T.Uuid;
  client_id?: T.Uuid;
  type_id: T.Uuid;
  start: T.LocalDateTime;
  duration_minutes?: number;
  reason?: string;
  notes?: string;
}

export interface StepArgs {
  id: T.Uuid;
  version: number;
  note?: string;
}

export interface CancelArgs {
  id: T.Uuid;
  version: number;
  reason?: string;
}

export interface RescheduleArgs {
  id: T.Uuid;
  version: number;
  start: T.LocalDateTime;
  duration_minutes?: number;
  vet_id?: T.Uuid;
  note?: string;
}

export interface SearchArgs {
  q?: string;
  owner_id?: T.Uuid;
  limit?: number;
}

export interface ScopeArgs {
  vet_id?: T.Uuid;
  clinic_id?: T.Uuid;
}

export interface TypeArgs {
  id?: T.Uuid;
  version?: number;
  name: string;
  duration_minutes: number;
  colour: string;
  buffer_before_minutes?: number;
  buffer_after_minutes?: number;
}

export interface HoursArgs {
  vet_id: T.Uuid;
  clinic_id: T.Uuid;
  weekday: string;
  span: string;
  valid_from: T.LocalDate;
  valid_to?: T.LocalDate;
}

export interface TimeOffArgs {
  vet_id: T.Uuid;
  clinic_id?: T.Uuid;
  start: string;
  end: string;
  reason?: string;
}

export interface ClientArgs {
  id?: T.Uuid;
  version?: number;
  name: string;
  email?: string;
  phone?: string;
}

export interface PetArgs {
  id?: T.Uuid;
  version?: number;
  owner_id: T.Uuid;
  name: string;
  species: string;
  breed?: string;
}

export interface DeleteArgs {
  id: T.Uuid;
  version?: number;
}

export interface OutboxArgs {
  /** Comma-separated statuses, e.g. `failed` or `failed,skipped`. */
  status?: string;
  channel?: T.MessageChannel;
  appointment_id?: T.Uuid;
  limit?: number;
  offset?: number;
}

export interface TemplateKey {
  kind: T.MessageKind;
  channel: T.MessageChannel;
}

export interface TemplateArgs extends TemplateKey {
  subject?: string;
  body: string;
  version?: number;
}

export interface UserArgs {
  username: string;
  display_name: string;
  role: T.Role;
  vet_id?: T.Uuid;
  password: string;
}

export interface UserPatchArgs {
  id: T.Uuid;
  version: number;
  display_name?: string;
  role?: T.Role;
  vet_id?: T.Uuid;
  password?: string;
  disabled?: boolean;
}

/** Operation name → its arguments and its result. */
export interface Operations {
  login: { args: { username: string; password: string }; result: T.Session };
  logout: { args: Record<string, never>; result: void };
  me: { args: Record<string, never>; result: T.User };
  health: { args: Record<string, never>; result: T.Health };

  calendar: { args: CalendarArgs; result: T.Calendar };
  availability: { args: AvailabilityArgs; result: T.Availability };
  availability_runs: { args: AvailabilityArgs; result: T.AvailabilityRuns };
  check_conflicts: { args: CheckConflictsArgs; result: T.ConflictReport };
  book: { args: BookArgs; result: T.AppointmentDetails };
  get: { args: { id: T.Uuid }; result: T.AppointmentDetails };
  confirm: { args: StepArgs; result: T.AppointmentDetails };
  check_in: { args: StepArgs; result: T.AppointmentDetails };
  start: { args: StepArgs; result: T.AppointmentDetails };
  complete: { args: StepArgs; result: T.AppointmentDetails };
  no_show: { args: StepArgs; result: T.AppointmentDetails };
  cancel: { args: CancelArgs; result: T.AppointmentDetails };
  reschedule: { args: RescheduleArgs; result: T.AppointmentDetails };

  list_clinics: { args: Record<string, never>; result: T.Clinic[] };
  list_vets: { args: { clinic_id?: T.Uuid }; result: T.Vet[] };
  list_clients: { args: SearchArgs; result: T.Client[] };
  get_client: { args: { id: T.Uuid }; result: T.Client };
  create_client: { args: ClientArgs; result: T.Client };
  update_client: { args: ClientArgs; result: T.Client };
  list_pets: { args: SearchArgs; result: T.Pet[] };
  create_pet: { args: PetArgs; result: T.Pet };
  update_pet: { args: PetArgs; result: T.Pet };
  list_types: { args: Record<string, never>; result: T.AppointmentType[] };
  create_type: { args: TypeArgs; result: T.AppointmentType };
  update_type: { args: TypeArgs; result: T.AppointmentType };
  list_hours: { args: ScopeArgs; result: T.WorkingHours[] };
  create_hours: { args: HoursArgs; result: T.WorkingHours };
  delete_hours: { args: DeleteArgs; result: T.Deleted };
  list_time_off: { args: ScopeArgs; result: T.TimeOff[] };
  create_time_off: { args: TimeOffArgs; result: T.TimeOff };
  delete_time_off: { args: DeleteArgs; result: T.Deleted };

  list_outbox: { args: OutboxArgs; result: T.OutboxPage };
  preview_outbox_message: { args: { id: T.Uuid }; result: T.MessagePreview };
  retry_outbox_message: { args: { id: T.Uuid }; result: T.OutboxMessage };
  list_templates: { args: Record<string, never>; result: T.MessageTemplate[] };
  update_template: { args: TemplateArgs; result: T.MessageTemplate };
  reset_template: { args: TemplateKey; result: T.MessageTemplate };
  preview_template: { args: TemplateKey & { appointment_id?: T.Uuid }; result: T.RenderedMessage };
  list_users: { args: Record<string, never>; result: T.ManagedUser[] };
  create_user: { args: UserArgs; result: T.ManagedUser };
  update_user: { args: UserPatchArgs; result: T.ManagedUser };
}

export type OperationName = keyof Operations;
export type Args<K extends OperationName> = Operations[K]['args'];
export type Result<K extends OperationName> = Operations[K]['result'];
